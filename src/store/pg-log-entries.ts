// Cloud Logging's entries in the shared PostgreSQL store, so entries:list, logs.list and the viewer on any instance
// read what every instance wrote, and a tail on one sees entries stored by another. Inserts take a lock of their own
// to their commit, so `seq` is commit order: a reader that has seen seq N has seen every entry before it.
// Each batch is announced with NOTIFY gantry_logs; an instance with a tail open reads the rows other instances
// added after the last it saw, on its feed connection (off the request path).
import type { Row } from '../apis/logging/entry-row.js';
import { PROJECT_NUMBERS_CACHED, type Cursor, type EntryTable, type StoredEntry } from '../apis/logging/entry-table.js';
import { Lru } from './lru.js';
import { pgArray } from './list-pg.js';
import { PgTail } from './pg-tail.js';

type Query = (name: string, text: string, values: (string | null)[]) => Record<string, unknown>[];

/** The log writers' advisory lock (the store's locks are 0x…0001 to 0x…0003). */
const LOG_LOCK = 0x67616e7472790004n;

export interface PgLogDeps {
  /** A prepared statement on the store's connection. */
  query: Query;
  /** The store's write transaction (the writers' lock). */
  tx<T>(fn: () => T): T;
  /** This instance's name: its own rows reach its tails when stored, not again from the database. */
  origin: string;
  /** A query on the feed connection (asynchronous, one at a time). */
  feedQuery(text: string, values: (string | null)[]): Promise<Record<string, unknown>[]>;
  /** Hears each NOTIFY gantry_logs of another instance; returns the unsubscribe. */
  onNotify(fn: () => void): () => void;
}

/** Characters of entry JSON one INSERT carries (a batch of large entries goes as several statements). */
const STATEMENT_CHARS = 4 * 1024 * 1024;
/** Rows a tail's catch-up reads at once. */
const REMOTE_PAGE = 1000;

export class PgLogEntries implements EntryTable {
  /** Project ids by number, of those with entries (`log_projects` holds them all; this, the recent ones). */
  private numbers = new Lru<string, string>(PROJECT_NUMBERS_CACHED);
  /** The oldest seq kept, as far as this instance knows (never newer than it is). */
  private lo?: number;

  constructor(private d: PgLogDeps, private maxEntries: number) {}

  insert(rows: Row[]): void {
    for (let i = 0; i < rows.length;) {
      const projects: string[] = [], times: string[] = [], logs: string[] = [], data: string[] = [];
      for (let chars = 0; i < rows.length && (chars === 0 || chars + rows[i].json.length <= STATEMENT_CHARS); i++) {
        const r = rows[i];
        projects.push(r.project); times.push(r.timestamp); logs.push(r.log); data.push(r.json);
        chars += r.json.length;
      }
      // One statement, one round trip: the log writers' lock (held to its commit, so seq is commit order), the rows,
      // the NOTIFY, and the span of seq the cap is checked against. The resource writers' lock is not taken: logs
      // never hold up another instance's transactions.
      const [span] = this.d.query('logInsert', `WITH locked AS (SELECT pg_advisory_xact_lock(${LOG_LOCK}) AS held),
          added AS (INSERT INTO log_entries (project, timestamp, log, data, origin)
            SELECT p, t, l, d, $5 FROM locked, unnest($1::text[], $2::text[], $3::text[], $4::text[]) AS u(p, t, l, d) RETURNING seq)
        SELECT pg_notify('gantry_logs', $5) AS n, (SELECT max(seq) FROM added) AS hi`,
      [pgArray(projects), pgArray(times), pgArray(logs), pgArray(data), this.d.origin]);
      this.evict(Number(span.hi));
    }
    // Every batch names its projects, whatever this instance remembers: another instance may have forgotten one whose
    // entries its evictions removed, while this one still had it in memory.
    const byNumber = new Map<string, string>();
    for (const r of rows) if (r.number) byNumber.set(r.number, r.project);
    if (byNumber.size) {
      this.d.query('logProjects', `INSERT INTO log_projects (number, id) SELECT n, i FROM unnest($1::text[], $2::text[]) AS u(n, i)
        ON CONFLICT (number) DO UPDATE SET id = excluded.id WHERE log_projects.id <> excluded.id`, [pgArray([...byNumber.keys()]), pgArray([...byNumber.values()])]);
      for (const [n, id] of byNumber) this.numbers.set(n, id);
    }
  }

  /**
   * Keeps the cap across instances without counting rows: seq has no gaps but those a clear or a rolled-back insert
   * leaves, so the span of seq bounds the count from above, and everything older than the newest 90 % of the cap goes.
   * The oldest seq is asked once, then known from each eviction (min() would walk the dead entries evictions leave at
   * the head of the index); another instance's eviction only makes it older than it is, costing one empty delete.
   */
  private evict(hi: number): void {
    this.lo ??= Number(this.d.query('logLow', 'SELECT coalesce(min(seq), 0) AS lo FROM log_entries', [])[0].lo);
    if (!Number.isFinite(hi) || hi - this.lo + 1 <= this.maxEntries) return;
    const cut = hi - Math.floor(this.maxEntries * 0.9);
    this.d.query('logEvict', 'DELETE FROM log_entries WHERE seq <= $1', [String(cut)]);
    this.lo = cut + 1;
    this.forgetProjectsWithoutEntries();
  }

  /** A project whose entries are all gone is forgotten (a client writing to ever new projects must not grow it). */
  private forgetProjectsWithoutEntries(): void {
    this.d.query('logForget', 'DELETE FROM log_projects WHERE NOT EXISTS (SELECT 1 FROM log_entries WHERE log_entries.project = log_projects.id)', []);
    this.numbers.clear();
  }

  count(): number { return Number(this.d.query('logCount', 'SELECT count(*) AS n FROM log_entries', [])[0].n); }

  *dump(project?: string): Iterable<StoredEntry> {
    // Paged by seq: a snapshot of many entries never holds them all in libpq's buffer at once.
    let after = '0';
    for (;;) {
      const rows = project === undefined
        ? this.d.query('logDump', 'SELECT seq, project, timestamp, log, data FROM log_entries WHERE seq > $1 ORDER BY seq LIMIT 1000', [after])
        : this.d.query('logDumpProject', 'SELECT seq, project, timestamp, log, data FROM log_entries WHERE seq > $1 AND project = $2 ORDER BY seq LIMIT 1000', [after, project]);
      for (const r of rows) yield { project: String(r.project), timestamp: String(r.timestamp), log: String(r.log), data: String(r.data) };
      if (rows.length < 1000) return;
      after = String(rows[rows.length - 1].seq);
    }
  }

  clear(project?: string): void {
    this.d.tx(() => {
      if (project === undefined) this.d.query('logClear', 'DELETE FROM log_entries', []);
      else this.d.query('logClearProject', 'DELETE FROM log_entries WHERE project = $1', [project]);
      this.forgetProjectsWithoutEntries();
    });
  }

  projectOf(number: string): string | undefined {
    const cached = this.numbers.get(number);
    if (cached) return cached;
    const r = this.d.query('logProjectOf', 'SELECT id FROM log_projects WHERE number = $1', [number])[0];
    return r ? String(r.id) : undefined;
  }

  scan(projects: string[], desc: boolean, after: Cursor | undefined, range: { from?: string; to?: string }, contains: string[], limit: number): { data: string; cursor: Cursor }[] {
    // Sixteen statement shapes at most (an order, and whether a cursor and each bound is given): each is prepared once.
    const dir = desc ? 'DESC' : 'ASC';
    const where = ['project = ANY($1::text[])', 'NOT EXISTS (SELECT 1 FROM unnest($2::text[]) AS c(s) WHERE strpos(data, c.s) = 0)'];
    const values: (string | null)[] = [pgArray(projects), pgArray(contains)];
    if (after) { values.push(after[0], String(after[1])); where.push(`(timestamp, seq) ${desc ? '<' : '>'} ($${values.length - 1}, $${values.length}::bigint)`); }
    if (range.from) { values.push(range.from); where.push(`timestamp >= $${values.length}`); }
    if (range.to) { values.push(range.to); where.push(`timestamp <= $${values.length}`); }
    values.push(String(limit));
    const name = `logScan${desc ? 'D' : 'A'}${after ? 1 : 0}${range.from ? 1 : 0}${range.to ? 1 : 0}`;
    const rows = this.d.query(name, `SELECT seq, timestamp, data FROM log_entries WHERE ${where.join(' AND ')} ORDER BY timestamp ${dir}, seq ${dir} LIMIT $${values.length}`, values);
    return rows.map(r => ({ data: String(r.data), cursor: [String(r.timestamp), Number(r.seq)] }));
  }

  logNames(project: string, after: string, limit: number): string[] {
    return this.d.query('logNames', 'SELECT DISTINCT log FROM log_entries WHERE project = $1 AND log > $2 ORDER BY log LIMIT $3', [project, after, String(limit)]).map(r => String(r.log));
  }

  close(): void { /* the store's connection is the store's to close */ }

  onRemote(listener: (entries: StoredEntry[]) => void): () => void {
    const head = String(this.d.query('logHead', 'SELECT coalesce(max(seq), 0) AS s FROM log_entries', [])[0].s);
    const tail = new PgTail(head, REMOTE_PAGE,
      (after, limit) => this.d.feedQuery(`SELECT seq, project, timestamp, log, data FROM log_entries WHERE seq > $1 AND origin <> $2 ORDER BY seq LIMIT ${limit}`, [after, this.d.origin]),
      rows => listener(rows.map(r => ({ project: String(r.project), timestamp: String(r.timestamp), log: String(r.log), data: String(r.data) }))));
    const unsubscribe = this.d.onNotify(() => tail.read());
    return () => { tail.stop(); unsubscribe(); };
  }
}
