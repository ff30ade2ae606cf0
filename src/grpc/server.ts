// gRPC on the HTTP port: connections that open with HTTP/2's preface are handed here (app.ts) and served by
// @grpc/grpc-js. Every unary method is transcoded to the REST route that already serves it (transcode.ts), so both
// transports share validation, behaviour and errors; streaming methods are served by the API that owns them.
import type { Socket } from 'node:net';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { requestAbort, stoppingController, type RequestAbort } from '../server/request-abort.js';
import { ApiError, errors } from '../google/errors.js';
import type { ApiReply, ApiRequest } from '../server/api.js';
import type { App } from '../server/app.js';
import type { Logger } from '../server/log.js';
import { Lru } from '../store/lru.js';
import { bindingsOf, fieldValue, mismatch, type HttpBinding } from './http-rule.js';
import { isMixin, mixinBindings } from './mixins.js';
import { protoRoot, SERVICE_FILES } from './protos.js';
import { grpcStatus } from './status.js';
import { decodeRequest, encodeJson, restCall, type RestCall } from './transcode.js';
import { MAX_STREAM_MESSAGE_BYTES, type StreamHandler, type StreamOut } from './streams.js';

type Json = Record<string, unknown>;
type Headers = ApiRequest['headers'];
/** What every kind of server call has. */
interface SurfaceCall { metadata: grpc.Metadata; cancelled: boolean; getHost(): string; once(event: 'cancelled', listener: () => void): unknown }

export interface GrpcOptions {
  log: Logger;
  /** Largest request message (a JSON body's limit over HTTP). */
  maxMessageBytes: number;
  /** Streaming methods by gRPC path (`/google.logging.v2.LoggingServiceV2/TailLogEntries`). */
  streams?: Record<string, StreamHandler>;
}

/** Encoded replies of stored resources, by their JSON: a repeated GET re-sends the bytes. */
const REPLY_CACHE_ENTRIES = 2_000;
const REPLY_CACHE_BYTES = 16 * 1024 * 1024;
const END_GRACE_MS = 1_000;
const SOCKET_IDLE_MS = 120_000;
/** A streaming client that stops reading gets no more than this (and one message) queued for it... */
const STREAM_BACKLOG_BYTES = 4 * 1024 * 1024;
/** ...and all streams together no more than this. */
const ALL_STREAMS_BACKLOG_BYTES = 64 * 1024 * 1024;

export class GrpcFront {
  private server?: grpc.Server;
  private injector?: ReturnType<grpc.Server['createConnectionInjector']>;
  private root?: protobuf.Root;
  private replies = new Map<protobuf.Type, Lru<string, Buffer>>();
  private stopping = stoppingController();
  /** Bytes written to streaming calls and not yet handed to their sockets. */
  private backlog = 0;

  constructor(private app: App, private opts: GrpcOptions) {}

  /** Serves a connection whose HTTP/2 preface is unread in the socket. */
  accept(socket: Socket): void {
    // HTTP/2 has no half-close of the connection: a client that ended its side is going (what it asked for may
    // still be answered within the grace time). A socket silent for as long as an HTTP/1 one may be closes too;
    // clients reconnect on their next call.
    socket.once('end', () => setTimeout(() => socket.destroy(), END_GRACE_MS).unref());
    socket.setTimeout(SOCKET_IDLE_MS, () => socket.destroy());
    this.start().injectConnection(socket);
  }

  close(): void {
    this.stopping.abort();
    this.injector?.destroy();
    this.server?.forceShutdown();
  }

  private start(): NonNullable<GrpcFront['injector']> {
    if (this.injector) return this.injector;
    const root = (this.root = protoRoot());
    const server = new grpc.Server({
      'grpc.max_receive_message_length': this.opts.maxMessageBytes,
      'grpc.max_concurrent_streams': 100,
      'grpc.max_connection_idle_ms': 10 * 60_000,
    });
    for (const name of Object.keys(SERVICE_FILES)) {
      const service = root.lookupService(name);
      const definition: Record<string, grpc.MethodDefinition<Buffer, Buffer>> = {};
      const implementation: grpc.UntypedServiceImplementation = {};
      for (const m of service.methodsArray) {
        const path = `/${name}/${m.name}`;
        const identity = (b: Buffer) => b;
        definition[m.name] = {
          path, requestStream: !!m.requestStream, responseStream: !!m.responseStream, originalName: m.name,
          requestSerialize: identity, requestDeserialize: identity, responseSerialize: identity, responseDeserialize: identity,
        };
        implementation[m.name] = m.requestStream || m.responseStream ? this.streaming(path, m) : this.unary(name, m);
      }
      server.addService(definition, implementation);
    }
    this.server = server;
    this.injector = server.createConnectionInjector(grpc.ServerCredentials.createInsecure());
    return this.injector;
  }

  private unary(service: string, m: protobuf.Method): grpc.handleUnaryCall<Buffer, Buffer> {
    const input = m.resolvedRequestType!, output = m.resolvedResponseType!;
    const own = bindingsOf(httpRule(m));
    const mixin = isMixin(service);
    return (call, callback) => {
      const start = performance.now();
      let signal: ReturnType<typeof lazySignal> | undefined;
      const fail = (e: unknown) => { signal?.end(); const st = this.status(e, call.getPath()); this.logCall(call.getPath(), st.code, start); callback(st); };
      const ok = (b: Buffer) => { signal?.end(); this.logCall(call.getPath(), 0, start); callback(null, b); };
      try {
        const headers = headersOf(call);
        this.app.admit(headers);
        const msg = decode(input, call.request);
        signal = lazySignal(call, this.stopping.signal);
        const out = mixin ? this.tryEach(mixinBindings(service, m.name, String(headers.host)), msg, headers, output, signal.get)
          : this.call(callFor(own, msg, m), headers, output, signal.get);
        if (out instanceof Promise) out.then(ok, fail);
        else ok(out);
      } catch (e) {
        fail(e);
      }
    };
  }

  /** A mixin method through each API's binding in turn, while the answer is NOT_FOUND (mixins.ts). */
  private tryEach(bindings: HttpBinding[], msg: Json, headers: Headers, output: protobuf.Type, signal: () => AbortSignal): Buffer | Promise<Buffer> {
    let first: unknown;
    const attempt = (i: number): Buffer | Promise<Buffer> => {
      if (i >= bindings.length) throw first;
      const retry = (e: unknown) => {
        if (!(e instanceof ApiError) || (e.code !== 'NOT_FOUND' && e.code !== 'UNIMPLEMENTED')) throw e;
        first ??= e;
        return attempt(i + 1);
      };
      const rc = restCall([bindings[i]], msg);
      if (!rc) return retry(invalidName(bindings[i], msg));
      try {
        const out = this.call(rc, headers, output, signal);
        return out instanceof Promise ? out.catch(retry) : out;
      } catch (e) {
        return retry(e);
      }
    };
    return attempt(0);
  }

  private call(rc: RestCall, headers: Headers, output: protobuf.Type, signal: () => AbortSignal): Buffer | Promise<Buffer> {
    const reply = this.app.invoke(rc.method, rc.path, rc.query, rc.body, headers, signal);
    const field = rc.binding.responseBody;
    return reply instanceof Promise ? reply.then(r => this.encode(output, r, field)) : this.encode(output, reply, field);
  }

  private encode(output: protobuf.Type, reply: ApiReply, field?: string): Buffer {
    if (reply.bytes) throw errors.unimplemented('This method answers with media, which gRPC does not carry here.', {});
    if (reply.raw && typeof reply.body === 'string' && !field) {
      let cache = this.replies.get(output);
      if (!cache) this.replies.set(output, (cache = new Lru(REPLY_CACHE_ENTRIES, REPLY_CACHE_BYTES, b => b.length)));
      const hit = cache.get(reply.body);
      if (hit) return hit;
      const bytes = encodeJson(output, JSON.parse(reply.body));
      cache.set(reply.body, bytes);
      return bytes;
    }
    let body = reply.raw ? JSON.parse(reply.body as string) : (reply.body ?? {});
    if (field) body = (body as Json)[field] ?? {};
    return encodeJson(output, body);
  }

  private streaming(path: string, m: protobuf.Method): grpc.handleBidiStreamingCall<Buffer, Buffer> {
    const handler = this.opts.streams?.[path];
    const input = m.resolvedRequestType!, output = m.resolvedResponseType!;
    return call => {
      const start = performance.now();
      const fail = (e: unknown) => { const st = this.status(e, path); this.logCall(path, st.code, start); if (!call.cancelled) call.emit('error', st); };
      this.opts.log.debug(`gRPC ${path} stream opened`);
      try {
        const headers = headersOf(call);
        this.app.admit(headers);
        if (!handler) throw errors.unimplemented(`Method ${path.slice(1)} is not served by Gantry.`, { method: path.slice(1) });
        const aborts = signalOf(call, this.stopping.signal);
        const signal = aborts.signal;
        // The stream is over one way or the other: `stopping` lets go of its signal.
        for (const end of ['finish', 'cancelled', 'close']) call.once(end, () => aborts.end());
        call.once('data', (bytes: Buffer) => {
          // The backlog in bytes (the call is an object-mode stream: its writableLength counts messages), counted
          // until each write is handed to the socket, and given back whole when the stream ends.
          let pending = 0, over = false;
          const settle = (n: number) => { if (!over) { pending -= n; this.backlog -= n; } };
          const done = () => { if (!over) { over = true; this.backlog -= pending; pending = 0; } };
          const out: StreamOut = {
            encode: msg => encodeJson(output, msg),
            send: msg => {
              if (over || call.cancelled || pending > STREAM_BACKLOG_BYTES || this.backlog > ALL_STREAMS_BACKLOG_BYTES) return false;
              const b = Buffer.isBuffer(msg) ? msg : encodeJson(output, msg);
              if (b.length > MAX_STREAM_MESSAGE_BYTES) throw errors.internal(`A ${output.name} of ${b.length} bytes is over the stream message bound.`);
              pending += b.length; this.backlog += b.length;
              call.write(b, () => settle(b.length));
              return true;
            },
          };
          try {
            handler(decode(input, bytes), out, signal, headers).then(() => {
              done();
              this.logCall(path, signal.aborted ? grpc.status.CANCELLED : grpc.status.OK, start);
              if (!call.cancelled) call.end();
            }, e => { done(); fail(e); });
          } catch (e) {
            done();
            fail(e);
          }
        });
      } catch (e) {
        fail(e);
      }
    };
  }

  private logCall(path: string, code: grpc.status, start: number): void {
    const level = this.opts.log.level;
    if (level === 'debug' || level === 'info') this.opts.log.info(`gRPC ${path} ${grpc.status[code]} ${(performance.now() - start).toFixed(1)}ms`);
  }

  /** Any failure as a gRPC status; what is not a Google error is a bug, logged, and INTERNAL to the client. */
  private status(e: unknown, path: string): grpc.StatusObject {
    if (e instanceof ApiError) return grpcStatus(this.root!, e);
    this.opts.log.error(`gRPC ${path}: ${(e as Error).stack ?? e}`);
    return grpcStatus(this.root!, errors.internal('Internal error encountered.'));
  }
}

function httpRule(m: protobuf.Method): Record<string, unknown> | undefined {
  for (const o of m.parsedOptions ?? []) {
    const rule = (o as Json)['(google.api.http)'];
    if (rule) return rule as Json;
  }
  return undefined;
}

function decode(type: protobuf.Type, bytes: Buffer): Json {
  try {
    return decodeRequest(type, bytes);
  } catch (e) {
    throw errors.invalidArgument(`Invalid ${type.name} message: ${(e as Error).message}`.slice(0, 300), '');
  }
}

/** A method's REST call, or INVALID_ARGUMENT naming the field whose value fits none of its paths. */
function callFor(bindings: HttpBinding[], msg: Json, m: protobuf.Method): RestCall {
  if (!bindings.length) throw errors.unimplemented(`Method ${m.parent?.fullName.slice(1)}.${m.name} is not served by Gantry.`, { method: `${m.parent?.fullName.slice(1)}.${m.name}` });
  const rc = restCall(bindings, msg);
  if (!rc) throw invalidName(bindings[0], msg);
  return rc;
}

function invalidName(b: HttpBinding, msg: Json): ApiError {
  const v = mismatch(b.template, msg);
  if (!v) return errors.invalidArgument('The request does not fit the method.', '');
  const field = v.field.map(f => f.replace(/[A-Z]/g, c => '_' + c.toLowerCase())).join('.');
  const value = fieldValue(msg, v.field);
  return errors.invalidArgument(
    value === undefined || value === '' ? `Missing required field ${field}.`
      : `Invalid ${field} "${String(value).slice(0, 200)}": expected the form ${v.pattern.join('/')}.`, field);
}

function headersOf(call: SurfaceCall): Headers {
  const headers: Record<string, string> = {};
  const md = call.metadata.getMap();
  for (const k in md) if (typeof md[k] === 'string') headers[k] = md[k] as string;
  headers.host = call.getHost();
  return headers;
}

/** Aborts when the call is cancelled (by the client, or by its deadline passing) or Gantry stops; `end` once it is over. */
function signalOf(call: SurfaceCall, stopping: AbortSignal): RequestAbort {
  const r = requestAbort(stopping);
  if (call.cancelled) r.abort();
  else call.once('cancelled', () => r.abort());
  return r;
}

/** `signalOf`, made on first use and then kept; `end` (when the call is answered) lets `stopping` go of it. */
function lazySignal(call: SurfaceCall, stopping: AbortSignal): { get: () => AbortSignal; end: () => void } {
  let made: RequestAbort | undefined;
  return { get: () => (made ??= signalOf(call, stopping)).signal, end: () => made?.end() };
}
