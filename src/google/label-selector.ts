// Kubernetes label selectors, as Cloud Run v1 lists take them (`labelSelector`): comma-separated requirements, all of
// which must hold: `k`, `!k`, `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, with any whitespace around tokens
// (gcloud sends `run.googleapis.com/execution = x`). Grammar and key/value rules as apimachinery's labels/selector.go.
import { errors } from './errors.js';

export type Requirement =
  | { key: string; op: 'exists' | 'notExists' }
  | { key: string; op: 'in' | 'notIn'; values: string[] };

export type Selector = Requirement[];

/** A qualified key: an optional DNS-subdomain prefix and `/`, then a name of up to 63 characters. */
const KEY = /^(?:[a-z0-9]([-a-z0-9]*[a-z0-9])?(?:\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*\/)?[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const VALUE = /^(|[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)$/;
const MAX_LENGTH = 4096;
const MAX_REQUIREMENTS = 64;
const MAX_VALUES = 256;

function bad(selector: string, why: string) {
  return errors.invalidArgument(`Invalid label selector "${selector.length > 200 ? selector.slice(0, 200) + '…' : selector}": ${why}`, 'label_selector');
}

function checkKey(selector: string, key: string): string {
  const slash = key.indexOf('/');
  if (!KEY.test(key) || (slash >= 0 && slash > 253)) throw bad(selector, `"${key.slice(0, 100)}" is not a valid label key.`);
  return key;
}

function checkValue(selector: string, value: string): string {
  if (!VALUE.test(value)) throw bad(selector, `"${value.slice(0, 100)}" is not a valid label value.`);
  return value;
}

/** Parses a selector; an empty one selects everything. Throws INVALID_ARGUMENT naming the problem. */
export function parseLabelSelector(text: string | undefined): Selector {
  if (text === undefined || !text.trim()) return [];
  if (text.length > MAX_LENGTH) throw bad(text, `a selector may be at most ${MAX_LENGTH} characters.`);
  const out: Selector = [];
  // Commas inside `( … )` separate values, not requirements.
  const parts: string[] = [];
  let depth = 0, cur = '';
  for (const c of text) {
    if (c === '(') depth++;
    if (c === ')') depth--;
    if (depth < 0 || depth > 1) throw bad(text, 'unbalanced parentheses.');
    if (c === ',' && depth === 0) { parts.push(cur); cur = ''; } else cur += c;
  }
  if (depth !== 0) throw bad(text, 'unbalanced parentheses.');
  parts.push(cur);
  if (parts.length > MAX_REQUIREMENTS) throw bad(text, `at most ${MAX_REQUIREMENTS} requirements.`);
  for (const raw of parts) {
    const p = raw.trim();
    if (!p) throw bad(text, 'found an empty requirement.');
    let m: RegExpExecArray | null;
    if ((m = /^!\s*(\S+)$/.exec(p))) { out.push({ key: checkKey(text, m[1]), op: 'notExists' }); continue; }
    if ((m = /^(\S+?)\s*(==|!=|=)\s*(\S*)$/.exec(p))) {
      out.push({ key: checkKey(text, m[1]), op: m[2] === '!=' ? 'notIn' : 'in', values: [checkValue(text, m[3])] });
      continue;
    }
    if ((m = /^(\S+)\s+(in|notin)\s*\(([^()]*)\)$/.exec(p))) {
      const values = m[3].split(',').map(v => checkValue(text, v.trim()));
      if (values.length > MAX_VALUES) throw bad(text, `at most ${MAX_VALUES} values in a set.`);
      out.push({ key: checkKey(text, m[1]), op: m[2] === 'in' ? 'in' : 'notIn', values });
      continue;
    }
    if (/^\S+$/.test(p)) { out.push({ key: checkKey(text, p), op: 'exists' }); continue; }
    throw bad(text, `cannot parse "${p.slice(0, 100)}" (expected key, !key, key=value, key!=value, key in (a,b) or key notin (a,b)).`);
  }
  return out;
}

/** Whether `labels` satisfy every requirement. */
export function matchesSelector(selector: Selector, labels: Record<string, string> | undefined): boolean {
  for (const r of selector) {
    const v = labels?.[r.key];
    switch (r.op) {
      case 'exists': if (v === undefined) return false; break;
      case 'notExists': if (v !== undefined) return false; break;
      case 'in': if (v === undefined || !r.values.includes(v)) return false; break;
      case 'notIn': if (v !== undefined && r.values.includes(v)) return false; break;
    }
  }
  return true;
}

/** The value a selector pins `key` to (`key=v`), if it does: lets a list read one parent instead of scanning. */
export function pinnedValue(selector: Selector, key: string): string | undefined {
  for (const r of selector) if (r.key === key && r.op === 'in' && r.values.length === 1) return r.values[0];
  return undefined;
}
