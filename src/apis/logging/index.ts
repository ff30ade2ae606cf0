// Cloud Logging v2 (subset): the log entries of Cloud Run tasks and Cloud Deploy job runs, kept in a bounded table
// (entry-table.ts: SQLite's `logs.db`, or the shared PostgreSQL store), read with entries:list and the Logging query language, written with entries:write,
// listed by log with logs.list, and shown as text at /gantry/v1/logs/viewer (where Cloud Run's logUri points).
//
// Bounds: at most `maxEntries` (200,000) entries, the oldest dropped first; an entry is at most 256 KiB (Cloud Logging's
// limit: entries:write refuses a larger one, a task's longer line is cut); a request reads at most 100,000 stored rows
// (or spends its matching work, or 10 s) and then answers what it found with a page token to go on, as Cloud Logging
// does for slow queries; it yields the event loop every 20 ms, so one query never holds the server.
// Writes from tasks are buffered and stored once per event-loop tick (one transaction), so a task printing thousands of
// lines a second costs a few transactions; every read and every entries:write flushes first.
import { createHash } from 'node:crypto';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../../server/app.js';
import type { BaseContext } from '../../google/context.js';
import { queryString, type MethodSpec } from '../../server/api.js';
import { ApiError, errors } from '../../google/errors.js';
import { isProjectIdOrNumber } from '../../google/projects.js';
import { checkDuration, MAX_DURATION_MS } from '../../google/time.js';
import { ApiSchema } from '../../google/schema.js';
import { newUid } from '../../google/ids.js';
import type { StreamHandler } from '../../grpc/streams.js';
import { tailLogEntries } from './tail.js';
import { canonicalTime, matches, mustContain, parseQuery, SEVERITIES, Subject, timeBounds } from './query.js';
import { userContentHeaders } from '../../server/user-content.js';
import { entryRow, insertIds, MAX_ENTRY_BYTES, type Row } from './entry-row.js';
import type { Cursor, EntryTable, StoredEntry } from './entry-table.js';
import { SqliteEntries } from './sqlite-entries.js';
import { RequestLogs, type RequestLogWriter } from './request-logs.js';
import { cloudRunRequestEntry } from './producers.js';
import type { Logger } from '../../server/log.js';

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
  /** A unique id; made up when absent. */
  insertId?: string;
  /** Other LogEntry fields kept as they are (httpRequest, operation, trace, spanId, traceSampled, sourceLocation, split, protoPayload). */
  extra?: Record<string, unknown>;
}

export interface LogWriter {
  write(entries: LogEntryInput[]): void;
}

export interface LoggingOptions {
  /** Where `logs.db` is kept; `:memory:` for none. */
  dataDir: string;
  /** A shared table instead (the PostgreSQL store's): `dataDir` is then not used. */
  entries?: EntryTable;
  /** Most entries kept (default MAX_ENTRIES); the oldest go first. */
  maxEntries?: number;
  /** Where a failing request-log writer is reported. */
  log?: Logger;
}

type Obj = Record<string, unknown>;
/** Most entries kept; the oldest go first. */
export const MAX_ENTRIES = 200_000;
export { MAX_ENTRY_BYTES };
/** Resources one entries:list (or a tail) may name: Cloud Logging caps the count; SQLite caps a statement's variables. */
const MAX_RESOURCE_NAMES = 100;
const MAX_PAGE = 1000;
/** Entries held while the table cannot take them (a shared store away); the oldest beyond go. */
const MAX_HELD = 50_000;
/** Rows one entries:list request reads before it answers with what it found and a page token. */
const SCAN_BUDGET = 100_000;
/** Matching work (query.ts: a term evaluated, or 4 KiB read) one request spends before it answers likewise. */
const WORK_BUDGET = 2_000_000;
/** Wall time one request scans (yielding between slices) before it answers likewise. */
const SCAN_DEADLINE_MS = 10_000;
/** A scan runs this long, then lets the event loop serve others. */
const SLICE_MS = 20;
/** Rows read from SQLite at a time. */
const SLICE_ROWS = 256;
/** Lines the viewer shows (the newest, oldest first). */
const VIEWER_LINES = 5_000;
const EXTRA_FIELDS = ['httpRequest', 'operation', 'trace', 'spanId', 'traceSampled', 'sourceLocation', 'split', 'protoPayload'];
const schema = new ApiSchema(fileURLToPath(new URL('../../../../schemas/logging-v2.json', import.meta.url)), 'google.logging.v2');

/** The viewer URL (Gantry's stand-in for the Cloud console's logs viewer, with its query parameters). */
export function logViewerUrl(origin: string, project: string, filter: string): string {
  return `${origin}/gantry/v1/logs/viewer?project=${encodeURIComponent(project)}&advancedFilter=${encodeURIComponent(filter)}`;
}

/**
 * Cloud Logging's entries as the API sees them: writes buffered and stored once per tick (one transaction), and each
 * stored batch told to the tails, with what other instances stored when the table is shared.
 */
export class LogStore {
  private pending: Row[] = [];
  private scheduled = false;
  private closed = false;
  private listeners = new Set<(rows: Row[]) => void>();
  private remote?: () => void;
  private retrying = false;
  private dropped = 0;

  constructor(readonly table: EntryTable, private log?: Logger) {}

  /** Buffers rows; they are stored together at the end of this tick (or at once when many are waiting). */
  add(rows: Row[]): void {
    if (this.closed) return;
    for (const r of rows) this.pending.push(r);
    if (this.pending.length >= 10_000) this.flush();
    else if (!this.scheduled) { this.scheduled = true; setImmediate(() => this.flushLater()); }
  }

  /**
   * The scheduled flush: a table that cannot take the rows now (a shared store's lost connection) keeps them for
   * a second try in a second, bounded: beyond MAX_HELD rows the oldest waiting are dropped, as Cloud Logging drops
   * what it cannot ingest.
   */
  private flushLater(): void {
    try {
      this.flush();
    } catch (e) {
      if (this.pending.length > MAX_HELD) { this.dropped += this.pending.length - MAX_HELD; this.pending.splice(0, this.pending.length - MAX_HELD); }
      if (!this.retrying) this.log?.warn(`Cloud Logging: entries not stored yet (${(e as Error).message}); trying again each second`);
      this.retrying = true;
      this.scheduled = true;
      setTimeout(() => this.flushLater(), 1000).unref();
      return;
    }
    if (this.retrying) {
      this.retrying = false;
      this.log?.info(`Cloud Logging: entries stored again${this.dropped ? `; ${this.dropped} were dropped meanwhile` : ''}`);
      this.dropped = 0;
    }
  }

  /** Entries another connection stored (the request-log worker): counted, their projects remembered, the cap kept. */
  noteStored(n: number, numbers: Record<string, string>): void {
    if (!this.closed) this.table.noteStored?.(n, numbers);
  }

  hasListeners(): boolean { return this.listeners.size > 0; }

  /** Each stored batch, after it is stored (for tails), this instance's and others'; returns the unsubscribe. */
  onAppend(listener: (rows: Row[]) => void): () => void {
    this.listeners.add(listener);
    // Other instances' entries are read only while someone here tails.
    this.remote ??= this.table.onRemote?.(entries => {
      const rows = entries.map(e => ({ project: e.project, number: '', timestamp: e.timestamp, log: e.log, entry: JSON.parse(e.data) as Obj, json: e.data }));
      for (const l of this.listeners) l(rows);
    });
    return () => {
      this.listeners.delete(listener);
      if (!this.listeners.size && this.remote) { this.remote(); this.remote = undefined; }
    };
  }

  /** Stores what is buffered in one transaction, then drops the oldest entries beyond the cap. */
  flush(): void {
    this.scheduled = false;
    if (this.closed || !this.pending.length) return;
    const rows = this.pending;
    this.pending = [];
    try {
      this.table.insert(rows);
    } catch (e) {
      // Not stored: kept for the next flush, ahead of what came meanwhile.
      this.pending = rows.concat(this.pending);
      throw e;
    }
    for (const l of this.listeners) l(rows);
  }

  get size(): number { this.flush(); return this.table.count(); }

  /** Every stored entry of a project (by id), or of all, oldest first (snapshots). */
  dump(project?: string): Iterable<StoredEntry> { this.flush(); return this.table.dump(project); }

  /** Forgets the entries of a project (by id), or all of them. */
  clear(project?: string): void { this.flush(); this.table.clear(project); }

  /** The project id a number stands for, when an entry of that project was stored. */
  projectOf(number: string): string | undefined { this.flush(); return this.table.projectOf(number); }

  scan(...args: Parameters<EntryTable['scan']>): ReturnType<EntryTable['scan']> { this.flush(); return this.table.scan(...args); }

  logNames(project: string, after: string, limit: number): string[] { this.flush(); return this.table.logNames(project, after, limit); }

  close(): void {
    if (this.closed) return;
    this.flush();
    this.closed = true;
    this.remote?.();
    this.table.close();
  }
}

/** Cuts a string to at most `bytes` UTF-8 bytes without splitting a character. */

const tokenHash = (parts: unknown[]) => createHash('sha256').update(JSON.stringify(parts)).digest('base64url').slice(0, 12);

export interface LogSnapshots {
  dump(project?: string): Iterable<{ project: string; timestamp: string; log: string; data: string }>;
  /** Stores entries as a snapshot holds them. */
  restore(entries: { project: string; timestamp: string; log: string; data: string }[]): void;
  clear(project?: string): void;
}

export function registerLogging(app: App, base: BaseContext, opts: LoggingOptions): LogWriter & RequestLogWriter & LogSnapshots & { streams: Record<string, StreamHandler> } {
  const table = opts.entries ?? new SqliteEntries(opts.dataDir === ':memory:' ? ':memory:' : join(opts.dataDir, 'logs.db'), opts.maxEntries ?? MAX_ENTRIES);
  const logs = new LogStore(table, opts.log);
  const file = table.workerFile;
  const { clock, projects } = base;
  const requests = new RequestLogs({
    file, clock, log: opts.log, numberOf: project => projects.number(project), tailing: () => logs.hasListeners(),
    stored: (n, numbers) => logs.noteStored(n, numbers),
    direct: records => writer.write(records.map(r => ({ ...cloudRunRequestEntry(r), timestamp: r.time }))),
  });
  app.onClose(async () => { await requests.close(); logs.close(); });
  const resolve = (idOrNumber: string) => {
    const id = projects.resolve(idOrNumber);
    return /^[0-9]+$/.test(id) ? logs.projectOf(id) ?? id : id;
  };

  // Unique per entry (a random prefix per process, then a counter): one random draw per entry cost as much as the rest.
  const nextInsertId = insertIds(newUid().slice(0, 6));

  /** A stored entry from what a writer gave: its project resolved, its time canonical (entry-row.ts does the rest). */
  const toRow = (e: LogEntryInput, strict: boolean, index = 0): Row => {
    const project = resolve(e.logName.split('/')[1] ?? '');
    const now = clock.timestamp();
    const timestamp = e.timestamp === undefined ? now : canonicalTime(e.timestamp);
    if (timestamp === undefined) throw errors.invalidArgument(`entries[${index}].timestamp '${String(e.timestamp).slice(0, 50)}' is not an RFC 3339 time.`, `entries[${index}].timestamp`);
    return entryRow(e, { project, number: projects.number(project), timestamp, now, insertId: nextInsertId }, strict, index);
  };
  const writer: LogWriter = { write: entries => { if (entries.length) logs.add(entries.map(e => toRow(e, false))); } };

  const projectNames = (resourceNames: string[]) => {
    if (resourceNames.length > MAX_RESOURCE_NAMES) {
      throw errors.invalidArgument(`A request may name at most ${MAX_RESOURCE_NAMES} resources in resource_names (and project_ids), not ${resourceNames.length}.`, 'resource_names');
    }
    const names = resourceNames.map(n => {
      const m = /^projects\/([^/]+)$/.exec(n);
      if (!m) throw errors.invalidArgument(`Invalid resource name '${n.slice(0, 100)}': Gantry reads projects/{project} only.`, 'resource_names');
      return resolve(m[1]);
    });
    if (!names.length) throw errors.invalidArgument('resource_names is required.', 'resource_names');
    return [...new Set(names)];
  };

  /**
   * A page of entries: the projects, a query, an order, a size and a cursor. A scan reads rows in slices and yields
   * the event loop between them (other requests are served meanwhile); it stops at SCAN_BUDGET rows, at WORK_BUDGET
   * units of matching work (query.ts) or at SCAN_DEADLINE_MS, and then answers what it found with a page token to
   * go on, as Cloud Logging does for a search that runs out of time. A caller that goes away stops it.
   */
  const page = async (names: string[], filter: string | undefined, desc: boolean, size: number, token: string | undefined, signal?: AbortSignal, budget = SCAN_BUDGET) => {
    const q = parseQuery(filter);
    const bind = tokenHash([names, filter ?? '', desc]);
    let after: Cursor | undefined;
    if (token) {
      let t: unknown;
      try { t = JSON.parse(Buffer.from(token, 'base64url').toString()); } catch { /* below */ }
      if (!Array.isArray(t) || typeof t[0] !== 'string' || typeof t[1] !== 'number' || t[2] !== bind) throw errors.invalidArgument('The page token is invalid or belongs to another query.', 'page_token');
      after = [t[0], t[1]];
    }
    const range = timeBounds(q), contains = mustContain(q);
    const deadline = performance.now() + SCAN_DEADLINE_MS;
    const out: Obj[] = [];
    let read = 0, work = 0, sliceEnd = performance.now() + SLICE_MS;
    for (;;) {
      const rows = logs.scan(names, desc, after, range, contains, SLICE_ROWS);
      for (const { data, cursor } of rows) {
        // Out of rows, work or time, with something read: the token resumes after the last row looked at.
        if (read && (read === budget || work >= WORK_BUDGET || performance.now() > deadline)) return { entries: out, next: tokenAt(after!, bind) };
        read++;
        const s = new Subject(JSON.parse(data) as Obj);
        const hit = matches(q, s);
        work += s.work + Math.ceil(data.length / 4096);
        if (hit) {
          if (out.length === size) return { entries: out, next: tokenAt(after!, bind) };
          out.push(s.entry);
        }
        after = cursor;
        if (performance.now() > sliceEnd) break;
      }
      if (!rows.length || (rows.length < SLICE_ROWS && after === rows[rows.length - 1].cursor)) return { entries: out, next: undefined };
      if (performance.now() > sliceEnd) {
        // The slice's time is used: let other requests run, then go on (unless the caller has gone).
        await new Promise(resolve => setImmediate(resolve));
        if (signal?.aborted) throw new ApiError('DEADLINE_EXCEEDED', 'The request was cancelled or its deadline passed while the entries were read.');
        sliceEnd = performance.now() + SLICE_MS;
      }
    }
  };
  const tokenAt = (after: Cursor, bind: string) => Buffer.from(JSON.stringify([...after, bind])).toString('base64url');

  app.route('POST', '/v2/entries:list', {
    readsOnly: true,
    handler: async req => {
      const body = schema.decode('ListLogEntriesRequest', req.body ?? {}, '');
      const order = String(body.orderBy ?? 'timestamp asc').trim().replace(/\s+/g, ' ').toLowerCase();
      if (order !== 'timestamp asc' && order !== 'timestamp desc' && order !== 'timestamp') throw errors.invalidArgument(`Invalid order_by '${order.slice(0, 50)}': "timestamp asc" or "timestamp desc".`, 'order_by');
      const size = Number(body.pageSize ?? 0);
      if (size < 0) throw errors.invalidArgument('page_size must not be negative.', 'page_size');
      const names = projectNames([...((body.resourceNames ?? []) as string[]), ...((body.projectIds ?? []) as string[]).map(p => `projects/${p}`)]);
      const res = await page(names, body.filter as string | undefined, order.endsWith('desc'), Math.min(size || 50, MAX_PAGE), body.pageToken as string | undefined, req.signal);
      return { body: { ...(res.entries.length ? { entries: res.entries } : {}), ...(res.next ? { nextPageToken: res.next } : {}) } };
    },
  } satisfies MethodSpec);

  app.route('POST', '/v2/entries:write', {
    handler: req => {
      const body = schema.decode('WriteLogEntriesRequest', req.body ?? {}, '');
      const entries = (body.entries ?? []) as Obj[];
      if (!entries.length) throw errors.invalidArgument('entries is required.', 'entries');
      if (entries.length > 10_000) throw errors.invalidArgument('At most 10000 entries per request.', 'entries');
      const rows = entries.map((e, i) => {
        const logName = String(e.logName ?? body.logName ?? '');
        // The log id: at most 512 characters, no control character (Cloud Logging's own set is narrower still).
        const parts = /^projects\/([^/]+)\/logs\/([^/\x00-\x1f\x7f]{1,512})$/.exec(logName);
        if (!parts || !isProjectIdOrNumber(parts[1])) throw errors.invalidArgument(`entries[${i}].log_name '${logName.slice(0, 100)}' must be projects/{project}/logs/{log id}.`, `entries[${i}].log_name`);
        const resource = (e.resource ?? body.resource) as LogEntryInput['resource'] | undefined;
        if (!resource?.type) throw errors.invalidArgument(`entries[${i}].resource is required.`, `entries[${i}].resource`);
        const severity = e.severity as string | undefined;
        if (severity !== undefined && !SEVERITIES.includes(severity)) throw errors.invalidArgument(`entries[${i}].severity '${severity}' is not a severity.`, `entries[${i}].severity`);
        // A Duration, non-negative (a malformed or negative one stored had made every gRPC list of the project fail).
        const latency = (e.httpRequest as Obj | undefined)?.latency;
        if (latency !== undefined) checkDuration(latency, `entries[${i}].http_request.latency`, 0, MAX_DURATION_MS);
        const labels = { ...((body.labels ?? {}) as Record<string, string>), ...((e.labels ?? {}) as Record<string, string>) };
        const extra: Obj = {};
        for (const f of EXTRA_FIELDS) if (e[f] !== undefined) extra[f] = e[f];
        return toRow({
          logName, resource, labels, extra, ...(e.insertId ? { insertId: String(e.insertId) } : {}),
          ...(e.timestamp ? { timestamp: String(e.timestamp) } : {}), ...(severity ? { severity } : {}),
          ...(e.textPayload !== undefined ? { textPayload: String(e.textPayload) } : {}), ...(e.jsonPayload ? { jsonPayload: e.jsonPayload as Obj } : {}),
        }, true, i);
      });
      if (!body.dryRun) { logs.add(rows); logs.flush(); }
      return { body: {} };
    },
  } satisfies MethodSpec);

  app.route('GET', '/v2/projects/{project}/logs', {
    query: ['pageSize', 'pageToken', 'resourceNames'],
    handler: req => {
      const project = resolve(req.params.project);
      const size = Number(queryString(req, 'pageSize') ?? 0);
      if (!Number.isInteger(size) || size < 0) throw errors.invalidArgument('page_size must be a non-negative integer.', 'page_size');
      const token = queryString(req, 'pageToken');
      let after = '';
      if (token) {
        try { after = Buffer.from(token, 'base64url').toString(); } catch { /* below */ }
        if (!after.startsWith(`projects/${project}/logs/`)) throw errors.invalidArgument('The page token is invalid or belongs to another query.', 'page_token');
      }
      const limit = Math.min(size || MAX_PAGE, MAX_PAGE);
      const names = logs.logNames(project, after, limit + 1);
      const more = names.length > limit;
      const shown = names.slice(0, limit);
      return { body: { ...(shown.length ? { logNames: shown } : {}), ...(more ? { nextPageToken: Buffer.from(shown[shown.length - 1]).toString('base64url') } : {}) } };
    },
  } satisfies MethodSpec);

  // A Cloud Build log as its console URL names it (`builds;region=R/ID`, the shape App Hosting's buildLogsUri has and
  // firebase-tools parses): the viewer, showing that build's lines.
  app.route('GET', '/gantry/v1/cloud-build/{builds}/{id}', {
    query: ['project'],
    handler: req => {
      const project = queryString(req, 'project');
      if (!project || !/^builds;region=[a-z0-9-]+$/.test(req.params.builds) || !/^[0-9a-f-]{1,64}$/.test(req.params.id)) throw errors.invalidArgument('Not a Cloud Build log URL.', 'id');
      return { status: 302, body: {}, headers: { location: logViewerUrl(base.origin(), project, `resource.type="build"\nresource.labels.build_id="${req.params.id}"`) } };
    },
  } satisfies MethodSpec);
  app.route('GET', '/gantry/v1/logs/viewer', {
    query: ['project', 'advancedFilter'],
    handler: async req => {
      const project = queryString(req, 'project');
      if (!project) throw errors.invalidArgument('project is required.', 'project');
      // The newest lines, shown oldest first.
      const res = await page(projectNames([`projects/${project}`]), queryString(req, 'advancedFilter'), true, VIEWER_LINES, undefined, undefined, MAX_ENTRIES);
      const lines = res.entries.reverse().map(e => `${String(e.timestamp)} ${String(e.severity ?? 'DEFAULT')} ${typeof e.textPayload === 'string' ? e.textPayload : JSON.stringify(e.jsonPayload ?? e.protoPayload ?? {})}`);
      if (res.next) lines.unshift(`(earlier entries not shown: the newest ${VIEWER_LINES} are)`);
      const text = lines.join('\n');
      return { body: undefined, bytes: { data: Buffer.from(text + (text ? '\n' : '')), contentType: 'text/plain; charset=utf-8' }, headers: userContentHeaders('text/plain') };
    },
  } satisfies MethodSpec);
  const streams = { '/google.logging.v2.LoggingServiceV2/TailLogEntries': tailLogEntries({ projects: projectNames, onAppend: l => logs.onAppend(l) }) };
  return {
    ...writer, request: line => requests.request(line), streams, clear: project => logs.clear(project), dump: project => logs.dump(project),
    restore: entries => { logs.add(entries.map(e => ({ project: e.project, number: projects.number(e.project), timestamp: e.timestamp, log: e.log, entry: JSON.parse(e.data) as Obj, json: e.data }))); logs.flush(); },
  };
}
