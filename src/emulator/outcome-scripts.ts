// Outcome rules set through Gantry's API, each scoped to a resource name prefix (a pipeline, a release, a rollout,
// a Cloud Run job, or "" for everything). Kept in the store, so they survive restarts. Rules are text in the shared
// rule language; each API reads them with its own grammar, and a script must parse in one of them.
import type { Store } from '../store/store.js';
import { parsesInAny, parseRules, type Rule, type RuleGrammar } from '../engine/outcomes.js';
import { newUid } from '../google/ids.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, queryHash } from '../google/paging.js';

export interface OutcomeScript { name: string; scope: string; rules: string }

export const OUTCOME_SCRIPT_KIND = 'gantryOutcomeScript';
const KIND = OUTCOME_SCRIPT_KIND;
export const OUTCOME_SCRIPTS_PARENT = 'gantry/outcomes';
const PARENT = OUTCOME_SCRIPTS_PARENT;

/** Whether a script belongs to the resources under `prefix` (`''`: all), the scope of a reset or a snapshot. */
export function scriptScopedUnder(script: { scope?: unknown }, prefix: string): boolean {
  return String(script.scope ?? '').startsWith(prefix);
}

export class OutcomeScripts {
  private grammars: RuleGrammar[] = [];

  constructor(private store: Store) {}

  /** An API whose work scripts may describe. */
  addGrammar(g: RuleGrammar): void { this.grammars.push(g); }

  add(scope: string, rules: string): OutcomeScript {
    parsesInAny(rules, this.grammars, 'rules');
    const s: OutcomeScript = { name: `${PARENT}/${newUid()}`, scope, rules };
    this.store.tx(w => w.put(KIND, s.name, PARENT, s, new Date().toISOString(), false));
    return s;
  }

  list(): OutcomeScript[] { return this.store.children(KIND, PARENT) as unknown as OutcomeScript[]; }

  /** One page of the scripts, oldest first (AIP-158: the token continues exactly where the page ended). */
  page(limit: number, pageToken: string | undefined): { outcomes: OutcomeScript[]; nextPageToken?: string } {
    const hash = queryHash(KIND, PARENT);
    const res = this.store.list({ kind: KIND, scope: { parent: PARENT }, order: [], after: decodePageToken(pageToken, hash), limit, maxBytes: PAGE_MAX_BYTES });
    return { outcomes: res.rows as unknown as OutcomeScript[], ...(res.more && res.last ? { nextPageToken: encodePageToken(hash, res.last) } : {}) };
  }

  delete(name: string): boolean {
    if (!this.store.get(name)) return false;
    this.store.tx(w => w.delete(name));
    return true;
  }

  /**
   * Rule sets whose scope contains `resource`, most specific (longest scope) first, read with `grammar`; a script
   * written for another API (it does not parse in this grammar) is skipped.
   */
  rulesFor<O extends string>(resource: string, grammar: RuleGrammar<O>): Rule<O>[][] {
    const out: Rule<O>[][] = [];
    for (const s of this.list().filter(s => s.scope === '' || resource === s.scope || resource.startsWith(s.scope + '/')).sort((a, b) => b.scope.length - a.scope.length)) {
      try { out.push(parseRules(s.rules, grammar, 'rules')); } catch { /* another API's rules */ }
    }
    return out;
  }
}
