// Custom verbs on rollouts and job runs (spec §7.4). Each checks its precondition against the stored
// state (FAILED_PRECONDITION when wrong), records the user's intent, and leaves the execution to the
// rollout controller. All are synchronous and answer an empty response message.
import type { ApiContext } from '../../google/context.js';
import { errors } from '../../google/errors.js';
import { locationOf, notFound, type Resource } from '../../google/standard-methods.js';
import type { MethodSpec } from '../../server/api.js';
import { jobsOf, type Job, type Phase } from './rollout-plan.js';
import { autoStartPhase, awaitingAdvance, pipelineOf, ROLLOUT_TERMINAL, rolloutsOnTarget, saveJobRun, saveRollout, type Rollout } from './rollouts.js';
import { abortRemaining } from './controllers/rollouts.js';
import { enforce, type PolicyAction } from './policy-check.js';

type Body = Record<string, unknown>;

export function rolloutVerbs(ctx: ApiContext) {
  const { store, clock, schema } = ctx;

  const load = (name: string): Rollout => {
    const row = store.get(name);
    if (!row || row.kind !== 'rollout') throw notFound(ctx, `${ctx.svc.serviceName}/Rollout`, name);
    return JSON.parse(row.data) as Rollout;
  };
  const notSuspended = (r: Rollout, verb: string) => {
    const p = store.getParsed<Resource>(pipelineOf(r.name));
    if (p?.suspended) throw errors.failedPrecondition(`Cannot ${verb} rollout ${r.name}: delivery pipeline '${pipelineOf(r.name)}' is suspended.`, pipelineOf(r.name));
  };
  const wrongState = (r: Rollout, verb: string, need: string) =>
    errors.failedPrecondition(`Cannot ${verb} rollout ${r.name}: it is in state ${r.state}${need ? `; ${need}` : ''}.`, r.name);
  const findJob = (r: Rollout, phaseId: unknown, jobId: unknown): { phase: Phase; job: Job } => {
    if (!phaseId) throw errors.invalidArgument('phase_id is required.', 'phase_id');
    if (!jobId) throw errors.invalidArgument('job_id is required.', 'job_id');
    const phase = r.phases.find(p => p.id === phaseId);
    if (!phase) throw errors.invalidArgument(`Rollout ${r.name} has no phase "${String(phaseId)}"; phases are ${r.phases.map(p => p.id).join(', ')}.`, 'phase_id');
    const job = jobsOf(phase).find(j => j.id === jobId);
    if (!job) throw errors.invalidArgument(`Phase "${phase.id}" of rollout ${r.name} has no job "${String(jobId)}"; jobs are ${jobsOf(phase).map(j => j.id).join(', ')}.`, 'job_id');
    return { phase, job };
  };
  // A failed rollout resumes at once, so only on a free target: beside another active rollout two would
  // deploy to one target, and behind a queued one it would jump the queue.
  const targetFree = (r: Rollout, what: string) => {
    const other = rolloutsOnTarget(store, locationOf(r.name), r.targetId, ['CANCELLING', 'IN_PROGRESS', 'PENDING']).find(o => o.name !== r.name);
    if (!other) return;
    const doing = other.state === 'PENDING' ? 'is queued to deploy to' : awaitingAdvance(other) ? 'is waiting for :advance on' : 'is deploying to';
    throw errors.failedPrecondition(`Cannot ${what} of rollout ${r.name}: rollout ${other.name} ${doing} target "${r.targetId}", and only one rollout deploys to a target at a time; try again when it has finished.`, r.name);
  };
  /** Refuses an action a deploy policy blocks on the rollout's pipeline and target (unless overridden). */
  const policiesAllow = (r: Rollout, action: PolicyAction, overrides: unknown) => {
    const location = locationOf(r.name);
    enforce(store, location, store.getParsed<Resource>(pipelineOf(r.name)), store.getParsed<Resource>(`${location}/targets/${r.targetId}`) ?? { name: `${location}/targets/${r.targetId}` },
      action, clock.now(), (overrides ?? []) as string[]);
  };
  const verb = (request: string, param: string, action: PolicyAction, run: (r: Rollout, body: Body) => void): MethodSpec => ({
    handler: req => {
      const body = schema.decode(request, req.body ?? {});
      store.tx(w => {
        const r = load(req.params[param]);
        policiesAllow(r, action, body.overrideDeployPolicy);
        run(r, body);
        saveRollout(w, r);
      });
      return { body: {} };
    },
  });

  return {
    approve: verb('ApproveRolloutRequest', 'name', 'APPROVE', (r, body) => {
      notSuspended(r, 'approve');
      if (r.state !== 'PENDING_APPROVAL' || r.approvalState !== 'NEEDS_APPROVAL') {
        throw wrongState(r, body.approved ? 'approve' : 'reject', 'only a rollout pending approval can be approved or rejected');
      }
      const now = clock.timestamp();
      r.approveTime = now;
      if (body.approved) {
        r.approvalState = 'APPROVED';
        r.enqueueTime = now;
        r.state = 'PENDING';
      } else {
        r.approvalState = 'REJECTED';
        r.state = 'APPROVAL_REJECTED';
        abortRemaining(r);
      }
    }),

    advance: verb('AdvanceRolloutRequest', 'name', 'ADVANCE', (r, body) => {
      const phaseId = body.phaseId;
      if (!phaseId) throw errors.invalidArgument('phase_id is required.', 'phase_id');
      if (r.state !== 'IN_PROGRESS') throw wrongState(r, 'advance', 'only an IN_PROGRESS rollout can be advanced');
      const i = r.phases.findIndex(p => p.id === phaseId);
      if (i < 0) throw errors.invalidArgument(`Rollout ${r.name} has no phase "${String(phaseId)}"; phases are ${r.phases.map(p => p.id).join(', ')}.`, 'phase_id');
      const next = r.phases.findIndex(p => p.state !== 'SUCCEEDED' && p.state !== 'SKIPPED');
      if (i === autoStartPhase(r)) throw errors.failedPrecondition(`Phase "${String(phaseId)}" is the first phase of rollout ${r.name}; it starts automatically.`, r.name);
      if (i !== next || r.phases[i].state !== 'PENDING') {
        throw errors.failedPrecondition(`Cannot advance rollout ${r.name} to phase "${String(phaseId)}": it is ${r.phases[i].state}; only the next pending phase, after its predecessor succeeded, can be started.`, r.name);
      }
      r.phases[i].state = 'IN_PROGRESS';
    }),

    cancel: verb('CancelRolloutRequest', 'name', 'CANCEL', r => {
      if (ROLLOUT_TERMINAL.has(r.state) || r.state === 'CANCELLING') throw wrongState(r, 'cancel', 'a finished rollout cannot be cancelled');
      const running = r.phases.flatMap(jobsOf).find(j => j.state === 'IN_PROGRESS');
      r.state = running ? 'CANCELLING' : 'CANCELLED';
      if (!running) abortRemaining(r);
    }),

    ignoreJob: verb('IgnoreJobRequest', 'rollout', 'IGNORE_JOB', (r, body) => {
      const { phase, job } = findJob(r, body.phaseId, body.jobId);
      notSuspended(r, 'ignore a job of');
      if (r.state !== 'FAILED' || job.state !== 'FAILED') throw errors.failedPrecondition(`Cannot ignore job "${job.id}" of phase "${phase.id}": only a failed job of a failed rollout can be ignored (job is ${job.state}, rollout ${r.state}).`, r.name);
      targetFree(r, `ignore job "${job.id}" of phase "${phase.id}"`);
      job.state = 'IGNORED';
      resume(r, phase);
    }),

    retryJob: verb('RetryJobRequest', 'rollout', 'RETRY_JOB', (r, body) => {
      const { phase, job } = findJob(r, body.phaseId, body.jobId);
      if (r.state !== 'FAILED' || job.state !== 'FAILED') throw errors.failedPrecondition(`Cannot retry job "${job.id}" of phase "${phase.id}": only a failed job of a failed rollout can be retried (job is ${job.state}, rollout ${r.state}).`, r.name);
      targetFree(r, `retry job "${job.id}" of phase "${phase.id}"`);
      job.state = 'PENDING';
      resume(r, phase);
    }),

    terminate: {
      handler: req => {
        const body = schema.decode('TerminateJobRunRequest', req.body ?? {});
        const name = req.params.name;
        store.tx(w => {
          const jr = store.getParsed<Resource>(name);
          if (!jr || !name.includes('/jobRuns/')) throw notFound(ctx, `${ctx.svc.serviceName}/JobRun`, name);
          policiesAllow(load(name.slice(0, name.indexOf('/jobRuns/'))), 'TERMINATE_JOBRUN', body.overrideDeployPolicy);
          if (jr.createChildRolloutJobRun || jr.advanceChildRolloutJobRun) {
            throw errors.failedPrecondition(`Job run ${name} drives a child rollout; cancel the child rollout (or its controller) instead.`, name);
          }
          if (jr.state !== 'IN_PROGRESS') {
            throw errors.failedPrecondition(`Cannot terminate job run ${name}: it is ${String(jr.state)}; only an IN_PROGRESS job run can be terminated.`, name);
          }
          jr.state = 'TERMINATING';
          saveJobRun(w, jr);
        });
        return { body: {} };
      },
    } satisfies MethodSpec,
  };

  /** A retried or ignored job puts its phase and the rollout back in progress, failure cleared. */
  function resume(r: Rollout, phase: Phase) {
    phase.state = 'IN_PROGRESS';
    r.state = 'IN_PROGRESS';
    delete r.failureReason;
    delete r.deployFailureCause;
    delete r.deployEndTime;
  }
}
