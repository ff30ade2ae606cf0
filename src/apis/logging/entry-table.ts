// Where Cloud Logging's entries are kept: a table of rows in write order, read by project and time. Two backends:
// SQLite's `logs.db` beside the embedded store (sqlite-entries.ts), and the shared PostgreSQL store
// (store/pg-log-entries.ts), where every instance reads what any instance wrote.
import type { Row } from './entry-row.js';

/** Project numbers a table keeps resolved in memory (the most recently used; the table holds the rest). */
export const PROJECT_NUMBERS_CACHED = 10_000;

/** An entry as stored, its JSON unparsed (snapshots, and the tails of other instances' entries). */
export interface StoredEntry { project: string; timestamp: string; log: string; data: string }
/** A row's place in the read order: its timestamp, then its write order. */
export type Cursor = [string, number];

export interface EntryTable {
  /** Stores rows in one transaction, remembers each project's number, and drops the oldest beyond the cap. */
  insert(rows: Row[]): void;
  /** How many entries are kept. */
  count(): number;
  /** Every stored entry of a project (by id), or of all, oldest first. */
  dump(project?: string): Iterable<StoredEntry>;
  /** Forgets the entries of a project (by id), or all of them. */
  clear(project?: string): void;
  /** The project id a number stands for, when an entry of that project was stored. */
  projectOf(number: string): string | undefined;
  /**
   * At most `limit` entries of the projects in timestamp order (then write order), after a cursor, within a time
   * range, holding every `contains` string: one bounded read, so a scan can resume from its last cursor.
   */
  scan(projects: string[], desc: boolean, after: Cursor | undefined, range: { from?: string; to?: string }, contains: string[], limit: number): { data: string; cursor: Cursor }[];
  /** The distinct log names of a project, in order, after `after`. */
  logNames(project: string, after: string, limit: number): string[];
  close(): void;
  /** A file another connection (the request-log worker) may store rows in, telling `noteStored` after; none when shared. */
  readonly workerFile?: string;
  noteStored?(n: number, numbers: Record<string, string>): void;
  /** Entries other instances stored in a shared table, batch by batch, while subscribed; returns the unsubscribe. */
  onRemote?(listener: (entries: StoredEntry[]) => void): () => void;
}
