// The HTTP front: one Fastify listener for every API. Middleware order lives here and only here:
// auth → body parse → route match → query check → handler → encode (enum ints) → log line.
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { ApiError, errors } from '../google/errors.js';
import { SYSTEM_PARAMS, type ApiReply, type ApiRequest, type MethodSpec } from './api.js';
import type { Logger } from './log.js';
import { Router } from './router.js';

export interface AppOptions {
  log: Logger;
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  authToken?: string;
}

export class App {
  readonly router = new Router<MethodSpec>();
  readonly fastify: FastifyInstance;

  constructor(private opts: AppOptions) {
    this.fastify = Fastify({ logger: false, bodyLimit: 64 * 1024 * 1024, routerOptions: { maxParamLength: 4096 }, return503OnClosing: false });
    const f = this.fastify;
    f.removeAllContentTypeParsers();
    f.addContentTypeParser('*', { parseAs: 'buffer' }, (_req, body, done) => done(null, body));
    f.setErrorHandler((err: Error & { statusCode?: number }, req, reply) => {
      // Fastify's own rejections (body too large, bad content-length…) keep their 4xx in Google's shape.
      const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
      const e = status === 413 ? new ApiError('INVALID_ARGUMENT', 'Request payload size exceeds the limit.')
        : status < 500 ? new ApiError('INVALID_ARGUMENT', err.message) : errors.internal('Internal error encountered.');
      if (status >= 500) this.opts.log.error(`${req.method} ${req.url}: ${err.stack}`);
      this.sendError(reply, e, status === 413 ? 413 : undefined);
    });
    f.route({ method: ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'], url: '*', handler: (req, reply) => this.handle(req, reply) });
    if (this.opts.log.level === 'debug' || this.opts.log.level === 'info') {
      f.addHook('onResponse', (req, reply, done) => {
        this.opts.log.info(`${req.method} ${req.url} ${reply.statusCode} ${reply.elapsedTime.toFixed(1)}ms`);
        done();
      });
    }
  }

  route(method: string, template: string, spec: MethodSpec): void { this.router.add(method, template, spec); }

  /** Synchronous unless the handler is: most reads complete without a promise hop. */
  private handle(req: FastifyRequest, reply: FastifyReply): Promise<void> | void {
    try {
      this.checkAuth(req);
      const url = req.url;
      const q = url.indexOf('?');
      const path = q < 0 ? url : url.slice(0, q);
      const { handler: spec, params } = this.router.match(req.method === 'HEAD' ? 'GET' : req.method, path);
      const query = req.query as ApiRequest['query'];
      checkQuery(spec, query);
      const alt = query['$alt'];
      const apiReq: ApiRequest = {
        method: req.method, path, params, query, headers: req.headers,
        body: spec.rawBody ? (req.body as Buffer | undefined) ?? Buffer.alloc(0) : parseBody(req.body as Buffer | undefined),
        enumInts: typeof alt === 'string' && alt.includes('enum-encoding=int'),
      };
      const out = spec.handler(apiReq);
      if (out instanceof Promise) return out.then(o => this.send(reply, apiReq, o), e => this.fail(req, reply, e));
      this.send(reply, apiReq, out);
    } catch (e) {
      this.fail(req, reply, e);
    }
  }

  private fail(req: FastifyRequest, reply: FastifyReply, e: unknown): void {
    if (e instanceof ApiError) return this.sendError(reply, e);
    this.opts.log.error(`${req.method} ${req.url}: ${(e as Error).stack ?? e}`);
    this.sendError(reply, errors.internal('Internal error encountered.'));
  }

  private send(reply: FastifyReply, req: ApiRequest, out: ApiReply): void {
    if (out.headers) for (const [k, v] of Object.entries(out.headers)) reply.header(k, v);
    if (out.bytes) {
      reply.code(out.status ?? 200).header('content-type', out.bytes.contentType).send(out.bytes.data);
      return;
    }
    let payload: string;
    if (req.enumInts && out.schema && out.message) {
      const obj = out.raw ? JSON.parse(out.body as string) : out.body;
      payload = JSON.stringify(out.schema.enumsToInts(out.message, obj as Record<string, unknown>));
    } else {
      payload = out.raw ? (out.body as string) : JSON.stringify(out.body ?? {});
    }
    reply.code(out.status ?? 200).header('content-type', 'application/json; charset=UTF-8').send(payload);
  }

  private sendError(reply: FastifyReply, e: ApiError, status?: number): void {
    reply.code(status ?? e.httpStatus).header('content-type', 'application/json; charset=UTF-8').send(JSON.stringify(e.toBody()));
  }

  private checkAuth(req: FastifyRequest): void {
    const token = this.opts.authToken;
    if (!token) return;
    const h = req.headers.authorization;
    if (h !== `Bearer ${token}`) {
      throw new ApiError('UNAUTHENTICATED', 'Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
  }
}

/** Deepest JSON nesting a request may have; deeper bodies are rejected before parsing. */
const MAX_DEPTH = 100;

function nestingDepth(text: string): number {
  let depth = 0, max = 0, inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 92) i++; // backslash escapes the next character
      else if (c === 34) inString = false;
    } else if (c === 34) inString = true;
    else if (c === 123 || c === 91) { if (++depth > max) max = depth; if (max > MAX_DEPTH) return max; }
    else if (c === 125 || c === 93) depth--;
  }
  return max;
}

function parseBody(buf: Buffer | undefined): unknown {
  if (!buf || buf.length === 0) return undefined;
  const text = buf.toString('utf8');
  if (!text.trim()) return undefined;
  if (nestingDepth(text) > MAX_DEPTH) {
    throw errors.invalidArgument(`Invalid JSON payload received. Nesting deeper than ${MAX_DEPTH} levels.`, '');
  }
  try {
    return JSON.parse(text);
  } catch (e) {
    throw errors.invalidArgument(`Invalid JSON payload received. ${(e as Error).message}`, '', `Invalid JSON payload received. ${(e as Error).message}`);
  }
}

function checkQuery(spec: MethodSpec, query: ApiRequest['query']): void {
  for (const key of Object.keys(query)) {
    if (SYSTEM_PARAMS.has(key) || spec.query?.includes(key)) continue;
    throw errors.invalidArgument(
      `Invalid JSON payload received. Unknown name "${key}": Cannot bind query parameter. Field '${key}' could not be found in request message.`,
      key);
  }
}
