// Real execution of job runs (process or container executor): which tasks a job runs, with what
// environment and timeout, and how their exits become the job run's result. Tasks come from the
// release's Skaffold config (custom actions, the verify stanza), the job's own `tasks` (the stage's
// predeploy/postdeploy tasks and verifyConfig tasks, copied into the rollout's plan per phase), or a
// custom target type's deploy action. Deploys to built-in target kinds run no task here: they record
// the rendered manifests as the job run's artifact.
import type { Store } from '../../store/store.js';
import { ApiError } from '../../google/errors.js';
import type { Clock } from '../../engine/clock.js';
import type { Executor, RunningTask, TaskResult, TaskSpec } from '../../executors/executor.js';
import type { Logger } from '../../server/log.js';
import { parseDurationMs } from '../../google/time.js';
import type { Resource } from '../../google/standard-methods.js';
import { envOf, loadSkaffold, type Container, type SourceReader } from './skaffold.js';
import { releaseOf, saveJobRun, snapshotOf, type Rollout } from './rollouts.js';

type Obj = Record<string, unknown>;
const USAGE: Record<string, string> = { predeploy: 'PREDEPLOY', deploy: 'DEPLOY', verify: 'VERIFY', postdeploy: 'POSTDEPLOY' };
const FIELD: Record<string, string> = { predeploy: 'predeployJobRun', deploy: 'deployJobRun', verify: 'verifyJobRun', postdeploy: 'postdeployJobRun' };
const DEFAULT_TIMEOUT_MS = 3_600_000;

export interface LogSink { write(gsUrl: string, data: Buffer, contentType: string): void; httpUrl(gsUrl: string): string }

interface Outcome { ok: boolean; cause?: string; message?: string; artifact?: Obj; skipMessage?: string }
/** A task in the API's form (schema message `Task`). */
interface Task { containersTask?: { containers?: Container[] }; container?: Container; config?: { id?: string } }
/** What one job run is running now; `cancelled` also stops the containers it has not started yet. */
interface Run { tasks: RunningTask[]; cancelled: boolean }

export class JobExecutions {
  private running = new Map<string, Run>();

  constructor(private store: Store, private clock: Clock, private executors: Record<string, Executor>,
    private storage: SourceReader & LogSink, private workRoot: string, private log: Logger) {}

  isRunning(jobRun: string): boolean { return this.running.has(jobRun); }

  /** Stops a running job run's tasks (terminate or cancel). */
  cancel(jobRun: string): void {
    const run = this.running.get(jobRun);
    if (!run) return;
    run.cancelled = true;
    for (const t of run.tasks) t.cancel();
  }

  /** Starts the job run's tasks unless they run already; writes the result when they end. */
  start(jobRunName: string, mode: string): void {
    if (this.running.has(jobRunName)) return;
    this.running.set(jobRunName, { tasks: [], cancelled: false });
    this.run(jobRunName, mode).then(outcome => this.finish(jobRunName, outcome), (e: Error) => {
      this.log.error(`job run ${jobRunName}: ${e.stack ?? e.message}`);
      // Google errors are written for clients; anything else (a file system error) may name host paths: it stays in the log.
      const why = e instanceof ApiError ? `: ${e.message}` : ' (the details are in Gantry\'s log)';
      this.finish(jobRunName, { ok: false, cause: 'EXECUTION_FAILED', message: `Gantry could not run the job${why}` });
    });
  }

  private async run(jobRunName: string, mode: string): Promise<Outcome> {
    const jr = this.store.getParsed<Resource>(jobRunName)!;
    const rolloutName = jobRunName.slice(0, jobRunName.indexOf('/jobRuns/'));
    const rollout = this.store.getParsed<Rollout>(rolloutName)!;
    const release = this.store.getParsed<Resource>(releaseOf(rolloutName))!;
    const { target } = snapshotOf(release, rollout.targetId);
    const jobId = String(jr.jobId), phaseId = String(jr.phaseId);
    const phase = rollout.phases.find(p => p.id === phaseId)!;
    const job = Object.values(phase.deploymentJobs ?? {}).find(j => j.id === jobId) as Obj;
    const skaffold = await loadSkaffold(release, this.storage, this.workRoot);
    // Steps run one after another; the containers of one step side by side.
    const steps: Container[][] = [];
    let artifact: Obj | undefined;
    const missing = (what: string, cause = 'EXECUTION_FAILED'): Outcome => ({ ok: false, cause, message: what });
    // The job's tasks, in order: a task's containers run side by side (ContainersTask), or its one container.
    const taskSteps = (tasks: Task[]): Outcome | undefined => {
      for (const [i, t] of tasks.entries()) {
        if (t.config) {
          return missing(`tasks[${i}] of the ${jobId} job is a config task (task configuration "${String(t.config.id ?? '')}"), which Gantry cannot run; give the task's containers (containersTask) instead.`);
        }
        if (t.container) steps.push([{ name: `tasks[${i}].container`, ...t.container }]);
        const containers = t.containersTask?.containers ?? [];
        if (containers.length) steps.push(containers.map((c, j) => ({ name: `tasks[${i}].containersTask.containers[${j}]`, ...c })));
      }
      return undefined;
    };

    if (jobId === 'predeploy' || jobId === 'postdeploy') {
      const hook = (job[`${jobId}Job`] ?? {}) as { actions?: string[]; tasks?: Task[] };
      const refused = taskSteps(hook.tasks ?? []);
      if (refused) return refused;
      const containers: Container[] = [];
      for (const name of hook.actions ?? []) {
        const action = skaffold.customActions.get(name);
        if (!action) return missing(`Custom action "${name}" is not defined in the release's Skaffold config.`);
        containers.push(...action);
      }
      if (containers.length) steps.push(containers);
    } else if (jobId === 'verify') {
      const tasks = ((job.verifyJob ?? {}) as { tasks?: Task[] }).tasks ?? [];
      if (tasks.length) {
        const refused = taskSteps(tasks);
        if (refused) return refused;
      } else {
        if (!skaffold.verify.length) return missing('The release\'s Skaffold config has no verify stanza.', 'VERIFICATION_CONFIG_NOT_FOUND');
        steps.push(skaffold.verify.map(v => ({ name: v.name, ...v.container })));
      }
    } else {
      const custom = (target?.customTarget as Obj | undefined)?.customTargetType as string | undefined;
      if (custom) {
        const ctt = ((release.customTargetTypeSnapshots as Resource[] | undefined) ?? []).find(c => c.name === custom) ?? {};
        const actionName = (ctt.customActions as Obj | undefined)?.deployAction as string | undefined;
        if (actionName) {
          const action = skaffold.customActions.get(actionName);
          if (!action) return missing(`Deploy action "${actionName}" of custom target type ${custom} is not defined in the release's Skaffold config.`);
          steps.push(action);
        }
      }
      const rendered = (release.targetArtifacts as Record<string, Obj> | undefined)?.[rollout.targetId];
      const phaseArtifact = (rendered?.phaseArtifacts as Record<string, Obj> | undefined)?.[phaseId];
      if (rendered) artifact = { artifactUri: rendered.artifactUri, manifestPaths: [String(phaseArtifact?.manifestPath ?? rendered.manifestPath)] };
      if (!steps.length) return { ok: true, artifact };
    }

    const [, project, , location, , pipeline, , releaseId, , rolloutId] = rolloutName.split('/');
    const env: Record<string, string> = {
      CLOUD_DEPLOY_PROJECT: project, CLOUD_DEPLOY_LOCATION: location, CLOUD_DEPLOY_DELIVERY_PIPELINE: pipeline,
      CLOUD_DEPLOY_TARGET: rollout.targetId, CLOUD_DEPLOY_RELEASE: releaseId, CLOUD_DEPLOY_ROLLOUT: rolloutId,
      CLOUD_DEPLOY_JOB_RUN: jobRunName.slice(jobRunName.lastIndexOf('/') + 1), CLOUD_DEPLOY_PHASE: phaseId,
    };
    const config = ((target?.executionConfigs as Obj[] | undefined) ?? []).find(c => ((c.usages as string[]) ?? []).includes(USAGE[jobId]));
    const timeoutMs = config?.executionTimeout ? parseDurationMs(String(config.executionTimeout)) ?? DEFAULT_TIMEOUT_MS : DEFAULT_TIMEOUT_MS;
    const run = this.running.get(jobRunName) ?? { tasks: [], cancelled: false };
    const res = await this.runContainers(steps, env, skaffold.dir, timeoutMs, mode, `gs://gantry-logs/${rolloutName}/jobRuns/${String(jr.uid)}.log`, run);
    const extra = jobId === 'verify' ? { eventLogPath: res.logUrl } : {};
    if (res.ok) return { ok: true, artifact: { ...(artifact ?? {}), ...extra } };
    return { ok: false, cause: res.cause, message: res.message, artifact: extra };
  }

  /**
   * Runs steps one after another through an executor (a step's containers side by side, all within
   * `timeoutMs`), keeps their combined output at `logUrl`, and reports the first container that did
   * not exit 0; later steps do not start. `run` records what runs, for cancel.
   */
  async runContainers(steps: Container[][], env: Record<string, string>, workspace: string, timeoutMs: number, mode: string,
    logUrl: string, run: Run = { tasks: [], cancelled: false }): Promise<{ ok: boolean; cause?: string; message?: string; logUrl: string }> {
    const executor = this.executors[mode];
    if (!executor) return { ok: false, cause: 'EXECUTION_FAILED', message: `The ${mode} executor is not enabled on this Gantry, so nothing ran (the operator enables it with --executor ${mode} or --allow-executors ${mode}).`, logUrl };
    let logText = '';
    const deadline = Date.now() + timeoutMs;
    let failed: { r: TaskResult; c: Container; i: number } | undefined;
    let n = 0;
    for (const containers of steps.filter(s => s.length)) {
      if (run.cancelled) { failed = { r: { kind: 'cancelled' }, c: containers[0], i: n }; break; }
      const specs: TaskSpec[] = containers.map(c => ({
        image: c.image, command: c.command ?? [], args: c.args ?? [], env: { ...env, ...envOf(c) }, workspace, timeoutMs: Math.max(1, deadline - Date.now()),
      }));
      const first = n;
      run.tasks = specs.map((spec, i) => executor.start(spec, (stream, chunk) => {
        if (logText.length < 1 << 20) logText += chunk.split('\n').filter((l, j, a) => l || j < a.length - 1).map(l => `[${containers[i].name ?? `task-${first + i}`}] ${stream}: ${l}`).join('\n') + '\n';
      }));
      const results = await Promise.all(run.tasks.map(t => t.done));
      const bad = results.findIndex(r => !(r.kind === 'exited' && r.code === 0));
      if (bad >= 0) { failed = { r: results[bad], c: containers[bad], i: first + bad }; break; }
      n += containers.length;
    }
    run.tasks = [];
    this.storage.write(logUrl, Buffer.from(logText), 'text/plain');
    const logNote = `Logs: ${logUrl} (${this.storage.httpUrl(logUrl)})`;
    if (!failed) return { ok: true, logUrl };
    const { r, c, i } = failed;
    const who = `container "${c.name ?? `task-${i}`}"`;
    if (r.kind === 'cancelled') return { ok: false, cause: 'CANCELLED', message: `${who} was stopped. ${logNote}`, logUrl };
    if (r.kind === 'timedOut') return { ok: false, cause: 'DEADLINE_EXCEEDED', message: `${who} exceeded the execution timeout of ${timeoutMs / 1000}s. ${logNote}`, logUrl };
    return { ok: false, cause: 'EXECUTION_FAILED', message: `${who} ${describe(r)}. ${logNote}`, logUrl };
  }

  /**
   * Runs the render action of every custom target whose executor is real; a failure
   * fails that target's render with EXECUTION_FAILED.
   */
  async renderCustomTargets(release: Resource, modeFor: (targetId: string) => string): Promise<Map<string, { cause: string; message: string }>> {
    const out = new Map<string, { cause: string; message: string }>();
    const ctts = (release.customTargetTypeSnapshots as Resource[] | undefined) ?? [];
    if (!ctts.length) return out;
    const skaffold = await loadSkaffold(release, this.storage, this.workRoot);
    const [, project, , location, , pipeline, , releaseId] = String(release.name).split('/');
    for (const t of (release.targetSnapshots as Resource[] | undefined) ?? []) {
      const mode = modeFor(String(t.targetId));
      const ctt = ctts.find(c => c.name === (t.customTarget as Obj | undefined)?.customTargetType);
      if (!ctt || mode === 'simulated') continue;
      const actionName = (ctt.customActions as Obj | undefined)?.renderAction as string | undefined;
      const containers = actionName ? skaffold.customActions.get(actionName) ?? [] : [];
      if (!containers.length) continue;
      const env = { CLOUD_DEPLOY_PROJECT: project, CLOUD_DEPLOY_LOCATION: location, CLOUD_DEPLOY_DELIVERY_PIPELINE: pipeline, CLOUD_DEPLOY_TARGET: String(t.targetId), CLOUD_DEPLOY_RELEASE: releaseId };
      const res = await this.runContainers([containers], env, skaffold.dir, DEFAULT_TIMEOUT_MS, mode, `gs://gantry-logs/${String(release.name)}/render/${String(t.targetId)}.log`);
      if (!res.ok) out.set(String(t.targetId), { cause: res.cause === 'DEADLINE_EXCEEDED' ? 'EXECUTION_FAILED' : res.cause ?? 'EXECUTION_FAILED', message: `The render action of custom target type ${String(ctt.name)} failed: ${res.message}` });
    }
    return out;
  }

  private finish(jobRunName: string, o: Outcome): void {
    this.running.delete(jobRunName);
    this.store.tx(w => {
      const jr = this.store.getParsed<Resource>(jobRunName);
      if (!jr || (jr.state !== 'IN_PROGRESS' && jr.state !== 'TERMINATING')) return;
      const field = FIELD[String(jr.jobId)];
      const run = { ...((jr[field] ?? {}) as Obj) };
      jr.endTime = this.clock.timestamp();
      if (jr.state === 'TERMINATING' || o.cause === 'CANCELLED') {
        jr.state = 'TERMINATED';
      } else if (o.ok) {
        jr.state = 'SUCCEEDED';
        if (field === 'deployJobRun' && o.artifact?.artifactUri) run.artifact = o.artifact;
        if (field === 'verifyJobRun') Object.assign(run, o.artifact ?? {});
      } else {
        jr.state = 'FAILED';
        run.failureCause = o.cause;
        run.failureMessage = o.message;
        if (field === 'verifyJobRun') Object.assign(run, o.artifact ?? {});
      }
      jr[field] = run;
      saveJobRun(w, jr);
    });
  }
}

function describe(r: TaskResult): string {
  switch (r.kind) {
    case 'exited': return `exited with code ${r.code}`;
    case 'signalled': return `was killed by ${r.signal}`;
    case 'failedToStart': return `could not start: ${r.message}`;
    default: return r.kind;
  }
}
