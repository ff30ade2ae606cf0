// Routing by Google HTTP path templates ("/v1/{name=projects/*/locations/*}/operations",
// ".../rollouts/*}:approve"), the way gRPC transcoding matches them: literal and `*` segments,
// `**` tails, variables binding one or more segments, and a trailing custom verb.
// A request no route serves is told apart: a method of a known Google API that Gantry does not serve, or a path of
// an API Gantry does not serve at all, is 501 UNIMPLEMENTED; anything else (an unknown path inside an API Gantry
// serves, a path that is no API's) is Google's 404.
import type { ApiMethods } from '../google/api-methods.js';
import { ApiError, errors } from '../google/errors.js';

export type Params = Record<string, string>;
type Seg = { lit: string } | { star: true } | { glob: true };
interface Compiled<H> { method: string; segs: Seg[]; verb: string; vars: { name: string; from: number; to: number }[]; handler: H; template: string }

export interface RouterOptions {
  /** Every method of the Google APIs whose paths this router answers, served or not (schemas/*.methods.json). */
  apis?: ApiMethods[];
}

/** Literal segments many Google APIs have, which therefore say nothing about which API a path belongs to. */
const SHARED = new Set(['projects', 'locations', 'upload', 'download', 'batch']);
/** First collections of Google resource paths (`/v2/projects/…`): a version followed by one is an API's path. */
const ROOTS = new Set(['projects', 'organizations', 'folders', 'billingAccounts', 'locations', 'operations']);
const VERSION = /^v\d+[a-z0-9]*$/;

export class Router<H> {
  private routes = new Map<string, Compiled<H>[]>();
  // Recent matches by method, then path: clients re-read the same names, and matching walks every template. (By
  // method first: a key made of both would be a new string to hash on every request.)
  private recent = new Map<string, Map<string, { handler: H; params: Params; template: string }>>();
  private recentSize = 0;
  /** Methods of known APIs, by `${method} ${verb}` like the routes; their handler is (API host, method name). */
  private known = new Map<string, Compiled<{ host: string; method: string }>[]>();
  /** Every template, served or known, as segments: the path spaces of the APIs this router answers for. */
  private spaces: Seg[][] = [];
  private hosts: string[] = [];

  constructor(opts: RouterOptions = {}) {
    for (const api of opts.apis ?? []) {
      if (!this.hosts.includes(api.host)) this.hosts.push(api.host);
      for (const m of api.methods) {
        const c = compile(m.httpMethod, m.path, { host: api.host, method: m.method });
        push(this.known, `${m.httpMethod} ${c.verb}`, c);
        this.spaces.push(c.segs);
      }
    }
  }

  private added: { method: string; template: string }[] = [];
  /** Every route served, as added (for documents that must list them all). */
  templates(): readonly { method: string; template: string }[] { return this.added; }

  add(method: string, template: string, handler: H): void {
    this.added.push({ method, template });
    const c = compile(method, template, handler);
    push(this.routes, `${method} ${c.verb}`, c);
    this.spaces.push(c.segs);
  }

  /** Finds the handler for a decoded path; throws a Google NOT_FOUND when none matches. */
  match(method: string, rawPath: string): { handler: H; params: Params; template: string } {
    let paths = this.recent.get(method);
    const hit = paths?.get(rawPath);
    if (hit) return hit;
    const found = this.find(method, rawPath);
    // Long paths are rare and would make the cache large: only ordinary resource names are remembered.
    if (rawPath.length > 512) return found;
    if (this.recentSize >= 5000) { this.recent.clear(); this.recentSize = 0; paths = undefined; }
    if (!paths) this.recent.set(method, paths = new Map());
    paths.set(rawPath, found);
    this.recentSize++;
    return found;
  }

  private find(method: string, rawPath: string): { handler: H; params: Params; template: string } {
    const r = lookup(this.routes, method, rawPath);
    if (r) return { handler: r.route.handler, params: r.params, template: r.route.template };
    throw this.unmatched(method, rawPath);
  }

  /**
   * Why no route serves a request: a known method Gantry does not serve (501 naming it), a path inside an API Gantry
   * serves (404, as Google answers an unknown URL), a Google API path of an API Gantry does not serve (501 naming the
   * path), or no API path at all (404).
   */
  private unmatched(method: string, rawPath: string): ApiError {
    const known = lookup(this.known, method, rawPath);
    if (known) {
      const { host, method: name } = known.route.handler;
      // A mixin (IAM, operations, locations) is served for some resources: say for which collection it is not.
      const collection = [...known.route.segs].reverse().find(s => 'lit' in s) as { lit: string } | undefined;
      const mixin = /^google\.(iam|longrunning|cloud\.location)\./.test(name) && collection ? ` for ${collection.lit}` : '';
      return errors.unimplemented(`Method ${name} is not implemented by Gantry${mixin}.`, { service: host, method: name });
    }
    // Request targets that are no path (`*`, `host:port`, an absolute URL) name no method of any API.
    if (!rawPath.startsWith('/')) return errors.routeNotFound(method, rawPath);
    const parts = rawPath.split('/').slice(1).map(safeDecode);
    const last = parts.length - 1;
    const colon = parts[last].lastIndexOf(':');
    if (colon > 0) parts[last] = parts[last].slice(0, colon);
    // A router told of no API tables cannot say which APIs it implements: every miss is a 404.
    if (!this.hosts.length || this.spaces.some(segs => inSpace(segs, parts)) || !apiShaped(parts)) return errors.routeNotFound(method, rawPath);
    const shown = rawPath.length > 300 ? rawPath.slice(0, 300) + '…' : rawPath;
    return errors.unimplemented(
      `${method.slice(0, 20)} ${shown} is not a method of an API Gantry implements (${this.hosts.join(', ')}).`,
      { method: method.slice(0, 20), path: shown });
  }
}

function compile<T>(method: string, template: string, handler: T): Compiled<T> {
  let path = template;
  let verb = '';
  const lastSlash = path.lastIndexOf('/');
  const colon = path.indexOf(':', Math.max(lastSlash, path.lastIndexOf('}')));
  if (colon > 0) { verb = path.slice(colon + 1); path = path.slice(0, colon); }
  const segs: Seg[] = [];
  const vars: Compiled<T>['vars'] = [];
  for (const part of splitTemplate(path)) {
    const m = /^\{([\w.]+)(?:=(.*))?\}$/.exec(part);
    if (!m) { segs.push(part === '*' ? { star: true } : part === '**' ? { glob: true } : { lit: part }); continue; }
    const from = segs.length;
    for (const p of (m[2] ?? '*').split('/')) segs.push(p === '*' ? { star: true } : p === '**' ? { glob: true } : { lit: p });
    vars.push({ name: m[1], from, to: segs.length });
  }
  return { method, segs, verb, vars, handler, template };
}

function push<T>(map: Map<string, Compiled<T>[]>, key: string, c: Compiled<T>): void {
  const list = map.get(key) ?? [];
  list.push(c);
  map.set(key, list);
}

function lookup<T>(table: Map<string, Compiled<T>[]>, method: string, rawPath: string): { route: Compiled<T>; params: Params } | undefined {
  let path = rawPath;
  let verb = '';
  const lastSlash = path.lastIndexOf('/');
  const colon = path.indexOf(':', lastSlash);
  if (colon > 0) { verb = path.slice(colon + 1); path = path.slice(0, colon); }
  const parts = path.split('/').slice(1).map(safeDecode);
  for (const r of table.get(`${method} ${verb}`) ?? []) {
    const params = matchSegs(r, parts);
    if (params) return { route: r, params };
  }
  if (verb) {
    // A colon inside the last segment that is not a known verb is part of the name.
    for (const r of table.get(`${method} `) ?? []) {
      const params = matchSegs(r, rawPath.split('/').slice(1).map(safeDecode));
      if (params) return { route: r, params };
    }
  }
  return undefined;
}

function segMatches(s: Seg, part: string | undefined): boolean {
  if (part === undefined || part === '') return false;
  return 'lit' in s ? s.lit === part : true;
}

/**
 * Whether a path lies in the path space of a template's API: it follows the template through its first segment that
 * names something of that API alone (`deliveryPipelines`, `storage`, `gantry`; not a version, `projects` or
 * `locations`), or it is a proper prefix of the template (`/v1/projects/p`).
 */
function inSpace(segs: Seg[], parts: string[]): boolean {
  const own = segs.findIndex(s => 'lit' in s && !SHARED.has(s.lit) && !VERSION.test(s.lit));
  const upTo = own >= 0 && parts.length > own ? own + 1 : parts.length < segs.length ? parts.length : 0;
  if (upTo === 0) return false;
  for (let i = 0; i < upTo; i++) {
    const s = segs[i];
    if ('glob' in s) return parts.slice(i).every(p => p !== '');
    if (!segMatches(s, parts[i])) return false;
  }
  return true;
}

/**
 * A Google API's path: `/{version}/{root collection}/…` (`/v2/projects/p/…`), `/{api}/{version}/…`
 * (`/compute/v1/…`, `/upload/storage/v1/…`) or `/apis/{group}/{version}/…` (Knative-style Cloud Run v1).
 */
function apiShaped(parts: string[]): boolean {
  if (parts.length < 2 || parts.some(p => p === '')) return false;
  const word = (p: string) => /^[a-z][a-z0-9.-]*$/.test(p);
  if (VERSION.test(parts[0])) return ROOTS.has(parts[1]);
  if (!word(parts[0])) return false;
  if (VERSION.test(parts[1])) return parts.length > 2;
  return (['upload', 'download', 'batch', 'apis'].includes(parts[0])) && word(parts[1]) && parts.length > 3 && VERSION.test(parts[2]);
}

function splitTemplate(path: string): string[] {
  // Split on '/' outside braces.
  const out: string[] = [];
  let depth = 0, cur = '';
  for (const c of path.slice(1)) {
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === '/' && depth === 0) { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out;
}

function matchSegs<H>(r: Compiled<H>, parts: string[]): Params | undefined {
  const globAt = r.segs.findIndex(s => 'glob' in s);
  if (globAt < 0 ? parts.length !== r.segs.length : parts.length < r.segs.length) return undefined;
  const spans: [number, number][] = [];
  let p = 0;
  for (let i = 0; i < r.segs.length; i++) {
    const s = r.segs[i];
    if ('glob' in s) {
      const rest = r.segs.length - i - 1;
      spans.push([p, parts.length - rest]);
      p = parts.length - rest;
      continue;
    }
    const part = parts[p];
    // An empty segment matches only a template's empty one: '/' itself.
    if (part === undefined || (part === '' && !('lit' in s && s.lit === ''))) return undefined;
    if ('lit' in s && s.lit !== part) return undefined;
    spans.push([p, p + 1]);
    p++;
  }
  const params: Params = {};
  for (const v of r.vars) params[v.name] = parts.slice(spans[v.from][0], spans[v.to - 1][1]).join('/');
  return params;
}

function safeDecode(s: string): string {
  try { return decodeURIComponent(s); } catch { return s; }
}
