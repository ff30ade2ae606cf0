// Profile activation and application, after Skaffold's pkg/skaffold/schema/profiles.go:
//   - auto-activation (`activation` entries: env, kubeContext, command; all of one entry must hold, and any entry
//     activates the profile unless `requiresAllActivations`), then the profiles named by the caller in order;
//     a name prefixed with `-` deactivates; names a config does not define are skipped here (the caller checks
//     that every requested name exists in *some* config, which is Skaffold's rule);
//   - each profile overlays the config field by field (overlayProfileField), then its `patches` run on the result;
//   - the `profiles` section is dropped, as in every run mode that merges profiles (render included).
import { applyPatch, type PatchOp } from './patch.js';
import { PIPELINE_SHAPE, isObj, type Member, type Obj, type Shape } from './schema.js';

export interface ActivationContext {
  /** The Skaffold command being emulated (`render` for Cloud Deploy). */
  command: string;
  /** The kube-context Skaffold would see; Cloud Deploy's render has none. */
  kubeContext: string;
  /** Environment that `activation.env` is evaluated against (never Gantry's own). */
  env: Record<string, string | undefined>;
  /** `--profile-auto-activation` (default true in Skaffold). */
  autoActivation: boolean;
}

/** Applies the active profiles to `config` in place; returns their names in application order. */
export function applyProfiles(config: Obj, named: string[], ctx: ActivationContext): string[] {
  const profiles = (Array.isArray(config.profiles) ? config.profiles : []).filter(isObj);
  // Skaffold builds a name → profile map, so the last of two same-named profiles wins.
  const byName = new Map<string, Obj>(profiles.map(p => [String(p.name ?? ''), p]));
  let activated: string[] = [];
  if (ctx.autoActivation) {
    for (const p of profiles) {
      try {
        if (isActivated(p, ctx)) activated.push(String(p.name ?? ''));
      } catch (e) {
        throw new Error(`finding auto-activated profiles: ${(e as Error).message}`);
      }
    }
  }
  for (const name of named) {
    if (name.startsWith('-')) activated = activated.filter(a => a !== name.slice(1));
    else if (byName.has(name) && !activated.includes(name)) activated.push(name);
  }
  for (const name of activated) {
    try {
      applyProfile(config, byName.get(name)!);
    } catch (e) {
      throw new Error(`applying profile "${name}": ${(e as Error).message}`);
    }
  }
  delete config.profiles;
  return activated;
}

function isActivated(p: Obj, ctx: ActivationContext): boolean {
  const conds = (Array.isArray(p.activation) ? p.activation : []).filter(isObj);
  if (p.requiresAllActivations === true) return conds.length > 0 && conds.every(c => triggered(c, ctx));
  return conds.some(c => triggered(c, ctx));
}

function triggered(cond: Obj, ctx: ActivationContext): boolean {
  const command = str(cond.command), env = str(cond.env), kubeContext = str(cond.kubeContext);
  const commandOk = command === '' || regexEqual(command, ctx.command);
  let envOk = true;
  if (env !== '') {
    const eq = env.indexOf('=');
    if (eq < 0) throw new Error(`invalid env variable format: ${env}, should be KEY=VALUE`);
    const key = env.slice(0, eq), value = env.slice(eq + 1);
    const actual = ctx.env[key] ?? '';
    // Skaffold: an empty expected value means "unset or empty", not "matches anything".
    envOk = value === '' ? actual === '' : regexEqual(value, actual);
  }
  const kubeOk = kubeContext === '' || regexEqual(kubeContext, ctx.kubeContext);
  return commandOk && envOk && kubeOk;
}

/** Skaffold's util.RegexEqual: `!` negates; exact match or unanchored regexp match; a bad regexp never matches. */
export function regexEqual(expected: string, actual: string): boolean {
  if (expected.startsWith('!')) return !regexMatch(expected.slice(1), actual);
  return regexMatch(expected, actual);
}

function regexMatch(expected: string, actual: string): boolean {
  if (expected === actual) return true;
  try { return new RegExp(expected).test(actual); } catch { return false; }
}

function applyProfile(config: Obj, profile: Obj) {
  overlayMembers(PIPELINE_SHAPE, config, profile, config);
  const patches = Array.isArray(profile.patches) ? profile.patches : [];
  for (const p of patches) applyPatch(config, (isObj(p) ? p : {}) as PatchOp);
}

/** Go's zero values: what an unset scalar looks like after yaml decoding into a struct. */
function isZero(v: unknown): boolean {
  return v === undefined || v === null || v === '' || v === 0 || v === false;
}

function overlayMembers(members: Member[], cfg: Obj, prof: Obj, out: Obj) {
  for (const m of members) {
    if ('inline' in m) {
      if (m.inline.kind === 'oneOf') overlayInlineOneOf(m.inline.keys, prof, out);
      else if (m.inline.kind === 'struct') overlayMembers(m.inline.members, cfg, prof, out);
      continue;
    }
    const merged = overlay(m.shape, cfg[m.key], prof[m.key]);
    if (merged === undefined) delete out[m.key];
    else out[m.key] = merged;
  }
}

function overlayInlineOneOf(keys: string[], prof: Obj, out: Obj) {
  const chosen = keys.find(k => prof[k] !== undefined && prof[k] !== null);
  if (chosen === undefined) return;
  for (const k of keys) delete out[k];
  out[chosen] = structuredClone(prof[chosen]);
}

function overlay(shape: Shape, cfg: unknown, prof: unknown): unknown {
  switch (shape.kind) {
    case 'struct': {
      if (!isObj(prof)) return cfg;
      const base: Obj = isObj(cfg) ? { ...cfg } : {};
      overlayMembers(shape.members, isObj(cfg) ? cfg : {}, prof, base);
      return Object.keys(base).length === 0 && cfg === undefined ? undefined : base;
    }
    case 'oneOf': {
      if (!isObj(prof)) return cfg;
      const chosen = shape.keys.find(k => prof[k] !== undefined && prof[k] !== null);
      return chosen === undefined ? cfg : { [chosen]: structuredClone(prof[chosen]) };
    }
    // Profile values are copied: later patches edit the config in place.
    case 'slice': return Array.isArray(prof) && prof.length > 0 ? structuredClone(prof) : cfg;
    case 'ptr': return prof === undefined || prof === null ? cfg : structuredClone(prof);
    case 'scalar': return isZero(prof) ? cfg : prof;
  }
}

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
