// Runs a task's command and args as a local process (the image is ignored): the cheapest way to run
// real hooks, verifies and deploy actions on the host.
import { spawn } from 'node:child_process';
import type { Executor, RunningTask, TaskResult, TaskSpec } from './executor.js';

export class ProcessExecutor implements Executor {
  readonly name = 'process' as const;

  start(spec: TaskSpec, log: (stream: 'stdout' | 'stderr', chunk: string) => void): RunningTask {
    const argv = [...spec.command, ...spec.args];
    let settle!: (r: TaskResult) => void;
    const done = new Promise<TaskResult>(r => { settle = r; });
    if (!argv.length) {
      settle({ kind: 'failedToStart', message: 'the task has no command (the process executor cannot use an image\'s entrypoint)' });
      return { done, cancel: () => {} };
    }
    // PATH comes from the host so commands resolve; everything else is the task's own environment.
    const child = spawn(argv[0], argv.slice(1), {
      cwd: spec.workingDir ?? spec.workspace, env: { PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', ...spec.env },
      stdio: ['ignore', 'pipe', 'pipe'], detached: true,
    });
    let outcome: TaskResult | undefined;
    const kill = () => { try { process.kill(-child.pid!, 'SIGKILL'); } catch { child.kill('SIGKILL'); } };
    const timer = setTimeout(() => { outcome = { kind: 'timedOut' }; kill(); }, Math.min(spec.timeoutMs, 2 ** 31 - 1));
    timer.unref();
    child.stdout!.on('data', (d: Buffer) => log('stdout', d.toString()));
    child.stderr!.on('data', (d: Buffer) => log('stderr', d.toString()));
    child.once('error', e => { clearTimeout(timer); settle(outcome ?? { kind: 'failedToStart', message: e.message }); });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      settle(outcome ?? (signal ? { kind: 'signalled', signal } : { kind: 'exited', code: code ?? 0 }));
    });
    return { done, cancel: () => { outcome ??= { kind: 'cancelled' }; kill(); } };
  }
}
