// Runs a task's command and args as a local process (the image is ignored, unless the operator mapped it to a
// directory: src/executors/image-dirs.ts): the cheapest way to run real hooks, verifies, deploy actions and Cloud Run
// tasks on the host.
import { spawn } from 'node:child_process';
import type { Executor, LogFn, RunningTask, TaskResult, TaskSpec } from './executor.js';
import { ImageDirs } from './image-dirs.js';
import { ProcessRecords, TASK_TOKEN_ENV } from './ownership.js';

/** How an operator gives a task the container executor instead. */
const CONTAINER_WAY = 'gantry --executor container, or the annotation gantry.dev/executor: container on the job, target or pipeline with --allow-executors container';
/** How an operator lets the process executor stand a local directory in for an image. */
const IMAGE_DIR_WAY = 'gantry --image-dir IMAGE=DIR, DIR holding the image\'s source with a Procfile or package.json';

export class ProcessExecutor implements Executor {
  readonly name = 'process' as const;
  private records: ProcessRecords;

  /**
   * `recordsDir`: where the processes it starts are recorded (pid, start time, owner), so `reap` acts only on those.
   * `images`: the images the operator mapped to local directories (`--image-dir`).
   */
  constructor(recordsDir: string, private images = new ImageDirs()) { this.records = new ProcessRecords(recordsDir); }

  start(spec: TaskSpec, log: LogFn): RunningTask {
    let settle!: (r: TaskResult) => void;
    const done = new Promise<TaskResult>(r => { settle = r; });
    // A mapped image's directory is its files: the task works there (as in the image's working directory), and a
    // task without a command runs the entrypoint the directory names.
    const imageDir = this.images.dirOf(spec.image);
    let argv = [...spec.command, ...spec.args];
    if (!spec.command.length) {
      const entry = imageDir === undefined ? undefined : this.images.entrypoint(imageDir, spec.args);
      if (typeof entry === 'string' || (entry === undefined && !argv.length)) {
        settle({ kind: 'failedToStart', message: `the task has no command, so it runs its image's entrypoint, which the process executor cannot ${entry ? `(${entry})` : `(it runs a command on this machine and ignores the image ${spec.image ? `"${spec.image}" ` : ''}unless the operator maps it to a directory: ${IMAGE_DIR_WAY})`}: give the container a command, or run it with the container executor (${CONTAINER_WAY})` });
        return { done, cancel: () => {} };
      }
      if (entry) argv = entry;
    }
    if (spec.mounts?.length) {
      // A host process sees the host's file system: a volume cannot appear at the container path it names.
      settle({ kind: 'failedToStart', message: `the process executor cannot mount volumes (${spec.mounts.map(m => m.path).join(', ')}); run the task with the container executor (${CONTAINER_WAY})` });
      return { done, cancel: () => {} };
    }
    // PATH comes from the host so commands resolve; everything else is the task's own environment.
    const child = spawn(argv[0], argv.slice(1), {
      cwd: spec.workingDir ?? imageDir ?? spec.workspace,
      env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...spec.env, ...(spec.owner ? { [TASK_TOKEN_ENV]: this.records.token(spec.owner) } : {}) },
      stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let outcome: TaskResult | undefined;
    let killTimer: NodeJS.Timeout | undefined;
    const signal = (sig: NodeJS.Signals) => { try { process.kill(-child.pid!, sig); } catch { child.kill(sig); } };
    // SIGTERM first when the task has a grace period (Cloud Run tasks), SIGKILL when it runs out.
    const stop = () => {
      if (!spec.graceMs) return signal('SIGKILL');
      signal('SIGTERM');
      killTimer ??= setTimeout(() => signal('SIGKILL'), spec.graceMs);
      killTimer.unref();
    };
    const timer = setTimeout(() => { outcome = { kind: 'timedOut' }; stop(); }, Math.min(spec.timeoutMs, 2 ** 31 - 1));
    timer.unref();
    const pid = child.pid;
    if (pid !== undefined) { this.records.add(pid, spec.owner); spec.onStarted?.(String(pid)); }
    child.stdout!.on('data', (d: Buffer) => log('stdout', d.toString()));
    child.stderr!.on('data', (d: Buffer) => log('stderr', d.toString()));
    const end = (r: TaskResult) => {
      clearTimeout(timer); if (killTimer) clearTimeout(killTimer);
      if (pid !== undefined) this.records.remove(pid);
      settle(outcome ?? r);
    };
    child.once('error', e => end({ kind: 'failedToStart', message: e.message }));
    child.once('close', (code, sig) => end(sig ? { kind: 'signalled', signal: sig } : { kind: 'exited', code: code ?? 0 }));
    return { done, cancel: () => { outcome ??= { kind: 'cancelled' }; stop(); }, kill: () => { outcome ??= { kind: 'cancelled' }; signal('SIGKILL'); } };
  }

  /**
   * A process started by a previous Gantry cannot be waited for; `reap` stops its process group, but only when the
   * records prove the pid is still that process (a handle may come from an imported snapshot).
   */
  async reapOwned(owner: string): Promise<boolean> {
    let found = false;
    for (const pid of this.records.ownedBy(owner)) found = (await this.reap(String(pid), owner)) || found;
    return this.reapCarrying(owner) || found;
  }

  async reap(handle: string, owner?: string): Promise<boolean> {
    if (!/^[1-9]\d{0,9}$/.test(handle)) return false;
    const pid = Number(handle);
    if (pid <= 1 || !this.records.owns(pid, owner)) return owner !== undefined && this.reapCarrying(owner);
    try { process.kill(-pid, 'SIGKILL'); } catch { /* already gone */ }
    this.records.remove(pid);
    return true;
  }

  /**
   * What a Gantry killed between starting a task and recording it left running: the processes carrying the owner's
   * token, each with its process group when the group's leader carries it too (the task's own group).
   */
  private reapCarrying(owner: string): boolean {
    const found = this.records.carrying(owner);
    const pids = new Set(found.map(f => f.pid));
    for (const { pid, group } of found) {
      try { process.kill(pids.has(group) ? -group : pid, 'SIGKILL'); } catch { /* already gone */ }
      this.records.remove(pid);
    }
    return found.length > 0;
  }
}
