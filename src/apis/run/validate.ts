// What Cloud Run accepts in a job (spec §A4.5–A4.6) and the defaults it fills in, on the v1 form every write is
// converted to. Messages name the field as the v1 object spells it.
import { errors, type FieldViolation } from '../../google/errors.js';
import { L } from './service.js';
import type { Obj } from './meta.js';

/** DNS-1035 label: what job names are (a job's executions add 6 characters, its tasks `-taskNNNN`). */
export const JOB_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
export const MAX_JOB_NAME = 63;
export const MAX_TASKS = 10_000;
export const MAX_RETRIES = 10;
export const MAX_TIMEOUT_SECONDS = 604_800;
export const DEFAULT_TIMEOUT_SECONDS = '600';
export const DEFAULT_RETRIES = 3;
const MAX_ENV = 1000;
/** Cloud Run's bound on one variable's value (EnvVar.value: "the maximum length is 32768 bytes"). */
export const MAX_ENV_VALUE_BYTES = 32_768;
/** Variables the container runtime contract sets, which a job may not set itself. */
const RESERVED_ENV = /^(CLOUD_RUN_.*|PORT|K_SERVICE|K_REVISION|K_CONFIGURATION|K_.*)$/;
const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/** Annotations a client may set under Cloud Run's own prefixes, per place (everything else there is refused). */
const JOB_ANNOTATIONS = new Set([L.launchStage, 'run.googleapis.com/binary-authorization', 'run.googleapis.com/binary-authorization-breakglass',
  'run.googleapis.com/client-name', 'run.googleapis.com/client-version', 'run.googleapis.com/description']);
const TEMPLATE_ANNOTATIONS = new Set(['run.googleapis.com/cloudsql-instances', 'run.googleapis.com/vpc-access-connector',
  'run.googleapis.com/vpc-access-egress', L.executionEnvironment, 'run.googleapis.com/network-interfaces', 'run.googleapis.com/encryption-key',
  'run.googleapis.com/secrets', 'run.googleapis.com/execution-environment', 'run.googleapis.com/gpu-zonal-redundancy-disabled',
  'run.googleapis.com/client-name', 'run.googleapis.com/client-version']);
/** Labels and annotations the server writes, which clients send back on replace (gcloud's update does). */
const SYSTEM_KEYS = new Set<string>([L.location, L.creator, L.lastModifier, L.operationId, 'run.googleapis.com/lastUpdatedTime',
  'run.googleapis.com/satisfiesPzs']);
const RESTRICTED = /^(run\.googleapis\.com|autoscaling\.knative\.dev|serving\.knative\.dev|cloud\.googleapis\.com)\//;

const LABEL_KEY = /^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u;
const LABEL_VALUE = /^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u;

export function checkMap(map: unknown, field: string, allowed: { has(key: string): boolean }, v: FieldViolation[], labels: boolean): void {
  const m = (map ?? {}) as Record<string, string>;
  const keys = Object.keys(m);
  if (labels && keys.length > 64) v.push({ field, description: `At most 64 labels are allowed, got ${keys.length}.` });
  for (const k of keys) {
    if (RESTRICTED.test(k)) {
      if (!allowed.has(k) && !SYSTEM_KEYS.has(k)) v.push({ field: `${field}[${k}]`, description: `The ${labels ? 'label' : 'annotation'} '${k}' is not allowed here${labels ? '' : ' (Cloud Run does not support it on this resource)'}.` });
      continue;
    }
    if (labels && (!LABEL_KEY.test(k.includes('/') ? k.slice(k.lastIndexOf('/') + 1) : k) || !LABEL_VALUE.test(String(m[k])))) {
      v.push({ field: `${field}[${k.slice(0, 100)}]`, description: `Label '${k.slice(0, 100)}' is invalid: keys must start with a lowercase letter and have at most 63 lowercase letters, digits, '_' and '-'; values at most 63 of those.` });
    }
  }
}

export function checkInt(n: unknown, field: string, min: number, max: number, v: FieldViolation[]): void {
  if (n === undefined) return;
  if (typeof n !== 'number' || n < min || n > max) v.push({ field, description: `${field} must be between ${min} and ${max}, got ${String(n)}.` });
}

/** A resource's `metadata.name`: present, and a DNS label of at most `max` characters (`kind` names it in the message). */
export function checkName(v: FieldViolation[], kind: string, name: string, pattern: RegExp, max: number): void {
  if (!name) v.push({ field: 'metadata.name', description: 'metadata.name is required.' });
  else if (!pattern.test(name) || name.length > max) {
    v.push({ field: 'metadata.name', description: `${kind} name '${name.slice(0, 100)}' is invalid: it must use only lowercase alphanumeric characters and dashes, cannot begin or end with a dash, and cannot be longer than ${max} characters.` });
  }
}

export interface JobCheck { name: string; namespace: string }

/** Validates a v1 Job (decoded by the schema), throwing INVALID_ARGUMENT with every violation found. */
export function validateJob(job: Obj, where: JobCheck): void {
  const v: FieldViolation[] = [];
  const meta = (job.metadata ?? {}) as Obj;
  const name = String(meta.name ?? '');
  checkName(v, 'Job', name, JOB_NAME, MAX_JOB_NAME);
  if (job.apiVersion !== undefined && job.apiVersion !== 'run.googleapis.com/v1') v.push({ field: 'apiVersion', description: `apiVersion must be run.googleapis.com/v1, got '${String(job.apiVersion).slice(0, 100)}'.` });
  if (job.kind !== undefined && job.kind !== 'Job') v.push({ field: 'kind', description: `kind must be Job, got '${String(job.kind).slice(0, 100)}'.` });
  checkMap(meta.labels, 'metadata.labels', new Set(), v, true);
  checkMap(meta.annotations, 'metadata.annotations', JOB_ANNOTATIONS, v, false);
  const spec = (job.spec ?? {}) as Obj;
  if (spec.startExecutionToken !== undefined && spec.runExecutionToken !== undefined) {
    v.push({ field: 'spec', description: 'Only one of spec.startExecutionToken and spec.runExecutionToken may be set.' });
  }
  for (const f of ['startExecutionToken', 'runExecutionToken'] as const) {
    const t = spec[f];
    if (t === undefined) continue;
    const token = String(t);
    if (name.length + token.length >= 63) v.push({ field: `spec.${f}`, description: `The sum of the job name and ${f} lengths must be fewer than 63 characters.` });
    else if (!JOB_NAME.test(`${name}-${token}`)) v.push({ field: `spec.${f}`, description: `${f} '${token.slice(0, 100)}' is invalid: the execution name '${name}-${token.slice(0, 60)}' must be a DNS label (lowercase letters, digits and dashes).` });
  }
  const template = spec.template as Obj | undefined;
  if (!template) v.push({ field: 'spec.template', description: 'spec.template is required.' });
  const tmeta = (template?.metadata ?? {}) as Obj;
  checkMap(tmeta.labels, 'spec.template.metadata.labels', new Set(), v, true);
  checkMap(tmeta.annotations, 'spec.template.metadata.annotations', TEMPLATE_ANNOTATIONS, v, false);
  const exec = template?.spec as Obj | undefined;
  if (template && !exec) v.push({ field: 'spec.template.spec', description: 'spec.template.spec is required.' });
  if (exec) {
    checkInt(exec.taskCount, 'spec.template.spec.taskCount', 1, MAX_TASKS, v);
    checkInt(exec.parallelism, 'spec.template.spec.parallelism', 0, MAX_TASKS, v);
    if (typeof exec.parallelism === 'number' && typeof exec.taskCount === 'number' && exec.parallelism > exec.taskCount) {
      v.push({ field: 'spec.template.spec.parallelism', description: `parallelism (${exec.parallelism}) must be at most taskCount (${exec.taskCount}).` });
    }
    const task = ((exec.template ?? {}) as Obj).spec as Obj | undefined;
    validateTaskSpec(task, 'spec.template.spec.template.spec', v);
  }
  if (where.name && name && name !== where.name) v.push({ field: 'metadata.name', description: `metadata.name '${name}' does not match the name in the URL, '${where.name}'.` });
  if (v.length) throw errors.invalidFields(v.map(x => x.description).join(' '), v);
}

function validateTaskSpec(task: Obj | undefined, at: string, v: FieldViolation[]): void {
  const containers = (task?.containers ?? []) as Obj[];
  if (!containers.length) { v.push({ field: `${at}.containers`, description: 'A job needs exactly one container; none was given.' }); return; }
  if (containers.length > 1) v.push({ field: `${at}.containers`, description: `A job needs exactly one container; ${containers.length} were given.` });
  checkInt(task!.maxRetries, `${at}.maxRetries`, 0, MAX_RETRIES, v);
  if (task!.timeoutSeconds !== undefined) {
    const t = String(task!.timeoutSeconds);
    if (!/^\d+$/.test(t) || Number(t) < 1 || Number(t) > MAX_TIMEOUT_SECONDS) {
      v.push({ field: `${at}.timeoutSeconds`, description: `timeoutSeconds must be a whole number of seconds between 1 and ${MAX_TIMEOUT_SECONDS}, got '${t.slice(0, 40)}'.` });
    }
  }
  const volumes = new Set(((task!.volumes ?? []) as Obj[]).map(x => String(x.name ?? '')));
  for (const [i, vol] of ((task!.volumes ?? []) as Obj[]).entries()) {
    const f = `${at}.volumes[${i}]`;
    if (!vol.name) v.push({ field: `${f}.name`, description: 'A volume needs a name.' });
    if (vol.name === 'cloudsql') v.push({ field: `${f}.name`, description: 'The volume name "cloudsql" is reserved.' });
    const kinds = ['secret', 'emptyDir', 'csi', 'nfs', 'configMap'].filter(k => vol[k] !== undefined);
    if (kinds.length !== 1) v.push({ field: f, description: `A volume must have exactly one source (secret, emptyDir, csi or nfs), got ${kinds.length ? kinds.join(', ') : 'none'}.` });
    if (vol.secret && !(vol.secret as Obj).secretName) v.push({ field: `${f}.secret.secretName`, description: 'A secret volume needs secretName.' });
  }
  for (const [i, c] of containers.entries()) {
    const f = `${at}.containers[${i}]`;
    if (!c.image) v.push({ field: `${f}.image`, description: 'A container needs an image.' });
    if (c.name !== undefined && !/^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/.test(String(c.name))) v.push({ field: `${f}.name`, description: `Container name '${String(c.name).slice(0, 100)}' must be a DNS label.` });
    for (const unsupported of ['envFrom', 'securityContext'] as const) {
      if (c[unsupported] !== undefined) v.push({ field: `${f}.${unsupported}`, description: `${unsupported} is not supported by Cloud Run.` });
    }
    checkArgv(c.command, `${f}.command`, v);
    checkArgv(c.args, `${f}.args`, v);
    validateEnv((c.env ?? []) as Obj[], `${f}.env`, v);
    for (const [j, m] of ((c.volumeMounts ?? []) as Obj[]).entries()) {
      if (!volumes.has(String(m.name))) v.push({ field: `${f}.volumeMounts[${j}].name`, description: `Volume mount '${String(m.name).slice(0, 100)}' names no volume of the task.` });
      const p = String(m.mountPath ?? '');
      if (!p.startsWith('/') || p.includes(':') || p.split('/').includes('..')) v.push({ field: `${f}.volumeMounts[${j}].mountPath`, description: `mountPath '${p.slice(0, 100)}' must be an absolute path without ':' or '..'.` });
    }
  }
}

/** A command line passes to the process as C strings: a NUL would end an argument, so none may hold one. */
export function checkArgv(list: unknown, at: string, v: FieldViolation[]): void {
  if (!Array.isArray(list)) return;
  for (const [i, x] of list.entries()) {
    if (typeof x === 'string' && x.includes('\0')) v.push({ field: `${at}[${i}]`, description: `${at.slice(at.lastIndexOf('.') + 1)}[${i}] contains a NUL character, which no command line can hold.` });
  }
}

/** Env vars of a container (or of run overrides): names, reserved names, value xor valueFrom, secrets named once. */
export function validateEnv(env: Obj[], at: string, v: FieldViolation[]): void {
  if (env.length > MAX_ENV) v.push({ field: at, description: `At most ${MAX_ENV} environment variables are allowed, got ${env.length}.` });
  const secretNames = new Set<string>();
  for (const [i, e] of env.slice(0, MAX_ENV).entries()) {
    const name = String(e.name ?? '');
    if (!name) { v.push({ field: `${at}[${i}].name`, description: 'An environment variable needs a name.' }); continue; }
    if (!ENV_NAME.test(name) || name.length > 4096) v.push({ field: `${at}[${i}].name`, description: `Environment variable name '${name.slice(0, 100)}' is invalid: use letters, digits, '_', '-' and '.', not starting with a digit.` });
    if (RESERVED_ENV.test(name)) v.push({ field: `${at}[${i}].name`, description: `The following reserved env names were provided: ${name}. These values are automatically set by the system.` });
    if (e.value !== undefined && e.valueFrom !== undefined) v.push({ field: `${at}[${i}]`, description: `Environment variable '${name}' sets both value and valueFrom.` });
    if (typeof e.value === 'string') {
      // No process environment can hold a NUL (it ends the string), and Cloud Run bounds each value.
      if (e.value.includes('\0')) v.push({ field: `${at}[${i}].value`, description: `The value of environment variable '${name.slice(0, 100)}' contains a NUL character, which no environment can hold.` });
      const bytes = Buffer.byteLength(e.value);
      if (bytes > MAX_ENV_VALUE_BYTES) v.push({ field: `${at}[${i}].value`, description: `The value of environment variable '${name.slice(0, 100)}' is ${bytes} bytes; at most ${MAX_ENV_VALUE_BYTES} are allowed.` });
    }
    const ref = ((e.valueFrom ?? {}) as Obj).secretKeyRef as Obj | undefined;
    if (e.valueFrom !== undefined && !ref) v.push({ field: `${at}[${i}].valueFrom`, description: 'valueFrom needs secretKeyRef (configMapKeyRef is not supported by Cloud Run).' });
    if (ref) {
      if (!ref.name && !((ref.localObjectReference ?? {}) as Obj).name) v.push({ field: `${at}[${i}].valueFrom.secretKeyRef.name`, description: 'secretKeyRef needs the secret name.' });
      if (!ref.key) v.push({ field: `${at}[${i}].valueFrom.secretKeyRef.key`, description: 'secretKeyRef needs the secret version (key), e.g. latest.' });
      if (secretNames.has(name)) v.push({ field: `${at}[${i}].name`, description: `Environment variable '${name}' is set from a secret more than once.` });
      secretNames.add(name);
    }
  }
}

/** Fills what Cloud Run fills on create/replace; what reads return. */
export function applyJobDefaults(job: Obj, serviceAccount: string): void {
  const spec = job.spec as Obj;
  const template = spec.template as Obj;
  const tmeta = (template.metadata ??= {}) as Obj;
  const annotations = (tmeta.annotations ??= {}) as Record<string, string>;
  annotations[L.executionEnvironment] ??= 'gen2';
  const exec = template.spec as Obj;
  exec.taskCount ??= 1;
  const taskTemplate = (exec.template ??= {}) as Obj;
  const task = (taskTemplate.spec ??= {}) as Obj;
  task.maxRetries ??= DEFAULT_RETRIES;
  task.timeoutSeconds ??= DEFAULT_TIMEOUT_SECONDS;
  task.timeoutSeconds = String(task.timeoutSeconds);
  task.serviceAccountName ??= serviceAccount;
  for (const c of (task.containers ?? []) as Obj[]) {
    const resources = (c.resources ??= {}) as Obj;
    const limits = (resources.limits ??= {}) as Record<string, string>;
    limits.cpu ??= '1000m';
    limits.memory ??= '512Mi';
  }
}
