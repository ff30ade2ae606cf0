// Open resumable upload sessions. Cloud Storage keeps a session URI valid for a week; clients abandon sessions
// freely (a failed or cancelled upload never comes back), so sessions expire on the server's clock and are also
// bounded in number and in characters of metadata plus bytes received, the oldest going first: 160k abandoned
// sessions used to stay in memory for good. A session receives its object in one request or in chunks
// (`Content-Range: bytes a-b/total`); once finalized it remembers the object it made, so a client that lost the
// answer to its last chunk and asks again is told the same.
import type { Clock } from '../../engine/clock.js';
import { newUid } from '../../google/ids.js';
import { Lru } from '../../store/lru.js';
import type { Preconditions } from './preconditions.js';

export interface UploadSession {
  bucket: string;
  name: string;
  contentType: string;
  metadata: Record<string, string>;
  /** Further writable object fields from the session's object resource (cacheControl, …). */
  extra?: Record<string, unknown>;
  /** The destination's preconditions from the request that opened the session, checked when it finalizes. */
  preconditions?: Preconditions;
  /** The size the client declared (X-Upload-Content-Length), if it did. */
  declaredSize?: number;
}

interface Open {
  session: UploadSession;
  expires: number;
  chunks: Buffer[];
  received: number;
  /** The finalized object, once the last byte arrived. */
  done?: Record<string, unknown>;
}

export const UPLOAD_SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export class UploadSessions {
  private open: Lru<string, Open>;

  /**
   * `maxWeight` bounds the characters of metadata plus the bytes received that all open sessions hold together
   * (bytes of unfinished chunked uploads live in memory until the last chunk).
   */
  constructor(private clock: Clock, maxSessions = 10_000, maxWeight = 16 * 1024 * 1024 + 512 * 1024 * 1024) {
    // Sessions are only ever peeked at and re-set when they grow, so the Lru's order is last-growth order (the
    // sweep from the oldest end may leave an expired session behind a newer one; it is refused when used).
    this.open = new Lru(maxSessions, maxWeight, o => o.session.name.length + o.session.contentType.length + JSON.stringify(o.session.metadata).length
      + (o.session.extra ? JSON.stringify(o.session.extra).length : 0) + o.received + (o.done ? 1024 : 0));
  }

  get size(): number { return this.open.size; }

  /** Opens a session; returns its upload id. */
  start(session: UploadSession): string {
    this.sweep();
    const id = newUid();
    this.open.set(id, { session, expires: this.clock.now() + UPLOAD_SESSION_TTL_MS, chunks: [], received: 0 });
    return id;
  }

  private live(id: string): Open | undefined {
    const o = this.open.peek(id);
    return o && o.expires > this.clock.now() ? o : undefined;
  }

  /** Whether the session is open (and not expired). */
  has(id: string): boolean { return this.live(id) !== undefined; }

  /** The session and what it has received so far; undefined when unknown, expired or evicted. */
  get(id: string): { session: UploadSession; received: number; done?: Record<string, unknown> } | undefined {
    const o = this.live(id);
    return o && { session: o.session, received: o.received, done: o.done };
  }

  /** Appends bytes to an open session; false when it is gone. */
  append(id: string, data: Buffer): boolean {
    const o = this.live(id);
    if (!o) return false;
    if (data.length) {
      // What is kept must be what is weighed: a view into a larger buffer (a retried chunk's new bytes, the rest of
      // its request body skipped) is copied, or it would keep the whole body alive.
      o.chunks.push(data.buffer.byteLength > 2 * data.length ? Buffer.from(data) : data);
      o.received += data.length;
      this.open.set(id, o); // re-weighed (and, were it too heavy for the whole budget, dropped)
    }
    return this.open.peek(id) !== undefined;
  }

  /** Everything received, as one buffer. */
  bytes(id: string): Buffer {
    const o = this.live(id);
    if (!o) return Buffer.alloc(0);
    if (o.chunks.length > 1) o.chunks = [Buffer.concat(o.chunks)];
    return o.chunks[0] ?? Buffer.alloc(0);
  }

  /** Marks the session finalized with the object it made; its bytes are dropped. */
  finish(id: string, object: Record<string, unknown>): void {
    const o = this.live(id);
    if (!o) return;
    o.chunks = [];
    o.received = 0;
    o.done = object;
    this.open.set(id, o);
  }

  /**
   * The session, closed by this call (for one-request uploads); undefined when unknown, expired or evicted.
   * Kept for callers that upload in one request.
   */
  take(id: string): UploadSession | undefined {
    const o = this.live(id);
    if (!o || o.done) return undefined;
    this.open.delete(id);
    return o.session;
  }

  /** Drops expired sessions from the oldest end. */
  private sweep(): void {
    const now = this.clock.now();
    for (let o = this.open.oldest(); o && o[1].expires <= now; o = this.open.oldest()) this.open.delete(o[0]);
  }
}
