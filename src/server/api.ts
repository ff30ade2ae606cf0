// What a route handler sees and returns. Handlers validate, write in one transaction and answer;
// they never wait for work to happen.
import type { ApiSchema } from '../google/schema.js';
import { errors } from '../google/errors.js';
import type { Params } from './router.js';

export type Query = Record<string, string | string[] | undefined>;

export interface ApiRequest {
  method: string;
  path: string;
  params: Params;
  query: Query;
  /** The parsed JSON body (undefined when none was sent). */
  body: unknown;
  headers: Record<string, string | string[] | undefined>;
  /** `$alt=json;enum-encoding=int`: answer enums as numbers. */
  enumInts: boolean;
  /** Aborted when the caller is gone (a gRPC call cancelled or past its deadline): work that waits stops. */
  signal?: AbortSignal;
}

export interface ApiReply {
  status?: number;
  /** A JS value to serialise, or a ready JSON string (the fast path for stored resources). */
  body: unknown;
  raw?: boolean;
  /** `body`'s JSON already encoded as UTF-8 (a stored resource's, kept with its row), sent unless enums become ints. */
  encoded?: Buffer;
  /** Bytes sent as they are (downloads), with this content type. */
  bytes?: { data: Buffer; contentType: string };
  /**
   * A response that stays open (server-sent events): called with the response once its headers are sent; it writes
   * and ends it when it is done.
   */
  stream?: (res: import('node:http').ServerResponse) => void;
  /** Extra response headers (e.g. a resumable upload's Location). */
  headers?: Record<string, string>;
  /** The schema message `body` is, so enums can be re-encoded as ints when asked. */
  message?: string;
  schema?: ApiSchema;
}

export interface MethodSpec {
  /** Query parameters the method accepts, besides Google's system parameters. */
  query?: string[];
  /** Hand the body over as bytes (uploads) instead of parsing it as JSON. */
  rawBody?: boolean;
  /**
   * A POST that only reads (`:wait`, entries:list, getIamPolicy): on a store other instances write too, it does not
   * take the writers' lock a write request's handler runs under (Store.exclusive).
   */
  readsOnly?: boolean;
  handler: (req: ApiRequest) => ApiReply | Promise<ApiReply>;
}

/** Standard query parameters every Google API accepts. */
export const SYSTEM_PARAMS = new Set([
  'alt', '$alt', 'key', 'access_token', 'oauth_token', 'prettyPrint', '$prettyPrint', 'fields', '$fields', 'quotaUser',
  'callback', '$callback', 'upload_protocol', 'uploadType', '$.xgafv', 'userIp', 'requestReason',
]);

export function queryString(req: ApiRequest, name: string): string | undefined {
  const v = req.query[name];
  if (Array.isArray(v)) {
    if (v.length > 1) throw errors.invalidArgument(`Invalid JSON payload received. Repeated values for non-repeated field '${name}'.`, name);
    return v[0];
  }
  return v;
}

export function queryList(req: ApiRequest, name: string): string[] {
  const v = req.query[name];
  return v === undefined ? [] : Array.isArray(v) ? v : [v];
}

export function queryBool(req: ApiRequest, name: string): boolean {
  const raw = queryString(req, name);
  const v = raw?.toLowerCase();
  if (v === undefined || v === '' || v === 'false' || v === '0') return false;
  if (v === 'true' || v === '1') return true;
  throw errors.invalidArgument(`Invalid value at '${snake(name)}' (TYPE_BOOL), "${raw}"`, snake(name));
}

export function queryInt(req: ApiRequest, name: string): number | undefined {
  const v = queryString(req, name);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d+$/.test(v) || Math.abs(Number(v)) > 2147483647) {
    throw errors.invalidArgument(`Invalid value at '${snake(name)}' (TYPE_INT32), "${v}"`, snake(name));
  }
  return Number(v);
}

function snake(s: string): string { return s.replace(/[A-Z]/g, c => '_' + c.toLowerCase()); }
