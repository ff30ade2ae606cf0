// Scripted outcomes for simulated job runs, in the shared rule language (src/engine/outcomes.ts):
//   <phase|*>/<job|*>=<succeed|fail[:CAUSE]|skip|hang>[@N][~DURATION]
// e.g. "stable/verify=fail:EXECUTION_FAILED@1" (the first attempt fails, retries succeed) or
// "*/deploy=succeed~30s" (deploys take 30 s); `hang` runs until the target's execution timeout and fails
// DEADLINE_EXCEEDED, as a job that never finishes does. Rules come from the rollout's annotation, then the
// release's, then Gantry's API (`/gantry/v1/outcomes`, most specific scope first); the first match wins.
import { parseRules, pickRule, type Rule, type RuleGrammar } from '../../engine/outcomes.js';
import { schema } from './service.js';

export const OUTCOMES_ANNOTATION = 'gantry.dev/outcomes';

type Outcome = 'succeed' | 'fail' | 'skip' | 'hang';
export type OutcomeRule = Rule<Outcome>;

const JOB_CAUSES: Record<string, string> = {
  deploy: 'DeployJobRun.FailureCause', verify: 'VerifyJobRun.FailureCause',
  predeploy: 'PredeployJobRun.FailureCause', postdeploy: 'PostdeployJobRun.FailureCause',
};

export function causesFor(job: string): string[] {
  const e = JOB_CAUSES[job];
  const all = e ? schema.enumValues(e) : Object.values(JOB_CAUSES).flatMap(x => schema.enumValues(x));
  return [...new Set(all)].filter(c => !c.endsWith('UNSPECIFIED'));
}

export const DEPLOY_RULES: RuleGrammar<Outcome> = {
  shape: '<phase|*>/<job|*>',
  example: 'stable/verify=fail:EXECUTION_FAILED@1',
  selectors: [
    { pattern: /^[a-z0-9-]+$/ },
    { pattern: /^[a-z]+$/, check: job => (JOB_CAUSES[job] ? undefined : `unknown job "${job}" (predeploy, deploy, verify, postdeploy or *).`) },
  ],
  outcomes: ['succeed', 'fail', 'skip', 'hang'],
  detail: (outcome, cause, [, job]) => {
    if (cause === undefined) return undefined;
    if (outcome !== 'fail') return 'only fail takes a cause.';
    return causesFor(job).includes(cause) ? undefined : `${cause} is not a failure cause of ${job} jobs (${causesFor(job).join(', ')}).`;
  },
};

export function parseOutcomes(text: string, field = `annotations["${OUTCOMES_ANNOTATION}"]`): OutcomeRule[] {
  return parseRules(text, DEPLOY_RULES, field);
}

export interface Decided { outcome: 'succeed' | 'fail' | 'skip'; cause?: string; message?: string; durationMs: number }

/** The outcome of attempt `attempt` (1-based) of a job, from rule sets in priority order. */
export function decide(ruleSets: OutcomeRule[][], phase: string, job: string, attempt: number, defaultMs: number, timeoutMs: number): Decided {
  const r = pickRule(ruleSets, [phase, job], attempt);
  if (!r) return { outcome: 'succeed', durationMs: defaultMs };
  if (r.outcome === 'hang') {
    return { outcome: 'fail', cause: 'DEADLINE_EXCEEDED', message: `The ${job} job did not finish within its execution timeout of ${timeoutMs / 1000}s.`, durationMs: timeoutMs };
  }
  const cause = r.outcome === 'fail' ? (r.detail && causesFor(job).includes(r.detail) ? r.detail : 'EXECUTION_FAILED') : undefined;
  return { outcome: r.outcome, cause, ...(r.message ? { message: r.message } : {}), durationMs: r.durationMs ?? defaultMs };
}
