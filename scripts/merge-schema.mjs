// Adds to a schema generated from gcloud's messages the named fields that only Google's newer discovery documents
// have (read from googleapis' typings by gen-schema-googleapis.mjs), with every message and enum they reach. gcloud's
// messages stay the base: only the listed fields are taken, so Gantry accepts nothing it does not implement.
//
//   node scripts/merge-schema.mjs BASE.json OVERLAY.json Release.toolVersions RenderMetadata.kubernetes … > OUT.json
import { readFileSync } from 'node:fs';

const [basePath, overlayPath, ...fields] = process.argv.slice(2);
const base = JSON.parse(readFileSync(basePath, 'utf8'));
const overlay = JSON.parse(readFileSync(overlayPath, 'utf8'));

function take(schema) {
  if (schema.enum) {
    if (!overlay.enums[schema.enum]) throw new Error(`enum ${schema.enum} is not in the overlay`);
    base.enums[schema.enum] ??= overlay.enums[schema.enum];
  }
  const msg = schema.message ?? schema.value?.message;
  if (msg && !base.messages[msg]) {
    if (!overlay.messages[msg]) throw new Error(`message ${msg} is not in the overlay`);
    base.messages[msg] = overlay.messages[msg];
    for (const f of Object.values(overlay.messages[msg])) take(f);
  }
}

for (const spec of fields) {
  const [message, field] = spec.split('.');
  const schema = overlay.messages[message]?.[field];
  if (!schema) throw new Error(`${spec} is not in the overlay`);
  if (!base.messages[message]) throw new Error(`${message} is not in the base`);
  if (base.messages[message][field]) throw new Error(`${spec} is already in the base: drop it from the list`);
  base.messages[message] = Object.fromEntries(Object.entries({ ...base.messages[message], [field]: schema }).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
  take(schema);
}
const sorted = o => Object.fromEntries(Object.entries(o).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)));
base.source = `${base.source} + from ${overlay.source}: ${fields.join(', ')}`;
base.messages = sorted(base.messages);
base.enums = sorted(base.enums);
process.stdout.write(JSON.stringify(base, null, 1) + '\n');
