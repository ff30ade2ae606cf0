// HTTP/1 connections silent too long are closed: no byte read or written for the bound (a client that stopped reading
// an answer, a tunnel left open). Node's `server.setTimeout` does this with a timer per socket, armed again on every
// request and refreshed (a clock read) on every read and write; here a sweep every quarter of the bound compares each
// connection's byte counters, which Node keeps anyway, so a request costs nothing. Activity is what Node's timer saw:
// bytes read, a write handed to the socket (`bytesWritten` counts it whole at once) or a write completed (its bytes leave
// `writableLength`). A silent connection closes between the bound and the bound plus a quarter.
import type { Socket } from 'node:net';

interface Watch { read: number; written: number; pending: number; quiet: number }

/** Sweeps per bound: a connection closes after this many sweeps in a row that found it silent. */
const SWEEPS = 4;

export class SilentSockets {
  private watched = new Map<Socket, Watch>();
  private timer?: NodeJS.Timeout;

  constructor(private boundMs: number) {}

  /** Watches a connection until it closes. */
  watch(socket: Socket): void {
    if (this.watched.has(socket)) return;
    this.watched.set(socket, { read: socket.bytesRead, written: socket.bytesWritten, pending: socket.writableLength, quiet: 0 });
    socket.once('close', () => this.watched.delete(socket));
    this.timer ??= setInterval(() => this.sweep(), Math.max(1, Math.floor(this.boundMs / SWEEPS))).unref();
  }

  get size(): number { return this.watched.size; }

  /** Closes the connections silent since the last `SWEEPS` sweeps. */
  sweep(): void {
    for (const [socket, w] of this.watched) {
      const read = socket.bytesRead, written = socket.bytesWritten, pending = socket.writableLength;
      if (read !== w.read || written !== w.written || pending !== w.pending) {
        w.read = read; w.written = written; w.pending = pending; w.quiet = 0;
        continue;
      }
      if (++w.quiet >= SWEEPS) { this.watched.delete(socket); socket.destroy(); }
    }
    if (!this.watched.size && this.timer) { clearInterval(this.timer); this.timer = undefined; }
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
