// The Cloud Logging query language, as far as gcloud and people use it: comparisons on entry fields
// (`resource.type = cloud_run_job`, `labels."run.googleapis.com/execution_name" = x`, `severity >= ERROR`,
// `timestamp >= "2026-01-01T00:00:00Z"`, `textPayload:word`), AND / OR / NOT / `-`, parentheses, implicit AND between
// terms (spaces or newlines), and bare words matched anywhere in the payload. Bounded: long or deep queries are refused.
import { errors } from '../../google/errors.js';
import { parseTimestamp } from '../../google/time.js';

type Obj = Record<string, unknown>;
export type Query =
  | { and: Query[] } | { or: Query[] } | { not: Query }
  | { path: string[]; op: string; value: string }
  | { text: string };

const MAX_LENGTH = 20_000;
const MAX_DEPTH = 64;
export const SEVERITIES = ['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'];
const SEVERITY_NUMBER: Record<string, number> = { DEFAULT: 0, DEBUG: 100, INFO: 200, NOTICE: 300, WARNING: 400, ERROR: 500, CRITICAL: 600, ALERT: 700, EMERGENCY: 800 };

function bad(why: string) { return errors.invalidArgument(`Invalid filter: ${why}`, 'filter'); }

/** Splits a query into tokens: strings, operators, parentheses, words. */
function tokens(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(' || c === ')') { out.push(c); i++; continue; }
    if (c === '"') {
      let j = i + 1, s = '';
      for (; j < text.length && text[j] !== '"'; j++) s += text[j] === '\\' ? text[++j] ?? '' : text[j];
      if (j >= text.length) throw bad('an unterminated string.');
      out.push('"' + s); i = j + 1; continue;
    }
    const op = /^(>=|<=|!=|=~|!~|=|<|>|:)/.exec(text.slice(i));
    if (op) { out.push(op[1]); i += op[1].length; continue; }
    // A word: up to whitespace, a parenthesis or an operator; a quoted segment inside a field path stays in it.
    let j = i, w = '';
    while (j < text.length && !/[\s()=<>!:~]/.test(text[j])) {
      if (text[j] === '"') { const k = text.indexOf('"', j + 1); if (k < 0) throw bad('an unterminated string.'); w += text.slice(j, k + 1); j = k + 1; continue; }
      w += text[j++];
    }
    if (!w) { out.push(text[j]); j++; }
    else out.push(w);
    i = j;
  }
  return out;
}

function fieldPath(word: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^."]+)/g;
  for (const m of word.matchAll(re)) out.push(m[1] ?? m[2]);
  return out;
}

export function parseQuery(text: string | undefined): Query | undefined {
  if (!text || !text.trim()) return undefined;
  if (text.length > MAX_LENGTH) throw bad(`a filter may be at most ${MAX_LENGTH} characters.`);
  const t = tokens(text);
  let p = 0;
  const isOp = (x: string | undefined) => x !== undefined && ['=', '!=', '<', '>', '<=', '>=', ':', '=~', '!~'].includes(x);
  const value = (): string => {
    const v = t[p++];
    if (v === undefined || v === '(' || v === ')') throw bad('a comparison needs a value.');
    return v.startsWith('"') ? v.slice(1) : v;
  };
  const primary = (depth: number): Query => {
    if (depth > MAX_DEPTH) throw bad(`nested deeper than ${MAX_DEPTH} levels.`);
    const x = t[p];
    if (x === undefined) throw bad('the filter ends early.');
    if (x === '(') { p++; const q = or(depth + 1); if (t[p++] !== ')') throw bad('unbalanced parentheses.'); return q; }
    if (x === 'NOT') { p++; return { not: primary(depth + 1) }; }
    if (x.startsWith('-') && x.length > 1) { t[p] = x.slice(1); return { not: primary(depth + 1) }; }
    if (x === ')' || isOp(x)) throw bad(`unexpected "${x}".`);
    p++;
    if (isOp(t[p])) {
      const op = t[p++];
      // JavaScript regular expressions can backtrack without bound (RE2's cannot): not offered rather than unsafe.
      if (op === '=~' || op === '!~') throw bad('regular expressions (=~, !~) are not supported by Gantry.');
      return { path: fieldPath(x), op, value: value() };
    }
    return { text: x.startsWith('"') ? x.slice(1) : x };
  };
  const and = (depth: number): Query => {
    const parts = [primary(depth)];
    while (p < t.length && t[p] !== ')' && t[p] !== 'OR') {
      if (t[p] === 'AND') p++;
      parts.push(primary(depth));
    }
    return parts.length === 1 ? parts[0] : { and: parts };
  };
  const or = (depth: number): Query => {
    const parts = [and(depth)];
    while (t[p] === 'OR') { p++; parts.push(and(depth)); }
    return parts.length === 1 ? parts[0] : { or: parts };
  };
  const q = or(0);
  if (p < t.length) throw bad(`unexpected "${t[p].replace(/^"/, '')}".`);
  return q;
}

function lookup(entry: Obj, path: string[]): unknown {
  let v: unknown = entry;
  for (const k of path) {
    if (v === null || typeof v !== 'object') return undefined;
    v = (v as Obj)[k];
  }
  return v;
}

function compare(actual: unknown, op: string, want: string, path: string[]): boolean {
  if (actual === undefined || actual === null) return op === '!=' || op === '!~';
  if (typeof actual === 'object') return op === ':' ? JSON.stringify(actual).toLowerCase().includes(want.toLowerCase()) : false;
  const a = String(actual);
  if (path.length === 1 && path[0] === 'severity' && op !== ':') {
    const x = SEVERITY_NUMBER[a.toUpperCase()] ?? 0, y = SEVERITY_NUMBER[want.toUpperCase()] ?? Number(want);
    return cmp(x - y, op);
  }
  if (path[path.length - 1] === 'timestamp' || path[path.length - 1] === 'receiveTimestamp') {
    const x = parseTimestamp(a), y = parseTimestamp(want);
    if (x !== undefined && y !== undefined && op !== ':') return cmp(x < y ? -1 : x > y ? 1 : 0, op);
  }
  switch (op) {
    case ':': return a.toLowerCase().includes(want.toLowerCase());
    default: {
      const n = Number(a), m = Number(want);
      return cmp(a !== '' && want !== '' && !Number.isNaN(n) && !Number.isNaN(m) ? n - m : a < want ? -1 : a > want ? 1 : 0, op);
    }
  }
}

function cmp(d: number, op: string): boolean {
  switch (op) {
    case '=': return d === 0;
    case '!=': return d !== 0;
    case '<': return d < 0;
    case '<=': return d <= 0;
    case '>': return d > 0;
    default: return d >= 0;
  }
}

export function matches(q: Query | undefined, entry: Obj): boolean {
  if (!q) return true;
  if ('and' in q) return q.and.every(x => matches(x, entry));
  if ('or' in q) return q.or.some(x => matches(x, entry));
  if ('not' in q) return !matches(q.not, entry);
  if ('text' in q) return JSON.stringify(entry).toLowerCase().includes(q.text.toLowerCase());
  return compare(lookup(entry, q.path), q.op, q.value, q.path);
}
