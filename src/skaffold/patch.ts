// Profile `patches`, with the semantics of github.com/krishicks/yaml-patch v0.0.10, the library Skaffold's
// pkg/skaffold/schema/profiles.go applies them with (one operation at a time, any failure or panic reported as
// "invalid path"). It is RFC 6902-like but not RFC 6902, which is why no JSON Patch package is used here:
//   - `move` and `copy` *overwrite* an array element at the target index (RFC 6902 inserts), and may grow the
//     array with nulls; `-` is only understood by `add`;
//   - `replace` refuses a key whose value is null; `copy`/`move` from a missing object key copy null;
//   - a path segment `key=value` selects every object (at any depth below) whose `key` is the string `value`,
//     e.g. `/build/artifacts/image=web/docker/buildArgs/X`;
//   - `add`, `replace` and `test` need a `value` (a missing one makes the Go code panic → invalid).
import { isObj } from './schema.js';

export interface PatchOp { op?: string; path?: string; from?: string; value?: unknown }

class Invalid extends Error {}

type Container = Record<string, unknown> | unknown[];
const isContainer = (v: unknown): v is Container => Array.isArray(v) || isObj(v);

/** RFC 6901 unescaping, as yaml-patch does it (~1 first, then ~0). */
const decode = (k: string) => k.replace(/~1/g, '/').replace(/~0/g, '~');

/** Go's strconv.Atoi: optional sign, decimal digits only. */
function atoi(s: string): number {
  if (!/^[+-]?\d+$/.test(s)) throw new Invalid();
  return Number(s);
}

function get(c: Container, key: string): unknown {
  if (Array.isArray(c)) {
    const i = atoi(key);
    if (i < 0 || i >= c.length) throw new Invalid();
    return c[i];
  }
  return Object.prototype.hasOwnProperty.call(c, key) ? c[key] : undefined;
}

function set(c: Container, key: string, val: unknown) {
  if (!Array.isArray(c)) { c[key] = val; return; }
  const i = atoi(key);
  if (i < 0) throw new Invalid();
  while (c.length <= i) c.push(null);
  c[i] = val;
}

function add(c: Container, key: string, val: unknown) {
  if (!Array.isArray(c)) { c[key] = val; return; }
  if (key === '-') { c.push(val); return; }
  const i = atoi(key);
  if (i < 0 || i > c.length) throw new Invalid();
  c.splice(i, 0, val);
}

function remove(c: Container, key: string) {
  if (!Array.isArray(c)) {
    if (!Object.prototype.hasOwnProperty.call(c, key)) throw new Invalid();
    delete c[key];
    return;
  }
  const i = atoi(key);
  if (i < 0 || i >= c.length) throw new Invalid();
  c.splice(i, 1);
}

/** The container holding the last segment of `path`, and that segment. */
function findContainer(doc: unknown, path: string): [Container, string] {
  if (!path.startsWith('/')) throw new Invalid();
  const parts = path.split('/').slice(1);
  const key = decode(parts.pop()!);
  let cur: unknown = doc;
  for (const p of parts) {
    if (!isContainer(cur)) throw new Invalid();
    const next = get(cur, decode(p));
    if (next === undefined || next === null) throw new Invalid();
    cur = next;
  }
  if (!isContainer(cur)) throw new Invalid();
  return [cur, key];
}

function perform(doc: unknown, op: Required<Pick<PatchOp, 'op'>> & PatchOp, path: string) {
  const needsValue = op.op === 'add' || op.op === 'replace' || op.op === 'test';
  if (needsValue && (op.value === undefined || op.value === null)) throw new Invalid();
  switch (op.op) {
    case 'add': { const [c, k] = findContainer(doc, path); add(c, k, structuredClone(op.value)); return; }
    case 'remove': { const [c, k] = findContainer(doc, path); remove(c, k); return; }
    case 'replace': {
      const [c, k] = findContainer(doc, path);
      const cur = get(c, k);
      if (cur === undefined || cur === null) throw new Invalid();
      set(c, k, structuredClone(op.value));
      return;
    }
    case 'move': case 'copy': {
      const [fc, fk] = findContainer(doc, op.from ?? '');
      const val = get(fc, fk) ?? null;
      if (op.op === 'move') remove(fc, fk);
      const [c, k] = findContainer(doc, path);
      set(c, k, op.op === 'copy' ? structuredClone(val) : val);
      return;
    }
    case 'test': {
      const [c, k] = findContainer(doc, path);
      if (!deepEqual(get(c, k), op.value)) throw new Invalid();
      return;
    }
    default: throw new Invalid();
  }
}

// ---- the `key=value` extension (yaml-patch's pathfinder.go) ----

function findAll(prefix: string, key: string, value: string, c: unknown): Map<string, unknown> {
  const out = new Map<string, unknown>();
  if (!isContainer(c)) return out;
  if (!Array.isArray(c) && c[key] === value) return out.set(prefix, c);
  const entries: [string, unknown][] = Array.isArray(c) ? c.map((v, i) => [String(i), v]) : Object.entries(c);
  for (const [k, v] of entries) for (const [r, m] of findAll(`${prefix}/${k}`, key, value, v)) out.set(r, m);
  return out;
}

/** Expands a path with `key=value` segments into the concrete paths it names (empty when none). */
function expand(doc: unknown, path: string): string[] {
  const parts = path.split('/');
  if (parts[1] === '') return ['/'];
  let routes = new Map<string, unknown>([['', doc]]);
  for (const raw of parts.slice(1)) {
    const part = decode(raw);
    const matches = new Map<string, unknown>();
    if (part === '-') {
      for (const [r, c] of routes) matches.set(`${r}/-`, c);
    } else {
      for (const [prefix, c] of routes) {
        const kv = part.split('=');
        if (kv.length === 2) {
          const found = findAll(prefix, kv[0], kv[1], c);
          // yaml-patch replaces (not merges) the matches with each route that finds some.
          if (found.size > 0) { matches.clear(); for (const [r, m] of found) matches.set(r, m); }
          continue;
        }
        if (!isContainer(c)) continue;
        let node: unknown;
        try { node = get(c, part); } catch { continue; }
        matches.set(`${prefix}/${part}`, node === undefined || node === null ? c : node);
      }
    }
    routes = matches;
  }
  return [...routes.keys()];
}

/**
 * Applies one Skaffold profile patch to `doc` in place. Throws Error("invalid path: <path>") when yaml-patch
 * would fail, which is the message Skaffold reports.
 */
export function applyPatch(doc: unknown, patch: PatchOp): void {
  const op = { ...patch, op: patch.op || 'replace' };
  const path = String(patch.path ?? '');
  try {
    const paths = path.includes('=') ? expand(doc, path) : [path];
    if (paths.length === 0) throw new Invalid();
    for (const p of paths) perform(doc, op, p);
  } catch (e) {
    if (e instanceof Invalid) throw new Error(`invalid path: ${path}`);
    throw e;
  }
}

function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (Array.isArray(a) && Array.isArray(b)) return a.length === b.length && a.every((v, i) => deepEqual(v, b[i]));
  if (isObj(a) && isObj(b)) {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every(k => Object.prototype.hasOwnProperty.call(b, k) && deepEqual(a[k], b[k]));
  }
  return false;
}
