// Cloud Run revisions that serve. Every revision with a share of traffic or a tag runs: a process or container through
// the shared instances (src/serving/), or, simulated, a responder built in that answers with the revision's identity.
// Requests to a service's host names (`*.run.app`, and the same names under `.localhost` for browsers and curl) are
// split per request by the resolved traffic; a tag's host reaches its revision alone. A revision is Ready once its
// instance answers HTTP (simulated: at once); one that never answers is not, with Cloud Run's reason.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor, TaskSpec } from '../../executors/executor.js';
import type { Store } from '../../store/store.js';
import type { Logger } from '../../server/log.js';
import type { Projects } from '../../google/projects.js';
import { ApiError } from '../../google/errors.js';
import { EXECUTOR_ANNOTATION } from '../../policy/executors.js';
import { Instances, ServeError } from '../../serving/instances.js';
import { afterBody, proxyTo, servedHost } from '../../serving/proxy.js';
import { FORWARDED_HEADER, forwardTo } from '../../serving/forward.js';
import { pickShare } from '../../serving/split.js';
import type { SecretAccessor } from '../secretmanager/index.js';
import type { LogWriter } from '../logging/index.js';
import type { RequestLogWriter } from '../logging/request-logs.js';
import { cloudRunRevisionEntry } from '../logging/producers.js';
import { containerSpec } from './container-spec.js';
import { secretAliases } from './secret-aliases.js';
import { REVISION_KIND, SERVICE_KIND, type Readiness, type RevisionReadiness, type RevisionSubject } from './revisions.js';
import { servingPlan, type ServingPlan } from './serving-plan.js';
import type { Obj } from './meta.js';

/** Where a revision runs, chosen once when it is made (a restarted Gantry with another default keeps it). */
interface RevisionBook { executor?: string }

export interface RevisionServingDeps {
  store: Store;
  log: Logger;
  projects: Projects;
  executors: Record<string, Executor>;
  defaultExecutor: string;
  secrets: SecretAccessor;
  logs: LogWriter;
  /** Each request served (Cloud Run's request log, written off the request path). */
  requests: RequestLogWriter;
  /** Where secret volumes of running revisions are written. */
  volumesRoot: string;
  authToken?: string;
  startupMs?: number;
  /** Records the verdict on a revision `assess` left pending (RunServices.settleRevision). */
  settle(key: string, verdict: Readiness): void;
  /**
   * Whether this instance runs the revision (the resource name `key`): instances sharing a database split the work by
   * project, and each runs only its own projects' revisions.
   */
  working?: (key: string) => boolean;
  /** The URL of the instance that runs the revision `key`, when another one does: its requests are passed on there. */
  elsewhere?: (key: string) => string | undefined;
  /** The meta key where the instances of running revisions are recorded (each instance on a shared store has its own). */
  handlesKey?: string;
}

/** What an instance of a revision runs. */
export type InstanceSpec = Omit<TaskSpec, 'timeoutMs'>;
/**
 * Another API's say in what a revision runs, when its image alone does not say it (an App Hosting build's artifact):
 * given the spec made from the revision's container, answers the spec to run, or undefined to leave it as it is.
 */
export type RevisionSource = (key: string, rev: Obj, spec: InstanceSpec) => InstanceSpec | undefined;

/** Where a host name leads: a service's split, or (a tag's host) one revision alone. */
interface Route { service: string; revision?: string }
interface ServedRevision { service: string; simulated: boolean; image: unknown; env: string[] }

/** Cloud Run's reason and message for a revision whose container never listened (the message Google gives, then why). */
const NOT_LISTENING = 'HealthCheckContainerError';
const notListening = (detail: string) => `The user-provided container failed to start and listen on the port defined provided by the PORT environment variable within the allocated timeout. This can happen when the container port is misconfigured or if the timeout is too short. ${detail}`;

export class RevisionServing implements RevisionReadiness {
  private instances: Instances;
  /** Host name → the service (store key) it reaches, and the tag when it is a tag's host. */
  private routes = new Map<string, Route>();
  /** Service key → its plan and the host names it holds in `routes`. */
  private plans = new Map<string, ServingPlan>();
  private pendingSync = new Set<string>();
  /** Each running revision's service (store keys), so a service's sync stops only its own revisions. */
  private owners = new Map<string, string>();
  /** What a request needs of each revision that serves, read once per sync rather than once per request. */
  private served = new Map<string, ServedRevision>();
  private sources: RevisionSource[] = [];

  constructor(private d: RevisionServingDeps) {
    this.instances = new Instances(d.store, d.log, {
      handlesKey: d.handlesKey ?? 'run.serving',
      name: rev => `Cloud Run: revision ${rev.slice(rev.lastIndexOf('/') + 1)}`,
      readyLine: (rev, port) => `Cloud Run: revision ${rev.slice(rev.lastIndexOf('/') + 1)} answers on 127.0.0.1:${port}`,
      output: (rev, stream, line) => {
        const r = this.d.store.getParsed<Obj>(rev);
        if (r) this.d.logs.write([cloudRunRevisionEntry({ ...identityOf(rev, r), stream, line })]);
      },
      // Cloud Run starts a crashed instance again: the service is synced a little later, which starts what is missing.
      ended: rev => { const svc = this.serviceOfRevision(rev); if (svc) setTimeout(() => this.safely(() => this.sync(svc)), 2000).unref(); },
      startupMs: d.startupMs,
    });
    d.store.onChange(c => {
      // Every instance routes every service's hosts (a request may reach any); only the project's worker runs revisions.
      if (c.kind === SERVICE_KIND) this.syncSoon(c.name);
      // A revision deployed through another instance (sharing the database) is brought up here, by the worker. One
      // stored inactive is not deploying (its readiness is settled), so it is not read.
      else if (c.kind === REVISION_KIND && c.op === 'put' && c.active !== false && this.working(c.name) && !this.instances.isRunning(c.name)) setImmediate(() => this.safely(() => this.bringUpIfDeploying(c.name)));
    });
  }

  /** Lets another API decide what some revisions run (see RevisionSource). */
  addSource(source: RevisionSource): void { this.sources.push(source); }

  // ---- readiness ----

  assess(subject: RevisionSubject): Readiness {
    const mode = this.executorFor(subject.resource, subject.serviceResource);
    subject.resource.gantry = { ...((subject.resource.gantry as Obj | undefined) ?? {}), executor: mode } satisfies RevisionBook;
    if (mode === 'simulated') return { state: 'ready' };
    // Started once the write that made it is committed (a write that fails leaves nothing to start), by the instance
    // that works: the store's change reaches it.
    return { state: 'pending', message: 'Deploying Revision.' };
  }

  private working(key: string): boolean { return this.d.working?.(key) ?? true; }

  /** Work off the request path: a store that cannot answer (a shared one's lost connection) is logged, not thrown. */
  private safely(fn: () => void): void {
    try { fn(); } catch (e) { this.d.log.error(`Cloud Run serving: ${(e as Error).message}`); }
  }

  private bringUpIfDeploying(key: string): void {
    const rev = this.d.store.getParsed<Obj>(key);
    if (!rev || readyStatus(rev) !== 'Unknown' || ((rev.gantry ?? {}) as RevisionBook).executor === 'simulated' || this.instances.isRunning(key)) return;
    this.bringUp(key);
  }

  /** The revision's own `gantry.dev/executor` annotation (its template's), else its service's, else Gantry's default. */
  private executorFor(rev: Obj, service: Obj | undefined): string {
    for (const r of [rev, service]) {
      const v = ((r?.metadata as Obj | undefined)?.annotations as Obj | undefined)?.[EXECUTOR_ANNOTATION];
      if (typeof v === 'string' && v) return v;
    }
    return this.d.defaultExecutor;
  }

  /** Starts a revision's instance; its readiness is settled by whether it answers. */
  private bringUp(key: string): void {
    if (!this.working(key)) return;
    const rev = this.d.store.getParsed<Obj>(key);
    if (!rev) return;
    this.start(key, rev).then(
      () => { if (readyStatus(this.d.store.getParsed<Obj>(key)) === 'Unknown') this.d.settle(key, { state: 'ready' }); },
      (e: Error) => {
        if (!this.d.store.get(key)) return;
        const failed: Readiness = e instanceof ServeError || e instanceof ApiError
          ? { state: 'failed', reason: NOT_LISTENING, message: notListening(e.message) }
          : { state: 'failed', reason: 'RevisionFailed', message: e.message };
        this.d.settle(key, failed);
      },
    );
  }

  private start(key: string, rev: Obj): Promise<number> {
    const mode = String(((rev.gantry ?? {}) as RevisionBook).executor ?? this.d.defaultExecutor);
    const executor = this.d.executors[mode];
    if (!executor) return Promise.reject(new ApiError('FAILED_PRECONDITION', `The ${mode} executor is not enabled on this Gantry, so the revision cannot run (the operator enables it with --executor ${mode} or --allow-executors ${mode}).`));
    const id = identityOf(key, rev);
    const dir = join(this.d.volumesRoot, id.revision);
    let spec;
    try {
      spec = containerSpec((rev.spec ?? {}) as Obj, { project: id.project, projectNumber: this.d.projects.number(id.project), secretAliases: secretAliases((rev.metadata as Obj).annotations) },
        this.d.secrets, dir, { K_SERVICE: id.service, K_REVISION: id.revision, K_CONFIGURATION: id.service }, { 'gantry.dev/service': id.service, 'gantry.dev/revision': id.revision });
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      return Promise.reject(e as Error);
    }
    const { timeoutMs: _, ...rest } = spec;
    let run: InstanceSpec = { ...rest, network: 'host' };
    try {
      for (const source of this.sources) run = source(key, rev, run) ?? run;
    } catch (e) {
      return Promise.reject(e as Error);
    }
    this.owners.set(key, `${key.split('/revisions/')[0]}/services/${id.service}`);
    return this.instances.start(key, executor, run);
  }

  // ---- which revisions run ----

  private syncSoon(service: string): void {
    if (this.pendingSync.has(service)) return;
    this.pendingSync.add(service);
    setImmediate(() => { this.pendingSync.delete(service); this.safely(() => this.sync(service)); });
  }

  /** Routes a service's hosts by its plan; runs the revisions that serve or have a tag, stops the others. */
  sync(service: string): void {
    const old = this.plans.get(service);
    if (old) for (const h of [...old.hosts, ...Object.keys(old.tagHosts)]) if (this.routes.get(h)?.service === service) this.routes.delete(h);
    const svc = this.d.store.getParsed<Obj>(service);
    const region = service.split('/')[3];
    const revisionKeyOf = (rev: string) => `${service.split('/services/')[0].replace(/\/locations\/[^/]+$/, '')}/locations/${region}/revisions/${rev}`;
    const wanted = new Set<string>();
    if (!svc || svc.deleteTime !== undefined) {
      this.plans.delete(service);
    } else {
      const plan = servingPlan(svc);
      this.plans.set(service, plan);
      for (const h of plan.hosts) this.routes.set(h, { service });
      for (const [host, revision] of Object.entries(plan.tagHosts)) { this.routes.set(host, { service, revision }); wanted.add(revisionKeyOf(revision)); }
      for (const s of plan.split) wanted.add(revisionKeyOf(s.revision));
    }
    for (const unit of this.instances.units()) {
      if (this.owners.get(unit) !== service || wanted.has(unit)) continue;
      const rev = this.d.store.getParsed<Obj>(unit);
      // A revision still being deployed keeps running until its readiness is settled.
      if (rev && readyStatus(rev) === 'Unknown') continue;
      this.owners.delete(unit);
      this.instances.stop(unit);
    }
    for (const [key, info] of [...this.served]) if (info.service === service && !wanted.has(key)) this.served.delete(key);
    for (const key of wanted) {
      const rev = this.d.store.getParsed<Obj>(key);
      if (rev) {
        const c = ((((rev.spec as Obj | undefined)?.containers ?? []) as Obj[])[0] ?? {});
        this.served.set(key, { service, simulated: ((rev.gantry ?? {}) as RevisionBook).executor === 'simulated', image: c.image ?? null, env: ((c.env ?? []) as Obj[]).map(e => String(e.name)) });
      }
      // Only the project's worker runs revisions (the others forward their requests to it).
      if (this.instances.isRunning(key) || !this.working(key)) continue;
      if (!rev || ((rev.gantry ?? {}) as RevisionBook).executor === 'simulated' || readyStatus(rev) === 'False') continue;
      this.start(key, rev).catch((e: Error) => this.d.log.warn(`Cloud Run: revision ${key.slice(key.lastIndexOf('/') + 1)} could not serve again: ${e.message}`));
    }
  }

  private serviceOfRevision(key: string): string | undefined {
    const rev = this.d.store.getParsed<Obj>(key);
    const svc = ((rev?.metadata as Obj | undefined)?.labels as Obj | undefined)?.['serving.knative.dev/service'];
    if (typeof svc !== 'string') return undefined;
    return `${key.split('/revisions/')[0]}/services/${svc}`;
  }

  // ---- requests ----

  /** Whether a Host is one Cloud Run serves (a `run.app` name, or one under `.localhost`). */
  claims(host: string): boolean { return host.endsWith('.run.app') || host.endsWith('.run.app.localhost'); }

  /** A request to a service's (or a tag's) host name: proxied to the revision its traffic picks. */
  serve(req: IncomingMessage, res: ServerResponse): void {
    const host = servedHost(req);
    const route = this.routes.get(host);
    if (!route) return page(req, res, 404, NOT_FOUND_PAGE(req.url ?? '/'));
    this.serveRoute(route, host, req, res);
  }

  /** A request another API's host name leads to a service (an App Hosting backend's `hosted.app` name). */
  serveService(service: string, host: string, req: IncomingMessage, res: ServerResponse): void {
    this.serveRoute({ service }, host, req, res);
  }

  private serveRoute(route: Route, host: string, req: IncomingMessage, res: ServerResponse): void {
    const started = performance.now();
    const plan = this.plans.get(route.service);
    if (!plan) return page(req, res, 404, NOT_FOUND_PAGE(req.url ?? '/'));
    const revision = route.revision ?? pickShare(plan.split.map(s => ({ to: s.revision, percent: s.percent })));
    if (!revision) return page(req, res, 503, '<h1>Service Unavailable</h1><p>No revision of this service is ready to serve.</p>\n');
    const key = `projects/${plan.project}/locations/${plan.region}/revisions/${revision}`;
    const info = this.served.get(key);
    // Another instance runs the project's revisions: the request goes there whole, and is logged there. A request
    // already passed on is served here whatever this instance's record of the worker says, so none ever loops.
    const there = !info?.simulated && !this.working(key) && req.headers[FORWARDED_HEADER] === undefined ? this.d.elsewhere?.(key) : undefined;
    if (there) return forwardTo(there, req, res);
    res.once('finish', () => this.logRequest(plan, revision, req, res.statusCode, performance.now() - started));
    if (info?.simulated) return this.identity(req, res, plan, revision, info);
    const port = this.instances.portOf(key);
    if (port) return proxyTo(port, req, res, host, { authToken: this.d.authToken });
    // Scaled to zero (or still starting): the request waits for the instance, as a cold start on Cloud Run does.
    const starting = info ? this.warm(key) : undefined;
    if (!starting) return page(req, res, 503, `<h1>Service Unavailable</h1><p>Revision ${escapeHtml(revision)} is not answering.</p>\n`);
    starting.then(
      p => { if (!res.headersSent && !req.destroyed) proxyTo(p, req, res, host, { authToken: this.d.authToken }); },
      (e: Error) => { if (!res.headersSent) page(req, res, 503, `<h1>Service Unavailable</h1><p>Revision ${escapeHtml(revision)} could not start: ${escapeHtml(e.message.slice(0, 500))}</p>\n`); },
    );
  }

  /**
   * Resolves with the port of a revision's instance once it answers, starting it when it is not running (a simulated
   * revision has nothing to start: 0 at once). Rejects when it cannot start.
   */
  warm(key: string): Promise<number> {
    const running = this.instances.whenReady(key);
    if (running) return running;
    const rev = this.d.store.getParsed<Obj>(key);
    if (!rev) return Promise.reject(new ServeError(`The revision ${key.slice(key.lastIndexOf('/') + 1)} does not exist.`));
    if (((rev.gantry ?? {}) as RevisionBook).executor === 'simulated') return Promise.resolve(0);
    if (!this.working(key)) return Promise.reject(new ServeError('This Gantry instance does not run this project\'s work, and the one that does could not be reached.'));
    return this.start(key, rev);
  }

  /** A simulated revision's answer: who it is, so a traffic split is observable with nothing running. */
  private identity(req: IncomingMessage, res: ServerResponse, plan: ServingPlan, revision: string, info: ServedRevision): void {
    const body = JSON.stringify({ service: plan.service, revision, image: info.image, env: info.env, path: req.url ?? '/', simulated: true }) + '\n';
    afterBody(req, () => {
      res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
  }

  private logRequest(plan: ServingPlan, revision: string, req: IncomingMessage, status: number, ms: number): void {
    this.d.requests.request({
      project: plan.project, region: plan.region, service: plan.service, revision, method: String(req.method), status, latencyMs: ms,
      url: `https://${String(req.headers.host ?? '').replace(/\.localhost(:\d+)?$/, '')}${req.url ?? '/'}`,
      userAgent: req.headers['user-agent'], remoteIp: req.socket.remoteAddress,
    });
  }

  // ---- lifecycle ----

  /** At start-up, before anything runs: stops what this instance left running when it was killed. */
  async reapLeftovers(restart: { note(what: 'reaped', kind: string, n: number): void }): Promise<void> {
    restart.note('reaped', 'revision', await this.instances.reapPrevious(this.d.executors));
  }

  /**
   * Routes every service and starts what serves (of the projects this instance works for): after a start, and each
   * time it takes over other instances' work. Revisions left deploying are deployed again.
   */
  resume(): void {
    for (const s of this.d.store.list({ kind: SERVICE_KIND, scope: { parentPrefix: 'projects/' }, order: [], limit: 1_000_000 }).rows) this.sync(serviceKeyOf(s));
    for (const name of this.d.store.activeNames(REVISION_KIND)) this.bringUp(name);
  }

  /** Stops the running revisions `which` picks (this instance no longer works for their projects). */
  stopWhere(which: (key: string) => boolean): void {
    for (const unit of this.instances.units()) if (which(unit)) { this.owners.delete(unit); this.instances.stop(unit); }
  }

  close(): void { this.instances.stopAll(); }
}

function serviceKeyOf(s: Obj): string {
  const m = s.metadata as Obj;
  return `projects/${String((s.gantry as Obj | undefined)?.project)}/locations/${String((m.labels as Obj)['cloud.googleapis.com/location'])}/services/${String(m.name)}`;
}

function identityOf(key: string, rev: Obj): { project: string; region: string; service: string; revision: string } {
  const [, project, , region, , revision] = key.split('/');
  const service = String(((rev.metadata as Obj).labels as Obj)['serving.knative.dev/service'] ?? revision);
  return { project, region, service, revision };
}

function readyStatus(rev: Obj | undefined): string | undefined {
  return ((((rev?.status as Obj | undefined)?.conditions ?? []) as Obj[]).find(c => c.type === 'Ready')?.status) as string | undefined;
}

function page(req: IncomingMessage, res: ServerResponse, status: number, html: string): void {
  afterBody(req, () => {
    res.writeHead(status, { 'content-type': 'text/html; charset=UTF-8', 'content-length': Buffer.byteLength(html) });
    res.end(req.method === 'HEAD' ? undefined : html);
  });
}

const escapeHtml = (s: string) => s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);

/** What Google's front end answers for a run.app name no service holds: its plain "404. That's an error." page. */
const NOT_FOUND_PAGE = (path: string) => `<!DOCTYPE html>
<html lang=en>
<meta charset=utf-8>
<title>Error 404 (Not Found)!!1</title>
<p><b>404.</b> <ins>That’s an error.</ins>
<p>The requested URL <code>${escapeHtml(path.slice(0, 200))}</code> was not found on this server.  <ins>That’s all we know.</ins>
`;
