// What a streaming gRPC method's handler is given, apart from the server (server.ts): the APIs that serve streams
// (TailLogEntries) import this at start-up, and it loads no gRPC library, so grpc-js waits for the first connection.
import type { ApiRequest } from '../server/api.js';

type Json = Record<string, unknown>;
type Headers = ApiRequest['headers'];

/** Largest streamed reply: under the 4 MiB every gRPC client receives by default (larger kills its call). */
export const MAX_STREAM_MESSAGE_BYTES = 4 * 1024 * 1024 - 16 * 1024;

/** Where a streaming method writes its replies. */
export interface StreamOut {
  /**
   * A reply message encoded: encodings of one message type concatenate as a merge, so a handler can build replies
   * from parts it encoded once and shares among streams (repeated fields append).
   */
  encode(msg: Json): Buffer;
  /**
   * Sends a reply (JSON, or encoded bytes) of at most MAX_STREAM_MESSAGE_BYTES; returns false, and sends nothing,
   * while this stream's unsent backlog or that of all streams together is over its bound (the client is not
   * reading): the handler keeps what it can within its own bound, or drops.
   */
  send(msg: Json | Buffer): boolean;
}

/**
 * A streaming method's server side: `first` is the client's first message; resolves when the stream is over, or
 * when `signal` aborts (the client cancelled, its deadline passed, or Gantry is stopping).
 */
export type StreamHandler = (first: Json, out: StreamOut, signal: AbortSignal, headers: Headers) => Promise<void>;

