// AIP-161 field masks on update: explicit paths (camel or snake case), and `*` for every
// mutable field. Output-only paths are ignored, as Google ignores output-only input.
import { errors } from './errors.js';
import { resolvePath } from './filter.js';
import type { ApiSchema } from './schema.js';

export function applyMask(schema: ApiSchema, message: string, existing: Record<string, unknown>,
  patch: Record<string, unknown>, mask: string | undefined): Record<string, unknown> {
  const out = structuredClone(existing);
  const fields = schema.fields(message);
  const paths = mask === undefined || mask.trim() === '' ? ['*'] : mask.split(',').map(p => p.trim()).filter(Boolean);
  for (const p of paths) {
    if (p === '*') {
      for (const [k, f] of Object.entries(fields)) {
        if (f.outputOnly || k === 'name') continue;
        if (k in patch) out[k] = patch[k]; else delete out[k];
      }
      continue;
    }
    let names: string[];
    try {
      names = resolvePath(schema, message, p.split('.')).names;
    } catch {
      throw errors.invalidArgument(`Invalid update_mask: field "${p}" does not exist in ${message}`, 'update_mask');
    }
    if (fields[names[0]]?.outputOnly) continue;
    setPath(out, names, getPath(patch, names));
  }
  return out;
}

function getPath(obj: unknown, path: string[]): unknown {
  let cur = obj;
  for (const p of path) {
    if (!cur || typeof cur !== 'object') return undefined;
    cur = (cur as Record<string, unknown>)[p];
  }
  return cur;
}

function setPath(obj: Record<string, unknown>, path: string[], value: unknown): void {
  let cur = obj;
  for (const p of path.slice(0, -1)) {
    if (!cur[p] || typeof cur[p] !== 'object') {
      if (value === undefined) return;
      cur[p] = {};
    }
    cur = cur[p] as Record<string, unknown>;
  }
  const last = path[path.length - 1];
  if (value === undefined) delete cur[last]; else cur[last] = value;
}
