// google.longrunning.Operations methods: get, list, delete, cancel and wait.
import { queryInt, queryString, type MethodSpec } from '../server/api.js';
import type { ApiContext } from './context.js';
import { errors } from './errors.js';
import { evaluate, parseFilter } from './filter.js';
import { OPERATION_KIND } from './operations.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, pageSize, queryHash } from './paging.js';
import { checkLocation } from './locations.js';
import { notFound, opReply } from './standard-methods.js';
import { parseDurationMs } from './time.js';
import { waitForResource } from '../store/wait.js';

/**
 * APIs that share the operations routes of one version on one port (Cloud Deploy, App Hosting and Developer Connect
 * under /v1), by the first label of the host name a client addresses them with and the proto package of the
 * operations they make.
 */
const PACKAGES: Record<string, string> = {
  clouddeploy: 'google.cloud.deploy.', firebaseapphosting: 'google.firebase.apphosting.', developerconnect: 'google.cloud.developerconnect.',
};

/**
 * The operations a request may see: every API's on a plain host (`127.0.0.1`); only its own API's when the client
 * names the API in the host (`firebaseapphosting.localhost`, the proxy set-up).
 */
export function operationFilter(host: string | string[] | undefined): ((op: Record<string, unknown>) => boolean) | undefined {
  const label = typeof host === 'string' ? host.split('.')[0].toLowerCase() : '';
  const pkg = PACKAGES[label];
  if (!pkg || !host!.includes('.')) return undefined;
  const prefix = `type.googleapis.com/${pkg}`;
  return op => String((op.metadata as Record<string, unknown> | undefined)?.['@type'] ?? '').startsWith(prefix);
}

export function operationMethods(ctx: ApiContext) {
  /** The operation `name`, after its location is checked; NOT_FOUND like any resource (and for another API's host). */
  const find = (name: string, host?: string | string[]): string => {
    checkLocation(ctx, name);
    const row = ctx.store.get(name);
    if (!row || row.kind !== OPERATION_KIND) throw notFound(ctx, 'Operation', name);
    const mine = operationFilter(host);
    if (mine && !mine(JSON.parse(row.data) as Record<string, unknown>)) throw notFound(ctx, 'Operation', name);
    return name;
  };
  return {
    get: { handler: req => opReply(ctx, ctx.ops.get(find(req.params.name, req.headers.host))) } satisfies MethodSpec,
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
        const mine = operationFilter(req.headers.host);
        const hash = queryHash(OPERATION_KIND, parent, filter, mine ? String(req.headers.host).split('.')[0] : '');
        const res = ctx.store.list({
          kind: OPERATION_KIND, scope: location === '-' ? { grandparent: `projects/${project}` } : { parent }, order: [],
          predicate: ast || mine ? (r => (!mine || mine(r)) && (!ast || evaluate(ast, r, ctx.schema))) : undefined,
          after: decodePageToken(queryString(req, 'pageToken'), hash),
          limit: pageSize(queryInt(req, 'pageSize')), maxBytes: PAGE_MAX_BYTES,
        });
        const body: Record<string, unknown> = {};
        if (res.rows.length) body.operations = res.rows;
        if (res.more && res.last) body.nextPageToken = encodePageToken(hash, res.last);
        return { body, message: 'ListOperationsResponse', schema: ctx.schema };
      },
    } satisfies MethodSpec,
    delete: { handler: req => { ctx.ops.delete(find(req.params.name, req.headers.host)); return { body: {} }; } } satisfies MethodSpec,
    cancel: {
      handler: req => {
        ctx.schema.decode('CancelOperationRequest', req.body ?? {});
        ctx.ops.cancel(find(req.params.name, req.headers.host));
        return { body: {} };
      },
    } satisfies MethodSpec,
    wait: {
      query: ['timeout'],
      readsOnly: true,
      handler: async req => {
        const raw = queryString(req, 'timeout') ?? (req.body as { timeout?: string } | undefined)?.timeout;
        const timeoutMs = raw === undefined ? 60_000 : parseDurationMs(raw);
        if (timeoutMs === undefined || timeoutMs < 0) throw errors.invalidArgument(`Invalid value at 'timeout' (type.googleapis.com/google.protobuf.Duration), "${raw}"`, 'timeout');
        const name = find(req.params.name, req.headers.host);
        return opReply(ctx, await waitForResource(ctx.store, name, () => ctx.ops.get(name), op => op.done === true, timeoutMs, req.signal));
      },
    } satisfies MethodSpec,
  };
}
