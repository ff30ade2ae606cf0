// Scripted outcomes for simulated work, one rule language for every API. A rule matches work by a path of
// selectors (Cloud Deploy: `<phase>/<job>`; Cloud Run: `<task index>`; `*` matches anything) and says what it does:
//   <selector>[/<selector>…]=<outcome>[:<detail>]["message"][@N][~DURATION]
// A failure's `"message"` (a JSON string) is what the failed work reports.
// `@N` limits the rule to the first N attempts (later attempts fall through to later rules), `~DURATION` is how
// long the work takes ("30s", "10m", "1h30m"). Each API declares its grammar: selectors, outcomes and details.
import { errors } from '../google/errors.js';
import { parseFlexibleDurationMs } from '../google/time.js';

export interface RuleGrammar<O extends string = string> {
  /** How the selector part reads, for messages: `<phase|*>/<job|*>`. */
  shape: string;
  example: string;
  selectors: { pattern: RegExp; check?(value: string): string | undefined }[];
  outcomes: readonly O[];
  /** Checks an outcome's `:detail` (absent when none was given); returns what is wrong, or undefined. */
  detail?(outcome: O, detail: string | undefined, selectors: string[]): string | undefined;
}

export interface Rule<O extends string = string> {
  match: string[];
  outcome: O;
  detail?: string;
  attempts?: number;
  durationMs?: number;
  /** What a failure says, when the rule gives it. */
  message?: string;
}

const MAX_RULES = 200;
const MAX_MESSAGE = 500;

/** Rules split on `;`, `,` and newlines outside quoted messages. */
function splitRules(text: string): string[] {
  const out: string[] = [];
  let cur = '', quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted && c === '\\') { cur += c + (text[++i] ?? ''); continue; }
    if (c === '"') quoted = !quoted;
    if (!quoted && (c === ';' || c === ',' || c === '\n')) { out.push(cur); cur = ''; } else cur += c;
  }
  out.push(cur);
  return out.map(x => x.trim()).filter(Boolean);
}

export function parseRules<O extends string>(text: string, g: RuleGrammar<O>, field: string): Rule<O>[] {
  const rules: Rule<O>[] = [];
  const parts = splitRules(text);
  if (parts.length > MAX_RULES) throw errors.invalidArgument(`At most ${MAX_RULES} outcome rules are allowed, got ${parts.length}.`, field);
  for (const part of parts) {
    const usage = `expected ${g.shape}=<${g.outcomes.join('|')}>[:DETAIL]["MESSAGE"][@N][~DURATION], e.g. ${g.example}`;
    const m = /^([^=]+)=([a-z]+)(?::([A-Za-z0-9_]+))?("(?:[^"\\]|\\.)*")?((?:@\d+|~[0-9.hms]+)*)$/.exec(part);
    if (!m) throw errors.invalidArgument(`Outcome rule "${part.slice(0, 200)}" is invalid: ${usage}.`, field);
    const [, sel, outcome, detail, quotedMessage, modifiers] = m;
    let message: string | undefined;
    if (quotedMessage !== undefined) {
      try { message = JSON.parse(quotedMessage) as string; } catch { throw errors.invalidArgument(`Outcome rule "${part.slice(0, 200)}": the message must be a JSON string.`, field); }
      if (outcome !== 'fail') throw errors.invalidArgument(`Outcome rule "${part.slice(0, 200)}": only fail takes a message.`, field);
      if (!message || message.length > MAX_MESSAGE || /[\x00-\x1f]/.test(message)) throw errors.invalidArgument(`Outcome rule "${part.slice(0, 200)}": the message must be 1 to ${MAX_MESSAGE} printable characters.`, field);
    }
    const match = sel.split('/');
    if (match.length !== g.selectors.length || match.some((s, i) => s !== '*' && !g.selectors[i].pattern.test(s))) {
      throw errors.invalidArgument(`Outcome rule "${part}" is invalid: ${usage}.`, field);
    }
    for (const [i, s] of match.entries()) {
      const why = s === '*' ? undefined : g.selectors[i].check?.(s);
      if (why) throw errors.invalidArgument(`Outcome rule "${part}": ${why}`, field);
    }
    if (!(g.outcomes as readonly string[]).includes(outcome)) throw errors.invalidArgument(`Outcome rule "${part}": the outcome must be one of ${g.outcomes.join(', ')}.`, field);
    if ((modifiers.match(/@/g)?.length ?? 0) > 1 || (modifiers.match(/~/g)?.length ?? 0) > 1) {
      throw errors.invalidArgument(`Outcome rule "${part}": give @N and ~DURATION at most once each.`, field);
    }
    const why = g.detail?.(outcome as O, detail, match);
    if (why) throw errors.invalidArgument(`Outcome rule "${part}": ${why}`, field);
    const attempts = /@(\d+)/.exec(modifiers)?.[1];
    const duration = /~([0-9.hms]+)/.exec(modifiers)?.[1];
    const durationMs = duration === undefined ? undefined : parseFlexibleDurationMs(duration);
    if (duration !== undefined && durationMs === undefined) throw errors.invalidArgument(`Outcome rule "${part}": "${duration}" is not a duration.`, field);
    rules.push({ match, outcome: outcome as O, detail, attempts: attempts === undefined ? undefined : Number(attempts), durationMs, ...(message ? { message } : {}) });
  }
  return rules;
}

/** The first rule, across rule sets in priority order, that matches `values` on attempt `attempt` (1-based). */
export function pickRule<O extends string>(ruleSets: Rule<O>[][], values: string[], attempt: number): Rule<O> | undefined {
  for (const rules of ruleSets) {
    for (const r of rules) {
      if (r.match.some((s, i) => s !== '*' && s !== values[i])) continue;
      if (r.attempts !== undefined && attempt > r.attempts) continue;
      return r;
    }
  }
  return undefined;
}

/** Whether `text` parses in one of `grammars` (scripts set through Gantry's API may be for any API). */
export function parsesInAny(text: string, grammars: RuleGrammar[], field: string): void {
  let first: unknown;
  for (const g of grammars) {
    try { parseRules(text, g, field); return; } catch (e) { first ??= e; }
  }
  throw first;
}
