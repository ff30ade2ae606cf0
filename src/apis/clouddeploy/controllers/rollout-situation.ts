// What a rollout is doing or waiting for, in words, for the debug log of controller decisions (src/engine/decisions.ts).
import type { Store } from '../../../store/store.js';
import { locationOf, type Resource } from '../../../google/standard-methods.js';
import { deploying, releaseOf, rolloutsOnTarget, type Rollout } from '../rollouts.js';

/** `pipeline/release/rollout`: short, and unique within a project and location. */
export function rolloutLabel(name: string): string {
  const p = name.split('/');
  return `${p[5]}/${p[7]}/${p[9]}`;
}

/**
 * The line said about a rollout whenever its situation changes; undefined while it merely works (its job runs'
 * starts and ends are said instead) or is about to (queued on a free target).
 */
export function rolloutSituation(store: Store, r: Rollout): string | undefined {
  const s = situation(store, r);
  return s && `Cloud Deploy: rollout ${rolloutLabel(r.name)} to ${r.targetId} ${s}`;
}

function situation(store: Store, r: Rollout): string | undefined {
  const repair = r.activeRepairAutomationRun ? ` (repair automation run ${String(r.activeRepairAutomationRun).split('/').pop()} is at work on it)` : '';
  switch (r.state) {
    case 'PENDING_RELEASE': return `waits for release ${releaseOf(r.name).split('/').pop()} to render`;
    case 'PENDING_APPROVAL': return 'waits for approval (its target requires approval)';
    case 'PENDING': {
      const busy = rolloutsOnTarget(store, locationOf(r.name), r.targetId, ['IN_PROGRESS', 'CANCELLING']).find(deploying);
      return busy ? `is queued: rollout ${rolloutLabel(busy.name)} is in progress on the target` : undefined;
    }
    case 'IN_PROGRESS': {
      const next = r.phases.findIndex(p => p.state !== 'SUCCEEDED' && p.state !== 'SKIPPED');
      if (next < 0) return undefined;
      const phase = r.phases[next];
      if (phase.state === 'PENDING') return `waits to be advanced to phase ${phase.id}${repair}`;
      return repair ? `is in phase ${phase.id}${repair}` : undefined;
    }
    case 'CANCELLING': return 'is cancelling: waits for its job runs to end';
    case 'FAILED':
      return r.activeRepairAutomationRun
        ? `failed; waits for repair automation run ${String(r.activeRepairAutomationRun).split('/').pop()}: ${r.failureReason ?? ''}`
        : `FAILED: ${r.failureReason ?? ''}`;
    default: return `${r.state}${r.failureReason ? `: ${r.failureReason}` : ''}`;
  }
}

/** `phase/job` of a job run, and its short id. */
export function jobRunLabel(jr: Resource): string {
  return `job run ${String(jr.name).split('/').pop()} (${String(jr.phaseId)}/${String(jr.jobId)})`;
}
