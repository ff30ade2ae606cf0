// The rollout state machine (spec §7.2), level-triggered: each reconcile reads the rollout, its
// release and its job runs, and writes the next step. States: PENDING_RELEASE → (PENDING_APPROVAL) →
// PENDING (queued behind another rollout on the target) → IN_PROGRESS → SUCCEEDED | FAILED; CANCELLING →
// CANCELLED; APPROVAL_REJECTED and HALTED are set by verbs and by newer rollouts.
// PENDING → IN_PROGRESS is the target queue's decision (one queue per location and target id, across
// pipelines): at most one rollout per target is IN_PROGRESS or CANCELLING at any time.
import type { Controller } from '../../../engine/controllers.js';
import type { ApiContext } from '../../../google/context.js';
import type { Writer } from '../../../store/store.js';
import { EXECUTOR_ANNOTATION, EXECUTOR_MODES, type ExecutorMode } from '../../../policy/executors.js';
import { newUid, newUuid } from '../../../google/ids.js';
import { cloudBuildName } from '../../../google/project-number.js';
import { recordBuild } from '../../../google/cloud-build.js';
import { locationOf, type Resource } from '../../../google/standard-methods.js';
import { jobsOf, planPhases, type Job, type Phase } from '../rollout-plan.js';
import { autoStartPhase, deploying, initialState, JOB_RUN_TERMINAL, releaseOf, ROLLOUT_TERMINAL, rolloutsOnTarget, saveJobRun, saveRollout, snapshotOf, verifyArtifact, type Rollout } from '../rollouts.js';

const snapshotStage = (release: Resource, targetId: string) => snapshotOf(release, targetId).stage;
import { decide, OUTCOMES_ANNOTATION, parseOutcomes, type OutcomeRule } from '../outcomes.js';
import { schema } from '../service.js';
import { jobTimeoutMs, type JobExecutions } from '../job-execution.js';
import type { BuildStepLine } from '../../logging/producers.js';
import type { Decisions } from '../../../engine/decisions.js';
import { jobRunLabel, rolloutLabel, rolloutSituation } from './rollout-situation.js';

const JOB_RUN_FIELD: Record<string, string> = { predeploy: 'predeployJobRun', deploy: 'deployJobRun', verify: 'verifyJobRun', postdeploy: 'postdeployJobRun' };
const DONE_PHASE = new Set(['SUCCEEDED', 'SKIPPED']);
const DONE_JOB = new Set(['SUCCEEDED', 'SKIPPED', 'IGNORED']);

export interface RolloutOptions {
  /** Default duration of a simulated job run. */
  jobMs(): number;
  /** The server's default executor (`--executor`). */
  defaultExecutor: ExecutorMode;
  /** Runs job runs whose executor is process or container. */
  executions: JobExecutions;
  /** Outcome rules set through Gantry's API, most specific scope first, for a rollout name. */
  apiRules(rollout: string): OutcomeRule[][];
  /** Writes lines of a job run's Cloud Build log (Cloud Logging, resource `build`). */
  buildLog?(lines: BuildStepLine[]): void;
  /** The debug log of controller decisions. */
  decisions?: Decisions;
}


/** Internal execution record beside each job run (not part of the API view). */
export interface JobRunExec { mode: ExecutorMode; dueAt: number; outcome: 'succeed' | 'fail' | 'skip'; cause?: string; message?: string }

/** The executor for a rollout: the target's annotation, else the pipeline's, else the server default. */
export function executorFor(release: Resource, targetId: string, fallback: ExecutorMode): ExecutorMode {
  const target = ((release.targetSnapshots as Resource[] | undefined) ?? []).find(t => t.targetId === targetId);
  const pipeline = release.deliveryPipelineSnapshot as Resource | undefined;
  for (const r of [target, pipeline]) {
    const v = (r?.annotations as Resource | undefined)?.[EXECUTOR_ANNOTATION];
    if (typeof v === 'string' && (EXECUTOR_MODES as readonly string[]).includes(v)) return v as ExecutorMode;
  }
  return fallback;
}
export const execName = (jobRun: string) => `${jobRun}/~exec`;

/**
 * The controller kind that admits a target's queued rollouts. Its keys name no stored resource and end in
 * `~queue`, so they never meet a resource's name (the target's own) in the runtime's queue.
 */
const QUEUE = 'rolloutQueue';
/** The queue of one target, or (without a target) every queue of a location that has rollouts waiting. */
const queueKey = (location: string, targetId?: string) => targetId ? `${location}/targets/${targetId}/~queue` : `${location}/~queue`;
const QUEUE_KEY = /^(projects\/[^/]+\/locations\/[^/]+)(?:\/targets\/([^/]+))?\/~queue$/;

export function rolloutControllers(ctx: ApiContext, opts: RolloutOptions): Controller[] {
  const { store, clock } = ctx;

  const fail = (r: Rollout, cause: string | undefined, reason: string) => {
    r.state = 'FAILED';
    if (cause) r.deployFailureCause = cause; else delete r.deployFailureCause;
    r.failureReason = reason;
  };

  const halt = (w: Writer, other: Rollout, by: Rollout) => {
    other.state = 'HALTED';
    other.failureReason = `Rollout halted because rollout ${by.name} started deploying to target "${other.targetId}".`;
    abortRemaining(other);
    saveRollout(w, other);
  };

  const createJobRun = (w: Writer, r: Rollout, phase: Phase, job: Job, release: Resource) => {
    const name = `${r.name}/jobRuns/${newUuid()}`;
    // A job names its latest run, set in the write that made it: a job that names none has had no run (no query).
    const attempt = job.jobRun === undefined ? 1 : store.children('jobRun', r.name).filter(j => j.phaseId === phase.id && j.jobId === job.id).length + 1;
    const ruleSets = [
      parseOutcomes(String((r.annotations as Resource | undefined)?.[OUTCOMES_ANNOTATION] ?? '')),
      parseOutcomes(String((release.annotations as Resource | undefined)?.[OUTCOMES_ANNOTATION] ?? '')),
      ...opts.apiRules(r.name),
    ];
    const target = ((release.targetSnapshots as Resource[] | undefined) ?? []).find(s => s.targetId === r.targetId);
    const d = decide(ruleSets, phase.id, job.id, attempt, opts.jobMs(), jobTimeoutMs(target, job.id));
    const now = clock.timestamp();
    const [, project, , location] = r.name.split('/');
    // Every job runs as a Cloud Build build; a verify job's artifacts (its log) have their place from the start.
    const run: Resource = { build: cloudBuildName(project, location) };
    if (job.id === 'verify') Object.assign(run, verifyArtifact(name, release, r.targetId));
    if (job.id === 'deploy') r.deployingBuild = String(run.build);
    const jr: Resource = {
      name, uid: newUid(), phaseId: phase.id, jobId: job.id, createTime: now, startTime: now, state: 'IN_PROGRESS',
      [JOB_RUN_FIELD[job.id]]: run,
    };
    saveJobRun(w, jr);
    recordBuild(w, String(run.build), { name, kind: 'jobRun' }, now);
    const exec: JobRunExec = { mode: executorFor(release, r.targetId, opts.defaultExecutor), dueAt: clock.now() + d.durationMs, outcome: d.outcome, cause: d.cause, ...(d.message ? { message: d.message } : {}) };
    w.put('jobRunExec', execName(name), name, exec, now, false);
    job.state = 'IN_PROGRESS';
    job.jobRun = name;
    r.deployStartTime ??= now;
    opts.decisions?.say(`Cloud Deploy: rollout ${rolloutLabel(r.name)} started ${jobRunLabel(jr)} on the ${exec.mode} executor${exec.mode === 'simulated' ? ` (${d.durationMs / 1000}s, ${d.outcome})` : ''}`);
  };

  /** Drives an IN_PROGRESS rollout through its phases and jobs; returns whether it changed. */
  const drive = (w: Writer, r: Rollout, release: Resource): boolean => {
    let changed = false;
    for (let guard = 0; guard < 100; guard++) {
      const phase = r.phases.find(p => !DONE_PHASE.has(p.state));
      if (!phase) {
        r.state = 'SUCCEEDED';
        r.deployEndTime = clock.timestamp();
        return true;
      }
      if (phase.state === 'PENDING') {
        if (r.phases.indexOf(phase) !== autoStartPhase(r)) return changed; // waits for :advance
        phase.state = 'IN_PROGRESS';
        changed = true;
        continue;
      }
      if (phase.state !== 'IN_PROGRESS') { fail(r, undefined, `Rollout failed because phase "${phase.id}" is ${phase.state}.`); return true; }
      if (phase.childRolloutJobs) {
        const step = driveChildren(w, r, phase, release);
        if (step === 'phase-done') { phase.state = 'SUCCEEDED'; changed = true; continue; }
        if (step === 'failed') return true;
        return changed || step === 'changed';
      }
      const job = jobsOf(phase).find(j => !DONE_JOB.has(j.state));
      if (!job) { phase.state = 'SUCCEEDED'; changed = true; continue; }
      if (job.state === 'PENDING') { createJobRun(w, r, phase, job, release); return true; }
      if (job.state !== 'IN_PROGRESS') { phase.state = 'FAILED'; fail(r, undefined, `Rollout failed because job "${job.id}" in phase "${phase.id}" is ${job.state}.`); return true; }
      const jr = store.getParsed<Resource>(job.jobRun!);
      if (!jr || !JOB_RUN_TERMINAL.has(String(jr.state))) return changed;
      if (jr.state === 'SUCCEEDED') {
        const skip = ((jr.deployJobRun as Resource | undefined)?.metadata as Resource | undefined)?.customTarget as Resource | undefined;
        if (job.id === 'deploy' && !skip?.skipMessage) recordDeploy(w, r, phase, jr, release);
        job.state = skip?.skipMessage ? 'SKIPPED' : 'SUCCEEDED';
        if (skip?.skipMessage) job.skipMessage = String(skip.skipMessage);
        changed = true;
        continue;
      }
      job.state = 'FAILED';
      phase.state = 'FAILED';
      const run = (jr[JOB_RUN_FIELD[job.id]] ?? {}) as Resource;
      if (jr.state === 'TERMINATED') fail(r, undefined, `Rollout failed because job "${job.id}" in phase "${phase.id}" was terminated (job run ${String(jr.name)}).`);
      else fail(r, rolloutCause(String(run.failureCause ?? 'EXECUTION_FAILED')), jobFailureReason(job.id, phase.id, run.failureMessage as string | undefined));
      return true;
    }
    return changed;
  };

  /**
   * A deploy to a Cloud Run target makes a new revision of the rendered service: recorded on the rollout
   * and the job run as `metadata.cloudRun` (with the previous revision for canaries).
   */
  const recordDeploy = (w: Writer, r: Rollout, phase: Phase, jr: Resource, release: Resource) => {
    const run = (jr.deployJobRun ?? {}) as Resource;
    // What a custom deploy reported is the rollout's too (`metadata.custom`).
    const custom = (run.metadata as Resource | undefined)?.custom;
    if (custom) r.metadata = { ...((r.metadata as Resource | undefined) ?? {}), custom };
    const rendered = (release.targetArtifacts as Record<string, Resource> | undefined)?.[r.targetId];
    if (!run.artifact && rendered) {
      // Simulated deploys record the rendered manifests too, as real ones do.
      const perPhase = (rendered.phaseArtifacts as Record<string, Resource> | undefined)?.[phase.id];
      jr.deployJobRun = { ...run, artifact: { artifactUri: rendered.artifactUri, manifestPaths: [String(perPhase?.manifestPath ?? rendered.manifestPath)] } };
      saveJobRun(w, jr);
    }
    // What Gantry's Cloud Run deployed (src/apis/run/deploy-apply.ts): the first phase's revision is the rollout's,
    // and the revision that served before it (a canary's) is kept through the later phases.
    const deployed = ((run.metadata as Resource | undefined)?.cloudRun) as Resource | undefined;
    if (!deployed) return;
    const existing = ((r.metadata as Resource | undefined)?.cloudRun ?? {}) as Resource;
    r.metadata = { ...((r.metadata as Resource | undefined) ?? {}), cloudRun: { ...deployed, ...existing } };
  };

  /** Child rollout name: `<controller id>-<child target id>`, cut to a valid id. */
  const childName = (r: Rollout, child: string): string => {
    const release = releaseOf(r.name);
    const id = `${r.name.slice(r.name.lastIndexOf('/') + 1)}-${child}`.slice(0, 63).replace(/-+$/, '');
    return `${release}/rollouts/${id}`;
  };

  const createChild = (w: Writer, r: Rollout, child: string, release: Resource): string => {
    const name = childName(r, child);
    if (store.get(name)) return name;
    const stage = snapshotStage(release, r.targetId);
    const firstPhase = r.phases[firstRunnable(r)].id;
    const createTime = clock.timestamp();
    const c: Rollout = {
      name, uid: newUid(), createTime, targetId: child, controllerRollout: r.name,
      approvalState: 'DOES_NOT_NEED_APPROVAL', ...initialState(release, 'DOES_NOT_NEED_APPROVAL', createTime),
      phases: planPhases(stage ?? {}, { startingPhaseId: firstPhase, firstDeployment: false }),
      ...(r.annotations ? { annotations: r.annotations } : {}), ...(r.labels ? { labels: r.labels } : {}),
      description: `Child rollout of ${r.name} to target ${child}.`,
    };
    saveRollout(w, c);
    return name;
  };

  /** Runs a multi-target phase's child jobs side by side; settles when every child reached the phase. */
  const driveChildren = (w: Writer, r: Rollout, phase: Phase, release: Resource): 'changed' | 'waiting' | 'phase-done' | 'failed' => {
    let changed = false;
    const jobs = jobsOf(phase);
    for (const job of jobs) {
      const child = job.id.replace(/^(create|advance)-rollout-/, '');
      if (job.state === 'PENDING') {
        const name = job.id.startsWith('create-') ? createChild(w, r, child, release) : childName(r, child);
        const jr: Resource = {
          name: `${r.name}/jobRuns/${newUuid()}`, uid: newUid(), phaseId: phase.id, jobId: job.id, createTime: clock.timestamp(),
          startTime: clock.timestamp(), state: 'IN_PROGRESS',
          [job.id.startsWith('create-') ? 'createChildRolloutJobRun' : 'advanceChildRolloutJobRun']: { rollout: name, rolloutPhaseId: phase.id },
        };
        saveJobRun(w, jr);
        job.state = 'IN_PROGRESS';
        job.jobRun = String(jr.name);
        r.deployStartTime ??= String(jr.createTime);
        changed = true;
      }
      if (job.state !== 'IN_PROGRESS') continue;
      const jr = store.getParsed<Resource>(job.jobRun!) ?? {};
      const run = (jr.createChildRolloutJobRun ?? jr.advanceChildRolloutJobRun) as Resource | undefined;
      const c = run ? store.getParsed<Rollout>(String(run.rollout)) : undefined;
      if (!c) continue;
      const cPhase = c.phases.find(p => p.id === phase.id);
      if (job.id.startsWith('advance-') && cPhase?.state === 'PENDING' && c.state === 'IN_PROGRESS' &&
        c.phases.findIndex(p => !DONE_PHASE.has(p.state)) === c.phases.indexOf(cPhase)) {
        cPhase.state = 'IN_PROGRESS';
        saveRollout(w, c);
      }
      const done = c.state === 'SUCCEEDED' || cPhase?.state === 'SUCCEEDED';
      const broken = ['FAILED', 'CANCELLED', 'HALTED', 'APPROVAL_REJECTED'].includes(c.state);
      if (!done && !broken) continue;
      jr.state = done ? 'SUCCEEDED' : 'FAILED';
      jr.endTime = clock.timestamp();
      saveJobRun(w, jr);
      job.state = done ? 'SUCCEEDED' : 'FAILED';
      changed = true;
    }
    if (jobs.every(j => DONE_JOB.has(j.state))) return 'phase-done'; // an ignored child job counts as done
    if (jobs.some(j => j.state === 'FAILED') && !jobs.some(j => j.state === 'IN_PROGRESS')) {
      phase.state = 'FAILED';
      const failed = jobs.filter(j => j.state === 'FAILED').map(j => j.id.replace(/^(create|advance)-rollout-/, ''));
      fail(r, 'EXECUTION_FAILED', `Rollout failed because the child rollouts to ${failed.join(', ')} did not complete phase "${phase.id}".`);
      return 'failed';
    }
    return changed ? 'changed' : 'waiting';
  };

  const step = (w: Writer, r: Rollout): boolean => {
    const release = store.getFrozen<Resource>(releaseOf(r.name));
    if (!release) return false;
    switch (r.state) {
      case 'PENDING_RELEASE':
        if (release.abandoned) { fail(r, 'RELEASE_ABANDONED', `Rollout failed because release ${String(release.name)} was abandoned.`); abortRemaining(r); return true; }
        if (release.renderState === 'FAILED') { fail(r, 'RELEASE_FAILED', `Rollout failed because release ${String(release.name)} failed to render.`); abortRemaining(r); return true; }
        if (release.renderState !== 'SUCCEEDED') return false;
        if (r.approvalState === 'NEEDS_APPROVAL') { r.state = 'PENDING_APPROVAL'; return true; }
        r.state = 'PENDING';
        r.enqueueTime = clock.timestamp();
        return true;
      case 'PENDING_APPROVAL':
        if (release.abandoned) { fail(r, 'RELEASE_ABANDONED', `Rollout failed because release ${String(release.name)} was abandoned.`); abortRemaining(r); return true; }
        return false;
      case 'PENDING':
        // Queued: the target's queue starts it (reconcile wakes the queue).
        if (release.abandoned) { fail(r, 'RELEASE_ABANDONED', `Rollout failed because release ${String(release.name)} was abandoned.`); abortRemaining(r); return true; }
        return false;
      case 'IN_PROGRESS':
        return drive(w, r, release);
      case 'CANCELLING': {
        let waiting = false;
        let changed = false;
        for (const running of r.phases.flatMap(jobsOf).filter(j => j.state === 'IN_PROGRESS')) {
          const jr = running.jobRun ? store.getParsed<Resource>(running.jobRun) : undefined;
          const child = (jr?.createChildRolloutJobRun ?? jr?.advanceChildRolloutJobRun) as Resource | undefined;
          if (jr && child) {
            // Cancelling a controller cancels its children; their job runs end with them.
            const c = store.getParsed<Rollout>(String(child.rollout));
            if (c && !ROLLOUT_TERMINAL.has(c.state) && c.state !== 'CANCELLING') {
              const busy = c.phases.flatMap(jobsOf).some(j => j.state === 'IN_PROGRESS');
              c.state = busy ? 'CANCELLING' : 'CANCELLED';
              if (!busy) abortRemaining(c);
              saveRollout(w, c);
            }
            if (c && !ROLLOUT_TERMINAL.has(c.state)) { waiting = true; continue; }
            if (!JOB_RUN_TERMINAL.has(String(jr.state))) { jr.state = 'TERMINATED'; jr.endTime = clock.timestamp(); saveJobRun(w, jr); }
          } else if (jr && !JOB_RUN_TERMINAL.has(String(jr.state))) {
            if (jr.state === 'IN_PROGRESS') { jr.state = 'TERMINATING'; saveJobRun(w, jr); }
            waiting = true;
            continue;
          }
          running.state = 'ABORTED';
          changed = true;
        }
        // Still waiting on job runs or children: their changes wake this rollout again.
        if (waiting) return changed;
        abortRemaining(r);
        r.state = 'CANCELLED';
        return true;
      }
      default:
        return false;
    }
  };

  // Finished rollouts whose pokes (their queue's, their controller's) were made for exactly this stored version (the
  // store hands out one row object per version): a rollout is reconciled again after its own final write, and its
  // target's queue needs one look then, not one per reconcile.
  const settled = new WeakSet<object>();
  const rollout: Controller = {
    kind: 'rollout',
    reconcile(name, rc) {
      store.tx(w => {
        const row = store.get(name);
        if (row && settled.has(row)) return;
        const r = row ? JSON.parse(row.data) as Rollout : undefined;
        // Deleted with its pipeline: its target is unknown now, so every queue of the location is looked at.
        if (!r) { rc.enqueue(QUEUE, queueKey(locationOf(name))); return; }
        // A child's progress is its controller's: reconcile the controller whenever a child moves.
        if (r.controllerRollout) rc.enqueue('rollout', String(r.controllerRollout));
        if (!ROLLOUT_TERMINAL.has(r.state) && step(w, r)) saveRollout(w, r);
        if (opts.decisions?.enabled) opts.decisions.sayOnce(name, rolloutSituation(store, r));
        // Every change reconciles its rollout, so a rollout that stops deploying (queued, idle awaiting
        // :advance, finished, halted) always gets its target's queue looked at.
        if (!deploying(r)) rc.enqueue(QUEUE, queueKey(locationOf(r.name), r.targetId));
        const now = ROLLOUT_TERMINAL.has(r.state) ? store.get(name) : undefined;
        if (now) settled.add(now);
      });
    },
  };

  // A target's queue: once no rollout deploys to the target, the rollout queued first (enqueueTime, then
  // name) starts, halting any rollout idle awaiting :advance there.
  const queue: Controller = {
    kind: QUEUE,
    reconcile(key, rc) {
      const m = QUEUE_KEY.exec(key);
      if (!m) return;
      const [, location, targetId] = m;
      if (!targetId) {
        const waiting = store.list({ kind: 'rollout', scope: { parentPrefix: location + '/deliveryPipelines/' }, order: [], equalities: [{ path: ['state'], value: 'PENDING' }], limit: 100_000 }).rows as Rollout[];
        for (const t of new Set(waiting.map(r => r.targetId))) rc.enqueue(QUEUE, queueKey(location, t));
        return;
      }
      store.tx(w => {
        // A rollout deploying here keeps the queue waiting: asked state by state, so the usual answer takes one query.
        const active: Rollout[] = [];
        for (const state of ['IN_PROGRESS', 'CANCELLING']) {
          const found = rolloutsOnTarget(store, location, targetId, [state]);
          if (found.some(deploying)) return;
          active.push(...found);
        }
        // The head of the queue, read a few at a time in queue order (a long queue is never parsed whole).
        // A rollout of an abandoned release never starts: its own reconcile fails it.
        let head: Rollout | undefined;
        for (let limit = 8; !head; limit *= 8) {
          const page = store.list({
            kind: 'rollout', scope: { parentPrefix: location + '/deliveryPipelines/' }, limit,
            order: [{ path: ['enqueueTime'], desc: false }],
            equalities: [{ path: ['targetId'], value: targetId }, { path: ['state'], value: 'PENDING' }],
          }).rows as Rollout[];
          head = page.find(r => !store.getFrozen<Resource>(releaseOf(r.name))?.abandoned);
          if (page.length < limit) break;
        }
        if (!head) return;
        for (const idle of active) halt(w, idle, head);
        head.state = 'IN_PROGRESS';
        // Its first phase and job start with it, in the same write (the rollout's own reconcile would do the same
        // on the next batch, after a second write).
        step(w, head);
        saveRollout(w, head);
      });
    },
  };

  // Job runs: the simulated executor. A run ends at its due time with its decided outcome;
  // a TERMINATING run ends TERMINATED at once. Either way the owning rollout is reconciled.
  const jobRun: Controller = {
    kind: 'jobRun',
    reconcile(name, rc) {
      const rolloutName = name.slice(0, name.indexOf('/jobRuns/'));
      // The rollout moves on what its job run ended with: woken unless this only started or awaits the run (whose
      // end is a write of the job run, which reconciles it here again).
      let running = false;
      store.tx(w => {
        const jr = store.getParsed<Resource>(name);
        // Deleted with its pipeline: nothing may keep running for it.
        if (!jr && opts.executions.isRunning(name)) opts.executions.cancel(name);
        if (!jr || JOB_RUN_TERMINAL.has(String(jr.state))) return;
        const exec = store.getParsed<JobRunExec>(execName(name));
        if (exec && exec.mode !== 'simulated') {
          // Real execution: tasks run outside the transaction and write the result when they end.
          // After a restart nothing runs for an IN_PROGRESS job run, so it starts again from the top.
          if (jr.state === 'TERMINATING' && opts.executions.isRunning(name)) opts.executions.cancel(name);
          else if (jr.state === 'TERMINATING') { jr.state = 'TERMINATED'; jr.endTime = clock.timestamp(); saveJobRun(w, jr); }
          // Tracked, so a virtual-clock settle waits for the real work and its result.
          else { rc.track(opts.executions.start(name, exec.mode)); running = true; }
          return;
        }
        if (jr.state === 'TERMINATING') {
          jr.state = 'TERMINATED';
          jr.endTime = clock.timestamp();
          saveJobRun(w, jr);
          return;
        }
        if (!exec) return;
        if (clock.now() < exec.dueAt) { rc.wakeAt(exec.dueAt); running = true; return; }
        // A simulated deploy to a Cloud Run target still deploys: its manifest is applied to Gantry's Cloud Run,
        // where the revision (simulated too) is ready at once; the job run ends with what was deployed.
        if (exec.outcome === 'succeed' && jr.jobId === 'deploy' && opts.executions.deploysCloudRun(name)) { rc.track(opts.executions.start(name, exec.mode)); running = true; return; }
        finishJobRun(w, jr, exec, clock.timestamp());
        saveJobRun(w, jr);
        opts.decisions?.say(`Cloud Deploy: rollout ${rolloutLabel(rolloutName)} ${jobRunLabel(jr)} ended ${String(jr.state)}`);
        if (opts.buildLog) simulatedJobLog(jr, opts.buildLog);
      });
      if (!running) rc.enqueue('rollout', rolloutName);
    },
  };

  // Releases that finish rendering (or are abandoned) move their waiting rollouts on.
  const releaseWatch: Controller = {
    kind: 'release',
    reconcile(name, rc) {
      for (const r of store.children('rollout', name)) if (!ROLLOUT_TERMINAL.has(String(r.state))) rc.enqueue('rollout', String(r.name));
    },
  };

  return [rollout, queue, jobRun, releaseWatch];
}

function firstRunnable(r: Rollout): number {
  return r.phases.findIndex(p => p.state !== 'SKIPPED');
}

/** Pending phases and jobs are ABORTED when a rollout stops early. */
export function abortRemaining(r: Rollout): void {
  for (const p of r.phases) {
    for (const j of jobsOf(p)) if (j.state === 'PENDING') j.state = 'ABORTED';
    if (p.state === 'PENDING' || p.state === 'IN_PROGRESS') p.state = 'ABORTED';
  }
}

/** A simulated job run's build log: what ran (nothing) and how it ended, so every job run has a log to read. */
function simulatedJobLog(jr: Resource, write: NonNullable<RolloutOptions['buildLog']>): void {
  const run = (jr[JOB_RUN_FIELD[String(jr.jobId)]] ?? {}) as Resource;
  const build = typeof run.build === 'string' ? run.build.split('/').pop() : undefined;
  if (!build) return;
  const [, project, , , , , , , , rollout] = String(jr.name).split('/');
  const skipped = (run.metadata as Resource | undefined)?.customTarget as Resource | undefined;
  write([
    { project, buildId: build, step: 0, stepName: String(jr.jobId), line: `Simulated ${String(jr.jobId)} job of rollout ${rollout}, phase ${String(jr.phaseId)}: Gantry's simulated executor runs no command.` },
    { project, buildId: build, step: 1, stepName: 'result', line: jr.state === 'FAILED' ? `FAILED: ${String(run.failureCause)}: ${String(run.failureMessage)}` : skipped ? `SKIPPED: ${String(skipped.skipMessage)}` : 'SUCCEEDED' },
  ]);
}

function finishJobRun(_w: Writer, jr: Resource, exec: JobRunExec, now: string): void {
  const field = JOB_RUN_FIELD[String(jr.jobId)];
  const run = (jr[field] ?? {}) as Resource;
  jr.endTime = now;
  if (exec.outcome === 'fail') {
    jr.state = 'FAILED';
    run.failureCause = exec.cause ?? 'EXECUTION_FAILED';
    run.failureMessage = exec.message ?? `Gantry's outcome rules scripted this failure (${String(run.failureCause)}).`;
  } else {
    jr.state = 'SUCCEEDED';
    if (exec.outcome === 'skip' && field === 'deployJobRun') run.metadata = { customTarget: { skipMessage: 'Skipped, as scripted by Gantry\'s outcome rules.' } };
  }
  jr[field] = run;
}

/**
 * A rollout's `failureReason` when one of its jobs failed: one sentence naming the job and phase, then the job
 * run's own `failureMessage` (which says what went wrong, never which job).
 */
export function jobFailureReason(jobId: string, phaseId: string, failureMessage: string | undefined): string {
  const head = `Rollout failed because job "${jobId}" in phase "${phaseId}" failed`;
  return failureMessage ? `${head}: ${failureMessage}` : `${head}.`;
}

/** JobRun failure causes map to the rollout's deployFailureCause (spec §10). */
export function rolloutCause(cause: string): string {
  if (cause === 'MISSING_RESOURCES_FOR_CANARY') return 'EXECUTION_FAILED';
  if (cause === 'DEPLOY_FEATURE_NOT_SUPPORTED') return 'OPERATION_FEATURE_NOT_SUPPORTED';
  return schema.enumValues('Rollout.DeployFailureCause').includes(cause) ? cause : 'EXECUTION_FAILED';
}
