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
}

export interface Executor {
  readonly name: 'process' | 'container';
  /** Starts the task; every line it writes goes to `log` (stream-tagged). */
  start(spec: TaskSpec, log: (stream: 'stdout' | 'stderr', chunk: string) => void): RunningTask;
}
