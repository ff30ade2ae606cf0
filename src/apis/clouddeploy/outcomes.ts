// Scripted outcomes for simulated job runs. A rule says what a job does:
//   <phase|*>/<job|*>=<succeed|fail[:CAUSE]|skip>[@N][~DURATION]
// e.g. "stable/verify=fail:EXECUTION_FAILED@1" (the first attempt fails, retries succeed) or
// "*/deploy=succeed~30s" (deploys take 30 s). Rules come from the rollout's annotation, then the
// release's, then Gantry's API (`/gantry/v1/outcomes`, most specific scope first); the first match wins.
import { errors } from '../../google/errors.js';
import { parseFlexibleDurationMs } from '../../google/time.js';
import { schema } from './service.js';

export const OUTCOMES_ANNOTATION = 'gantry.dev/outcomes';

export interface OutcomeRule {
  phase: string;
  job: string;
  outcome: 'succeed' | 'fail' | 'skip';
  cause?: string;
  /** Applies to the first N attempts only. */
  attempts?: number;
  durationMs?: number;
}

const JOB_CAUSES: Record<string, string> = {
  deploy: 'DeployJobRun.FailureCause', verify: 'VerifyJobRun.FailureCause',
  predeploy: 'PredeployJobRun.FailureCause', postdeploy: 'PostdeployJobRun.FailureCause',
};

export function causesFor(job: string): string[] {
  const e = JOB_CAUSES[job];
  const all = e ? schema.enumValues(e) : Object.values(JOB_CAUSES).flatMap(x => schema.enumValues(x));
  return [...new Set(all)].filter(c => !c.endsWith('UNSPECIFIED'));
}

const RULE = /^([a-z0-9*-]+)\/([a-z*]+)=(succeed|fail|skip)(?::([A-Z_]+))?((?:@\d+|~[0-9.hms]+)*)$/;

export function parseOutcomes(text: string, field = `annotations["${OUTCOMES_ANNOTATION}"]`): OutcomeRule[] {
  const rules: OutcomeRule[] = [];
  for (const part of text.split(/[;,\n]/).map(s => s.trim()).filter(Boolean)) {
    const m = RULE.exec(part);
    if (!m) {
      throw errors.invalidArgument(`Outcome rule "${part}" is invalid: expected <phase|*>/<job|*>=<succeed|fail[:CAUSE]|skip>[@N][~DURATION], e.g. stable/verify=fail:EXECUTION_FAILED@1.`, field);
    }
    const [, phase, job, outcome, cause, modifiers] = m;
    // @N and ~DURATION may come in either order, each at most once.
    const attempts = /@(\d+)/.exec(modifiers)?.[1];
    const duration = /~([0-9.hms]+)/.exec(modifiers)?.[1];
    if ((modifiers.match(/@/g)?.length ?? 0) > 1 || (modifiers.match(/~/g)?.length ?? 0) > 1) {
      throw errors.invalidArgument(`Outcome rule "${part}": give @N and ~DURATION at most once each.`, field);
    }
    if (job !== '*' && !JOB_CAUSES[job]) throw errors.invalidArgument(`Outcome rule "${part}": unknown job "${job}" (predeploy, deploy, verify, postdeploy or *).`, field);
    if (cause && !causesFor(job).includes(cause)) {
      throw errors.invalidArgument(`Outcome rule "${part}": ${cause} is not a failure cause of ${job} jobs (${causesFor(job).join(', ')}).`, field);
    }
    if (cause && outcome !== 'fail') throw errors.invalidArgument(`Outcome rule "${part}": only fail takes a cause.`, field);
    const durationMs = duration === undefined ? undefined : parseFlexibleDurationMs(duration);
    if (duration !== undefined && durationMs === undefined) throw errors.invalidArgument(`Outcome rule "${part}": "${duration}" is not a duration.`, field);
    rules.push({ phase, job, outcome: outcome as OutcomeRule['outcome'], cause, attempts: attempts === undefined ? undefined : Number(attempts), durationMs });
  }
  return rules;
}

export interface Decided { outcome: 'succeed' | 'fail' | 'skip'; cause?: string; durationMs: number }

/** The outcome of attempt `attempt` (1-based) of a job, from rule sets in priority order. */
export function decide(ruleSets: OutcomeRule[][], phase: string, job: string, attempt: number, defaultMs: number): Decided {
  for (const rules of ruleSets) {
    for (const r of rules) {
      if ((r.phase !== '*' && r.phase !== phase) || (r.job !== '*' && r.job !== job)) continue;
      if (r.attempts !== undefined && attempt > r.attempts) continue;
      const cause = r.outcome === 'fail' ? (r.cause && causesFor(job).includes(r.cause) ? r.cause : 'EXECUTION_FAILED') : undefined;
      return { outcome: r.outcome, cause, durationMs: r.durationMs ?? defaultMs };
    }
  }
  return { outcome: 'succeed', durationMs: defaultMs };
}
