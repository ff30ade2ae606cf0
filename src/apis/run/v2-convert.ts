// The v2 view of the stored (v1-form) jobs, executions and tasks, and v2 input in v1 form (spec §A6). Names in
// answers use the project as the request named it.
import { resolveSecret, secretAliases } from './secret-aliases.js';
import { errors, type FieldViolation } from '../../google/errors.js';
import { parseDurationMs } from '../../google/time.js';
import { etagOf } from '../../google/ids.js';
import { L } from './service.js';
import type { Condition, Obj } from './meta.js';

export const SYSTEM = /^(run\.googleapis\.com|cloud\.googleapis\.com|serving\.knative\.dev|autoscaling\.knative\.dev)\//;

export function userOnly(m: unknown): Obj | undefined {
  const out = Object.fromEntries(Object.entries((m ?? {}) as Obj).filter(([k]) => !SYSTEM.test(k)));
  return Object.keys(out).length ? out : undefined;
}

/** A v1 timestamp (microseconds) as a v2 one (same instant; v2 answers with nanoseconds). */
function ts(v: unknown): string | undefined { return typeof v === 'string' ? v : undefined; }

const STATE: Record<string, string> = { True: 'CONDITION_SUCCEEDED', False: 'CONDITION_FAILED', Unknown: 'CONDITION_RECONCILING' };
const REASON: Record<string, string> = {
  RevisionFailed: 'REVISION_FAILED', ContainerMissing: 'CONTAINER_MISSING', SecretsAccessCheckFailed: 'SECRETS_ACCESS_CHECK_FAILED', WaitingForExecution: 'WAITING_FOR_OPERATION',
  ImmediateRetry: 'IMMEDIATE_RETRY', PostponedRetry: 'POSTPONED_RETRY',
};
const REVISION_REASON: Record<string, string> = { HealthCheckContainerError: 'HEALTH_CHECK_CONTAINER_ERROR', Reserve: 'RESERVE', Retired: 'RETIRED', Deploying: 'PENDING' };
const EXECUTION_REASON: Record<string, string> = { NonZeroExitCode: 'NON_ZERO_EXIT_CODE', Cancelled: 'CANCELLED', Cancelling: 'CANCELLING', Deleted: 'DELETED' };

export function v2Condition(c: Condition, pendingBeforeStart = false): Obj {
  const out: Obj = { type: c.type, state: pendingBeforeStart && c.status === 'Unknown' ? 'CONDITION_PENDING' : STATE[c.status] };
  if (c.message) out.message = c.message;
  if (c.lastTransitionTime) out.lastTransitionTime = c.lastTransitionTime;
  if (c.severity) out.severity = c.severity.toUpperCase();
  if (c.reason && REASON[c.reason]) out.reason = REASON[c.reason];
  if (c.reason && EXECUTION_REASON[c.reason]) out.executionReason = EXECUTION_REASON[c.reason];
  if (c.reason && REVISION_REASON[c.reason]) out.revisionReason = REVISION_REASON[c.reason];
  return out;
}

/** A v1 secret reference's name as v2 shows it (an alias resolved; anything else as it is). */
function named(name: unknown, aliases: Map<string, string>): unknown {
  return typeof name === 'string' ? resolveSecret(name, aliases) : name;
}

export function v2Container(c: Obj, aliases: Map<string, string>): Obj {
  const out: Obj = { ...c };
  delete out.resources;
  if (c.resources) out.resources = { limits: (c.resources as Obj).limits };
  if (c.env) {
    out.env = (c.env as Obj[]).map(e => {
      const ref = ((e.valueFrom ?? {}) as Obj).secretKeyRef as Obj | undefined;
      return ref ? { name: e.name, valueSource: { secretKeyRef: { secret: named(ref.name, aliases), version: ref.key } } } : { name: e.name, ...(e.value !== undefined ? { value: e.value } : {}) };
    });
  }
  if (c.volumeMounts) out.volumeMounts = (c.volumeMounts as Obj[]).map(m => ({ name: m.name, mountPath: m.mountPath, ...(m.subPath ? { subPath: m.subPath } : {}) }));
  return out;
}

export function v2Volume(v: Obj, aliases: Map<string, string>): Obj {
  if (v.secret) {
    const s = v.secret as Obj;
    return { name: v.name, secret: { secret: named(s.secretName, aliases), ...(s.items ? { items: (s.items as Obj[]).map(i => ({ path: i.path, version: i.key, ...(i.mode !== undefined ? { mode: i.mode } : {}) })) } : {}), ...(s.defaultMode !== undefined ? { defaultMode: s.defaultMode } : {}) } };
  }
  if (v.emptyDir) return { name: v.name, emptyDir: v.emptyDir };
  if (v.nfs) return { name: v.name, nfs: v.nfs };
  if (v.csi) return { name: v.name, gcs: { bucket: ((((v.csi as Obj).volumeAttributes ?? {}) as Obj).bucketName) } };
  return { name: v.name };
}

/**
 * A v1 TaskSpec as a v2 TaskTemplate. `annotations` (the template's or execution's) map gcloud's secret aliases to
 * the `projects/N/secrets/S` names v2 shows.
 */
function v2TaskTemplate(spec: Obj, annotations?: unknown, executionEnvironment = 'EXECUTION_ENVIRONMENT_GEN2'): Obj {
  const aliases = secretAliases(annotations);
  return {
    containers: ((spec.containers ?? []) as Obj[]).map(c => v2Container(c, aliases)),
    ...(spec.volumes ? { volumes: (spec.volumes as Obj[]).map(v => v2Volume(v, aliases)) } : {}),
    maxRetries: spec.maxRetries ?? 3,
    timeout: `${String(spec.timeoutSeconds ?? '600')}s`,
    serviceAccount: spec.serviceAccountName,
    executionEnvironment,
  };
}

export function etag(o: Obj): string { return `"${etagOf(String((o.metadata as Obj).resourceVersion ?? ''))}"`; }

export interface V2Names { project: string; region: string }

export function jobName(n: V2Names, id: string): string { return `projects/${n.project}/locations/${n.region}/jobs/${id}`; }

export function v2Job(job: Obj, n: V2Names): Obj {
  const meta = job.metadata as Obj;
  const spec = (job.spec ?? {}) as Obj;
  const template = (spec.template ?? {}) as Obj;
  const tmeta = (template.metadata ?? {}) as Obj;
  const exec = (template.spec ?? {}) as Obj;
  const status = (job.status ?? {}) as Obj;
  const ready = ((status.conditions ?? []) as Condition[]).find(c => c.type === 'Ready');
  const annotations = (meta.annotations ?? {}) as Obj;
  const latest = status.latestCreatedExecution as Obj | undefined;
  const out: Obj = {
    name: jobName(n, String(meta.name)), uid: meta.uid, generation: String(meta.generation ?? 1),
    ...(userOnly(meta.labels) ? { labels: userOnly(meta.labels) } : {}),
    ...(userOnly(meta.annotations) ? { annotations: userOnly(meta.annotations) } : {}),
    createTime: ts(meta.creationTimestamp), updateTime: updateTime(meta),
    creator: annotations[L.creator], lastModifier: annotations[L.lastModifier],
    ...(annotations['run.googleapis.com/client-name'] ? { client: annotations['run.googleapis.com/client-name'] } : {}),
    launchStage: String(annotations[L.launchStage] ?? 'GA'),
    template: {
      ...(userOnly(tmeta.labels) ? { labels: userOnly(tmeta.labels) } : {}),
      ...(userOnly(tmeta.annotations) ? { annotations: userOnly(tmeta.annotations) } : {}),
      ...(exec.parallelism ? { parallelism: exec.parallelism } : {}),
      taskCount: exec.taskCount ?? 1,
      template: v2TaskTemplate((((exec.template ?? {}) as Obj).spec ?? {}) as Obj, tmeta.annotations),
    },
    ...(status.observedGeneration !== undefined ? { observedGeneration: String(status.observedGeneration) } : {}),
    ...(ready ? { terminalCondition: v2Condition(ready) } : {}),
    conditions: ((status.conditions ?? []) as Condition[]).filter(c => c.type !== 'Ready').map(c => v2Condition(c)),
    ...(status.executionCount ? { executionCount: status.executionCount } : {}),
    ...(latest ? { latestCreatedExecution: {
      name: `${jobName(n, String(meta.name))}/executions/${String(latest.name)}`, createTime: latest.creationTimestamp,
      ...(latest.completionTimestamp ? { completionTime: latest.completionTimestamp } : {}), completionStatus: latest.completionStatus,
    } } : {}),
    reconciling: !ready || ready.status === 'Unknown',
    ...(spec.startExecutionToken ? { startExecutionToken: spec.startExecutionToken } : {}),
    ...(spec.runExecutionToken ? { runExecutionToken: spec.runExecutionToken } : {}),
    etag: etag(job),
  };
  if (!(out.conditions as Obj[]).length) delete out.conditions;
  return out;
}

/** The instant of the last write, from the v1 resourceVersion (microseconds). */
export function updateTime(meta: Obj): string | undefined {
  const b = Buffer.from(String(meta.resourceVersion ?? ''), 'base64url');
  if (b.length !== 8) return ts(meta.creationTimestamp);
  const us = b.readBigUInt64BE();
  return new Date(Number(us / 1000n)).toISOString().slice(0, 23) + String(us % 1000n).padStart(3, '0') + 'Z';
}

export function v2Execution(ex: Obj, n: V2Names): Obj {
  const meta = ex.metadata as Obj;
  const labels = (meta.labels ?? {}) as Obj;
  const spec = (ex.spec ?? {}) as Obj;
  const status = (ex.status ?? {}) as Obj;
  const conditions = (status.conditions ?? []) as Condition[];
  const completed = conditions.find(c => c.type === 'Completed');
  const started = conditions.find(c => c.type === 'Started')?.status === 'True';
  const job = String(labels[L.job]);
  const out: Obj = {
    name: `${jobName(n, job)}/executions/${String(meta.name)}`, uid: meta.uid, creator: ((meta.annotations ?? {}) as Obj)[L.creator], generation: '1',
    ...(userOnly(meta.labels) ? { labels: userOnly(meta.labels) } : {}),
    ...(userOnly(meta.annotations) ? { annotations: userOnly(meta.annotations) } : {}),
    createTime: meta.creationTimestamp, ...(status.startTime ? { startTime: status.startTime } : {}),
    ...(status.completionTime ? { completionTime: status.completionTime } : {}), updateTime: updateTime(meta),
    launchStage: 'GA', job, ...(spec.parallelism ? { parallelism: spec.parallelism } : {}), taskCount: spec.taskCount,
    template: v2TaskTemplate((((spec.template ?? {}) as Obj).spec ?? {}) as Obj, meta.annotations),
    reconciling: !completed || completed.status === 'Unknown',
    conditions: conditions.map(c => v2Condition(c, !started)),
    observedGeneration: '1',
    ...Object.fromEntries(['runningCount', 'succeededCount', 'failedCount', 'cancelledCount', 'retriedCount'].filter(k => status[k]).map(k => [k, status[k]])),
    logUri: status.logUri, etag: etag(ex),
  };
  return out;
}

/** `executionAnnotations`: its execution's, which map gcloud's secret aliases (a task carries none of its own). */
export function v2Task(task: Obj, n: V2Names, executionAnnotations?: unknown): Obj {
  const meta = task.metadata as Obj;
  const labels = (meta.labels ?? {}) as Obj;
  const status = (task.status ?? {}) as Obj;
  const job = String(labels[L.job]);
  const execution = String(labels[L.execution]);
  const conditions = (status.conditions ?? []) as Condition[];
  const completed = conditions.find(c => c.type === 'Completed');
  const tt = v2TaskTemplate((task.spec ?? {}) as Obj, executionAnnotations);
  return {
    name: `${jobName(n, job)}/executions/${execution}/tasks/${String(meta.name)}`, uid: meta.uid, generation: '1',
    ...(userOnly(meta.labels) ? { labels: userOnly(meta.labels) } : {}),
    createTime: meta.creationTimestamp, ...(status.startTime ? { scheduledTime: status.startTime, startTime: status.startTime } : {}),
    ...(status.completionTime ? { completionTime: status.completionTime } : {}), updateTime: updateTime(meta),
    job, execution, ...tt,
    reconciling: !completed || completed.status === 'Unknown',
    conditions: conditions.map(c => v2Condition(c)),
    observedGeneration: '1', index: status.index ?? 0,
    ...(status.retried ? { retried: status.retried } : {}),
    ...(status.lastAttemptResult ? { lastAttemptResult: status.lastAttemptResult } : {}),
    logUri: status.logUri, etag: etag(task),
  };
}

/** A v2 Job (create or patch body) in v1 form, for the shared validation and writes. */
export function v1FromV2(job: Obj, id: string): Obj {
  const v: FieldViolation[] = [];
  for (const [field, m] of [['labels', job.labels], ['annotations', job.annotations], ['template.labels', (job.template as Obj | undefined)?.labels], ['template.annotations', (job.template as Obj | undefined)?.annotations]] as const) {
    for (const k of Object.keys((m ?? {}) as Obj)) if (SYSTEM.test(k)) v.push({ field: `${field}[${k}]`, description: `${field} may not use the reserved key '${k}' (the run.googleapis.com, cloud.googleapis.com, serving.knative.dev and autoscaling.knative.dev prefixes are reserved).` });
  }
  const template = (job.template ?? {}) as Obj;
  const task = (template.template ?? {}) as Obj;
  let timeoutSeconds: string | undefined;
  if (task.timeout !== undefined) {
    const ms = parseDurationMs(String(task.timeout));
    if (ms === undefined || ms % 1000 !== 0) v.push({ field: 'template.template.timeout', description: `Invalid timeout '${String(task.timeout).slice(0, 40)}': give whole seconds, e.g. "600s".` });
    else timeoutSeconds = String(ms / 1000);
  }
  if (v.length) throw errors.invalidFields(v.map(x => x.description).join(' '), v);
  const annotations: Obj = { ...((job.annotations ?? {}) as Obj) };
  if (job.launchStage !== undefined) annotations[L.launchStage] = job.launchStage;
  if (job.client !== undefined) annotations['run.googleapis.com/client-name'] = job.client;
  if (job.clientVersion !== undefined) annotations['run.googleapis.com/client-version'] = job.clientVersion;
  const tAnnotations: Obj = { ...((template.annotations ?? {}) as Obj) };
  return {
    apiVersion: 'run.googleapis.com/v1', kind: 'Job',
    metadata: { name: id, ...(job.labels ? { labels: job.labels } : {}), ...(Object.keys(annotations).length ? { annotations } : {}) },
    spec: {
      template: {
        ...(template.labels || Object.keys(tAnnotations).length ? { metadata: { ...(template.labels ? { labels: template.labels } : {}), ...(Object.keys(tAnnotations).length ? { annotations: tAnnotations } : {}) } } : {}),
        spec: {
          ...(template.parallelism !== undefined ? { parallelism: template.parallelism } : {}),
          ...(template.taskCount !== undefined ? { taskCount: template.taskCount } : {}),
          template: { spec: {
            containers: ((task.containers ?? []) as Obj[]).map(v1Container),
            ...(task.volumes ? { volumes: (task.volumes as Obj[]).map(v1Volume) } : {}),
            ...(task.maxRetries !== undefined ? { maxRetries: task.maxRetries } : {}),
            ...(timeoutSeconds ? { timeoutSeconds } : {}),
            ...(task.serviceAccount ? { serviceAccountName: task.serviceAccount } : {}),
          } },
        },
      },
      ...(job.startExecutionToken !== undefined ? { startExecutionToken: job.startExecutionToken } : {}),
      ...(job.runExecutionToken !== undefined ? { runExecutionToken: job.runExecutionToken } : {}),
    },
  };
}

export function v1Container(c: Obj): Obj {
  const out: Obj = { ...c };
  for (const k of ['dependsOn', 'baseImageUri', 'buildInfo', 'startupProbe', 'livenessProbe']) delete out[k];
  if (c.resources) out.resources = { limits: (c.resources as Obj).limits ?? {} };
  if (c.env) {
    out.env = (c.env as Obj[]).map(e => {
      const ref = ((e.valueSource ?? {}) as Obj).secretKeyRef as Obj | undefined;
      return ref ? { name: e.name, valueFrom: { secretKeyRef: { name: ref.secret, key: ref.version ?? 'latest' } } } : { name: e.name, ...(e.value !== undefined ? { value: e.value } : {}) };
    });
  }
  return out;
}

export function v1Volume(v: Obj): Obj {
  if (v.secret) {
    const s = v.secret as Obj;
    return { name: v.name, secret: { secretName: s.secret, ...(s.items ? { items: (s.items as Obj[]).map(i => ({ path: i.path, key: i.version ?? 'latest', ...(i.mode !== undefined ? { mode: i.mode } : {}) })) } : {}), ...(s.defaultMode !== undefined ? { defaultMode: s.defaultMode } : {}) } };
  }
  if (v.emptyDir) return { name: v.name, emptyDir: v.emptyDir };
  if (v.nfs) return { name: v.name, nfs: v.nfs };
  if (v.gcs) return { name: v.name, csi: { driver: 'gcsfuse.run.googleapis.com', volumeAttributes: { bucketName: (v.gcs as Obj).bucket } } };
  return { name: v.name, emptyDir: {} };
}

/** v2 run overrides in v1 form (`timeout` is a Duration there, seconds here). */
export function v1Overrides(o: Obj | undefined): Obj {
  if (!o) return {};
  const out: Obj = {};
  if (o.taskCount !== undefined) out.taskCount = o.taskCount;
  if (o.timeout !== undefined) {
    const ms = parseDurationMs(String(o.timeout));
    if (ms === undefined || ms <= 0) throw errors.invalidArgument(`Invalid overrides.timeout '${String(o.timeout).slice(0, 40)}'.`, 'overrides.timeout');
    out.timeoutSeconds = Math.ceil(ms / 1000);
  }
  if (o.containerOverrides) {
    out.containerOverrides = (o.containerOverrides as Obj[]).map(c => ({
      ...c, ...(c.env ? { env: (c.env as Obj[]).map(e => (e.valueSource ? { name: e.name, valueFrom: { secretKeyRef: { name: ((e.valueSource as Obj).secretKeyRef as Obj).secret, key: ((e.valueSource as Obj).secretKeyRef as Obj).version ?? 'latest' } } } : e)) } : {}),
    }));
  }
  return out;
}
