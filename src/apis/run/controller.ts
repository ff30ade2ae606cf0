// The Cloud Run controllers. Jobs: `Ready` once the job can run (its executor, secrets and image are there), and
// the executions its start/run tokens ask for. Executions: tasks start in index order, at most `parallelism` at a
// time; each attempt runs on the job's executor (or is simulated on Gantry's clock), failed attempts are retried up
// to maxRetries, and the execution completes once every task has. State lives in the store, so a restarted Gantry
// resumes every execution: simulated attempts keep their end time, real ones are re-attached where the executor can
// (a container still running) and otherwise failed and retried under the normal rules.
import type { Clock } from '../../engine/clock.js';
import type { Controller, ReconcileContext } from '../../engine/controllers.js';
import type { Projects } from '../../google/projects.js';
import type { RunningTask, TaskResult } from '../../executors/executor.js';
import type { Store, Writer } from '../../store/store.js';
import { ApiError } from '../../google/errors.js';
import type { Logger } from '../../server/log.js';
import { EXECUTION, JOB, L, TASK } from './service.js';
import { executionKey, parseKey, taskId, taskKey } from './names.js';
import { conditionOf, nowMicros, resourceVersion, setCondition, setCount, type Condition, type Obj } from './meta.js';
import { bookkeeping, createExecution, type Attempt } from './executions.js';
import { simulate, type AttemptContext, type Attempts, type TaskRule } from './attempts.js';
import type { SecretAccessor } from '../secretmanager/index.js';
import type { RestartReport } from '../../engine/restart-report.js';
import type { Decisions } from '../../engine/decisions.js';
import { resolveSecret, secretAliases } from './secret-aliases.js';

export const EXECUTOR_ANNOTATION = 'gantry.dev/executor';

export interface RunControllerDeps {
  store: Store;
  clock: Clock;
  projects: Projects;
  attempts: Attempts;
  secrets: SecretAccessor;
  log: Logger;
  defaultExecutor: string;
  /** How long a simulated attempt takes unless scripted. */
  taskMs(): number;
  /** Rule sets for a job's simulated tasks, most specific first (its annotation, then Gantry's API). */
  rules(jobKey: string, job: Obj): TaskRule[][];
  /** Whether the container engine holds an image (the container executor only). */
  hasImage?(image: string): Promise<boolean>;
  /** Asks the runtime to reconcile a resource. */
  enqueue(kind: string, name: string): void;
  /** Most tasks of one execution running at once when its parallelism is unset ("as many as possible"). */
  maxParallelism: number;
  /** Where an execution's (or one task's) log lines can be read. */
  logUri(project: string, region: string, job: string, execution: string, taskIndex?: number): string;
  /** Told what a restart found: attempts re-attached, reaped or lost. */
  restart?: RestartReport;
  /** The debug log of controller decisions. */
  decisions?: Decisions;
}

/** Executions a job keeps beyond the last 7 days (Cloud Run's documented history). */
export const KEEP_EXECUTIONS = 1000;
const TERMINAL = new Set(['Succeeded', 'Failed', 'Cancelled', 'Abandoned']);

export function executorOf(job: Obj, fallback: string): string {
  const meta = job.metadata as Obj;
  return String(((meta.annotations ?? {}) as Obj)[EXECUTOR_ANNOTATION] ?? fallback);
}

export function isTerminal(ex: Obj): boolean {
  const c = conditionOf(((ex.status as Obj).conditions ?? []) as Condition[], 'Completed');
  return !!c && c.status !== 'Unknown';
}

interface Live { attempt: number; run: RunningTask }
/** An attempt's process or container, as its executor named it when it started. */
interface Started { index: number; attempt: number; handle: string }

export class RunController {
  /** Real attempts this Gantry runs, by task key. */
  private live = new Map<string, Live>();
  /**
   * Results of real attempts not yet recorded, by execution: the next reconcile records them all and starts what
   * follows in one write. (An attempt whose result dies here with the process is retried after a restart.)
   */
  private results = new Map<string, { index: number; attempt: number; result: TaskResult }[]>();

  constructor(private d: RunControllerDeps) {}

  controllers(): Controller[] {
    return [
      { kind: JOB, reconcile: (name, ctx) => this.reconcileJob(name, ctx) },
      { kind: EXECUTION, reconcile: (name, ctx) => this.reconcileExecution(name, ctx) },
    ];
  }

  // ---- writes shared with the API handlers ----

  saveJob(w: Writer, key: string, job: Obj): void {
    const meta = job.metadata as Obj;
    const now = nowMicros(this.d.clock);
    meta.resourceVersion = resourceVersion(now);
    const ready = conditionOf(((job.status as Obj | undefined)?.conditions ?? []) as Condition[], 'Ready');
    w.put(JOB, key, key.slice(0, key.lastIndexOf('/jobs/')), job, String(meta.creationTimestamp), !ready || ready.status === 'Unknown');
  }

  saveExecution(w: Writer, key: string, ex: Obj): void {
    const meta = ex.metadata as Obj;
    meta.resourceVersion = resourceVersion(nowMicros(this.d.clock));
    const jobKey = key.replace(/\/executions\/[^/]+$/, `/jobs/${String((meta.labels as Obj)[L.job])}`);
    w.put(EXECUTION, key, jobKey, ex, String(meta.creationTimestamp), !isTerminal(ex));
  }

  /** Stops an execution now: running tasks Cancelled, those not started Abandoned, Completed False. */
  cancel(w: Writer, key: string, ex: Obj): void {
    if (isTerminal(ex)) return;
    const book = bookkeeping(ex);
    const ref = parseKey(key);
    const name = String((ex.metadata as Obj).name);
    const now = nowMicros(this.d.clock);
    const taskCount = Number((ex.spec as Obj).taskCount);
    let cancelled = 0;
    for (const index of Object.keys(book.running)) {
      const tk = taskKey(ref, taskId(name, Number(index)));
      this.live.get(tk)?.run.cancel();
      this.live.delete(tk);
      this.endTask(w, tk, 'Cancelled', now, { exitCode: undefined, message: 'Cancelled by user.', code: 1 });
      cancelled++;
    }
    for (let i = book.next; i < taskCount; i++) {
      this.endTask(w, taskKey(ref, taskId(name, i)), 'Abandoned', now);
      cancelled++;
    }
    book.running = {};
    book.next = taskCount;
    const status = ex.status as Obj;
    setCount(status, 'runningCount', 0);
    setCount(status, 'cancelledCount', Number(status.cancelledCount ?? 0) + cancelled);
    status.completionTime = now;
    setCondition(status.conditions as Condition[], { type: 'Completed', status: 'False', reason: 'Cancelled', message: 'The execution was cancelled.' }, now);
    this.saveExecution(w, key, ex);
    this.updateJob(w, key, ex, 'EXECUTION_CANCELLED', now);
  }

  /** Deletes an execution and its tasks, stopping it first. */
  deleteExecution(w: Writer, key: string): void {
    const ex = this.d.store.getParsed<Obj>(key);
    if (!ex) return;
    if (!isTerminal(ex)) this.cancel(w, key, ex);
    const ref = parseKey(key);
    for (const t of this.d.store.children(TASK, key)) w.delete(taskKey(ref, String((t.metadata as Obj).name)));
    w.delete(key);
  }

  deleteJob(w: Writer, key: string): void {
    for (const ex of this.d.store.children(EXECUTION, key)) this.deleteExecution(w, executionKey(parseKey(key), String((ex.metadata as Obj).name)));
    w.delete(key);
  }

  // ---- jobs ----

  private reconcileJob(key: string, ctx: ReconcileContext): void | Promise<unknown> {
    const job = this.d.store.getParsed<Obj>(key);
    if (!job) return;
    const status = (job.status ??= {}) as Obj;
    const conditions = (status.conditions ??= []) as Condition[];
    const generation = Number((job.metadata as Obj).generation ?? 1);
    const ready = conditionOf(conditions, 'Ready');
    if (ready && ready.status !== 'Unknown' && status.observedGeneration === generation) return;
    if (ready?.reason === 'WaitingForExecution') return;
    const problem = this.jobProblem(key, job);
    const finish = (p: { reason: string; message: string } | undefined) => this.d.store.tx(w => {
      const fresh = this.d.store.getParsed<Obj>(key);
      if (!fresh || Number((fresh.metadata as Obj).generation) !== generation) return;
      this.settleJob(w, key, fresh, p, ctx);
    });
    const image = String(((((((job.spec as Obj).template as Obj).spec as Obj).template as Obj).spec as Obj).containers as Obj[])[0]?.image ?? '');
    if (!problem && executorOf(job, this.d.defaultExecutor) === 'container' && this.d.hasImage) {
      return this.d.hasImage(image).then(ok => finish(ok ? undefined : { reason: 'ContainerMissing', message: `Image '${image}' not found.` }));
    }
    finish(problem);
  }

  /** What keeps a job from running: a secret it names that cannot be read. */
  private jobProblem(key: string, job: Obj): { reason: string; message: string } | undefined {
    const { project } = parseKey(key);
    const task = (((((job.spec as Obj).template as Obj).spec as Obj).template as Obj).spec ?? {}) as Obj;
    const number = this.d.projects.number(project);
    const aliases = secretAliases(((((job.spec as Obj).template as Obj).metadata ?? {}) as Obj).annotations);
    const check = (field: string, ref: string, version: string) => {
      const secret = resolveSecret(ref, aliases);
      try {
        this.d.secrets.access(project, secret, version);
        return undefined;
      } catch (e) {
        if (!(e instanceof ApiError)) throw e;
        const name = secret.startsWith('projects/') ? secret : `projects/${number}/secrets/${secret}`;
        return { reason: 'SecretsAccessCheckFailed', message: `${field}: Secret ${name}/versions/${version} was not found` };
      }
    };
    for (const [i, c] of ((task.containers ?? []) as Obj[]).entries()) {
      for (const [j, e] of ((c.env ?? []) as Obj[]).entries()) {
        const ref = ((e.valueFrom ?? {}) as Obj).secretKeyRef as Obj | undefined;
        if (!ref) continue;
        const p = check(`spec.template.spec.template.spec.containers[${i}].env[${j}].valueFrom.secretKeyRef`, String(ref.name ?? ((ref.localObjectReference ?? {}) as Obj).name), String(ref.key));
        if (p) return p;
      }
    }
    for (const [i, v] of ((task.volumes ?? []) as Obj[]).entries()) {
      const s = v.secret as Obj | undefined;
      if (!s) continue;
      for (const [j, it] of ((s.items ?? [{ key: 'latest' }]) as Obj[]).entries()) {
        const p = check(`spec.template.spec.template.spec.volumes[${i}].secret.items[${j}].key`, String(s.secretName), String(it.key ?? 'latest'));
        if (p) return p;
      }
    }
    return undefined;
  }

  /** Ready True (or False with the problem); a start/run token's execution is made now, and Ready waits for it. */
  private settleJob(w: Writer, key: string, job: Obj, problem: { reason: string; message: string } | undefined, ctx: ReconcileContext): void {
    const status = job.status as Obj;
    const conditions = (status.conditions ??= []) as Condition[];
    const now = nowMicros(this.d.clock);
    status.observedGeneration = Number((job.metadata as Obj).generation ?? 1);
    if (problem) {
      setCondition(conditions, { type: 'Ready', status: 'False', reason: problem.reason, message: problem.message }, now);
      this.saveJob(w, key, job);
      return;
    }
    const spec = job.spec as Obj;
    const token = (spec.startExecutionToken ?? spec.runExecutionToken) as string | undefined;
    const name = String((job.metadata as Obj).name);
    if (token) {
      const exKey = executionKey(parseKey(key), `${name}-${token}`);
      if (!this.d.store.get(exKey)) {
        createExecution(w, this.d.clock, this.d.projects, key, job, {}, {
          id: `${name}-${token}`, executor: executorOf(job, this.d.defaultExecutor), exists: k => !!this.d.store.get(k),
          logUri: (ex, i) => this.d.logUri(parseKey(key).project, parseKey(key).region, name, ex, i),
        });
        setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: 'WaitingForExecution', message: `Waiting for execution ${name}-${token} to ${spec.startExecutionToken ? 'start' : 'complete'}.` }, now);
        this.saveJob(w, key, job);
        ctx.enqueue(EXECUTION, exKey);
        return;
      }
    }
    setCondition(conditions, { type: 'Ready', status: 'True' }, now);
    this.saveJob(w, key, job);
  }

  /** The job's view of its latest execution, and Ready for a job waiting on a token's execution. */
  private updateJob(w: Writer, exKey: string, ex: Obj, completionStatus: string, completedAt?: string, failure?: string): void {
    const meta = ex.metadata as Obj;
    const jobName = String((meta.labels as Obj)[L.job]);
    const jobKey = exKey.replace(/\/executions\/[^/]+$/, `/jobs/${jobName}`);
    const job = this.d.store.getParsed<Obj>(jobKey);
    if (!job) return;
    const status = (job.status ??= {}) as Obj;
    const latest = status.latestCreatedExecution as Obj | undefined;
    let changed = false;
    if (latest && latest.name === meta.name) {
      latest.completionStatus = completionStatus;
      if (completedAt) latest.completionTimestamp = completedAt;
      changed = true;
    }
    const ready = conditionOf((status.conditions ?? []) as Condition[], 'Ready');
    const spec = job.spec as Obj;
    if (ready?.reason === 'WaitingForExecution') {
      const now = nowMicros(this.d.clock);
      const byStart = spec.startExecutionToken !== undefined && meta.name === `${jobName}-${String(spec.startExecutionToken)}`;
      const byRun = spec.runExecutionToken !== undefined && meta.name === `${jobName}-${String(spec.runExecutionToken)}`;
      if (byStart && completionStatus !== 'EXECUTION_PENDING') {
        setCondition(status.conditions as Condition[], completionStatus === 'EXECUTION_CANCELLED' || completionStatus === 'EXECUTION_FAILED' && !completedAt
          ? { type: 'Ready', status: 'False', reason: 'ExecutionFailed', message: failure ?? 'The execution did not start.' } : { type: 'Ready', status: 'True' }, now);
        changed = true;
      } else if (byRun && completedAt) {
        setCondition(status.conditions as Condition[], completionStatus === 'EXECUTION_SUCCEEDED' ? { type: 'Ready', status: 'True' }
          : { type: 'Ready', status: 'False', reason: 'ExecutionFailed', message: failure ?? 'The execution failed.' }, now);
        changed = true;
      }
    }
    if (changed) this.saveJob(w, jobKey, job);
  }

  // ---- executions ----

  private reconcileExecution(key: string, ctx: ReconcileContext): void {
    const launches: (() => void)[] = [];
    this.d.store.tx(w => this.stepExecution(w, key, ctx, launches));
    // Real attempts start only once the step that marked them started is committed (the controllers' batch may hold
    // the transaction open after this step): a Gantry killed in between finds them started and lost (failed and
    // retried, what is left of them reaped), never silently runs them twice.
    this.d.store.afterCommit(() => {
      // The handles of the attempts started here are recorded together once they have all started: one write of the
      // execution, not one each.
      const handles: Started[] = [];
      this.startedNow = { key, handles };
      try {
        for (const launch of launches) launch();
      } finally {
        this.startedNow = undefined;
        if (handles.length) this.recordHandles(key, handles);
      }
    });
  }

  /** Handles reported while a step's attempts are being launched (recorded after the last one). */
  private startedNow?: { key: string; handles: Started[] };

  private stepExecution(w: Writer, key: string, ctx: ReconcileContext, launches: (() => void)[]): void {
    const ex = this.d.store.getParsed<Obj>(key);
    const results = this.results.get(key);
    this.results.delete(key);
    if (!ex || isTerminal(ex)) return;
    // A step that changes nothing writes nothing: every write is a change that reconciles again.
    const before = this.d.store.get(key)!.data;
    const book = bookkeeping(ex);
    const status = ex.status as Obj;
    const conditions = status.conditions as Condition[];
    const now = nowMicros(this.d.clock);
    const nowMs = this.d.clock.now();
    const ref = parseKey(key);
    const name = String((ex.metadata as Obj).name);
    const spec = ex.spec as Obj;
    const taskCount = Number(spec.taskCount);
    const taskSpec = ((spec.template as Obj).spec ?? {}) as Obj;
    const aliases = secretAliases((ex.metadata as Obj).annotations);
    const maxRetries = Number(taskSpec.maxRetries ?? 3);
    const timeoutMs = Number(taskSpec.timeoutSeconds ?? 600) * 1000;
    const parallelism = Math.min(Number(spec.parallelism ?? 0) || this.d.maxParallelism, taskCount);
    const jobName = String(((ex.metadata as Obj).labels as Obj)[L.job]);
    const simulated = book.executor === 'simulated';

    for (const { index, attempt, result } of results ?? []) {
      const a = book.running[index];
      if (a && a.attempt === attempt) this.finishAttempt(w, key, ex, index, result, maxRetries);
    }
    if (conditionOf(conditions, 'Started')?.status !== 'True') {
      setCondition(conditions, { type: 'ResourcesAvailable', status: 'True' }, now);
      setCondition(conditions, { type: 'Started', status: 'True' }, now);
      status.startTime = now;
      this.updateJob(w, key, ex, 'EXECUTION_RUNNING');
      this.d.decisions?.say(`Cloud Run: execution ${name} of job ${jobName} started: ${taskCount} task${taskCount === 1 ? '' : 's'}, ${parallelism} at a time, on the ${book.executor} executor`);
    }
    const context = (index: number, attempt: number): AttemptContext => ({
      project: ref.project, projectNumber: this.d.projects.number(ref.project), region: ref.region, job: jobName, execution: name,
      taskIndex: index, taskCount, attempt, timeoutMs, secretAliases: aliases,
    });
    let rules: TaskRule[][] | undefined;
    let wake = Infinity;
    // Attempts to start: retries first (their tasks hold a slot), then new tasks in index order.
    const start = (index: number, a: Attempt) => {
      a.startMs = nowMs;
      const tk = taskKey(ref, taskId(name, index));
      if (a.attempt === 0) this.markTask(w, tk, now);
      if (simulated) {
        rules ??= this.d.rules(executionKeyToJob(key, jobName), this.d.store.getParsed<Obj>(executionKeyToJob(key, jobName)) ?? {});
        const s = simulate(rules, index, a.attempt, this.d.taskMs(), timeoutMs);
        a.endsAt = nowMs + s.durationMs;
        a.sim = s.timedOut ? { timedOut: true } : { exitCode: s.exitCode, ...(s.message ? { message: s.message } : {}) };
        wake = Math.min(wake, a.endsAt);
        this.d.decisions?.say(`Cloud Run: ${attemptLabel(name, index, a.attempt)} started (simulated: ${s.timedOut ? 'times out' : `exit ${s.exitCode}`} after ${s.durationMs / 1000}s)`);
        return;
      }
      this.d.decisions?.say(`Cloud Run: ${attemptLabel(name, index, a.attempt)} started on the ${book.executor} executor`);
      const attempt = a.attempt, actx = context(index, attempt);
      launches.push(() => {
        const run = this.d.attempts.launch(book.executor, taskSpec, actx, handle => this.recordHandle(key, index, attempt, handle));
        this.live.set(tk, { attempt, run });
        ctx.track(run.done.then(r => this.attemptDone(key, index, attempt, r)));
      });
    };
    for (const [i, a] of Object.entries(book.running)) {
      const index = Number(i);
      const tk = taskKey(ref, taskId(name, index));
      if (a.startMs === undefined) { start(index, a); continue; }
      if (a.endsAt !== undefined) {
        if (a.endsAt <= nowMs) {
          const result: TaskResult = a.sim?.timedOut ? { kind: 'timedOut' } : { kind: 'exited', code: a.sim?.exitCode ?? 0 };
          this.d.attempts.logSimulated(context(index, a.attempt), a.sim?.timedOut ? 'timed out' : `exit ${a.sim?.exitCode ?? 0}`, a.sim?.message);
          this.finishAttempt(w, key, ex, index, result, maxRetries);
        } else wake = Math.min(wake, a.endsAt);
        continue;
      }
      if (this.live.get(tk)?.attempt === a.attempt) continue;
      // Started by a previous Gantry: re-attach, or fail the attempt (it is retried under the normal rules).
      this.live.set(tk, { attempt: a.attempt, run: { done: new Promise(() => {}), cancel: () => {} } });
      ctx.track(this.recover(key, index, a, context(index, a.attempt)));
    }
    for (const [i, a] of Object.entries(book.running)) if (a.startMs === undefined) start(Number(i), a);
    while (Object.keys(book.running).length < parallelism && book.next < taskCount) {
      const a: Attempt = { attempt: 0 };
      book.running[book.next] = a;
      start(book.next, a);
      book.next++;
    }
    setCount(status, 'runningCount', Object.keys(book.running).length);
    if (book.next >= taskCount && !Object.keys(book.running).length) this.complete(w, key, ex);
    else if (JSON.stringify(ex) !== before) this.saveExecution(w, key, ex);
    if (wake < Infinity) ctx.wakeAt(wake);
  }

  private recordHandle(key: string, index: number, attempt: number, handle: string): void {
    if (this.startedNow?.key === key) this.startedNow.handles.push({ index, attempt, handle });
    else this.recordHandles(key, [{ index, attempt, handle }]);
  }

  private recordHandles(key: string, started: Started[]): void {
    this.d.store.tx(w => {
      const ex = this.d.store.getParsed<Obj>(key);
      if (!ex) return;
      const running = bookkeeping(ex).running;
      let changed = false;
      for (const { index, attempt, handle } of started) {
        const a = running[index];
        if (a && a.attempt === attempt) { a.handle = handle; changed = true; }
      }
      if (changed) this.saveExecution(w, key, ex);
    });
  }

  private async recover(key: string, index: number, a: Attempt, ctx: AttemptContext): Promise<void> {
    const ex = this.d.store.getParsed<Obj>(key);
    if (!ex) return;
    const mode = bookkeeping(ex).executor;
    const found = this.d.attempts.resume(mode, a.handle, ctx);
    const { task: resumed, reaped } = await (this.d.restart?.check(found) ?? found);
    const tk = taskKey(parseKey(key), taskId(ctx.execution, index));
    const what = attemptLabel(ctx.execution, index, a.attempt);
    if (resumed) {
      this.d.decisions?.say(`Cloud Run: ${what} re-attached after the restart`);
      this.live.set(tk, { attempt: a.attempt, run: resumed });
      return this.attemptDone(key, index, a.attempt, await resumed.done);
    }
    if (reaped) this.d.restart?.note('reaped', mode === 'container' ? 'container' : 'process');
    const retries = a.attempt < Number((((ex.spec as Obj).template as Obj).spec as Obj | undefined)?.maxRetries ?? 3);
    this.d.restart?.note(retries ? 'lost-retried' : 'lost-failed', 'task attempt');
    this.d.decisions?.say(`Cloud Run: ${what} was lost when Gantry stopped; ${retries ? 'it is retried' : 'no retries left: the task fails'}`);
    this.attemptDone(key, index, a.attempt, { kind: 'failedToStart', message: 'The task attempt was lost when Gantry stopped while it ran.' });
  }

  private attemptDone(key: string, index: number, attempt: number, result: TaskResult): void {
    const tk = taskKey(parseKey(key), taskId(key.slice(key.lastIndexOf('/') + 1), index));
    if (this.live.get(tk)?.attempt === attempt) this.live.delete(tk);
    // An execution deleted meanwhile (a reset, a delete) has no step to read the result: none is kept for it.
    if (!this.d.store.get(key)) { this.results.delete(key); return; }
    const pending = this.results.get(key) ?? [];
    pending.push({ index, attempt, result });
    this.results.set(key, pending);
    this.d.enqueue(EXECUTION, key);
  }

  /** Records an attempt's result on its task: done (Succeeded or Failed), or retried with a new attempt. */
  private finishAttempt(w: Writer, key: string, ex: Obj, index: number, result: TaskResult, maxRetries: number): void {
    const book = bookkeeping(ex);
    const a = book.running[index];
    const tk = taskKey(parseKey(key), taskId(String((ex.metadata as Obj).name), index));
    const now = nowMicros(this.d.clock);
    const status = ex.status as Obj;
    const attemptResult = describe(result);
    const ok = result.kind === 'exited' && result.code === 0;
    const task = this.d.store.getParsed<Obj>(tk);
    if (!task) { delete book.running[index]; return; }
    const ts = task.status as Obj;
    ts.lastAttemptResult = attemptResult.result;
    const exName = String((ex.metadata as Obj).name);
    const how = ok ? 'succeeded' : result.kind === 'exited' ? `exit ${result.code}` : attemptResult.message;
    this.d.decisions?.say(`Cloud Run: ${attemptLabel(exName, index, a.attempt)} ended: ${how}${ok ? '' : a.attempt < maxRetries ? '; the task is retried' : '; the task failed'}`);
    if (!ok && a.attempt < maxRetries) {
      ts.retried = a.attempt + 1;
      if (a.attempt === 0) setCount(status, 'retriedCount', Number(status.retriedCount ?? 0) + 1);
      setCondition((ts.conditions ??= []) as Condition[], { type: 'Retry', status: 'True', reason: 'ImmediateRetry', severity: 'Info',
        message: `System will retry after 0:00:00 from lastTransitionTime for attempt ${a.attempt + 1}.` }, now);
      this.saveTask(w, tk, task, now);
      book.running[index] = { attempt: a.attempt + 1 };
      return;
    }
    delete book.running[index];
    ts.completionTime = now;
    const conditions = (ts.conditions ??= []) as Condition[];
    if (ok) {
      setCondition(conditions, { type: 'Completed', status: 'True' }, now);
      (task.metadata as Obj).labels = { ...((task.metadata as Obj).labels as Obj), [L.runningState]: 'Succeeded' };
      setCount(status, 'succeededCount', Number(status.succeededCount ?? 0) + 1);
    } else {
      const message = `Task ${String((task.metadata as Obj).name)} failed with message: ${attemptResult.message}`;
      setCondition(conditions, { type: 'Completed', status: 'False', reason: 'NonZeroExitCode', message: attemptResult.message }, now);
      (task.metadata as Obj).labels = { ...((task.metadata as Obj).labels as Obj), [L.runningState]: 'Failed' };
      setCount(status, 'failedCount', Number(status.failedCount ?? 0) + 1);
      book.firstFailure ??= message;
    }
    this.saveTask(w, tk, task, now);
  }

  private complete(w: Writer, key: string, ex: Obj): void {
    const status = ex.status as Obj;
    const now = nowMicros(this.d.clock);
    const book = bookkeeping(ex);
    status.completionTime = now;
    setCount(status, 'runningCount', 0);
    const failed = Number(status.failedCount ?? 0);
    const taskCount = Number((ex.spec as Obj).taskCount);
    const conditions = status.conditions as Condition[];
    this.d.decisions?.say(`Cloud Run: execution ${String((ex.metadata as Obj).name)} ended: ${failed ? `failed (${failed} of ${taskCount} tasks failed)` : `succeeded (${taskCount} task${taskCount === 1 ? '' : 's'})`}`);
    if (failed) {
      const message = failed > 1 ? `${book.firstFailure} ${failed} of ${taskCount} tasks failed.` : String(book.firstFailure);
      setCondition(conditions, { type: 'Completed', status: 'False', reason: 'NonZeroExitCode', message }, now);
      this.saveExecution(w, key, ex);
      this.updateJob(w, key, ex, 'EXECUTION_FAILED', now, message);
    } else {
      setCondition(conditions, { type: 'Completed', status: 'True' }, now);
      this.saveExecution(w, key, ex);
      this.updateJob(w, key, ex, 'EXECUTION_SUCCEEDED', now);
    }
    this.prune(w, key.replace(/\/executions\/[^/]+$/, `/jobs/${String(((ex.metadata as Obj).labels as Obj)[L.job])}`));
  }

  /**
   * Cloud Run keeps the details of a job's newest 1,000 executions and of every execution of the last 7 days: older
   * finished ones go, with their tasks. Checked every 25th finished execution, so a busy job pays it rarely.
   */
  private prune(w: Writer, jobKey: string): void {
    const job = this.d.store.getParsed<Obj>(jobKey);
    const count = Number(((job?.status ?? {}) as Obj).executionCount ?? 0);
    if (count <= KEEP_EXECUTIONS || count % 25 !== 0) return;
    const all = this.d.store.children(EXECUTION, jobKey);
    const weekAgo = this.d.clock.now() - 7 * 86_400_000;
    const ref = parseKey(jobKey);
    for (const ex of all.slice(0, Math.max(0, all.length - KEEP_EXECUTIONS))) {
      const meta = ex.metadata as Obj;
      if (!isTerminal(ex) || Date.parse(String(meta.creationTimestamp)) >= weekAgo) continue;
      this.deleteExecution(w, executionKey(ref, String(meta.name)));
    }
  }

  private markTask(w: Writer, tk: string, now: string): void {
    const task = this.d.store.getParsed<Obj>(tk);
    if (!task) return;
    const ts = task.status as Obj;
    ts.startTime ??= now;
    setCondition((ts.conditions ??= []) as Condition[], { type: 'Started', status: 'True' }, now);
    (task.metadata as Obj).labels = { ...((task.metadata as Obj).labels as Obj), [L.runningState]: 'Running' };
    this.saveTask(w, tk, task, now);
  }

  private endTask(w: Writer, tk: string, state: 'Cancelled' | 'Abandoned', now: string, result?: { exitCode?: number; message: string; code: number }): void {
    const task = this.d.store.getParsed<Obj>(tk);
    if (!task) return;
    const labels = (task.metadata as Obj).labels as Obj;
    if (TERMINAL.has(String(labels[L.runningState]))) return;
    const ts = task.status as Obj;
    labels[L.runningState] = state;
    ts.completionTime = now;
    if (result) ts.lastAttemptResult = { status: { code: result.code, message: result.message } };
    setCondition((ts.conditions ??= []) as Condition[], { type: 'Completed', status: 'False', reason: state, message: state === 'Cancelled' ? 'Cancelled by user.' : 'The task was never started: its execution was cancelled.' }, now);
    this.saveTask(w, tk, task, now);
  }

  private saveTask(w: Writer, tk: string, task: Obj, now: string): void {
    const meta = task.metadata as Obj;
    meta.resourceVersion = resourceVersion(now);
    const ref = parseKey(tk);
    w.put(TASK, tk, executionKey(ref, String((meta.labels as Obj)[L.execution])), task, String(meta.creationTimestamp), false);
  }
}

/** An attempt as the log names it: `execution E task N attempt M`. */
function attemptLabel(execution: string, index: number, attempt: number): string {
  return `execution ${execution} task ${index} attempt ${attempt}`;
}

function executionKeyToJob(exKey: string, job: string): string { return exKey.replace(/\/executions\/[^/]+$/, `/jobs/${job}`); }

/** lastAttemptResult and the message of an attempt's result, as Cloud Run words them. */
function describe(r: TaskResult): { result: Obj; message: string } {
  switch (r.kind) {
    case 'exited':
      return r.code === 0 ? { result: { exitCode: 0, status: {} }, message: '' }
        : { result: { exitCode: r.code, status: { code: 10, message: 'The container exited with an error.' } }, message: 'The container exited with an error.' };
    case 'signalled': return { result: { termSignal: signalNumber(r.signal), status: { code: 10, message: 'The container exited with an error.' } }, message: 'The container exited with an error.' };
    case 'timedOut': return { result: { status: { code: 4, message: 'The configured timeout was reached.' } }, message: 'The configured timeout was reached.' };
    case 'cancelled': return { result: { status: { code: 1, message: 'Cancelled by user.' } }, message: 'Cancelled by user.' };
    case 'failedToStart': return { result: { status: { code: 9, message: `The container failed to start: ${r.message}` } }, message: `The container failed to start: ${r.message}` };
  }
}

const SIGNALS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGABRT: 6, SIGKILL: 9, SIGSEGV: 11, SIGPIPE: 13, SIGTERM: 15 };
function signalNumber(s: string): number { return SIGNALS[s] ?? 0; }
