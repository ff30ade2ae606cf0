// Open resumable upload sessions. Cloud Storage keeps a session URI valid for a week; clients abandon sessions
// freely (a failed or cancelled upload never comes back), so sessions expire on the server's clock and are also
// bounded in number and size, the oldest going first: 160k abandoned sessions used to stay in memory for good.
import type { Clock } from '../../engine/clock.js';
import { newUid } from '../../google/ids.js';
import { Lru } from '../../store/lru.js';

export interface UploadSession { bucket: string; name: string; contentType: string; metadata: Record<string, string> }

interface Open { session: UploadSession; expires: number }

export const UPLOAD_SESSION_TTL_MS = 7 * 24 * 3600 * 1000;

export class UploadSessions {
  private open: Lru<string, Open>;

  constructor(private clock: Clock, maxSessions = 10_000, maxChars = 16 * 1024 * 1024) {
    // Sessions are only ever peeked at, never refreshed, so the Lru's order is creation order.
    this.open = new Lru(maxSessions, maxChars, o => o.session.name.length + o.session.contentType.length + JSON.stringify(o.session.metadata).length);
  }

  get size(): number { return this.open.size; }

  /** Opens a session; returns its upload id. */
  start(session: UploadSession): string {
    this.sweep();
    const id = newUid();
    this.open.set(id, { session, expires: this.clock.now() + UPLOAD_SESSION_TTL_MS });
    return id;
  }

  /** Whether the session is open (and not expired). */
  has(id: string): boolean {
    const o = this.open.peek(id);
    return o !== undefined && o.expires > this.clock.now();
  }

  /** The session, closed by this call (an upload is one request); undefined when unknown, expired or evicted. */
  take(id: string): UploadSession | undefined {
    const o = this.open.peek(id);
    if (!o) return undefined;
    this.open.delete(id);
    return o.expires > this.clock.now() ? o.session : undefined;
  }

  /** Drops expired sessions from the oldest end. */
  private sweep(): void {
    const now = this.clock.now();
    for (let o = this.open.oldest(); o && o[1].expires <= now; o = this.open.oldest()) this.open.delete(o[0]);
  }
}
