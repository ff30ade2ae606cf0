// PostgreSQL store: the Store contract over a database that many Gantry instances share.
//
// Synchronous, like SQLite's: queries go through libpq's blocking calls (pg-native), so a handler's transaction is
// still one uninterrupted function and the GET path gains no promise hop (docs/architecture.md, "The store").
// Every write transaction first takes one cluster-wide advisory lock: transactions of all instances run one after
// another, as SQLite's writers do, and a write request's handler runs whole inside one (`exclusive`), so a
// read-modify-write never interleaves with another instance's. Reads outside a
// transaction go to the database each time (no row cache another instance's write could make stale); a parsed
// document is kept while its row's version is unchanged. Committed changes are appended to `changes` and announced
// with NOTIFY; each instance reads the feed on a second connection and hands other instances' changes to its own
// subscribers (controllers, event streams, :wait).
import { randomUUID } from 'node:crypto';
import { createRequire } from 'node:module';
import type PgClient from 'pg-native';
import { Lru } from './lru.js';
import { ChangeListeners } from './change-listeners.js';
import { AfterCommit } from './after-commit.js';
import { ApiError } from '../google/errors.js';
import { listPg, pgArray } from './list-pg.js';
import { deepFreeze } from './freeze.js';
import { PG_MIGRATIONS } from './pg-schema.js';
import { PgBlobs } from './pg-blobs.js';
import { PgLogEntries } from './pg-log-entries.js';
import { PgTail } from './pg-tail.js';
import { PageBuilder } from './page.js';
import { storableJson } from '../google/text.js';
import type { Change, ListQuery, ListResult, Row, Store, StoredRow, Writer } from './store.js';
import type { WorkLease } from '../engine/work-lease.js';
import { MEMBERS_SQL, PgWorkSlots } from './pg-work-slots.js';
import { DEAD_WAIT_MS, PgSoleWriter, SOLE_META } from './pg-sole-writer.js';

/** Advisory lock keys (one 64-bit space per database): the writers' lock, and the migrations'. */
const WRITE_LOCK = 0x67616e7472790001n;
const MIGRATE_LOCK = 0x67616e7472790002n;
/** How long after losing its feed connection an instance tries to open it again (and again). */
const FEED_RETRY_MS = 1000;
/**
 * How long a feed query goes unanswered before the connection is read directly. libpq's binding drops an error its
 * socket watcher reports (a connection reset under a query: the watcher stops, no 'readable', no 'error'), which would
 * leave that query, and every one queued behind it, unanswered for ever; reading does what the watcher would have.
 * (libpq's binding, brianc/node-libpq, has the fix as pull request 137, not released when this was written.)
 */
const FEED_NUDGE_MS = 1000;
/** A feed query still being written after this long (its socket watcher dropped an error too) ends the connection. */
const FEED_STUCK_MS = 10_000;
/** Rows kept for reads inside write transactions, by count and by characters of JSON. */
const ROW_CACHE_ROWS = 20_000;
const ROW_CACHE_CHARS = 64 * 1024 * 1024;
/** Other instances' changes a transaction's first cached read looks at; beyond, the row cache is emptied instead. */
const ROWS_SINCE_MAX = 5_000;
/** How long a GET waits for its look at the feed before reading from the database instead. */
const LOOK_TIMEOUT_MS = 1000;
/** The newest change, and the names others changed after $1 (by the feed's seq index; the end, never the head). */
const ROWS_SINCE = `SELECT (SELECT max(seq) FROM changes) AS hi,
  (SELECT json_agg(name) FROM (SELECT name FROM changes WHERE seq > $1 AND origin <> $2 ORDER BY seq LIMIT ${ROWS_SINCE_MAX + 1}) AS c) AS names`;
/** Feed rows kept behind the newest (an instance further behind than this re-reads from the head). */
const FEED_KEEP = 100_000;

type Values = (string | null)[];

export { isPostgresUrl } from './postgres-url.js';

function loadClient(): typeof PgClient {
  try {
    return createRequire(import.meta.url)('pg-native') as typeof PgClient;
  } catch (e) {
    throw new Error(`the PostgreSQL store needs the pg-native package, built against libpq (Debian: apt-get install libpq-dev, then npm install): ${(e as Error).message}`);
  }
}

/** Connection settings Gantry adds unless the URL sets them: a dead server or network is noticed in seconds. */
function conninfo(url: string): string {
  const u = new URL(url);
  // Notices (an IF NOT EXISTS that skipped) would go to stderr: only warnings and errors are worth a line. The server
  // probes an idle connection too, so the work lease of an instance cut off by the network is freed in about 11 s.
  const defaults: Record<string, string> = {
    options: '-c client_min_messages=warning -c tcp_keepalives_idle=5 -c tcp_keepalives_interval=2 -c tcp_keepalives_count=3', keepalives: '1', keepalives_idle: '5', keepalives_interval: '2', keepalives_count: '3', connect_timeout: '10', application_name: 'gantry' };
  // Written with %20, not URLSearchParams' '+', which libpq does not read as a space.
  const more = Object.entries(defaults).filter(([k]) => !u.searchParams.has(k)).map(([k, v]) => `${k}=${encodeURIComponent(v)}`);
  return more.length ? `${url}${u.search ? '&' : '?'}${more.join('&')}` : url;
}

/**
 * Ends a client, keeping it referenced for a while after: libpq's binding closes its socket watcher asynchronously
 * inside the client object, and a client collected before libuv finishes that close aborts the process
 * (`uv__finish_close` assertion).
 */
const retired = new Set<PgClient>();
export function endClient(c: PgClient): void {
  try { c.end(); } catch { /* already gone */ }
  retired.add(c);
  setTimeout(() => retired.delete(c), 1000).unref();
}

export interface SchemaState { current: number; known: number }

/** Applies the schema migrations this Gantry knows (one instance at a time); refuses a newer database. */
export function migratePostgres(url: string): SchemaState {
  const Client = loadClient();
  const c = new Client();
  c.connectSync(conninfo(url));
  try { return migrate(c); } finally { endClient(c); }
}

function migrate(c: PgClient): SchemaState {
  c.querySync(`SELECT pg_advisory_lock(${MIGRATE_LOCK})`);
  try {
    c.querySync('CREATE TABLE IF NOT EXISTS gantry_schema (version integer NOT NULL)');
    let rows = c.querySync('SELECT version FROM gantry_schema');
    if (!rows.length) { c.querySync('INSERT INTO gantry_schema VALUES (0)'); rows = [{ version: 0 }]; }
    const from = Number(rows[0].version);
    if (from > PG_MIGRATIONS.length) {
      throw new Error(`the database's schema is version ${from}, newer than this Gantry knows (${PG_MIGRATIONS.length}): run a newer Gantry`);
    }
    for (let v = from; v < PG_MIGRATIONS.length; v++) {
      c.querySync('BEGIN');
      try {
        c.querySync(PG_MIGRATIONS[v]);
        c.querySync(`UPDATE gantry_schema SET version = ${v + 1}`);
        c.querySync('COMMIT');
      } catch (e) {
        c.querySync('ROLLBACK');
        throw e;
      }
    }
    return { current: from, known: PG_MIGRATIONS.length };
  } finally {
    c.querySync(`SELECT pg_advisory_unlock(${MIGRATE_LOCK})`);
  }
}

const GET = 'SELECT name, kind, parent, data, create_time AS "createTime", version FROM resources WHERE name = $1';
const PUT = `INSERT INTO resources (name, kind, parent, grandparent, create_time, active, data, version) VALUES ($1, $2, $3, $4, $5, $6, $7, nextval('gantry_versions'))
  ON CONFLICT (name) DO UPDATE SET kind = excluded.kind, parent = excluded.parent, grandparent = excluded.grandparent,
  create_time = excluded.create_time, active = excluded.active, data = excluded.data, version = excluded.version
  RETURNING version`;

export class PostgresStore implements Store {
  private db: PgClient;
  private feed?: PgClient;
  /** This instance's name in the feed: its own changes reach its subscribers at commit, not again from the feed. */
  readonly origin = randomUUID();
  private listeners = new ChangeListeners();
  private pending: Change[] = [];
  private depth = 0;
  private savepoints = 0;
  private prepared = new Set<string>();
  private listStatements = new Lru<string, string>(256, Infinity, () => 0, (_, name) => this.deallocate(name));
  private statementCount = 0;
  /**
   * Rows as this instance last read or wrote them (null: known absent), trusted only inside a write transaction:
   * there the writers' lock keeps every other instance from writing, so once the rows changed by others since
   * `rowsSeq` are dropped (one read of the feed table, at the transaction's first cached read), what is left is what
   * the database holds, for the rest of the transaction. A controller's reconcile then reads the rows it just wrote, or
   * read in the last batch, without a round trip. Outside a transaction only a fresh read (readFresh) trusts it.
   */
  private rows = new Lru<string, (Row & { version: string }) | null>(ROW_CACHE_ROWS, ROW_CACHE_CHARS, r => (r ? r.data.length : 0));
  private rowsSeq = '0';
  private rowsChecked = false;
  /** Names written in the open transaction: forgotten from `rows` if it rolls back. */
  private written = new Set<string>();
  private committed = new AfterCommit();
  /** Parsed documents by name, with the version they were parsed from. */
  private parsed = new Lru<string, { version: string; value: unknown }>(2_000);
  /** The change feed, read on behind (set once the newest change is known). */
  private changesTail!: PgTail;
  private commits = 0;
  private changed = 0;
  private analyzeAt = 500;
  private closed = false;
  /** Its role of sole writer, claimed while it is alone on the database (pg-sole-writer.ts). */
  private sole?: PgSoleWriter;

  constructor(private url: string) {
    const Client = loadClient();
    this.db = new Client();
    this.db.connectSync(conninfo(url));
    try {
      migrate(this.db);
      this.rowsSeq = String(this.db.querySync('SELECT coalesce(max(seq), 0) AS s FROM changes')[0].s);
      this.changesTail = new PgTail(this.rowsSeq, 10_000, (after, limit) => this.feedQuery(`SELECT seq, kind, name, op, origin FROM changes WHERE seq > $1 ORDER BY seq LIMIT ${limit}`, [after], { prepared: `changesAfter${limit}` }),
        rows => this.readChanges(rows));
    } catch (e) {
      endClient(this.db);
      throw e;
    }
  }

  /** Starts reading other instances' changes (async: the feed connection is the only one that waits for events). */
  async listen(): Promise<void> {
    const Client = loadClient();
    const feed = new Client();
    await new Promise<void>((resolve, reject) => feed.connect(conninfo(this.url), e => (e ? reject(e) : resolve()))).catch(e => {
      endClient(feed);
      throw e;
    });
    if (this.closed) { endClient(feed); return; }
    this.feed = feed;
    this.feedQueue = Promise.resolve();
    feed.on('notification', n => {
      if (n.extra === this.origin) return;
      if (n.relname === 'gantry_logs') { for (const l of this.logListeners) l(); } else this.changesTail.read();
    });
    feed.on('error', e => this.lost(feed, e));
    try {
      await this.feedQuery('LISTEN gantry_changes');
      await this.feedQuery('LISTEN gantry_logs');
    } catch (e) {
      // Ended here: left open beside the next attempt's connection, it would keep any lock taken on it, unseen.
      this.lost(feed, e as Error);
      throw e;
    }
    // Changes committed before LISTEN (since the constructor, or while the feed was down).
    this.changesTail.read();
    for (const l of this.logListeners) l();
  }

  /** The feed connection's queries, one at a time (libpq runs one query per connection at once). */
  private feedQueue: Promise<unknown> = Promise.resolve();
  /** Queries sent on the feed and not answered yet: how each fails, and when it was sent. */
  private feedPending = new Map<(e: Error) => void, number>();
  private feedNudge = setInterval(() => this.nudgeFeed(), FEED_NUDGE_MS).unref();
  /** Statements prepared on the feed connection (a new connection starts with none). */
  private feedPrepared = new WeakMap<PgClient, Set<string>>();
  /**
   * A query on the feed connection; `prepared` names a statement run often (parsed and planned once per connection).
   * `probe`: this query tells whether the connection is sound, so its failure means it is not.
   */
  private feedQuery(text: string, values: (string | null)[] = [], opts: { probe?: boolean; prepared?: string } = {}): Promise<Record<string, unknown>[]> {
    const feed = this.feed;
    if (!feed) return Promise.reject(new Error('the feed connection is not open'));
    const run = this.feedQueue.then(() => new Promise<Record<string, unknown>[]>((resolve, reject) => {
      // A broken connection never answers its query (libpq's binding only emits 'error'): lost() rejects it.
      const fail = (e: Error) => { this.feedPending.delete(fail); reject(e); };
      this.feedPending.set(fail, performance.now());
      if (this.feed !== feed) { fail(new Error('the feed connection was lost')); return; }
      const done = (err: Error | null | undefined, rows: Record<string, unknown>[]) => {
        this.feedPending.delete(fail);
        if (!err) { resolve(rows); return; }
        reject(err);
        // A connection the server ended while a query ran answers that query with the error and emits no 'error' of
        // its own: once libpq knows the connection is bad, it is lost like one that errs while idle. When libpq does
        // not know yet, one more query tells: the feed's own queries do not fail on a sound connection.
        if (feed.getTransactionStatus() === null || opts.probe) this.lost(feed, err);
        else this.feedQuery('SELECT 1', [], { probe: true }).catch(() => { /* lost() has run */ });
      };
      const name = opts.prepared;
      if (!name) { feed.query(text, values, done); return; }
      let known = this.feedPrepared.get(feed);
      if (!known) this.feedPrepared.set(feed, known = new Set());
      if (known.has(name)) { feed.execute(name, values, done); return; }
      feed.prepare(name, text, values.length, err => {
        if (err) { done(err, []); return; }
        known.add(name);
        feed.execute(name, values, done);
      });
    }));
    this.feedQueue = run.catch(() => undefined);
    return run;
  }

  /** A feed query waiting longer than it should: its connection is read now, or given up if it cannot be written to. */
  private nudgeFeed(): void {
    const feed = this.feed;
    if (!feed || !this.feedPending.size) return;
    const waited = performance.now() - Math.min(...this.feedPending.values());
    if (waited < FEED_NUDGE_MS) return;
    // Reading fails on a reset connection (the client emits 'error': lost) and hands over an answer already there.
    if (feed._reading) feed._read();
    else if (!feed.pq.consumeInput() || waited > FEED_STUCK_MS) this.lost(feed, new Error(`the feed connection stopped answering: ${feed.pq.errorMessage() || 'a query not sent in 10 s'}`));
  }

  private lostListeners: ((e: Error) => void)[] = [];
  /** Hears each time the feed connection (and with it any work lease) is gone. */
  onLost(fn: (e: Error) => void): void { this.lostListeners.push(fn); }

  /** The feed connection broke (the server restarted, the network dropped): told, then opened again until it opens. */
  private lost(feed: PgClient, e: Error): void {
    if (this.closed || this.feed !== feed) return;
    this.feed = undefined;
    endClient(feed);
    for (const fail of [...this.feedPending.keys()]) fail(e);
    for (const l of this.lostListeners) l(e);
    // Without the feed there is no heartbeat: the cache is not trusted until it is back (and claimed again).
    this.sole?.revoked();
    this.reopen();
  }

  /** One chain of attempts at a time: two would each open a feed, and the first would be left open, unseen. */
  private reopening = false;
  private reopen(): void {
    if (this.reopening) return;
    this.reopening = true;
    const attempt = () => setTimeout(() => {
      if (this.closed) { this.reopening = false; return; }
      this.listen().then(() => { this.reopening = false; }, attempt);
    }, FEED_RETRY_MS).unref();
    attempt();
  }

  /**
   * The work lease, split in slots (pg-work-slots.ts): looked at now and every `intervalMs`, its locks held on the
   * feed connection until that ends; once the feed is back, this instance takes its share again.
   */
  async workLease(intervalMs: number): Promise<WorkLease> {
    const lease = new PgWorkSlots({
      query: (text, values) => this.feedQuery(text, values), connected: () => this.feed !== undefined,
      getMeta: key => this.getMeta(key), onConnectionLost: fn => this.onLost(() => fn()),
    }, intervalMs);
    // The first look is awaited: an instance alone on its database starts working as SQLite's does, at once.
    await lease.tick();
    this.sole = new PgSoleWriter({
      origin: this.origin, connected: () => this.feed !== undefined,
      heartbeat: async () => {
        const [r] = await this.feedQuery(`SELECT (SELECT value FROM meta WHERE key = '${SOLE_META}') AS marker, ${MEMBERS_SQL} AS members`);
        return { marker: String(r.marker ?? ''), members: Number(r.members) };
      },
      claim: () => {
        this.tx(w => w.setMeta(SOLE_META, this.origin));
        // Every change committed before the marker: from now on a writer clears the marker first and waits.
        this.dropOthersChanges();
      },
      clear: () => {
        // A connection already known broken is not opened again for this (a stop would wait for it): the next writer clears it.
        if (this.db.getTransactionStatus() === null) return;
        try { this.tx(() => this.clearOwnMarker()); } catch { /* the database is gone: the next writer clears it */ }
      },
    }, 5 * intervalMs);
    await this.sole.tick();
    return lease;
  }

  /** Other instances' committed changes, handed to this instance's subscribers (its own reached them at commit). */
  private readChanges(rows: Record<string, unknown>[]): void {
    if (this.closed) return;
    const remote: Change[] = [];
    for (const r of rows) if (r.origin !== this.origin) remote.push({ kind: String(r.kind), name: String(r.name), op: r.op === 'delete' ? 'delete' : 'put', remote: true });
    this.listeners.emit(remote);
  }

  private exec(name: string, text: string, values: Values): Record<string, unknown>[] {
    return this.guarded(() => {
      if (!this.prepared.has(name)) {
        this.db.prepareSync(name, text, values.length);
        this.prepared.add(name);
      }
      return this.db.executeSync(name, values);
    });
  }

  private sql(text: string, retry = false): Record<string, unknown>[] {
    return this.guarded(() => this.db.querySync(text), retry);
  }

  /**
   * Runs a query; when the connection itself is gone (the server restarted, the network dropped), connects again and
   * tries once more if no transaction was open on it, and otherwise answers UNAVAILABLE, as Google does when a
   * backend is down: a client retries, and no request gets a 500.
   */
  private guarded<T>(run: () => T, retry = this.depth === 0): T {
    try {
      return run();
    } catch (e) {
      if (this.db.getTransactionStatus() !== null) throw e; // an SQL error; the connection is fine
      if (retry && this.reconnect()) return run();
      throw new ApiError('UNAVAILABLE', `The PostgreSQL store is unavailable: ${(e as Error).message.trim().split('\n')[0]}`);
    }
  }

  private reconnect(): boolean {
    endClient(this.db);
    this.rows.clear();
    const Client = loadClient();
    this.db = new Client();
    this.prepared.clear();
    this.listStatements.clear();
    try {
      this.db.connectSync(conninfo(this.url));
      return true;
    } catch {
      return false;
    }
  }

  private deallocate(name: string): void {
    if (!this.prepared.delete(name) || this.closed) return;
    // Not inside a failed transaction (every statement would fail); an aborted one is rolled back before this runs.
    if (this.db.getTransactionStatus() !== 'E') this.db.querySync(`DEALLOCATE ${name}`);
  }

  /** Updates the planner's statistics now (after a bulk load; autovacuum does it in time otherwise). */
  analyze(): void { this.sql('ANALYZE resources'); }

  /** Cloud Storage object bytes, in this database (shared like the resources). */
  blobs(): PgBlobs {
    return new PgBlobs((name, text, values) => this.exec(name, text, values), fn => this.tx(() => fn()));
  }

  private logListeners = new Set<() => void>();
  /** Cloud Logging's entries, in this database (shared like the resources). */
  logEntries(maxEntries: number): PgLogEntries {
    return new PgLogEntries({
      query: (name, text, values) => this.exec(name, text, values), tx: fn => this.tx(() => fn()), origin: this.origin,
      feedQuery: (text, values) => this.feedQuery(text, values),
      onNotify: fn => { this.logListeners.add(fn); return () => this.logListeners.delete(fn); },
    }, maxEntries);
  }

  /** Whether `rows` may answer now: inside a write transaction (checked under the lock), a fresh read, or alone. */
  private get cacheTrusted(): boolean { return this.depth > 0 || this.freshReads > 0 || this.sole?.valid() === true; }

  private fetch(name: string): (Row & { version: string }) | undefined {
    const trusted = this.cacheTrusted;
    // A row not kept at all is read at once: the feed table is looked at only when the cache may answer.
    if (trusted && this.rows.peek(name) !== undefined) {
      if (this.depth > 0) this.checkRows();
      const c = this.rows.get(name);
      if (c !== undefined) return c ?? undefined;
    }
    const r = this.exec('get', GET, [name])[0];
    const row = r ? { name: String(r.name), kind: String(r.kind), parent: String(r.parent), data: String(r.data), createTime: String(r.createTime), version: String(r.version) } : undefined;
    // Kept for what comes next (the next check drops it if another instance changes it) when read where the cache is
    // trusted; any other read outside a transaction is not: it could not use the cache, and it pays no more than its query.
    if (trusted) this.rows.set(name, row ?? null);
    return row;
  }

  soleWriter(): boolean { return this.sole?.valid() === true; }

  /** Fresh reads running now (readFresh): the cache was brought up to date after their request arrived. */
  private freshReads = 0;
  private catchingUp?: Promise<void>;
  private catchUpNext?: Promise<void>;

  /**
   * Runs `fn` (a request's reads) once this instance has heard of every change committed before the call, reading
   * its cached rows meanwhile without a round trip each: one look at the feed table, on the feed connection, serves
   * every request that arrived before it was sent. Without the feed, `fn` reads from the database, as always.
   */
  readFresh<T>(fn: () => T): T | Promise<T> {
    // Alone on the database: nobody else writes, so the cache is what the database holds.
    if (this.sole?.valid()) return fn();
    const run = () => {
      this.freshReads++;
      try { return fn(); } finally { this.freshReads--; }
    };
    return this.caughtUp().then(run, () => fn());
  }

  /** A look at the feed sent after this call: the one in flight may have been sent before it, so it waits for the next. */
  private caughtUp(): Promise<void> {
    if (!this.catchingUp) return this.catchUp();
    return this.catchUpNext ??= this.catchingUp.then(() => undefined, () => undefined).then(() => {
      this.catchUpNext = undefined;
      return this.catchUp();
    });
  }

  private catchUp(): Promise<void> {
    const since = this.rowsSeq;
    const look = new Promise<void>((resolve, reject) => {
      // A feed that does not answer (a network gone quiet, until the keepalives tell) holds no GET up for long: past
      // this, the reads waiting for it go to the database. A late answer still drops what it names.
      const timer = setTimeout(() => reject(new Error('the change feed did not answer in time')), LOOK_TIMEOUT_MS);
      this.feedQuery(ROWS_SINCE, [since, this.origin], { prepared: 'rowsSince' }).then(([r]) => {
        clearTimeout(timer);
        this.dropChanged(since, r);
        resolve();
      }, e => { clearTimeout(timer); reject(e); });
    });
    const done = look.finally(() => { if (this.catchingUp === done) this.catchingUp = undefined; });
    this.catchingUp = done;
    return done;
  }

  /**
   * Drops from `rows` what other instances changed since the last check (once per transaction, under the lock): one
   * statement, reading the names others changed by the feed's (seq) index and its newest seq (the end of the index,
   * never the head, where the feed's cut-backs leave dead entries to skip).
   */
  private checkRows(): void {
    // The sole writer's marker was in place at this transaction's start: nobody has committed since it read their
    // changes, for a writer clears the marker (and waits) before it writes.
    if (this.rowsChecked || this.soleTx) return;
    this.rowsChecked = true;
    this.dropOthersChanges();
  }

  /** Drops from `rows` what other instances changed since the last check, read now on the write connection. */
  private dropOthersChanges(): void {
    const since = this.rowsSeq;
    this.dropChanged(since, this.exec('rowsSince', ROWS_SINCE, [since, this.origin])[0]);
  }

  /**
   * Drops the rows others changed after `since`, as one ROWS_SINCE answered. A look sent earlier may answer after a
   * later one (the feed connection's and this connection's): dropping again is harmless, and `rowsSeq` only advances.
   */
  private dropChanged(since: string, r: Record<string, unknown>): void {
    const hi = r.hi === null ? since : String(r.hi);
    const names = (r.names ?? []) as string[];
    // Too many to look through, or the feed was cut back past what this instance last saw: start afresh.
    if (names.length > ROWS_SINCE_MAX || BigInt(hi) - BigInt(since) >= BigInt(FEED_KEEP)) this.rows.clear();
    else for (const name of names) this.rows.delete(name);
    if (BigInt(hi) > BigInt(this.rowsSeq)) this.rowsSeq = hi;
  }

  /** A row this transaction wrote (null: deleted), as the database now holds it. */
  private wrote(name: string, row: (Row & { version: string }) | null): void {
    this.written.add(name);
    this.rows.set(name, row);
  }

  get(name: string): Row | undefined {
    const r = this.fetch(name);
    if (!r) return undefined;
    // One Row per cached entry, as SQLite's cache hands out: readers may keep what they derive from it by its identity
    // (a GET's encoded JSON), and a re-read makes no copy.
    let row = this.rowViews.get(r);
    if (!row) {
      const { version: _, ...view } = r;
      this.rowViews.set(r, row = view);
    }
    return row;
  }
  private rowViews = new WeakMap<object, Row>();

  getParsed<T>(name: string): T | undefined {
    const r = this.fetch(name);
    return r ? (JSON.parse(r.data) as T) : undefined;
  }

  getFrozen<T>(name: string): Readonly<T> | undefined {
    const cached = this.parsed.get(name);
    if (cached) {
      // Where the row cache may answer it knows the version; elsewhere the database is asked for it alone.
      const v = this.cacheTrusted ? this.fetch(name)?.version : this.exec('version', 'SELECT version FROM resources WHERE name = $1', [name])[0]?.version;
      if (v !== undefined && String(v) === cached.version) return cached.value as Readonly<T>;
    }
    const r = this.fetch(name);
    if (!r) { this.parsed.delete(name); return undefined; }
    const value = deepFreeze(JSON.parse(r.data));
    this.parsed.set(name, { version: r.version, value });
    return value as Readonly<T>;
  }

  private writer: Writer = {
    put: (kind, name, parent, resource, createTime, active, json) => {
      const data = storableJson(json ?? JSON.stringify(resource));
      const [{ version }] = this.exec('put', PUT, [name, kind, parent, grandparentOf(parent), createTime, active ? 'true' : 'false', data]);
      this.wrote(name, { name, kind, parent, data, createTime, version: String(version) });
      this.pending.push({ kind, name, op: 'put', active });
    },
    delete: name => {
      const r = this.exec('del', 'DELETE FROM resources WHERE name = $1 RETURNING kind', [name])[0];
      this.wrote(name, null);
      if (r) this.pending.push({ kind: String(r.kind), name, op: 'delete' });
    },
    deleteUnder: prefix => {
      const rows = this.exec('delUnder', 'DELETE FROM resources WHERE name > $1 AND name < $2 RETURNING name, kind', [prefix + '/', prefix + '0']);
      for (const r of rows) { this.wrote(String(r.name), null); this.pending.push({ kind: String(r.kind), name: String(r.name), op: 'delete' }); }
      return rows.length;
    },
    deleteAll: () => {
      const rows = this.sql('DELETE FROM resources RETURNING name, kind');
      for (const r of rows) { this.wrote(String(r.name), null); this.pending.push({ kind: String(r.kind), name: String(r.name), op: 'delete' }); }
      return rows.length;
    },
    restore: r => {
      const data = storableJson(r.data);
      const [{ version }] = this.exec('put', PUT, [r.name, r.kind, r.parent, grandparentOf(r.parent), r.createTime, r.active ? 'true' : 'false', data]);
      this.wrote(r.name, { name: r.name, kind: r.kind, parent: r.parent, data, createTime: r.createTime, version: String(version) });
      this.pending.push({ kind: r.kind, name: r.name, op: 'put', active: r.active });
    },
    setMeta: (key, value) => {
      this.exec('setMeta', 'INSERT INTO meta (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = excluded.value', [key, value]);
    },
  };

  /** Whether the open transaction is a request's (exclusive): transactions inside it are savepoints. */
  private requestTx = false;

  exclusive<T>(fn: () => T): T {
    // Alone on the database, nobody else writes between this handler's reads and its writes.
    if (this.depth > 0 || this.sole?.valid()) return fn();
    let out!: T;
    this.requestTx = true;
    try {
      this.tx(() => { out = fn(); });
    } finally {
      this.requestTx = false;
    }
    return out;
  }

  tx<T>(fn: (w: Writer) => T): T {
    // A handler's own transaction inside its request's: undone alone when it throws (validateOnly's rollback, a
    // failure the handler answers), as it would be on its own.
    if (this.depth > 0) return this.requestTx ? this.savepoint(fn) : fn(this.writer);
    this.depth++;
    let result: T;
    try {
      this.begin();
      try {
        result = fn(this.writer);
        if (this.pending.length) this.appendFeed();
        this.sql('COMMIT');
      } catch (e) {
        this.rollback();
        throw e;
      }
    } finally {
      this.depth--;
      this.rowsChecked = false;
      this.soleTx = false;
      this.written.clear();
    }
    const changes = this.pending;
    this.pending = [];
    this.listeners.emit(changes);
    this.committed.run();
    return result;
  }

  /** Whether the open transaction began with this instance's sole-writer marker in place (pg-sole-writer.ts). */
  private soleTx = false;

  /**
   * Opens a transaction under the writers' lock, reading the sole writer's marker there. Another instance's marker is
   * cleared, and committed, and this transaction begins again once that instance's trust in its cache has run out.
   */
  private begin(): void {
    for (let attempt = 0; ; attempt++) {
      const marker = String(this.sql(`BEGIN; SELECT pg_advisory_xact_lock(${WRITE_LOCK}); SELECT value FROM meta WHERE key = '${SOLE_META}'`, true)[0]?.value ?? '');
      try {
        this.soleTx = marker === this.origin && this.sole?.holds() === true;
        if (marker !== this.origin) this.sole?.revoked();
        // Left behind by this instance (its clearing failed): nobody trusts it, so it goes without a wait.
        else if (!this.soleTx) this.clearOwnMarker();
        if (!marker || marker === this.origin) return;
        if (attempt === 10) throw new ApiError('UNAVAILABLE', 'The PostgreSQL store is unavailable: another instance keeps claiming to be its only writer.');
        this.sql(`UPDATE meta SET value = '' WHERE key = '${SOLE_META}'; COMMIT`);
      } catch (e) {
        this.rollback();
        throw e;
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, DEAD_WAIT_MS);
    }
  }

  /** Clears the sole writer's marker if it is this instance's (inside a transaction). */
  private clearOwnMarker(): void {
    this.exec('soleClear', 'UPDATE meta SET value = \'\' WHERE key = $1 AND value = $2', [SOLE_META, this.origin]);
  }

  afterCommit(fn: () => void): void {
    if (this.depth === 0) fn();
    else this.committed.add(fn);
  }

  private rollback(): void {
    this.pending = [];
    this.committed.undo();
    this.forgetWritten();
    try { this.db.querySync('ROLLBACK'); } catch { /* the connection is gone: the server rolled back */ }
  }

  /** Rows written by an undone transaction (or part of one) are no longer known. */
  private forgetWritten(): void {
    for (const name of this.written) this.rows.delete(name);
    this.written.clear();
  }

  private appendFeed(): void {
    const kinds: string[] = [], names: string[] = [], ops: string[] = [];
    for (const c of this.pending) { kinds.push(c.kind); names.push(c.name); ops.push(c.op); }
    this.exec('feed', `WITH added AS (INSERT INTO changes (kind, name, op, origin) SELECT k, n, o, $4 FROM unnest($1::text[], $2::text[], $3::text[]) AS u(k, n, o))
      SELECT pg_notify('gantry_changes', $4)`, [pgArray(kinds), pgArray(names), pgArray(ops), this.origin]);
    // Now and then, the feed is cut back to its newest rows.
    if (++this.commits % 1000 === 0) this.sql(`DELETE FROM changes WHERE seq < (SELECT max(seq) FROM changes) - ${FEED_KEEP}`);
    // The planner's statistics follow a growing table sooner than autovacuum would (it looks once a minute, and a
    // table it thinks empty gets plans that scan every rollout of a target's queue at each step): an ANALYZE on the
    // feed connection, off this one, after 500 changes, then 1,000, 2,000… up to every 64,000.
    this.changed += this.pending.length;
    if (this.changed >= this.analyzeAt && this.feed) {
      this.changed = 0;
      this.analyzeAt = Math.min(this.analyzeAt * 2, 64_000);
      this.feedQuery('ANALYZE resources').catch(() => { /* the next one will */ });
    }
  }

  savepoint<T>(fn: (w: Writer) => T): T {
    let out!: T;
    if (this.depth === 0) {
      this.tx(w => { out = fn(w); });
      return out;
    }
    const mark = this.pending.length, hooks = this.committed.mark;
    const sp = `sp${++this.savepoints}`;
    this.depth++;
    this.sql(`SAVEPOINT ${sp}`);
    try {
      out = fn(this.writer);
      this.sql(`RELEASE SAVEPOINT ${sp}`);
      return out;
    } catch (e) {
      this.sql(`ROLLBACK TO SAVEPOINT ${sp}`);
      this.pending.length = mark;
      this.committed.undo(hooks);
      // What the undone part wrote is read again from the database (the transaction's other writes with it); the
      // names stay written, so a rollback of the whole transaction forgets what was read of them meanwhile too.
      for (const name of this.written) this.rows.delete(name);
      throw e;
    } finally {
      this.depth--;
      this.savepoints--;
    }
  }

  list(q: ListQuery): ListResult {
    // Rows are read a batch at a time: just past the page when SQL checks everything; a quarter more with a predicate
    // (most filters keep most rows), and a batch that falls short is followed by another.
    const batch = q.predicate !== undefined ? q.limit + 1 + Math.ceil(q.limit / 4) : q.limit + 1;
    let page: PageBuilder | undefined;
    let after = q.after;
    for (;;) {
      const { shape, sql, values, cursor, residual } = listPg({ ...q, after });
      page ??= new PageBuilder(q, residual);
      let stmt = this.listStatements.get(shape + '|' + batch);
      if (!stmt) {
        stmt = `list${++this.statementCount}`;
        this.listStatements.set(shape + '|' + batch, stmt);
      }
      const got = this.exec(stmt, `${sql} LIMIT ${batch}`, values);
      for (const r of got) {
        if (!page.offer(r.data as string, () => cursor(r))) return page.result();
        after = cursor(r);
      }
      if (got.length < batch) return page.result();
    }
  }

  activeNames(kind: string): string[] {
    return this.exec('active', 'SELECT name FROM resources WHERE kind = $1 AND active', [kind]).map(r => String(r.name));
  }

  children(kind: string, parent: string): Record<string, unknown>[] {
    return this.exec('children', 'SELECT data FROM resources WHERE kind = $1 AND parent = $2 ORDER BY create_time, name', [kind, parent])
      .map(r => JSON.parse(String(r.data)) as Record<string, unknown>);
  }

  countUnder(prefix: string): number {
    return Number(this.exec('countUnder', 'SELECT count(*) AS n FROM resources WHERE name > $1 AND name < $2', [prefix + '/', prefix + '0'])[0].n);
  }

  getMeta(key: string): string | undefined {
    const r = this.exec('getMeta', 'SELECT value FROM meta WHERE key = $1', [key])[0];
    return r ? String(r.value) : undefined;
  }

  *dump(prefix: string): Iterable<StoredRow> {
    // In insertion order, as SQLite's rowid gives (so a snapshot reads the same from either store), in keyset
    // batches, so a large database is never held in memory at once.
    let after = '0';
    for (;;) {
      const rows = this.exec('dump', `SELECT name, kind, parent, create_time, active, data, ord FROM resources
        WHERE left(name, length($1)) = $1 AND ord > $2 ORDER BY ord LIMIT 500`, [prefix, after]);
      for (const r of rows) {
        yield { name: String(r.name), kind: String(r.kind), parent: String(r.parent), createTime: String(r.create_time), active: r.active === true, data: String(r.data) };
      }
      if (rows.length < 500) return;
      after = String(rows[rows.length - 1].ord);
    }
  }

  metaEntries(prefix: string): [string, string][] {
    return this.exec('metaEntries', 'SELECT key, value FROM meta WHERE left(key, length($1)) = $1 ORDER BY key', [prefix]).map(r => [String(r.key), String(r.value)]);
  }

  projects(limit: number): string[] {
    const out: string[] = [];
    for (let after = 'projects/'; out.length < limit;) {
      const r = this.exec('nextProject', "SELECT name FROM resources WHERE name > $1 AND name < 'projects0' ORDER BY name LIMIT 1", [after])[0];
      if (!r) break;
      const id = String(r.name).split('/')[1];
      out.push(id);
      after = `projects/${id}0`;
    }
    return out.sort();
  }

  onChange(listener: (c: Change) => void): () => void {
    return this.listeners.add(listener);
  }

  close(): void {
    if (this.closed) return;
    this.sole?.close();
    this.closed = true;
    clearInterval(this.feedNudge);
    endClient(this.db);
    if (this.feed) endClient(this.feed);
  }
}

function grandparentOf(parent: string): string { return parent.split('/').slice(0, -2).join('/'); }

