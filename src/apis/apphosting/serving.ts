// The apps that serve: a built app started through its executor with PORT (and its runtime env) on a free loopback
// port, ready once it answers HTTP. Gantry proxies a backend's host name (`{backend}--{project}.{region}.hosted.app`)
// to the app its traffic names. What runs is recorded, so a restarted Gantry stops what the previous one left.
import { request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';
import { createServer } from 'node:net';
import type { Executor, RunningTask, TaskResult, TaskSpec } from '../../executors/executor.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../../server/log.js';

/** How long an app has to answer its first request (Cloud Run's default startup probe allows 240 s). */
export const STARTUP_MS = 240_000;
const HANDLES = 'apphosting.serving';

export class ServeError extends Error {}

interface RunningApp {
  port: number;
  task?: RunningTask;
  ready: Promise<number>;
  isReady: boolean;
  /** Stopped by Gantry (superseded, deleted, shutting down). */
  stopped: boolean;
  ended?: TaskResult;
}

/** A free TCP port on loopback (the kernel's choice). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const addr = s.address();
      const port = typeof addr === 'object' && addr ? addr.port : 0;
      s.close(() => resolve(port));
    });
  });
}

export class Serving {
  private apps = new Map<string, RunningApp>();

  constructor(private store: Store, private log: Logger, private opts: {
    /** Where an app's output goes (Cloud Logging, as Cloud Run's revision logs). */
    output(build: string, stream: 'stdout' | 'stderr', line: string): void;
    /** Told when a ready app ends on its own (a crash): its backend's traffic is reconciled again. */
    ended(build: string): void;
    /** Where a browser on this machine reaches a build's backend through Gantry (its `hosted.app` name under `.localhost`). */
    localUrl?(build: string): string;
    startupMs?: number;
  }) {}

  /** The port of a build's app once it answers, else undefined. */
  portOf(build: string): number | undefined {
    const a = this.apps.get(build);
    return a?.isReady && !a.ended ? a.port : undefined;
  }

  isRunning(build: string): boolean {
    const a = this.apps.get(build);
    return !!a && !a.ended;
  }

  builds(): string[] { return [...this.apps.keys()]; }

  /**
   * Starts a build's app (once; a second call shares the same start) and resolves with its port once it answers
   * HTTP; rejects with a ServeError saying why not (it exited, or never answered in time).
   */
  start(build: string, executor: Executor, spec: Omit<TaskSpec, 'timeoutMs'>): Promise<number> {
    const existing = this.apps.get(build);
    if (existing && !existing.ended) return existing.ready;
    const app: RunningApp = { port: 0, ready: Promise.resolve(0), isReady: false, stopped: false };
    this.apps.set(build, app);
    app.ready = this.launch(build, app, executor, spec);
    app.ready.catch(() => { if (this.apps.get(build) === app) this.apps.delete(build); });
    return app.ready;
  }

  private async launch(build: string, app: RunningApp, executor: Executor, spec: Omit<TaskSpec, 'timeoutMs'>): Promise<number> {
    const port = await freePort();
    if (app.stopped) throw new ServeError('The app was stopped before it started.');
    app.port = port;
    const lines: string[] = [];
    const task = executor.start({
      ...spec, env: { ...spec.env, PORT: String(port) }, timeoutMs: 2 ** 31 - 1, graceMs: 10_000, owner: build,
      onStarted: handle => this.remember(build, executor.name, handle),
    }, (stream, chunk) => {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        if (lines.length >= 20) lines.shift();
        lines.push(line);
        this.opts.output(build, stream, line);
      }
    });
    app.task = task;
    task.done.then(r => {
      app.ended = r;
      this.forget(build);
      if (this.apps.get(build) === app) this.apps.delete(build);
      if (app.isReady && !app.stopped) {
        this.log.warn(`App Hosting: the app of ${build} stopped (${describe(r)})`);
        this.opts.ended(build);
      }
    }, () => undefined);
    const startupMs = this.opts.startupMs ?? STARTUP_MS;
    const deadline = Date.now() + startupMs;
    for (;;) {
      if (app.ended || app.stopped) {
        if (app.stopped && !app.ended) throw new ServeError('The app was stopped before it answered.');
        throw new ServeError(`The app exited before it answered on port ${port} (${describe(app.ended!)}).${lines.length ? ` Its last output: ${lines.slice(-5).join(' | ').slice(0, 1000)}` : ''}`);
      }
      if (await answers(port)) {
        app.isReady = true;
        const [, , , , , backend, , id] = build.split('/');
        const url = this.opts.localUrl?.(build);
        this.log.info(`App Hosting: backend ${backend} build ${id} answers on 127.0.0.1:${port}${url ? `; the backend serves at ${url}` : ''}`);
        return port;
      }
      if (Date.now() > deadline) {
        app.stopped = true;
        task.cancel();
        throw new ServeError(`The app did not answer HTTP on port ${port} (the PORT it was given) within ${Math.round(startupMs / 1000)} s.`);
      }
      await new Promise(r => setTimeout(r, 100));
    }
  }

  /** Stops a build's app (SIGTERM, then SIGKILL after 10 s). */
  stop(build: string): void {
    const a = this.apps.get(build);
    if (!a) return;
    this.apps.delete(build);
    a.stopped = true;
    a.task?.cancel();
  }

  stopAll(): void { for (const b of [...this.apps.keys()]) this.stop(b); }

  /** Stops whatever a previous Gantry left running (its process groups, its containers); resolves with how many apps. */
  async reapPrevious(executors: Record<string, Executor>): Promise<number> {
    const left = this.handles();
    let reaped = 0;
    for (const [build, h] of Object.entries(left)) if (await executors[h.executor]?.reap?.(h.handle, build).catch(() => false)) reaped++;
    if (Object.keys(left).length) this.store.tx(w => w.setMeta(HANDLES, '{}'));
    return reaped;
  }

  private handles(): Record<string, { executor: string; handle: string }> {
    try { return JSON.parse(this.store.getMeta(HANDLES) ?? '{}') as Record<string, { executor: string; handle: string }>; } catch { return {}; }
  }

  private remember(build: string, executor: string, handle: string): void {
    const h = this.handles();
    h[build] = { executor, handle };
    this.store.tx(w => w.setMeta(HANDLES, JSON.stringify(h)));
  }

  private forget(build: string): void {
    const h = this.handles();
    if (!(build in h)) return;
    delete h[build];
    this.store.tx(w => w.setMeta(HANDLES, JSON.stringify(h)));
  }
}

function describe(r: TaskResult): string {
  switch (r.kind) {
    case 'exited': return `exit code ${r.code}`;
    case 'signalled': return `signal ${r.signal}`;
    case 'failedToStart': return `it could not start: ${r.message}`;
    case 'timedOut': return 'timed out';
    case 'cancelled': return 'stopped';
  }
}

/** Whether something answers HTTP on the port (any status counts: the app is up). */
function answers(port: number): Promise<boolean> {
  return new Promise(resolve => {
    const req = request({ host: '127.0.0.1', port, path: '/', method: 'GET', timeout: 2000, headers: { 'user-agent': 'Gantry-startup-probe' } }, res => {
      res.resume();
      resolve(true);
    });
    req.on('timeout', () => { req.destroy(); resolve(false); });
    req.on('error', () => resolve(false));
    req.end();
  });
}

/** What the proxy knows of Gantry's own credentials: the token its guard checked (when one is set). */
export interface ProxyOptions { authToken?: string }

/**
 * The headers an app is sent: the client's, less what was meant for Gantry itself, with the forwarding headers
 * Gantry sets (as Cloud Run's front end does) in place of any the client sent. With `--auth-token`, the guard let
 * the request in only because `Authorization` held exactly Gantry's token: it is removed, so an app never holds a
 * credential for the whole API. Without a token, Gantry consumes no credential and the app's own `Authorization`
 * passes unchanged. `Proxy-Authorization` is for the proxy (Gantry), never the app. `Forwarded`, `X-Forwarded-*` and
 * `X-Real-IP` from the client would let it claim another address or host: they are replaced or dropped.
 */
export function forwardedHeaders(req: IncomingMessage, host: string, opts: ProxyOptions): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'forwarded' || k === 'x-real-ip' || k.startsWith('x-forwarded-') || k === 'proxy-authorization') continue;
    if (k === 'authorization' && opts.authToken) continue;
    headers[k] = v;
  }
  const ip = req.socket.remoteAddress ?? '127.0.0.1';
  const node = ip.includes(':') ? `"[${ip}]"` : ip;
  return {
    ...headers, host, forwarded: `for=${node};host=${host};proto=http`,
    'x-forwarded-host': host, 'x-forwarded-proto': 'http', 'x-forwarded-for': ip,
  };
}

/** Forwards a request to the app on `port`, as Cloud Run's front end would (see `forwardedHeaders`). */
export function proxyTo(port: number, req: IncomingMessage, res: ServerResponse, host: string, opts: ProxyOptions): void {
  const headers = forwardedHeaders(req, host, opts);
  const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, up => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
    up.pipe(res);
  });
  upstream.on('error', e => {
    if (res.headersSent) { res.destroy(); return; }
    res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`502 Bad Gateway: the app did not answer (${e.message})\n`);
  });
  req.pipe(upstream);
}
