// AIP standard methods (Get, List, Create, Update, Delete) for any resource kind, driven by a
// per-kind strategy (validation, defaults, what a client may set), as Kubernetes' generic storage.
import { queryBool, queryInt, queryString, type ApiReply, type ApiRequest, type MethodSpec } from '../server/api.js';
import type { Scope, Writer } from '../store/store.js';
import type { ApiContext } from './context.js';
import { ApiError, errors, OperationFailure, resourceTypeOf } from './errors.js';
import { applyMask } from './fieldmask.js';
import { evaluate, parseFilter, type FilterNode } from './filter.js';
import { etagOf, isUuid, newUid, RESOURCE_ID } from './ids.js';
import { checkLocation, locationsOf } from './locations.js';
import type { Operation } from './operations.js';
import { parseOrderBy } from './order.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, pageSize, queryHash } from './paging.js';
import { toSnake } from './schema.js';

export type Resource = Record<string, unknown>;

export interface WriteContext {
  name: string;
  parent: string;
  existing?: Resource;
  req: ApiRequest;
}

export interface KindStrategy {
  /** Store kind, e.g. 'deliveryPipeline'. */
  kind: string;
  /** Schema message, e.g. 'DeliveryPipeline'. */
  message: string;
  /** Collection id in names, e.g. 'deliveryPipelines'. */
  collection: string;
  /** Create's id query parameter, e.g. 'deliveryPipelineId'. */
  idParam: string;
  /** The request field holding the resource, e.g. 'deliveryPipeline'. */
  bodyField: string;
  /** Output-only field echoing the id, e.g. Target.targetId. */
  idField?: string;
  /** Semantic checks beyond the schema; throws INVALID_ARGUMENT / FAILED_PRECONDITION. */
  validate?(r: Resource, ctx: WriteContext): void;
  /** Fills server-owned fields (conditions, snapshots) before the write. */
  prepare?(r: Resource, ctx: WriteContext, w: Writer): void;
  /** Whether controllers still have work on it (flagged for resume after restart). */
  active?(r: Resource): boolean;
  /** Checks and cascades for delete; `force` is DeleteDeliveryPipeline's. */
  beforeDelete?(name: string, r: Resource, req: ApiRequest, w: Writer): void;
  /** Whether the parent must exist as a stored resource (false when the parent is a location). */
  parentKind?: string;
  /** Extra query parameters of create/update/delete. */
  extraQuery?: { create?: string[]; update?: string[]; delete?: string[]; list?: string[] };
  /** The only fields a list may be ordered by, when the API restricts them. */
  orderFields?: string[];
  /** The rule for client-chosen ids, when not AIP-122's (`checkId`). */
  idRule?(id: string): void;
  /** Completes the create LRO later (e.g. after work) instead of at once. */
  deferCreateOperation?: boolean;
  /**
   * What clients see of a stored resource (get, list, operation responses): drops server bookkeeping (the hidden
   * `gantry` field) and fields another version of the API does not have. Absent: the stored JSON as it is.
   */
  view?(r: Resource): Resource;
  /** Delete marks the resource (`deleteTime`) instead of removing it; lists show it only with `showDeleted`. */
  softDelete?: boolean;
  /** Makes an id when the create request names none (an optional id parameter, e.g. App Hosting's `rolloutId`). */
  newId?(): string;
  /** Told the operation a write made, in the same transaction (a deferred create's controller completes it later). */
  onOperation?(r: Resource, op: Operation, w: Writer): void;
}

/**
 * Largest resource a client may write. Google documents none for Cloud Deploy; annotations alone may take 256 KiB
 * (AIP-128), and a release copies its pipeline and targets, so a bound here bounds what one request can make.
 */
export const MAX_RESOURCE_BYTES = 512 * 1024;

function checkResourceSize(s: KindStrategy, input: Resource): void {
  const size = Buffer.byteLength(JSON.stringify(input));
  if (size > MAX_RESOURCE_BYTES) {
    throw errors.invalidArgument(`The ${s.message} is ${size} bytes; a ${s.message} may be at most ${MAX_RESOURCE_BYTES} bytes.`, toSnake(s.bodyField));
  }
}

export function resourceType(ctx: ApiContext, s: KindStrategy): string {
  return resourceTypeOf(ctx.svc.serviceName, s.message);
}

/**
 * The one NOT_FOUND of every API: `Resource '<name>' was not found`, with a ResourceInfo whose `resourceType` is the
 * AIP-123 type (`clouddeploy.googleapis.com/DeliveryPipeline`). `s` is a strategy, a message or store kind
 * (`Release`, `deliveryPipeline`) or a full type (`clouddeploy.googleapis.com/Release`).
 */
export function notFound(ctx: ApiContext, s: KindStrategy | string, name: string): ApiError {
  return errors.notFound(resourceTypeOf(ctx.svc.serviceName, typeof s === 'string' ? s : s.message), name);
}

/** Stamps etag over the content (server bookkeeping in `gantry` aside), so equal content has equal etags. */
export function withEtag(r: Resource): Resource {
  stampContent(r);
  return r;
}

/**
 * `withEtag`, answering the resource's stored JSON as well: the content is serialised once, for its etag and for the
 * store (the etag, then the bookkeeping, follow the content's fields). Give it to `Writer.put` as `data`.
 */
export function stampEtag(r: Resource): string {
  const json = stampContent(r);
  const book = r.gantry;
  return `${json.slice(0, -1)}${json.length > 2 ? ',' : ''}"etag":"${String(r.etag)}"${book !== undefined ? `,"gantry":${JSON.stringify(book)}` : ''}}`;
}

/** Sets the etag over the content and answers the content's JSON (etag and bookkeeping left out). */
function stampContent(r: Resource): string {
  delete r.etag;
  let json: string;
  if (r.gantry === undefined) json = JSON.stringify(r);
  else {
    const { gantry: _, ...content } = r;
    json = JSON.stringify(content);
  }
  r.etag = etagOf(json);
  return json;
}

/**
 * A stored row's JSON as UTF-8, made on its first GET and kept while the store keeps the row (its cache holds the
 * object): a re-read resource is sent without being measured and encoded again.
 */
const encodedRows = new WeakMap<object, Buffer>();
function encodedRow(row: { data: string }): Buffer {
  let b = encodedRows.get(row);
  if (!b) encodedRows.set(row, b = Buffer.from(row.data));
  return b;
}

export class StandardMethods {
  constructor(private ctx: ApiContext) {}

  get(s: KindStrategy): MethodSpec {
    return {
      handler: req => {
        checkLocation(this.ctx, req.params.name);
        const row = this.ctx.store.get(req.params.name);
        if (!row || row.kind !== s.kind) throw notFound(this.ctx, s, req.params.name);
        if (s.view) return { body: s.view(JSON.parse(row.data) as Resource), message: s.message, schema: this.ctx.schema };
        return { body: row.data, raw: true, encoded: encodedRow(row), message: s.message, schema: this.ctx.schema };
      },
    };
  }

  /**
   * AIP-132 List. The parent may hold the `-` wildcard in place of any id but the project's (AIP-159): `locations/-`
   * lists across every location this server offers, `deliveryPipelines/-/releases` across every pipeline, and so on;
   * results carry their full names, and filter, orderBy and page tokens apply to the union. `projects/-` is
   * INVALID_ARGUMENT. (`opts` is kept for callers; every list takes wildcards.)
   */
  list(s: KindStrategy, _opts: { wildcardParent?: boolean } = {}): MethodSpec {
    return {
      query: ['pageSize', 'pageToken', 'filter', 'orderBy', ...(s.softDelete ? ['showDeleted'] : []), ...(s.extraQuery?.list ?? [])],
      handler: req => {
        const parent = req.params.parent;
        const { scope, match } = this.listScope(s, parent);
        const filter = queryString(req, 'filter');
        const orderBy = queryString(req, 'orderBy');
        const ast = parseFilter(this.ctx.schema, s.message, filter);
        const order = parseOrderBy(this.ctx.schema, s.message, orderBy);
        const off = s.orderFields && order.find(k => !s.orderFields!.includes(k.path.join('.')));
        if (off) throw errors.invalidArgument(`Invalid order_by: "${off.path.join('.')}" cannot be ordered on; use ${s.orderFields!.join(' or ')}, optionally with " desc"`, 'order_by');
        const hideDeleted = s.softDelete && !queryBool(req, 'showDeleted');
        const hash = queryHash(s.kind, parent, filter, orderBy, hideDeleted ? '' : 'showDeleted');
        const predicate = !ast && !match && !hideDeleted ? undefined
          : (r: Resource) => (!hideDeleted || r.deleteTime === undefined) && (!match || match(r)) && (!ast || evaluate(ast, r, this.ctx.schema));
        const res = this.ctx.store.list({
          kind: s.kind, scope, order,
          equalities: ast ? equalities(ast) : undefined,
          predicate,
          after: decodePageToken(queryString(req, 'pageToken'), hash),
          limit: pageSize(queryInt(req, 'pageSize')), maxBytes: PAGE_MAX_BYTES,
        });
        const body: Record<string, unknown> = {};
        if (res.rows.length) body[s.collection] = s.view ? res.rows.map(r => s.view!(r)) : res.rows;
        if (res.more && res.last) body.nextPageToken = encodePageToken(hash, res.last);
        return { body, message: listMessage(s), schema: this.ctx.schema };
      },
    };
  }

  /**
   * Where a list reads: its parent; or, with `-` ids, every parent of one grandparent (`…/releases/-`: an index walk)
   * or every parent under the prefix before the first `-`, narrowed by a pattern in SQL and checked exactly here.
   */
  private listScope(s: KindStrategy, parent: string): { scope: Scope; match?: (r: Resource) => boolean } {
    const segs = parent.split('/');
    // projects/{p}/locations/{l}/{collection}/{id}/…: ids sit at odd positions.
    const wild = segs.map((x, i) => i % 2 === 1 && x === '-');
    if (wild[1]) {
      throw errors.invalidArgument('The request was invalid: given collection pattern is not supported for list: a project cannot be the wildcard "-".', 'parent');
    }
    checkLocation(this.ctx, parent, { wildcard: true });
    const first = wild.indexOf(true);
    if (first < 0) {
      if (s.parentKind) this.requireParent(s, parent);
      return { scope: { parent } };
    }
    const locations = locationsOf(this.ctx);
    // Resources of a location this server no longer offers (the operator narrowed the list) are not listed.
    const inServedLocation = wild[3] ? (r: Resource) => locations.has(String(r.name).split('/')[3]) : undefined;
    if (first === segs.length - 1) return { scope: { grandparent: segs.slice(0, -2).join('/') }, match: inServedLocation };
    const depth = segs.length;
    const match = (r: Resource) => {
      const name = String(r.name).split('/');
      return segs.every((x, i) => wild[i] || name[i] === x) && name.length === depth + 2 && (!inServedLocation || inServedLocation(r));
    };
    return {
      scope: { parentPrefix: segs.slice(0, first).join('/') + '/', parentGlob: segs.map((x, i) => (wild[i] ? '*' : globLiteral(x))).join('/') },
      match,
    };
  }

  create(s: KindStrategy): MethodSpec {
    return {
      query: [s.idParam, 'requestId', 'validateOnly', ...(s.extraQuery?.create ?? [])],
      handler: req => {
        const parent = req.params.parent;
        checkLocation(this.ctx, parent);
        const id = queryString(req, s.idParam) || s.newId?.() || '';
        if (s.idRule) s.idRule(id); else checkId(id, s.idParam);
        const body = this.ctx.schema.decode(s.message, req.body ?? {}, toSnake(s.bodyField));
        return this.write(req, s, 'create', `${parent}/${s.collection}/${id}`, parent, body, undefined);
      },
    };
  }

  update(s: KindStrategy): MethodSpec {
    return {
      query: ['updateMask', 'requestId', 'allowMissing', 'validateOnly', ...(s.extraQuery?.update ?? [])],
      handler: req => {
        const name = req.params[`${s.bodyField}.name`];
        checkLocation(this.ctx, name);
        const { parent, id } = splitName(name, s.collection);
        if (s.idRule) s.idRule(id); else checkId(id, 'name');
        const patch = this.ctx.schema.decode(s.message, req.body ?? {}, toSnake(s.bodyField));
        const row = this.ctx.store.get(name);
        const existing = row && row.kind === s.kind ? (JSON.parse(row.data) as Resource) : undefined;
        if (!existing) {
          if (!queryBool(req, 'allowMissing')) throw notFound(this.ctx, s, name);
          return this.write(req, s, 'create', name, parent, patch, undefined);
        }
        if (patch.etag !== undefined && patch.etag !== existing.etag) throw etagMismatch(name);
        const merged = applyMask(this.ctx.schema, s.message, existing, patch, queryString(req, 'updateMask'));
        return this.write(req, s, 'update', name, parent, merged, existing);
      },
    };
  }

  delete(s: KindStrategy): MethodSpec {
    return {
      query: ['requestId', 'allowMissing', 'validateOnly', 'etag', ...(s.extraQuery?.delete ?? [])],
      handler: req => {
        const name = req.params.name;
        checkLocation(this.ctx, name);
        const location = locationOf(name);
        const replay = this.replay(req, 'delete', name);
        if (replay) return replay;
        const row = this.ctx.store.get(name);
        const existing = row && row.kind === s.kind ? (JSON.parse(row.data) as Resource) : undefined;
        const etag = queryString(req, 'etag');
        if (!existing) {
          if (!queryBool(req, 'allowMissing')) throw notFound(this.ctx, s, name);
        } else if (etag && etag !== existing.etag) {
          throw etagMismatch(name);
        }
        const validateOnly = queryBool(req, 'validateOnly');
        if (s.softDelete && existing?.deleteTime !== undefined) throw notFound(this.ctx, s, name);
        const empty = { type: 'google.protobuf.Empty', value: {} };
        try {
          const op = this.ctx.store.tx(w => {
            if (existing) s.beforeDelete?.(name, existing, req, w);
            // validateOnly runs every check and cascade, then rolls the transaction back.
            if (validateOnly) throw new Rollback();
            let response = empty;
            if (existing && s.softDelete) {
              const now = this.ctx.clock.timestamp();
              const marked = withEtag(sortKeys({ ...existing, deleteTime: now, ...(this.ctx.schema.fields(s.message).updateTime ? { updateTime: now } : {}) }));
              w.put(s.kind, name, splitName(name, s.collection).parent, marked, String(marked.createTime), s.active?.(marked) ?? false);
              response = { type: `${this.ctx.svc.protoPackage}.${s.message}`, value: s.view ? s.view(marked) : marked };
            } else if (existing) { w.delete(name); w.deleteUnder(name); }
            const op = this.ctx.ops.create(w, this.ctx.svc, location, name, 'delete', { response });
            this.rememberRequest(req, 'delete', name, op, w);
            return op;
          });
          return opReply(this.ctx, op);
        } catch (e) {
          if (e instanceof Rollback) return opReply(this.ctx, this.validateOnlyOp(name, 'delete', empty));
          throw e;
        }
      },
    };
  }

  private write(req: ApiRequest, s: KindStrategy, verb: 'create' | 'update', name: string, parent: string,
    input: Resource, existing: Resource | undefined): ApiReply {
    const replay = this.replay(req, verb, name);
    if (replay) return replay;
    const validateOnly = queryBool(req, 'validateOnly');
    try {
      return this.writeNow(req, s, verb, name, parent, input, existing, validateOnly);
    } catch (e) {
      if (!(e instanceof OperationFailure)) throw e;
      // Nothing is written; the operation answered is already done, with the refusal as its error.
      if (validateOnly) {
        const { name: opName, metadata } = this.validateOnlyOp(name, verb, { type: '', value: {} });
        return opReply(this.ctx, { name: opName, metadata, done: true, error: e.toStatus() });
      }
      return opReply(this.ctx, this.ctx.store.tx(w => {
        const op = this.ctx.ops.create(w, this.ctx.svc, locationOf(name), name, verb, { error: e });
        this.rememberRequest(req, verb, name, op, w);
        return op;
      }));
    }
  }

  private writeNow(req: ApiRequest, s: KindStrategy, verb: 'create' | 'update', name: string, parent: string,
    input: Resource, existing: Resource | undefined, validateOnly: boolean): ApiReply {
    const op = this.ctx.store.tx(w => {
      const out = this.insert(w, s, name, parent, input, existing, req, validateOnly);
      if (validateOnly) return { out, op: undefined };
      const op = this.ctx.ops.create(w, this.ctx.svc, locationOf(name), name, verb,
        s.deferCreateOperation && verb === 'create' ? undefined : { response: { type: `${this.ctx.svc.protoPackage}.${s.message}`, value: s.view ? s.view(out) : out } });
      s.onOperation?.(out, op, w);
      this.rememberRequest(req, verb, name, op, w);
      return { out, op };
    });
    return opReply(this.ctx, op.op ?? this.validateOnlyOp(name, verb, { type: `${this.ctx.svc.protoPackage}.${s.message}`, value: s.view ? s.view(op.out) : op.out }));
  }

  /**
   * Builds, validates and (unless `dryRun`) stores a resource through its strategy: server fields,
   * `validate`, `prepare`, etag. Used by create/update and by verbs that create resources.
   */
  insert(w: Writer, s: KindStrategy, name: string, parent: string, input: Resource, existing: Resource | undefined,
    req: ApiRequest, dryRun = false): Resource {
    if (s.parentKind) this.requireParent(s, parent);
    checkResourceSize(s, input);
    const now = this.ctx.clock.timestamp();
    const r: Resource = { ...input, name };
    // Only the server fields this kind has: Release and Rollout, for one, have no updateTime.
    const has = this.ctx.schema.fields(s.message);
    if (existing) {
      for (const k of ['uid', 'createTime'] as const) if (existing[k] !== undefined) r[k] = existing[k];
      if (s.idField) r[s.idField] = existing[s.idField];
    } else {
      if (has.uid) r.uid = newUid();
      r.createTime = now;
      if (s.idField) r[s.idField] = name.slice(name.lastIndexOf('/') + 1);
    }
    if (has.updateTime) r.updateTime = now;
    const wctx: WriteContext = { name, parent, existing, req };
    s.validate?.(r, wctx);
    if (!existing && this.ctx.store.get(name)) throw errors.alreadyExists(resourceType(this.ctx, s), name);
    s.prepare?.(r, wctx, w);
    const out = sortKeys(r);
    const data = stampEtag(out);
    // An update that changes nothing is no change: the stored resource, its updateTime and etag stay (re-applying an
    // unchanged `gcloud deploy apply` file must not make a release's snapshot look stale).
    if (existing && unchanged(out, existing)) return existing;
    if (!dryRun) w.put(s.kind, name, parent, out, String(out.createTime), s.active?.(out) ?? false, data);
    return out;
  }

  /** A done operation that was never stored, for validateOnly requests. */
  validateOnlyOp(target: string, verb: string, response: { type: string; value: object }): Operation {
    const now = this.ctx.clock.timestamp();
    return {
      name: this.ctx.ops.newName(locationOf(target)),
      metadata: { '@type': `type.googleapis.com/${this.ctx.svc.protoPackage}.OperationMetadata`, createTime: now, endTime: now, target, verb, apiVersion: this.ctx.svc.apiVersion },
      done: true,
      response: { '@type': `type.googleapis.com/${response.type}`, ...response.value },
    };
  }

  /** The operation first answered for this `requestId` (checked to be a UUID) of (verb, name), if any. */
  replay(req: ApiRequest, verb: string, name: string): ApiReply | undefined {
    const requestId = queryString(req, 'requestId');
    if (!requestId) return undefined;
    if (!isUuid(requestId)) throw errors.invalidArgument(`request_id must be a valid UUID, got "${requestId}"`, 'request_id');
    const op = this.ctx.ops.replayed(`${verb}:${name}:${requestId}`);
    return op ? opReply(this.ctx, op) : undefined;
  }

  rememberRequest(req: ApiRequest, verb: string, name: string, op: Operation, w: Writer): void {
    const requestId = queryString(req, 'requestId');
    if (requestId) this.ctx.ops.remember(w, `${verb}:${name}:${requestId}`, op);
  }

  /** Throws NOT_FOUND unless the parent exists (its row is only looked at, never parsed: a release is large). */
  requireParent(s: KindStrategy, parent: string): void {
    const row = this.ctx.store.get(parent);
    if (!row || row.kind !== s.parentKind) throw notFound(this.ctx, s.parentKind!, parent);
  }
}

class Rollback extends Error {}

export function opReply(ctx: ApiContext, op: Operation): ApiReply {
  return { body: op, message: 'Operation', schema: ctx.schema };
}

export function listMessage(s: KindStrategy): string { return `List${s.collection[0].toUpperCase()}${s.collection.slice(1)}Response`; }

export function locationOf(name: string): string {
  const parts = name.split('/');
  return parts.slice(0, 4).join('/');
}

export function splitName(name: string, collection: string): { parent: string; id: string } {
  const i = name.lastIndexOf(`/${collection}/`);
  return { parent: name.slice(0, i), id: name.slice(i + collection.length + 2) };
}

export function checkId(id: string, param: string): void {
  if (!id) throw errors.invalidArgument(`${toSnake(param)} is required`, toSnake(param));
  if (!RESOURCE_ID.test(id)) {
    throw errors.invalidArgument(`${toSnake(param)} "${id}" is invalid: it must match ${RESOURCE_ID.source} (1-63 characters, lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen)`, toSnake(param));
  }
}

/** Equal but for the stamps a write puts on (`updateTime` at any depth, such as conditions', and the etag over them). */
function unchanged(next: Resource, existing: Resource): boolean {
  const stampless = (_k: string, v: unknown) => (v && typeof v === 'object' && !Array.isArray(v)
    ? Object.fromEntries(Object.entries(v as Record<string, unknown>).filter(([k]) => k !== 'updateTime' && k !== 'etag').sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
    : v);
  return JSON.stringify(next, stampless) === JSON.stringify(existing, stampless);
}

export function etagMismatch(name: string): ApiError {
  return errors.aborted(`The etag for resource '${name}' does not match: the resource was modified concurrently. Read it again and retry.`, 'ETAG_MISMATCH');
}

/** Top-level AND-ed equalities on scalar fields, safe to push down to SQL. */
function equalities(ast: FilterNode): { path: string[]; value: string | number | boolean }[] {
  const items = ast.kind === 'and' ? ast.items : [ast];
  const out: { path: string[]; value: string | number | boolean }[] = [];
  for (const n of items) {
    if (n.kind !== 'cmp' || n.op !== '=' || !n.field || n.field.repeated || n.value.includes('*')) continue;
    if (n.path.length !== 1) continue;
    if (n.field.type === 'enum' && !/^\d+$/.test(n.value)) out.push({ path: n.path, value: n.value });
    else if (n.field.type === 'string' && n.value !== '' && !/Time$/.test(n.path[n.path.length - 1])) out.push({ path: n.path, value: n.value });
  }
  return out;
}

/** A literal segment in an SQLite GLOB pattern: `*`, `?` and `[` stand for themselves. */
function globLiteral(s: string): string {
  return s.replace(/[*?[]/g, c => `[${c}]`);
}

/** Stable key order so etags and output do not depend on how a client ordered its JSON. */
function sortKeys(r: Resource): Resource {
  const out: Resource = {};
  for (const k of Object.keys(r).sort()) out[k] = r[k];
  return out;
}
