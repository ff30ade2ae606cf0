// Rollout and JobRun resources: creation-time validation and plan (spec §7.1, §7.3), and the
// helpers every writer of a rollout or job run goes through.
import type { Store, Writer } from '../../store/store.js';
import { ApiError, errors, OperationFailure } from '../../google/errors.js';
import { checkCommonFields } from '../../google/common-fields.js';
import { locationOf, stampEtag, type KindStrategy, type Resource } from '../../google/standard-methods.js';
import { queryList, queryString } from '../../server/api.js';
import type { Clock } from '../../engine/clock.js';
import { enforce, type Invoker } from './policy-check.js';
import { stagesOf } from './pipelines.js';
import { FIRST_DEPLOYMENT_SKIP, planPhases, type Phase } from './rollout-plan.js';
import { OUTCOMES_ANNOTATION, parseOutcomes } from './outcomes.js';
import { defaultArtifactStorage, executionConfigFor } from './targets.js';

export const ROLLOUT_TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'APPROVAL_REJECTED', 'HALTED']);
export const JOB_RUN_TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'TERMINATED']);

export interface Rollout extends Resource {
  name: string; targetId: string; state: string; approvalState: string; phases: Phase[]; createTime: string;
  enqueueTime?: string; approveTime?: string; deployStartTime?: string; deployEndTime?: string;
  failureReason?: string; deployFailureCause?: string; deployingBuild?: string;
}

export function releaseOf(rolloutName: string): string { return rolloutName.slice(0, rolloutName.indexOf('/rollouts/')); }
export function pipelineOf(name: string): string { return name.slice(0, name.indexOf('/releases/')); }

export function saveRollout(w: Writer, r: Rollout): void {
  const data = stampEtag(r);
  w.put('rollout', r.name, releaseOf(r.name), r, r.createTime, !ROLLOUT_TERMINAL.has(r.state), data);
}

export function saveJobRun(w: Writer, jr: Resource): void {
  const name = String(jr.name);
  const data = stampEtag(jr);
  w.put('jobRun', name, name.slice(0, name.indexOf('/jobRuns/')), jr, String(jr.createTime), !JOB_RUN_TERMINAL.has(String(jr.state)), data);
}

/** Rollouts of every pipeline of `location` to `targetId`, in any of `states` (in no particular order). */
export function rolloutsOnTarget(store: Store, location: string, targetId: string, states: string[]): Rollout[] {
  return states.flatMap(state => store.list({
    kind: 'rollout', scope: { parentPrefix: location + '/deliveryPipelines/' }, order: [], unordered: true,
    equalities: [{ path: ['targetId'], value: targetId }, { path: ['state'], value: state }], limit: 100_000,
  }).rows as Rollout[]);
}

/** A rollout idle between phases: IN_PROGRESS, its last phase run succeeded and the next waits for :advance. */
export function awaitingAdvance(r: Rollout): boolean {
  if (r.state !== 'IN_PROGRESS') return false;
  const next = r.phases.findIndex(p => p.state !== 'SUCCEEDED' && p.state !== 'SKIPPED');
  return next >= 0 && r.phases[next].state === 'PENDING' && next !== autoStartPhase(r);
}

/**
 * The phase a rollout starts by itself: its starting phase (phases before a startingPhaseId are skipped past), or -1
 * when that phase is a canary skipped on the target's first deployment: the phase after it then waits for :advance,
 * as Google's canary quickstart shows ("Pending advance", "Advance to stable").
 */
export function autoStartPhase(r: Rollout): number {
  const i = r.phases.findIndex(p => p.state !== 'SKIPPED' || p.skipMessage === FIRST_DEPLOYMENT_SKIP);
  return i >= 0 && r.phases[i].state === 'SKIPPED' ? -1 : i;
}

/**
 * Whether a rollout deploys to its target, holding up the target's queue: CANCELLING, or IN_PROGRESS and not
 * idle awaiting :advance (an idle one is halted by the next rollout that starts).
 */
export function deploying(r: Rollout): boolean {
  return r.state === 'CANCELLING' || (r.state === 'IN_PROGRESS' && !awaitingAdvance(r));
}

/** The release's snapshot of a target, and its stage. */
export function snapshotOf(release: Resource, targetId: string): { target?: Resource; stage?: Resource } {
  const target = ((release.targetSnapshots as Resource[] | undefined) ?? []).find(t => t.targetId === targetId);
  const stage = stagesOf((release.deliveryPipelineSnapshot as Resource | undefined) ?? {}).find(s => s.targetId === targetId);
  return { target, stage };
}

/**
 * The state a new rollout starts in (spec §7.2): PENDING_RELEASE while its release renders; of a rendered
 * release, PENDING_APPROVAL when it needs approval, else PENDING, enqueued at its creation (Google's
 * `enqueueTime` equals `createTime` then), for its target's queue to start.
 */
export function initialState(release: Resource, approvalState: string, createTime: string): Pick<Rollout, 'state' | 'enqueueTime'> {
  if (release.renderState !== 'SUCCEEDED') return { state: 'PENDING_RELEASE' };
  if (approvalState === 'NEEDS_APPROVAL') return { state: 'PENDING_APPROVAL' };
  return { state: 'PENDING', enqueueTime: createTime };
}

/**
 * Where a verify job run keeps its artifacts (`verifyJobRun.artifactUri`, `eventLogPath` relative to it):
 * `{artifactStorage}/{release}-{release uid}/{target}/jobRuns/{job run id}` and `verify.log`, under the
 * artifact storage of the target's VERIFY execution config (default: the location's deploy-artifacts bucket),
 * beside the release's rendered artifacts for the target.
 */
export function verifyArtifact(jobRunName: string, release: Resource, targetId: string): { artifactUri: string; eventLogPath: string } {
  const storage = String(executionConfigFor(snapshotOf(release, targetId).target, 'VERIFY')?.artifactStorage ?? defaultArtifactStorage(jobRunName)).replace(/\/+$/, '');
  const releaseId = String(release.name).slice(String(release.name).lastIndexOf('/') + 1);
  const jobRunId = jobRunName.slice(jobRunName.lastIndexOf('/') + 1);
  return { artifactUri: `${storage}/${releaseId}-${String(release.uid)}/${targetId}/jobRuns/${jobRunId}`, eventLogPath: 'verify.log' };
}

/** Whether the target has never had a successful rollout of this pipeline (canary phases are then skipped). */
export function firstDeployment(store: Store, pipeline: string, targetId: string): boolean {
  const res = store.list({ kind: 'rollout', scope: { grandparent: pipeline }, order: [], unordered: true, equalities: [{ path: ['targetId'], value: targetId }, { path: ['state'], value: 'SUCCEEDED' }], limit: 1 });
  return res.rows.length === 0;
}

/** `action`: what deploy policies see a create as (CREATE; ROLLBACK for the rollout rollbackTarget makes). */
export function rolloutStrategy(store: Store, clock: Clock, action: 'CREATE' | 'ROLLBACK' = 'CREATE', invoker: Invoker = 'USER'): KindStrategy {
  return {
    kind: 'rollout', message: 'Rollout', collection: 'rollouts', idParam: 'rolloutId', bodyField: 'rollout', parentKind: 'release',
    extraQuery: { create: ['startingPhaseId', 'overrideDeployPolicy'] },
    active: r => !ROLLOUT_TERMINAL.has(String(r.state)),
    validate(r, ctx) {
      checkCommonFields(r, 'rollout');
      const release = store.getFrozen<Resource>(ctx.parent);
      if (!release) return; // the generic parent check answers NOT_FOUND
      // Read-only here (parsed once per stored version): the pipeline and the target are asked on every create.
      const pipeline = store.getFrozen<Resource>(pipelineOf(ctx.parent));
      if (pipeline?.suspended) {
        throw errors.failedPrecondition(`Cannot create rollout: delivery pipeline '${pipelineOf(ctx.parent)}' is suspended, no new releases or rollouts can be created.`, pipelineOf(ctx.parent));
      }
      if (release.abandoned) throw errors.failedPrecondition(`Cannot create rollout: release '${ctx.parent}' is abandoned.`, ctx.parent);
      if (release.renderState === 'FAILED') throw errors.failedPrecondition(`Cannot create rollout: release '${ctx.parent}' failed to render.`, ctx.parent);
      if (!r.targetId) throw errors.invalidArgument('rollout.target_id is required.', 'rollout.target_id');
      const { target, stage } = snapshotOf(release, String(r.targetId));
      if (!stage || !target) {
        throw errors.invalidArgument(`Target "${String(r.targetId)}" is not a stage of the release's delivery pipeline.`, 'rollout.target_id');
      }
      const outcomes = (r.annotations as Resource | undefined)?.[OUTCOMES_ANNOTATION];
      if (outcomes !== undefined) parseOutcomes(String(outcomes));
      const location = locationOf(ctx.parent);
      try {
        enforce(store, location, pipeline, store.getFrozen<Resource>(`${location}/targets/${String(r.targetId)}`) ?? target, action, clock.now(), queryList(ctx.req, 'overrideDeployPolicy'), invoker);
      } catch (e) {
        // CreateRollout's operation carries the refusal (gcloud prints "A create-rollout attempt was blocked by …").
        throw e instanceof ApiError ? new OperationFailure(e) : e;
      }
    },
    prepare(r, ctx) {
      const release = store.getFrozen<Resource>(ctx.parent)!;
      const { target, stage } = snapshotOf(release, String(r.targetId));
      const children = (target!.multiTarget as Resource | undefined)?.targetIds as string[] | undefined;
      r.phases = planPhases(stage!, {
        startingPhaseId: queryString(ctx.req, 'startingPhaseId') || undefined,
        firstDeployment: () => firstDeployment(store, pipelineOf(ctx.parent), String(r.targetId)),
        children,
      });
      const approvalState = target!.requireApproval ? 'NEEDS_APPROVAL' : 'DOES_NOT_NEED_APPROVAL';
      r.approvalState = approvalState;
      Object.assign(r, initialState(release, approvalState, String(r.createTime)));
    },
  };
}

export const jobRuns: KindStrategy = {
  kind: 'jobRun', message: 'JobRun', collection: 'jobRuns', idParam: 'jobRunId', bodyField: 'jobRun', parentKind: 'rollout',
};
