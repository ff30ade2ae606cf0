// Outcome rules set through Gantry's API, each scoped to a resource name prefix (a pipeline, a
// release, a rollout, or "" for everything). Kept in the store, so they survive restarts.
import type { Store } from '../store/store.js';
import { parseOutcomes, type OutcomeRule } from '../apis/clouddeploy/outcomes.js';
import { newUid } from '../google/ids.js';

export interface OutcomeScript { name: string; scope: string; rules: string }

const KIND = 'gantryOutcomeScript';
const PARENT = 'gantry/outcomes';

export class OutcomeScripts {
  constructor(private store: Store) {}

  add(scope: string, rules: string): OutcomeScript {
    parseOutcomes(rules, 'rules');
    const s: OutcomeScript = { name: `${PARENT}/${newUid()}`, scope, rules };
    this.store.tx(w => w.put(KIND, s.name, PARENT, s, new Date().toISOString(), false));
    return s;
  }

  list(): OutcomeScript[] { return this.store.children(KIND, PARENT) as unknown as OutcomeScript[]; }

  delete(name: string): boolean {
    if (!this.store.get(name)) return false;
    this.store.tx(w => w.delete(name));
    return true;
  }

  /** Rule sets whose scope contains `resource`, most specific (longest scope) first. */
  rulesFor(resource: string): OutcomeRule[][] {
    return this.list()
      .filter(s => s.scope === '' || resource === s.scope || resource.startsWith(s.scope + '/'))
      .sort((a, b) => b.scope.length - a.scope.length)
      .map(s => parseOutcomes(s.rules, 'rules'));
  }
}
