// Firebase App Hosting (v1 and v1beta): the REST surface, one line per method as in the API reference, the
// controllers that build, deploy and roll out, and each backend's host name served by its Cloud Run service.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { App } from '../../server/app.js';
import type { ApiContext, BaseContext } from '../../google/context.js';
import type { ControllerRuntime } from '../../engine/controllers.js';
import type { Executor } from '../../executors/executor.js';
import type { ExecutorMode, ExecutorPolicy } from '../../policy/executors.js';
import { locationMethods, locationScoped, type Locations } from '../../google/locations.js';
import { operationMethods } from '../../google/operation-methods.js';
import { ApiError, errorInfo } from '../../google/errors.js';
import { StandardMethods, type KindStrategy } from '../../google/standard-methods.js';
import type { ApiRequest, MethodSpec } from '../../server/api.js';
import type { Logger } from '../../server/log.js';
import type { Rule } from '../../engine/outcomes.js';
import type { GitRepos } from '../../sources/git.js';
import type { SecretAccessor } from '../secretmanager/index.js';
import type { LogWriter } from '../logging/index.js';
import { cloudBuildStepEntry } from '../logging/producers.js';
import type { RepositoryLinks } from '../developerconnect/index.js';
import { Builder } from './builder.js';
import { AppHostingController, BUILD_RULES } from './controller.js';
import { backendStrategy, buildStrategy, recordBuildOf, domainStrategy, rolloutStrategy, type AppHostingDeps } from './resources.js';
import { ServeError } from '../../serving/instances.js';
import { afterBody, servedHost } from '../../serving/proxy.js';
import type { BuildRun } from './run-service.js';
import { backendHost, KIND, SCHEMAS, SERVICE, VERSIONS, type BuildBook, type Version } from './service.js';
import { patchTraffic, splitsOf, trafficStrategy } from './traffic.js';

export { BUILD_RULES };

type Obj = Record<string, unknown>;

export interface AppHostingOptions {
  runtime: ControllerRuntime;
  executors: Record<string, Executor>;
  policy: ExecutorPolicy;
  defaultExecutor: ExecutorMode;
  secrets: SecretAccessor;
  logs: LogWriter;
  links: RepositoryLinks;
  git: GitRepos;
  locations: Locations;
  /** A Cloud Storage object's bytes. */
  readObject(url: string): Buffer;
  /** Where a build's log can be read (Gantry's log viewer for the Cloud Build id). */
  buildLogsUri(project: string, region: string, logId: string): string;
  stepMs(): number;
  apiRules(resource: string): Rule<'succeed' | 'fail'>[][];
  nodeImage: string;
  workRoot: string;
  log: Logger;
  /** Cloud Run, where each backend's builds are revisions of its service, run and serve. */
  run: BuildRun;
}

export interface AppHosting {
  /** Reconciles, after a restart, the traffic of every backend that serves or follows a branch. */
  resume(): Promise<void>;
  close(): void;
}

const SUPPORTED_RUNTIMES = [
  { runtimeId: 'nodejs', automaticBaseImageUpdatesSupported: false },
  { runtimeId: 'nodejs20', automaticBaseImageUpdatesSupported: true },
  { runtimeId: 'nodejs22', automaticBaseImageUpdatesSupported: true },
  { runtimeId: 'nodejs24', automaticBaseImageUpdatesSupported: true },
];

export function registerAppHosting(app: App, base: BaseContext, o: AppHostingOptions): AppHosting {
  const store = base.store;
  // As the console links it: browsers resolve every `*.localhost` name to this machine, and Gantry serves the name.
  const localUrl = (backend: string) => { const origin = new URL(base.origin()); return `${origin.protocol}//${backendHost(backend)}.localhost${origin.port ? `:${origin.port}` : ''}/`; };
  const builder = new Builder({ git: o.git, links: o.links, readObject: o.readObject, secrets: o.secrets, nodeImage: o.nodeImage, workRoot: o.workRoot, decisions: o.runtime.decisions });
  /** The backend's managed Cloud Run service, as `managedResources.runService` names it. */
  const serviceOf = (backend: string) => { const [, project, , region, , id] = backend.split('/'); return `projects/${base.projects.resolve(project)}/locations/${region}/services/${id}`; };
  // A build's revision runs its artifact: the built app and its start command (an image source runs as it is).
  o.run.runs((build, service, spec) => {
    const backend = build.split('/builds/')[0];
    if (!build.includes('/builds/') || serviceOf(backend) !== service) return undefined;
    const b = store.getParsed<Obj>(build);
    if (!b || b.deleteTime !== undefined) throw new ServeError(`The App Hosting build ${build} no longer exists.`);
    const book = (b.gantry ?? {}) as BuildBook;
    if (!book.artifact || !book.run) return undefined;
    return { ...spec, image: builder.nodeImage, command: book.run.command, args: [], workspace: book.artifact, env: { ...book.run.env, ...spec.env } };
  });
  const deps: AppHostingDeps = {
    store,
    policy: o.policy,
    hostOf: backendHost,
    logsUri: (build, logId) => {
      const [, project, , region] = build.split('/');
      return o.buildLogsUri(project, region, logId);
    },
    abandon: (w, backend) => {
      // A forced delete ends the operations still waiting on the backend's builds and rollouts.
      for (const kind of [KIND.build, KIND.rollout]) {
        for (const r of store.children(kind, backend)) {
          const op = (r.gantry as BuildBook | undefined)?.op;
          if (op) base.ops.complete(w, op, { error: new ApiError('ABORTED', `${String(r.name)} was deleted with its backend.`) });
        }
      }
    },
  };
  const controller = new AppHostingController({
    store, clock: base.clock, ops: base.ops, log: o.log, builder, run: o.run, serviceOf, localUrl, executors: o.executors, defaultExecutor: o.defaultExecutor,
    stepMs: o.stepMs, rules: o.apiRules, decisions: o.runtime.decisions,
    buildLog: (b, step, name, line) => {
      const [, project] = String(b.name).split('/');
      o.logs.write([cloudBuildStepEntry({ project, buildId: String((b.gantry as BuildBook | undefined)?.logId ?? ''), step, stepName: name, line })]);
    },
    autoRollout: (backend, commit) => autoRollout(backend, commit),
    branchHead: (backend, branch) => builder.branchHead(backend, branch),
  });
  controller.setNudge((kind, name) => o.runtime.enqueue(kind, name));
  for (const c of controller.controllers()) o.runtime.register(c);

  const std: Partial<Record<Version, { std: StandardMethods; build: KindStrategy; rollout: KindStrategy }>> = {};
  for (const v of VERSIONS) {
    const ctx: ApiContext = { store, clock: base.clock, ops: base.ops, schema: SCHEMAS[v], locations: o.locations, svc: { protoPackage: `google.firebase.apphosting.${v}`, apiVersion: v, serviceName: SERVICE } };
    const methods = new StandardMethods(ctx);
    const backends = backendStrategy(v, deps), builds = buildStrategy(v, deps), rollouts = rolloutStrategy(v, deps);
    const traffic = trafficStrategy(v), domains = domainStrategy(v);
    std[v] = { std: methods, build: builds, rollout: rollouts };
    const r = (m: string, t: string, spec: MethodSpec) => app.route(m, t, locationScoped(ctx, withReasons(spec)));
    const P = 'projects/*/locations/*';
    const B = `${P}/backends/*`;
    r('GET', `/${v}/{parent=${P}}/backends`, methods.list(backends));
    r('POST', `/${v}/{parent=${P}}/backends`, methods.create(backends));
    r('GET', `/${v}/{name=${B}}`, methods.get(backends));
    r('PATCH', `/${v}/{backend.name=${B}}`, methods.update(backends));
    r('DELETE', `/${v}/{name=${B}}`, methods.delete(backends));
    r('GET', `/${v}/{parent=${B}}/builds`, methods.list(builds));
    r('POST', `/${v}/{parent=${B}}/builds`, methods.create(builds));
    r('GET', `/${v}/{name=${B}/builds/*}`, methods.get(builds));
    r('DELETE', `/${v}/{name=${B}/builds/*}`, methods.delete(builds));
    r('GET', `/${v}/{parent=${B}}/rollouts`, methods.list(rollouts));
    r('POST', `/${v}/{parent=${B}}/rollouts`, methods.create(rollouts));
    r('GET', `/${v}/{name=${B}/rollouts/*}`, methods.get(rollouts));
    r('GET', `/${v}/{name=${B}/traffic}`, methods.get(traffic));
    r('PATCH', `/${v}/{traffic.name=${B}/traffic}`, patchTraffic(ctx, methods, v, (backend, branch) => builder.branchHead(backend, branch)));
    r('GET', `/${v}/{parent=${B}}/domains`, methods.list(domains));
    r('POST', `/${v}/{parent=${B}}/domains`, methods.create(domains));
    r('GET', `/${v}/{name=${B}/domains/*}`, methods.get(domains));
    r('PATCH', `/${v}/{domain.name=${B}/domains/*}`, methods.update(domains));
    r('DELETE', `/${v}/{name=${B}/domains/*}`, methods.delete(domains));
    if (v === 'v1beta') {
      // v1's locations and operations share their paths with every other v1 API on this port (registered once,
      // by Cloud Deploy): an operation is found wherever its path lands and keeps the @types of the API that made it.
      const locations = locationMethods(ctx);
      const ops = operationMethods(ctx);
      r('GET', `/${v}/{name=projects/*}/locations`, locations.list);
      r('GET', `/${v}/{name=${P}}`, locations.get);
      r('GET', `/${v}/{name=${P}}/operations`, ops.list);
      r('GET', `/${v}/{name=${P}/operations/*}`, ops.get);
      r('DELETE', `/${v}/{name=${P}/operations/*}`, ops.delete);
      r('POST', `/${v}/{name=${P}/operations/*}:cancel`, ops.cancel);
      r('GET', `/${v}/{parent=${P}}/supportedRuntimes`, {
        query: ['pageSize', 'pageToken'],
        handler: req => ({ body: { supportedRuntimes: SUPPORTED_RUNTIMES.map(s => ({ name: `${req.params.parent}/supportedRuntimes/${s.runtimeId}`, ...s })) } }),
      });
    }
  }

  /** A new commit of a backend's rollout branch: a build of it (`build-YYYY-MM-DD-NNN`) and a rollout to it. */
  const autoRollout = (backend: string, commit: string) => {
    const { std: methods, build, rollout } = std.v1beta!;
    const id = nextBuildId(backend, base.clock.now());
    const req: ApiRequest = { method: 'POST', path: '', params: {}, query: {}, body: undefined, headers: {}, enumInts: false };
    try {
      store.tx(w => {
        recordBuildOf(w, methods.insert(w, build, `${backend}/builds/${id}`, backend, { source: { codebase: { commit } }, labels: { 'firebase-app-hosting-trigger': 'rollout-policy' } }, undefined, req));
        methods.insert(w, rollout, `${backend}/rollouts/${id}`, backend, { build: `${backend}/builds/${id}` }, undefined, req);
      });
      o.log.info(`App Hosting: ${backend}: commit ${commit.slice(0, 8)} rolls out as ${id}`);
    } catch (e) {
      o.log.warn(`App Hosting: ${backend}: the automatic rollout of ${commit.slice(0, 8)} could not be created: ${(e as Error).message}`);
    }
  };

  const nextBuildId = (backend: string, now: number): string => {
    const day = new Date(now).toISOString().slice(0, 10);
    let max = 0;
    for (const kind of [KIND.build, KIND.rollout]) {
      for (const r of store.children(kind, backend)) {
        const m = new RegExp(`/build-${day}-(\\d+)$`).exec(String(r.name));
        if (m) max = Math.max(max, Number(m[1]));
      }
    }
    return `build-${day}-${String(max + 1).padStart(3, '0')}`;
  };

  app.addVirtualHosts({
    // `{uri}.localhost` too: browsers resolve every *.localhost name to this machine, so the console links there.
    claims: host => host.endsWith('.hosted.app') || host.endsWith('.hosted.app.localhost'),
    serve: (req, res) => serveApp(req, res),
  });

  /** A request for a backend's host name: served by its Cloud Run service, split across its builds' revisions. */
  const serveApp = (req: IncomingMessage, res: ServerResponse) => {
    const host = servedHost(req);
    const backend = backendForHost(host);
    const text = (status: number, body: string) => afterBody(req, () => {
      res.writeHead(status, { 'content-type': 'text/html; charset=utf-8', 'content-length': Buffer.byteLength(body) });
      res.end(req.method === 'HEAD' ? undefined : body);
    });
    if (!backend) return text(404, `<h1>Backend Not Found</h1><p>No App Hosting backend serves ${escapeHtml(host)}.</p>\n`);
    const traffic = store.getParsed<Obj>(`${backend}/traffic`);
    if (!splitsOf(traffic?.current as Obj | undefined).length) return text(404, `<h1>Nothing rolled out yet</h1><p>${escapeHtml(backend)} has no build serving traffic. Roll one out first.</p>\n`);
    o.run.serve(serviceOf(backend), host, req, res);
  };

  const backendForHost = (host: string): string | undefined => {
    const m = /^([a-z0-9-]+)\.([a-z0-9-]+)\.hosted\.app$/.exec(host);
    if (!m) return undefined;
    // `{backend}--{project}`: either may hold "--", so every split is tried.
    for (let i = m[1].indexOf('--'); i > 0; i = m[1].indexOf('--', i + 1)) {
      const name = `projects/${m[1].slice(i + 2)}/locations/${m[2]}/backends/${m[1].slice(0, i)}`;
      if (store.get(name)?.kind === KIND.backend) return name;
    }
    return undefined;
  };

  /** Artifacts of builds that are gone are removed a little after the deletes (and at start-up). */
  let sweep: NodeJS.Timeout | undefined;
  const sweepSoon = () => {
    sweep ??= setTimeout(() => {
      sweep = undefined;
      const keep = new Set<string>();
      for (const b of store.list({ kind: KIND.build, scope: { parentPrefix: 'projects/' }, order: [], limit: 1_000_000, predicate: x => x.deleteTime === undefined }).rows) {
        const artifact = (b.gantry as BuildBook | undefined)?.artifact;
        if (artifact) keep.add(artifact);
      }
      // Builds under way write their artifact when they finish: a sweep waits for a quiet moment.
      if (store.activeNames(KIND.build).length) { sweepSoon(); return; }
      const n = builder.sweepArtifacts(keep);
      if (n) o.log.info(`App Hosting: removed ${n} artifacts no build uses`);
    }, 10_000);
    sweep.unref();
  };
  store.onChange(c => {
    if (c.op === 'delete' && c.kind === KIND.backend) sweepSoon();
    else if (c.kind === KIND.build && c.op === 'put' && store.getParsed<Obj>(c.name)?.deleteTime !== undefined) sweepSoon();
  });

  return {
    async resume() {
      sweepSoon();
      // Backends that served before the restart (their revisions are Cloud Run's to start again), and branches to
      // poll: their traffic is reconciled (traffic still converging is reconciled by the runtime's own start).
      for (const b of store.list({ kind: KIND.traffic, scope: { parentPrefix: 'projects/' }, order: [], limit: 100_000 }).rows) {
        if (splitsOf(b.current as Obj | undefined).length || (b.rolloutPolicy as Obj | undefined)?.codebaseBranch) o.runtime.enqueue(KIND.traffic, String(b.name));
      }
    },
    close() {
      if (sweep) clearTimeout(sweep);
    },
  };
}

/** App Hosting's ErrorInfo reasons on the errors every API shares (spec §B4). */
function withReasons(spec: MethodSpec): MethodSpec {
  const add = (e: unknown): never => {
    if (e instanceof ApiError && !e.details.some(d => d['@type'].endsWith('ErrorInfo'))) {
      const reason = e.code === 'NOT_FOUND' ? 'RESOURCE_NOT_FOUND' : e.code === 'ALREADY_EXISTS' ? 'RESOURCE_ALREADY_EXISTS' : undefined;
      if (reason) e.details.push(errorInfo(reason, SERVICE));
    }
    if (e instanceof ApiError && e.details.some(d => d.reason === 'ETAG_MISMATCH')) {
      throw new ApiError('ABORTED', 'Provided etag is out of date', [errorInfo('OUT_DATED_ETAG', SERVICE)]);
    }
    throw e;
  };
  return {
    ...spec,
    handler: req => {
      try {
        const out = spec.handler(req);
        return out instanceof Promise ? out.catch(add) : out;
      } catch (e) { return add(e); }
    },
  };
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, c => `&#${c.charCodeAt(0)};`);
}
