// Every task the executors run, by the resource it works for, so a reset can stop exactly the work of its scope and
// answer once that work has ended.
import type { Executor, RunningTask } from './executor.js';

/** How long a reset waits for a stopped task to exit (its grace time included) before going on without it. */
const STOP_WAIT_MS = 30_000;

export class TaskRegistry {
  private running = new Map<RunningTask, string>();

  /** The executor, with every task it starts (or takes back after a restart) recorded until it ends. */
  wrap(executor: Executor): Executor {
    const record = (task: RunningTask, owner: string | undefined): RunningTask => {
      this.running.set(task, owner ?? '');
      const forget = () => { this.running.delete(task); };
      task.done.then(forget, forget);
      return task;
    };
    // The executor's other methods (a container engine's image checks) stay reachable through the prototype.
    const wrapped = Object.create(executor) as Executor;
    wrapped.start = (spec, log) => record(executor.start(spec, log), spec.owner);
    if (executor.resume) wrapped.resume = async (handle, spec, log) => { const t = await executor.resume!(handle, spec, log); return t && record(t, spec.owner); };
    return wrapped;
  }

  /** Stops the tasks working for resources under `prefix` (`''`: every task), and resolves once they have ended. */
  async stopUnder(prefix: string): Promise<number> {
    const tasks = [...this.running].filter(([, owner]) => owner.startsWith(prefix)).map(([t]) => t);
    for (const t of tasks) t.cancel();
    await Promise.race([Promise.allSettled(tasks.map(t => t.done)), new Promise(r => setTimeout(r, STOP_WAIT_MS).unref())]);
    return tasks.length;
  }
}
