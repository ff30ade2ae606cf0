// The v2 view of stored (v1-form, Knative) services and revisions, and v2 input in v1 form. Names in answers use the
// project as the request named it; revisions are named under their service.
import { errors, type FieldViolation } from '../../google/errors.js';
import { parseDurationMs } from '../../google/time.js';
import { L } from './service.js';
import type { Condition, Obj } from './meta.js';
import { etag, SYSTEM, updateTime, userOnly, v1Container, v1Volume, v2Condition, v2Container, v2Volume, type V2Names } from './v2-convert.js';
import { secretAliases } from './secret-aliases.js';
import { K } from './revisions.js';
import { addressOf } from './services.js';
import { primaryUrl, serviceUrls, tagUrl } from './service-urls.js';
import type { TrafficTarget } from './service-validate.js';

const LATEST = 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST';
const REVISION = 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION';
const INGRESS: Record<string, string> = { all: 'INGRESS_TRAFFIC_ALL', internal: 'INGRESS_TRAFFIC_INTERNAL_ONLY', 'internal-and-cloud-load-balancing': 'INGRESS_TRAFFIC_INTERNAL_LOAD_BALANCER', none: 'INGRESS_TRAFFIC_NONE' };
const MIN_SCALE = 'autoscaling.knative.dev/minScale';
const MAX_SCALE = 'autoscaling.knative.dev/maxScale';
const EXEC_ENV = 'run.googleapis.com/execution-environment';
const SESSION_AFFINITY = 'run.googleapis.com/sessionAffinity';

export function serviceName(n: V2Names, id: string): string { return `projects/${n.project}/locations/${n.region}/services/${id}`; }

/** The fields a v1 RevisionSpec (with its template or revision metadata) shows in v2. */
function v2RevisionFields(spec: Obj, annotations: Obj): Obj {
  const aliases = secretAliases(annotations);
  const scaling: Obj = {};
  if (annotations[MIN_SCALE] !== undefined) scaling.minInstanceCount = Number(annotations[MIN_SCALE]);
  if (annotations[MAX_SCALE] !== undefined) scaling.maxInstanceCount = Number(annotations[MAX_SCALE]);
  return {
    ...(Object.keys(scaling).length ? { scaling } : {}),
    ...(spec.timeoutSeconds !== undefined ? { timeout: `${String(spec.timeoutSeconds)}s` } : {}),
    ...(spec.serviceAccountName ? { serviceAccount: spec.serviceAccountName } : {}),
    containers: ((spec.containers ?? []) as Obj[]).map(c => v2Container(c, aliases)),
    ...(spec.volumes ? { volumes: (spec.volumes as Obj[]).map(v => v2Volume(v, aliases)) } : {}),
    ...(annotations[EXEC_ENV] ? { executionEnvironment: annotations[EXEC_ENV] === 'gen1' ? 'EXECUTION_ENVIRONMENT_GEN1' : 'EXECUTION_ENVIRONMENT_GEN2' } : {}),
    ...(spec.containerConcurrency !== undefined ? { maxInstanceRequestConcurrency: spec.containerConcurrency } : {}),
    ...(annotations[SESSION_AFFINITY] === 'true' ? { sessionAffinity: true } : {}),
  };
}

function v2Traffic(t: TrafficTarget): Obj {
  return { type: t.latestRevision ? LATEST : REVISION, ...(t.revisionName && !t.latestRevision ? { revision: t.revisionName } : {}), ...(t.percent ? { percent: t.percent } : {}), ...(t.tag ? { tag: t.tag } : {}) };
}

export function v2Service(svc: Obj, n: V2Names): Obj {
  const meta = svc.metadata as Obj;
  const annotations = (meta.annotations ?? {}) as Obj;
  const spec = (svc.spec ?? {}) as Obj;
  const template = (spec.template ?? {}) as Obj;
  const tmeta = (template.metadata ?? {}) as Obj;
  const status = (svc.status ?? {}) as Obj;
  const conditions = (status.conditions ?? []) as Condition[];
  const ready = conditions.find(c => c.type === 'Ready');
  const name = serviceName(n, String(meta.name));
  const address = addressOf(svc);
  const out: Obj = {
    name, uid: meta.uid, generation: String(meta.generation ?? 1),
    ...(userOnly(meta.labels) ? { labels: userOnly(meta.labels) } : {}),
    ...(userOnly(meta.annotations) ? { annotations: userOnly(meta.annotations) } : {}),
    createTime: meta.creationTimestamp, updateTime: updateTime(meta),
    creator: annotations[K.creator], lastModifier: annotations[K.lastModifier],
    ...(annotations['run.googleapis.com/client-name'] ? { client: annotations['run.googleapis.com/client-name'] } : {}),
    ...(annotations['run.googleapis.com/description'] ? { description: annotations['run.googleapis.com/description'] } : {}),
    ingress: INGRESS[String(annotations['run.googleapis.com/ingress'] ?? 'all')] ?? 'INGRESS_TRAFFIC_ALL',
    launchStage: String(annotations[L.launchStage] ?? 'GA'),
    template: {
      ...(tmeta.name ? { revision: tmeta.name } : {}),
      ...(userOnly(tmeta.labels) ? { labels: userOnly(tmeta.labels) } : {}),
      ...(userOnly(tmeta.annotations) ? { annotations: userOnly(tmeta.annotations) } : {}),
      ...v2RevisionFields((template.spec ?? {}) as Obj, (tmeta.annotations ?? {}) as Obj),
    },
    traffic: ((spec.traffic ?? []) as TrafficTarget[]).map(v2Traffic),
    ...(status.observedGeneration !== undefined ? { observedGeneration: String(status.observedGeneration) } : {}),
    ...(ready ? { terminalCondition: v2Condition(ready) } : {}),
    conditions: conditions.filter(c => c.type !== 'Ready').map(c => v2Condition(c)),
    ...(status.latestReadyRevisionName ? { latestReadyRevision: `${name}/revisions/${String(status.latestReadyRevisionName)}` } : {}),
    ...(status.latestCreatedRevisionName ? { latestCreatedRevision: `${name}/revisions/${String(status.latestCreatedRevisionName)}` } : {}),
    trafficStatuses: ((status.traffic ?? []) as TrafficTarget[]).map(t => ({
      type: t.latestRevision ? LATEST : REVISION, ...(t.latestRevision ? {} : { revision: t.revisionName }),
      ...(t.percent ? { percent: t.percent } : {}), ...(t.tag ? { tag: t.tag, uri: tagUrl(address, t.tag) } : {}),
    })),
    uri: primaryUrl(address),
    urls: serviceUrls(address),
    reconciling: !ready || ready.status === 'Unknown',
    etag: etag(svc),
  };
  if (!(out.conditions as Obj[]).length) delete out.conditions;
  return out;
}

export function v2Revision(rev: Obj, n: V2Names): Obj {
  const meta = rev.metadata as Obj;
  const labels = (meta.labels ?? {}) as Obj;
  const annotations = (meta.annotations ?? {}) as Obj;
  const status = (rev.status ?? {}) as Obj;
  const conditions = (status.conditions ?? []) as Condition[];
  const ready = conditions.find(c => c.type === 'Ready');
  const svc = String(labels[K.service]);
  return {
    name: `${serviceName(n, svc)}/revisions/${String(meta.name)}`, uid: meta.uid, generation: '1',
    ...(userOnly(meta.labels) ? { labels: userOnly(meta.labels) } : {}),
    ...(userOnly(meta.annotations) ? { annotations: userOnly(meta.annotations) } : {}),
    createTime: meta.creationTimestamp, updateTime: updateTime(meta), creator: annotations[K.creator],
    launchStage: 'GA', service: serviceName(n, svc),
    ...v2RevisionFields((rev.spec ?? {}) as Obj, annotations),
    reconciling: !ready || ready.status === 'Unknown',
    conditions: conditions.map(c => v2Condition(c)),
    observedGeneration: '1',
    ...(status.logUrl ? { logUri: status.logUrl } : {}),
    etag: etag(rev),
  };
}

/** A v2 Service (create or patch body) in v1 form, for the shared validation and writes. */
export function v1ServiceFromV2(svc: Obj, id: string): Obj {
  const v: FieldViolation[] = [];
  const template = (svc.template ?? {}) as Obj;
  for (const [field, m] of [['labels', svc.labels], ['annotations', svc.annotations], ['template.labels', template.labels], ['template.annotations', template.annotations]] as const) {
    for (const k of Object.keys((m ?? {}) as Obj)) if (SYSTEM.test(k)) v.push({ field: `${field}[${k}]`, description: `${field} may not use the reserved key '${k}' (the run.googleapis.com, cloud.googleapis.com, serving.knative.dev and autoscaling.knative.dev prefixes are reserved).` });
  }
  let timeoutSeconds: number | undefined;
  if (template.timeout !== undefined) {
    const ms = parseDurationMs(String(template.timeout));
    if (ms === undefined || ms % 1000 !== 0) v.push({ field: 'template.timeout', description: `Invalid timeout '${String(template.timeout).slice(0, 40)}': give whole seconds, e.g. "300s".` });
    else timeoutSeconds = ms / 1000;
  }
  const traffic = ((svc.traffic ?? []) as Obj[]).map((t, i): TrafficTarget => {
    const latest = t.type === LATEST || (t.type === undefined && !t.revision);
    if (t.type === LATEST && t.revision) v.push({ field: `traffic[${i}].revision`, description: 'A LATEST traffic target may not name a revision.' });
    return { ...(latest ? { latestRevision: true } : { revisionName: String(t.revision ?? '') }), percent: Number(t.percent ?? 0), ...(t.tag ? { tag: String(t.tag) } : {}) };
  });
  if (v.length) throw errors.invalidFields(v.map(x => x.description).join(' '), v);
  const annotations: Obj = { ...((svc.annotations ?? {}) as Obj) };
  if (svc.launchStage !== undefined) annotations[L.launchStage] = svc.launchStage;
  if (svc.client !== undefined) annotations['run.googleapis.com/client-name'] = svc.client;
  if (svc.clientVersion !== undefined) annotations['run.googleapis.com/client-version'] = svc.clientVersion;
  if (svc.description !== undefined) annotations['run.googleapis.com/description'] = svc.description;
  if (svc.ingress !== undefined) annotations['run.googleapis.com/ingress'] = Object.entries(INGRESS).find(([, x]) => x === svc.ingress)?.[0] ?? 'all';
  const tAnnotations: Obj = { ...((template.annotations ?? {}) as Obj) };
  const scaling = (template.scaling ?? {}) as Obj;
  if (scaling.minInstanceCount !== undefined) tAnnotations[MIN_SCALE] = String(scaling.minInstanceCount);
  if (scaling.maxInstanceCount !== undefined) tAnnotations[MAX_SCALE] = String(scaling.maxInstanceCount);
  if (template.executionEnvironment !== undefined) tAnnotations[EXEC_ENV] = template.executionEnvironment === 'EXECUTION_ENVIRONMENT_GEN1' ? 'gen1' : 'gen2';
  if (template.sessionAffinity) tAnnotations[SESSION_AFFINITY] = 'true';
  const tmeta: Obj = {
    ...(template.revision ? { name: template.revision } : {}),
    ...(template.labels ? { labels: template.labels } : {}),
    ...(Object.keys(tAnnotations).length ? { annotations: tAnnotations } : {}),
  };
  return {
    apiVersion: 'serving.knative.dev/v1', kind: 'Service',
    metadata: { name: id, ...(svc.labels ? { labels: svc.labels } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: {
      template: {
        ...(Object.keys(tmeta).length ? { metadata: tmeta } : {}),
        spec: {
          containers: ((template.containers ?? []) as Obj[]).map(c => ({
            ...v1Container(c), ...(c.startupProbe ? { startupProbe: c.startupProbe } : {}), ...(c.livenessProbe ? { livenessProbe: c.livenessProbe } : {}),
          })),
          ...(template.volumes ? { volumes: (template.volumes as Obj[]).map(v1Volume) } : {}),
          ...(timeoutSeconds !== undefined ? { timeoutSeconds } : {}),
          ...(template.serviceAccount ? { serviceAccountName: template.serviceAccount } : {}),
          ...(template.maxInstanceRequestConcurrency !== undefined ? { containerConcurrency: template.maxInstanceRequestConcurrency } : {}),
        },
      },
      ...(traffic.length ? { traffic } : {}),
    },
  };
}
