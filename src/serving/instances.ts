// The instances that serve, for every API that serves apps (App Hosting builds, Cloud Run revisions): a unit (an
// opaque id: a build's or a revision's name) started through its executor with PORT (and its runtime env) on a free
// loopback port, ready once it answers HTTP. What runs is recorded under the owner's store key, so a restarted Gantry
// stops what the previous one left. Host routing and proxying are the owner's, through src/serving/proxy.ts.
import { request } from 'node:http';
import { createServer } from 'node:net';
import type { Executor, RunningTask, TaskResult, TaskSpec } from '../executors/executor.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../server/log.js';

/** How long an app has to answer its first request (Cloud Run's default startup probe allows 240 s). */
export const STARTUP_MS = 240_000;

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

export class Instances {
  private apps = new Map<string, RunningApp>();

  constructor(private store: Store, private log: Logger, private opts: {
    /** The store meta key the handles of running units are kept under (one per owner: each reaps its own). */
    handlesKey: string;
    /** The log line once a unit answers, e.g. "App Hosting: backend b build x answers on 127.0.0.1:4100". */
    readyLine(unit: string, port: number): string;
    /** How a unit that stops on its own is named in the warning, e.g. "App Hosting: the app of B". */
    name(unit: string): string;
    /** Where a unit's output goes (Cloud Logging, as Cloud Run's revision logs). */
    output(unit: string, stream: 'stdout' | 'stderr', line: string): void;
    /** Told when a ready unit ends on its own (a crash), so its owner reconciles what routes to it. */
    ended(unit: string): void;
    startupMs?: number;
  }) {}

  /** The port of a unit once it answers, else undefined. */
  portOf(unit: string): number | undefined {
    const a = this.apps.get(unit);
    return a?.isReady && !a.ended ? a.port : undefined;
  }

  isRunning(unit: string): boolean {
    const a = this.apps.get(unit);
    return !!a && !a.ended;
  }

  units(): string[] { return [...this.apps.keys()]; }

  /** The port a unit that is running (or still starting) will answer on, once it does; undefined when it is not running. */
  whenReady(unit: string): Promise<number> | undefined {
    const a = this.apps.get(unit);
    return a && !a.ended ? a.ready : undefined;
  }

  /**
   * Starts a unit (once; a second call shares the same start) and resolves with its port once it answers
   * HTTP; rejects with a ServeError saying why not (it exited, or never answered in time).
   */
  start(unit: string, executor: Executor, spec: Omit<TaskSpec, 'timeoutMs'>): Promise<number> {
    const existing = this.apps.get(unit);
    if (existing && !existing.ended) return existing.ready;
    const app: RunningApp = { port: 0, ready: Promise.resolve(0), isReady: false, stopped: false };
    this.apps.set(unit, app);
    app.ready = this.launch(unit, app, executor, spec);
    app.ready.catch(() => { if (this.apps.get(unit) === app) this.apps.delete(unit); });
    return app.ready;
  }

  private async launch(unit: string, app: RunningApp, executor: Executor, spec: Omit<TaskSpec, 'timeoutMs'>): Promise<number> {
    const port = await freePort();
    if (app.stopped) throw new ServeError('The app was stopped before it started.');
    app.port = port;
    const lines: string[] = [];
    const task = executor.start({
      ...spec, env: { ...spec.env, PORT: String(port) }, timeoutMs: 2 ** 31 - 1, graceMs: 10_000, owner: unit,
      onStarted: handle => this.remember(unit, executor.name, handle),
    }, (stream, chunk) => {
      for (const line of chunk.split('\n')) {
        if (!line) continue;
        if (lines.length >= 20) lines.shift();
        lines.push(line);
        this.opts.output(unit, stream, line);
      }
    });
    app.task = task;
    task.done.then(r => {
      app.ended = r;
      this.forget(unit);
      if (this.apps.get(unit) === app) this.apps.delete(unit);
      if (app.isReady && !app.stopped) {
        this.log.warn(`${this.opts.name(unit)} stopped (${describe(r)})`);
        this.opts.ended(unit);
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
        this.log.info(this.opts.readyLine(unit, port));
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

  /** Stops a unit (SIGTERM, then SIGKILL after 10 s). */
  stop(unit: string): void {
    const a = this.apps.get(unit);
    if (!a) return;
    this.apps.delete(unit);
    a.stopped = true;
    a.task?.cancel();
  }

  stopAll(): void { for (const b of [...this.apps.keys()]) this.stop(b); }

  /** Stops whatever a previous Gantry left running (its process groups, its containers); resolves with how many apps. */
  async reapPrevious(executors: Record<string, Executor>): Promise<number> {
    const left = this.handles();
    let reaped = 0;
    for (const [unit, h] of Object.entries(left)) if (await executors[h.executor]?.reap?.(h.handle, unit).catch(() => false)) reaped++;
    // Only what was left is forgotten: units this Gantry started meanwhile keep their handles.
    if (Object.keys(left).length) {
      this.store.tx(w => {
        const now = this.handles();
        for (const [unit, h] of Object.entries(left)) if (now[unit]?.handle === h.handle) delete now[unit];
        w.setMeta(this.opts.handlesKey, JSON.stringify(now));
      });
    }
    return reaped;
  }

  private handles(): Record<string, { executor: string; handle: string }> {
    try { return JSON.parse(this.store.getMeta(this.opts.handlesKey) ?? '{}') as Record<string, { executor: string; handle: string }>; } catch { return {}; }
  }

  // Read inside the writing transaction: on a shared store, another write of the key waits for this one.
  private remember(unit: string, executor: string, handle: string): void {
    this.store.tx(w => {
      const h = this.handles();
      h[unit] = { executor, handle };
      w.setMeta(this.opts.handlesKey, JSON.stringify(h));
    });
  }

  private forget(unit: string): void {
    this.store.tx(w => {
      const h = this.handles();
      if (!(unit in h)) return;
      delete h[unit];
      w.setMeta(this.opts.handlesKey, JSON.stringify(h));
    });
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
