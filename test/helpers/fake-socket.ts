// A stand-in for a server's connection in unit tests of what tracks connections (slots, the silence sweep): the byte
// counters Node keeps, and `destroy` closing it as a real socket does.
import { EventEmitter } from 'node:events';
import type { Socket } from 'node:net';

export class FakeSocket extends EventEmitter {
  bytesRead = 0;
  bytesWritten = 0;
  writableLength = 0;
  destroyed = false;
  destroy(): void { this.destroyed = true; this.emit('close'); }
}

export const fakeSocket = () => new FakeSocket() as FakeSocket & Socket;
