// `apphosting.yaml` and `apphosting.<environment>.yaml`: an app's runConfig, environment (values and secrets, each
// available at BUILD, RUNTIME or both) and scripts. The environment's file overrides the base one field by field and
// variable by variable, as App Hosting merges them.
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { yaml } from '../../lazy-deps.js';
import { OutsideError, realInside } from '../../sources/contained.js';
import { checkEnv, checkRunConfig, ENVIRONMENT_NAME, RuleError } from './validate.js';

type Obj = Record<string, unknown>;

export interface AppEnvVar { variable: string; value?: string; secret?: string; availability: ('BUILD' | 'RUNTIME')[]; originFileName: string }

export interface AppHostingConfig {
  runConfig: Obj;
  env: AppEnvVar[];
  scripts: { buildCommand?: string; runCommand?: string };
  /** The files read, in order. */
  files: string[];
}

const MAX_FILE = 256 * 1024;
const RUN_CONFIG_KEYS: Record<string, string> = { cpu: 'cpu', memoryMiB: 'memoryMib', memoryMib: 'memoryMib', concurrency: 'concurrency', maxInstances: 'maxInstances', minInstances: 'minInstances' };

/**
 * Reads the app's configuration from `dir` (a real directory inside `root`, the source); RuleError (naming the file)
 * when a file is malformed, breaks a rule, or leads out of the source. The environment names a file beside
 * `apphosting.yaml` (an id, checked again here for backends stored before the rule).
 */
export function readAppHostingConfig(dir: string, environment: string | undefined, root: string): AppHostingConfig {
  const out: AppHostingConfig = { runConfig: {}, env: [], scripts: {}, files: [] };
  if (environment && !ENVIRONMENT_NAME.test(environment)) throw new RuleError(`the environment "${environment.slice(0, 100)}" is not an environment name`, 'environment');
  const names = ['apphosting.yaml', ...(environment ? [`apphosting.${environment}.yaml`] : [])];
  for (const file of names) {
    let path: string | undefined;
    try { path = realInside(root, join(dir, file)); } catch (e) {
      if (e instanceof OutsideError) throw new RuleError(`${file} cannot be read: ${e.message}`, file);
      throw e;
    }
    if (!path) continue;
    const st = statSync(path);
    if (!st.isFile()) throw new RuleError(`${file} is not a regular file`, file);
    if (st.size > MAX_FILE) throw new RuleError(`${file} is larger than ${MAX_FILE / 1024} KiB`, file);
    let doc: unknown;
    try { doc = yaml().parse(readFileSync(path, 'utf8'), { maxAliasCount: 100 }); } catch (e) {
      throw new RuleError(`${file} is not valid YAML: ${(e as Error).message.split('\n')[0]}`, file);
    }
    if (doc === null || doc === undefined) { out.files.push(file); continue; }
    if (typeof doc !== 'object' || Array.isArray(doc)) throw new RuleError(`${file} must be a mapping`, file);
    merge(out, doc as Obj, file);
    out.files.push(file);
  }
  checkRunConfig(out.runConfig, 'runConfig');
  checkEnv(out.env as unknown as Obj[], 'env');
  return out;
}

function merge(out: AppHostingConfig, doc: Obj, file: string): void {
  const rc = doc.runConfig;
  if (rc !== undefined && rc !== null) {
    if (typeof rc !== 'object' || Array.isArray(rc)) throw new RuleError(`${file}: runConfig must be a mapping`, `${file}.runConfig`);
    for (const [k, v] of Object.entries(rc as Obj)) {
      const key = RUN_CONFIG_KEYS[k];
      if (!key) continue;
      if (typeof v !== 'number') throw new RuleError(`${file}: runConfig.${k} must be a number`, `${file}.runConfig.${k}`);
      out.runConfig[key] = v;
    }
  }
  const env = doc.env;
  if (env !== undefined && env !== null) {
    if (!Array.isArray(env)) throw new RuleError(`${file}: env must be a list`, `${file}.env`);
    env.forEach((e: unknown, i) => {
      if (!e || typeof e !== 'object' || Array.isArray(e)) throw new RuleError(`${file}: env[${i}] must be a mapping`, `${file}.env[${i}]`);
      const item = e as Obj;
      const variable = typeof item.variable === 'string' ? item.variable : '';
      const availability = item.availability === undefined ? ['BUILD', 'RUNTIME'] : item.availability;
      if (!Array.isArray(availability) || availability.some(a => a !== 'BUILD' && a !== 'RUNTIME')) {
        throw new RuleError(`${file}: env[${i}].availability must list BUILD and/or RUNTIME`, `${file}.env[${i}].availability`);
      }
      const scalar = (v: unknown) => (v === undefined || v === null ? undefined : typeof v === 'object' ? undefined : String(v));
      const v: AppEnvVar = { variable, availability: availability as AppEnvVar['availability'], originFileName: file };
      const value = scalar(item.value), secret = scalar(item.secret);
      if (value !== undefined) v.value = value;
      if (secret !== undefined) v.secret = secret;
      const at = out.env.findIndex(x => x.variable === variable);
      if (at >= 0 && out.files.length && !out.files.includes(file)) out.env[at] = v; else out.env.push(v);
    });
  }
  const scripts = doc.scripts;
  if (scripts !== undefined && scripts !== null) {
    if (typeof scripts !== 'object' || Array.isArray(scripts)) throw new RuleError(`${file}: scripts must be a mapping`, `${file}.scripts`);
    for (const k of ['buildCommand', 'runCommand'] as const) {
      const v = (scripts as Obj)[k];
      if (v === undefined || v === null) continue;
      if (typeof v !== 'string' || !v.trim()) throw new RuleError(`${file}: scripts.${k} must be a command`, `${file}.scripts.${k}`);
      out.scripts[k] = v;
    }
  }
}
