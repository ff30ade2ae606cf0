// google.api.http path templates (google/api/http.proto): parsed once per method, then matched against a gRPC
// request's field values to produce the REST path the same request would have had.
//
//   Template = "/" Segments [ Verb ] ;  Segment = "*" | "**" | LITERAL | Variable ;
//   Variable = "{" FieldPath [ "=" Segments ] "}" ;  Verb = ":" LITERAL ;

export interface Variable {
  /** The request field (camelCase path, e.g. `target.name`). */
  field: string[];
  /** What the value must look like, segment by segment: `*`, `**` or a literal. */
  pattern: string[];
}

export interface PathTemplate {
  /** Literal segments and variables, in order. */
  parts: (string | Variable)[];
  verb?: string;
}

export interface HttpBinding {
  method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  template: PathTemplate;
  /** `*` (every field not in the path), one field's name, or none. */
  body?: string;
  /** The reply field that is the response message, when not the whole reply. */
  responseBody?: string;
}

export function camel(s: string): string {
  return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

export function parseTemplate(text: string): PathTemplate {
  if (!text.startsWith('/')) throw new Error(`http rule path must start with "/": ${text}`);
  // The verb is a last `:literal` outside braces.
  let verb: string | undefined;
  const close = text.lastIndexOf('}');
  const colon = text.lastIndexOf(':');
  let path = text;
  if (colon > close && colon > text.lastIndexOf('/')) { verb = text.slice(colon + 1); path = text.slice(0, colon); }
  const parts: (string | Variable)[] = [];
  let i = 1;
  while (i <= path.length) {
    if (path[i] === '{') {
      const end = path.indexOf('}', i);
      if (end < 0) throw new Error(`unclosed variable in ${text}`);
      const [field, pattern = '*'] = path.slice(i + 1, end).split('=');
      parts.push({ field: field.split('.').map(camel), pattern: pattern.split('/') });
      i = end + 2; // past `}/`
    } else {
      let end = path.indexOf('/', i);
      if (end < 0) end = path.length;
      if (end > i) parts.push(path.slice(i, end));
      i = end + 1;
    }
  }
  return { parts, verb };
}

export function bindingsOf(rule: Record<string, unknown> | undefined): HttpBinding[] {
  if (!rule) return [];
  const out: HttpBinding[] = [];
  for (const m of ['get', 'post', 'put', 'patch', 'delete'] as const) {
    const path = rule[m];
    if (typeof path === 'string') {
      out.push({
        method: m.toUpperCase() as HttpBinding['method'], template: parseTemplate(path),
        body: typeof rule.body === 'string' && rule.body ? (rule.body === '*' ? '*' : camel(rule.body)) : undefined,
        responseBody: typeof rule.response_body === 'string' && rule.response_body ? camel(rule.response_body) : undefined,
      });
    }
  }
  const more = rule.additional_bindings;
  for (const b of Array.isArray(more) ? more : more ? [more] : []) out.push(...bindingsOf(b as Record<string, unknown>));
  return out;
}

/** The value of a field path in a JSON message, or undefined. */
export function fieldValue(msg: Record<string, unknown>, path: string[]): unknown {
  let v: unknown = msg;
  for (const p of path) {
    if (typeof v !== 'object' || v === null) return undefined;
    v = (v as Record<string, unknown>)[p];
  }
  return v;
}

function matches(value: string, pattern: string[]): boolean {
  const segs = value.split('/');
  for (let i = 0; i < pattern.length; i++) {
    const p = pattern[i];
    if (p === '**') return segs.length >= i + 1 && segs.slice(i).every(s => s !== '');
    if (i >= segs.length) return false;
    if (p === '*') { if (segs[i] === '') return false; } else if (p !== segs[i]) return false;
  }
  return segs.length === pattern.length;
}

/** Values (resource names, mostly) that need no percent-encoding. */
const UNRESERVED = /^[A-Za-z0-9._~/-]*$/;

/**
 * The REST path for a request, when every variable's field holds a value of its pattern; each segment
 * percent-encoded, so no value can reach another route.
 */
export function renderPath(t: PathTemplate, msg: Record<string, unknown>): string | undefined {
  let out = '';
  for (const part of t.parts) {
    if (typeof part === 'string') { out += '/' + part; continue; }
    const v = fieldValue(msg, part.field);
    if (typeof v !== 'string' && typeof v !== 'number') return undefined;
    const s = String(v);
    if (!matches(s, part.pattern)) return undefined;
    out += '/' + (UNRESERVED.test(s) ? s : s.split('/').map(encodeURIComponent).join('/'));
  }
  return t.verb ? `${out}:${t.verb}` : out;
}

/** The first variable whose field holds no value of its pattern. */
export function mismatch(t: PathTemplate, msg: Record<string, unknown>): Variable | undefined {
  return t.parts.find((p): p is Variable => {
    if (typeof p === 'string') return false;
    const v = fieldValue(msg, p.field);
    return (typeof v !== 'string' && typeof v !== 'number') || !matches(String(v), p.pattern);
  });
}

/** The fields a template binds (their first path element is enough to leave them out of the query). */
export function boundFields(t: PathTemplate): string[][] {
  return t.parts.filter((p): p is Variable => typeof p !== 'string').map(p => p.field);
}
