// Automations at work (spec §8): rollouts trigger rules, rules make AutomationRuns, runs wait on the clock and then
// act as the automation's service account (invoker DEPLOY_AUTOMATION, so deploy policies may block them, which
// fails the run with a policyViolation). Promote: a successful rollout's release goes to the next (or named) target.
// Advance: a rollout waiting after a listed phase is advanced. Runs are named deterministically from their trigger,
// so a reconcile that runs twice makes one run.
import { createHash } from 'node:crypto';
import { cronParser } from '../../../lazy-deps.js';
import type { Controller, ReconcileContext } from '../../../engine/controllers.js';
import type { ApiContext } from '../../../google/context.js';
import { ApiError } from '../../../google/errors.js';
import { newUid } from '../../../google/ids.js';
import { locationOf, withEtag, type StandardMethods } from '../../../google/standard-methods.js';
import { formatTimestamp, parseDurationMs, parseTimestamp } from '../../../google/time.js';
import type { ApiRequest } from '../../../server/api.js';
import type { Writer } from '../../../store/store.js';
import { AUTOMATION_RUN_TERMINAL } from '../automation-runs.js';
import { stagesOf } from '../pipelines.js';
import { violations, type Violation } from '../policy-check.js';
import type { Decisions } from '../../../engine/decisions.js';
import { awaitingAdvance, pipelineOf, rolloutStrategy, saveRollout, type Rollout } from '../rollouts.js';
import { jobsOf } from '../rollout-plan.js';
import { automationSelects } from '../target-attribute.js';

type Obj = Record<string, unknown>;
const RUN = 'automationRun';
const EXPIRY_MS = 14 * 24 * 3600_000;

const hashShort = (s: string) => createHash('sha256').update(s).digest('hex').slice(0, 6);

function runId(...parts: string[]): string {
  return createHash('sha256').update(parts.join('\0')).digest('hex').slice(0, 32);
}

export function automationControllers(ctx: ApiContext, std: StandardMethods, decisions?: Decisions): Controller[] {
  const { store, clock } = ctx;
  const automatedRollouts = rolloutStrategy(store, clock, 'CREATE', 'DEPLOY_AUTOMATION');
  const rollbackRollouts = rolloutStrategy(store, clock, 'ROLLBACK', 'DEPLOY_AUTOMATION');
  // Every rollout step comes here: whether its pipeline has automations at all is remembered (and forgotten when
  // one of its automations changes), so pipelines without any cost no query.
  const automated = new Map<string, boolean>();
  store.onChange(c => { if (c.kind === 'automation') automated.delete(c.name.split('/automations/')[0]); });
  const hasAutomations = (pipeline: string) => {
    let has = automated.get(pipeline);
    if (has === undefined) {
      has = store.children('automation', pipeline).length > 0;
      if (automated.size > 10_000) automated.clear();
      automated.set(pipeline, has);
    }
    return has;
  };

  /** A new PENDING run for a rule a rollout triggered (once: the name comes from the trigger). */
  const trigger = (w: Writer, automation: Obj, ruleId: string, rollout: Rollout, key: string, wait: unknown, operation: Obj): string | undefined => {
    const pipeline = pipelineOf(rollout.name);
    const name = `${pipeline}/automationRuns/${runId(String(automation.name), ruleId, rollout.name, key)}`;
    if (store.get(name)) return undefined;
    const waitMs = wait === undefined ? 0 : parseDurationMs(String(wait)) ?? 0;
    const ts = clock.timestamp();
    const run = withEtag({
      name, uid: newUid(), createTime: ts, updateTime: ts, serviceAccount: automation.serviceAccount,
      automationSnapshot: automation, targetId: rollout.targetId, state: 'PENDING', ruleId, automationId: String(automation.name).split('/').pop(),
      waitUntilTime: after(ts, waitMs), expireTime: after(ts, EXPIRY_MS), ...operation,
    });
    w.put(RUN, name, pipeline, run, ts, true);
    return name;
  };

  const onRollout = (name: string, rctx: ReconcileContext) => {
    const pipelineName = pipelineOf(name);
    if (!hasAutomations(pipelineName)) return;
    const r = store.getParsed<Rollout>(name);
    if (!r) return;
    // A repair under way learns of its retried job's outcome from the rollout.
    if (r.activeRepairAutomationRun) rctx.enqueue(RUN, String(r.activeRepairAutomationRun));
    const pipeline = store.getParsed<Obj>(pipelineName);
    if (!pipeline || pipeline.suspended) return;
    const automations = store.children('automation', pipelineName).filter(a => !a.suspended);
    if (!automations.length) return;
    const location = locationOf(name);
    const target = store.getParsed<Obj>(`${location}/targets/${r.targetId}`);
    store.tx(w => {
      for (const a of automations) {
        if (!automationSelects(a, location, r.targetId, target)) continue;
        for (const rule of (a.rules ?? []) as Obj[]) {
          const promote = rule.promoteReleaseRule as Obj | undefined;
          if (promote && r.state === 'SUCCEEDED') {
            const ids = stagesOf(pipeline).map(s => String(s.targetId));
            const dest = promote.destinationTargetId && promote.destinationTargetId !== '@next' ? String(promote.destinationTargetId) : ids[ids.indexOf(r.targetId) + 1];
            if (!dest || dest === r.targetId) continue;
            trigger(w, a, String(promote.id), r, 'promote', promote.wait, {
              promoteReleaseOperation: { targetId: dest, ...(promote.wait ? { wait: promote.wait } : {}), rollout: r.name, ...(promote.destinationPhase ? { phase: promote.destinationPhase } : {}) },
            });
          }
          const repair = rule.repairRolloutRule as Obj | undefined;
          if (repair && r.state === 'FAILED' && !r.activeRepairAutomationRun) {
            const phases = (repair.phases ?? []) as string[];
            const jobs = (repair.jobs ?? []) as string[];
            const failed = r.phases.flatMap(p => jobsOf(p).filter(j => j.state === 'FAILED').map(j => ({ phase: p.id, job: j.id })))
              .find(f => (!phases.length || phases.includes(f.phase)) && (!jobs.length || jobs.includes(f.job)));
            if (!failed) continue;
            const repairPhases = ((repair.repairPhases ?? []) as Obj[]).map(p => p.retry
              ? { retry: { totalAttempts: String((p.retry as Obj).attempts ?? 0), backoffMode: String((p.retry as Obj).backoffMode ?? 'BACKOFF_MODE_LINEAR'), wait: (p.retry as Obj).wait } }
              : { rollback: { destinationPhase: String((p.rollback as Obj).destinationPhase ?? 'stable'), ...((p.rollback as Obj).disableRollbackIfRolloutPending ? { disableRollbackIfRolloutPending: true } : {}) } });
            const run = trigger(w, a, String(repair.id), r, `repair ${failed.phase}/${failed.job}`, undefined, {
              repairRolloutOperation: { rollout: r.name, currentRepairPhaseIndex: '0', repairPhases, phaseId: failed.phase, jobId: failed.job },
            });
            if (run) {
              const meta = ((r.metadata as Obj | undefined)?.automation ?? {}) as Obj;
              r.activeRepairAutomationRun = run;
              r.metadata = { ...((r.metadata ?? {}) as Obj), automation: { ...meta, repairAutomationRuns: [...((meta.repairAutomationRuns ?? []) as string[]), run] } };
              saveRollout(w, r);
            }
          }
          const advance = rule.advanceRolloutRule as Obj | undefined;
          if (advance && awaitingAdvance(r)) {
            const next = r.phases.findIndex(p => p.state !== 'SUCCEEDED' && p.state !== 'SKIPPED');
            // The phase it waits behind: succeeded, or a canary skipped on the target's first deployment (Google's
            // automation quickstart: the skipped canary-25 is advanced to stable by a rule with sourcePhases [canary-25]).
            const source = next > 0 ? r.phases[next - 1] : undefined;
            const sources = (advance.sourcePhases ?? []) as string[];
            if (!source || (sources.length && !sources.includes(source.id))) continue;
            trigger(w, a, String(advance.id), r, `advance ${source.id}`, advance.wait, {
              advanceRolloutOperation: { sourcePhase: source.id, ...(advance.wait ? { wait: advance.wait } : {}), rollout: r.name, destinationPhase: r.phases[next].id },
            });
          }
        }
      }
    });
  };

  const finish = (w: Writer, run: Obj, state: string, description: string, violation?: Violation[]) => {
    const ts = clock.timestamp();
    const out = withEtag({ ...run, state, stateDescription: description, updateTime: ts, ...(violation?.length ? { policyViolation: { policyViolationDetails: violation } } : {}) });
    w.put(RUN, String(run.name), String(run.name).split('/automationRuns/')[0], out, String(run.createTime), false);
    decisions?.say(`Cloud Deploy: ${runLabel(run)} ended ${state}: ${description}`);
  };

  /**
   * A rollout of `release` to `dest` made by the automation (`{release}-to-{target}-NNNN`, linked to the run), or the
   * run FAILED with why (a deploy policy's violation included).
   */
  const promoteRelease = (w: Writer, name: string, run: Obj, release: string, dest: string, phase: string | undefined, operation: (rollout: string) => Obj) => {
    const releaseId = release.split('/').pop()!;
    let n = 1;
    while (store.get(`${release}/rollouts/${releaseId}-to-${dest}-${String(n).padStart(4, '0')}`)) n++;
    const id = `${releaseId}-to-${dest}-${String(n).padStart(4, '0')}`.slice(0, 63).replace(/-+$/, '');
    const req: ApiRequest = { method: 'POST', path: '', params: {}, query: phase ? { startingPhaseId: phase } : {}, body: undefined, headers: {}, enumInts: false };
    try {
      const created = std.insert(w, automatedRollouts, `${release}/rollouts/${id}`, release, {
        targetId: dest, annotations: { 'clouddeploy.googleapis.com/automation': String((run.automationSnapshot as Obj | undefined)?.name), 'clouddeploy.googleapis.com/automationRun': name },
        labels: { 'clouddeploy-automation-run': String(name.split('/').pop()).slice(0, 63), 'clouddeploy-automation-rule': String(run.ruleId) },
      }, undefined, req) as Rollout;
      created.metadata = { ...((created.metadata ?? {}) as Obj), automation: { promoteAutomationRun: name } };
      saveRollout(w, created);
      finish(w, { ...run, ...operation(created.name) }, 'SUCCEEDED', `Promoted release ${releaseId} to target ${dest} (rollout ${id}).`);
    } catch (e) {
      finish(w, run, 'FAILED', `Promoting release ${releaseId} to target ${dest} failed: ${(e as Error).message}`, policyViolations(e));
    }
  };

  /**
   * Timed promotions: at each tick of a rule's cron schedule (in its time zone, on Gantry's clock), the release
   * deployed last on each selected target is promoted to the rule's destination. A tick is taken once (remembered in
   * the store), and missed ticks collapse into the latest.
   */
  const onAutomation = (name: string, rctx: ReconcileContext) => {
    const a = store.getParsed<Obj>(name);
    if (!a || a.suspended) return;
    const pipelineName = name.split('/automations/')[0];
    const pipeline = store.getParsed<Obj>(pipelineName);
    if (!pipeline) return;
    const now = clock.now();
    let wake: number | undefined;
    for (const rule of (a.rules ?? []) as Obj[]) {
      const timed = rule.timedPromoteReleaseRule as Obj | undefined;
      if (!timed) continue;
      const key = `automation.tick:${name}:${String(timed.id)}`;
      const from = Number(store.getMeta(key) ?? Date.parse(String(a.updateTime ?? a.createTime)));
      let due: number | undefined;
      try {
        const it = cronParser().parse(String(timed.schedule), { tz: String(timed.timeZone), currentDate: new Date(from) });
        for (let next = it.next().getTime(); next <= now; next = it.next().getTime()) due = next;
        const upcoming = cronParser().parse(String(timed.schedule), { tz: String(timed.timeZone), currentDate: new Date(Math.max(now, due ?? 0)) }).next().getTime();
        wake = Math.min(wake ?? upcoming, upcoming);
      } catch { continue; }
      if (due === undefined || pipeline.suspended) continue;
      const ids = stagesOf(pipeline).map(st => String(st.targetId));
      store.tx(w => {
        w.setMeta(key, String(due));
        for (const source of ids) {
          const target = store.getParsed<Obj>(`${locationOf(name)}/targets/${source}`);
          if (!automationSelects(a, locationOf(name), source, target)) continue;
          const dest = timed.destinationTargetId && timed.destinationTargetId !== '@next' ? String(timed.destinationTargetId) : ids[ids.indexOf(source) + 1];
          if (!dest || dest === source) continue;
          const latestOn = (targetId: string) => store.list({ kind: 'rollout', scope: { grandparent: pipelineName }, order: [{ path: ['deployEndTime'], desc: true }], limit: 1, equalities: [{ path: ['targetId'], value: targetId }, { path: ['state'], value: 'SUCCEEDED' }] }).rows[0];
          const last = latestOn(source);
          if (!last) continue;
          const release = String(last.name).split('/rollouts/')[0];
          // Already there: nothing to promote.
          const there = latestOn(dest);
          if (there && String(there.name).split('/rollouts/')[0] === release) continue;
          const runName = `${pipelineName}/automationRuns/${runId(name, String(timed.id), String(due), source)}`;
          if (store.get(runName)) continue;
          const ts = clock.timestamp();
          w.put(RUN, runName, pipelineName, withEtag({
            name: runName, uid: newUid(), createTime: ts, updateTime: ts, serviceAccount: a.serviceAccount, automationSnapshot: a, targetId: source,
            state: 'PENDING', ruleId: String(timed.id), automationId: name.split('/').pop(), waitUntilTime: ts, expireTime: after(ts, EXPIRY_MS),
            timedPromoteReleaseOperation: { targetId: dest, release, ...(timed.destinationPhase ? { phase: timed.destinationPhase } : {}) },
          }), ts, true);
        }
      });
    }
    if (wake !== undefined) rctx.wakeAt(wake);
  };

  const onRun = (name: string, rctx: ReconcileContext) => {
    const run = store.getParsed<Obj>(name);
    if (!run || AUTOMATION_RUN_TERMINAL.has(String(run.state))) return;
    const now = clock.now();
    if (now >= Date.parse(String(run.expireTime))) return store.tx(w => finish(w, run, 'FAILED', 'The automation run expired before it could run.'));
    const until = Date.parse(String(run.waitUntilTime));
    if (now < until) { decisions?.sayOnce(name, `Cloud Deploy: ${runLabel(run)} waits until ${String(run.waitUntilTime)}`); rctx.wakeAt(until); return; }
    if (run.repairRolloutOperation) return repairStep(name, run, rctx);
    const timed = run.timedPromoteReleaseOperation as Obj | undefined;
    if (timed) {
      store.tx(w => {
        const release = String(timed.release);
        if (!store.get(release)) return finish(w, run, 'ABORTED', `The release ${release} no longer exists.`);
        promoteRelease(w, name, run, release, String(timed.targetId), timed.phase as string | undefined, () => ({ timedPromoteReleaseOperation: timed }));
      });
      return;
    }
    const promote = run.promoteReleaseOperation as Obj | undefined;
    const advance = run.advanceRolloutOperation as Obj | undefined;
    store.tx(w => {
      const source = store.getParsed<Rollout>(String((promote ?? advance)!.rollout));
      if (!source) return finish(w, run, 'ABORTED', `The rollout ${String((promote ?? advance)!.rollout)} no longer exists.`);
      const location = locationOf(source.name);
      const pipeline = store.getParsed<Obj>(pipelineOf(source.name));
      if (promote) {
        const release = source.name.slice(0, source.name.indexOf('/rollouts/'));
        promoteRelease(w, name, run, release, String(promote.targetId), promote.phase as string | undefined, created => ({ promoteReleaseOperation: { ...promote, rollout: created } }));
        return;
      }
      const phase = String(advance!.destinationPhase);
      const i = source.phases.findIndex(p => p.id === phase);
      if (!awaitingAdvance(source) || i < 0 || source.phases[i].state !== 'PENDING') {
        return finish(w, run, 'ABORTED', `Rollout ${source.name} no longer waits to advance to phase ${phase}.`);
      }
      const blocked = violations(store, location, pipeline, store.getParsed<Obj>(`${location}/targets/${source.targetId}`), 'ADVANCE', 'DEPLOY_AUTOMATION', clock.now());
      if (blocked.length) return finish(w, run, 'FAILED', `Advancing rollout ${source.name} was blocked by a deploy policy.`, blocked);
      source.phases[i].state = 'IN_PROGRESS';
      const meta = ((source.metadata as Obj | undefined)?.automation ?? {}) as Obj;
      source.metadata = { ...((source.metadata ?? {}) as Obj), automation: { ...meta, advanceAutomationRuns: [...((meta.advanceAutomationRuns ?? []) as string[]), name] } };
      saveRollout(w, source);
      finish(w, run, 'SUCCEEDED', `Advanced rollout ${source.name} to phase ${phase}.`);
    });
  };

  /** Ends a repair: the run finishes and the rollout no longer names it as its active repair. */
  const endRepair = (w: Writer, run: Obj, state: string, description: string, violation?: Violation[]) => {
    finish(w, run, state, description, violation);
    const r = store.getParsed<Rollout>(String((run.repairRolloutOperation as Obj).rollout));
    if (r && r.activeRepairAutomationRun === run.name) { delete r.activeRepairAutomationRun; saveRollout(w, r); }
  };

  /**
   * One step of a repair: retry the failed job (after the phase's wait, growing linearly or exponentially) until it
   * succeeds or the attempts run out, then the next repair phase; a rollback rolls the target back to the release
   * deployed before. Only what changed is written.
   */
  const repairStep = (name: string, run: Obj, rctx: ReconcileContext) => {
    const op = structuredClone(run.repairRolloutOperation as Obj);
    const phases = op.repairPhases as Obj[];
    const i = Number(op.currentRepairPhaseIndex ?? 0);
    store.tx(w => {
      const r = store.getParsed<Rollout>(String(op.rollout));
      if (!r) return endRepair(w, run, 'ABORTED', `The rollout ${String(op.rollout)} no longer exists.`);
      const save = (state = 'IN_PROGRESS', waitUntil?: number) => {
        const out = withEtag({ ...run, state, repairRolloutOperation: op, updateTime: clock.timestamp(), ...(waitUntil !== undefined ? { waitUntilTime: new Date(waitUntil).toISOString() } : {}) });
        w.put(RUN, name, String(name).split('/automationRuns/')[0], out, String(run.createTime), true);
      };
      if (i >= phases.length) return endRepair(w, { ...run, repairRolloutOperation: op }, 'FAILED', `Every repair phase ran and rollout ${r.name} is still not repaired.`);
      const phase = phases[i];
      const location = locationOf(r.name);
      const pipeline = store.getParsed<Obj>(pipelineOf(r.name));
      const target = store.getParsed<Obj>(`${location}/targets/${r.targetId}`);
      const retry = phase.retry as Obj | undefined;
      if (retry) {
        const attempts = (retry.attempts ?? []) as Obj[];
        retry.attempts = attempts;
        const last = attempts[attempts.length - 1];
        const job = r.phases.find(p => p.id === op.phaseId) ? jobsOf(r.phases.find(p => p.id === op.phaseId)!).find(j => j.id === op.jobId) : undefined;
        if (last?.state === 'IN_PROGRESS') {
          if (job?.state === 'SUCCEEDED') {
            last.state = 'SUCCEEDED';
            last.stateDesc = `Job ${String(op.jobId)} succeeded on retry ${String(last.attempt)}.`;
            return endRepair(w, { ...run, repairRolloutOperation: op }, 'SUCCEEDED', `Repaired rollout ${r.name}: job ${String(op.jobId)} of phase ${String(op.phaseId)} succeeded on retry ${String(last.attempt)}.`);
          }
          if (job?.state !== 'FAILED' || r.state !== 'FAILED') return; // still running
          last.state = 'FAILED';
          last.stateDesc = `Job ${String(op.jobId)} failed again.`;
        }
        if (last?.state === 'PENDING') {
          const due = Date.parse(String(run.waitUntilTime ?? run.createTime));
          if (clock.now() < due) { rctx.wakeAt(due); return; }
          const blocked = violations(store, location, pipeline, target, 'RETRY_JOB', 'DEPLOY_AUTOMATION', clock.now());
          if (blocked.length) return endRepair(w, { ...run, repairRolloutOperation: op }, 'FAILED', `Retrying job ${String(op.jobId)} of rollout ${r.name} was blocked by a deploy policy.`, blocked);
          const p = r.phases.find(x => x.id === op.phaseId);
          if (r.state !== 'FAILED' || !p || !job || job.state !== 'FAILED') {
            last.state = 'ABORTED';
            last.stateDesc = 'The rollout is no longer failed at this job.';
            return endRepair(w, { ...run, repairRolloutOperation: op }, 'ABORTED', `Rollout ${r.name} is no longer failed at job ${String(op.jobId)}.`);
          }
          job.state = 'PENDING';
          p.state = 'IN_PROGRESS';
          r.state = 'IN_PROGRESS';
          delete r.failureReason;
          delete r.deployFailureCause;
          delete r.deployEndTime;
          saveRollout(w, r);
          last.state = 'IN_PROGRESS';
          return save();
        }
        const total = Number(retry.totalAttempts ?? 0);
        if (attempts.length < total) {
          const n = attempts.length + 1;
          const base = retry.wait === undefined ? 0 : parseDurationMs(String(retry.wait)) ?? 0;
          const waitMs = base * (retry.backoffMode === 'BACKOFF_MODE_EXPONENTIAL' ? 2 ** (n - 1) : n);
          attempts.push({ attempt: String(n), wait: `${waitMs / 1000}s`, state: 'PENDING' });
          save('IN_PROGRESS', clock.now() + waitMs);
          rctx.wakeAt(clock.now() + waitMs);
          return;
        }
        op.currentRepairPhaseIndex = String(i + 1);
        save();
        rctx.enqueue(RUN, name);
        return;
      }
      const rollback = phase.rollback as Obj;
      const pending = store.list({ kind: 'rollout', scope: { grandparent: pipelineOf(r.name) }, order: [], limit: 1, equalities: [{ path: ['targetId'], value: r.targetId }, { path: ['state'], value: 'PENDING' }] }).rows;
      if (rollback.disableRollbackIfRolloutPending && pending.length) {
        rollback.state = 'ABORTED';
        rollback.stateDesc = `Rollback skipped: rollout ${String(pending[0].name)} is pending on target ${r.targetId}.`;
        return endRepair(w, { ...run, repairRolloutOperation: op }, 'ABORTED', String(rollback.stateDesc));
      }
      // The release deployed to the target before the failed one.
      const prior = store.list({
        kind: 'rollout', scope: { grandparent: pipelineOf(r.name) }, order: [{ path: ['deployEndTime'], desc: true }], limit: 1000,
        equalities: [{ path: ['targetId'], value: r.targetId }, { path: ['state'], value: 'SUCCEEDED' }],
      }).rows.find(x => String(x.name).split('/rollouts/')[0] !== r.name.split('/rollouts/')[0]) as Rollout | undefined;
      if (!prior) {
        rollback.state = 'FAILED';
        rollback.stateDesc = `No earlier release was deployed to target ${r.targetId}.`;
        return endRepair(w, { ...run, repairRolloutOperation: op }, 'FAILED', String(rollback.stateDesc));
      }
      const release = String(prior.name).split('/rollouts/')[0];
      const releaseId = release.split('/').pop()!;
      const id = `${releaseId}-to-${r.targetId}-rollback-${hashShort(name)}`.slice(0, 63).replace(/-+$/, '');
      const req: ApiRequest = { method: 'POST', path: '', params: {}, query: { startingPhaseId: String(rollback.destinationPhase ?? 'stable') }, body: undefined, headers: {}, enumInts: false };
      try {
        const created = std.insert(w, rollbackRollouts, `${release}/rollouts/${id}`, release, { targetId: r.targetId }, undefined, req) as Rollout;
        created.rollbackOfRollout = r.name;
        saveRollout(w, created);
        const failed = store.getParsed<Rollout>(r.name)!;
        failed.rolledBackByRollouts = [...((failed.rolledBackByRollouts as string[] | undefined) ?? []), created.name];
        saveRollout(w, failed);
        rollback.rolloutId = id;
        rollback.state = 'SUCCEEDED';
        rollback.stateDesc = `Rolled back target ${r.targetId} to release ${releaseId} (rollout ${id}).`;
        endRepair(w, { ...run, repairRolloutOperation: op }, 'SUCCEEDED', String(rollback.stateDesc));
      } catch (e) {
        rollback.state = 'FAILED';
        rollback.stateDesc = (e as Error).message;
        endRepair(w, { ...run, repairRolloutOperation: op }, 'FAILED', `Rolling back target ${r.targetId} failed: ${(e as Error).message}`, policyViolations(e));
      }
    });
  };

  return [
    { kind: 'rollout', reconcile: (name, rctx) => onRollout(name, rctx) },
    { kind: RUN, reconcile: (name, rctx) => onRun(name, rctx) },
    { kind: 'automation', reconcile: (name, rctx) => onAutomation(name, rctx) },
  ];
}

/** The policy violations a refused action carries (ApiError details), for the run's `policyViolation`. */
function policyViolations(e: unknown): Violation[] | undefined {
  if (!(e instanceof ApiError)) return undefined;
  const d = e.details.find(x => x['@type'] === 'type.googleapis.com/google.cloud.deploy.v1.PolicyViolation');
  return d ? d.policyViolationDetails as Violation[] : undefined;
}

/** `ms` after the timestamp `ts`, at its precision, so a run's times read as its createTime does. */
function after(ts: string, ms: number): string {
  return formatTimestamp(parseTimestamp(ts)! + BigInt(Math.round(ms)) * 1_000_000n);
}

/** An automation run by its automation, rule and id, e.g. `automation run promote/r1/abc (rule promote-rule)`. */
function runLabel(run: Obj): string {
  return `automation run ${String(run.automationId)}/${String(run.name).split('/').pop()} (rule ${String(run.ruleId)})`;
}
