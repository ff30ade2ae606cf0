// Routing by Google HTTP path templates ("/v1/{name=projects/*/locations/*}/operations",
// ".../rollouts/*}:approve"), the way gRPC transcoding matches them: literal and `*` segments,
// `**` tails, variables binding one or more segments, and a trailing custom verb.
import { errors } from '../google/errors.js';

export type Params = Record<string, string>;
type Seg = { lit: string } | { star: true } | { glob: true };
interface Compiled<H> { method: string; segs: Seg[]; verb: string; vars: { name: string; from: number; to: number }[]; handler: H; template: string }

export class Router<H> {
  private routes = new Map<string, Compiled<H>[]>();
  // Recent matches by method and path: clients re-read the same names, and matching walks every template.
  private recent = new Map<string, { handler: H; params: Params; template: string }>();

  add(method: string, template: string, handler: H): void {
    let path = template;
    let verb = '';
    const lastSlash = path.lastIndexOf('/');
    const colon = path.indexOf(':', Math.max(lastSlash, path.lastIndexOf('}')));
    if (colon > 0) { verb = path.slice(colon + 1); path = path.slice(0, colon); }
    const segs: Seg[] = [];
    const vars: Compiled<H>['vars'] = [];
    for (const part of splitTemplate(path)) {
      const m = /^\{([\w.]+)(?:=(.*))?\}$/.exec(part);
      if (!m) { segs.push(part === '*' ? { star: true } : part === '**' ? { glob: true } : { lit: part }); continue; }
      const from = segs.length;
      for (const p of (m[2] ?? '*').split('/')) segs.push(p === '*' ? { star: true } : p === '**' ? { glob: true } : { lit: p });
      vars.push({ name: m[1], from, to: segs.length });
    }
    const key = `${method} ${verb}`;
    const list = this.routes.get(key) ?? [];
    list.push({ method, segs, verb, vars, handler, template });
    this.routes.set(key, list);
  }

  /** Finds the handler for a decoded path; throws a Google NOT_FOUND when none matches. */
  match(method: string, rawPath: string): { handler: H; params: Params; template: string } {
    const key = method + ' ' + rawPath;
    const hit = this.recent.get(key);
    if (hit) return hit;
    const found = this.find(method, rawPath);
    // Long paths are rare and would make the cache large: only ordinary resource names are remembered.
    if (key.length > 512) return found;
    if (this.recent.size >= 5000) this.recent.clear();
    this.recent.set(key, found);
    return found;
  }

  private find(method: string, rawPath: string): { handler: H; params: Params; template: string } {
    let path = rawPath;
    let verb = '';
    const lastSlash = path.lastIndexOf('/');
    const colon = path.indexOf(':', lastSlash);
    if (colon > 0) { verb = path.slice(colon + 1); path = path.slice(0, colon); }
    const parts = path.split('/').slice(1).map(safeDecode);
    for (const r of this.routes.get(`${method} ${verb}`) ?? []) {
      const params = matchSegs(r, parts);
      if (params) return { handler: r.handler, params, template: r.template };
    }
    if (verb) {
      // A colon inside the last segment that is not a known verb is part of the name.
      for (const r of this.routes.get(`${method} `) ?? []) {
        const params = matchSegs(r, rawPath.split('/').slice(1).map(safeDecode));
        if (params) return { handler: r.handler, params, template: r.template };
      }
    }
    throw errors.routeNotFound(method, rawPath);
  }
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
    if (part === undefined || part === '') return undefined;
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
