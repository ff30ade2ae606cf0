// DeployPolicy: windows in which rollout actions are restricted, for the pipelines and targets its selectors name,
// with the checks Cloud Deploy applies when one is written (spec §3.9).
import { errors } from '../../google/errors.js';
import { checkCommonFields } from '../../google/common-fields.js';
import { RESOURCE_ID } from '../../google/ids.js';
import type { KindStrategy, Resource } from '../../google/standard-methods.js';
import { isTimeZone } from './automations.js';

/** Policies per project and location (Cloud Deploy's quota). */
export const MAX_POLICIES = 1000;

function minutesOf(t: Resource | undefined): number | undefined {
  if (!t) return undefined;
  return Number(t.hours ?? 0) * 60 + Number(t.minutes ?? 0) + Number(t.seconds ?? 0) / 60;
}

function checkTimeOfDay(t: Resource | undefined, field: string, allow24: boolean): void {
  if (!t) return;
  const h = Number(t.hours ?? 0), m = Number(t.minutes ?? 0), s = Number(t.seconds ?? 0), n = Number(t.nanos ?? 0);
  const ok = (h >= 0 && h <= 23 && m >= 0 && m <= 59 && s >= 0 && s <= 59 && n >= 0 && n <= 999_999_999) || (allow24 && h === 24 && !m && !s && !n);
  if (!ok) throw errors.invalidArgument(`${field} is not a time of day (hours 0-23${allow24 ? ', or 24:00' : ''}, minutes and seconds 0-59).`, field);
}

function checkDate(d: Resource | undefined, field: string): void {
  if (!d) return;
  const y = Number(d.year ?? 0), m = Number(d.month ?? 0), day = Number(d.day ?? 0);
  const date = new Date(Date.UTC(y, m - 1, day));
  if (!y || date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== day) throw errors.invalidArgument(`${field} is not a calendar date.`, field);
}

export function deployPolicyStrategy(count: (location: string) => number): KindStrategy {
  return {
    kind: 'deployPolicy', message: 'DeployPolicy', collection: 'deployPolicies', idParam: 'deployPolicyId', bodyField: 'deployPolicy',
    validate(p, ctx) {
      checkCommonFields(p, 'deploy_policy');
      if (!ctx.existing && count(ctx.parent) >= MAX_POLICIES) {
        throw errors.failedPrecondition(`${ctx.parent} has ${MAX_POLICIES} deploy policies, the most a location may have.`, ctx.parent, 'QUOTA');
      }
      const selectors = (p.selectors ?? []) as Resource[];
      if (!selectors.length) throw errors.invalidArgument('deploy_policy.selectors must hold at least one selector.', 'deploy_policy.selectors');
      selectors.forEach((s, i) => {
        const at = `deploy_policy.selectors[${i}]`;
        if (!s.deliveryPipeline && !s.target) throw errors.invalidArgument(`${at} must name a delivery_pipeline or a target.`, at);
        for (const k of ['deliveryPipeline', 'target'] as const) {
          const id = (s[k] as Resource | undefined)?.id;
          if (id !== undefined && id !== '*' && !RESOURCE_ID.test(String(id))) throw errors.invalidArgument(`${at}.${k === 'target' ? 'target' : 'delivery_pipeline'}.id "${String(id).slice(0, 100)}" is not an id or "*".`, `${at}.id`);
        }
      });
      const rules = (p.rules ?? []) as Resource[];
      if (!rules.length) throw errors.invalidArgument('deploy_policy.rules must hold at least one rule.', 'deploy_policy.rules');
      const ids = new Set<string>();
      rules.forEach((r, i) => {
        const at = `deploy_policy.rules[${i}].rollout_restriction`;
        const rr = r.rolloutRestriction as Resource | undefined;
        if (!rr) throw errors.invalidArgument(`deploy_policy.rules[${i}] must set rollout_restriction.`, `deploy_policy.rules[${i}]`);
        const id = String(rr.id ?? '');
        if (!RESOURCE_ID.test(id)) throw errors.invalidArgument(`${at}.id "${id.slice(0, 100)}" must be 1-63 lowercase letters, digits and hyphens, starting with a letter.`, `${at}.id`);
        if (ids.has(id)) throw errors.invalidArgument(`${at}.id "${id}" is used by another rule of this policy.`, `${at}.id`);
        ids.add(id);
        const tw = rr.timeWindows as Resource | undefined;
        if (!tw) throw errors.invalidArgument(`${at}.time_windows is required.`, `${at}.time_windows`);
        if (!tw.timeZone || !isTimeZone(String(tw.timeZone))) throw errors.invalidArgument(`${at}.time_windows.time_zone "${String(tw.timeZone ?? '').slice(0, 100)}" must be an IANA time zone.`, `${at}.time_windows.time_zone`);
        const oneTime = (tw.oneTimeWindows ?? []) as Resource[];
        const weekly = (tw.weeklyWindows ?? []) as Resource[];
        if (!oneTime.length && !weekly.length) throw errors.invalidArgument(`${at}.time_windows needs at least one one-time or weekly window.`, `${at}.time_windows`);
        oneTime.forEach((w, j) => {
          const wat = `${at}.time_windows.one_time_windows[${j}]`;
          checkDate(w.startDate as Resource | undefined, `${wat}.start_date`);
          checkDate(w.endDate as Resource | undefined, `${wat}.end_date`);
          if (!w.startDate || !w.endDate) throw errors.invalidArgument(`${wat} needs start_date and end_date.`, wat);
          checkTimeOfDay(w.startTime as Resource | undefined, `${wat}.start_time`, false);
          checkTimeOfDay(w.endTime as Resource | undefined, `${wat}.end_time`, true);
          const start = stamp(w.startDate as Resource, w.startTime as Resource | undefined), end = stamp(w.endDate as Resource, w.endTime as Resource | undefined);
          if (end <= start) throw errors.invalidArgument(`${wat} ends before it starts.`, wat);
        });
        weekly.forEach((w, j) => {
          const wat = `${at}.time_windows.weekly_windows[${j}]`;
          checkTimeOfDay(w.startTime as Resource | undefined, `${wat}.start_time`, false);
          checkTimeOfDay(w.endTime as Resource | undefined, `${wat}.end_time`, true);
          const s = minutesOf(w.startTime as Resource | undefined) ?? 0, e = minutesOf(w.endTime as Resource | undefined) ?? 24 * 60;
          if ((w.startTime || w.endTime) && e <= s) throw errors.invalidArgument(`${wat} ends before it starts.`, wat);
        });
      });
    },
  };
}

function stamp(d: Resource, t: Resource | undefined): number {
  return Date.UTC(Number(d.year), Number(d.month) - 1, Number(d.day)) + (minutesOf(t) ?? 0) * 60_000;
}
