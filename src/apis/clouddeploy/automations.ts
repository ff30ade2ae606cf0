// Automation: rules a delivery pipeline runs by itself (promote, advance, repair, timed promote), with the checks
// Cloud Deploy applies when one is written (spec §3.7). The runs (AutomationRun) are listed under the pipeline.
import { cronParser } from '../../lazy-deps.js';
import { errors } from '../../google/errors.js';
import { checkCommonFields } from '../../google/common-fields.js';
import { RESOURCE_ID } from '../../google/ids.js';
import { parseDurationMs } from '../../google/time.js';
import type { KindStrategy, Resource } from '../../google/standard-methods.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../engine/clock.js';
import { stagesOf } from './pipelines.js';
import { automationSelects } from './target-attribute.js';

const RULE_KINDS = ['promoteReleaseRule', 'advanceRolloutRule', 'repairRolloutRule', 'timedPromoteReleaseRule'] as const;
/** Rules one automation may hold (Cloud Deploy's quota is 250 per pipeline). */
const MAX_RULES = 250;
const MAX_WAIT_MS = 14 * 24 * 3600_000;

/** Whether `tz` is an IANA time zone this runtime knows. */
export function isTimeZone(tz: string): boolean {
  try { new Intl.DateTimeFormat('en-US', { timeZone: tz }); return tz.length > 0; } catch { return false; }
}

function checkWait(value: unknown, field: string): void {
  if (value === undefined) return;
  const ms = parseDurationMs(String(value));
  if (ms === undefined || ms < 0 || ms > MAX_WAIT_MS) throw errors.invalidArgument(`${field} "${String(value).slice(0, 50)}" must be a duration from 0s to 14 days (1209600s).`, field);
  if (ms % 60_000 !== 0) throw errors.invalidArgument(`${field} "${String(value)}" must be a whole number of minutes.`, field);
}

function checkRuleId(id: unknown, field: string, seen: Set<string>): void {
  const s = String(id ?? '');
  if (!s) throw errors.invalidArgument(`${field} is required.`, field);
  if (!RESOURCE_ID.test(s)) throw errors.invalidArgument(`${field} "${s.slice(0, 100)}" must be 1-63 lowercase letters, digits and hyphens, starting with a letter.`, field);
  if (seen.has(s)) throw errors.invalidArgument(`${field} "${s}" is used by another rule of this automation.`, field);
  seen.add(s);
}

/**
 * Each rule's output-only `condition`, computed when the automation is read: which of the pipeline's targets do not
 * exist (targetsPresentCondition), and for a timed promotion its next tick and its source → destination pairs.
 */
function withConditions(a: Resource, store: Store, clock: Clock): Resource {
  const name = String(a.name);
  const pipelineName = name.split('/automations/')[0];
  const location = name.split('/').slice(0, 4).join('/');
  const pipeline = store.getParsed<Resource>(pipelineName);
  const ids = pipeline ? stagesOf(pipeline).map(st => String(st.targetId)) : [];
  // Stable across reads: the condition was last judged when the automation was written (its targets are looked up now).
  const judged = String(a.updateTime);
  const missing = ids.filter(id => store.get(`${location}/targets/${id}`)?.kind !== 'target').map(id => `${location}/targets/${id}`);
  const present = { status: missing.length === 0, ...(missing.length ? { missingTargets: missing } : {}), updateTime: judged };
  const selected = (id: string) => automationSelects(a, location, id, store.getParsed<Resource>(`${location}/targets/${id}`));
  const rules = ((a.rules ?? []) as Resource[]).map(rule => {
    const kind = RULE_KINDS.find(k => rule[k] !== undefined);
    if (!kind) return rule;
    const r = rule[kind] as Resource;
    const condition: Resource = { targetsPresentCondition: present };
    if (kind === 'timedPromoteReleaseRule') {
      try {
        const next = cronParser().parse(String(r.schedule), { tz: String(r.timeZone), currentDate: new Date(clock.now()) }).next().toISOString();
        const targetsList = ids.filter(selected).map(src => ({ sourceTargetId: src, destinationTargetId: r.destinationTargetId && r.destinationTargetId !== '@next' ? String(r.destinationTargetId) : ids[ids.indexOf(src) + 1] }))
          .filter(t => t.destinationTargetId && t.destinationTargetId !== t.sourceTargetId);
        condition.timedPromoteReleaseCondition = { nextPromotionTime: next, ...(targetsList.length ? { targetsList } : {}) };
      } catch { /* validated at write time */ }
    }
    return { [kind]: { ...r, condition } };
  });
  return { ...a, rules };
}

export function automationStrategy(store: Store, clock: Clock): KindStrategy {
  return { ...automationRules, view: a => withConditions(a, store, clock) };
}

const automationRules: KindStrategy = {
  kind: 'automation', message: 'Automation', collection: 'automations', idParam: 'automationId', bodyField: 'automation',
  parentKind: 'deliveryPipeline',
  // A timed promotion waits on the clock: flagged, so a restarted Gantry schedules it again.
  active: a => !a.suspended && ((a.rules ?? []) as Resource[]).some(r => r.timedPromoteReleaseRule !== undefined),
  validate(a) {
    checkCommonFields(a, 'automation');
    if (!a.serviceAccount) throw errors.invalidArgument('automation.service_account is required.', 'automation.service_account');
    const targets = ((a.selector as Resource | undefined)?.targets ?? []) as Resource[];
    if (!targets.length) throw errors.invalidArgument('automation.selector.targets must name at least one target (id "*" for all).', 'automation.selector.targets');
    targets.forEach((t, i) => {
      if (t.id === undefined && t.labels === undefined) throw errors.invalidArgument(`automation.selector.targets[${i}] must set id or labels.`, `automation.selector.targets[${i}]`);
      if (t.id !== undefined && t.id !== '*' && !RESOURCE_ID.test(String(t.id))) throw errors.invalidArgument(`automation.selector.targets[${i}].id "${String(t.id).slice(0, 100)}" is not a target id or "*".`, `automation.selector.targets[${i}].id`);
    });
    const rules = (a.rules ?? []) as Resource[];
    if (!rules.length) throw errors.invalidArgument('automation.rules must hold at least one rule.', 'automation.rules');
    if (rules.length > MAX_RULES) throw errors.invalidArgument(`automation.rules holds ${rules.length} rules; at most ${MAX_RULES} are allowed.`, 'automation.rules');
    const seen = new Set<string>();
    rules.forEach((r, i) => {
      const at = `automation.rules[${i}]`;
      const kinds = RULE_KINDS.filter(k => r[k] !== undefined);
      if (kinds.length !== 1) throw errors.invalidArgument(`${at} must set exactly one of ${RULE_KINDS.join(', ')}.`, at);
      const rule = r[kinds[0]] as Resource;
      const where = `${at}.${kinds[0].replace(/[A-Z]/g, c => '_' + c.toLowerCase())}`;
      checkRuleId(rule.id, `${where}.id`, seen);
      checkWait(rule.wait, `${where}.wait`);
      if (rule.destinationTargetId !== undefined && rule.destinationTargetId !== '@next' && !RESOURCE_ID.test(String(rule.destinationTargetId))) {
        throw errors.invalidArgument(`${where}.destination_target_id "${String(rule.destinationTargetId).slice(0, 100)}" must be "@next" or a target id.`, `${where}.destination_target_id`);
      }
      if (kinds[0] === 'repairRolloutRule') {
        const phases = (rule.repairPhases ?? []) as Resource[];
        if (!phases.length) throw errors.invalidArgument(`${where}.repair_phases must hold at least one retry or rollback.`, `${where}.repair_phases`);
        phases.forEach((p, j) => {
          const pat = `${where}.repair_phases[${j}]`;
          if ((p.retry === undefined) === (p.rollback === undefined)) throw errors.invalidArgument(`${pat} must set exactly one of retry and rollback.`, pat);
          const retry = p.retry as Resource | undefined;
          if (retry) {
            const attempts = Number(retry.attempts ?? 0);
            if (!Number.isInteger(attempts) || attempts < 0 || attempts > 10) throw errors.invalidArgument(`${pat}.retry.attempts must be from 0 to 10, got ${String(retry.attempts)}.`, `${pat}.retry.attempts`);
            checkWait(retry.wait, `${pat}.retry.wait`);
          }
          if (p.rollback !== undefined && j !== phases.length - 1) throw errors.invalidArgument(`${pat}: a rollback must be the last repair phase.`, pat);
        });
      }
      if (kinds[0] === 'timedPromoteReleaseRule') {
        if (!rule.schedule) throw errors.invalidArgument(`${where}.schedule is required (a cron expression, e.g. "0 9 * * 1").`, `${where}.schedule`);
        if (!rule.timeZone || !isTimeZone(String(rule.timeZone))) throw errors.invalidArgument(`${where}.time_zone "${String(rule.timeZone ?? '').slice(0, 100)}" must be an IANA time zone, e.g. America/New_York.`, `${where}.time_zone`);
        try { cronParser().parse(String(rule.schedule), { tz: String(rule.timeZone) }); } catch (e) {
          throw errors.invalidArgument(`${where}.schedule "${String(rule.schedule).slice(0, 100)}" is not a cron expression: ${(e as Error).message.slice(0, 200)}`, `${where}.schedule`);
        }
      }
    });
  },
};
