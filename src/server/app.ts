// The HTTP front: one listener for every API. Middleware order lives here and only here:
// guard on the raw request (token, Host, Origin) → body limits and media type → route match → path and query checks →
// body parse → handler → encode (enum ints) → log line. Every refusal on the way, Node's and
// Fastify's own included, answers with a google.rpc.Status body. Requests without a body (every GET) are
// dispatched straight from the listener; Fastify (loaded with the first request that has a body) reads and limits
// the bodies of the others. Both take the same `dispatch`, so they cannot answer differently.
import { createServer, STATUS_CODES, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { parse as parseQueryString } from 'fast-querystring';
import { googleApiMethods } from '../google/api-methods.js';
import { ApiError, errors } from '../google/errors.js';
import { SYSTEM_PARAMS, type ApiReply, type ApiRequest, type MethodSpec } from './api.js';
import { hostName, RequestGuard, type GuardOptions } from './guard.js';
import type { Logger } from './log.js';
import { Router } from './router.js';
import { ConnectionSlots } from './slots.js';
import { SilentSockets } from './silent-sockets.js';
import { HttpApiRequest } from './http-request.js';
import { stoppingController } from './request-abort.js';
import { MAX_JSON_DEPTH, nestingDepth } from '../google/json-depth.js';
import { checkRequestText, storableText } from '../google/text.js';
import { isProjectIdOrNumber } from '../google/projects.js';

/** Host names whose requests an API serves itself (apps behind a proxy), not Gantry's routes. */
export interface VirtualHosts {
  claims(hostName: string): boolean;
  serve(req: IncomingMessage, res: ServerResponse): void;
}

export interface AppOptions extends GuardOptions {
  log: Logger;
  /** Most simultaneous connections: past it, one without a request in flight makes room, or the new one is closed. */
  maxConnections?: number;
  /** How long a client may take to send a whole request (headers and body). */
  requestTimeoutMs?: number;
  /** How long an HTTP/1 connection may move no byte before it is closed (default 2 minutes). */
  silentSocketMs?: number;
  /** The store's step before a read (Store.readFresh), on a store other instances write too. */
  readFresh?: <T>(fn: () => T) => T | Promise<T>;
  /** The store's transaction for a write request's handler (Store.exclusive), on a store other instances write too. */
  exclusive?: <T>(fn: () => T) => T;
}

/** Google's front end refuses JSON requests over 10 MiB with this message. */
export const JSON_BODY_LIMIT = 10 * 1024 * 1024;
/** Media uploads (release sources) may be larger. */
export const UPLOAD_BODY_LIMIT = 64 * 1024 * 1024;
const MAX_HEADER_BYTES = 16 * 1024;
/** Methods whose body Fastify never reads. */
const BODYLESS = new Set(['GET', 'HEAD', 'TRACE']);

export class App {
  /** Requests no route serves: 501 for known Google methods and APIs Gantry does not serve, else 404 (router.ts). */
  readonly router = new Router<MethodSpec>({ apis: googleApiMethods() });
  /** The HTTP/1.1 listener every request arrives on. */
  readonly server: Server;
  private guard: RequestGuard;
  /** The connections the listener holds (the cap, and who makes room past it). */
  readonly slots: ConnectionSlots;
  /** HTTP/1 connections (direct, tunnelled or decrypted) that close once silent for `silentSocketMs`. */
  private silent: SilentSockets;
  /**
   * Fastify reads and limits request bodies. It is loaded with the first request that has one: its ~250 modules are
   * a fifth of start-up, and a client that only reads never needs them.
   */
  private fastify?: FastifyInstance;
  private bodyReader?: Promise<(req: IncomingMessage, res: ServerResponse) => void>;
  private closing: (() => Promise<void> | void)[] = [];

  constructor(private opts: AppOptions) {
    this.guard = new RequestGuard(opts);
    this.slots = new ConnectionSlots(opts.maxConnections ?? 1024);
    this.silent = new SilentSockets(opts.silentSocketMs ?? 120_000);
    this.server = this.createServer((req, res) => this.readBody(req, res), opts.requestTimeoutMs ?? 60_000);
    this.server.on('clientError', (err: Error, socket: Socket) => this.clientError(err as NodeJS.ErrnoException, socket));
  }

  /** Hands a request with a body to Fastify, loading it first if none came before. */
  private readBody(req: IncomingMessage, res: ServerResponse): void {
    this.bodyReader ??= this.loadFastify();
    this.bodyReader.then(read => read(req, res), (e: Error) => {
      this.opts.log.error(`loading the HTTP body reader: ${e.stack ?? e}`);
      const body = JSON.stringify(errors.internal('Internal error encountered.').toBody());
      if (!res.headersSent) res.writeHead(500, { 'content-type': JSON_TYPE, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
  }

  private async loadFastify(): Promise<(req: IncomingMessage, res: ServerResponse) => void> {
    const { default: Fastify } = await import('fastify');
    let route!: (req: IncomingMessage, res: ServerResponse) => void;
    // Fastify adds its own clientError listener to the server it is given; the listener's own (above) stays the one.
    const ours = this.server.listeners('clientError');
    const f = Fastify({
      logger: false, bodyLimit: JSON_BODY_LIMIT, return503OnClosing: false,
      routerOptions: { maxParamLength: 4096, querystringParser: parseQueryString },
      // The guard runs on the raw request before Fastify sees it: refused requests cost no routing, hooks or body.
      serverFactory: handler => { route = handler; return this.server; },
      frameworkErrors: (err, _req, reply) => {
        this.sendError(reply, errors.invalidArgument(`Invalid URL: ${err.message.replace(/^'.*?' /, '')}`.slice(0, 300), ''));
      },
    });
    for (const l of this.server.listeners('clientError')) if (!ours.includes(l)) this.server.removeListener('clientError', l as () => void);
    f.removeAllContentTypeParsers();
    f.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    f.setErrorHandler((err: Error & { statusCode?: number; code?: string }, req, reply) => {
      // Fastify's own rejections (body too large, bad content-length…) keep their 4xx in Google's shape.
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      if (status >= 500) this.opts.log.error(`${req.method} ${req.url}: ${err.stack}`);
      const e = err.code === 'FST_ERR_CTP_BODY_TOO_LARGE' ? payloadTooLarge(bodyLimit(req.url, req.method))
        : status < 500 ? errors.invalidArgument(clip(err.message), '') : errors.internal('Internal error encountered.');
      this.sendError(reply, e);
    });
    const handler = (req: FastifyRequest, reply: FastifyReply) => this.handle(req, reply);
    // Cloud Storage's path-style uploads (`PUT /{bucket}/{object}`) carry media, so every PUT may be as large as an
    // upload; a JSON body is held to its own limit in `dispatch`.
    f.route({ method: f.supportedMethods.filter(m => m !== 'PUT'), url: '*', handler });
    f.put('*', { bodyLimit: UPLOAD_BODY_LIMIT }, handler);
    f.all('/upload/*', { bodyLimit: UPLOAD_BODY_LIMIT }, handler);
    f.setNotFoundHandler(handler);
    if (this.logsRequests) {
      f.addHook('onResponse', (req, reply, done) => {
        this.logRequest(req.method, req.url, reply.statusCode, reply.elapsedTime, this.refusals.get(reply.raw));
        done();
      });
    }
    await f.ready();
    this.fastify = f;
    return route;
  }

  /** Listens on `host` and `port` (0: any free port). */
  listen(host: string, port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port }, () => { this.server.off('error', reject); resolve(); });
    });
  }

  /** Aborted when Gantry stops: what the HTTP requests' signals also hear. */
  private readonly stopping = stoppingController();

  /** Runs `fn` once the listener has closed (as Fastify's onClose hooks ran, after its server). */
  onClose(fn: () => Promise<void> | void): void { this.closing.push(fn); }

  /** Stops accepting connections, closes idle ones, waits for the open ones to end, then runs the onClose hooks. */
  async close(): Promise<void> {
    // Requests waiting for something (`:wait`) answer now, with what is there, rather than hold the shutdown.
    this.stopping.abort();
    await this.bodyReader?.catch(() => undefined);
    // Fastify never listened (it was handed this server): it closes its own state, not the server.
    await this.fastify?.close();
    const closed = new Promise<void>(resolve => this.server.close(() => resolve()));
    this.server.closeIdleConnections();
    // A connection still open after that (waits have ended, streams end with Gantry) is closed by the silence sweep in time.
    await closed;
    this.silent.stop();
    for (const fn of this.closing) await fn();
  }

  /** Clients send the same Host on every request: the last one no virtual host claimed skips the parse. */
  private lastPlainHost = '';
  private virtualFor(host: string | string[] | undefined): VirtualHosts | undefined {
    if (host === this.lastPlainHost) return undefined;
    const name = typeof host === 'string' ? hostName(host) : undefined;
    const v = name === undefined ? undefined : this.virtualHosts.find(x => x.claims(name));
    if (!v && typeof host === 'string') this.lastPlainHost = host;
    return v;
  }

  private get logsRequests(): boolean { return this.opts.log.level === 'debug' || this.opts.log.level === 'info'; }

  /** Why a request answered through Fastify was refused, for its log line. */
  private refusals = new WeakMap<ServerResponse, string>();
  private logRequest(method: string, url: string, status: number, ms: number, refusal?: string): void {
    this.opts.log.info(`${method} ${clip(url)} ${status} ${ms.toFixed(1)}ms${refusal ? ` ${clip(refusal, 300)}` : ''}`);
  }

  route(method: string, template: string, spec: MethodSpec): void { this.router.add(method, template, spec); }

  private others?: { http2?: (socket: Socket) => void; tls?: (socket: Socket) => void };
  /**
   * Connections that open with the HTTP/2 preface (gRPC clients) or a TLS handshake are handed over, their first
   * bytes unread; a decrypted HTTP/1.1 connection comes back through `http1`.
   */
  acceptOtherProtocols(take: { http2?: (socket: Socket) => void; tls?: (socket: Socket) => void }): void { this.others = take; }
  /** Serves HTTP/1.1 on a connection (a decrypted one, from the TLS terminator). */
  http1: (socket: Socket) => void = () => { throw new Error('not listening'); };

  private anonymous?: (method: string | undefined, url: string | undefined) => boolean;
  /** Requests served without the bearer token: static files that hold no data (the console's page and scripts). */
  allowAnonymous(test: (method: string | undefined, url: string | undefined) => boolean): void { this.anonymous = test; }

  private virtualHosts: VirtualHosts[] = [];
  /**
   * Host names that are not Gantry's API but apps it serves (App Hosting's `*.hosted.app`): their requests skip
   * routing and go to `serve` as they are. Only the bearer token (when configured) is checked: the Host is the app's,
   * and browsers visiting the app are its business, not a cross-site call to Gantry's API.
   */
  addVirtualHosts(v: VirtualHosts): void { this.virtualHosts.push(v); }

  /**
   * The listener: slow clients must send a whole request in time (headers sooner), idle sockets close, connections
   * are capped (an idle or silent one makes room for a new client), and the guard (token, Host, Origin) answers before anything else is looked at.
   */
  private createServer(handler: (req: IncomingMessage, res: ServerResponse) => void, requestTimeout: number): Server {
    // The connection cap is kept here, not by Node (which refuses at accept): a new client may take an idle one's slot.
    const slots = this.slots;
    const refuse = (req: IncomingMessage, res: ServerResponse, e: ApiError) => {
      // Refused before Fastify, so the request log line is written here: an operator must see why a client is refused.
      this.opts.log.info(`${String(req.method).slice(0, 20)} ${clip(String(req.url), 200)} ${e.httpStatus} refused: ${e.message}`);
      const body = JSON.stringify(e.toBody());
      res.writeHead(e.httpStatus, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    };
    const serve = (req: IncomingMessage, res: ServerResponse) => {
      const slot = slots.request(req.socket);
      try {
        serveRequest(req, res);
      } finally {
        slots.served(slot, res);
      }
    };
    const serveRequest = (req: IncomingMessage, res: ServerResponse) => {
      let refusal: ApiError | undefined;
      try {
        const url = req.url ?? '';
        if (url.startsWith('http://') || url.startsWith('https://')) {
          // A client using Gantry as its HTTP proxy (gcloud reaching Cloud Run's regional hosts, a browser opening an
          // App Hosting app) names the host in the URL. Nothing is forwarded anywhere else: the request is served
          // here, as addressed to that host, which must be one Gantry answers too.
          const u = parseAbsoluteUrl(url);
          const sent = req.headers.host;
          if (sent !== undefined && String(sent).toLowerCase() !== u.host.toLowerCase()) this.guard.check(req.headers);
          req.headers.host = u.host;
          req.url = u.pathname + u.search;
        }
        const virtual = this.virtualHosts.length ? this.virtualFor(req.headers.host) : undefined;
        if (virtual) {
          this.guard.checkAuth(req.headers);
          virtual.serve(req, res);
          return;
        }
        // Whether the request may go without the token is asked only when there is a token to go without.
        this.guard.check(req.headers, this.anonymous !== undefined && this.guard.needsToken && this.anonymous(req.method, req.url));
      } catch (e) {
        refusal = e as ApiError;
      }
      const length = Number(req.headers['content-length'] ?? 0);
      const limit = bodyLimit(req.url ?? '', req.method);
      if (!refusal && length > limit) refusal = payloadTooLarge(limit);
      const hasBody = length > 0 || req.headers['transfer-encoding'] !== undefined;
      // A body nobody reads (a refused request's, a GET's) is read and dropped before the answer: a socket closed
      // with unread bytes is reset, and the answer lost. Past a bound the connection is cut instead; the request
      // timeout bounds the time either way.
      if (hasBody && (refusal || BODYLESS.has(req.method ?? ''))) {
        if (length > 2 * UPLOAD_BODY_LIMIT) { req.socket.destroy(); return; }
        req.on('end', () => (refusal ? refuse(req, res, refusal) : handler(req, res))).resume();
        return;
      }
      if (refusal) return refuse(req, res, refusal);
      if (!hasBody) return this.serveBodyless(req, res);
      handler(req, res);
    };
    const server = createServer({
      // Off so that a request without Host gets the guard's Google error instead of Node's bare 400.
      requireHostHeader: false, maxHeaderSize: MAX_HEADER_BYTES, requestTimeout,
      headersTimeout: Math.min(requestTimeout, 10_000), connectionsCheckingInterval: Math.max(100, Math.min(30_000, requestTimeout / 4)),
    }, serve);
    // An Expect other than 100-continue is served as if absent (Node would answer a bare 417).
    server.on('checkExpectation', serve);
    // CONNECT: clients given Gantry as their HTTP proxy (`gantry env`) open tunnels for their TLS and gRPC
    // connections. A tunnel to a host Gantry answers (loopback names, --allow-hosts) is served here, as if the client
    // had connected directly: its bytes go through the same protocol sniffing, and every request inside meets the
    // guard again. Any other target is refused; nothing is ever forwarded or connected to.
    server.on('connect', (req: IncomingMessage, socket: Socket, head: Buffer) => {
      // Node detached its own handlers from the socket: a client resetting it must not take the process down.
      socket.on('error', () => socket.destroy());
      try {
        // A CONNECT's target is its authority: a client that sends no Host is taken to address the target.
        this.guard.check(req.headers.host === undefined ? { ...req.headers, host: String(req.url ?? '') } : req.headers);
        this.guard.checkTunnelTarget(String(req.url ?? ''));
      } catch (e) {
        const refusal = e as ApiError;
        this.opts.log.info(`CONNECT ${clip(String(req.url), 200)} ${refusal.httpStatus} refused: ${refusal.message}`);
        socket.end(rawErrorResponse(refusal));
        return;
      }
      if (this.logsRequests) this.opts.log.info(`CONNECT ${clip(String(req.url), 200)} 200 tunnel served by Gantry`);
      socket.write('HTTP/1.1 200 Connection established\r\n\r\n');
      if (head.length) socket.unshift(head);
      // The tunnel is watched again only if it speaks HTTP/1 (TLS and HTTP/2 inside have their own bounds).
      this.silent.unwatch(socket);
      this.accept(socket);
    });
    // One port for every transport: a connection that opens with HTTP/2's preface is a gRPC client's (cleartext,
    // prior knowledge), one that opens with a TLS handshake goes to the TLS terminator, and everything else is
    // HTTP/1.1 for Node's own connection handling.
    const http1 = server.listeners('connection') as ((s: Socket) => void)[];
    server.removeAllListeners('connection');
    const silent = this.silent;
    this.http1 = socket => { silent.watch(socket); for (const l of http1) l.call(server, socket); };
    server.on('connection', (socket: Socket) => {
      if (slots.admit(socket)) this.accept(socket);
    });
    // Idle keep-alive connections close after 5 s; any connection silent for 2 minutes closes (silent-sockets.ts).
    server.keepAliveTimeout = 5_000;
    return server;
  }

  /** Serves a connection (a new one, or a proxy tunnel's) in whichever protocol its first bytes speak. */
  private accept(socket: Socket): void {
    const other = this.others;
    if (!other) return this.http1(socket);
    sniffProtocol(socket, protocol => {
      if (protocol === 'http2' && other.http2) { this.slots.handedOver(socket); other.http2(socket); }
      else if (protocol === 'tls' && other.tls) { this.slots.handedOver(socket); other.tls(socket); }
      else { this.http1(socket); socket.resume(); }
    });
  }

  /** A request without a body, answered straight from the listener (no Fastify routing, hooks or reply). */
  private serveBodyless(req: IncomingMessage, res: ServerResponse): void {
    const start = this.logsRequests ? performance.now() : 0;
    const method = req.method ?? 'GET';
    const url = req.url ?? '/';
    const write = (a: Answer) => {
      if (a.stream) {
        res.writeHead(a.status, a.headers);
        if (this.logsRequests) this.logRequest(method, url, a.status, performance.now() - start);
        return a.stream(res);
      }
      // Headers as a flat list: Node then takes them as they are, without building its own header map.
      const length = String(typeof a.payload === 'string' ? Buffer.byteLength(a.payload) : a.payload.length);
      let headers: string[];
      if (a.headers === JSON_HEADERS) headers = ['content-type', JSON_TYPE, 'content-length', length];
      else {
        headers = [];
        for (const k in a.headers) headers.push(k, a.headers[k]);
        headers.push('content-length', length);
      }
      res.writeHead(a.status, headers);
      res.end(method === 'HEAD' ? undefined : a.payload);
      if (this.logsRequests) this.logRequest(method, url, a.status, performance.now() - start, a.refusal);
    };
    let query: ApiRequest['query'];
    try {
      query = parseUrlQuery(url);
    } catch (e) {
      return write(this.failure(method, url, e));
    }
    const a = this.dispatch(method, url, req.headers, undefined, query, res);
    if (a instanceof Promise) void a.then(write);
    else write(a);
  }

  /** Synchronous unless the handler is: most reads complete without a promise hop. */
  private handle(req: FastifyRequest, reply: FastifyReply): Promise<void> | void {
    const a = this.dispatch(req.method, req.url, req.headers, req.body as Buffer | undefined, req.query as ApiRequest['query'], reply.raw);
    if (a instanceof Promise) return a.then(x => this.reply(reply, x));
    this.reply(reply, a);
  }

  private reply(reply: FastifyReply, a: Answer): void {
    if (a.stream) {
      reply.hijack();
      reply.raw.writeHead(a.status, a.headers);
      return a.stream(reply.raw);
    }
    reply.code(a.status);
    if (a.refusal) this.refusals.set(reply.raw, a.refusal);
    for (const [k, v] of Object.entries(a.headers)) reply.header(k, v);
    reply.send(a.payload);
  }

  /** The route of a request and its path and query checks, whichever transport it came by. */
  private matchRoute(method: string, path: string, query: ApiRequest['query']): { spec: MethodSpec; params: ApiRequest['params'] } {
    checkUrlEncoding(path);
    const match = this.router.match(method === 'HEAD' ? 'GET' : method, path);
    // Only `**` variables (object names) may hold slashes. The router remembers recent matches by path, and a path
    // that passed once passes again: those are checked once.
    if (!this.checkedMatches.has(match)) {
      if (!match.template.includes('**')) checkPathSegments(path);
      checkProjectSegment(method, path);
      this.checkedMatches.add(match);
    }
    checkQuery(match.handler, query);
    return { spec: match.handler, params: match.params };
  }
  private checkedMatches = new WeakSet<object>();

  /**
   * A request that arrived already parsed (a gRPC call transcoded to its REST route): the same route match, checks and
   * handler as over HTTP; throws the ApiError an HTTP client would have got in its body.
   */
  invoke(method: string, path: string, query: ApiRequest['query'], body: unknown, headers: ApiRequest['headers'], signal?: () => AbortSignal): ApiReply | Promise<ApiReply> {
    const { spec, params } = this.matchRoute(method, path, query);
    // Decoded from protobuf: a string may hold U+0000, or a lone surrogate where the bytes were not UTF-8.
    if (body !== undefined && !spec.rawBody) checkRequestText(body);
    // The signal is made only for the handlers that wait for something: most never look.
    const req: ApiRequest = signal ? { method, path, params, query, headers, body, enumInts: false, get signal() { return signal(); } }
      : { method, path, params, query, headers, body, enumInts: false };
    return this.run(spec, req);
  }

  /**
   * A handler, through the store's step before reads when it has one, or a write request's in the store's exclusive
   * transaction when it has one (both only on a store other instances write too).
   */
  private run(spec: MethodSpec, req: ApiRequest): ApiReply | Promise<ApiReply> {
    const fresh = this.opts.readFresh;
    if (!fresh) return spec.handler(req);
    if (req.method === 'GET' || req.method === 'HEAD') return fresh(() => spec.handler(req)) as ApiReply | Promise<ApiReply>;
    const exclusive = this.opts.exclusive;
    return exclusive && !spec.readsOnly ? exclusive(() => spec.handler(req)) : spec.handler(req);
  }

  /** The guard's checks (token, Host, Origin) for a request that did not come through the HTTP/1 listener. */
  admit(headers: ApiRequest['headers']): void { this.guard.check(headers); }

  /** Route match → path and query checks → body parse → handler → encoding: the one way a request is served. */
  private dispatch(method: string, url: string, headers: IncomingMessage['headers'], raw: Buffer | undefined, query: ApiRequest['query'], res: ServerResponse): Answer | Promise<Answer> {
    try {
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const { spec, params } = this.matchRoute(method, path, query);
      const alt = query['$alt'];
      let body: unknown;
      if (spec.rawBody) body = raw ?? Buffer.alloc(0);
      else {
        if (raw && raw.length > JSON_BODY_LIMIT) throw payloadTooLarge(JSON_BODY_LIMIT);
        RequestGuard.checkJsonBody(headers, raw);
        body = parseBody(raw);
      }
      const apiReq: ApiRequest = new HttpApiRequest(method, path, params, query, headers, body,
        typeof alt === 'string' && alt.includes('enum-encoding=int'), res, this.stopping);
      const out = this.run(spec, apiReq);
      if (out instanceof Promise) return out.then(o => answer(apiReq, o), e => this.failure(method, url, e));
      return answer(apiReq, out);
    } catch (e) {
      return this.failure(method, url, e);
    }
  }

  private failure(method: string, url: string, e: unknown): Answer {
    if (e instanceof ApiError) return errorAnswer(e);
    this.opts.log.error(`${method} ${clip(url)}: ${(e as Error).stack ?? e}`);
    return errorAnswer(errors.internal('Internal error encountered.'));
  }

  private sendError(reply: FastifyReply, e: ApiError): void {
    this.reply(reply, errorAnswer(e));
  }

  /** Requests Node's parser rejects (framing, header size, timeouts) still get a google.rpc.Status. */
  private clientError(err: NodeJS.ErrnoException, socket: Socket): void {
    if (err.code === 'ECONNRESET' || !socket.writable) { socket.destroy(); return; }
    const e = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? new ApiError('DEADLINE_EXCEEDED', 'The request was not received in time.', [], 408)
      : err.code === 'HPE_HEADER_OVERFLOW' ? errors.invalidArgument(`The request line and headers must be at most ${MAX_HEADER_BYTES / 1024} KiB.`, '')
        : errors.invalidArgument(`Malformed HTTP request (${err.code ?? 'parse error'}).`, '');
    // The request never parsed, so its method is read from the bytes Node was parsing: a HEAD gets no body.
    const raw = (err as { rawPacket?: unknown }).rawPacket;
    socket.end(rawErrorResponse(e, Buffer.isBuffer(raw) && raw.subarray(0, 5).toString('latin1') === 'HEAD '));
  }
}

const HTTP2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');
/** A TLS record of type handshake (a ClientHello), as no HTTP/1 request line starts. */
const TLS_HANDSHAKE = 0x16;
/** A client must show which protocol it speaks within this time (HTTP/1's own header timeout applies after). */
const PREFACE_TIMEOUT_MS = 10_000;

/**
 * Reads a connection's first bytes until they say which protocol the client speaks, puts them back, and says which.
 * The socket is left paused with the bytes unread, for whichever server takes it.
 */
function sniffProtocol(socket: Socket, decide: (protocol: 'http1' | 'http2' | 'tls') => void): void {
  let seen: Buffer | undefined;
  const done = () => {
    clearTimeout(timer);
    socket.off('data', onData);
    socket.off('end', onGone);
    socket.off('error', onGone);
    socket.off('close', onGone);
  };
  const onGone = () => { done(); socket.destroy(); };
  const onData = (d: Buffer) => {
    seen = seen ? Buffer.concat([seen, d]) : d;
    const n = Math.min(seen.length, HTTP2_PREFACE.length);
    const http2 = seen.compare(HTTP2_PREFACE, 0, n, 0, n) === 0;
    if (http2 && seen.length < HTTP2_PREFACE.length) return;
    done();
    socket.pause();
    socket.unshift(seen);
    decide(http2 ? 'http2' : seen[0] === TLS_HANDSHAKE ? 'tls' : 'http1');
  };
  const timer = setTimeout(onGone, PREFACE_TIMEOUT_MS);
  socket.on('data', onData);
  // The listener allows half-open sockets (HTTP/1 needs them): a client that ends before saying anything is gone.
  socket.on('end', onGone);
  socket.on('error', onGone);
  socket.on('close', onGone);
}

/** What a request is answered with, whichever way it came in. */
interface Answer { status: number; headers: Readonly<Record<string, string>>; payload: string | Buffer; stream?: ApiReply['stream']; refusal?: string }

const JSON_TYPE = 'application/json; charset=UTF-8';
const JSON_HEADERS: Readonly<Record<string, string>> = Object.freeze({ 'content-type': JSON_TYPE });

function errorAnswer(e: ApiError): Answer {
  // The request log line says why: the status, the ErrorInfo reason when there is one, and the message.
  const reason = (e.details.find(d => d['@type']?.endsWith('ErrorInfo')) as { reason?: string } | undefined)?.reason;
  const refusal = `${e.code}${reason ? ` ${reason}` : ''}: ${e.message}`;
  return { status: e.httpStatus, headers: { 'content-type': JSON_TYPE }, payload: JSON.stringify(e.toBody()), refusal };
}

function answer(req: ApiRequest, out: ApiReply): Answer {
  const status = out.status ?? 200;
  if (out.stream) return { status, headers: { ...out.headers }, payload: '', stream: out.stream };
  if (out.bytes) return { status, headers: { ...out.headers, 'content-type': out.bytes.contentType }, payload: out.bytes.data };
  let payload: string | Buffer;
  if (req.enumInts && out.schema && out.message) {
    const obj = out.raw ? JSON.parse(out.body as string) : out.body;
    payload = JSON.stringify(out.schema.enumsToInts(out.message, obj as Record<string, unknown>));
  } else {
    payload = out.encoded ?? (out.raw ? (out.body as string) : JSON.stringify(out.body ?? {}));
  }
  // An answer without headers of its own (the common one) shares one header record: nothing writes to an answer's.
  return { status, headers: out.headers ? { ...out.headers, 'content-type': JSON_TYPE } : JSON_HEADERS, payload };
}

function parseAbsoluteUrl(url: string): URL {
  try {
    return new URL(url);
  } catch {
    throw errors.invalidArgument(`Invalid URL: ${clip(url, 200)}`, '');
  }
}

/** The query of a URL without one: shared (nothing writes to a request's query; a write would throw). */
const NO_QUERY: ApiRequest['query'] = Object.freeze({});

/** The query of a raw URL, parsed as Fastify parses it (both paths use fast-querystring). */
function parseUrlQuery(url: string): ApiRequest['query'] {
  // As find-my-way splits it: the query starts after the first `?` or `#`.
  const q = url.indexOf('?', 1), h = url.indexOf('#', 1);
  const at = h !== -1 && (q === -1 || h < q) ? h : q;
  if (at < 0 || at === url.length - 1) return NO_QUERY;
  return parseQueryString(url.slice(at + 1)) as ApiRequest['query'];
}

/** A path with a broken percent-escape is no URL (Fastify's router refuses it the same way). */
function checkUrlEncoding(path: string): void {
  if (!path.includes('%')) return;
  try { decodeURI(path); } catch { throw errors.invalidArgument(`Invalid URL: ${clip(path, 200)} is not a valid url component`, ''); }
}

/** The body limit of a request path: uploads may be larger than JSON requests. */
/** API roots: a PUT under any other first segment may be a path-style object upload (`/{bucket}/{object}`). */
const API_ROOTS = /^\/(v\d[^/]*|storage|apis|gantry|download|resumable|repos)\//;

function bodyLimit(url: string, method?: string): number {
  if (url.startsWith('/upload/')) return UPLOAD_BODY_LIMIT;
  return method === 'PUT' && !API_ROOTS.test(url) ? UPLOAD_BODY_LIMIT : JSON_BODY_LIMIT;
}

/** A whole HTTP response carrying `e` (its headers only, answering a HEAD), for sockets no request/response object wraps (parse errors, refused CONNECTs). */
function rawErrorResponse(e: ApiError, head = false): string {
  const body = JSON.stringify(e.toBody());
  return `HTTP/1.1 ${e.httpStatus} ${STATUS_CODES[e.httpStatus] ?? 'Error'}\r\nContent-Type: application/json; charset=UTF-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${head ? '' : body}`;
}

function payloadTooLarge(limit: number): ApiError {
  return errors.invalidArgument(`Request payload size exceeds the limit: ${limit} bytes.`, '');
}

function parseBody(buf: Buffer | undefined): unknown {
  if (!buf || buf.length === 0) return undefined;
  const text = buf.toString('utf8');
  if (!text.trim()) return undefined;
  if (nestingDepth(text) > MAX_JSON_DEPTH) {
    throw errors.invalidArgument(`Invalid JSON payload received. Nesting deeper than ${MAX_JSON_DEPTH} levels.`, '');
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch (e) {
    const msg = `Invalid JSON payload received. ${clip((e as Error).message)}`;
    throw errors.invalidArgument(msg, '', msg);
  }
  // U+0000 and unpaired surrogates reach a JSON text only as `\u` escapes (raw control characters are not JSON, and
  // invalid UTF-8 decodes to U+FFFD): a body without one is not walked.
  if (text.includes('\\u')) checkRequestText(body);
  return body;
}

/**
 * A resource name is its path: a segment that decodes to something with a `/` (`a%2Fb`, `..%2F..`), a dot
 * segment or a control character would make a resource no path can reach again.
 */
function checkPathSegments(path: string): void {
  if (!/%2f|%00|(^|\/)\.\.?(\/|$)|%2e|[\x00-\x1f\x7f]/i.test(path)) return;
  for (const seg of path.split('/')) {
    let d: string;
    try { d = decodeURIComponent(seg); } catch { d = seg; }
    if (d.includes('/') || d === '.' || d === '..' || /[\x00-\x1f\x7f]/.test(d)) {
      throw errors.invalidArgument(`Invalid resource name: path segment "${clip(seg, 100)}" is not a valid id.`, 'name');
    }
  }
}

/**
 * The project a path names (`…/projects/{project}/…`, Cloud Run v1's `…/namespaces/{project}/…`): an id or a number.
 * A resource stored under any other (`My_Project`, `-`) could be written but not carried by a snapshot, nor named
 * by Google. Only the first such segment is the project's (a later one is a resource's id).
 */
function checkProjectSegment(method: string, path: string): void {
  const m = /^\/(?:v[^/]*|apis\/[^/]+\/v[^/]*)\/(?:projects|namespaces)\/([^/]*)(\/?)/.exec(path);
  if (!m || isProjectIdOrNumber(m[1])) return;
  // The project as the last segment may carry the method's verb (`projects/p:getIamPolicy`).
  const verb = m[2] ? -1 : m[1].lastIndexOf(':');
  if (verb > 0 && isProjectIdOrNumber(m[1].slice(0, verb))) return;
  let id: string;
  try { id = decodeURIComponent(m[1]); } catch { id = m[1]; }
  // `projects/-` in a list has its own answer, from the list (AIP-159).
  if (id === '-' && (method === 'GET' || method === 'HEAD')) return;
  throw errors.invalidArgument(`Invalid project "${clip(id, 100)}": a project id (a lowercase letter, then lowercase letters, digits and hyphens) or number.`, 'name');
}

function checkQuery(spec: MethodSpec, query: ApiRequest['query']): void {
  for (const key of Object.keys(query)) {
    if (SYSTEM_PARAMS.has(key) || spec.query?.includes(key)) {
      const v = query[key];
      if (typeof v === 'string' ? !storableText(v) : v !== undefined && !v.every(storableText)) checkRequestText(v, clip(key, 100));
      continue;
    }
    throw errors.invalidArgument(
      `Invalid JSON payload received. Unknown name "${clip(key, 100)}": Cannot bind query parameter. Field '${clip(key, 100)}' could not be found in request message.`,
      clip(key, 100));
  }
}

function clip(s: string, n = 500): string { return s.length > n ? s.slice(0, n) + '…' : s; }
