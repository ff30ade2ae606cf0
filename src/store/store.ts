// The Store interface every backend implements (SQLite today; PostgreSQL can satisfy it later).
// Resources are JSON documents keyed by full name; the API layer owns their shape.

/** A stored resource with everything the store keeps of it (snapshots). */
export interface StoredRow { name: string; kind: string; parent: string; createTime: string; active: boolean; data: string }

export interface Row {
  name: string;
  kind: string;
  parent: string;
  /** The resource as its API serialises it (proto3 JSON, enum names). */
  data: string;
  createTime: string;
}

export interface Change {
  kind: string;
  name: string;
  op: 'put' | 'delete';
  /** A put's active flag, when the writer is this instance (what a listener may skip reading the row for). */
  active?: boolean;
  /** Made by another instance sharing the store (heard through its change feed), not by this one. */
  remote?: true;
}

/**
 * Where a list reads from: one parent; every parent of one grandparent (`…/releases/-` is every rollout of a
 * pipeline); or every parent under a prefix (other wildcards), optionally only those matching an SQLite GLOB
 * pattern (`projects/p/locations/<*>/deliveryPipelines/d/releases/<*>` with `*` for `<*>`; callers escape literal `*?[`).
 */
export type Scope = { parent: string } | { grandparent: string } | { parentPrefix: string; parentGlob?: string };

export interface SortKey { path: string[]; desc: boolean }

export interface ListQuery {
  kind: string;
  scope: Scope;
  /** Sort keys; the resource name is always the final tie-breaker. */
  order: SortKey[];
  /** Exact equalities that every match satisfies (pushed down to SQL to narrow the scan). */
  equalities?: { path: string[]; value: string | number | boolean }[];
  /** The full filter, evaluated on each candidate. */
  predicate?: (resource: Record<string, unknown>) => boolean;
  /** Sort-key values (then name) of the last row of the previous page. */
  after?: unknown[];
  limit: number;
  /**
   * Any matching rows, in whatever order the store reaches them fastest, with `order` empty and no `after`: for an
   * existence check or a set acted on whole, which an index on the equalities serves without sorting its matches.
   */
  unordered?: boolean;
  /**
   * Ends the page early, before the row that would take the rows' JSON past this many bytes (a page always holds
   * at least one row), so a page of large resources stays bounded; `more` and `last` continue after it.
   */
  maxBytes?: number;
}

export interface ListResult { rows: Record<string, unknown>[]; last?: unknown[]; more: boolean }

export interface Writer {
  /** `data`, when given, is `resource` as JSON already (stampEtag's), so it is not serialised again. */
  put(kind: string, name: string, parent: string, resource: object, createTime: string, active: boolean, data?: string): void;
  delete(name: string): void;
  /** Deletes every resource whose name starts with `prefix` + '/'. Returns how many. */
  deleteUnder(prefix: string): number;
  /** Deletes every resource (a reset of all state); returns how many. */
  deleteAll(): number;
  /** Stores a row exactly as a snapshot holds it (its creation time and activity included). */
  restore(row: StoredRow): void;
  setMeta(key: string, value: string): void;
}

export interface Store {
  get(name: string): Row | undefined;
  getParsed<T = Record<string, unknown>>(name: string): T | undefined;
  /**
   * The same, parsed once per stored version and shared: deeply frozen, for readers that only look (a release's
   * snapshots read on every rollout step). Writers take `getParsed`'s private copy.
   */
  getFrozen<T = Record<string, unknown>>(name: string): Readonly<T> | undefined;
  /** Runs `fn` in one transaction; changes reach subscribers after commit. */
  tx<T>(fn: (w: Writer) => T): T;
  /**
   * Inside a transaction, a unit whose failure undoes only its own writes (a savepoint); outside one, a
   * transaction. What `fn` returns is handed back as is, a promise of work it left running included.
   */
  savepoint<T>(fn: (w: Writer) => T): T;
  /**
   * Runs `fn` once the open transaction has committed (at once outside one); never if the transaction, or the
   * savepoint it was added in, rolls back.
   */
  afterCommit(fn: () => void): void;
  list(q: ListQuery): ListResult;
  /** Names of resources of a kind flagged active (unfinished work), for controllers on start-up. */
  activeNames(kind: string): string[];
  children(kind: string, parent: string): Record<string, unknown>[];
  countUnder(prefix: string): number;
  getMeta(key: string): string | undefined;
  /** Subscribes to committed changes; returns the unsubscribe function. */
  /** Every stored row whose name starts with `prefix` (`''`: all), for snapshots. */
  dump(prefix: string): Iterable<StoredRow>;
  /** Meta entries whose key starts with `prefix`. */
  metaEntries(prefix: string): [string, string][];
  /** The project ids resources are stored under (`projects/{id}/…`), sorted, at most `limit`. */
  projects(limit: number): string[];
  onChange(listener: (c: Change) => void): () => void;
  /**
   * On a store other processes write too: runs `fn` (a request's reads) once everything committed before the call is
   * visible to its reads here (at once, when nobody else can have written). A store only this process writes has no such
   * step, and leaves it undefined.
   */
  readFresh?<T>(fn: () => T): T | Promise<T>;
  /**
   * Runs a write request's handler (`fn`: the reads it decides by and the writes it makes) in one transaction under the
   * writers' lock, its own transactions nested as savepoints, on a store other instances write too: a read-modify-write
   * must not read outside the lock what another instance changes before the write. A store only this process writes
   * has no such step (one handler runs at a time), and leaves it undefined.
   */
  exclusive?<T>(fn: () => T): T;
  /** On a shared store: whether this instance is alone on it now, its reads trusting its cache (pg-sole-writer.ts). */
  soleWriter?(): boolean;
  close(): void;
}
