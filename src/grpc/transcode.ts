// One gRPC method as the REST call it stands for (google.api.http transcoding): the request message becomes a path
// (its variables from fields), a body (`*` or one field) and query parameters (every other set field); the REST
// handler's JSON answer becomes the response message. Both directions use proto3's JSON mapping
// (proto3-json-serializer), so Timestamps, Durations, FieldMasks, Anys, enums and int64s convert as Google's own
// transcoder converts them.
import type protobuf from 'protobufjs';
import { fromProto3JSON, toProto3JSON } from 'proto3-json-serializer';
import type { Query } from '../server/api.js';
import { boundFields, renderPath, type HttpBinding } from './http-rule.js';

type Json = Record<string, unknown>;

export interface RestCall {
  method: string;
  path: string;
  query: Query;
  body: unknown;
  binding: HttpBinding;
}

/** The REST call for `msg` through the first binding its field values fit, or undefined when none does. */
export function restCall(bindings: HttpBinding[], msg: Json): RestCall | undefined {
  for (const b of bindings) {
    const path = renderPath(b.template, msg);
    if (path === undefined) continue;
    const bound = topLevelBound(b);
    let body: unknown;
    const query: Query = {};
    if (b.body === '*') {
      const rest: Json = {};
      for (const k in msg) if (!bound.has(k)) rest[k] = msg[k];
      body = rest;
    } else {
      if (b.body) body = msg[b.body];
      for (const k in msg) if (!bound.has(k) && k !== b.body) addQuery(query, k, msg[k]);
    }
    return { method: b.method, path, query, body, binding: b };
  }
  return undefined;
}

const boundCache = new WeakMap<HttpBinding, Set<string>>();
/** The top-level fields a binding's path holds: not repeated in its body or query. */
function topLevelBound(b: HttpBinding): Set<string> {
  let set = boundCache.get(b);
  if (!set) boundCache.set(b, (set = new Set(boundFields(b.template).filter(f => f.length === 1).map(f => f[0]))));
  return set;
}

/** Query parameters as transcoding sends them: nested messages by dotted path, repeated scalars repeated. */
function addQuery(query: Query, key: string, v: unknown): void {
  if (v === null || v === undefined) return;
  if (Array.isArray(v)) {
    const scalars = v.filter(x => typeof x !== 'object').map(String);
    if (scalars.length) query[key] = scalars;
  } else if (typeof v === 'object') {
    for (const k in v as Json) addQuery(query, `${key}.${k}`, (v as Json)[k]);
  } else {
    query[key] = String(v);
  }
}

/** A request message's bytes as proto3 JSON (only the fields the client set). */
export function decodeRequest(type: protobuf.Type, bytes: Uint8Array): Json {
  // protobufjs's Buffer reader cuts a string whose length runs past the end instead of refusing the message, so a
  // plain Uint8Array view is read, strictly. But proto3-json-serializer ignores a Uint8Array's offset, so a message
  // with `bytes` fields is read a second time, as a Buffer, for their values.
  const view = Buffer.isBuffer(bytes) ? new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength) : bytes;
  const strict = type.decode(view);
  const msg = view !== bytes && holdsBytes(type) ? type.decode(bytes) : strict;
  return toProto3JSON(msg as protobuf.Message & { $type: protobuf.Type }) as Json;
}

const bytesTypes = new WeakMap<protobuf.Type, boolean>();
/** Whether a message (or any message inside it) has a `bytes` field. */
function holdsBytes(type: protobuf.Type): boolean {
  let known = bytesTypes.get(type);
  if (known === undefined) bytesTypes.set(type, (known = reachesBytes(type, new Set())));
  return known;
}

function reachesBytes(type: protobuf.Type, seen: Set<protobuf.Type>): boolean {
  if (seen.has(type)) return false;
  seen.add(type);
  return type.fieldsArray.some(f => f.type === 'bytes' || (f.resolvedType && 'fieldsArray' in f.resolvedType && reachesBytes(f.resolvedType as protobuf.Type, seen)));
}

/** A JSON value of `type` as message bytes. */
export function encodeJson(type: protobuf.Type, json: unknown): Buffer {
  const msg = fromProto3JSON(type, json as Parameters<typeof fromProto3JSON>[1]);
  return Buffer.from(type.encode(msg ?? {}).finish());
}
