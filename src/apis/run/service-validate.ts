// What Cloud Run accepts in a service (v1 form, what every write is converted to) and the defaults it fills in.
// Traffic messages follow Knative's wording (`Traffic targets sum to 90, want 100`), which Cloud Run answers with;
// the rest name the field as the v1 object spells it.
import { errors, type FieldViolation } from '../../google/errors.js';
import type { Obj } from './meta.js';
import { checkArgv, checkInt, checkMap, checkName, validateEnv } from './validate.js';

export const SERVICE_NAME = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Cloud Run's bound on a service name (its URLs and revision names need the rest of a 63-character label). */
export const MAX_SERVICE_NAME = 49;
const DNS_LABEL = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
/** Ports the serving sidecars use, which a container may not listen on (Knative's reserved ports). */
const RESERVED_PORTS = new Set([8012, 8013, 8022, 9090, 9091]);
const MAX_CONTAINERS = 10;
export const MAX_TIMEOUT_SECONDS = 3600;
export const DEFAULT_TIMEOUT_SECONDS = 300;
export const DEFAULT_CONCURRENCY = 80;
export const DEFAULT_PORT = 8080;
const MAX_CONCURRENCY = 1000;
/** Cloud Run keeps its own keys under these prefixes; clients send them back on replace, so any is accepted. */
const ANY = { has: () => true };

export interface TrafficTarget { revisionName?: string; latestRevision?: boolean; percent?: number; tag?: string; configurationName?: string; url?: string }

/** Validates a v1 Service (decoded by the schema), throwing INVALID_ARGUMENT with every violation found. */
export function validateService(svc: Obj, urlName: string): void {
  const v: FieldViolation[] = [];
  const meta = (svc.metadata ?? {}) as Obj;
  const name = String(meta.name ?? '');
  checkName(v, 'Service', name, SERVICE_NAME, MAX_SERVICE_NAME);
  if (urlName && name && name !== urlName) v.push({ field: 'metadata.name', description: `metadata.name '${name.slice(0, 100)}' does not match the name in the URL, '${urlName}'.` });
  if (svc.apiVersion !== undefined && svc.apiVersion !== 'serving.knative.dev/v1') v.push({ field: 'apiVersion', description: `apiVersion must be serving.knative.dev/v1, got '${String(svc.apiVersion).slice(0, 100)}'.` });
  if (svc.kind !== undefined && svc.kind !== 'Service') v.push({ field: 'kind', description: `kind must be Service, got '${String(svc.kind).slice(0, 100)}'.` });
  checkMap(meta.labels, 'metadata.labels', ANY, v, true);
  checkMap(meta.annotations, 'metadata.annotations', ANY, v, false);
  const ingress = ((meta.annotations ?? {}) as Obj)['run.googleapis.com/ingress'];
  if (ingress !== undefined && !['all', 'internal', 'internal-and-cloud-load-balancing', 'none'].includes(String(ingress))) {
    v.push({ field: 'metadata.annotations[run.googleapis.com/ingress]', description: `Ingress '${String(ingress).slice(0, 60)}' is invalid: use all, internal or internal-and-cloud-load-balancing.` });
  }
  const spec = (svc.spec ?? {}) as Obj;
  const template = spec.template as Obj | undefined;
  if (!template) v.push({ field: 'spec.template', description: 'spec.template is required.' });
  else validateTemplate(template, name, v);
  validateTraffic((spec.traffic ?? []) as TrafficTarget[], name, v);
  if (v.length) throw errors.invalidFields(v.map(x => `${x.field}: ${x.description}`).join(' '), v);
}

function validateTemplate(template: Obj, service: string, v: FieldViolation[]): void {
  const tmeta = (template.metadata ?? {}) as Obj;
  checkMap(tmeta.labels, 'spec.template.metadata.labels', ANY, v, true);
  checkMap(tmeta.annotations, 'spec.template.metadata.annotations', ANY, v, false);
  const ta = (tmeta.annotations ?? {}) as Obj;
  for (const k of ['autoscaling.knative.dev/minScale', 'autoscaling.knative.dev/maxScale']) {
    if (ta[k] !== undefined && !/^\d{1,4}$/.test(String(ta[k]))) v.push({ field: `spec.template.metadata.annotations[${k}]`, description: `${k} must be a whole number of instances, got '${String(ta[k]).slice(0, 40)}'.` });
  }
  const env = ta['run.googleapis.com/execution-environment'];
  if (env !== undefined && env !== 'gen1' && env !== 'gen2') v.push({ field: 'spec.template.metadata.annotations[run.googleapis.com/execution-environment]', description: `Execution environment '${String(env).slice(0, 40)}' is invalid: use gen1 or gen2.` });
  if (tmeta.name !== undefined && tmeta.name !== '') {
    const rev = String(tmeta.name);
    if (!DNS_LABEL.test(rev) || rev.length > 63) v.push({ field: 'spec.template.metadata.name', description: `Revision name '${rev.slice(0, 100)}' is invalid: it must be a DNS label of at most 63 characters.` });
    else if (service && !rev.startsWith(`${service}-`)) v.push({ field: 'spec.template.metadata.name', description: `Revision name '${rev}' must be prefixed by the service name, '${service}-'.` });
  }
  const spec = template.spec as Obj | undefined;
  if (!spec) { v.push({ field: 'spec.template.spec', description: 'spec.template.spec is required.' }); return; }
  const at = 'spec.template.spec';
  checkInt(spec.containerConcurrency, `${at}.containerConcurrency`, 0, MAX_CONCURRENCY, v);
  checkInt(spec.timeoutSeconds, `${at}.timeoutSeconds`, 1, MAX_TIMEOUT_SECONDS, v);
  const containers = (spec.containers ?? []) as Obj[];
  if (!containers.length) v.push({ field: `${at}.containers`, description: 'A service needs at least one container; none was given.' });
  if (containers.length > MAX_CONTAINERS) v.push({ field: `${at}.containers`, description: `A service may have at most ${MAX_CONTAINERS} containers; ${containers.length} were given.` });
  const withPorts = containers.filter(c => ((c.ports ?? []) as Obj[]).length > 0).length;
  if (containers.length > 1 && withPorts !== 1) v.push({ field: `${at}.containers`, description: `Exactly one container of a multi-container service must have a port (the ingress container); ${withPorts} do.` });
  const volumes = new Set(((spec.volumes ?? []) as Obj[]).map(x => String(x.name ?? '')));
  for (const [i, c] of containers.slice(0, MAX_CONTAINERS).entries()) {
    const f = `${at}.containers[${i}]`;
    if (!c.image) v.push({ field: `${f}.image`, description: 'A container needs an image.' });
    if (c.name !== undefined && c.name !== '' && !DNS_LABEL.test(String(c.name))) v.push({ field: `${f}.name`, description: `Container name '${String(c.name).slice(0, 100)}' must be a DNS label.` });
    checkArgv(c.command, `${f}.command`, v);
    checkArgv(c.args, `${f}.args`, v);
    validateEnv((c.env ?? []) as Obj[], `${f}.env`, v);
    validatePorts((c.ports ?? []) as Obj[], `${f}.ports`, v);
    validateResources(c.resources as Obj | undefined, `${f}.resources`, v);
    for (const [j, m] of ((c.volumeMounts ?? []) as Obj[]).entries()) {
      if (!volumes.has(String(m.name))) v.push({ field: `${f}.volumeMounts[${j}].name`, description: `Volume mount '${String(m.name).slice(0, 100)}' names no volume of the revision.` });
      const p = String(m.mountPath ?? '');
      if (!p.startsWith('/') || p.includes(':') || p.split('/').includes('..')) v.push({ field: `${f}.volumeMounts[${j}].mountPath`, description: `mountPath '${p.slice(0, 100)}' must be an absolute path without ':' or '..'.` });
    }
  }
}

function validatePorts(ports: Obj[], at: string, v: FieldViolation[]): void {
  if (ports.length > 1) v.push({ field: at, description: `More than one container port is set; only one is allowed, got ${ports.length}.` });
  for (const [i, p] of ports.slice(0, 1).entries()) {
    const port = p.containerPort;
    if (port !== undefined && (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535)) {
      v.push({ field: `${at}[${i}].containerPort`, description: `expected 1 <= ${String(port).slice(0, 20)} <= 65535.` });
    } else if (typeof port === 'number' && RESERVED_PORTS.has(port)) {
      v.push({ field: `${at}[${i}].containerPort`, description: `${port} is a reserved port; reserved ports are ${[...RESERVED_PORTS].join(', ')}.` });
    }
    if (p.name !== undefined && p.name !== '' && p.name !== 'http1' && p.name !== 'h2c') v.push({ field: `${at}[${i}].name`, description: `Port name '${String(p.name).slice(0, 40)}' is invalid: it must be "http1" or "h2c".` });
    if (p.protocol !== undefined && p.protocol !== 'TCP') v.push({ field: `${at}[${i}].protocol`, description: `Protocol '${String(p.protocol).slice(0, 40)}' is not supported: only TCP is.` });
  }
}

const UNITS: Record<string, number> = { '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4 };

/** A Kubernetes quantity in bytes (`512Mi`, `1G`), or undefined when it is not one. */
export function bytesOf(q: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(Ki|Mi|Gi|Ti|k|M|G|T)?$/.exec(q);
  return m ? Number(m[1]) * UNITS[m[2] ?? ''] : undefined;
}

/** CPU in cores (`1`, `2`, `1000m`, `0.5`), or undefined when it is not a quantity. */
export function coresOf(q: string): number | undefined {
  const m = /^(\d+(?:\.\d+)?)(m)?$/.exec(q);
  return m ? Number(m[1]) / (m[2] ? 1000 : 1) : undefined;
}

function validateResources(resources: Obj | undefined, at: string, v: FieldViolation[]): void {
  const limits = (resources?.limits ?? {}) as Record<string, unknown>;
  for (const [k, val] of Object.entries(limits)) {
    const q = String(val);
    if (k === 'cpu') {
      const cores = coresOf(q);
      if (cores === undefined || cores < 0.08 || cores > 8 || (cores > 1 && ![2, 4, 6, 8].includes(cores))) {
        v.push({ field: `${at}.limits.cpu`, description: `Invalid value specified for cpu: '${q.slice(0, 40)}'. Allowed values are fractions from 0.08 to 1, or 1, 2, 4, 6 or 8.` });
      }
    } else if (k === 'memory') {
      const bytes = bytesOf(q);
      if (bytes === undefined || bytes < 128 * 1024 ** 2 || bytes > 32 * 1024 ** 3) {
        v.push({ field: `${at}.limits.memory`, description: `Invalid value specified for memory: '${q.slice(0, 40)}'. Memory must be between 128Mi and 32Gi inclusive.` });
      }
    } else if (k !== 'nvidia.com/gpu') {
      v.push({ field: `${at}.limits[${k.slice(0, 60)}]`, description: `Resource '${k.slice(0, 60)}' is not supported: only cpu, memory and nvidia.com/gpu are.` });
    }
  }
  if (resources?.requests !== undefined) {
    for (const k of Object.keys(resources.requests as Obj)) if (k !== 'cpu' && k !== 'memory') v.push({ field: `${at}.requests[${k.slice(0, 60)}]`, description: `Resource '${k.slice(0, 60)}' is not supported.` });
  }
}

/** The traffic rules that need no revision list: one destination each, 0–100 each, a sum of 100, valid distinct tags. */
export function validateTraffic(traffic: TrafficTarget[], service: string, v: FieldViolation[]): void {
  const tags = new Map<string, number>();
  let sum = 0;
  for (const [i, t] of traffic.entries()) {
    const f = `spec.traffic[${i}]`;
    const latest = t.latestRevision === true;
    const named = t.revisionName !== undefined && t.revisionName !== '';
    if (latest && named) v.push({ field: f, description: `expected exactly one, got both: ${f}.latestRevision, ${f}.revisionName` });
    if (!latest && !named) v.push({ field: f, description: `expected exactly one, got neither: ${f}.latestRevision, ${f}.revisionName` });
    if (t.configurationName !== undefined && t.configurationName !== '' && t.configurationName !== service) v.push({ field: `${f}.configurationName`, description: `configurationName must be the service's own, '${service}'.` });
    const p = t.percent ?? 0;
    if (typeof p !== 'number' || !Number.isInteger(p) || p < 0 || p > 100) v.push({ field: `${f}.percent`, description: `expected 0 <= ${String(p).slice(0, 20)} <= 100` });
    else sum += p;
    if (t.tag !== undefined && t.tag !== '') {
      const tag = String(t.tag);
      if (!DNS_LABEL.test(tag) || tag.length > 63 - 3 - service.length) {
        v.push({ field: `${f}.tag`, description: `Tag '${tag.slice(0, 100)}' is invalid: it must be a DNS label (lowercase letters, digits and dashes, starting with a letter) and '${tag.slice(0, 60)}---${service}' at most 63 characters.` });
      }
      if (tags.has(tag)) v.push({ field: `${f}.tag`, description: `Multiple definitions for "${tag.slice(0, 60)}": spec.traffic[${tags.get(tag)}].tag, ${f}.tag` });
      tags.set(tag, i);
    }
  }
  if (traffic.length && sum !== 100) v.push({ field: 'spec.traffic', description: `Traffic targets sum to ${sum}, want 100` });
}

/** What Cloud Run fills in a revision template; idempotent, so a template read back and sent again is unchanged. */
export function applyTemplateDefaults(template: Obj, serviceAccount: string): void {
  const spec = (template.spec ??= {}) as Obj;
  spec.containerConcurrency ??= DEFAULT_CONCURRENCY;
  spec.timeoutSeconds ??= DEFAULT_TIMEOUT_SECONDS;
  spec.serviceAccountName ??= serviceAccount;
  const containers = (spec.containers ?? []) as Obj[];
  for (const c of containers) {
    if (containers.length === 1 && !((c.ports ?? []) as Obj[]).length) c.ports = [{ name: 'http1', containerPort: DEFAULT_PORT }];
    for (const p of (c.ports ?? []) as Obj[]) { p.name ??= 'http1'; p.containerPort ??= DEFAULT_PORT; }
    const limits = (((c.resources ??= {}) as Obj).limits ??= {}) as Record<string, string>;
    limits.cpu ??= '1000m';
    limits.memory ??= '512Mi';
  }
}
