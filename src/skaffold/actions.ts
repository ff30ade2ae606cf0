// Custom actions and verify tests across configs, with the checks Skaffold makes before any command runs
// (pkg/skaffold/schema/validation/validation.go: validateVerifyTests, validateCustomActionsNames,
// validateCustomActionsLists, validateCustomActionsExecModes): names unique across all configs, container names
// unique, every action has containers, at most one execution mode. Skaffold fails the command on any of these;
// so do we, with its messages joined as it joins them.
import { SkaffoldError } from './errors.js';
import type { ResolvedConfig } from './load.js';
import { isObj, type Obj } from './schema.js';

const list = (v: unknown): Obj[] => (Array.isArray(v) ? v.filter(isObj) : []);

function verifyProblems(configs: ResolvedConfig[]): string[] {
  const errs: string[] = [];
  const names = new Set<string>(), containers = new Set<string>();
  for (const tc of configs.flatMap(c => list(c.config.verify))) {
    const name = String(tc.name ?? '');
    const cname = isObj(tc.container) ? String(tc.container.name ?? '') : '';
    if (names.has(name)) errs.push(`found duplicate test name '${name}' in 'verify' test cases. 'verify' test case names must be unique`);
    if (containers.has(cname)) errs.push(`found duplicate container name '${cname}' in 'verify' test cases. 'verify' container names must be unique`);
    names.add(name); containers.add(cname);
  }
  return errs;
}

function actionProblems(configs: ResolvedConfig[]): string[] {
  const errs: string[] = [];
  const actions = configs.flatMap(c => list(c.config.customActions));
  for (const a of actions) {
    if (list(a.containers).length === 0) errs.push(`custom action ${String(a.name ?? '')} doesn't have containers. custom actions must have one or more containers associated`);
  }
  const names = new Set<string>(), containers = new Set<string>();
  for (const a of actions) {
    const name = String(a.name ?? '');
    if (names.has(name)) errs.push(`found duplicate custom action ${name}. Custom action names must be unique`);
    for (const c of list(a.containers)) {
      const cname = String(c.name ?? '');
      if (containers.has(cname)) errs.push(`found duplicate container name ${cname} in custom action. Container names must be unique`);
      containers.add(cname);
    }
    names.add(name);
  }
  for (const a of actions) {
    const mode = isObj(a.executionMode) ? a.executionMode : {};
    if (mode.kubernetesCluster != null && mode.local != null) {
      errs.push(`custom action ${String(a.name ?? '')} have more than one execution mode defined. custom actions must have only one execution mode`);
    }
  }
  return errs;
}

function fail(errs: string[]) {
  if (errs.length > 0) throw new SkaffoldError(`invalid skaffold config: ${errs.join(' \n ')}`, 'INVALID_CONFIG');
}

/** validation.ProcessWithRunContext's verify and custom action checks. */
export function validateRunContext(configs: ResolvedConfig[]): void {
  fail([...verifyProblems(configs), ...actionProblems(configs)]);
}

export interface MergeOptions {
  /** Keep the first of same-named entries instead of failing as Skaffold does. */
  allowDuplicates?: boolean;
}

/** Custom actions across configs: name → containers (earlier configs first; duplicates fail unless allowed). */
export function customActionsOf(configs: ResolvedConfig[], opts: MergeOptions = {}): Map<string, Record<string, unknown>[]> {
  if (!opts.allowDuplicates) fail(actionProblems(configs));
  const out = new Map<string, Record<string, unknown>[]>();
  for (const a of configs.flatMap(c => list(c.config.customActions))) {
    const name = String(a.name ?? '');
    if (!out.has(name)) out.set(name, list(a.containers));
  }
  return out;
}

/** Verify tests across configs, in config order (duplicates fail unless allowed). */
export function verifyOf(configs: ResolvedConfig[], opts: MergeOptions = {}): { name: string; container: Record<string, unknown> }[] {
  if (!opts.allowDuplicates) fail(verifyProblems(configs));
  const seen = new Set<string>();
  const out: { name: string; container: Record<string, unknown> }[] = [];
  for (const tc of configs.flatMap(c => list(c.config.verify))) {
    const name = String(tc.name ?? '');
    if (seen.has(name)) continue;
    seen.add(name);
    out.push({ name, container: isObj(tc.container) ? tc.container : {} });
  }
  return out;
}
