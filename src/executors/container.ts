// Runs a task as a container through the Docker Engine API (dockerd, or podman's compatible service),
// with no network: a task's image, command, args, env and working directory, its output streamed.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import type { Executor, RunningTask, TaskResult, TaskSpec } from './executor.js';

export class ContainerExecutor implements Executor {
  readonly name = 'container' as const;
  private docker: Docker;

  constructor(socketPath: string, private network: 'none' | 'host' = 'none') {
    this.docker = new Docker({ socketPath });
  }

  /** Whether the engine answers (used at start-up to fail early with a clear message). */
  async ping(): Promise<void> { await this.docker.ping(); }

  start(spec: TaskSpec, log: (stream: 'stdout' | 'stderr', chunk: string) => void): RunningTask {
    let container: Docker.Container | undefined;
    let outcome: TaskResult | undefined;
    const stop = () => { container?.kill().catch(() => undefined); };
    const done = (async (): Promise<TaskResult> => {
      if (!spec.image) return { kind: 'failedToStart', message: 'the task has no image' };
      try {
        container = await this.docker.createContainer({
          Image: spec.image,
          ...(spec.command.length ? { Entrypoint: spec.command } : {}),
          Cmd: spec.args,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          WorkingDir: spec.workingDir ?? (spec.workspace ? '/workspace' : undefined),
          HostConfig: { NetworkMode: this.network, AutoRemove: false, ...(spec.workspace ? { Binds: [`${spec.workspace}:/workspace`] } : {}) },
          AttachStdout: true, AttachStderr: true,
        });
      } catch (e) {
        return { kind: 'failedToStart', message: (e as Error).message };
      }
      const timer = setTimeout(() => { outcome = { kind: 'timedOut' }; stop(); }, Math.min(spec.timeoutMs, 2 ** 31 - 1));
      timer.unref();
      try {
        const stream = await container.attach({ stream: true, stdout: true, stderr: true });
        const out = new PassThrough(), err = new PassThrough();
        out.on('data', (d: Buffer) => log('stdout', d.toString()));
        err.on('data', (d: Buffer) => log('stderr', d.toString()));
        this.docker.modem.demuxStream(stream, out, err);
        await container.start();
        const { StatusCode } = (await container.wait()) as { StatusCode: number };
        await new Promise(r => setImmediate(r));
        return outcome ?? { kind: 'exited', code: StatusCode };
      } catch (e) {
        return outcome ?? { kind: 'failedToStart', message: (e as Error).message };
      } finally {
        clearTimeout(timer);
        container.remove({ force: true }).catch(() => undefined);
      }
    })();
    return { done, cancel: () => { outcome ??= { kind: 'cancelled' }; stop(); } };
  }
}
