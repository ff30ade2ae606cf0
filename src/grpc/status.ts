// A Google error as a gRPC status: the real code (ALREADY_EXISTS is 6, FAILED_PRECONDITION 9: not what an HTTP
// status would suggest), the message, and the whole google.rpc.Status with its typed details in
// `grpc-status-details-bin`, where the client libraries read ErrorInfo, BadRequest and the rest.
import { Metadata, status as Status, type StatusObject } from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { ApiError, GRPC_CODE } from '../google/errors.js';
import { encodeJson } from './transcode.js';

/**
 * A lone UTF-16 surrogate as U+FFFD. protobufjs decodes invalid UTF-8 in a request's strings into lone surrogates,
 * which errors quote back; grpc-js percent-encodes `grpc-message` with encodeURIComponent, which throws on them, and
 * the client would get UNKNOWN instead of the status.
 */
export function wellFormed(s: string): string {
  return s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}

export function grpcStatus(root: protobuf.Root, e: ApiError): StatusObject {
  const code = GRPC_CODE[e.code];
  const metadata = new Metadata();
  const type = root.lookupType('google.rpc.Status');
  try {
    metadata.set('grpc-status-details-bin', encodeJson(type, { code, message: e.message, details: e.details }));
  } catch {
    // A detail of a type no loaded proto defines: the status goes without details rather than not at all.
    metadata.set('grpc-status-details-bin', encodeJson(type, { code, message: e.message }));
  }
  return { code: code as Status, details: wellFormed(e.message), metadata };
}
