// Cloud Deploy deploy parameters: after rendering, a field whose line ends with `# from-param: ${name}` gets
// the parameter's value (https://cloud.google.com/deploy/docs/parameters). The rules are kpt's apply-setters, as
// Skaffold (pkg/skaffold/render/applysetters) and Cloud Deploy's own samples
// (custom-targets/util/applysetters) implement them:
//   - scalars (mapping values and list items, not keys): the comment is a pattern such as `${image}:${tag}`;
//     it applies when it names at least one given parameter; named parameters are substituted, the others are
//     taken from the current value by matching it against the pattern; an unresolvable one is an error;
//   - a list whose key carries the comment (`envs: # from-param: ${envs}` or `envs: [a] # from-param: ${envs}`)
//     is replaced by the parameter's value, which must be a YAML list (empty string → `[]`);
//   - a field whose pattern names no given parameter, and every other byte, is left exactly as it was.
import type { Document, Pair, YAMLSeq } from 'yaml';
import { yaml } from '../lazy-deps.js';
import { SkaffoldError, firstLine } from './errors.js';
import { applyEdits, isPlainSafe, scalarEdit, type Edit } from './images.js';

const MARK = '# from-param: ';
const SETTER = /\$\{([^}]*)\}/g;

/** Cloud Deploy's post-render deploy-parameter substitution (`# from-param: ${key}` markers). */
export function applyDeployParameters(manifests: string, params: Record<string, string>): string {
  if (!manifests.includes(MARK) || Object.keys(params).length === 0) return manifests;
  const docs = yaml().parseAllDocuments(manifests);
  const edits: Edit[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    const err = doc.errors[0];
    if (err) throw new SkaffoldError(`applying deploy parameters: ${firstLine(err.message)}`, 'INVALID_CONFIG');
    edits.push(...docEdits(doc, manifests, params));
  }
  return applyEdits(manifests, edits);
}

/** The `# from-param:` pattern written after `end` on the same line, or undefined. */
function lineComment(src: string, end: number): string | undefined {
  const nl = src.indexOf('\n', end);
  const rest = src.slice(end, nl < 0 ? undefined : nl).replace(/\r$/, '');
  const m = /^[ \t]*(#.*)$/.exec(rest);
  if (!m || !m[1].startsWith(MARK)) return undefined;
  return m[1].slice(MARK.length).trim();
}

const names = (pattern: string) => [...pattern.matchAll(SETTER)].map(m => m[1]);
const shouldSet = (pattern: string, params: Record<string, string>) => Object.keys(params).some(k => pattern.includes(`\${${k}}`));

function docEdits(doc: Document, src: string, params: Record<string, string>): Edit[] {
  const edits: Edit[] = [];
  yaml().visit(doc, {
    Scalar(key, node) {
      if (key === 'key' || !node.range) return;
      const pattern = lineComment(src, node.range[1]);
      if (pattern === undefined || !shouldSet(pattern, params)) return;
      const current = typeof node.value === 'string' ? node.value : src.slice(node.range[0], node.range[1]);
      edits.push(scalarEdit(node, setScalar(pattern, current, params)));
    },
    Pair(_, pair) {
      const seq = (pair as Pair).value;
      if (!yaml().isSeq(seq)) return;
      const keyNode = (pair as Pair).key;
      // Block lists carry the comment after their key's `:`, flow lists after the closing bracket.
      const after = seq.flow ? seq.range?.[1] : yaml().isScalar(keyNode) && keyNode.range ? src.indexOf(':', keyNode.range[1]) + 1 : undefined;
      if (after === undefined || after <= 0) return;
      const pattern = lineComment(src, after);
      if (pattern === undefined || !shouldSet(pattern, params)) return;
      const edit = setSequence(pattern, seq, src, params);
      if (edit) edits.push(edit);
      return yaml().visit.SKIP;
    },
  });
  return edits;
}

function setScalar(pattern: string, current: string, params: Record<string, string>): string {
  let value = pattern;
  for (const [k, v] of Object.entries(params)) value = value.split(`\${${k}}`).join(v);
  const derived = currentValues(pattern, current);
  for (const [k, v] of Object.entries(derived)) value = value.split(`\${${k}}`).join(v);
  const unresolved = [...value.matchAll(SETTER)].map(m => m[0]);
  if (unresolved.length > 0) throw new SkaffoldError(`values for setters [${unresolved.join(' ')}] must be provided`, 'INVALID_CONFIG');
  return value;
}

/** Values of the pattern's setters read off the current value (all or nothing, as apply-setters does). */
function currentValues(pattern: string, value: string): Record<string, string> {
  const setters = names(pattern);
  let re = pattern.replace(/[.*+?^${}()|[\]\\]/g, m => `\\${m}`);
  for (const n of setters) re = re.split(`\\$\\{${n.replace(/[.*+?^${}()|[\]\\]/g, m => `\\${m}`)}\\}`).join('(.*)');
  let m: RegExpExecArray | null;
  try { m = new RegExp(re).exec(value); } catch { return {}; }
  if (!m || m.length - 1 !== setters.length) return {};
  const out: Record<string, string> = {};
  for (let i = 0; i < setters.length; i++) {
    if (m[i + 1] === '') return {};
    out[setters[i].trim()] = m[i + 1];
  }
  return out;
}

function setSequence(pattern: string, seq: YAMLSeq, src: string, params: Record<string, string>): Edit | undefined {
  const ns = names(pattern);
  if (ns.length !== 1 || !pattern.startsWith('${') || !pattern.endsWith('}')) {
    throw new SkaffoldError(`invalid setter pattern for array node: "${pattern}"`, 'INVALID_CONFIG');
  }
  const value = params[ns[0].trim()] ?? '';
  const [start, end] = seq.range!;
  let items: unknown[] = [];
  if (value !== '') {
    const parsed = yaml().parseDocument(value);
    if (parsed.errors.length > 0 || !yaml().isSeq(parsed.contents)) {
      throw new SkaffoldError(`input to array setter must be an array of values, but found "${value}"`, 'INVALID_CONFIG');
    }
    items = parsed.contents.items.map(i => (yaml().isScalar(i) || yaml().isMap(i) || yaml().isSeq(i) ? i.toJSON() : null));
  }
  const render = (v: unknown) => (typeof v === 'string' && isPlainSafe(v) ? v : JSON.stringify(v));
  if (seq.flow || items.length === 0) {
    // A flow list stays a flow list; an emptied block list has to become one (`[]`, where the items were).
    const text = `[${items.map(render).join(', ')}]`;
    return { start, end: seq.flow ? end : trimEnd(src, end), text };
  }
  const indent = src.slice(src.lastIndexOf('\n', start - 1) + 1, start);
  const text = items.map(v => `- ${render(v)}`).join(`\n${indent}`);
  return { start, end: trimEnd(src, end), text };
}

/** The end of a block node without the line break(s) it owns. */
function trimEnd(src: string, end: number): number {
  let e = end;
  while (e > 0 && (src[e - 1] === '\n' || src[e - 1] === '\r')) e--;
  return e;
}
