// One attempt of one task: what it runs (the container with its env, secrets and overrides), where (the simulated,
// process or container executor), and what came of it. The executors are Gantry's shared ones (src/executors/).
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Executor, RunningTask, TaskResult, TaskSpec } from '../../executors/executor.js';
import { pickRule, type Rule, type RuleGrammar } from '../../engine/outcomes.js';
import { ApiError } from '../../google/errors.js';
import type { SecretAccessor } from '../secretmanager/index.js';
import { containerSpec } from './container-spec.js';
import type { LogEntryInput, LogWriter } from '../logging/index.js';
import type { Logger } from '../../server/log.js';
import type { Obj } from './meta.js';

export const OUTCOMES_ANNOTATION = 'gantry.dev/outcomes';
/** SIGTERM, then SIGKILL this long after, when a task times out or is cancelled. */
export const GRACE_MS = 10_000;

/** Scripted task outcomes: `<task index|*>=<succeed|fail[:EXIT CODE]["what it prints"]|hang>[@N][~DURATION]`. */
export const TASK_RULES: RuleGrammar<'succeed' | 'fail' | 'hang'> = {
  shape: '<task index|*>',
  example: '3=fail:2@1 (task 3 exits 2 on its first attempt), *=succeed~5s',
  selectors: [{ pattern: /^\d{1,5}$/ }],
  outcomes: ['succeed', 'fail', 'hang'],
  detail: (outcome, detail) => {
    if (detail === undefined) return undefined;
    if (outcome !== 'fail') return 'only fail takes an exit code.';
    return /^\d{1,3}$/.test(detail) && Number(detail) >= 1 && Number(detail) <= 255 ? undefined : `the exit code must be 1 to 255, got "${detail}".`;
  },
};

export type TaskRule = Rule<'succeed' | 'fail' | 'hang'>;

/** What the attempt of a task is, for a log entry and the task environment. */
export interface AttemptContext {
  project: string;
  projectNumber: string;
  region: string;
  job: string;
  execution: string;
  taskIndex: number;
  taskCount: number;
  attempt: number;
  timeoutMs: number;
  /** gcloud's aliases of secrets named by their long form (the execution's `run.googleapis.com/secrets`). */
  secretAliases?: Map<string, string>;
}

export interface AttemptDeps {
  executors: Record<string, Executor>;
  secrets: SecretAccessor;
  logs: LogWriter;
  /** Builds the log entry of one line of a task's output. */
  entry(ctx: AttemptContext, stream: 'stdout' | 'stderr', line: string): LogEntryInput;
  volumesRoot: string;
  log: Logger;
}

/** The simulated outcome of an attempt (1-based `attempt` in rules). */
export function simulate(rules: TaskRule[][], index: number, attempt: number, defaultMs: number, timeoutMs: number): { durationMs: number; exitCode?: number; timedOut?: boolean; message?: string } {
  const r = pickRule(rules, [String(index)], attempt + 1);
  if (!r || r.outcome === 'succeed') return { durationMs: Math.min(r?.durationMs ?? defaultMs, timeoutMs), ...((r?.durationMs ?? defaultMs) > timeoutMs ? { timedOut: true } : { exitCode: 0 }) };
  if (r.outcome === 'hang') return { durationMs: timeoutMs, timedOut: true };
  const duration = r.durationMs ?? defaultMs;
  if (duration > timeoutMs) return { durationMs: timeoutMs, timedOut: true };
  return { durationMs: duration, exitCode: Number(r.detail ?? 1), ...(r.message ? { message: r.message } : {}) };
}

/** A line splitter per stream: output arrives in chunks, entries are lines. */
class Lines {
  private rest = '';
  constructor(private emit: (line: string) => void) {}
  push(chunk: string): void {
    const parts = (this.rest + chunk).split('\n');
    this.rest = parts.pop() ?? '';
    if (this.rest.length > 64 * 1024) { parts.push(this.rest); this.rest = ''; }
    for (const p of parts) this.emit(p.endsWith('\r') ? p.slice(0, -1) : p);
  }
  flush(): void { if (this.rest) this.emit(this.rest); this.rest = ''; }
}

export class Attempts {
  constructor(private deps: AttemptDeps) {}

  /**
   * Starts a real attempt. Secrets that cannot be read fail it before anything runs (as Cloud Run fails a task whose
   * secret is gone). `onHandle` records the process or container for a restarted Gantry.
   */
  launch(mode: string, taskSpec: Obj, ctx: AttemptContext, onHandle: (h: string) => void): RunningTask {
    const executor = this.deps.executors[mode];
    if (!executor) return failed(`The ${mode} executor is not enabled on this Gantry, so nothing ran (the operator enables it with --executor ${mode} or --allow-executors ${mode}).`);
    let spec: TaskSpec;
    const dir = join(this.deps.volumesRoot, `${ctx.execution}-${ctx.taskIndex}-${ctx.attempt}`);
    try {
      spec = containerSpec(taskSpec, { project: ctx.project, projectNumber: ctx.projectNumber, secretAliases: ctx.secretAliases }, this.deps.secrets, dir, {
        CLOUD_RUN_JOB: ctx.job, CLOUD_RUN_EXECUTION: ctx.execution, CLOUD_RUN_TASK_INDEX: String(ctx.taskIndex),
        CLOUD_RUN_TASK_COUNT: String(ctx.taskCount), CLOUD_RUN_TASK_ATTEMPT: String(ctx.attempt),
      }, { 'gantry.dev/job': ctx.job, 'gantry.dev/execution': ctx.execution, 'gantry.dev/task-index': String(ctx.taskIndex) });
      spec.timeoutMs = ctx.timeoutMs;
      spec.graceMs = GRACE_MS;
    } catch (e) {
      rmSync(dir, { recursive: true, force: true });
      return failed(e instanceof ApiError ? e.message : `Gantry could not prepare the task: ${(e as Error).message}`);
    }
    spec.onStarted = onHandle;
    spec.owner = ownerOf(ctx);
    let running: RunningTask;
    try {
      running = executor.start(spec, this.logger(ctx));
    } catch (e) {
      // What the system refuses to start (an environment too large for exec, E2BIG) fails this attempt with the
      // reason, under the task's retry rules; thrown out of the controller's step, it was retried every second forever.
      rmSync(dir, { recursive: true, force: true });
      return failed(`Gantry could not start the task: ${(e as Error).message}`);
    }
    const done = running.done.finally(() => rmSync(dir, { recursive: true, force: true }));
    return { done, cancel: () => running.cancel() };
  }

  /**
   * Takes back an attempt a previous Gantry started, where the executor can (`task`); else stops what is left of it
   * (`reaped`: something was).
   */
  async resume(mode: string, handle: string | undefined, ctx: AttemptContext): Promise<{ task?: RunningTask; reaped: boolean }> {
    const executor = this.deps.executors[mode];
    if (!executor) return { reaped: false };
    const spec: TaskSpec = { command: [], args: [], env: {}, timeoutMs: ctx.timeoutMs, graceMs: GRACE_MS, owner: ownerOf(ctx) };
    // Killed before it recorded the handle: only the owner (this very attempt) finds what is left of it.
    if (handle === undefined) return { reaped: await executor.reapOwned?.(spec.owner!).catch(() => false) ?? false };
    const task = await executor.resume?.(handle, spec, this.logger(ctx)).catch(() => undefined);
    if (task) return { task, reaped: false };
    return { reaped: await executor.reap?.(handle, spec.owner).catch(() => false) ?? false };
  }

  /** The line a simulated attempt logs, so logs read shows every attempt; a scripted failure's message before it, on stderr. */
  logSimulated(ctx: AttemptContext, result: string, message?: string): void {
    this.deps.logs.write([
      ...(message ? [this.deps.entry(ctx, 'stderr', message)] : []),
      this.deps.entry(ctx, 'stdout', `Simulated task ${ctx.taskIndex}, attempt ${ctx.attempt}: ${result}`),
    ]);
  }

  private logger(ctx: AttemptContext): (stream: 'stdout' | 'stderr', chunk: string) => void {
    // Lines are batched per chunk: a task that prints a lot costs one log write per chunk, not per line.
    const batch: LogEntryInput[] = [];
    const streams = {
      stdout: new Lines(l => batch.push(this.deps.entry(ctx, 'stdout', l))),
      stderr: new Lines(l => batch.push(this.deps.entry(ctx, 'stderr', l))),
    };
    return (stream, chunk) => {
      streams[stream].push(chunk);
      if (batch.length) this.deps.logs.write(batch.splice(0));
    };
  }

}

function failed(message: string): RunningTask {
  return { done: Promise.resolve<TaskResult>({ kind: 'failedToStart', message }), cancel: () => {} };
}

/**
 * What an attempt's task works for, as the task registry knows it: the attempt, under its execution and project (what
 * a reset stops). Naming the attempt lets a restarted Gantry find an attempt whose handle it never recorded.
 */
function ownerOf(ctx: AttemptContext): string {
  return `projects/${ctx.project}/locations/${ctx.region}/executions/${ctx.execution}/tasks/${ctx.taskIndex}/attempts/${ctx.attempt}`;
}
