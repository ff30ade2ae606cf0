// A job's run: the Execution and its Tasks, made from the job's template with the run's overrides applied (spec
// §A4.4, §A5.2). Written in the caller's transaction; the controller takes it from there.
import type { Clock } from '../../engine/clock.js';
import type { Projects } from '../../google/projects.js';
import type { Writer } from '../../store/store.js';
import { errors, type FieldViolation } from '../../google/errors.js';
import { newUuid } from '../../google/ids.js';
import { EXECUTION, L, TASK, V1, CALLER } from './service.js';
import { executionKey, parseKey, selfLink, taskId, taskKey } from './names.js';
import { nowMicros, resourceVersion, resourceVersionMicros, type Obj } from './meta.js';
import { checkArgv, MAX_TASKS, validateEnv } from './validate.js';

/** RunJobRequest.overrides, v1 form (v2's are converted to it). */
export interface Overrides {
  containerOverrides?: { name?: string; args?: string[]; clearArgs?: boolean; env?: Obj[] }[];
  taskCount?: number;
  timeoutSeconds?: number;
}

/** Controller bookkeeping kept on the stored execution (never shown to clients). */
export interface Attempt {
  attempt: number;
  /** Epoch ms the attempt started (absent until launched). */
  startMs?: number;
  /** Simulated attempts: when they end and how. */
  endsAt?: number;
  sim?: { exitCode?: number; timedOut?: boolean; message?: string };
  /** Process id or container id of a real attempt, for a restarted Gantry. */
  handle?: string;
}

export interface Bookkeeping {
  executor: string;
  /** Index of the next task to start. */
  next: number;
  running: Record<string, Attempt>;
  /** The first task failure, for the execution's Completed message. */
  firstFailure?: string;
}

const SUFFIX = 'abcdefghijklmnopqrstuvwxyz0123456789';
function suffix(): string {
  let s = '';
  for (let i = 0; i < 5; i++) s += SUFFIX[Math.floor(Math.random() * SUFFIX.length)];
  return s;
}

/** Validates overrides against the job (an unknown container name, a bad count), in v1 field names. */
export function checkOverrides(o: Overrides, containers: Obj[]): void {
  const v: FieldViolation[] = [];
  if (o.taskCount !== undefined && (o.taskCount < 1 || o.taskCount > MAX_TASKS)) v.push({ field: 'overrides.taskCount', description: `taskCount must be between 1 and ${MAX_TASKS}, got ${o.taskCount}.` });
  if (o.timeoutSeconds !== undefined && (o.timeoutSeconds < 1 || o.timeoutSeconds > 604_800)) v.push({ field: 'overrides.timeoutSeconds', description: `timeoutSeconds must be between 1 and 604800, got ${o.timeoutSeconds}.` });
  for (const [i, c] of (o.containerOverrides ?? []).entries()) {
    if (c.name && !containers.some(x => x.name === c.name)) v.push({ field: `overrides.containerOverrides[${i}].name`, description: `Container '${c.name}' is not a container of the job.` });
    if (c.clearArgs && c.args?.length) v.push({ field: `overrides.containerOverrides[${i}].args`, description: 'args must be empty when clearArgs is true.' });
    checkArgv(c.args, `overrides.containerOverrides[${i}].args`, v);
    validateEnv(c.env ?? [], `overrides.containerOverrides[${i}].env`, v);
  }
  if (v.length) throw errors.invalidFields(v.map(x => x.description).join(' '), v);
}

function applyOverrides(task: Obj, o: Overrides): void {
  if (o.timeoutSeconds !== undefined) task.timeoutSeconds = String(o.timeoutSeconds);
  const containers = (task.containers ?? []) as Obj[];
  for (const c of o.containerOverrides ?? []) {
    const target = c.name ? containers.find(x => x.name === c.name) : containers[0];
    if (!target) continue;
    if (c.clearArgs) delete target.args;
    else if (c.args?.length) target.args = c.args;
    if (c.env?.length) {
      // Merged: a variable of the same name is replaced, new ones are appended.
      const env = [...((target.env ?? []) as Obj[])];
      for (const e of c.env) {
        const i = env.findIndex(x => x.name === e.name);
        if (i >= 0) env[i] = e; else env.push(e);
      }
      target.env = env;
    }
  }
}

export interface NewExecution { key: string; execution: Obj }

/**
 * Writes a new execution of `job` (its store key `jobKey`) and its tasks; updates the job's executionCount and
 * latestCreatedExecution. `id` is the execution's name (a token's) or `{job}-{5 random}`.
 */
export function createExecution(w: Writer, clock: Clock, projects: Projects, jobKey: string, job: Obj, overrides: Overrides,
  opts: { id?: string; executor: string; logUri: (execution: string, taskIndex?: number) => string; exists: (key: string) => boolean }): NewExecution {
  const ref = parseKey(jobKey);
  const jobMeta = job.metadata as Obj;
  const jobName = String(jobMeta.name);
  let id = opts.id;
  for (let i = 0; !id || (!opts.id && opts.exists(executionKey(ref, id))); i++) {
    if (i > 20) throw errors.internal('Could not pick a unique execution name.');
    id = `${jobName}-${suffix()}`;
  }
  const key = executionKey(ref, id);
  if (opts.exists(key)) throw errors.alreadyExists('run.googleapis.com/Execution', id);
  const now = nowMicros(clock);
  const rv = resourceVersion(now);
  const template = structuredClone(((job.spec as Obj).template ?? {}) as Obj);
  const tmeta = (template.metadata ?? {}) as Obj;
  const spec = (template.spec ?? {}) as Obj;
  const taskSpec = (((spec.template ?? {}) as Obj).spec ?? {}) as Obj;
  applyOverrides(taskSpec, overrides);
  const taskCount = overrides.taskCount ?? Number(spec.taskCount ?? 1);
  const parallelism = Number(spec.parallelism ?? 0);
  const number = projects.number(ref.project);
  const uid = newUuid();
  const execution: Obj = {
    apiVersion: V1, kind: 'Execution',
    metadata: {
      name: id, namespace: number, selfLink: selfLink(projects, ref.project, 'executions', id), uid, resourceVersion: rv, generation: 1, creationTimestamp: now,
      labels: {
        ...((tmeta.labels ?? {}) as Obj), [L.location]: ref.region, [L.job]: jobName, [L.jobUid]: String(jobMeta.uid),
        [L.jobGeneration]: String(jobMeta.generation ?? 1), [L.jobResourceVersion]: resourceVersionMicros(String(jobMeta.resourceVersion ?? '')),
      },
      annotations: { ...((tmeta.annotations ?? {}) as Obj), [L.executionEnvironment]: 'gen2', [L.creator]: CALLER, [L.lastModifier]: CALLER, [L.operationId]: newUuid() },
      ownerReferences: [{ kind: 'Job', name: jobName, uid: String(jobMeta.uid), apiVersion: 'serving.knative.dev/v1', controller: true, blockOwnerDeletion: true }],
    },
    spec: { ...(parallelism ? { parallelism } : {}), taskCount, template: { spec: taskSpec } },
    status: {
      observedGeneration: 1,
      conditions: [
        { type: 'Completed', status: 'Unknown', lastTransitionTime: now },
        { type: 'ResourcesAvailable', status: 'Unknown', lastTransitionTime: now },
        { type: 'Started', status: 'Unknown', lastTransitionTime: now },
      ],
      logUri: opts.logUri(id),
    },
    gantry: { executor: opts.executor, next: 0, running: {} } satisfies Bookkeeping,
  };
  w.put(EXECUTION, key, jobKey, execution, now, true);
  for (let i = 0; i < taskCount; i++) {
    const t = taskId(id, i);
    w.put(TASK, taskKey(ref, t), key, {
      apiVersion: V1, kind: 'Task',
      metadata: {
        name: t, namespace: number, selfLink: selfLink(projects, ref.project, 'tasks', t), uid: newUuid(), resourceVersion: rv, generation: 1, creationTimestamp: now,
        labels: {
          ...((tmeta.labels ?? {}) as Obj), [L.location]: ref.region, [L.job]: jobName, [L.jobUid]: String(jobMeta.uid), [L.execution]: id,
          [L.executionUid]: uid, [L.taskIndex]: String(i), [L.runningState]: 'Pending',
        },
        annotations: { [L.executionEnvironment]: 'gen2' },
        ownerReferences: [{ kind: 'Execution', name: id, uid, apiVersion: V1, controller: true, blockOwnerDeletion: true }],
      },
      spec: taskSpec,
      status: { index: i, observedGeneration: 1, logUri: opts.logUri(id, i) },
    }, now, false);
  }
  const status = (job.status ??= {}) as Obj;
  status.executionCount = Number(status.executionCount ?? 0) + 1;
  status.latestCreatedExecution = { name: id, creationTimestamp: now, completionStatus: 'EXECUTION_PENDING' };
  jobMeta.resourceVersion = rv;
  return { key, execution };
}

export function bookkeeping(execution: Obj): Bookkeeping { return execution.gantry as Bookkeeping; }
