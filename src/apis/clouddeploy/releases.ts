// Release: a rendered, immutable version of the application, with snapshots of its pipeline,
// targets and custom target types taken at creation. Rendering is a controller (spec §6.2).
import { posix } from 'node:path';
import type { Store, Writer } from '../../store/store.js';
import type { Clock } from '../../engine/clock.js';
import type { Controller } from '../../engine/controllers.js';
import type { ApiContext } from '../../google/context.js';
import { ApiError, errors } from '../../google/errors.js';
import { cloudBuildName } from '../../google/project-number.js';
import { recordBuild } from '../../google/cloud-build.js';
import { checkCommonFields } from '../../google/common-fields.js';
import { parseTimestamp } from '../../google/time.js';
import { locationOf, withEtag, notFound, type KindStrategy, type Resource } from '../../google/standard-methods.js';
import type { MethodSpec } from '../../server/api.js';
import { stagesOf } from './pipelines.js';
import { artifactBase, customTargetTypeOf, phaseLayout, renderRelease, stageFor, type RenderDeps, type TargetRenderResult } from './render.js';
import { customActionsOf, verifyOf, type ResolvedConfig } from '../../skaffold/index.js';
import type { CustomRender } from './job-execution.js';
import { schema } from './service.js';
import { OUTCOMES_ANNOTATION, parseOutcomes } from './outcomes.js';
import { isAcceptedSkaffold, skaffoldSupport, SUPPORTED_SKAFFOLD, DEFAULT_SKAFFOLD, PREVIEW_SKAFFOLD, checkToolVersions, frozenToolVersions, toolConditions, LATEST } from './tool-versions.js';
import type { ExecutorPolicy } from '../../policy/executors.js';
import type { SourcePolicy } from '../../policy/sources.js';

type Obj = Record<string, unknown>;

/** Annotation that scripts a render failure: "CAUSE" for every target, or "target=CAUSE,…". */
export const RENDER_FAILURE_ANNOTATION = 'gantry.dev/render-failure';

/** What the operator allows releases to use: executors for their jobs, host directories for file:// sources. */
export interface ReleasePolicies { executors: ExecutorPolicy; sources: SourcePolicy }

export function releaseStrategy(store: Store, policies: ReleasePolicies): KindStrategy {
  return {
    kind: 'release', message: 'Release', collection: 'releases', idParam: 'releaseId', bodyField: 'release',
    parentKind: 'deliveryPipeline', extraQuery: { create: ['overrideDeployPolicy'] },
    active: r => r.renderState === 'IN_PROGRESS',
    validate(r, ctx) {
      checkCommonFields(r, 'release');
      const pipeline = store.getParsed<Resource>(ctx.parent);
      if (!pipeline) return; // the generic parent check answers NOT_FOUND
      if (pipeline.suspended) {
        throw errors.failedPrecondition(`Cannot create release: delivery pipeline '${ctx.parent}' is suspended, no new releases or rollouts can be created.`, ctx.parent);
      }
      const location = locationOf(ctx.parent);
      const missing = stagesOf(pipeline).map(s => `${location}/targets/${String(s.targetId)}`).filter(t => !store.get(t));
      if (missing.length) {
        throw errors.failedPrecondition(`Cannot create release: the delivery pipeline references targets that do not exist: ${missing.join(', ')}.`, ctx.parent);
      }
      const version = r.skaffoldVersion === undefined ? DEFAULT_SKAFFOLD : String(r.skaffoldVersion);
      if (!isAcceptedSkaffold(version)) {
        throw errors.invalidArgument(`Skaffold version "${version}" is not supported; supported versions: ${[...SUPPORTED_SKAFFOLD.map(v => v.version), PREVIEW_SKAFFOLD].join(', ')}.`, 'release.skaffold_version');
      }
      checkToolVersions(r.toolVersions, r.skaffoldVersion);
      const failure = (r.annotations as Obj | undefined)?.[RENDER_FAILURE_ANNOTATION];
      if (failure !== undefined) parseRenderFailure(String(failure));
      const outcomes = (r.annotations as Obj | undefined)?.[OUTCOMES_ANNOTATION];
      if (outcomes !== undefined) parseOutcomes(String(outcomes), `release.annotations["${OUTCOMES_ANNOTATION}"]`);
      checkSourceUri(r.skaffoldConfigUri, policies.sources);
      // The config file must be a path inside the source (symlinks are checked when the render reads it).
      if (r.skaffoldConfigPath !== undefined && r.skaffoldConfigPath !== null && r.skaffoldConfigPath !== '') {
        const p = String(r.skaffoldConfigPath);
        const norm = posix.normalize(p);
        if (p.includes('\0') || posix.isAbsolute(p) || /^[A-Za-z]:[\\/]/.test(p) || norm === '..' || norm.startsWith('../')) {
          throw errors.invalidArgument(`skaffold_config_path must be a relative path inside the release source, got "${p.slice(0, 200)}".`, 'release.skaffold_config_path');
        }
      }
    },
    prepare(r, ctx) {
      const pipeline = store.getParsed<Resource>(ctx.parent)!;
      const location = locationOf(ctx.parent);
      const targets = new Map<string, Resource>();
      const visit = (id: string) => {
        if (targets.has(id)) return;
        const t = store.getParsed<Resource>(`${location}/targets/${id}`);
        if (!t) throw errors.failedPrecondition(`Cannot create release: target "${id}" does not exist.`, `${location}/targets/${id}`);
        targets.set(id, t);
        for (const child of ((t.multiTarget as Obj | undefined)?.targetIds as string[] | undefined) ?? []) visit(child);
      };
      for (const stage of stagesOf(pipeline)) visit(String(stage.targetId));
      // The pipeline and targets may predate the operator's current executor flags: their snapshots must fit them.
      policies.executors.checkAnnotations(pipeline.annotations, 'delivery_pipeline.annotations', ctx.parent);
      for (const t of targets.values()) policies.executors.checkAnnotations(t.annotations, 'target.annotations', String(t.name));
      const ctts = new Map<string, Resource>();
      for (const t of targets.values()) {
        const ctt = (t.customTarget as Obj | undefined)?.customTargetType as string | undefined;
        if (!ctt || ctts.has(ctt)) continue;
        const found = store.getParsed<Resource>(ctt);
        if (!found) throw errors.failedPrecondition(`Cannot create release: custom target type '${ctt}' does not exist.`, ctt);
        ctts.set(ctt, found);
      }
      // Every tool's version is frozen at creation; skaffoldVersion names the Skaffold the render runs.
      const tools = frozenToolVersions(r.toolVersions, r.skaffoldVersion as string | undefined);
      r.toolVersions = tools;
      r.skaffoldVersion ??= tools.skaffold === LATEST ? DEFAULT_SKAFFOLD : tools.skaffold;
      r.deliveryPipelineSnapshot = pipeline;
      r.targetSnapshots = [...targets.values()];
      if (ctts.size) r.customTargetTypeSnapshots = [...ctts.values()];
      r.renderState = 'IN_PROGRESS';
      r.renderStartTime = r.createTime;
      // Each target renders in its own Cloud Build build, as Google reports it.
      r.targetRenders = Object.fromEntries([...targets.keys()].map(id => [id, { renderingBuild: cloudBuildName(ctx.parent.split('/')[1], ctx.parent.split('/')[3]), renderingState: 'IN_PROGRESS' }]));
      r.condition = {
        releaseReadyCondition: {},
        skaffoldSupportedCondition: skaffoldSupport(String(r.skaffoldVersion)),
        ...toolConditions(tools, String(r.createTime)),
      };
    },
    // Recorded once the release is (not on validateOnly): Cloud Build's builds.get answers for each target's render.
    onOperation(r, _op, w) {
      const builds = new Set(Object.values((r.targetRenders ?? {}) as Record<string, Obj>).map(t => t.renderingBuild).filter(Boolean));
      for (const build of builds) recordBuild(w, String(build), { name: String(r.name), kind: 'release' }, String(r.createTime));
    },
  };
}

/** Cloud Deploy takes a Cloud Storage URI; a local file:// source only where the operator allows it. */
function checkSourceUri(uri: unknown, sources: SourcePolicy): void {
  if (uri === undefined) return;
  const s = String(uri);
  if (s.startsWith('file://')) { sources.localPath(s); return; }
  if (!/^gs:\/\/[^/\s]+\/\S/.test(s)) {
    throw errors.invalidArgument(`skaffold_config_uri must be a Cloud Storage URI (gs://bucket/object), got "${s.slice(0, 200)}".`, 'release.skaffold_config_uri');
  }
}

function parseRenderFailure(value: string): Map<string, string> {
  const causes = schema.enumValues('TargetRender.FailureCause').filter(c => !c.endsWith('UNSPECIFIED'));
  const out = new Map<string, string>();
  for (const part of value.split(',').map(s => s.trim()).filter(Boolean)) {
    const [target, cause] = part.includes('=') ? part.split('=', 2) : ['*', part];
    if (!causes.includes(cause)) {
      throw errors.invalidArgument(`Annotation ${RENDER_FAILURE_ANNOTATION}: "${cause}" is not a render failure cause (one of ${causes.join(', ')}).`, `release.annotations`);
    }
    out.set(target, cause);
  }
  return out;
}

/**
 * Render: after the configured duration every target render ends. When the release has a source, each
 * target is really rendered (render.ts) and checked against the Skaffold config it rendered with (the
 * verify stanza and custom actions its stage needs), as Cloud Deploy's render does; a custom target
 * type's render action then runs under a real executor. Scripted failures override all of it.
 */
export function renderController(ctx: ApiContext, renderMs: () => number, deps: RenderDeps,
  renderActions: (release: Resource, configs: Map<string, ResolvedConfig[]>) => Promise<Map<string, CustomRender>> = async () => new Map()): Controller {
  const { store, clock } = ctx;
  const inflight = new Set<string>();
  return {
    kind: 'release',
    reconcile(name, rc) {
      const r = store.getParsed<Resource>(name);
      if (!r || r.renderState !== 'IN_PROGRESS' || inflight.has(name)) return;
      const due = Number(parseTimestamp(String(r.renderStartTime))! / 1_000_000n) + renderMs();
      if (clock.now() < due) return rc.wakeAt(due);
      inflight.add(name);
      return renderRelease(r, deps).then(async results => {
        for (const [id, problem] of stageChecks(r, results)) results.set(id, { ok: false, ...problem });
        const configs = new Map([...results].filter(([, v]) => v.ok && v.configs).map(([k, v]) => [k, v.configs!]));
        const actions = await renderActions(r, configs).catch((e: Error) => {
          // Google errors are written for clients; anything else may name host paths, so it goes to the log only.
          if (!(e instanceof ApiError)) deps.log?.error(`custom render of ${name}: ${e.stack ?? e.message}`);
          const message = e instanceof ApiError ? e.message : 'Gantry could not run the custom render action (the details are in its log).';
          return new Map<string, CustomRender>([...configs.keys()].map(id => [id, { ok: false, cause: 'EXECUTION_FAILED', message }]));
        });
        for (const [id, f] of actions) {
          const res = results.get(id);
          if (!res?.ok) continue;
          if (!f.ok) results.set(id, { ok: false, cause: f.cause, message: f.message });
          else if (f.metadata) res.metadata = { ...(res.metadata ?? {}), custom: { values: f.metadata } };
        }
        store.tx(w => {
          const fresh = store.getParsed<Resource>(name);
          if (fresh?.renderState === 'IN_PROGRESS') finishRender(w, fresh, clock, results);
        });
      }).finally(() => inflight.delete(name));
    },
  };
}

/** What a target's stage needs from the Skaffold config it rendered with: a verify stanza, its custom actions. */
function stageChecks(r: Resource, results: Map<string, TargetRenderResult>): Map<string, { cause: string; message: string }> {
  const out = new Map<string, { cause: string; message: string }>();
  if (!r.skaffoldConfigUri) return out;
  for (const [id, res] of results) {
    if (!res.ok || !res.configs) continue;
    const actions = customActionsOf(res.configs);
    const hasVerify = verifyOf(res.configs).length > 0;
    const strategy = (stageFor(r, id)?.strategy ?? {}) as Obj;
    const blocks: Obj[] = [];
    if (strategy.standard) blocks.push(strategy.standard as Obj);
    const canary = strategy.canary as Obj | undefined;
    if (canary?.canaryDeployment) blocks.push(canary.canaryDeployment as Obj);
    for (const pc of ((canary?.customCanaryDeployment as Obj | undefined)?.phaseConfigs as Obj[] | undefined) ?? []) blocks.push(pc);
    for (const b of blocks) {
      if (b.verify && !hasVerify) {
        out.set(id, { cause: 'VERIFICATION_CONFIG_NOT_FOUND', message: `The stage for target "${id}" enables verify, but the Skaffold config has no verify stanza.` });
      }
      for (const hook of ['predeploy', 'postdeploy']) {
        for (const action of (((b[hook] as Obj | undefined)?.actions as string[] | undefined) ?? [])) {
          if (!actions.has(action)) out.set(id, { cause: 'CUSTOM_ACTION_NOT_FOUND', message: `The ${hook} action "${action}" of target "${id}" is not a custom action of the Skaffold config.` });
        }
      }
    }
    const ctt = customTargetTypeOf(r, ((r.targetSnapshots as Resource[] | undefined) ?? []).find(t => t.targetId === id));
    const cttActions = (ctt?.customActions ?? {}) as Obj;
    for (const a of [cttActions.renderAction, cttActions.deployAction].filter(Boolean) as string[]) {
      if (!actions.has(a)) out.set(id, { cause: 'CUSTOM_ACTION_NOT_FOUND', message: `Action "${a}" of custom target type ${String(ctt!.name)} is not a custom action of the Skaffold config.` });
    }
  }
  return out;
}

function finishRender(w: Writer, r: Resource, clock: Clock, results: Map<string, TargetRenderResult>): void {
  const failures = parseRenderFailure(String((r.annotations as Obj | undefined)?.[RENDER_FAILURE_ANNOTATION] ?? ''));
  const renders = r.targetRenders as Record<string, Obj>;
  const artifacts: Record<string, Obj> = {};
  let failed = false;
  // Each target keeps the build named for its render at creation.
  const [, project, , location] = String(r.name).split('/');
  for (const id of Object.keys(renders)) {
    const renderingBuild = String(renders[id]?.renderingBuild ?? cloudBuildName(project, location));
    const cause = failures.get(id) ?? failures.get('*');
    if (cause) {
      failed = true;
      renders[id] = { renderingBuild, renderingState: 'FAILED', failureCause: cause, failureMessage: `Render of target "${id}" failed (${cause}), as scripted by annotation ${RENDER_FAILURE_ANNOTATION}.` };
      continue;
    }
    const res = results.get(id);
    if (res && !res.ok) {
      failed = true;
      renders[id] = { renderingBuild, renderingState: 'FAILED', failureCause: res.cause, failureMessage: res.message };
      continue;
    }
    renders[id] = { renderingBuild, renderingState: 'SUCCEEDED' };
    if (res?.metadata) renders[id].metadata = res.metadata;
    const artifact: Obj = { artifactUri: artifactBase(r, id), skaffoldConfigPath: 'skaffold.yaml', manifestPath: 'manifest.yaml' };
    const stage = stageFor(r, id);
    if (stage) artifact.phaseArtifacts = Object.fromEntries(phaseLayout(stage).map(p => [p.id, { skaffoldConfigPath: `${p.prefix}skaffold.yaml`, manifestPath: `${p.prefix}manifest.yaml` }]));
    artifacts[id] = artifact;
  }
  r.renderState = failed ? 'FAILED' : 'SUCCEEDED';
  r.renderEndTime = clock.timestamp();
  if (Object.keys(artifacts).length) r.targetArtifacts = artifacts;
  (r.condition as Obj).releaseReadyCondition = failed ? {} : { status: true };
  w.put('release', String(r.name), String(r.name).split('/releases/')[0], withEtag(r), String(r.createTime), false);
}

/** POST …/releases/*:abandon — irreversible; rollouts of the release cannot be created after it. */
export function abandonRelease(ctx: ApiContext): MethodSpec {
  return {
    handler: req => {
      const name = req.params.name;
      ctx.schema.decode('AbandonReleaseRequest', req.body ?? {});
      const r = ctx.store.getParsed<Resource>(name);
      if (!r || !String(name).includes('/releases/')) throw notFound(ctx, `${ctx.svc.serviceName}/Release`, name);
      if (r.abandoned) throw errors.failedPrecondition(`Release '${name}' is already abandoned.`, name);
      r.abandoned = true;
      ctx.store.tx(w => w.put('release', name, name.split('/releases/')[0], withEtag(r), String(r.createTime), r.renderState === 'IN_PROGRESS'));
      return { body: {} };
    },
  };
}
