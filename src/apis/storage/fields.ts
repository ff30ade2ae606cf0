// Partial responses: the `fields` system parameter (`items(name,size),nextPageToken`, `items/name`, `*`) keeps only
// the selected parts of a JSON answer, as Google's JSON APIs do. gcloud storage asks for them on every list and
// existence check. Parsing is one pass over a bounded string with bounded nesting.
import { errors } from '../../google/errors.js';

type Selection = Map<string, Selection | true>;

const MAX_FIELDS_CHARS = 4096;
const MAX_DEPTH = 16;

export function parseFields(spec: string): Selection {
  if (spec.length > MAX_FIELDS_CHARS) throw invalid(spec);
  let pos = 0;
  const name = (): string => {
    const m = /^(?:[A-Za-z0-9_$.-]+|\*)/.exec(spec.slice(pos, pos + 256));
    if (!m) throw invalid(spec);
    pos += m[0].length;
    return m[0];
  };
  const list = (depth: number): Selection => {
    if (depth > MAX_DEPTH) throw invalid(spec);
    const sel: Selection = new Map();
    for (;;) {
      // One item: a/b/c, optionally followed by (sub-selection).
      const path = [name()];
      while (spec[pos] === '/') { pos++; path.push(name()); }
      let leaf: Selection | true = true;
      if (spec[pos] === '(') {
        pos++;
        leaf = list(depth + path.length);
        if (spec[pos] !== ')') throw invalid(spec);
        pos++;
      }
      let at = sel;
      for (let i = 0; i < path.length; i++) {
        const key = path[i];
        const last = i === path.length - 1;
        const cur = at.get(key);
        if (last) { at.set(key, cur === true || leaf === true ? true : merge(cur, leaf)); break; }
        if (cur === true) break; // already whole
        const next: Selection = cur ?? new Map();
        at.set(key, next);
        at = next;
      }
      if (spec[pos] === ',') { pos++; continue; }
      return sel;
    }
  };
  const sel = list(0);
  if (pos !== spec.length) throw invalid(spec);
  return sel;
}

function merge(a: Selection | undefined, b: Selection): Selection {
  if (!a) return b;
  for (const [k, v] of b) {
    const cur = a.get(k);
    a.set(k, cur === true || v === true ? true : merge(cur, v));
  }
  return a;
}

/** The selected parts of `value` (arrays apply the selection to each element). */
export function applyFields(value: unknown, sel: Selection): unknown {
  if (Array.isArray(value)) return value.map(v => applyFields(v, sel));
  if (value === null || typeof value !== 'object') return value;
  const obj = value as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  const all = sel.get('*');
  for (const [k, v] of Object.entries(obj)) {
    const s = sel.get(k) ?? all;
    if (s === undefined) continue;
    out[k] = s === true ? v : applyFields(v, s);
  }
  return out;
}

function invalid(spec: string) {
  const shown = spec.length > 100 ? spec.slice(0, 100) + '…' : spec;
  return errors.invalidArgument(`Invalid field selection ${shown}`, 'fields');
}
