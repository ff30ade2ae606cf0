// Job writes shared by both API versions (v2 converts to the v1 form first): create, replace, delete and run, each
// in one transaction. Messages follow what Cloud Run answers (spec §A3.3).
import type { Clock } from '../../engine/clock.js';
import type { Projects } from '../../google/projects.js';
import type { Store } from '../../store/store.js';
import { ApiError, errors, resourceInfo } from '../../google/errors.js';
import { newUuid } from '../../google/ids.js';
import { computeServiceAccount } from '../../google/project-number.js';
import { parseRules } from '../../engine/outcomes.js';
import type { ExecutorPolicy } from '../../policy/executors.js';
import { CALLER, EXECUTION, L, V1 } from './service.js';
import { executionKey, jobKey, selfLink } from './names.js';
import { conditionOf, nowMicros, resourceVersion, type Condition, type Obj } from './meta.js';
import { applyJobDefaults, validateJob } from './validate.js';
import { checkOverrides, createExecution, type Overrides } from './executions.js';
import { executorOf, isTerminal, type RunController } from './controller.js';
import { OUTCOMES_ANNOTATION, TASK_RULES } from './attempts.js';

export interface Scope { project: string; region: string; /** The namespace or project as the request named it. */ asNamed: string }

export interface RunJobsDeps {
  store: Store;
  clock: Clock;
  projects: Projects;
  controller: RunController;
  executors: ExecutorPolicy;
  defaultExecutor: string;
  /** Most executions running at once on this Gantry; more are refused with 429, as Cloud Run refuses them. */
  maxActiveExecutions: number;
  /** Where an execution's (or one task's) log lines can be read. */
  logUri(project: string, region: string, job: string, execution: string, taskIndex?: number): string;
}

const KINDS = { job: 'JOB', execution: 'EXECUTION', task: 'TASK' } as const;

/** Cloud Run's 404: `Resource 'x' of kind 'JOB' in region 'r' in project 'p' does not exist.` */
export function runNotFound(kind: keyof typeof KINDS, id: string, s: Scope): ApiError {
  return new ApiError('NOT_FOUND', `Resource '${id}' of kind '${KINDS[kind]}' in region '${s.region}' in project '${s.asNamed}' does not exist.`,
    [resourceInfo(`run.googleapis.com/${kind[0].toUpperCase()}${kind.slice(1)}`, id)]);
}

export class RunJobs {
  constructor(private d: RunJobsDeps) {}

  get(s: Scope, id: string): Obj {
    const job = this.d.store.getParsed<Obj>(jobKey(s, id));
    if (!job) throw runNotFound('job', id, s);
    return job;
  }

  /** Validates and stores a new job (or, with dryRun, answers what would be stored). */
  create(s: Scope, input: Obj, dryRun: boolean): Obj {
    const meta = (input.metadata ??= {}) as Obj;
    if (!meta.name && meta.generateName) {
      const prefix = String(meta.generateName);
      if (prefix.length >= 31) throw errors.invalidArgument('metadata.generateName must be fewer than 31 characters, to leave room for a random suffix.', 'metadata.generate_name');
      meta.name = prefix + newUuid().replace(/-/g, '').slice(0, 5);
    }
    this.checkNamespace(s, meta);
    validateJob(input, { name: '', namespace: '' });
    this.checkGantryAnnotations(input);
    const id = String(meta.name);
    const key = jobKey(s, id);
    if (this.d.store.get(key)) throw new ApiError('ALREADY_EXISTS', `Resource '${id}' already exists.`, [resourceInfo('run.googleapis.com/Job', id)]);
    const now = nowMicros(this.d.clock);
    const job: Obj = {
      apiVersion: V1, kind: 'Job',
      metadata: {
        name: id, namespace: this.d.projects.number(s.project), selfLink: selfLink(this.d.projects, s.project, 'jobs', id), uid: newUuid(),
        resourceVersion: resourceVersion(now), generation: 1, creationTimestamp: now,
        labels: { ...((meta.labels ?? {}) as Obj), [L.location]: s.region, [L.lastUpdatedTime]: now },
        annotations: { ...((meta.annotations ?? {}) as Obj), [L.creator]: CALLER, [L.lastModifier]: CALLER, [L.operationId]: newUuid() },
      },
      spec: input.spec,
      status: { conditions: [{ type: 'Ready', status: 'Unknown', lastTransitionTime: now }] },
    };
    applyJobDefaults(job, computeServiceAccount(s.project));
    if (dryRun) return job;
    this.d.store.tx(w => {
      this.d.projects.remember(w, s.project);
      this.d.controller.saveJob(w, key, job);
    });
    return job;
  }

  /** Replaces a job's spec, labels and annotations; `generation` moves when the spec does. */
  replace(s: Scope, id: string, input: Obj, dryRun: boolean): Obj {
    const meta = (input.metadata ??= {}) as Obj;
    this.checkNamespace(s, meta);
    if (meta.name === undefined) meta.name = id;
    validateJob(input, { name: id, namespace: '' });
    this.checkGantryAnnotations(input);
    const key = jobKey(s, id);
    const existing = this.get(s, id);
    const em = existing.metadata as Obj;
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== em.resourceVersion) {
      throw new ApiError('ABORTED', `The job '${id}' was modified since resourceVersion ${String(meta.resourceVersion).slice(0, 40)} (now ${String(em.resourceVersion)}); read it again and retry.`);
    }
    const now = nowMicros(this.d.clock);
    const next = structuredClone(existing);
    const nm = next.metadata as Obj;
    // System labels and annotations are the server's: what the client sends back of them is ignored.
    const system = (m: Obj | undefined) => Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => /^(run|cloud)\.googleapis\.com\//.test(k) && k !== L.launchStage && k !== 'run.googleapis.com/client-name' && k !== 'run.googleapis.com/client-version' && k !== 'run.googleapis.com/description'));
    const user = (m: Obj | undefined) => Object.fromEntries(Object.entries(m ?? {}).filter(([k]) => !(k in system(m))));
    nm.labels = { ...user(meta.labels as Obj), ...system(em.labels as Obj), [L.location]: s.region, [L.lastUpdatedTime]: now };
    nm.annotations = { ...user(meta.annotations as Obj), ...system(em.annotations as Obj), [L.lastModifier]: CALLER, [L.operationId]: newUuid() };
    const spec = input.spec as Obj;
    next.spec = spec;
    applyJobDefaults(next, computeServiceAccount(s.project));
    if (JSON.stringify(next.spec) !== JSON.stringify(existing.spec)) {
      nm.generation = Number(em.generation ?? 1) + 1;
      const status = (next.status ??= {}) as Obj;
      const conditions = ((status.conditions ??= []) as Condition[]).filter(c => c.type !== 'Ready');
      conditions.unshift({ type: 'Ready', status: 'Unknown', lastTransitionTime: now });
      status.conditions = conditions;
    }
    if (dryRun) return next;
    this.d.store.tx(w => this.d.controller.saveJob(w, key, next));
    return next;
  }

  delete(s: Scope, id: string, dryRun: boolean): Obj {
    const job = this.get(s, id);
    if (!dryRun) this.d.store.tx(w => this.d.controller.deleteJob(w, jobKey(s, id)));
    return job;
  }

  /** Starts an execution of the job: validated overrides, a Ready job, and room under the execution cap. */
  run(s: Scope, id: string, overrides: Overrides): { key: string; execution: Obj } {
    const key = jobKey(s, id);
    const job = this.get(s, id);
    const task = (((((job.spec as Obj).template as Obj).spec as Obj).template as Obj).spec ?? {}) as Obj;
    checkOverrides(overrides, (task.containers ?? []) as Obj[]);
    const ready = conditionOf(((job.status as Obj | undefined)?.conditions ?? []) as Condition[], 'Ready');
    if (ready?.status === 'False') {
      throw errors.failedPrecondition(`Job '${id}' is not ready and cannot be run: ${ready.message ?? ready.reason ?? 'its last change failed'}.`, `jobs/${id}`);
    }
    if (this.d.store.activeNames(EXECUTION).length >= this.d.maxActiveExecutions) {
      throw new ApiError('RESOURCE_EXHAUSTED', `Too many executions are already running (at most ${this.d.maxActiveExecutions} on this Gantry); try again once some have finished.`);
    }
    return this.d.store.tx(w => {
      const fresh = this.get(s, id);
      const made = createExecution(w, this.d.clock, this.d.projects, key, fresh, overrides, {
        executor: executorOf(fresh, this.d.defaultExecutor), exists: k => !!this.d.store.get(k),
        logUri: (ex, i) => this.d.logUri(s.project, s.region, id, ex, i),
      });
      this.d.controller.saveJob(w, key, fresh);
      return made;
    });
  }

  execution(s: Scope, id: string): { key: string; execution: Obj } {
    const key = executionKey(s, id);
    const execution = this.d.store.getParsed<Obj>(key);
    if (!execution) throw runNotFound('execution', id, s);
    return { key, execution };
  }

  cancel(s: Scope, id: string): Obj {
    const { key, execution } = this.execution(s, id);
    if (isTerminal(execution)) throw errors.failedPrecondition(`Execution '${id}' cannot be cancelled because it is not running.`, `executions/${id}`);
    this.d.store.tx(w => this.d.controller.cancel(w, key, execution));
    return execution;
  }

  deleteExecution(s: Scope, id: string): Obj {
    const { key, execution } = this.execution(s, id);
    this.d.store.tx(w => this.d.controller.deleteExecution(w, key));
    return execution;
  }

  private checkNamespace(s: Scope, meta: Obj): void {
    const ns = meta.namespace;
    if (ns === undefined || ns === '') return;
    if (this.d.projects.resolve(String(ns)) !== s.project && String(ns) !== this.d.projects.number(s.project)) {
      throw errors.invalidArgument(`metadata.namespace '${String(ns).slice(0, 100)}' does not match the namespace in the URL, '${s.asNamed}'.`, 'metadata.namespace');
    }
  }

  private checkGantryAnnotations(job: Obj): void {
    const annotations = ((job.metadata as Obj).annotations ?? {}) as Obj;
    this.d.executors.checkAnnotations(annotations, 'metadata.annotations', `Job ${String((job.metadata as Obj).name)}`);
    const rules = annotations[OUTCOMES_ANNOTATION];
    if (rules !== undefined) parseRules(String(rules), TASK_RULES, `metadata.annotations["${OUTCOMES_ANNOTATION}"]`);
  }
}

