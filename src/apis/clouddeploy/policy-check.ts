// Deploy policy evaluation (spec §9): for a guarded action on a pipeline and target, every non-suspended policy of
// the location whose selectors match applies its rollout restrictions; one whose action and invoker match and whose
// time window holds the present moment (in its own time zone) blocks the action, unless the caller names the policy
// in `overrideDeployPolicy`.
import { ApiError, errorInfo } from '../../google/errors.js';
import type { Resource } from '../../google/standard-methods.js';
import type { Store } from '../../store/store.js';
import { SERVICE } from './service.js';
import { attributeMatches } from './target-attribute.js';

export type PolicyAction = 'ADVANCE' | 'APPROVE' | 'CANCEL' | 'CREATE' | 'IGNORE_JOB' | 'RETRY_JOB' | 'ROLLBACK' | 'TERMINATE_JOBRUN';
export type Invoker = 'USER' | 'DEPLOY_AUTOMATION';
export interface Violation { policy: string; ruleId: string; failureMessage: string }


/** The wall-clock date, time and weekday of `ms` in `timeZone`. */
function localParts(ms: number, timeZone: string): { date: number; minutes: number; day: string } {
  const parts = Object.fromEntries(new Intl.DateTimeFormat('en-US', {
    timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', weekday: 'long',
  }).formatToParts(new Date(ms)).map(p => [p.type, p.value]));
  return {
    date: Number(parts.year) * 10_000 + Number(parts.month) * 100 + Number(parts.day),
    minutes: Number(parts.hour) * 60 + Number(parts.minute) + Number(parts.second) / 60,
    day: String(parts.weekday).toUpperCase(),
  };
}

const minutesOf = (t: Resource | undefined, fallback: number) => (t ? Number(t.hours ?? 0) * 60 + Number(t.minutes ?? 0) + Number(t.seconds ?? 0) / 60 : fallback);
const dateOf = (d: Resource) => Number(d.year) * 10_000 + Number(d.month) * 100 + Number(d.day);

/** Whether `ms` falls in one of the windows (start inclusive, end exclusive). */
export function inWindows(tw: Resource, ms: number): boolean {
  const now = localParts(ms, String(tw.timeZone));
  const stamp = now.date * 1440 + now.minutes;
  for (const w of (tw.oneTimeWindows ?? []) as Resource[]) {
    const start = dateOf(w.startDate as Resource) * 1440 + minutesOf(w.startTime as Resource | undefined, 0);
    const end = dateOf(w.endDate as Resource) * 1440 + minutesOf(w.endTime as Resource | undefined, 0);
    if (stamp >= start && stamp < end) return true;
  }
  for (const w of (tw.weeklyWindows ?? []) as Resource[]) {
    const days = (w.daysOfWeek ?? []) as string[];
    if (days.length && !days.includes(now.day)) continue;
    if (now.minutes >= minutesOf(w.startTime as Resource | undefined, 0) && now.minutes < minutesOf(w.endTime as Resource | undefined, 1440)) return true;
  }
  return false;
}

/** The restrictions that block `action` now, policies named in `overrides` aside. */
export function violations(store: Store, location: string, pipeline: Resource | undefined, target: Resource | undefined, action: PolicyAction, invoker: Invoker, nowMs: number, overrides: string[] = []): Violation[] {
  const out: Violation[] = [];
  for (const p of store.children('deployPolicy', location)) {
    if (p.suspended) continue;
    const name = String(p.name);
    if (overrides.includes(name) || overrides.includes(name.split('/').pop()!)) continue;
    const selected = ((p.selectors ?? []) as Resource[]).some(s => attributeMatches(s.deliveryPipeline as Resource | undefined, pipeline) && attributeMatches(s.target as Resource | undefined, target));
    if (!selected) continue;
    for (const rule of (p.rules ?? []) as Resource[]) {
      const rr = rule.rolloutRestriction as Resource | undefined;
      if (!rr) continue;
      const actions = (rr.actions ?? []) as string[];
      const invokers = (rr.invokers ?? []) as string[];
      if (actions.length && !actions.includes(action)) continue;
      if (invokers.length && !invokers.includes(invoker)) continue;
      if (!inWindows(rr.timeWindows as Resource, nowMs)) continue;
      out.push({ policy: name, ruleId: String(rr.id), failureMessage: `Rollout restriction "${String(rr.id)}" of deploy policy "${name}" blocks ${action} by ${invoker} now (a time window of ${String((rr.timeWindows as Resource).timeZone)} holds).` });
    }
  }
  return out;
}

/**
 * What each action is called in a refusal: `create-rollout` is Google's documented word; the others follow its pattern
 * (inferred, see docs/fidelity.md).
 */
const ATTEMPT_WORDS: Record<PolicyAction, string> = {
  CREATE: 'create-rollout', APPROVE: 'approve-rollout', ADVANCE: 'advance-rollout', CANCEL: 'cancel-rollout',
  IGNORE_JOB: 'ignore-job', RETRY_JOB: 'retry-job', ROLLBACK: 'rollback-target', TERMINATE_JOBRUN: 'terminate-jobrun',
};

/** Refuses an action a policy blocks: FAILED_PRECONDITION naming each policy and rule, with a PolicyViolation. */
export function enforce(store: Store, location: string, pipeline: Resource | undefined, target: Resource | undefined, action: PolicyAction, nowMs: number, overrides: string[] = [], invoker: Invoker = 'USER'): void {
  const v = violations(store, location, pipeline, target, action, invoker, nowMs, overrides);
  if (!v.length) return;
  // Google's documented words, one sentence per rule that blocks.
  const id = (name: string | undefined) => String(name ?? '').split('/').pop();
  const attempt = ATTEMPT_WORDS[action];
  const message = v.map(x => `${/^[aeiou]/.test(attempt) ? 'An' : 'A'} ${attempt} attempt was blocked by the "${id(x.policy)}" policy. Target: "${id(target?.name as string | undefined)}", Delivery pipeline: "${id(pipeline?.name as string | undefined)}", policy rule: "${x.ruleId}"`).join(' ');
  throw new ApiError('FAILED_PRECONDITION', message, [
    errorInfo('DEPLOY_POLICY_VIOLATION', SERVICE, { policies: [...new Set(v.map(x => x.policy))].join(','), action }),
    { '@type': 'type.googleapis.com/google.cloud.deploy.v1.PolicyViolation', policyViolationDetails: v },
  ]);
}
