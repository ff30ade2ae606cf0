// Real execution of job runs (process or container executor): which tasks a job runs, with what
// environment and timeout, and how their exits become the job run's result. Tasks come from the
// release's Skaffold config (custom actions, the verify stanza), the job's own `tasks` (the stage's
// predeploy/postdeploy tasks and verifyConfig tasks, copied into the rollout's plan per phase), or a
// custom target type's deploy action. A deploy to a Cloud Run target applies the phase's manifest to Gantry's Cloud
// Run (cloud-run-deploys.ts); deploys to other built-in target kinds run no task: they record the rendered manifests
// as the job run's artifact.
import type { Store } from '../../store/store.js';
import { GroupedWrites } from '../../store/grouped-writes.js';
import { cloudBuildStepEntry } from '../logging/producers.js';
import { ApiError } from '../../google/errors.js';
import type { Clock } from '../../engine/clock.js';
import type { Executor, RunningTask, TaskResult, TaskSpec } from '../../executors/executor.js';
import type { Logger } from '../../server/log.js';
import type { LogWriter } from '../logging/index.js';
import { parseDurationMs } from '../../google/time.js';
import type { Resource } from '../../google/standard-methods.js';
import { envOf, jobSkaffold, sourceDir, type Container, type SourceReader } from './skaffold.js';
import { customActionsOf, type ResolvedConfig } from '../../skaffold/index.js';
import { artifactBase, customTargetTypeOf, phaseLayout, stageFor } from './render.js';
import { customEnv, readResults, renderOutput } from './custom-target.js';
import { releaseOf, saveJobRun, snapshotOf, type Rollout } from './rollouts.js';
import { jobRunLabel, rolloutLabel } from './controllers/rollout-situation.js';
import type { CloudRunDeployer } from './cloud-run-deploys.js';

type Obj = Record<string, unknown>;
const USAGE: Record<string, string> = { predeploy: 'PREDEPLOY', deploy: 'DEPLOY', verify: 'VERIFY', postdeploy: 'POSTDEPLOY' };
const FIELD: Record<string, string> = { predeploy: 'predeployJobRun', deploy: 'deployJobRun', verify: 'verifyJobRun', postdeploy: 'postdeployJobRun' };
const DEFAULT_TIMEOUT_MS = 3_600_000;

export interface LogSink {
  /** Writes an object; a bucket it makes is `owner`'s (a project id), else Gantry's own. */
  write(gsUrl: string, data: Buffer, contentType: string, owner?: string): void; httpUrl(gsUrl: string): string; /** Gantry's HTTP origin. */ origin(): string }
/** A custom target's render: failed, or done (with the metadata its results reported). */
export type CustomRender = { ok: false; cause: string; message: string } | { ok: true; metadata?: Record<string, string> };

interface Outcome { ok: boolean; cause?: string; message?: string; artifact?: Obj; skipMessage?: string; customMetadata?: Record<string, string>; cloudRun?: Obj }
/** A task in the API's form (schema message `Task`). */
interface Task { containersTask?: { containers?: Container[] }; container?: Container; config?: { id?: string } }
/** What one job run is running now; `cancelled` also stops the containers it has not started yet. */
interface Run { tasks: RunningTask[]; cancelled: boolean; /** Settles once the result is written. */ done?: Promise<void>; /** The resource its tasks work for. */ owner?: string }

export class JobExecutions {
  private running = new Map<string, Run>();
  /** Gantry's Cloud Run, where deploys to Cloud Run targets apply their manifests (set once Cloud Run is registered). */
  cloudRun?: CloudRunDeployer;

  private results: GroupedWrites;

  constructor(private store: Store, private clock: Clock, private executors: Record<string, Executor>,
    private storage: SourceReader & LogSink, private workRoot: string, private log: Logger, readonly logs?: LogWriter) {
    this.results = new GroupedWrites(store);
  }

  isRunning(jobRun: string): boolean { return this.running.has(jobRun); }

  /** Stops a running job run's tasks (terminate or cancel). */
  cancel(jobRun: string): void {
    const run = this.running.get(jobRun);
    if (!run) return;
    run.cancelled = true;
    for (const t of run.tasks) t.cancel();
  }

  /** Starts the job run's tasks unless they run already; resolves once its result is written. */
  start(jobRunName: string, mode: string): Promise<void> {
    const running = this.running.get(jobRunName);
    if (running?.done) return running.done;
    const run: Run = { tasks: [], cancelled: false, owner: jobRunName };
    this.running.set(jobRunName, run);
    run.done = this.run(jobRunName, mode).then(outcome => this.finish(jobRunName, outcome), (e: Error) => {
      this.log.error(`job run ${jobRunName}: ${e.stack ?? e.message}`);
      // Google errors are written for clients; anything else (a file system error) may name host paths: it stays in the log.
      const why = e instanceof ApiError ? `: ${e.message}` : ' (the details are in Gantry\'s log)';
      return this.finish(jobRunName, { ok: false, cause: 'EXECUTION_FAILED', message: `Gantry could not run the job${why}` });
    });
    return run.done;
  }

  private async run(jobRunName: string, mode: string): Promise<Outcome> {
    const jr = this.store.getParsed<Resource>(jobRunName)!;
    const rolloutName = jobRunName.slice(0, jobRunName.indexOf('/jobRuns/'));
    const rollout = this.store.getParsed<Rollout>(rolloutName)!;
    const release = this.store.getFrozen<Resource>(releaseOf(rolloutName)) as Resource;
    const { target } = snapshotOf(release, rollout.targetId);
    const jobId = String(jr.jobId), phaseId = String(jr.phaseId);
    const phase = rollout.phases.find(p => p.id === phaseId)!;
    const job = Object.values(phase.deploymentJobs ?? {}).find(j => j.id === jobId) as Obj;
    if (jobId === 'deploy' && this.deploysCloudRun(jobRunName)) return this.applyCloudRun(release, rollout, phaseId, jr);
    const skaffold = await jobSkaffold(release, rollout.targetId, phaseId, this.storage, this.workRoot);
    // Steps run one after another; the containers of one step side by side.
    const steps: Container[][] = [];
    let artifact: Obj | undefined;
    let customDeploy: { output: string; env: Record<string, string> } | undefined;
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
      const ctt = customTargetTypeOf(release, target);
      const cttActions = (ctt?.customActions ?? {}) as Obj;
      if (cttActions.deployAction) {
        const action = skaffold.customActions.get(String(cttActions.deployAction));
        if (!action) return missing(`Deploy action "${String(cttActions.deployAction)}" of custom target type ${String(ctt!.name)} is not defined in the release's Skaffold config.`);
        steps.push(action);
      }
      const rendered = (release.targetArtifacts as Record<string, Obj> | undefined)?.[rollout.targetId];
      if (rendered) {
        const phaseArtifact = (rendered.phaseArtifacts as Record<string, Obj> | undefined)?.[phaseId];
        const manifestPath = String(phaseArtifact?.manifestPath ?? rendered.manifestPath);
        artifact = { artifactUri: rendered.artifactUri, manifestPaths: [manifestPath] };
        if (steps.length) {
          const base = String(rendered.artifactUri);
          const manifest = `${base}/${manifestPath}`;
          const output = `${base}/${rollout.uid ?? rollout.name.split('/').pop()}/${phaseId}/custom-output`;
          const phase = phaseLayout(stageFor(release, rollout.targetId)).find(p => p.id === phaseId);
          customDeploy = {
            output,
            env: customEnv({
              type: 'DEPLOY', release, target: target!, phase: phaseId, percentage: phase?.percentage ?? 100, output,
              input: cttActions.renderAction ? renderOutput(release, rollout.targetId) : manifest, manifest,
              rollout: rolloutName.split('/').pop(), skaffold: `${base}/${String(phaseArtifact?.skaffoldConfigPath ?? rendered.skaffoldConfigPath)}`,
              storageOrigin: this.storage.origin(),
            }),
          };
        }
      }
      if (!steps.length) return { ok: true, artifact };
    }

    const [, project, , location, , pipeline, , releaseId, , rolloutId] = rolloutName.split('/');
    const env: Record<string, string> = {
      CLOUD_DEPLOY_PROJECT: project, CLOUD_DEPLOY_LOCATION: location, CLOUD_DEPLOY_DELIVERY_PIPELINE: pipeline,
      CLOUD_DEPLOY_TARGET: rollout.targetId, CLOUD_DEPLOY_RELEASE: releaseId, CLOUD_DEPLOY_ROLLOUT: rolloutId,
      CLOUD_DEPLOY_JOB_RUN: jobRunName.slice(jobRunName.lastIndexOf('/') + 1), CLOUD_DEPLOY_PHASE: phaseId,
      ...cloudRunEnv(rollout, this.storage.origin()),
    };
    const timeoutMs = jobTimeoutMs(target, jobId);
    const run = this.running.get(jobRunName) ?? { tasks: [], cancelled: false };
    // Each line is also a Cloud Logging entry of the Cloud Build build the job run names, as Cloud Build writes them.
    const build = String(((jr[FIELD[jobId]] ?? {}) as Obj).build ?? '');
    const buildLog = build ? { project, buildId: build.split('/').pop()! } : undefined;
    const res = await this.runContainers(steps, { ...env, ...(customDeploy?.env ?? {}) }, skaffold.dir, timeoutMs, mode, jobLogUrl(jr, rolloutName), run, buildLog);
    if (customDeploy && res.ok) return this.customDeployOutcome(customDeploy.output, artifact);
    if (res.ok) return { ok: true, artifact };
    return { ok: false, cause: res.cause, message: res.message };
  }

  /**
   * Whether a job run is a deploy to a built-in Cloud Run target that Gantry's Cloud Run carries out (simulated and
   * real rollouts alike: what is simulated is only how long the job takes and whether it was scripted to fail).
   */
  deploysCloudRun(jobRunName: string): boolean {
    if (!this.cloudRun) return false;
    const rolloutName = jobRunName.slice(0, jobRunName.indexOf('/jobRuns/'));
    // Read-only views (parsed once and cached): this is asked on every step of every deploy job.
    const rollout = this.store.getFrozen<Rollout>(rolloutName) as Rollout | undefined;
    const release = rollout && this.store.getFrozen<Resource>(releaseOf(rolloutName)) as Resource | undefined;
    if (!rollout || !release) return false;
    const { target } = snapshotOf(release, rollout.targetId);
    if (!(target?.run as Obj | undefined)?.location || customTargetTypeOf(release, target)) return false;
    // Only what the render knew for a Cloud Run Service or Job (a manifest of another kind is recorded, as before).
    const rendered = ((release.targetRenders as Record<string, Obj> | undefined)?.[rollout.targetId]?.metadata as Obj | undefined)?.cloudRun as Obj | undefined;
    return !!(rendered?.service || rendered?.job);
  }

  /** Applies the phase's rendered manifest to Gantry's Cloud Run; the outcome names what was deployed. */
  private async applyCloudRun(release: Resource, rollout: Rollout, phaseId: string, jr: Resource): Promise<Outcome> {
    const { target } = snapshotOf(release, rollout.targetId);
    const [, project, , region] = String((target!.run as Obj).location).split('/');
    // What the deploy did is its Cloud Build log, as a real deploy's is.
    const build = String(((jr.deployJobRun ?? {}) as Obj).build ?? '').split('/').pop();
    const log = (line: string) => { if (build) this.logs?.write([cloudBuildStepEntry({ project: String(rollout.name).split('/')[1], buildId: build, step: 0, stepName: 'deploy', line })]); };
    const rendered = (release.targetArtifacts as Record<string, Obj> | undefined)?.[rollout.targetId];
    if (!rendered) return { ok: false, cause: 'EXECUTION_FAILED', message: `The release has no rendered manifest for target "${rollout.targetId}".` };
    const phaseArtifact = (rendered.phaseArtifacts as Record<string, Obj> | undefined)?.[phaseId];
    const manifestPath = String(phaseArtifact?.manifestPath ?? rendered.manifestPath);
    const artifact = { artifactUri: rendered.artifactUri, manifestPaths: [manifestPath] };
    const manifest = this.storage.read(`${String(rendered.artifactUri)}/${manifestPath}`).toString('utf8');
    const previous = ((rollout.metadata as Obj | undefined)?.cloudRun as Obj | undefined)?.previousRevision;
    log(`Applying ${manifestPath} to Cloud Run in projects/${project}/locations/${region}`);
    const applied = await this.cloudRun!.apply({
      project, region, manifest,
      ...(typeof previous === 'string' ? { previousRevision: previous.slice(previous.lastIndexOf('/') + 1) } : {}),
    });
    const what = applied.ok ? applied.cloudRun : undefined;
    log(applied.ok ? (what?.revision ? `Service ${String(what.service)}: revision ${String(what.revision)} is ready` : `Job ${String(what?.job)} is deployed`) : `ERROR: ${applied.message}`);
    return applied.ok ? { ok: true, artifact, cloudRun: applied.cloudRun } : { ok: false, cause: applied.cause, message: applied.message };
  }

  /** A custom deploy ends as its results.json says: succeeded (with metadata and artifact files), skipped or failed. */
  private customDeployOutcome(output: string, artifact: Obj | undefined): Outcome {
    const results = readResults(url => this.storage.read(url), output, 'DEPLOY');
    if ('error' in results) return { ok: false, cause: 'EXECUTION_FAILED', message: `The custom deploy failed: ${results.error}.` };
    if (results.status === 'FAILED' || results.status === 'NOT_SUPPORTED') {
      return { ok: false, cause: 'EXECUTION_FAILED', message: `The custom deploy failed: ${results.message ?? results.status}` };
    }
    if (results.status === 'SKIPPED') return { ok: true, skipMessage: results.skipMessage ?? 'The custom deploy was skipped.' };
    return { ok: true, artifact, customMetadata: results.metadata };
  }

  /**
   * Runs steps one after another through an executor (a step's containers side by side, all within
   * `timeoutMs`), keeps their combined output at `logUrl`, and reports the first container that did
   * not exit 0; later steps do not start. `run` records what runs, for cancel.
   */
  async runContainers(steps: Container[][], env: Record<string, string>, workspace: string, timeoutMs: number, mode: string,
    logUrl: string, run: Run = { tasks: [], cancelled: false }, buildLog?: { project: string; buildId: string }): Promise<{ ok: boolean; cause?: string; message?: string; logUrl: string }> {
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
        ...(run.owner ? { owner: run.owner } : {}),
      }));
      const first = n;
      run.tasks = specs.map((spec, i) => executor.start(spec, (stream, chunk) => {
        const lines = chunk.split('\n').filter((l, j, a) => l || j < a.length - 1);
        if (logText.length < 1 << 20) logText += lines.map(l => `[${containers[i].name ?? `task-${first + i}`}] ${stream}: ${l}`).join('\n') + '\n';
        if (buildLog && this.logs) {
          this.logs.write(lines.map(line => cloudBuildStepEntry({ project: buildLog.project, buildId: buildLog.buildId, step: first + i, line })));
        }
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
  async renderCustomTargets(release: Resource, modeFor: (targetId: string) => string, configs: Map<string, ResolvedConfig[]>): Promise<Map<string, CustomRender>> {
    const out = new Map<string, CustomRender>();
    for (const t of (release.targetSnapshots as Resource[] | undefined) ?? []) {
      const targetId = String(t.targetId);
      const mode = modeFor(targetId);
      const ctt = customTargetTypeOf(release, t);
      const rendered = configs.get(targetId);
      if (!ctt || mode === 'simulated' || !rendered) continue;
      const actionName = (ctt.customActions as Obj | undefined)?.renderAction as string | undefined;
      const containers = (actionName ? customActionsOf(rendered).get(actionName) ?? [] : []) as Container[];
      if (!containers.length) continue;
      const output = renderOutput(release, targetId);
      const env = customEnv({ type: 'RENDER', release, target: t, phase: 'stable', percentage: 100, output, input: String(release.skaffoldConfigUri ?? ''), storageOrigin: this.storage.origin() });
      const dir = await sourceDir(release, this.storage, this.workRoot);
      const failed = (message: string) => out.set(targetId, { ok: false, cause: 'EXECUTION_FAILED', message: `The render action "${actionName}" of custom target type ${String(ctt.name)} failed: ${message}` });
      const res = await this.runContainers([containers], env, dir, DEFAULT_TIMEOUT_MS, mode, `${artifactBase(release, targetId)}/custom-render.log`, { tasks: [], cancelled: false, owner: String(release.name) });
      if (!res.ok) { failed(res.message ?? 'it did not succeed'); continue; }
      const results = readResults(url => this.storage.read(url), output, 'RENDER');
      if ('error' in results) { failed(results.error); continue; }
      if (results.status !== 'SUCCEEDED') { failed(results.message ?? `it reported ${results.status}`); continue; }
      if (results.manifestFile) {
        // The action's manifest is the target's: Cloud Deploy deploys what the custom render produced.
        let manifest: Buffer;
        try { manifest = this.storage.read(results.manifestFile); } catch { failed(`its manifestFile ${results.manifestFile} does not exist`); continue; }
        const base = artifactBase(release, targetId);
        this.storage.write(`${base}/manifest.yaml`, manifest, 'text/yaml');
        for (const phase of phaseLayout(stageFor(release, targetId))) this.storage.write(`${base}/${phase.prefix}manifest.yaml`, manifest, 'text/yaml');
      }
      out.set(targetId, { ok: true, metadata: results.metadata });
    }
    return out;
  }

  private finish(jobRunName: string, o: Outcome): Promise<void> {
    this.running.delete(jobRunName);
    // Job runs started in one batch end together: their results share a commit.
    return this.results.add(w => {
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
        if (field === 'deployJobRun' && o.cloudRun) run.metadata = { ...((run.metadata as Obj | undefined) ?? {}), cloudRun: o.cloudRun };
        // A custom deploy's results: a skip (the job becomes SKIPPED) and the metadata it reported.
        if (field === 'deployJobRun' && (o.skipMessage || o.customMetadata)) {
          run.metadata = {
            ...((run.metadata as Obj | undefined) ?? {}),
            ...(o.skipMessage ? { customTarget: { skipMessage: o.skipMessage } } : {}),
            ...(o.customMetadata ? { custom: { values: o.customMetadata } } : {}),
          };
        }
      } else {
        jr.state = 'FAILED';
        run.failureCause = o.cause;
        run.failureMessage = o.message;
      }
      jr[field] = run;
      saveJobRun(w, jr);
      const rollout = jobRunName.slice(0, jobRunName.indexOf('/jobRuns/'));
      this.log.debug(`Cloud Deploy: rollout ${rolloutLabel(rollout)} ${jobRunLabel(jr)} ended ${String(jr.state)}${run.failureCause ? ` (${String(run.failureCause)}): ${String(run.failureMessage)}` : ''}`);
    });
  }
}

/**
 * What a hook or verify job of a Cloud Run target is told of the service deployed (as Cloud Deploy tells it), and
 * `GANTRY_SERVICE_URLS`: the same URLs as this machine reaches them through Gantry (`http://{host}.localhost:{port}`,
 * which curl and browsers resolve to loopback), since the `run.app` names resolve nowhere here.
 */
export function cloudRunEnv(rollout: Rollout, origin: string): Record<string, string> {
  const run = (rollout.metadata as Obj | undefined)?.cloudRun as Obj | undefined;
  if (!run?.service) return {};
  const [, project, , location, , service] = String(run.service).split('/');
  const urls = ((run.serviceUrls ?? []) as string[]).map(String);
  const port = new URL(origin).port;
  return {
    CLOUD_RUN_PROJECT_ID: project, CLOUD_RUN_LOCATION: location, CLOUD_RUN_SERVICE: service,
    CLOUD_RUN_SERVICE_URLS: urls.join(','), ...(run.revision ? { CLOUD_RUN_REVISION: String(run.revision) } : {}),
    GANTRY_SERVICE_URLS: urls.map(u => `http://${new URL(u).hostname}.localhost${port ? `:${port}` : ''}`).join(','),
  };
}

/**
 * Where a job run's log is kept: a verify job run's at its `artifactUri`/`eventLogPath` (set when the job run was
 * created), every other job run's at `gs://gantry-logs/<rollout>/jobRuns/<uid>.log`.
 */
function jobLogUrl(jr: Resource, rolloutName: string): string {
  const verify = jr.verifyJobRun as Obj | undefined;
  if (verify?.artifactUri && verify.eventLogPath) return `${String(verify.artifactUri)}/${String(verify.eventLogPath)}`;
  return `gs://gantry-logs/${rolloutName}/jobRuns/${String(jr.uid)}.log`;
}

/** How long a job may run: its target's execution environment for the job's usage says (`executionTimeout`), else 1 h. */
export function jobTimeoutMs(target: Obj | undefined, jobId: string): number {
  const config = ((target?.executionConfigs as Obj[] | undefined) ?? []).find(c => ((c.usages as string[]) ?? []).includes(USAGE[jobId]));
  return config?.executionTimeout ? parseDurationMs(String(config.executionTimeout)) ?? DEFAULT_TIMEOUT_MS : DEFAULT_TIMEOUT_MS;
}

function describe(r: TaskResult): string {
  switch (r.kind) {
    case 'exited': return `exited with code ${r.code}`;
    case 'signalled': return `was killed by ${r.signal}`;
    case 'failedToStart': return `could not start: ${r.message}`;
    default: return r.kind;
  }
}
