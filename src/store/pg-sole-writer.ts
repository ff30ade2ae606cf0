// The sole writer on PostgreSQL: while an instance is the only one on its database, its reads need no look at the
// change feed, because it can prove that nobody else commits a write without first waiting for its trust to run out.
//
// An instance that is the one member of the work slots claims the role: it writes its origin as the marker (in a write
// transaction), reads every change committed before, and from then on answers reads from its row cache. A heartbeat
// reads the marker and the members every HEARTBEAT_MS; reads are trusted until VALID_MS after a heartbeat that found
// the marker still its own, alone, was sent. Every write transaction reads the marker under the writers' lock: a
// writer that finds another instance's marker clears it, commits that, and waits DEAD_WAIT_MS (longer than VALID_MS)
// before it goes on, so the sole writer, heard or not, alive or not, has stopped trusting its cache before any write
// it has not seen is committed. Nothing is held across transactions: a writer waits a fixed time, never for the sole
// writer to act. (Both sides measure only durations, each on its own monotonic clock: the rule needs their clocks to
// run at about the same rate, not to agree.)

/** The meta key naming the instance (its feed origin) whose reads trust its cache. */
export const SOLE_META = 'soleWriter';
/** How often the sole writer reads the marker and the members. */
export const HEARTBEAT_MS = 100;
/** How long after a heartbeat that found the marker its own was sent the sole writer's reads are trusted. */
export const VALID_MS = 3 * HEARTBEAT_MS;
/** How long a writer that cleared another instance's marker waits before it writes: past that one's last trust. */
export const DEAD_WAIT_MS = VALID_MS + 200;

export interface SoleWriterDeps {
  /** This instance's origin in the feed: the marker's value while it holds the role. */
  origin: string;
  /** The marker's value and the number of members, read on the feed connection. */
  heartbeat(): Promise<{ marker: string; members: number }>;
  /** Whether the feed connection is open. */
  connected(): boolean;
  /** Writes this instance's marker and reads every change committed before it (synchronous). */
  claim(): void;
  /** Clears the marker if it is still this instance's (synchronous; the session may be gone). */
  clear(): void;
}

export class PgSoleWriter {
  /** Whether the marker is this instance's, as far as it knows. */
  private held = false;
  /** Until when (performance.now()) reads may trust the cache. */
  private validUntil = 0;
  private restUntil = 0;
  private ticking = false;
  private timer: NodeJS.Timeout;
  private closed = false;

  /** `restMs`: after leaving the role, how long an instance waits before it claims it again (a writer that comes and goes). */
  constructor(private d: SoleWriterDeps, private restMs: number) {
    this.timer = setInterval(() => void this.tick(), HEARTBEAT_MS);
    this.timer.unref();
  }

  /** Whether reads may trust the row cache now. */
  valid(): boolean { return this.held && performance.now() < this.validUntil; }

  /** Whether this instance believes the marker is its own. */
  holds(): boolean { return this.held; }

  /** A write transaction found the marker not this instance's: another writer took the role from it. */
  revoked(): void {
    if (!this.held) return;
    this.held = false;
    this.validUntil = 0;
    this.restUntil = performance.now() + this.restMs;
  }

  /** Stops trusting the cache and clears the marker (another instance came, a stop). */
  leave(): void {
    if (!this.held) return;
    this.revoked();
    this.d.clear();
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
    this.leave();
  }

  async tick(): Promise<void> {
    if (this.ticking || this.closed) return;
    this.ticking = true;
    try {
      if (!this.d.connected()) { this.revoked(); return; }
      const sent = performance.now();
      if (!this.held && sent < this.restUntil) return;
      const { marker, members } = await this.d.heartbeat();
      if (this.closed) return;
      if (!this.held) {
        if (members !== 1 || !this.d.connected()) return;
        // A marker left by another instance is a gone one's (it would be a member): the claim waits its trust out.
        this.d.claim();
        this.held = true;
        this.validUntil = sent + VALID_MS;
        return;
      }
      if (marker !== this.d.origin) { this.revoked(); return; }
      if (members > 1) { this.leave(); return; }
      this.validUntil = sent + VALID_MS;
    } catch {
      // Unheard (the database or the network is gone), the trust runs out by itself; the marker is left for the next
      // writer to clear, rather than wait here for a connection that may take seconds to fail.
      this.revoked();
    } finally {
      this.ticking = false;
    }
  }
}
