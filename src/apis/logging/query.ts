// The Cloud Logging query language, as far as gcloud and people use it: comparisons on entry fields
// (`resource.type = cloud_run_job`, `labels."run.googleapis.com/execution_name" = x`, `severity >= ERROR`,
// `timestamp >= "2026-01-01T00:00:00Z"`, `textPayload:word`, `labels.k:*`), value groups (`severity=(ERROR OR WARNING)`),
// `log_id("…")`, NOT / `-`, OR, AND, parentheses, implicit AND between terms (spaces or newlines), and bare words
// matched anywhere in the entry. As in Cloud Logging, NOT binds tightest, then OR, then AND: `a OR b AND c` is
// `(a OR b) AND c`. Bounded: long or deep queries are refused (INVALID_ARGUMENT), never evaluated; an entry is
// serialised and lowered once however many terms read it (`Subject`), and each evaluation counts its work so a
// reader can stop a scan at a budget.
import { errors } from '../../google/errors.js';
import { formatTimestamp, parseTimestamp } from '../../google/time.js';

type Obj = Record<string, unknown>;
export type Query =
  | { and: Query[] } | { or: Query[] } | { not: Query }
  | { path: string[]; op: string; value: string; lower: string; any?: true }
  /** A bare word, lowered. */
  | { text: string }
  | { logId: string };

/** Longest filter accepted (Cloud Logging's own limit is 20,000 characters). */
export const MAX_FILTER_LENGTH = 20_000;
const MAX_DEPTH = 64;
/** Most terms (comparisons and bare words) in a filter; Google documents only the length limit. */
export const MAX_TERMS = 2_000;
/** Work units: one per term evaluated, plus one per this many characters a term reads. */
const WORK_CHARS = 4096;
export const SEVERITIES = ['DEFAULT', 'DEBUG', 'INFO', 'NOTICE', 'WARNING', 'ERROR', 'CRITICAL', 'ALERT', 'EMERGENCY'];
const SEVERITY_NUMBER: Record<string, number> = { DEFAULT: 0, DEBUG: 100, INFO: 200, NOTICE: 300, WARNING: 400, ERROR: 500, CRITICAL: 600, ALERT: 700, EMERGENCY: 800 };
const OPS = ['=', '!=', '<', '>', '<=', '>=', ':', '=~', '!~'];

function bad(why: string) { return errors.invalidArgument(`Invalid filter: ${why}`, 'filter'); }

/** Splits a query into tokens: strings (marked by a leading `"`), operators, parentheses, words. */
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
    const op = /^(>=|<=|!=|=~|!~|=|<|>|:)/.exec(text.slice(i, i + 2));
    if (op) { out.push(op[1]); i += op[1].length; continue; }
    // A word: up to whitespace, a parenthesis or an operator; a quoted segment inside a field path stays in it.
    let j = i, w = '';
    while (j < text.length && !/[\s()=<>!:~]/.test(text[j])) {
      if (text[j] === '"') {
        if (!w.endsWith('.')) break;
        const k = text.indexOf('"', j + 1); if (k < 0) throw bad('an unterminated string.'); w += text.slice(j, k + 1); j = k + 1; continue;
      }
      w += text[j++];
    }
    if (!w) { out.push(text[j]); j++; } else out.push(w);
    i = j;
  }
  return out;
}

function fieldPath(word: string): string[] {
  const out: string[] = [];
  const re = /"((?:[^"\\]|\\.)*)"|([^."]+)/g;
  for (const m of word.matchAll(re)) out.push(m[1] ?? m[2]);
  if (!out.length || out.some(s => s === '')) throw bad(`"${word.slice(0, 100)}" is not a field.`);
  return out;
}

export function parseQuery(text: string | undefined): Query | undefined {
  if (!text || !text.trim()) return undefined;
  if (text.length > MAX_FILTER_LENGTH) throw bad(`a filter may be at most ${MAX_FILTER_LENGTH} characters.`);
  const t = tokens(text);
  if (t.length > MAX_TERMS * 4) throw bad(`a filter may have at most ${MAX_TERMS} terms (comparisons and words).`);
  let p = 0;
  let terms = 0;
  const isOp = (x: string | undefined) => x !== undefined && OPS.includes(x);
  const isKeyword = (x: string | undefined) => x === 'AND' || x === 'OR' || x === 'NOT';
  /** Inside a value group (`field = (a OR b)`), bare values compare with the group's field. */
  type Group = { path: string[]; op: string } | undefined;
  const leaf = (path: string[], op: string, raw: string): Query => {
    if (++terms > MAX_TERMS) throw bad(`a filter may have at most ${MAX_TERMS} terms (comparisons and words).`);
    // JavaScript regular expressions can backtrack without bound (RE2's cannot): not offered rather than unsafe.
    if (op === '=~' || op === '!~') throw bad('regular expressions (=~, !~) are not supported by Gantry.');
    if (op === ':' && raw === '*') return { path, op, value: '*', lower: '*', any: true };
    const value = raw.startsWith('"') ? raw.slice(1) : raw;
    return { path, op, value, lower: value.toLowerCase() };
  };
  const primary = (depth: number, group: Group): Query => {
    if (depth > MAX_DEPTH) throw bad(`nested deeper than ${MAX_DEPTH} levels.`);
    const x = t[p];
    if (x === undefined) throw bad('the filter ends early.');
    if (x === '(') {
      p++;
      const q = conjunction(depth + 1, group);
      if (t[p++] !== ')') throw bad('unbalanced parentheses.');
      return q;
    }
    if (x === 'NOT' || x === '-') { p++; return { not: primary(depth + 1, group) }; }
    if (x.startsWith('-') && x.length > 1 && !group) { t[p] = x.slice(1); return { not: primary(depth + 1, group) }; }
    if (x === ')' || isOp(x) || isKeyword(x)) throw bad(`unexpected "${x}".`);
    p++;
    if (group) {
      if (isOp(t[p])) throw bad('a comparison inside a value group.');
      return leaf(group.path, group.op, x);
    }
    if (x === 'log_id' && t[p] === '(') {
      const id = t[p + 1];
      if (id === undefined || !id.startsWith('"') || t[p + 2] !== ')') throw bad('log_id takes one quoted log id: log_id("run.googleapis.com/stdout").');
      p += 3;
      return { logId: id.slice(1) };
    }
    if (isOp(t[p])) {
      if (x.startsWith('"')) throw bad(`a string cannot be compared: "${x.slice(1, 100)}".`);
      const op = t[p++];
      const path = fieldPath(x);
      const v = t[p];
      if (v === '(') {
        p++;
        const q = conjunction(depth + 1, { path, op });
        if (t[p++] !== ')') throw bad('unbalanced parentheses.');
        return q;
      }
      if (v === undefined || v === ')' || isOp(v) || isKeyword(v)) throw bad(`the comparison "${x.slice(0, 100)}${op}" needs a value.`);
      p++;
      return leaf(path, op, v);
    }
    if (++terms > MAX_TERMS) throw bad(`a filter may have at most ${MAX_TERMS} terms (comparisons and words).`);
    return { text: (x.startsWith('"') ? x.slice(1) : x).toLowerCase() };
  };
  const disjunction = (depth: number, group: Group): Query => {
    const parts = [primary(depth, group)];
    while (t[p] === 'OR') { p++; parts.push(primary(depth, group)); }
    return parts.length === 1 ? parts[0] : { or: parts };
  };
  const conjunction = (depth: number, group: Group): Query => {
    const parts = [disjunction(depth, group)];
    while (p < t.length && t[p] !== ')') {
      if (t[p] === 'AND') p++;
      parts.push(disjunction(depth, group));
    }
    return parts.length === 1 ? parts[0] : { and: parts };
  };
  const q = conjunction(0, undefined);
  if (p < t.length) throw bad(`unexpected "${t[p].replace(/^"/, '')}".`);
  return q;
}

function lookup(entry: Obj, path: string[]): unknown {
  let v: unknown = entry;
  for (const k of path) {
    if (v === null || typeof v !== 'object' || Array.isArray(v)) return undefined;
    v = Object.prototype.hasOwnProperty.call(v, k) ? (v as Obj)[k] : undefined;
  }
  return v;
}

const isTime = (path: string[]) => path.length === 1 && (path[0] === 'timestamp' || path[0] === 'receiveTimestamp');

/**
 * An entry as terms read it: the lowered JSON of the entry (bare words) or of an object field (`field:word`) is made
 * once, on first use, however many terms read it; `work` counts what the evaluations cost (see WORK_CHARS).
 */
export class Subject {
  work = 0;
  private lowered = new Map<object, string>();
  constructor(readonly entry: Obj) {}
  /** The lowered JSON of the entry or of an object inside it. */
  text(v: object): string {
    let s = this.lowered.get(v);
    if (s === undefined) this.lowered.set(v, (s = JSON.stringify(v).toLowerCase()));
    this.work += Math.ceil(s.length / WORK_CHARS);
    return s;
  }
}

function compare(s: Subject, actual: unknown, q: { op: string; value: string; lower: string; path: string[] }): boolean {
  const { op, value: want, path } = q;
  if (actual === undefined || actual === null) return op === '!=';
  if (Array.isArray(actual)) return op === '!=' ? actual.every(a => compare(s, a, q)) : actual.some(a => compare(s, a, q));
  if (typeof actual === 'object') return op === ':' ? s.text(actual).includes(q.lower) : false;
  const a = String(actual);
  if (path.length === 1 && path[0] === 'severity' && op !== ':') {
    const y = SEVERITY_NUMBER[want.toUpperCase()] ?? (/^\d+$/.test(want) ? Number(want) : NaN);
    if (Number.isNaN(y)) return false;
    return cmp((SEVERITY_NUMBER[a.toUpperCase()] ?? 0) - y, op);
  }
  if (isTime(path) && op !== ':') {
    const x = parseTimestamp(a), y = parseTimestamp(want);
    if (x !== undefined && y !== undefined) return cmp(x < y ? -1 : x > y ? 1 : 0, op);
  }
  if (op === ':') { s.work += Math.ceil(a.length / WORK_CHARS); return a.toLowerCase().includes(q.lower); }
  const n = Number(a), m = Number(want);
  return cmp(a !== '' && want !== '' && !Number.isNaN(n) && !Number.isNaN(m) ? n - m : a < want ? -1 : a > want ? 1 : 0, op);
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

/** Whether an entry (or a prepared Subject, whose `work` then counts the cost) matches the query. */
export function matches(q: Query | undefined, entry: Obj | Subject): boolean {
  return !q || test(q, entry instanceof Subject ? entry : new Subject(entry));
}

function test(q: Query, s: Subject): boolean {
  if ('and' in q) return q.and.every(x => test(x, s));
  if ('or' in q) return q.or.some(x => test(x, s));
  if ('not' in q) return !test(q.not, s);
  s.work++;
  if ('text' in q) return s.text(s.entry).includes(q.text);
  if ('logId' in q) return String(s.entry.logName ?? '').endsWith(`/logs/${encodeURIComponent(q.logId)}`);
  if (q.any) return lookup(s.entry, q.path) !== undefined;
  return compare(s, lookup(s.entry, q.path), q);
}

/** The entry's timestamp as stored and compared: RFC 3339 with 9 fractional digits, so text order is time order. */
export function canonicalTime(s: string): string | undefined {
  const n = parseTimestamp(s);
  if (n === undefined || n < 0n || n >= 253402300800000000000n) return undefined;
  return formatTimestamp(n);
}

/**
 * The time range the query's top-level conjuncts allow (`timestamp >= …`, as gcloud always adds), for the store to
 * read only that range; every entry is still checked against the whole query.
 */
export function timeBounds(q: Query | undefined): { from?: string; to?: string } {
  const out: { from?: string; to?: string } = {};
  const parts = !q ? [] : 'and' in q ? q.and : [q];
  for (const c of parts) {
    if (!('path' in c) || c.path.length !== 1 || c.path[0] !== 'timestamp') continue;
    const v = canonicalTime(c.value);
    if (!v) continue;
    if ((c.op === '>=' || c.op === '>' || c.op === '=') && (!out.from || v > out.from)) out.from = v;
    if ((c.op === '<=' || c.op === '<' || c.op === '=') && (!out.to || v < out.to)) out.to = v;
  }
  return out;
}

/**
 * Strings the stored JSON of every matching entry must contain (top-level `field = "text"` conjuncts), so the store
 * can skip rows without parsing them. Numbers, booleans and the fields compared by meaning are left out.
 */
export function mustContain(q: Query | undefined): string[] {
  const parts = !q ? [] : 'and' in q ? q.and : [q];
  const out: string[] = [];
  for (const c of parts) {
    if (!('path' in c) || c.op !== '=' || c.any || !c.value || ['severity', 'timestamp', 'receiveTimestamp'].includes(c.path[0])) continue;
    if (!Number.isNaN(Number(c.value)) || ['true', 'false', 'null'].includes(c.value)) continue;
    out.push(JSON.stringify(c.value));
  }
  return out.slice(0, 8);
}
