// App Hosting's input rules (spec §B3–§B4): ids, display names, build sources, runConfig with its cpu↔memory and
// cpu↔concurrency rules, environment variables. The same runConfig and env rules apply to `apphosting.yaml`.
import { errors } from '../../google/errors.js';

type Obj = Record<string, unknown>;

/** What Cloud Run and App Hosting reserve for themselves. */
const RESERVED_ENV = new Set(['PORT', 'K_SERVICE', 'K_REVISION', 'K_CONFIGURATION']);
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** A backend id as the Firebase console and CLI check it: 3–30 characters, a DNS label. */
const BACKEND_ID = /^[a-z](?:[a-z0-9-]{1,28}[a-z0-9])$/;

/**
 * A backend's environment name, which selects `apphosting.<environment>.yaml`: an id (letters, digits, `-`, `_`,
 * starting with a letter or digit, at most 63), so it names a file beside `apphosting.yaml` and nothing else. Google
 * documents no rule beyond "an environment name": this is Gantry's (docs/fidelity.md).
 */
export const ENVIRONMENT_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,62}$/;

export function checkEnvironmentName(name: unknown, field: string): void {
  if (name === undefined || name === '') return;
  if (typeof name !== 'string' || !ENVIRONMENT_NAME.test(name)) {
    throw errors.invalidArgument(`${field} "${String(name).slice(0, 100)}" is not an environment name: 1 to 63 letters, digits, "-" or "_", starting with a letter or digit`, field);
  }
}

export class RuleError extends Error {
  constructor(message: string, readonly field: string) { super(message); }
}

export function checkBackendId(id: string): void {
  if (!id) throw errors.invalidArgument('backend_id is required', 'backend_id');
  if (!BACKEND_ID.test(id)) {
    throw errors.invalidArgument(`backend_id "${id.slice(0, 100)}" is invalid: it must be 3 to 30 characters, lowercase letters, digits and hyphens, starting with a letter and not ending with a hyphen`, 'backend_id');
  }
}

export function checkDisplayName(r: Obj, field = 'display_name'): void {
  if (typeof r.displayName === 'string' && [...r.displayName].length > 63) {
    throw errors.invalidArgument(`${field} is longer than 63 characters`, field);
  }
}

/**
 * A RunConfig's rules (RunConfig's field docs): cpu 1, 2, 4, 6 or 8, or 0.08 to below 1 in steps of 0.01 (then
 * concurrency 1); memory 128 to 32,768 MiB; more cpu needs more memory and more memory more cpu; concurrency up to
 * 1,000; instances not negative. Throws RuleError naming the field under `at`.
 */
export function checkRunConfig(rc: Obj | undefined, at: string): void {
  if (!rc) return;
  const num = (k: string) => (rc[k] === undefined ? undefined : Number(rc[k]));
  const cpu = num('cpu'), memory = num('memoryMib'), concurrency = num('concurrency');
  const maxInstances = num('maxInstances'), minInstances = num('minInstances');
  if (cpu !== undefined) {
    const fraction = cpu >= 0.08 && cpu < 1 && Math.abs(Math.round(cpu * 100) - cpu * 100) < 1e-6;
    if (![1, 2, 4, 6, 8].includes(cpu) && !fraction) throw new RuleError(`${at}.cpu ${cpu} is invalid: cpu must be 1, 2, 4, 6 or 8, or from 0.08 to less than 1 in increments of 0.01`, `${at}.cpu`);
    if (cpu < 1 && concurrency !== 1) throw new RuleError(`${at}.concurrency must be 1 when cpu is less than 1 (cpu is ${cpu})`, `${at}.concurrency`);
  }
  if (memory !== undefined && (!Number.isInteger(memory) || memory < 128 || memory > 32768)) {
    throw new RuleError(`${at}.memory_mib ${memory} is invalid: memory must be an integer from 128 to 32768 MiB`, `${at}.memory_mib`);
  }
  const c = cpu ?? 1, m = memory ?? 512;
  if (c === 4 && m < 2048) throw new RuleError(`${at}.memory_mib must be at least 2048 MiB with 4 cpu (it is ${m})`, `${at}.memory_mib`);
  if ((c === 6 || c === 8) && m < 4096) throw new RuleError(`${at}.memory_mib must be at least 4096 MiB with ${c} cpu (it is ${m})`, `${at}.memory_mib`);
  for (const [over, need] of [[24576, 8], [16384, 6], [8192, 4], [4096, 2]] as const) {
    if (m > over) {
      if (c < need) throw new RuleError(`${at}.cpu must be at least ${need} with more than ${over / 1024} GiB of memory (cpu is ${c}, memory ${m} MiB)`, `${at}.cpu`);
      break;
    }
  }
  if (concurrency !== undefined && (!Number.isInteger(concurrency) || concurrency < 1 || concurrency > 1000)) {
    throw new RuleError(`${at}.concurrency ${concurrency} is invalid: it must be from 1 to 1000`, `${at}.concurrency`);
  }
  if (maxInstances !== undefined && maxInstances < 0) throw new RuleError(`${at}.max_instances must not be negative`, `${at}.max_instances`);
  if (minInstances !== undefined && minInstances < 0) throw new RuleError(`${at}.min_instances must not be negative`, `${at}.min_instances`);
  if (minInstances !== undefined && maxInstances !== undefined && maxInstances > 0 && minInstances > maxInstances) {
    throw new RuleError(`${at}.min_instances (${minInstances}) must not exceed max_instances (${maxInstances})`, `${at}.min_instances`);
  }
}

/** EnvironmentVariable rules: a valid, unreserved name, once each, with a value or a secret (not both). */
export function checkEnv(env: Obj[] | undefined, at: string): void {
  if (!env) return;
  const seen = new Set<string>();
  env.forEach((e, i) => {
    const where = `${at}[${i}]`;
    const name = typeof e.variable === 'string' ? e.variable : '';
    if (!name) throw new RuleError(`${where}.variable is required`, `${where}.variable`);
    if (!ENV_NAME.test(name)) throw new RuleError(`${where}.variable "${name.slice(0, 100)}" is not a valid environment variable name`, `${where}.variable`);
    if (RESERVED_ENV.has(name)) throw new RuleError(`${where}.variable "${name}" is reserved`, `${where}.variable`);
    if (name.startsWith('X_FIREBASE_')) throw new RuleError(`${where}.variable "${name}" must not start with X_FIREBASE_`, `${where}.variable`);
    if (seen.has(name)) throw new RuleError(`${where}.variable "${name}" is set more than once`, `${where}.variable`);
    seen.add(name);
    const hasValue = e.value !== undefined, hasSecret = e.secret !== undefined;
    if (hasValue === hasSecret) throw new RuleError(`${where} must set exactly one of value and secret`, where);
  });
}

/** A build's source: exactly one variant, with what that variant requires. */
export function checkBuildSource(r: Obj): 'codebase' | 'archive' | 'container' | 'locallyBuilt' {
  const source = r.source as Obj | undefined;
  if (!source) throw errors.invalidArgument('build.source is required', 'build.source');
  const variants = (['codebase', 'archive', 'container', 'locallyBuilt'] as const).filter(k => source[k] !== undefined);
  if (variants.length !== 1) throw errors.invalidArgument(`build.source must set exactly one of codebase, archive and container (it sets ${variants.length ? variants.join(', ') : 'none'})`, 'build.source');
  const kind = variants[0];
  const v = source[kind] as Obj;
  if (kind === 'codebase' && (v.branch === undefined) === (v.commit === undefined)) {
    throw errors.invalidArgument('build.source.codebase must set exactly one of branch and commit', 'build.source.codebase');
  }
  if (kind === 'codebase' && v.commit !== undefined && !/^[0-9a-f]{4,40}$/.test(String(v.commit))) {
    throw errors.invalidArgument(`build.source.codebase.commit "${String(v.commit).slice(0, 100)}" is not a commit hash`, 'build.source.codebase.commit');
  }
  if (kind === 'codebase' && v.branch !== undefined && !validRef(String(v.branch))) {
    throw errors.invalidArgument(`build.source.codebase.branch "${String(v.branch).slice(0, 100)}" is not a branch name`, 'build.source.codebase.branch');
  }
  if (kind === 'container' && !v.image) throw errors.invalidArgument('build.source.container.image is required', 'build.source.container.image');
  if (kind === 'archive' || kind === 'locallyBuilt') {
    const uri = String(v.userStorageUri ?? '');
    if (kind === 'archive' && v.externalSignedUri !== undefined) {
      if (uri) throw errors.invalidArgument('build.source.archive must set one of user_storage_uri and external_signed_uri', 'build.source.archive');
    } else if (!/^gs:\/\/[a-z0-9][a-z0-9._-]{1,221}\/.+/.test(uri)) {
      throw errors.invalidArgument(`build.source.${kind === 'archive' ? 'archive' : 'locally_built'}.user_storage_uri "${uri.slice(0, 200)}" must be a gs:// object URI`, `build.source.${kind === 'archive' ? 'archive' : 'locally_built'}.user_storage_uri`);
    }
    checkRootDirectory(v.rootDirectory, `build.source.${kind === 'archive' ? 'archive' : 'locally_built'}.root_directory`);
  }
  return kind;
}

/** A directory inside the source: relative, no `..`. */
export function checkRootDirectory(dir: unknown, field: string): void {
  if (dir === undefined || dir === '') return;
  const d = String(dir);
  if (d.length > 1024 || d.split('/').some(p => p === '..') || d.includes('\0')) {
    throw errors.invalidArgument(`${field} "${d.slice(0, 200)}" must be a directory inside the source`, field);
  }
}

/** A git branch name (git check-ref-format's rules, enough to keep it from being read as an option). */
export function validRef(ref: string): boolean {
  return ref.length > 0 && ref.length <= 255 && !ref.startsWith('-') && !ref.startsWith('/') && !ref.endsWith('/') && !ref.endsWith('.lock')
    && !/[\0-\x20\x7f~^:?*[\\]|\.\.|@\{|\/\//.test(ref);
}
