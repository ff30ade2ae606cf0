// One task to completion: a container spec in, a log and an exit out. Cloud Deploy jobs, Cloud Run
// tasks and App Hosting build steps all run through this interface.

export interface TaskSpec {
  /** Container image; the process executor ignores it. */
  image?: string;
  command: string[];
  args: string[];
  env: Record<string, string>;
  workingDir?: string;
  /** A host directory the task works in: the process executor's cwd, a container's /workspace mount. */
  workspace?: string;
  timeoutMs: number;
  /**
   * On timeout or cancel: SIGTERM, then SIGKILL after this long (Cloud Run's contract). 0 or absent: SIGKILL at once.
   */
  graceMs?: number;
  /** Host files or directories shown to the task at container paths (secret volumes); read-only unless said. */
  mounts?: { hostPath: string; path: string; readOnly?: boolean }[];
  /** `host`: the container shares the host's network (an app Gantry must reach on PORT); default: the executor's. */
  network?: 'host';
  /** Labels a container carries, so a restarted Gantry can find it again. */
  labels?: Record<string, string>;
  /** The resource the task works for (a job run, an execution, a build): a reset of its scope stops it. */
  owner?: string;
  /** Told the handle (a process id, a container id) once the task runs, for `resume`/`reap` after a restart. */
  onStarted?(handle: string): void;
}

export type TaskResult =
  | { kind: 'exited'; code: number }
  | { kind: 'signalled'; signal: string }
  | { kind: 'timedOut' }
  | { kind: 'cancelled' }
  | { kind: 'failedToStart'; message: string };

export interface RunningTask {
  done: Promise<TaskResult>;
  cancel(): void;
  /** Stops the task at once, its grace period skipped (SIGKILL to its process group, a container killed). */
  kill?(): void;
}

export type LogFn = (stream: 'stdout' | 'stderr', chunk: string) => void;

export interface Executor {
  readonly name: 'process' | 'container';
  /** Starts the task; every line it writes goes to `log` (stream-tagged). */
  start(spec: TaskSpec, log: LogFn): RunningTask;
  /**
   * After a restart, takes back a task a previous Gantry started (by its handle): its remaining output and its exit.
   * Undefined when the executor cannot (then `reap` stops whatever is left of it).
   */
  resume?(handle: string, spec: TaskSpec, log: LogFn): Promise<RunningTask | undefined>;
  /**
   * Stops and forgets a task a previous Gantry started and nobody will wait for (working for `owner`, when given).
   * `resume` and `reap` act only on a handle the executor can prove it started (src/executors/ownership.ts).
   * Resolves true when it found something of that task to stop.
   */
  reap?(handle: string, owner?: string): Promise<boolean>;
  /**
   * Stops whatever a previous Gantry of this data directory started for exactly `owner` and never told the handle of
   * (it was killed in between). Resolves true when it found something.
   */
  reapOwned?(owner: string): Promise<boolean>;
}
