// App Hosting's resources as standard-method strategies: backends, builds, rollouts and domains (traffic, a
// singleton, is in traffic.ts). Validation and server fields here; the work is the controllers'.
import { ApiError, errorInfo, errors } from '../../google/errors.js';
import { hex, newUid, newUuid } from '../../google/ids.js';
import { withEtag, type KindStrategy, type Resource, type WriteContext } from '../../google/standard-methods.js';
import type { Store, Writer } from '../../store/store.js';
import type { Operation } from '../../google/operations.js';
import { recordBuild } from '../../google/cloud-build.js';
import { cloudBuildName } from '../../google/project-number.js';
import { queryBool } from '../../server/api.js';
import type { ExecutorPolicy } from '../../policy/executors.js';
import { BUILD_TERMINAL, KIND, ROLLOUT_TERMINAL, SERVICE, viewOf, type Version } from './service.js';
import { checkBackendId, checkBuildSource, checkDisplayName, checkEnv, checkEnvironmentName, checkRootDirectory, checkRunConfig, RuleError } from './validate.js';

type Obj = Record<string, unknown>;
const LINK = /^projects\/[^/]+\/locations\/[^/]+\/connections\/[^/]+\/gitRepositoryLinks\/[^/]+$/;
/** Most unfinished builds, and unfinished rollouts, one backend may have: more is 429 TOO_MANY_OPERATIONS. */
export const MAX_UNFINISHED = 50;

/** Refuses work past the bound of unfinished builds or rollouts of a backend. */
function checkUnfinished(store: Store, kind: string, backend: string, done: Set<string>, what: string): void {
  const open = store.list({ kind, scope: { parent: backend }, order: [], limit: MAX_UNFINISHED + 1, predicate: r => !done.has(String(r.state)) && r.deleteTime === undefined }).rows.length;
  if (open >= MAX_UNFINISHED) {
    throw new ApiError('RESOURCE_EXHAUSTED', `${backend} has ${MAX_UNFINISHED} unfinished ${what}: wait for some to finish and try again later.`, [errorInfo('TOO_MANY_OPERATIONS', SERVICE, { resource: backend })]);
  }
}

/** App Hosting lists order by name or createTime (with ` desc`). */
const ORDER_FIELDS = ['name', 'createTime'];
const HOSTNAME = /^(?=.{4,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

/** What App Hosting's front end adds to an error: an ErrorInfo with its documented reason. */
export function appHostingError(code: 'FAILED_PRECONDITION' | 'INVALID_ARGUMENT', reason: string, message: string, metadata: Record<string, string> = {}): ApiError {
  return new ApiError(code, message, [errorInfo(reason, SERVICE, metadata)]);
}

function rule(fn: () => void): void {
  try { fn(); } catch (e) {
    if (e instanceof RuleError) throw errors.invalidArgument(e.message, e.field);
    throw e;
  }
}

export interface AppHostingDeps {
  store: Store;
  /** Which executors a backend's `gantry.dev/executor` annotation may choose. */
  policy: ExecutorPolicy;
  /** The backend's public host name (`{backend}--{project}.{region}.hosted.app`). */
  hostOf(backendName: string): string;
  /** buildLogsUri for a build whose log is kept under `logId`. */
  logsUri(buildName: string, logId: string): string;
  /** Ends what waits on a backend deleted with `force` (its builds' and rollouts' operations). */
  abandon(w: Writer, backend: string): void;
}

/** The parent of a collection member's name (`…/backends/b/builds/x` → `…/backends/b`). */
const parentOf = (name: string) => name.slice(0, name.lastIndexOf('/', name.lastIndexOf('/') - 1));

/** Stores a resource the controllers changed (etag and updateTime follow). */
export function putResource(w: Writer, kind: string, r: Resource, now: string, active: boolean): void {
  r.updateTime = now;
  w.put(kind, String(r.name), parentOf(String(r.name)), withEtag(r), String(r.createTime), active);
}

/** Keeps the operation a create made in the resource's bookkeeping, so the controller can complete it. */
/** Records a build's Cloud Build build (its log's id), for Cloud Build's builds.get. */
export function recordBuildOf(w: Writer, r: Resource): void {
  const [, project, , region] = String(r.name).split('/');
  recordBuild(w, cloudBuildName(project, region, String((r.gantry as { logId?: string }).logId)), { name: String(r.name), kind: KIND.build }, String(r.createTime));
}

const rememberOp = (kind: string, active: (r: Resource) => boolean) => (r: Resource, op: Operation, w: Writer) => {
  r.gantry = { ...(r.gantry as Obj | undefined), op: op.name };
  w.put(kind, String(r.name), parentOf(String(r.name)), withEtag(r), String(r.createTime), active(r));
};

export function backendStrategy(v: Version, deps: AppHostingDeps): KindStrategy {
  return {
    kind: KIND.backend, orderFields: ORDER_FIELDS, message: 'Backend', collection: 'backends', idParam: 'backendId', bodyField: 'backend',
    extraQuery: { delete: ['force'], list: ['showDeleted'] },
    idRule: checkBackendId,
    view: viewOf(v, 'Backend'),
    validate(r, ctx) {
      checkDisplayName(r, 'backend.display_name');
      if (!r.servingLocality || r.servingLocality === 'SERVING_LOCALITY_UNSPECIFIED') {
        throw errors.invalidArgument('backend.serving_locality is required: REGIONAL_STRICT or GLOBAL_ACCESS', 'backend.serving_locality');
      }
      if (ctx.existing && ctx.existing.servingLocality !== r.servingLocality) {
        throw errors.invalidArgument('backend.serving_locality is immutable', 'backend.serving_locality');
      }
      deps.policy.checkAnnotations(r.annotations, 'backend.annotations', `Backend ${ctx.name}`);
      checkEnvironmentName(r.environment, 'backend.environment');
      checkEnvironmentName(r.mode, 'backend.mode');
      if (!r.serviceAccount) throw errors.invalidArgument('backend.service_account is required', 'backend.service_account');
      if (!/^[a-z0-9-]{6,30}@[a-z0-9.-]+$/.test(String(r.serviceAccount))) {
        throw errors.invalidArgument(`backend.service_account "${String(r.serviceAccount).slice(0, 100)}" is not a service account email`, 'backend.service_account');
      }
      const codebase = r.codebase as Obj | undefined;
      if (codebase) {
        const repo = String(codebase.repository ?? '');
        if (!LINK.test(repo)) throw errors.invalidArgument(`backend.codebase.repository "${repo.slice(0, 200)}" must be a Developer Connect git repository link, projects/{project}/locations/{location}/connections/{connection}/gitRepositoryLinks/{link}`, 'backend.codebase.repository');
        if (deps.store.get(repo)?.kind !== 'devconnect.gitRepositoryLink') {
          throw appHostingError('FAILED_PRECONDITION', 'RESOURCE_NOT_FOUND', `Resource ${repo} was not found`, { resource: repo });
        }
        checkRootDirectory(codebase.rootDirectory, 'backend.codebase.root_directory');
      }
      for (const [i, e] of ((r.overrideEnv ?? []) as Obj[]).entries()) if (!e) throw errors.invalidArgument(`backend.override_env[${i}] is empty`, `backend.override_env[${i}]`);
      rule(() => checkEnv(r.overrideEnv as Obj[] | undefined, 'backend.override_env'));
    },
    prepare(r, ctx, w) {
      const [, project, , location, , id] = ctx.name.split('/');
      if (ctx.existing) {
        r.uri = ctx.existing.uri;
        r.managedResources = ctx.existing.managedResources;
        return;
      }
      r.uri = deps.hostOf(ctx.name);
      r.managedResources = [{ runService: { service: `projects/${project}/locations/${location}/services/${id}` } }];
      const now = String(r.createTime);
      // Every backend has its traffic and its DEFAULT domain from the start.
      const traffic = withEtag({ name: `${ctx.name}/traffic`, uid: newUid(), createTime: now, updateTime: now, current: {} });
      w.put(KIND.traffic, `${ctx.name}/traffic`, ctx.name, traffic, now, false);
      const domain = withEtag({ name: `${ctx.name}/domains/${r.uri}`, type: 'DEFAULT', uid: newUid(), createTime: now, updateTime: now });
      w.put(KIND.domain, String(domain.name), ctx.name, domain, now, false);
    },
    beforeDelete(name, _r, req, w) {
      if (queryBool(req, 'force')) { deps.abandon(w, name); return; }
      const blocking = ['builds', 'rollouts'].filter(c => deps.store.list({ kind: c === 'builds' ? KIND.build : KIND.rollout, scope: { parent: name }, order: [], limit: 1 }).rows.length > 0);
      if (deps.store.list({ kind: KIND.domain, scope: { parent: name }, order: [], limit: 2, predicate: d => d.type === 'CUSTOM' }).rows.length) blocking.push('domains');
      if (blocking.length) {
        throw appHostingError('FAILED_PRECONDITION', 'CHILD_RESOURCE_EXISTS',
          `Resource ${name} has nested resources (${blocking.join(', ')}). If the API supports cascading delete, set 'force' to true to delete it and its nested resources.`, { resource: name });
      }
    },
  };
}

export function buildStrategy(v: Version, deps: AppHostingDeps): KindStrategy {
  const active = (r: Resource) => !BUILD_TERMINAL.has(String(r.state)) && r.deleteTime === undefined;
  return {
    kind: KIND.build, orderFields: ORDER_FIELDS, message: 'Build', collection: 'builds', idParam: 'buildId', bodyField: 'build', parentKind: KIND.backend,
    softDelete: true, deferCreateOperation: true,
    view: viewOf(v, 'Build'),
    active,
    validate(r, ctx) {
      checkDisplayName(r, 'build.display_name');
      const kind = checkBuildSource(r);
      const backend = deps.store.getParsed<Obj>(ctx.parent)!;
      // Checked again for each build: a backend restored from a snapshot made under wider flags.
      deps.policy.checkAnnotations(backend.annotations, 'backend.annotations', `Backend ${ctx.parent}`);
      if (!ctx.existing) checkUnfinished(deps.store, KIND.build, ctx.parent, BUILD_TERMINAL, 'builds');
      if (kind === 'codebase' && !(backend.codebase as Obj | undefined)?.repository) {
        throw errors.failedPrecondition(`Backend ${ctx.parent} has no codebase.repository: a codebase build needs one.`, ctx.parent);
      }
      const config = r.config as Obj | undefined;
      rule(() => checkRunConfig(config?.runConfig as Obj | undefined, 'build.config.run_config'));
      if (config?.env && kind !== 'container' && kind !== 'locallyBuilt') {
        throw errors.invalidArgument('build.config.env applies only to builds of a container image or a locally built source; set the environment in apphosting.yaml', 'build.config.env');
      }
      rule(() => checkEnv(config?.env as Obj[] | undefined, 'build.config.env'));
      if (kind === 'locallyBuilt') {
        const lb = (r.source as Obj).locallyBuilt as Obj;
        rule(() => checkRunConfig(lb.runConfig as Obj | undefined, 'build.source.locally_built.run_config'));
        rule(() => checkEnv(lb.env as Obj[] | undefined, 'build.source.locally_built.env'));
      }
    },
    prepare(r, ctx) {
      const backend = deps.store.getParsed<Obj>(ctx.parent)!;
      r.state = 'BUILDING';
      r.reconciling = true;
      if (backend.environment) r.environment = backend.environment;
      const codebase = (r.source as Obj).codebase as Obj | undefined;
      if (codebase) codebase.repository = (backend.codebase as Obj).repository;
      const logId = newUuid();
      r.buildLogsUri = deps.logsUri(ctx.name, logId);
      r.gantry = { logId };
    },
    onOperation: (r, op, w) => { rememberOp(KIND.build, active)(r, op, w); recordBuildOf(w, r); },
    beforeDelete(name) {
      const traffic = deps.store.getParsed<Obj>(`${name.split('/builds/')[0]}/traffic`);
      const uses = (set: unknown) => ((set as Obj | undefined)?.splits as Obj[] | undefined ?? []).some(s => s.build === name && Number(s.percent ?? 0) > 0);
      if (traffic && (uses(traffic.current) || uses(traffic.target))) {
        throw appHostingError('FAILED_PRECONDITION', 'RESOURCE_REFERENCES_EXIST', `Resource '${name}' is already referenced by ${traffic.name}: it serves traffic. Roll out another build first.`, { resource: name, referencedBy: String(traffic.name) });
      }
    },
  };
}

export function rolloutStrategy(v: Version, deps: AppHostingDeps): KindStrategy {
  const active = (r: Resource) => !ROLLOUT_TERMINAL.has(String(r.state));
  return {
    kind: KIND.rollout, orderFields: ORDER_FIELDS, message: 'Rollout', collection: 'rollouts', idParam: 'rolloutId', bodyField: 'rollout', parentKind: KIND.backend,
    deferCreateOperation: true, extraQuery: { list: ['showDeleted'] },
    newId: () => `rollout-${hex(12)}`,
    view: viewOf(v, 'Rollout'),
    active,
    validate(r, ctx: WriteContext) {
      checkDisplayName(r, 'rollout.display_name');
      const build = String(r.build ?? '');
      if (!build) throw errors.invalidArgument('rollout.build is required', 'rollout.build');
      if (!build.startsWith(`${ctx.parent}/builds/`)) throw errors.invalidArgument(`rollout.build "${build.slice(0, 300)}" must be a build of ${ctx.parent}`, 'rollout.build');
      if (!ctx.existing) checkUnfinished(deps.store, KIND.rollout, ctx.parent, ROLLOUT_TERMINAL, 'rollouts');
      const b = deps.store.getParsed<Obj>(build);
      // Google answers 400 while a build is not (yet) visible; firebase-tools retries on it.
      if (b?.deleteTime !== undefined || deps.store.get(build)?.kind !== KIND.build) {
        throw appHostingError('FAILED_PRECONDITION', 'RESOURCE_NOT_FOUND', `Build ${build} was not found`, { resource: build });
      }
    },
    prepare(r) { r.state = 'QUEUED'; r.reconciling = true; },
    onOperation: rememberOp(KIND.rollout, active),
  };
}

export function domainStrategy(v: Version): KindStrategy {
  return {
    kind: KIND.domain, orderFields: ORDER_FIELDS, message: 'Domain', collection: 'domains', idParam: 'domainId', bodyField: 'domain', parentKind: KIND.backend,
    extraQuery: { list: ['showDeleted'] },
    view: viewOf(v, 'Domain'),
    idRule(id) {
      if (!HOSTNAME.test(id)) throw errors.invalidArgument(`domain_id "${id.slice(0, 100)}" is not a host name`, 'domain_id');
    },
    validate(r, ctx) {
      checkDisplayName(r, 'domain.display_name');
      if (ctx.existing?.type === 'DEFAULT' && r.serve) throw errors.invalidArgument('A DEFAULT domain cannot redirect', 'domain.serve');
    },
    prepare(r, ctx) {
      // Gantry serves any host name it is told: a custom domain is active at once (no DNS or certificate to wait for).
      r.type = ctx.existing?.type ?? 'CUSTOM';
      if (r.type === 'CUSTOM') r.customDomainStatus = { hostState: 'HOST_ACTIVE', ownershipState: 'OWNERSHIP_ACTIVE', certState: 'CERT_ACTIVE' };
    },
    beforeDelete(name, r) {
      if (r.type === 'DEFAULT') throw errors.failedPrecondition(`Domain ${name} is the backend's DEFAULT domain: it cannot be deleted (disable it instead).`, name);
    },
  };
}
