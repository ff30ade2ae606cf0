// google.longrunning.Operations methods: get, list, delete, cancel and wait.
import { queryInt, queryString, type MethodSpec } from '../server/api.js';
import type { ApiContext } from './context.js';
import { errors } from './errors.js';
import { evaluate, parseFilter } from './filter.js';
import { OPERATION_KIND, type Operation } from './operations.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, pageSize, queryHash } from './paging.js';
import { checkLocation } from './locations.js';
import { notFound, opReply } from './standard-methods.js';
import { parseDurationMs } from './time.js';

export function operationMethods(ctx: ApiContext) {
  /** The operation `name`, after its location is checked; NOT_FOUND like any resource. */
  const find = (name: string): string => {
    checkLocation(ctx, name);
    const row = ctx.store.get(name);
    if (!row || row.kind !== OPERATION_KIND) throw notFound(ctx, 'Operation', name);
    return name;
  };
  return {
    get: { handler: req => opReply(ctx, ctx.ops.get(find(req.params.name))) } satisfies MethodSpec,
    list: {
      query: ['filter', 'pageSize', 'pageToken', 'returnPartialSuccess'],
      handler: req => {
        const parent = req.params.name;
        // `locations/-`: the operations of every location (AIP-159), as for the resources' own lists.
        const [, project, , location] = parent.split('/');
        if (project === '-') throw errors.invalidArgument('The request was invalid: given collection pattern is not supported for list: a project cannot be the wildcard "-".', 'name');
        checkLocation(ctx, parent, { wildcard: true });
        const filter = queryString(req, 'filter');
        const ast = parseFilter(ctx.schema, 'Operation', filter);
        const hash = queryHash(OPERATION_KIND, parent, filter);
        const res = ctx.store.list({
          kind: OPERATION_KIND, scope: location === '-' ? { grandparent: `projects/${project}` } : { parent }, order: [],
          predicate: ast ? (r => evaluate(ast, r, ctx.schema)) : undefined,
          after: decodePageToken(queryString(req, 'pageToken'), hash),
          limit: pageSize(queryInt(req, 'pageSize')), maxBytes: PAGE_MAX_BYTES,
        });
        const body: Record<string, unknown> = {};
        if (res.rows.length) body.operations = res.rows;
        if (res.more && res.last) body.nextPageToken = encodePageToken(hash, res.last);
        return { body, message: 'ListOperationsResponse', schema: ctx.schema };
      },
    } satisfies MethodSpec,
    delete: { handler: req => { ctx.ops.delete(find(req.params.name)); return { body: {} }; } } satisfies MethodSpec,
    cancel: {
      handler: req => {
        ctx.schema.decode('CancelOperationRequest', req.body ?? {});
        ctx.ops.cancel(find(req.params.name));
        return { body: {} };
      },
    } satisfies MethodSpec,
    wait: {
      query: ['timeout'],
      handler: async req => {
        const raw = queryString(req, 'timeout') ?? (req.body as { timeout?: string } | undefined)?.timeout;
        const timeoutMs = raw === undefined ? 60_000 : parseDurationMs(raw);
        if (timeoutMs === undefined || timeoutMs < 0) throw errors.invalidArgument(`Invalid value at 'timeout' (type.googleapis.com/google.protobuf.Duration), "${raw}"`, 'timeout');
        return opReply(ctx, await waitFor(ctx, find(req.params.name), timeoutMs));
      },
    } satisfies MethodSpec,
  };
}

/** Resolves when the operation is done or the (wall-clock) timeout passes, whichever is first. */
function waitFor(ctx: ApiContext, name: string, timeoutMs: number): Promise<Operation> {
  const first = ctx.ops.get(name);
  if (first.done) return Promise.resolve(first);
  return new Promise(resolve => {
    const timer = setTimeout(() => { stop(); resolve(ctx.ops.get(name)); }, timeoutMs);
    const stop = ctx.store.onChange(c => {
      if (c.name !== name) return;
      const op = ctx.store.getParsed<Operation>(name);
      if (op?.done) { clearTimeout(timer); stop(); resolve(op); }
    });
  });
}
