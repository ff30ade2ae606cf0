// AIP-132 order_by: "field [desc], other" with case-insensitive (and PascalCase) field names.
import { errors } from './errors.js';
import { resolvePath } from './filter.js';
import type { ApiSchema } from './schema.js';

export interface OrderKey { path: string[]; desc: boolean }

/** Every key is a sort term in SQL (and a column of the page cursor): a handful serves any real listing. */
export const MAX_ORDER_BY_LENGTH = 1024;
export const MAX_ORDER_KEYS = 8;

export function parseOrderBy(schema: ApiSchema, message: string, orderBy: string | undefined): OrderKey[] {
  if (!orderBy || !orderBy.trim()) return [];
  if (orderBy.length > MAX_ORDER_BY_LENGTH) {
    throw errors.invalidArgument(`Invalid order_by: it is ${orderBy.length} characters long; the limit is ${MAX_ORDER_BY_LENGTH}`, 'order_by');
  }
  const parts = orderBy.split(',');
  if (parts.length > MAX_ORDER_KEYS) throw errors.invalidArgument(`Invalid order_by: ${parts.length} fields; the limit is ${MAX_ORDER_KEYS}`, 'order_by');
  return parts.map(part => {
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
