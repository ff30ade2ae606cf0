// AIP-160 filters: parsed once per request into an AST, resolved against the resource's schema
// (case-insensitive field names, snake_case accepted), then evaluated per row. The AST is also
// read by the store's planner to push indexable equality conjuncts down to SQL.
import { errors } from './errors.js';
import { type ApiSchema, type FieldSchema, toCamel } from './schema.js';
import { parseTimestamp } from './time.js';

export type Comparator = '=' | '!=' | '<' | '<=' | '>' | '>=' | ':';
export type FilterNode =
  | { kind: 'and'; items: FilterNode[] }
  | { kind: 'or'; items: FilterNode[] }
  | { kind: 'not'; item: FilterNode }
  | { kind: 'cmp'; path: string[]; field: FieldSchema | undefined; op: Comparator; value: string; quoted: boolean };

/**
 * Bounds on what one request may ask the parser and evaluator to do: the parser recurses per parenthesis (4,000
 * of them overflowed the stack), and every scanned row pays for every comparison (~1 µs each; 2,048 characters
 * hold ~130 of them). Real filters are a few dozen characters; this still fits a couple of dozen full names.
 */
export const MAX_FILTER_LENGTH = 2048;
export const MAX_FILTER_DEPTH = 32;

type Tok = { t: 'word' | 'str' | 'op' | 'lp' | 'rp' | 'dot'; v: string };

function tokenize(s: string): Tok[] {
  const out: Tok[] = [];
  let i = 0;
  while (i < s.length) {
    const c = s[i];
    if (/\s/.test(c)) { i++; continue; }
    if (c === '(') { out.push({ t: 'lp', v: c }); i++; continue; }
    if (c === ')') { out.push({ t: 'rp', v: c }); i++; continue; }
    if (c === '"' || c === "'") {
      let j = i + 1, v = '';
      while (j < s.length && s[j] !== c) {
        if (s[j] === '\\' && j + 1 < s.length) { v += s[j + 1]; j += 2; } else v += s[j++];
      }
      if (j >= s.length) throw bad(`unterminated string starting at position ${i}`);
      out.push({ t: 'str', v }); i = j + 1; continue;
    }
    const two = s.slice(i, i + 2);
    if (two === '!=' || two === '<=' || two === '>=') { out.push({ t: 'op', v: two }); i += 2; continue; }
    if (c === '=' || c === '<' || c === '>' || c === ':') { out.push({ t: 'op', v: c }); i++; continue; }
    if (c === '.') { out.push({ t: 'dot', v: c }); i++; continue; }
    let j = i;
    while (j < s.length && !/[\s()"'=<>:!.]/.test(s[j])) j++;
    // Numbers and timestamps keep their dots and colons as part of the value.
    if (/^-?\d/.test(s.slice(i))) {
      const m = /^-?[0-9][0-9A-Za-z.:+-]*/.exec(s.slice(i))!;
      j = i + m[0].length;
    }
    if (j === i) throw bad(`unexpected character '${c}' at position ${i}`);
    out.push({ t: 'word', v: s.slice(i, j) }); i = j;
  }
  return out;
}

function bad(msg: string) { return errors.invalidArgument(`Invalid filter: ${msg}`, 'filter'); }

class Parser {
  private i = 0;
  private depth = 0;
  constructor(private toks: Tok[], private schema: ApiSchema, private message: string) {}
  parse(): FilterNode {
    const n = this.expression();
    if (this.i < this.toks.length) throw bad(`unexpected '${this.toks[this.i].v}'`);
    return n;
  }
  private peek() { return this.toks[this.i]; }
  private isWord(v: string) { const t = this.peek(); return t && t.t === 'word' && t.v === v; }
  // AIP-160: AND binds looser than OR; juxtaposition is AND.
  private expression(): FilterNode {
    const items = [this.factor()];
    for (;;) {
      if (this.isWord('AND')) { this.i++; items.push(this.factor()); continue; }
      const t = this.peek();
      if (t && t.t !== 'rp' && !this.isWord('OR')) { items.push(this.factor()); continue; }
      break;
    }
    return items.length === 1 ? items[0] : { kind: 'and', items };
  }
  private factor(): FilterNode {
    const items = [this.term()];
    while (this.isWord('OR')) { this.i++; items.push(this.term()); }
    return items.length === 1 ? items[0] : { kind: 'or', items };
  }
  private term(): FilterNode {
    if (this.isWord('NOT')) { this.i++; return { kind: 'not', item: this.simple() }; }
    const t = this.peek();
    if (t && t.t === 'word' && t.v.startsWith('-') && t.v.length > 1 && !/^-\d/.test(t.v)) {
      t.v = t.v.slice(1);
      return { kind: 'not', item: this.simple() };
    }
    return this.simple();
  }
  private simple(): FilterNode {
    const t = this.peek();
    if (!t) throw bad('unexpected end of filter');
    if (t.t === 'lp') {
      if (++this.depth > MAX_FILTER_DEPTH) throw bad(`parentheses nest deeper than ${MAX_FILTER_DEPTH} levels`);
      this.i++;
      const n = this.expression();
      if (this.peek()?.t !== 'rp') throw bad('missing )');
      this.i++;
      this.depth--;
      return n;
    }
    if (t.t !== 'word') throw bad(`expected a field name, got '${t.v}'`);
    const path = [t.v];
    this.i++;
    while (this.peek()?.t === 'dot') {
      this.i++;
      const n = this.peek();
      if (!n || (n.t !== 'word' && n.t !== 'str')) throw bad('expected a field name after "."');
      path.push(n.v); this.i++;
    }
    const op = this.peek();
    if (!op || op.t !== 'op') throw bad(`bare value "${path.join('.')}" is not supported; use field=value`);
    this.i++;
    const arg = this.peek();
    if (!arg || (arg.t !== 'word' && arg.t !== 'str')) throw bad(`expected a value after '${op.v}'`);
    this.i++;
    let value = arg.v;
    // Unquoted values may be dotted (e.g. 1.5, a.b).
    while (arg.t === 'word' && this.peek()?.t === 'dot' && this.toks[this.i + 1]?.t === 'word') {
      value += '.' + this.toks[this.i + 1].v; this.i += 2;
    }
    const { names, field } = resolvePath(this.schema, this.message, path);
    const node: FilterNode = { kind: 'cmp', path: names, field, op: op.v as Comparator, value, quoted: arg.t === 'str' };
    checkValue(this.schema, node);
    return node;
  }
}

/** Maps user-written field paths (any case, snake or camel) to the schema's names. */
export function resolvePath(schema: ApiSchema, message: string, path: string[]): { names: string[]; field: FieldSchema | undefined } {
  const names: string[] = [];
  let msg: string | undefined = message;
  let field: FieldSchema | undefined;
  for (const seg of path) {
    if (field?.type === 'map') { names.push(seg); field = field.value; msg = field?.message; continue; }
    if (!msg) throw bad(`field "${path.join('.')}" cannot be traversed`);
    const fields = schema.fields(msg);
    const camel = toCamel(seg);
    const key = seg in fields ? seg : Object.keys(fields).find(k => k.toLowerCase() === camel.toLowerCase());
    if (!key) throw bad(`unknown field "${path.join('.')}"`);
    names.push(key);
    field = fields[key];
    msg = field.type === 'message' ? field.message : undefined;
  }
  return { names, field };
}

function checkValue(schema: ApiSchema, n: Extract<FilterNode, { kind: 'cmp' }>): void {
  const f = n.field;
  if (!f || n.value === '*') return;
  if (f.type === 'enum' && !schema.enumValues(f.enum!).includes(n.value) && !/^\d+$/.test(n.value)) {
    throw bad(`"${n.value}" is not a value of enum field "${n.path.join('.')}"`);
  }
  if (f.type === 'bool' && n.value !== 'true' && n.value !== 'false') throw bad(`"${n.value}" is not a boolean`);
  if (['int32', 'int64', 'uint32', 'uint64', 'double'].includes(f.type) && Number.isNaN(Number(n.value))) {
    throw bad(`"${n.value}" is not a number`);
  }
  if (isTimeField(n) && n.op !== ':' && n.op !== '=' && parseTimestamp(n.value) === undefined) {
    throw bad(`"${n.value}" is not an RFC 3339 timestamp`);
  }
}

function isTimeField(n: { path: string[]; field: FieldSchema | undefined }): boolean {
  return n.field?.type === 'string' && /Time$/.test(n.path[n.path.length - 1]);
}

export function parseFilter(schema: ApiSchema, message: string, filter: string | undefined): FilterNode | undefined {
  if (!filter || !filter.trim()) return undefined;
  if (filter.length > MAX_FILTER_LENGTH) throw bad(`the filter is ${filter.length} characters long; the limit is ${MAX_FILTER_LENGTH}`);
  return new Parser(tokenize(filter), schema, message).parse();
}

/** Every value reached by a path, fanning out over repeated fields. */
function collect(obj: unknown, path: string[], i = 0, out: unknown[] = []): unknown[] {
  if (i === path.length) { out.push(obj); return out; }
  if (Array.isArray(obj)) { for (const item of obj) collect(item, path, i, out); return out; }
  if (obj && typeof obj === 'object') {
    const next = (obj as Record<string, unknown>)[path[i]];
    if (next !== undefined) collect(next, path, i + 1, out);
  }
  return out;
}

/**
 * Whole-value match where `*` is any run of characters (also none), case-sensitive. A compiled `.*` RegExp
 * backtracks exponentially in the number of stars (`*a*a*a*a*b` froze the server), so this matches greedily
 * over the literal segments instead: anchored prefix and suffix, and each middle segment at its leftmost
 * occurrence after the previous one (leftmost is never worse for what follows). O(value × pattern), no backtracking.
 */
export function wildcardMatch(pattern: string, value: string): boolean {
  const segs = pattern.split('*');
  if (segs.length === 1) return pattern === value;
  const head = segs[0], tail = segs[segs.length - 1];
  if (value.length < head.length + tail.length || !value.startsWith(head) || !value.endsWith(tail)) return false;
  const end = value.length - tail.length;
  let at = head.length;
  for (let i = 1; i < segs.length - 1; i++) {
    const seg = segs[i];
    if (!seg) continue;
    const found = value.indexOf(seg, at);
    if (found < 0 || found + seg.length > end) return false;
    at = found + seg.length;
  }
  return true;
}

function defaultValue(f: FieldSchema | undefined): unknown {
  if (!f || f.repeated) return undefined;
  switch (f.type) {
    case 'string': case 'enum': return f.type === 'enum' ? undefined : '';
    case 'bool': return false;
    case 'int32': case 'int64': case 'uint32': case 'uint64': case 'double': return 0;
    default: return undefined;
  }
}

function compareScalar(n: Extract<FilterNode, { kind: 'cmp' }>, actual: unknown, schema: ApiSchema): boolean {
  const op = n.op;
  const f = n.field;
  if (op === ':' && n.value === '*') return actual !== undefined && actual !== '' && !(Array.isArray(actual) && !actual.length);
  if (actual !== null && typeof actual === 'object') {
    // `labels:env` — has-key on maps.
    return op === ':' && Object.prototype.hasOwnProperty.call(actual, n.value);
  }
  let cmp: number;
  if (f?.type === 'enum') {
    const want = /^\d+$/.test(n.value) ? Number(n.value) : schema.enumNumber(f.enum!, n.value);
    const have = actual === undefined ? 0 : schema.enumNumber(f.enum!, String(actual)) ?? -1;
    cmp = have - (want ?? -1);
  } else if (typeof actual === 'number' || (f && ['int32', 'uint32', 'int64', 'uint64', 'double'].includes(f.type))) {
    cmp = Number(actual ?? 0) - Number(n.value);
  } else if (typeof actual === 'boolean') {
    cmp = Number(actual) - Number(n.value === 'true');
  } else if (isTimeField(n) && op !== ':' && parseTimestamp(n.value) !== undefined) {
    if (actual === undefined || actual === '') return op === '!=' ;
    const a = parseTimestamp(String(actual)) ?? 0n, b = parseTimestamp(n.value)!;
    cmp = a < b ? -1 : a > b ? 1 : 0;
  } else {
    const a = actual === undefined ? '' : String(actual);
    if ((op === '=' || op === '!=' || op === ':') && n.value.includes('*')) {
      const m = wildcardMatch(n.value, a);
      return op === '!=' ? !m : m;
    }
    cmp = a < n.value ? -1 : a > n.value ? 1 : 0;
  }
  switch (op) {
    case '=': case ':': return cmp === 0;
    case '!=': return cmp !== 0;
    case '<': return cmp < 0;
    case '<=': return cmp <= 0;
    case '>': return cmp > 0;
    case '>=': return cmp >= 0;
  }
}

export function evaluate(node: FilterNode, obj: unknown, schema: ApiSchema): boolean {
  switch (node.kind) {
    case 'and': return node.items.every(n => evaluate(n, obj, schema));
    case 'or': return node.items.some(n => evaluate(n, obj, schema));
    case 'not': return !evaluate(node.item, obj, schema);
    case 'cmp': {
      const values = collect(obj, node.path).flatMap(v => (Array.isArray(v) ? v : [v]));
      if (!values.length) {
        if (node.op === ':') return false;
        return compareScalar(node, defaultValue(node.field), schema);
      }
      if (node.op === '!=') return values.every(v => compareScalar(node, v, schema));
      return values.some(v => compareScalar(node, v, schema));
    }
  }
}
