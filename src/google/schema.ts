// Request validation and response encoding driven by a generated API schema (schemas/*.json).
// Mirrors Google's front end: unknown fields, wrong types and bad enum names are INVALID_ARGUMENT
// naming the field; output-only fields are dropped; proto3 defaults are omitted so stored JSON is
// exactly what Google would send back.
import { readFileSync } from 'node:fs';
import { errors, type FieldViolation } from './errors.js';

export interface FieldSchema {
  type: 'string' | 'bool' | 'bytes' | 'double' | 'int32' | 'uint32' | 'int64' | 'uint64' | 'enum' | 'message' | 'map' | 'value';
  repeated?: boolean;
  enum?: string;
  message?: string;
  value?: FieldSchema;
  outputOnly?: boolean;
  required?: boolean;
  immutable?: boolean;
  /** proto3 field presence (`optional`, a oneof member): an explicit zero is kept, not dropped as the default. */
  presence?: boolean;
}
type Json = unknown;
type Obj = Record<string, Json>;

export class ApiSchema {
  readonly messages: Record<string, Record<string, FieldSchema>>;
  private readonly enumNames: Record<string, string[]> = {};
  private readonly enumNumbers: Record<string, Map<string, number>> = {};
  private readonly enumByNumber: Record<string, Map<number, string>> = {};

  constructor(file: string, readonly protoPackage: string) {
    const raw = JSON.parse(readFileSync(file, 'utf8')) as { messages: ApiSchema['messages']; enums: Record<string, [string, number][]> };
    this.messages = raw.messages;
    for (const [name, values] of Object.entries(raw.enums)) {
      this.enumNames[name] = values.map(v => v[0]);
      this.enumNumbers[name] = new Map(values);
      this.enumByNumber[name] = new Map(values.map(([n, v]) => [v, n]));
    }
  }

  fields(message: string): Record<string, FieldSchema> {
    const f = this.messages[message];
    if (!f) throw new Error(`schema has no message ${message}`);
    return f;
  }

  enumValues(name: string): string[] { return this.enumNames[name] ?? []; }
  enumNumber(name: string, value: string): number | undefined { return this.enumNumbers[name]?.get(value); }

  /**
   * Validates `input` as a `message` and returns its canonical stored form. `path` is the
   * request field the message sits in (snake_case, as Google names it in errors).
   */
  decode(message: string, input: Json, path = ''): Obj {
    const violations: FieldViolation[] = [];
    const out = this.decodeMessage(message, input, path, violations);
    if (violations.length) {
      throw errors.invalidFields('Invalid JSON payload received. ' + violations.slice(0, 20).map(v => v.description).join('\n'), violations);
    }
    return out ?? {};
  }

  /** While set, fields a message lacks pass (a check of stored data, which holds Gantry's own bookkeeping too). */
  private lenient = false;

  /**
   * Why a stored resource does not fit `message` (a field of the wrong JSON type, an unknown enum value), or
   * undefined when it does. Fields the message lacks pass: this checks stored data (a snapshot's), not a request.
   */
  storedViolation(message: string, value: Json): string | undefined {
    const v: FieldViolation[] = [];
    this.lenient = true;
    try { this.decodeMessage(message, value, '', v); } finally { this.lenient = false; }
    return v[0]?.description;
  }

  private decodeMessage(message: string, input: Json, path: string, v: FieldViolation[]): Obj | undefined {
    if (input === null) return undefined;
    if (typeof input !== 'object' || Array.isArray(input)) {
      v.push(invalidValue(path, 'TYPE_MESSAGE', input));
      return undefined;
    }
    const fields = this.fields(message);
    const out: Obj = {};
    for (const [key, value] of Object.entries(input as Obj)) {
      const name = key in fields ? key : toCamel(key);
      const f = fields[name];
      if (!f) {
        if (this.lenient) continue;
        const at = path ? ` at '${path}'` : '';
        v.push({ field: path, description: `Unknown name "${key.length > 100 ? key.slice(0, 100) + '…' : key}"${at}: Cannot find field.` });
        continue;
      }
      const fpath = join(path, toSnake(name));
      const decoded = f.repeated ? this.decodeRepeated(f, value, fpath, v) : this.decodeValue(f, value, fpath, v, f.presence);
      if (decoded !== undefined && !f.outputOnly) out[name] = decoded;
    }
    return out;
  }

  private decodeRepeated(f: FieldSchema, value: Json, path: string, v: FieldViolation[]): Json[] | undefined {
    if (value === null) return this.lenient ? bad(v, path, 'repeated, not null', value) : undefined;
    if (!Array.isArray(value)) {
      v.push(invalidValue(path, 'TYPE_' + (f.type === 'message' ? 'MESSAGE' : f.type.toUpperCase()), value, 'repeated '));
      return undefined;
    }
    const out: Json[] = [];
    value.forEach((item, i) => {
      const d = this.decodeValue(f, item, `${path}[${i}]`, v, true);
      out.push(d === undefined ? defaultOf(f) : d);
    });
    return out.length ? out : undefined;
  }

  private decodeValue(f: FieldSchema, value: Json, path: string, v: FieldViolation[], keepDefault = false): Json {
    // A request may send null for "unset"; stored JSON never holds one (decoding dropped it), so a stored null is forged.
    if (value === null && f.type !== 'value') return this.lenient ? bad(v, path, 'not null', value) : undefined;
    switch (f.type) {
      case 'string':
        if (typeof value !== 'string') return bad(v, path, 'TYPE_STRING', value);
        return value === '' && !keepDefault ? undefined : value;
      case 'bytes':
        if (typeof value !== 'string' || !/^[A-Za-z0-9+/_-]*=*$/.test(value)) return bad(v, path, 'TYPE_BYTES', value);
        return value === '' && !keepDefault ? undefined : value;
      case 'bool':
        if (typeof value !== 'boolean') return bad(v, path, 'TYPE_BOOL', value);
        return value || keepDefault ? value : undefined;
      case 'double':
        if (typeof value === 'number') return value === 0 && !keepDefault ? undefined : value;
        if (typeof value === 'string' && (value === 'NaN' || value === 'Infinity' || value === '-Infinity' || (value.trim() !== '' && !Number.isNaN(Number(value))))) return Number(value);
        return bad(v, path, 'TYPE_DOUBLE', value);
      case 'int32': case 'uint32': case 'int64': case 'uint64': {
        const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
        const is64 = f.type === 'int64' || f.type === 'uint64';
        const unsigned = f.type.startsWith('u');
        const max = is64 ? Number.MAX_SAFE_INTEGER : unsigned ? 4294967295 : 2147483647;
        const min = unsigned ? 0 : is64 ? Number.MIN_SAFE_INTEGER : -2147483648;
        if (!Number.isInteger(n) || n > max || n < min) return bad(v, path, 'TYPE_' + f.type.toUpperCase(), value);
        if (n === 0 && !keepDefault) return undefined;
        return is64 ? String(n) : n;
      }
      case 'enum': {
        const enumName = f.enum!;
        let name: string | undefined;
        if (typeof value === 'string' && this.enumNumbers[enumName]?.has(value)) name = value;
        else if (typeof value === 'number') name = this.enumByNumber[enumName]?.get(value);
        if (name === undefined) return bad(v, path, `type.googleapis.com/${this.protoPackage}.${enumName}`, value);
        return this.enumNumbers[enumName]!.get(name) === 0 && !keepDefault ? undefined : name;
      }
      case 'message':
        return this.decodeMessage(f.message!, value, path, v) ?? (keepDefault ? {} : undefined);
      case 'map': {
        if (typeof value !== 'object' || value === null || Array.isArray(value)) return bad(v, path, 'TYPE_MESSAGE', value);
        const out: Obj = {};
        for (const [k, item] of Object.entries(value as Obj)) {
          const d = this.decodeValue(f.value!, item, `${path}[${JSON.stringify(k)}]`, v, true);
          if (d !== undefined) out[k] = d;
        }
        return Object.keys(out).length ? out : undefined;
      }
      case 'value':
        return value;
    }
  }

  /** Converts enum names to their numbers, for `$alt=json;enum-encoding=int` responses. */
  enumsToInts(message: string, obj: Obj): Obj {
    const fields = this.messages[message];
    if (!fields) return obj;
    const out: Obj = {};
    for (const [k, value] of Object.entries(obj)) {
      const f = fields[k];
      out[k] = f ? this.valueToInts(f, value) : value;
    }
    return out;
  }

  /**
   * `obj` with only the fields `message` has, at every depth: one stored form serves several versions of an API
   * (App Hosting's v1 is v1beta without its extra fields).
   */
  prune(message: string, obj: Obj): Obj {
    const fields = this.messages[message];
    if (!fields) return obj;
    const out: Obj = {};
    for (const [k, value] of Object.entries(obj)) {
      const f = fields[k];
      if (!f) continue;
      if (f.type === 'message' && value && typeof value === 'object') {
        out[k] = Array.isArray(value) ? value.map(v => this.prune(f.message!, v as Obj)) : this.prune(f.message!, value as Obj);
      } else out[k] = value;
    }
    return out;
  }

  private valueToInts(f: FieldSchema, value: Json): Json {
    if (f.repeated && Array.isArray(value)) return value.map(item => this.scalarToInts(f, item));
    return this.scalarToInts(f, value);
  }

  private scalarToInts(f: FieldSchema, value: Json): Json {
    if ((f.type === 'map' || f.type === 'value') && value && typeof value === 'object' && '@type' in value) {
      // google.protobuf.Any (an Operation's response): encode by the message its @type names.
      const t = String((value as Obj)['@type']);
      const prefix = `type.googleapis.com/${this.protoPackage}.`;
      return t.startsWith(prefix) ? this.enumsToInts(t.slice(prefix.length), value as Obj) : value;
    }
    if (f.type === 'enum' && typeof value === 'string') return this.enumNumbers[f.enum!]?.get(value) ?? value;
    if (f.type === 'message' && value && typeof value === 'object') return this.enumsToInts(f.message!, value as Obj);
    if (f.type === 'map' && value && typeof value === 'object' && (f.value!.type === 'message' || f.value!.type === 'enum')) {
      const out: Obj = {};
      for (const [k, item] of Object.entries(value as Obj)) out[k] = this.scalarToInts(f.value!, item);
      return out;
    }
    return value;
  }
}

function defaultOf(f: FieldSchema): Json {
  switch (f.type) {
    case 'string': case 'bytes': return '';
    case 'bool': return false;
    case 'int64': case 'uint64': return '0';
    case 'message': case 'map': return {};
    default: return 0;
  }
}

function invalidValue(path: string, type: string, value: Json, prefix = ''): FieldViolation {
  return { field: path, description: `Invalid value at '${path}' (${prefix}${type}), ${preview(value)}` };
}

/** The offending value as Google quotes it, cut short so a huge or deep value cannot blow up the message. */
function preview(value: Json): string {
  if (value === null || typeof value !== 'object') {
    const s = JSON.stringify(value) ?? String(value);
    return s.length > 100 ? s.slice(0, 100) + '…' : s;
  }
  return Array.isArray(value) ? `[…] (${value.length} items)` : '{…}';
}
function bad(v: FieldViolation[], path: string, type: string, value: Json): undefined {
  v.push(invalidValue(path, type, value));
  return undefined;
}
function join(path: string, name: string): string { return path ? `${path}.${name}` : name; }
export function toSnake(s: string): string { return s.replace(/[A-Z]/g, c => '_' + c.toLowerCase()); }
export function toCamel(s: string): string { return s.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase()); }
