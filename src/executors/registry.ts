// Every task the executors run, by the resource it works for, so a reset can stop exactly the work of its scope and
// answer once that work has ended, and a shutdown can stop all of it without recording anything.
import type { Executor, RunningTask } from './executor.js';

/** How long a reset waits for a stopped task to exit (its grace time included) before going on without it. */
const STOP_WAIT_MS = 30_000;
/** At shutdown: how long tasks have to exit on SIGTERM before they are killed, and then to be reported gone. */
const SHUTDOWN_GRACE_MS = 1_000;
const SHUTDOWN_KILL_WAIT_MS = 1_000;

export class TaskRegistry {
  /** Each task as the executor returned it, by the resource it works for. */
  private running = new Map<RunningTask, string>();
  private shuttingDown = false;
  /** Tasks stopped without a result: this instance lost their work while they ran (abandon). */
  private abandoned = new WeakSet<RunningTask>();

  /**
   * The executor, with every task it starts (or takes back after a restart) recorded until it ends. The task handed
   * out reports its result unless Gantry is shutting down: a task stopped by the shutdown reports nothing, so its
   * owner records nothing and the store keeps the attempt running, as after a kill; the next start finds the attempt
   * lost and fails it into its retry rules.
   */
  wrap(executor: Executor): Executor {
    const record = (task: RunningTask, owner: string | undefined): RunningTask => {
      this.running.set(task, owner ?? '');
      const forget = () => { this.running.delete(task); };
      task.done.then(forget, forget);
      const done = new Promise<Awaited<RunningTask['done']>>((resolve, reject) => {
        const silent = () => this.shuttingDown || this.abandoned.has(task);
        task.done.then(r => { if (!silent()) resolve(r); }, (e: unknown) => { if (!silent()) reject(e); });
      });
      return { done, cancel: () => task.cancel(), ...(task.kill ? { kill: () => task.kill!() } : {}) };
    };
    // The executor's other methods (a container engine's image checks) stay reachable through the prototype.
    const wrapped = Object.create(executor) as Executor;
    wrapped.start = (spec, log) => record(executor.start(spec, log), spec.owner);
    if (executor.resume) wrapped.resume = async (handle, spec, log) => { const t = await executor.resume!(handle, spec, log); return t && record(t, spec.owner); };
    return wrapped;
  }

  /** Stops the tasks working for resources under `prefix` (`''`: every task), and resolves once they have ended. */
  stopUnder(prefix: string): Promise<number> { return this.stopWhere(owner => owner.startsWith(prefix)); }

  /** Stops the tasks working for the resources `which` picks, and resolves once they have ended. */
  async stopWhere(which: (owner: string) => boolean): Promise<number> {
    const tasks = [...this.running].filter(([, owner]) => which(owner)).map(([t]) => t);
    for (const t of tasks) t.cancel();
    await settled(tasks, STOP_WAIT_MS);
    return tasks.length;
  }

  /**
   * Gantry is stopping: every task still running is stopped (SIGTERM, then SIGKILL to its process group or the
   * container killed) and reports no result from now on. Resolves once they have ended, or after about 2 s.
   */
  async shutdown(): Promise<number> {
    this.shuttingDown = true;
    return this.stopSilently([...this.running.keys()]);
  }

  /**
   * This instance lost the work of some resources (`which` picks their names; every task when not given): their
   * running tasks are stopped as at a shutdown (each attempt stays running in the store, for the instance that takes
   * the work over to find lost), while tasks started later report as usual.
   */
  async abandon(which: (owner: string) => boolean = () => true): Promise<number> {
    const tasks = [...this.running].filter(([, owner]) => which(owner)).map(([t]) => t);
    for (const t of tasks) this.abandoned.add(t);
    return this.stopSilently(tasks);
  }

  /** Whether a task works for a resource `which` picks. */
  busyWith(which: (owner: string) => boolean): boolean {
    for (const owner of this.running.values()) if (which(owner)) return true;
    return false;
  }

  private async stopSilently(tasks: RunningTask[]): Promise<number> {
    for (const t of tasks) t.cancel();
    if (await settled(tasks, SHUTDOWN_GRACE_MS)) return tasks.length;
    for (const t of tasks) (t.kill ?? t.cancel)();
    await settled(tasks, SHUTDOWN_KILL_WAIT_MS);
    return tasks.length;
  }
}

/** Whether every task ended within `ms`. */
async function settled(tasks: RunningTask[], ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>(r => { timer = setTimeout(() => r(false), ms); });
  const ended = await Promise.race([Promise.allSettled(tasks.map(t => t.done)).then(() => true), timeout]);
  clearTimeout(timer);
  return ended;
}
