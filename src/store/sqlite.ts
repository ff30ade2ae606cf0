// SQLite store (better-sqlite3, WAL). One table of JSON documents with list and active indexes;
// sort keys outside the index are read with json_extract.
import Database from 'better-sqlite3';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Lru } from './lru.js';
import { ChangeListeners } from './change-listeners.js';
import { AfterCommit } from './after-commit.js';
import { deepFreeze } from './freeze.js';
import { MIGRATIONS } from './migrations.js';
import { listSql } from './list-sql.js';
import { PageBuilder } from './page.js';
import { SqliteCheckpointer } from './sqlite-checkpointer.js';
import { storableJson } from '../google/text.js';
import type { Change, ListQuery, ListResult, Row, Store, Writer, StoredRow } from './store.js';

type Stmt = Database.Statement;
/** A row as the row cache holds it: with its active flag, so a write knows whether the flag changes. */
type CachedRow = Row & { active: boolean };

/**
 * Bounds of the list-statement cache, in entries and in characters of SQL (what a statement's native memory grows
 * with): above every query shape list-sql.ts can make (about 1,300, 2.2 M characters), so none is ever evicted and
 * prepared again, which would leave the old one's memory to the collector.
 */
export const LIST_STATEMENTS = 2048;
export const LIST_STATEMENT_CHARS = 4 * 1024 * 1024;

export class SqliteStore implements Store {
  private db: Database.Database;
  private listeners = new ChangeListeners();
  private pending: Change[] = [];
  /** Transaction levels entered (1: the transaction, more: savepoints) and, of those, how many SQLite has opened. */
  private depth = 0;
  private opened = 0;
  private committed = new AfterCommit();
  private stmts: Record<string, Stmt>;
  // Prepared list queries by SQL text. The texts are a small fixed set (list-sql.ts: client-chosen paths and values
  // are parameters), so in use every one stays cached; the bound, in entries and in characters of SQL, keeps it so.
  private listCache = new Lru<string, Stmt>(LIST_STATEMENTS, LIST_STATEMENT_CHARS, s => s.source.length);
  /** List statements prepared since the store opened: flat once every query shape has been seen. */
  private prepared = 0;
  // Write-through cache of recently read or written rows: one process owns the database, so it stays coherent.
  // Bounded by count and by characters held, since one row can be megabytes (a release's snapshots).
  private rows = new Lru<string, CachedRow | null>(10_000, 32 * 1024 * 1024, r => r?.data.length ?? 0);
  /** Children lists by kind and parent, with the count of writes of their kind they were read at. */
  private childrenCache = new Lru<string, { writes: number; data: string[] }>(1000, 4 * 1024 * 1024, c => c.data.reduce((n, d) => n + d.length, 64));
  private kindWrites = new Map<string, number>();

  /** Checkpoints the WAL off the main thread (a file database; none in memory). */
  private checkpoints?: SqliteCheckpointer;

  constructor(file: string, opts: { synchronous?: 'NORMAL' | 'FULL'; onError?: (message: string) => void } = {}) {
    if (file !== ':memory:') mkdirSync(dirname(file), { recursive: true });
    this.db = new Database(file);
    this.db.pragma('journal_mode = WAL');
    // NORMAL in WAL mode survives a killed process (the OS holds the written WAL); FULL also survives power loss.
    this.db.pragma(`synchronous = ${opts.synchronous ?? 'NORMAL'}`);
    this.db.pragma('busy_timeout = 5000');
    // SQLite's page cache is native memory that fills as the database grows: bounded here, not by a build default.
    this.db.pragma('cache_size = -16000');
    this.migrate();
    if (file !== ':memory:') this.checkpoints = new SqliteCheckpointer(this.db, file, opts.onError);
    this.stmts = {
      get: this.db.prepare('SELECT name, kind, parent, data, create_time AS createTime, active = 1 AS active FROM resources WHERE name = ?'),
      setData: this.db.prepare('UPDATE resources SET data = ? WHERE name = ?'),
      setDataActive: this.db.prepare('UPDATE resources SET active = ?, data = ? WHERE name = ?'),
      put: this.db.prepare(`INSERT INTO resources (name, kind, parent, grandparent, create_time, active, data) VALUES (?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT(name) DO UPDATE SET kind = excluded.kind, parent = excluded.parent, grandparent = excluded.grandparent,
        create_time = excluded.create_time, active = excluded.active, data = excluded.data`),
      del: this.db.prepare('DELETE FROM resources WHERE name = ?'),
      under: this.db.prepare('SELECT name, kind FROM resources WHERE name > ? AND name < ?'),
      delUnder: this.db.prepare('DELETE FROM resources WHERE name > ? AND name < ?'),
      countUnder: this.db.prepare('SELECT count(*) AS n FROM resources WHERE name > ? AND name < ?'),
      active: this.db.prepare('SELECT name FROM resources WHERE kind = ? AND active = 1'),
      children: this.db.prepare('SELECT data FROM resources WHERE kind = ? AND parent = ? ORDER BY create_time, name'),
      getMeta: this.db.prepare('SELECT value FROM meta WHERE key = ?'),
      setMeta: this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value'),
    };
  }

  private migrate(): void {
    const version = this.db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      this.db.close();
      throw new Error(`the database's schema is version ${version}, newer than this Gantry knows (${MIGRATIONS.length}): run a newer Gantry`);
    }
    for (let v = version; v < MIGRATIONS.length; v++) {
      this.db.transaction(() => {
        this.db.exec(MIGRATIONS[v]);
        this.db.pragma(`user_version = ${v + 1}`);
      })();
    }
  }

  get(name: string): Row | undefined {
    const cached = this.rows.get(name);
    if (cached !== undefined) return cached ?? undefined;
    const row = this.stmts.get.get(name) as (Omit<CachedRow, 'active'> & { active: number | boolean }) | undefined;
    if (row) row.active = row.active === 1;
    this.rows.set(name, (row as CachedRow | undefined) ?? null);
    return row as CachedRow | undefined;
  }

  getParsed<T>(name: string): T | undefined {
    const r = this.get(name);
    return r ? (JSON.parse(r.data) as T) : undefined;
  }

  private frozen = new WeakMap<Row, unknown>();

  getFrozen<T>(name: string): Readonly<T> | undefined {
    const r = this.get(name);
    if (!r) return undefined;
    let v = this.frozen.get(r);
    if (v === undefined) {
      v = deepFreeze(JSON.parse(r.data));
      this.frozen.set(r, v);
    }
    return v as Readonly<T>;
  }

  private writer: Writer = {
    put: (kind, name, parent, resource, createTime, active, json) => {
      this.opening();
      const data = storableJson(json ?? JSON.stringify(resource));
      // A row known to exist under the same kind, parent and creation time changes only its document (and maybe its
      // active flag): an UPDATE of those columns leaves the name, list and family indexes alone, where the upsert
      // rewrote every index entry (half the cost of a write).
      const was = this.rows.peek(name);
      const same = was && was.kind === kind && was.parent === parent && was.createTime === createTime;
      const updated = same && (was.active === active ? this.stmts.setData.run(data, name) : this.stmts.setDataActive.run(active ? 1 : 0, data, name)).changes === 1;
      if (!updated) this.stmts.put.run(name, kind, parent, parent.split('/').slice(0, -2).join('/'), createTime, active ? 1 : 0, data);
      this.rows.set(name, { name, kind, parent, data, createTime, active });
      this.wroteKind(kind);
      // (A name keeps its kind: names are made from their collection. Should one change, the old kind's lists go too.)
      if (was && was.kind !== kind) this.wroteKind(was.kind);
      this.pending.push({ kind, name, op: 'put', active });
    },
    delete: name => {
      const row = this.get(name);
      if (!row) return;
      this.opening();
      this.stmts.del.run(name);
      this.rows.set(name, null);
      this.wroteKind(row.kind);
      this.pending.push({ kind: row.kind, name, op: 'delete' });
    },
    deleteUnder: prefix => {
      this.opening();
      const rows = this.stmts.under.all(prefix + '/', prefix + '0') as { name: string; kind: string }[];
      this.stmts.delUnder.run(prefix + '/', prefix + '0');
      this.forget();
      for (const r of rows) this.pending.push({ kind: r.kind, name: r.name, op: 'delete' });
      return rows.length;
    },
    deleteAll: () => {
      this.opening();
      const rows = this.db.prepare('SELECT name, kind FROM resources').all() as { name: string; kind: string }[];
      this.db.prepare('DELETE FROM resources').run();
      this.forget();
      for (const r of rows) this.pending.push({ kind: r.kind, name: r.name, op: 'delete' });
      return rows.length;
    },
    restore: r => {
      this.opening();
      this.stmts.put.run(r.name, r.kind, r.parent, r.parent.split('/').slice(0, -2).join('/'), r.createTime, r.active ? 1 : 0, storableJson(r.data));
      this.rows.delete(r.name);
      this.wroteKind(r.kind);
      this.pending.push({ kind: r.kind, name: r.name, op: 'put', active: r.active });
    },
    setMeta: (key, value) => { this.opening(); this.stmts.setMeta.run(key, value); },
  };

  *dump(prefix: string): Iterable<StoredRow> {
    const stmt = this.db.prepare("SELECT name, kind, parent, create_time AS createTime, active, data FROM resources WHERE substr(name, 1, ?) = ? ORDER BY rowid");
    for (const r of stmt.iterate(prefix.length, prefix) as IterableIterator<Omit<StoredRow, 'active'> & { active: number }>) yield { ...r, active: r.active === 1 };
  }

  projects(limit: number): string[] {
    // A skip scan of the primary key: one index seek per project, however many resources each holds.
    const next = this.db.prepare("SELECT name FROM resources WHERE name > ? AND name < 'projects0' ORDER BY name LIMIT 1").pluck();
    const out: string[] = [];
    for (let after = 'projects/'; out.length < limit;) {
      const name = next.get(after) as string | undefined;
      if (name === undefined) break;
      const id = name.split('/')[1];
      out.push(id);
      // Every name of the project sorts below `projects/{id}0` ('0' follows '/').
      after = `projects/${id}0`;
    }
    return out.sort();
  }

  metaEntries(prefix: string): [string, string][] {
    return (this.db.prepare('SELECT key, value FROM meta WHERE substr(key, 1, ?) = ?').all(prefix.length, prefix) as { key: string; value: string }[]).map(r => [r.key, r.value]);
  }

  savepoint<T>(fn: (w: Writer) => T): T {
    if (this.depth === 0) return this.tx(fn);
    const mark = this.pending.length, hooks = this.committed.mark;
    const level = ++this.depth;
    try {
      const out = fn(this.writer);
      this.leave(level, true);
      return out;
    } catch (e) {
      this.leave(level, false);
      this.forget();
      this.pending.length = mark;
      this.committed.undo(hooks);
      throw e;
    } finally {
      this.depth = level - 1;
    }
  }

  tx<T>(fn: (w: Writer) => T): T {
    if (this.depth > 0) return fn(this.writer);
    this.depth = 1;
    let result: T;
    try {
      result = fn(this.writer);
      this.leave(1, true);
    } catch (e) {
      this.leave(1, false);
      // Rolled back: the row cache may hold rows written since, so it is dropped whole.
      this.forget();
      this.pending = [];
      this.committed.undo();
      throw e;
    } finally {
      this.depth = 0;
    }
    const changes = this.pending;
    this.pending = [];
    this.listeners.emit(changes);
    this.committed.run();
    return result;
  }

  /**
   * Opens in SQLite every transaction level not opened yet, before a write. A level opens lazily: until something is
   * written the database is as it was when the level began (one process owns it), so a BEGIN or SAVEPOINT issued now
   * marks the same state, and a reconcile or request that writes nothing costs no statement at all.
   */
  private opening(): void {
    while (this.opened < this.depth) {
      this.levelStmt(this.opened + 1, 'open').run();
      this.opened++;
    }
  }

  /** Ends level `level` in SQLite if it was opened there: commits or releases it, or rolls it back. */
  private leave(level: number, ok: boolean): void {
    if (this.opened < level) return;
    this.opened = level - 1;
    if (ok) {
      try {
        this.levelStmt(level, 'release').run();
        if (level === 1) this.checkpoints?.committed();
        return;
      } catch (e) {
        // A failed COMMIT may leave the transaction open: it is rolled back, and the caller sees the error.
        if (level > 1 || this.db.inTransaction) this.rollbackLevel(level);
        throw e;
      }
    }
    this.rollbackLevel(level);
  }

  private rollbackLevel(level: number): void {
    if (level === 1) { if (this.db.inTransaction) this.levelStmt(1, 'rollback').run(); return; }
    this.levelStmt(level, 'rollback').run();
    this.levelStmt(level, 'release').run();
  }

  private levelStmts: Record<'open' | 'release' | 'rollback', Stmt>[] = [];

  private levelStmt(level: number, what: 'open' | 'release' | 'rollback'): Stmt {
    let s = this.levelStmts[level];
    if (!s) {
      s = this.levelStmts[level] = level === 1
        ? { open: this.db.prepare('BEGIN'), release: this.db.prepare('COMMIT'), rollback: this.db.prepare('ROLLBACK') }
        : { open: this.db.prepare(`SAVEPOINT level${level}`), release: this.db.prepare(`RELEASE level${level}`), rollback: this.db.prepare(`ROLLBACK TO level${level}`) };
    }
    return s[what];
  }

  afterCommit(fn: () => void): void {
    if (this.depth === 0) fn();
    else this.committed.add(fn);
  }

  list(q: ListQuery): ListResult {
    const { shape, sql, params, cursor, residual } = listSql(q);
    let stmt = this.listCache.get(shape);
    if (!stmt) {
      stmt = this.db.prepare(sql());
      this.listCache.set(shape, stmt);
      this.prepared++;
    }
    const page = new PageBuilder(q, residual);
    for (const r of stmt.iterate(params) as IterableIterator<Record<string, unknown>>) if (!page.offer(r.data as string, () => cursor(r))) break;
    return page.result();
  }

  /** The list-statement cache's accounting (tests and diagnostics). */
  listStatements(): { cached: number; chars: number; prepared: number } {
    return { cached: this.listCache.size, chars: this.listCache.weight, prepared: this.prepared };
  }

  activeNames(kind: string): string[] {
    return (this.stmts.active.all(kind) as { name: string }[]).map(r => r.name);
  }

  children(kind: string, parent: string): Record<string, unknown>[] {
    // Kinds written rarely (deploy policies, outcome scripts: read on every rollout) are answered from memory until
    // a row of their kind is written; a kind written often just misses.
    const key = `${kind}\0${parent}`;
    const writes = this.kindWrites.get(kind) ?? 0;
    const hit = this.childrenCache.get(key);
    if (hit && hit.writes === writes) return hit.data.map(d => JSON.parse(d) as Record<string, unknown>);
    const data = (this.stmts.children.all(kind, parent) as { data: string }[]).map(r => r.data);
    this.childrenCache.set(key, { writes, data });
    return data.map(d => JSON.parse(d) as Record<string, unknown>);
  }

  /** Rows of a kind were written: children of that kind are read from the database again. */
  private wroteKind(kind: string): void { this.kindWrites.set(kind, (this.kindWrites.get(kind) ?? 0) + 1); }

  /** Drops every cached read (a rollback, a bulk delete): what the database holds is read again. */
  private forget(): void {
    this.rows.clear();
    this.childrenCache.clear();
  }

  countUnder(prefix: string): number {
    return (this.stmts.countUnder.get(prefix + '/', prefix + '0') as { n: number }).n;
  }

  getMeta(key: string): string | undefined {
    return (this.stmts.getMeta.get(key) as { value: string } | undefined)?.value;
  }

  onChange(listener: (c: Change) => void): () => void {
    return this.listeners.add(listener);
  }

  close(): void {
    this.checkpoints?.close();
    this.db.close();
  }
}
