// Cloud Logging v2 (subset): the log entries of Cloud Run tasks and Cloud Deploy job runs, kept in a bounded SQLite
// database of their own, read with entries:list and the Logging query language, written with entries:write, and shown
// as text at /gantry/v1/logs/viewer (where Cloud Run's logUri points).
import Database from 'better-sqlite3';
import { join } from 'node:path';
import { mkdirSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { App } from '../../server/app.js';
import type { BaseContext } from '../../google/context.js';
import { queryString, type MethodSpec } from '../../server/api.js';
import { errors } from '../../google/errors.js';
import { ApiSchema } from '../../google/schema.js';
import { newUid } from '../../google/ids.js';
import { matches, parseQuery, SEVERITIES } from './query.js';

/** A log entry as another API writes it (google.logging.v2.LogEntry fields). */
export interface LogEntryInput {
  /** `projects/{projectId}/logs/{url-encoded log id}`, e.g. `projects/p/logs/run.googleapis.com%2Fstdout`. */
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  /** RFC 3339; the clock's now when absent. */
  timestamp?: string;
  severity?: string;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
  labels?: Record<string, string>;
}

export interface LogWriter {
  write(entries: LogEntryInput[]): void;
}

type Obj = Record<string, unknown>;
/** Most entries kept; the oldest go first. */
export const MAX_ENTRIES = 200_000;
/** Longest text payload kept (longer lines are cut, as Cloud Logging truncates). */
const MAX_PAYLOAD = 256 * 1024;
const MAX_PAGE = 1000;
const schema = new ApiSchema(fileURLToPath(new URL('../../../../schemas/logging-v2.json', import.meta.url)), 'google.logging.v2');

/** The viewer URL (Gantry's stand-in for the Cloud console's logs viewer, with its query parameters). */
export function logViewerUrl(origin: string, project: string, filter: string): string {
  return `${origin}/gantry/v1/logs/viewer?project=${encodeURIComponent(project)}&advancedFilter=${encodeURIComponent(filter)}`;
}

class LogStore {
  private db: Database.Database;
  private insert: Database.Statement;
  private count: number;

  constructor(file: string) {
    if (file !== ':memory:') mkdirSync(join(file, '..'), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    this.db.pragma('synchronous = NORMAL');
    this.db.exec('CREATE TABLE IF NOT EXISTS entries (seq INTEGER PRIMARY KEY, project TEXT NOT NULL, timestamp TEXT NOT NULL, data TEXT NOT NULL); CREATE INDEX IF NOT EXISTS entries_by_time ON entries(project, timestamp, seq);');
    this.insert = this.db.prepare('INSERT INTO entries (project, timestamp, data) VALUES (?, ?, ?)');
    this.count = (this.db.prepare('SELECT count(*) AS n FROM entries').get() as { n: number }).n;
  }

  write(rows: { project: string; entry: Obj }[]): void {
    this.db.transaction(() => {
      for (const r of rows) this.insert.run(r.project, String(r.entry.timestamp), JSON.stringify(r.entry));
      this.count += rows.length;
      if (this.count > MAX_ENTRIES) {
        // Evict a tenth at a time, so a full store does not delete on every write.
        const drop = this.count - Math.floor(MAX_ENTRIES * 0.9);
        this.db.prepare('DELETE FROM entries WHERE seq IN (SELECT seq FROM entries ORDER BY seq LIMIT ?)').run(drop);
        this.count -= drop;
      }
    })();
  }

  /** Entries of the projects, in timestamp order, from a cursor; `keep` decides which count. */
  *scan(projects: string[], desc: boolean, after: [string, number] | undefined): Generator<{ entry: Obj; cursor: [string, number] }> {
    const dir = desc ? 'DESC' : 'ASC';
    const cmp = desc ? '<' : '>';
    const where = [`project IN (${projects.map(() => '?').join(',')})`];
    const params: unknown[] = [...projects];
    if (after) { where.push(`(timestamp, seq) ${cmp} (?, ?)`); params.push(after[0], after[1]); }
    const stmt = this.db.prepare(`SELECT seq, timestamp, data FROM entries WHERE ${where.join(' AND ')} ORDER BY timestamp ${dir}, seq ${dir}`);
    for (const r of stmt.iterate(...params) as IterableIterator<{ seq: number; timestamp: string; data: string }>) {
      yield { entry: JSON.parse(r.data) as Obj, cursor: [r.timestamp, r.seq] };
    }
  }
}

export function registerLogging(app: App, base: BaseContext, opts: { dataDir: string }): LogWriter {
  const logs = new LogStore(opts.dataDir === ':memory:' ? ':memory:' : join(opts.dataDir, 'logs.db'));
  const { clock, projects } = base;
  const toEntry = (e: LogEntryInput): { project: string; entry: Obj } => {
    const project = projects.resolve(e.logName.split('/')[1] ?? '');
    const now = clock.timestamp();
    const entry: Obj = {
      logName: `projects/${project}/logs/${e.logName.split('/logs/')[1] ?? ''}`, resource: e.resource, timestamp: e.timestamp ?? now, receiveTimestamp: now,
      severity: e.severity ?? 'DEFAULT', insertId: newUid().slice(0, 16), ...(e.labels ? { labels: e.labels } : {}),
      ...(e.textPayload !== undefined ? { textPayload: e.textPayload.length > MAX_PAYLOAD ? e.textPayload.slice(0, MAX_PAYLOAD) : e.textPayload } : {}),
      ...(e.jsonPayload !== undefined ? { jsonPayload: e.jsonPayload } : {}),
    };
    return { project, entry };
  };
  const writer: LogWriter = { write: entries => { if (entries.length) logs.write(entries.map(toEntry)); } };

  /** A page of entries: the projects' names, a query, an order, a size and a cursor. */
  const page = (resourceNames: string[], filter: string | undefined, desc: boolean, size: number, token: string | undefined) => {
    const names = resourceNames.map(n => {
      const m = /^projects\/([^/]+)$/.exec(n);
      if (!m) throw errors.invalidArgument(`Invalid resource name '${n.slice(0, 100)}': Gantry reads projects/{project} only.`, 'resource_names');
      return projects.resolve(m[1]);
    });
    if (!names.length) throw errors.invalidArgument('resource_names is required.', 'resource_names');
    const q = parseQuery(filter);
    let after: [string, number] | undefined;
    if (token) {
      try { after = JSON.parse(Buffer.from(token, 'base64url').toString()) as [string, number]; } catch { /* below */ }
      if (!Array.isArray(after) || typeof after[0] !== 'string' || typeof after[1] !== 'number') throw errors.invalidArgument('The page token is invalid.', 'page_token');
    }
    const out: Obj[] = [];
    let next: string | undefined;
    let last: [string, number] | undefined;
    for (const { entry, cursor } of logs.scan(names, desc, after)) {
      if (!matches(q, entry)) continue;
      if (out.length === size) { next = Buffer.from(JSON.stringify(last)).toString('base64url'); break; }
      out.push(entry);
      last = cursor;
    }
    return { entries: out, next };
  };

  app.route('POST', '/v2/entries:list', {
    handler: req => {
      const body = schema.decode('ListLogEntriesRequest', req.body ?? {}, '');
      const order = String(body.orderBy ?? 'timestamp asc').trim().toLowerCase();
      if (order !== 'timestamp asc' && order !== 'timestamp desc' && order !== 'timestamp') throw errors.invalidArgument(`Invalid order_by '${order.slice(0, 50)}': "timestamp asc" or "timestamp desc".`, 'order_by');
      const size = Number(body.pageSize ?? 50);
      if (size < 0) throw errors.invalidArgument('page_size must not be negative.', 'page_size');
      const res = page((body.resourceNames ?? []) as string[], body.filter as string | undefined, order.endsWith('desc'), Math.min(size || 50, MAX_PAGE), body.pageToken as string | undefined);
      return { body: { ...(res.entries.length ? { entries: res.entries } : {}), ...(res.next ? { nextPageToken: res.next } : {}) } };
    },
  } satisfies MethodSpec);
  app.route('POST', '/v2/entries:write', {
    handler: req => {
      const body = schema.decode('WriteLogEntriesRequest', req.body ?? {}, '');
      const entries = (body.entries ?? []) as Obj[];
      if (entries.length > 10_000) throw errors.invalidArgument('At most 10000 entries per request.', 'entries');
      writer.write(entries.map((e, i) => {
        const logName = String(e.logName ?? body.logName ?? '');
        if (!/^projects\/[^/]+\/logs\/[^/]+$/.test(logName)) throw errors.invalidArgument(`entries[${i}].log_name '${logName.slice(0, 100)}' must be projects/{project}/logs/{log id}.`, `entries[${i}].log_name`);
        const severity = e.severity as string | undefined;
        if (severity !== undefined && !SEVERITIES.includes(severity)) throw errors.invalidArgument(`entries[${i}].severity '${severity}' is not a severity.`, `entries[${i}].severity`);
        return {
          logName, resource: (e.resource ?? body.resource ?? { type: 'global', labels: {} }) as LogEntryInput['resource'],
          labels: { ...((body.labels ?? {}) as Record<string, string>), ...((e.labels ?? {}) as Record<string, string>) },
          ...(e.timestamp ? { timestamp: String(e.timestamp) } : {}), ...(severity ? { severity } : {}),
          ...(e.textPayload !== undefined ? { textPayload: String(e.textPayload) } : {}), ...(e.jsonPayload ? { jsonPayload: e.jsonPayload as Obj } : {}),
        };
      }));
      return { body: {} };
    },
  } satisfies MethodSpec);
  app.route('GET', '/gantry/v1/logs/viewer', {
    query: ['project', 'advancedFilter'],
    handler: req => {
      const project = queryString(req, 'project') ?? '';
      const res = page([`projects/${project}`], queryString(req, 'advancedFilter'), false, MAX_PAGE, undefined);
      const text = res.entries.map(e => `${String(e.timestamp)} ${String(e.severity ?? 'DEFAULT')} ${e.textPayload ?? JSON.stringify(e.jsonPayload ?? {})}`).join('\n');
      return { body: undefined, bytes: { data: Buffer.from(text + (text ? '\n' : '')), contentType: 'text/plain; charset=utf-8' } };
    },
  } satisfies MethodSpec);
  return writer;
}
