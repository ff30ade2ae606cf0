// Cloud Deploy's resource attributes (TargetAttribute, DeliveryPipelineAttribute): how automations' selectors and
// deploy policies' selectors name the targets and pipelines they apply to.
import type { Resource } from '../../google/standard-methods.js';

/**
 * Whether `r` (a target or pipeline, or a stand-in `{name}` for one that does not exist) is what `attr` names: its
 * `id` is absent, `"*"` or the resource's id, and every label `attr` gives is the resource's. No `attr`: any resource.
 */
export function attributeMatches(attr: Resource | undefined, r: Resource | undefined): boolean {
  if (!attr) return true;
  if (!r) return false;
  const id = String(r.name ?? '').split('/').pop();
  if (attr.id !== undefined && attr.id !== '*' && attr.id !== id) return false;
  const want = (attr.labels ?? {}) as Record<string, string>;
  const have = (r.labels ?? {}) as Record<string, string>;
  return Object.entries(want).every(([k, v]) => have[k] === v);
}

/** Whether an automation's `selector.targets` names the target `targetId` of `location` (`target`: its resource). */
export function automationSelects(automation: Resource, location: string, targetId: string, target: Resource | undefined): boolean {
  const r = target ?? { name: `${location}/targets/${targetId}` };
  return ((automation.selector as Resource | undefined)?.targets as Resource[] | undefined ?? []).some(t => attributeMatches(t, r));
}
