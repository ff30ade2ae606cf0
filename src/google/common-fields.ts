// Limits on the fields most Google resources share: labels, annotations, description.
import { errors, type FieldViolation } from './errors.js';

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]*$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]*$/u;
const bytes = (s: string) => Buffer.byteLength(s, 'utf8');

export function checkCommonFields(r: Record<string, unknown>, path: string, opts: { labelMax?: number } = {}): void {
  const v: FieldViolation[] = [];
  const labels = (r.labels ?? {}) as Record<string, string>;
  const max = opts.labelMax ?? 128;
  if (Object.keys(labels).length > 64) v.push({ field: `${path}.labels`, description: 'A resource may have at most 64 labels.' });
  for (const [k, val] of Object.entries(labels)) {
    if (!LABEL_KEY.test(k) || bytes(k) > max) {
      v.push({ field: `${path}.labels`, description: `Label key "${k}" is invalid: keys must start with a lowercase letter or international character, contain only lowercase letters, digits, underscores and dashes, and be at most ${max} bytes.` });
    }
    if (!LABEL_VALUE.test(val) || bytes(val) > max) {
      v.push({ field: `${path}.labels`, description: `Label value "${val}" of key "${k}" is invalid: values may contain only lowercase letters, digits, underscores and dashes, and be at most ${max} bytes.` });
    }
  }
  const annotations = (r.annotations ?? {}) as Record<string, string>;
  let size = 0;
  for (const [k, val] of Object.entries(annotations)) size += bytes(k) + bytes(val);
  if (size > 256 * 1024) v.push({ field: `${path}.annotations`, description: 'Annotations may total at most 256 KiB.' });
  const description = r.description;
  if (typeof description === 'string' && [...description].length > 255) {
    v.push({ field: `${path}.description`, description: 'The description may be at most 255 characters.' });
  }
  if (v.length) throw errors.invalidFields(v.map(x => x.description).join(' '), v);
}
