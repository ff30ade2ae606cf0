// The phases and jobs of a rollout, built from the release's snapshot of the stage it deploys
// (spec §7.3): standard → `stable`; canary percentages → `canary-N`…, `stable`; custom canary → its
// phase ids. Predeploy runs in the first phase that runs, postdeploy in the last, verify where enabled.
// Hook and verify jobs carry the stage's `tasks` for their phase (what job execution runs).
import { errors } from '../../google/errors.js';
import { phaseIds } from './phases.js';

type Obj = Record<string, unknown>;
export type JobId = 'predeploy' | 'deploy' | 'verify' | 'postdeploy';
export const JOB_ORDER: JobId[] = ['predeploy', 'deploy', 'verify', 'postdeploy'];
const JOB_FIELD: Record<JobId, string> = { predeploy: 'predeployJob', deploy: 'deployJob', verify: 'verifyJob', postdeploy: 'postdeployJob' };

export interface Job extends Obj { id: string; state: string; jobRun?: string; skipMessage?: string }
export interface Phase extends Obj {
  id: string; state: string; skipMessage?: string;
  deploymentJobs?: Record<string, Job>;
  childRolloutJobs?: { createRolloutJobs?: Job[]; advanceRolloutJobs?: Job[] };
}

/** The jobs of a phase in execution order (child rollout jobs run side by side); DISABLED jobs are shown, never run. */
export function jobsOf(phase: Phase): Job[] {
  if (phase.childRolloutJobs) return [...phase.childRolloutJobs.createRolloutJobs ?? [], ...phase.childRolloutJobs.advanceRolloutJobs ?? []];
  const dj = phase.deploymentJobs ?? {};
  return JOB_ORDER.map(id => dj[JOB_FIELD[id]]).filter((j): j is Job => !!j && j.state !== 'DISABLED');
}

interface PhaseSpec { id: string; verify: boolean; verifyTasks?: Obj[]; predeploy?: Obj; postdeploy?: Obj }

/** Verify settings of a strategy block (Standard, CanaryDeployment, PhaseConfig): `verify` or `verifyConfig{tasks}`. */
function verifyOf(block: Obj): Pick<PhaseSpec, 'verify' | 'verifyTasks'> {
  const tasks = (block.verifyConfig as Obj | undefined)?.tasks as Obj[] | undefined;
  return { verify: !!block.verify || !!block.verifyConfig, ...(tasks?.length ? { verifyTasks: tasks } : {}) };
}

function phaseSpecs(stage: Obj): PhaseSpec[] {
  const strategy = (stage.strategy as Obj | undefined) ?? {};
  const canary = strategy.canary as Obj | undefined;
  if (!canary) {
    const std = (strategy.standard as Obj | undefined) ?? {};
    return [{ id: 'stable', ...verifyOf(std), predeploy: std.predeploy as Obj, postdeploy: std.postdeploy as Obj }];
  }
  const custom = canary.customCanaryDeployment as Obj | undefined;
  if (custom) {
    return ((custom.phaseConfigs as Obj[]) ?? []).map(c => ({
      id: String(c.phaseId), ...verifyOf(c), predeploy: c.predeploy as Obj, postdeploy: c.postdeploy as Obj,
    }));
  }
  const plain = (canary.canaryDeployment as Obj | undefined) ?? {};
  const ids = phaseIds(stage);
  return ids.map((id, i) => ({
    id, ...verifyOf(plain),
    predeploy: i === 0 ? plain.predeploy as Obj : undefined,
    postdeploy: i === ids.length - 1 ? plain.postdeploy as Obj : undefined,
  }));
}

function hookJob(id: JobId, hook: Obj | undefined): Job | undefined {
  if (!hook) return undefined;
  const body: Obj = {};
  if (hook.actions) body.actions = hook.actions;
  if (hook.tasks) body.tasks = hook.tasks;
  return { id, state: 'PENDING', [JOB_FIELD[id]]: body };
}

/** Why a canary phase is skipped on a target's first deployment (the phase after it then waits for :advance). */
export const FIRST_DEPLOYMENT_SKIP = 'Skipped because this is the first deployment to the target: there is no previous version to split traffic with.';

/**
 * Builds the phases for a rollout of `stage`. Phases before `startingPhaseId`, and canary phases on a
 * first deployment, are SKIPPED; a predeploy hook moves to the first phase that runs.
 */
export function planPhases(stage: Obj, opts: { startingPhaseId?: string; firstDeployment: boolean | (() => boolean); children?: string[] }): Phase[] {
  const specs = phaseSpecs(stage);
  if (opts.startingPhaseId && !specs.some(s => s.id === opts.startingPhaseId)) {
    throw errors.invalidArgument(`starting_phase_id "${opts.startingPhaseId}" is not a phase of this rollout; phases are ${specs.map(s => s.id).join(', ')}.`, 'starting_phase_id');
  }
  const startAt = opts.startingPhaseId ? specs.findIndex(s => s.id === opts.startingPhaseId) : 0;
  const canary = specs.length > 1 && !!((stage.strategy as Obj | undefined)?.canary);
  // Asked only of a canary (a look at the target's past rollouts, on every create).
  const first = canary && (typeof opts.firstDeployment === 'function' ? opts.firstDeployment() : opts.firstDeployment);
  const skipped = (i: number): string | undefined => {
    if (i < startAt) return `Skipped because the rollout starts at phase "${opts.startingPhaseId}".`;
    if (first && i < specs.length - 1) {
      return FIRST_DEPLOYMENT_SKIP;
    }
    return undefined;
  };
  const firstRun = specs.findIndex((_, i) => !skipped(i));
  if (opts.children) {
    // A multi-target's rollout drives child rollouts: it creates them in its first phase that runs and
    // advances them in each later one; the children run the deploy, verify and hook jobs.
    const children = opts.children;
    return specs.map((s, i) => {
      const skip = skipped(i);
      if (skip) return { id: s.id, state: 'SKIPPED', skipMessage: skip, childRolloutJobs: {} };
      const jobs = children.map(c => i === firstRun
        ? { id: `create-rollout-${c}`, state: 'PENDING', createChildRolloutJob: {} }
        : { id: `advance-rollout-${c}`, state: 'PENDING', advanceChildRolloutJob: {} });
      return { id: s.id, state: 'PENDING', childRolloutJobs: i === firstRun ? { createRolloutJobs: jobs } : { advanceRolloutJobs: jobs } };
    });
  }
  const predeploy = specs.find(s => s.predeploy)?.predeploy;
  return specs.map((s, i) => {
    const skip = skipped(i);
    const jobs: Record<string, Job> = {};
    const pre = hookJob('predeploy', i === firstRun ? (s.predeploy ?? predeploy) : skip ? undefined : s.predeploy);
    if (pre && !skip) jobs.predeployJob = pre;
    jobs.deployJob = { id: 'deploy', state: 'PENDING', deployJob: {} };
    // Without verify the job is still listed, DISABLED, as Cloud Deploy shows it.
    jobs.verifyJob = s.verify ? { id: 'verify', state: 'PENDING', verifyJob: s.verifyTasks ? { tasks: s.verifyTasks } : {} } : { id: 'verify', state: 'DISABLED', verifyJob: {} };
    const post = hookJob('postdeploy', s.postdeploy);
    if (post) jobs.postdeployJob = post;
    if (skip) {
      for (const j of Object.values(jobs)) if (j.state !== 'DISABLED') j.state = 'SKIPPED';
      return { id: s.id, state: 'SKIPPED', skipMessage: skip, deploymentJobs: jobs };
    }
    return { id: s.id, state: 'PENDING', deploymentJobs: jobs };
  });
}
