// Generates schemas/<api>.json for an API gcloud ships no client for (Firebase App Hosting), from the TypeScript
// typings the `googleapis` package generates from Google's discovery documents: every message, field and field doc.
// The typings type enums as plain strings, so enum values come from a table taken from the same discovery documents
// (schemas/<api>.enums.json). Output has the format of scripts/gen-schema.py.
//
//   node scripts/gen-schema-googleapis.mjs firebaseapphosting v1beta > schemas/firebaseapphosting-v1beta.json
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import ts from 'typescript';

const [api, version] = process.argv.slice(2);
const require = createRequire(import.meta.url);
const file = require.resolve(`googleapis/build/src/apis/${api}/${version}.d.ts`);
const enums = JSON.parse(readFileSync(new URL(`../schemas/${api}.enums.json`, import.meta.url), 'utf8'));
const enumTable = { ...(enums.common ?? {}), ...(enums[version] ?? {}) };
// Numbers the typings cannot tell apart from integers.
const DOUBLES = new Set(enums.doubles ?? []);

const source = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.Latest, true);
const messages = {};
const outEnums = {};

function docOf(node) {
  const jsDoc = node.jsDoc ?? [];
  return jsDoc.map(d => (typeof d.comment === 'string' ? d.comment : '')).join(' ').trim();
}

function describe(owner, name, typeNode, doc) {
  let t = typeNode;
  // `X | null`: the null is the typings' way of saying "optional".
  if (ts.isUnionTypeNode(t)) t = t.types.find(x => !(ts.isLiteralTypeNode(x) && x.literal.kind === ts.SyntaxKind.NullKeyword));
  const d = {};
  if (ts.isArrayTypeNode(t)) { d.repeated = true; t = t.elementType; }
  else if (ts.isTypeReferenceNode(t) && t.typeName.getText() === 'Array' && t.typeArguments?.length === 1) { d.repeated = true; t = t.typeArguments[0]; }
  const enumKey = `${owner}.${name}${d.repeated ? '[]' : ''}`;
  if (ts.isTypeReferenceNode(t) && t.typeName.getText().startsWith('Schema$')) {
    d.type = 'message';
    d.message = t.typeName.getText().slice('Schema$'.length);
  } else if (ts.isTypeLiteralNode(t)) {
    const sig = t.members[0];
    const valueType = sig && ts.isIndexSignatureDeclaration(sig) ? sig.type.getText() : 'any';
    // A map of strings, or (Struct, Any) a JSON value.
    if (valueType === 'string') { d.type = 'map'; d.value = { type: 'string' }; } else d.type = 'value';
  } else {
    const kw = t.getText();
    if (enumTable[enumKey]) {
      d.type = 'enum';
      d.enum = `${owner}.${name[0].toUpperCase()}${name.slice(1)}`;
      outEnums[d.enum] = enumTable[enumKey].map((v, i) => [v, i]);
    } else if (kw === 'string') d.type = 'string';
    else if (kw === 'number') d.type = DOUBLES.has(`${owner}.${name}`) ? 'double' : 'int32';
    else if (kw === 'boolean') d.type = 'bool';
    else if (kw === 'any') d.type = 'value';
    else throw new Error(`${owner}.${name}: unknown type ${kw}`);
  }
  if (/^Output only/.test(doc) || / Output only\./.test(doc.slice(0, 40))) d.outputOnly = true;
  if (/^Required/.test(doc) || /^Optional\. Required/.test(doc)) d.required = true;
  if (doc.slice(0, 40).includes('Immutable.')) d.immutable = true;
  return d;
}

function visit(node) {
  if (ts.isInterfaceDeclaration(node) && node.name.text.startsWith('Schema$')) {
    const owner = node.name.text.slice('Schema$'.length);
    const fields = {};
    for (const m of node.members) {
      if (!ts.isPropertySignature(m) || !m.type) continue;
      const name = m.name.getText();
      fields[name] = describe(owner, name, m.type, docOf(m));
    }
    messages[owner] = Object.fromEntries(Object.entries(fields).sort(([a], [b]) => a.localeCompare(b)));
  }
  ts.forEachChild(node, visit);
}
visit(source);
for (const key of Object.keys(enumTable)) {
  const [owner, field] = key.replace('[]', '').split('.');
  if (!messages[owner]?.[field]) throw new Error(`enum ${key} names no field of the ${version} typings`);
}
const sorted = o => Object.fromEntries(Object.entries(o).sort(([a], [b]) => a.localeCompare(b)));
process.stdout.write(JSON.stringify({ source: `googleapis ${api} ${version} typings + ${api}.enums.json`, messages: sorted(messages), enums: sorted(outEnums) }, null, 1) + '\n');
