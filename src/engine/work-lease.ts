// Which instance does the work. Instances that share a database (PostgreSQL) all serve the API, but one at a time
// holds the work lease and runs what runs: controllers, tasks, builds, served apps, notifications. The others stand
// by, forward requests for served apps to the holder, and take the lease over when the holder is gone.
export interface WorkLease {
  /** Whether this instance holds the lease now. */
  readonly held: boolean;
  /** Runs `fn` each time this instance takes the lease from now on (not for a lease it holds already). */
  onTaken(fn: () => void): void;
  /**
   * Runs `fn` each time this instance loses the lease (its connection to the shared store is gone, and with it the
   * lock): it stops its work at once, since another instance may hold the lease within the keepalives' time.
   */
  onLost(fn: (e: Error) => void): void;
  /** The holder's URL (what it advertised), when another instance holds the lease. */
  holder(): string | undefined;
  close(): void;
}

/** The meta key where the lease holder records its URL, for the instances that forward to it. */
export const HOLDER_META = 'work.holder';

/** A store no other instance shares (SQLite in a locked data directory): this instance always works. */
export const SOLE_LEASE: WorkLease = { held: true, onTaken() {}, onLost() {}, holder: () => undefined, close() {} };
