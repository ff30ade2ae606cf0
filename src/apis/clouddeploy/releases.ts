// Release: a rendered, immutable version of the application, with snapshots of its pipeline,
// targets and custom target types taken at creation. Rendering is a controller (spec §6.2).
import type { Store, Writer } from '../../store/store.js';
import type { Clock } from '../../engine/clock.js';
import type { Controller } from '../../engine/controllers.js';
import type { ApiContext } from '../../google/context.js';
import { errors } from '../../google/errors.js';
import { checkCommonFields } from '../../google/common-fields.js';
import { parseTimestamp } from '../../google/time.js';
import { locationOf, withEtag, notFound, type KindStrategy, type Resource } from '../../google/standard-methods.js';
import type { MethodSpec } from '../../server/api.js';
import { stagesOf } from './pipelines.js';
import { cloudRunServiceName, loadSkaffold, type SkaffoldConfig, type SourceReader } from './skaffold.js';
import { phaseIds } from './phases.js';
import { schema } from './service.js';
import { OUTCOMES_ANNOTATION, parseOutcomes } from './outcomes.js';
import { skaffoldSupport, SUPPORTED_SKAFFOLD, DEFAULT_SKAFFOLD } from './config.js';
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
      const support = SUPPORTED_SKAFFOLD.find(v => v.version === version);
      if (!support) {
        throw errors.invalidArgument(`Skaffold version "${version}" is not supported; supported versions: ${SUPPORTED_SKAFFOLD.map(v => v.version).join(', ')}.`, 'release.skaffold_version');
      }
      const failure = (r.annotations as Obj | undefined)?.[RENDER_FAILURE_ANNOTATION];
      if (failure !== undefined) parseRenderFailure(String(failure));
      const outcomes = (r.annotations as Obj | undefined)?.[OUTCOMES_ANNOTATION];
      if (outcomes !== undefined) parseOutcomes(String(outcomes), `release.annotations["${OUTCOMES_ANNOTATION}"]`);
      checkSourceUri(r.skaffoldConfigUri, policies.sources);
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
      r.skaffoldVersion ??= DEFAULT_SKAFFOLD;
      r.deliveryPipelineSnapshot = pipeline;
      r.targetSnapshots = [...targets.values()];
      if (ctts.size) r.customTargetTypeSnapshots = [...ctts.values()];
      r.renderState = 'IN_PROGRESS';
      r.renderStartTime = r.createTime;
      r.targetRenders = Object.fromEntries([...targets.keys()].map(id => [id, { renderingState: 'IN_PROGRESS' }]));
      r.condition = {
        releaseReadyCondition: {},
        skaffoldSupportedCondition: skaffoldSupport(String(r.skaffoldVersion)),
      };
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
 * Render: after the configured duration every target render ends, as scripted; when the release's
 * source can be read, each target's stage is also checked against its Skaffold config (verify stanza,
 * custom actions), as Cloud Deploy's render does.
 */
export function renderController(ctx: ApiContext, renderMs: () => number, source: { reader: SourceReader; workRoot: string },
  renderActions: (release: Resource) => Promise<Map<string, { cause: string; message: string }>> = async () => new Map()): Controller {
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
      rc.track(sourceChecks(r, source).then(async found => {
        if (!found.size) for (const [t, f] of await renderActions(r).catch(() => new Map<string, { cause: string; message: string }>())) found.set(t, f);
        return found;
      }).then(found => store.tx(w => {
        const fresh = store.getParsed<Resource>(name);
        if (fresh?.renderState === 'IN_PROGRESS') finishRender(w, fresh, clock, found);
      })).finally(() => inflight.delete(name)));
    },
  };
}

/** Render failures the release's Skaffold config implies, by target; none when there is no readable source. */
interface SourceFindings extends Map<string, { cause: string; message: string }> { service?: string }

async function sourceChecks(r: Resource, source: { reader: SourceReader; workRoot: string }): Promise<SourceFindings> {
  const out: SourceFindings = new Map();
  if (!r.skaffoldConfigUri) return out;
  let cfg: SkaffoldConfig;
  try {
    cfg = await loadSkaffold(r, source.reader, source.workRoot);
  } catch {
    return out; // an unreadable source renders as simulated (see docs/fidelity.md)
  }
  out.service = cloudRunServiceName(cfg);
  const stages = stagesOf(r.deliveryPipelineSnapshot as Resource);
  for (const stage of stages) {
    const id = String(stage.targetId);
    const strategy = (stage.strategy ?? {}) as Obj;
    const blocks: Obj[] = [];
    if (strategy.standard) blocks.push(strategy.standard as Obj);
    const canary = strategy.canary as Obj | undefined;
    if (canary?.canaryDeployment) blocks.push(canary.canaryDeployment as Obj);
    for (const pc of ((canary?.customCanaryDeployment as Obj | undefined)?.phaseConfigs as Obj[] | undefined) ?? []) blocks.push(pc);
    for (const b of blocks) {
      if (b.verify && !cfg.verify.length) {
        out.set(id, { cause: 'VERIFICATION_CONFIG_NOT_FOUND', message: `The stage for target "${id}" enables verify, but the Skaffold config has no verify stanza.` });
      }
      for (const hook of ['predeploy', 'postdeploy']) {
        for (const action of (((b[hook] as Obj | undefined)?.actions as string[] | undefined) ?? [])) {
          if (!cfg.customActions.has(action)) out.set(id, { cause: 'CUSTOM_ACTION_NOT_FOUND', message: `The ${hook} action "${action}" of target "${id}" is not a custom action of the Skaffold config.` });
        }
      }
    }
  }
  for (const ctt of (r.customTargetTypeSnapshots as Resource[] | undefined) ?? []) {
    const actions = (ctt.customActions ?? {}) as Obj;
    for (const a of [actions.renderAction, actions.deployAction].filter(Boolean) as string[]) {
      if (cfg.customActions.has(a)) continue;
      for (const t of (r.targetSnapshots as Resource[]) ?? []) {
        if ((t.customTarget as Obj | undefined)?.customTargetType === ctt.name) {
          out.set(String(t.targetId), { cause: 'CUSTOM_ACTION_NOT_FOUND', message: `Action "${a}" of custom target type ${String(ctt.name)} is not a custom action of the Skaffold config.` });
        }
      }
    }
  }
  return out;
}

function finishRender(w: Writer, r: Resource, clock: Clock, found: SourceFindings): void {
  const failures = parseRenderFailure(String((r.annotations as Obj | undefined)?.[RENDER_FAILURE_ANNOTATION] ?? ''));
  const [, project, , region, , pipelineId, , releaseId] = String(r.name).split('/');
  const renders = r.targetRenders as Record<string, Obj>;
  const artifacts: Record<string, Obj> = {};
  const stages = stagesOf(r.deliveryPipelineSnapshot as Resource);
  let failed = false;
  for (const id of Object.keys(renders)) {
    const cause = failures.get(id) ?? failures.get('*');
    if (cause) {
      failed = true;
      renders[id] = { renderingState: 'FAILED', failureCause: cause, failureMessage: `Render of target "${id}" failed (${cause}), as scripted by annotation ${RENDER_FAILURE_ANNOTATION}.` };
      continue;
    }
    const problem = found.get(id);
    if (problem) {
      failed = true;
      renders[id] = { renderingState: 'FAILED', failureCause: problem.cause, failureMessage: problem.message };
      continue;
    }
    renders[id] = { renderingState: 'SUCCEEDED' };
    const run = ((r.targetSnapshots as Resource[] | undefined) ?? []).find(t => t.targetId === id)?.run as Obj | undefined;
    if (run?.location) {
      // The Cloud Run service the manifests deploy (the pipeline's id when the source cannot be read).
      renders[id].metadata = { cloudRun: { service: `${String(run.location)}/services/${found.service ?? pipelineId}` } };
    }
    const base = `gs://${region}.deploy-artifacts.${project}.appspot.com/${releaseId}-${String(r.uid)}/${id}`;
    const stage = stages.find(s => s.targetId === id);
    const phases = phaseIds(stage);
    const artifact: Obj = { artifactUri: base, skaffoldConfigPath: 'skaffold.yaml', manifestPath: 'manifest.yaml' };
    if (stage && phases.length) {
      artifact.phaseArtifacts = Object.fromEntries(phases.map(p => [p, { skaffoldConfigPath: `${p}/skaffold.yaml`, manifestPath: `${p}/manifest.yaml` }]));
    }
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
