// AIP-132 order_by: "field [desc], other" with case-insensitive (and PascalCase) field names.
import { errors } from './errors.js';
import { resolvePath } from './filter.js';
import type { ApiSchema } from './schema.js';

export interface OrderKey { path: string[]; desc: boolean }

export function parseOrderBy(schema: ApiSchema, message: string, orderBy: string | undefined): OrderKey[] {
  if (!orderBy || !orderBy.trim()) return [];
  return orderBy.split(',').map(part => {
    const words = part.trim().split(/\s+/);
    if (!words[0] || words.length > 2 || (words[1] && !/^(asc|desc)$/i.test(words[1]))) {
      throw errors.invalidArgument(`Invalid order_by: "${part.trim()}"`, 'order_by');
    }
    let resolved;
    try {
      resolved = resolvePath(schema, message, words[0].split('.'));
    } catch {
      throw errors.invalidArgument(`Invalid order_by: unknown field "${words[0]}"`, 'order_by');
    }
    if (resolved.field?.repeated || resolved.field?.type === 'message' || resolved.field?.type === 'map') {
      throw errors.invalidArgument(`Invalid order_by: field "${words[0]}" cannot be ordered on`, 'order_by');
    }
    return { path: resolved.names, desc: /^desc$/i.test(words[1] ?? '') };
  });
}
