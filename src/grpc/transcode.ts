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
    const bound = new Set(boundFields(b.template).filter(f => f.length === 1).map(f => f[0]));
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
  // Read twice: protobufjs's Buffer reader cuts a string whose length runs past the end instead of refusing the
  // message, so a plain Uint8Array view is read first, strictly; but only the Buffer reader's `bytes` fields
  // survive proto3-json-serializer (which ignores a Uint8Array's offset).
  if (Buffer.isBuffer(bytes)) type.decode(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  return toProto3JSON(type.decode(bytes) as protobuf.Message & { $type: protobuf.Type }) as Json;
}

/** A JSON value of `type` as message bytes. */
export function encodeJson(type: protobuf.Type, json: unknown): Buffer {
  const msg = fromProto3JSON(type, json as Parameters<typeof fromProto3JSON>[1]);
  return Buffer.from(type.encode(msg ?? {}).finish());
}
