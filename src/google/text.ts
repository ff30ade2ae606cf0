// Text a request may carry. A lone UTF-16 surrogate (a JSON `\ud800` escape, or invalid UTF-8 decoded by a protobuf
// reader) is not Unicode: no UTF-8 encodes it, and Google's parsers refuse it. U+0000 is refused too (a decision,
// docs/fidelity.md): PostgreSQL's jsonb cannot hold it, and both stores must take the same requests. What the server
// itself writes (a process's output quoted in a message) goes through `storableJson` instead.
import { errors } from './errors.js';

interface WellFormed { isWellFormed(): boolean }

/** Whether `s` is text both stores hold as it is: no U+0000 and no unpaired surrogate. */
export function storableText(s: string): boolean {
  return !s.includes('\0') && (s as unknown as WellFormed).isWellFormed();
}

/** The path of the first string (or key) in `v` that is not `storableText`, or undefined. */
function firstBadText(v: unknown, path: string): string | undefined {
  if (typeof v === 'string') return storableText(v) ? undefined : path;
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) {
      const bad = firstBadText(v[i], `${path}[${i}]`);
      if (bad !== undefined) return bad;
    }
    return undefined;
  }
  if (v && typeof v === 'object' && !ArrayBuffer.isView(v)) {
    for (const k in v as Record<string, unknown>) {
      const at = path ? `${path}.${k}` : k;
      if (!storableText(k)) return at;
      const bad = firstBadText((v as Record<string, unknown>)[k], at);
      if (bad !== undefined) return bad;
    }
  }
  return undefined;
}

/** Throws INVALID_ARGUMENT naming the first string of a request (`where`: its body, a query parameter) not storable. */
export function checkRequestText(v: unknown, where = ''): void {
  const bad = firstBadText(v, where);
  if (bad === undefined) return;
  const field = bad.length > 200 ? bad.slice(0, 200) + '…' : bad;
  throw errors.invalidArgument(`Invalid JSON payload received. Invalid string${field ? ` at '${field}'` : ''}: it holds a NUL (U+0000) or half of a UTF-16 surrogate pair, which is not text an API stores.`, field);
}

/**
 * `json` with every string that is not `storableText` made
 * storable (U+0000 and unpaired surrogates as U+FFFD): what a store writes, so text the server produced itself (a
 * process's output quoted in a message) never fails a write on one store and passes on the other. Such strings are
 * written by JSON.stringify as `\\u` escapes, so a text without one is returned as it is, unread.
 */
export function storableJson(json: string): string {
  if (!json.includes('\\u')) return json;
  return JSON.stringify(mapStrings(JSON.parse(json), s => (storableText(s) ? s : fixText(s))));
}

/** A copy of JSON-like `v` with `f` applied to every string in it, keys included (a `__proto__` key stays a key). */
export function mapStrings(v: unknown, f: (s: string) => string): unknown {
  if (typeof v === 'string') return f(v);
  if (Array.isArray(v)) return v.map(x => mapStrings(x, f));
  // Object.fromEntries defines each key as its own property, `__proto__` included.
  if (v && typeof v === 'object') return Object.fromEntries(Object.entries(v).map(([k, x]) => [f(k), mapStrings(x, f)]));
  return v;
}

function fixText(s: string): string {
  return (s.replaceAll('\0', '\ufffd') as unknown as { toWellFormed(): string }).toWellFormed();
}
