// Cloud Logging's entries in a SQLite database of their own (`logs.db`, beside the embedded store): bounded to a cap,
// the oldest dropped first. The request-log worker (request-log-worker.ts) writes to the same file with its own
// connection and tells this one what it stored.
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import type { Row } from './entry-row.js';
import { Lru } from '../../store/lru.js';
import { PROJECT_NUMBERS_CACHED } from './entry-table.js';
import type { Cursor, EntryTable, StoredEntry } from './entry-table.js';

export class SqliteEntries implements EntryTable {
  private db: Database.Database;
  private insertRow: Database.Statement;
  private rememberNumber: Database.Statement;
  private kept: number;
  /** Project ids by number, of those with entries (the `projects` table holds them all; this, the recent ones). */
  private numbers = new Lru<string, string>(PROJECT_NUMBERS_CACHED);
  readonly workerFile?: string;

  /** `file`: where logs.db is, or `:memory:`. */
  constructor(file: string, private maxEntries: number) {
    if (file !== ':memory:') { mkdirSync(join(file, '..'), { recursive: true }); this.workerFile = file; }
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.pragma('cache_size = -8000'); // KiB of native page cache; reads are bounded pages, mostly of recent rows
    this.db.exec('CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, project TEXT NOT NULL, timestamp TEXT NOT NULL, data TEXT NOT NULL)');
    const columns = (this.db.prepare('PRAGMA table_info(entries)').all() as { name: string }[]).map(c => c.name);
    if (!columns.includes('log')) {
      // A store from before logs.list: the log name gets a column of its own.
      this.db.exec("ALTER TABLE entries ADD COLUMN log TEXT NOT NULL DEFAULT ''; UPDATE entries SET log = json_extract(data, '$.logName');");
    }
    this.db.exec(`CREATE INDEX IF NOT EXISTS entries_by_time ON entries(project, timestamp, seq);
      CREATE INDEX IF NOT EXISTS entries_by_log ON entries(project, log);
      CREATE TABLE IF NOT EXISTS projects (number TEXT PRIMARY KEY, id TEXT NOT NULL);`);
    this.insertRow = this.db.prepare('INSERT INTO entries (project, timestamp, log, data) VALUES (?, ?, ?, ?)');
    this.rememberNumber = this.db.prepare('INSERT OR REPLACE INTO projects (number, id) VALUES (?, ?)');
    this.kept = (this.db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n;
  }

  insert(rows: Row[]): void {
    this.db.transaction(() => {
      for (const r of rows) {
        this.insertRow.run(r.project, r.timestamp, r.log, r.json);
        this.remember(r.number, r.project);
      }
      this.kept += rows.length;
      this.evict();
    })();
  }

  noteStored(n: number, numbers: Record<string, string>): void {
    this.db.transaction(() => {
      for (const [project, number] of Object.entries(numbers)) this.remember(number, project);
      this.kept += n;
      this.evict();
    })();
  }

  private remember(number: string, project: string): void {
    if (this.numbers.get(number) !== project) { this.rememberNumber.run(number, project); this.numbers.set(number, project); }
  }

  private evict(): void {
    if (this.kept <= this.maxEntries) return;
    // Evict down to 90 % of the cap, so a full store does not delete on every write.
    const drop = this.kept - Math.floor(this.maxEntries * 0.9);
    this.db.prepare('DELETE FROM entries WHERE seq IN (SELECT seq FROM entries ORDER BY seq LIMIT ?)').run(drop);
    this.kept -= drop;
    this.forgetProjectsWithoutEntries();
  }

  /** A project whose entries are all gone is forgotten (a client writing to ever new projects must not grow it). */
  private forgetProjectsWithoutEntries(): void {
    this.db.prepare('DELETE FROM projects WHERE NOT EXISTS (SELECT 1 FROM entries WHERE entries.project = projects.id)').run();
    this.numbers.clear();
  }

  count(): number { return this.kept; }

  *dump(project?: string): Iterable<StoredEntry> {
    const stmt = project === undefined ? this.db.prepare('SELECT project, timestamp, log, data FROM entries ORDER BY seq') : this.db.prepare('SELECT project, timestamp, log, data FROM entries WHERE project = ? ORDER BY seq');
    yield* (project === undefined ? stmt.iterate() : stmt.iterate(project)) as IterableIterator<StoredEntry>;
  }

  clear(project?: string): void {
    if (project === undefined) this.db.prepare('DELETE FROM entries').run();
    else this.db.prepare('DELETE FROM entries WHERE project = ?').run(project);
    this.kept = (this.db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n;
    this.forgetProjectsWithoutEntries();
  }

  projectOf(number: string): string | undefined {
    const cached = this.numbers.get(number);
    if (cached) return cached;
    return (this.db.prepare('SELECT id FROM projects WHERE number = ?').get(number) as { id: string } | undefined)?.id;
  }

  scan(projects: string[], desc: boolean, after: Cursor | undefined, range: { from?: string; to?: string }, contains: string[], limit: number): { data: string; cursor: Cursor }[] {
    const dir = desc ? 'DESC' : 'ASC';
    const where = [`project IN (${projects.map(() => '?').join(',')})`];
    const params: unknown[] = [...projects];
    if (after) { where.push(`(timestamp, seq) ${desc ? '<' : '>'} (?, ?)`); params.push(after[0], after[1]); }
    if (range.from) { where.push('timestamp >= ?'); params.push(range.from); }
    if (range.to) { where.push('timestamp <= ?'); params.push(range.to); }
    for (const c of contains) { where.push('instr(data, ?) > 0'); params.push(c); }
    const stmt = this.db.prepare(`SELECT seq, timestamp, data FROM entries WHERE ${where.join(' AND ')} ORDER BY timestamp ${dir}, seq ${dir} LIMIT ?`);
    return (stmt.all(...params, limit) as { seq: number; timestamp: string; data: string }[]).map(r => ({ data: r.data, cursor: [r.timestamp, r.seq] }));
  }

  logNames(project: string, after: string, limit: number): string[] {
    return (this.db.prepare('SELECT DISTINCT log FROM entries WHERE project = ? AND log > ? ORDER BY log LIMIT ?').all(project, after, limit) as { log: string }[]).map(r => r.log);
  }

  close(): void { this.db.close(); }
}
