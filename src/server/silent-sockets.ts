// HTTP/1 connections silent too long are closed: no byte read or sent for the bound (a client that stopped reading an
// answer, a tunnel left open). Node's `server.setTimeout` does this with a timer per socket, armed again on every
// request and refreshed (a clock read) on every read and write; here a sweep every quarter of the bound compares each
// connection's byte counters, which Node keeps anyway, so reads and writes cost nothing. Activity is bytes read or a
// write completed (bytes handed to the socket and gone from its buffer): writes piling up behind a client that reads
// nothing are no activity, as they refresh no timer of Node's. A silent connection closes between the bound and the
// bound plus a quarter; a bound of 0 closes none.
import type { Socket } from 'node:net';

/** What a connection had read and sent at the last sweep, and how many sweeps in a row found it so since. */
interface Watch { read: number; sent: number; quiet: number }

/** Sweeps per bound: a connection closes after this many sweeps in a row that found it silent. */
const SWEEPS = 4;

export class SilentSockets {
  private watched = new Map<Socket, Watch>();
  private timer?: NodeJS.Timeout;
  private stopped = false;

  constructor(private boundMs: number) {}

  /** Watches a connection until it closes. */
  watch(socket: Socket): void {
    if (this.boundMs <= 0 || this.stopped || this.watched.has(socket)) return;
    // The first sweep after this only takes the counters: the sweeps run on the clock of the first connection watched,
    // so the next may come at once, and must not count as a quarter of the bound already spent.
    this.watched.set(socket, { read: -1, sent: -1, quiet: 0 });
    socket.once('close', () => this.watched.delete(socket));
    this.timer ??= setInterval(() => this.sweep(), Math.max(1, Math.floor(this.boundMs / SWEEPS))).unref();
  }

  /** No longer watches a connection (one that now carries another protocol, which keeps its own bounds). */
  unwatch(socket: Socket): void { this.watched.delete(socket); }

  get size(): number { return this.watched.size; }

  /** Closes the connections found silent by the last `SWEEPS` sweeps. */
  sweep(): void {
    for (const [socket, w] of this.watched) {
      const read = socket.bytesRead, sent = socket.bytesWritten - socket.writableLength;
      if (read !== w.read || sent !== w.sent) {
        w.read = read; w.sent = sent; w.quiet = 0;
        continue;
      }
      if (++w.quiet >= SWEEPS) { this.watched.delete(socket); socket.destroy(); }
    }
    if (!this.watched.size && this.timer) { clearInterval(this.timer); this.timer = undefined; }
  }

  /** No more sweeps and no more connections watched (the listener has closed, and its connections with it). */
  stop(): void {
    this.stopped = true;
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
  }
}
