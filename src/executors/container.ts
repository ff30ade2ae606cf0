// Runs a task as a container through the Docker Engine API (dockerd, or podman's compatible service),
// with no network by default: a task's image, command, args, env, working directory and mounts, its output streamed.
// Containers carry labels, so a restarted Gantry re-attaches to those still running; the labels also prove a
// container is this Gantry's own, and no other is ever attached to, stopped or removed by handle.
import Docker from 'dockerode';
import { PassThrough } from 'node:stream';
import type { Executor, LogFn, RunningTask, TaskResult, TaskSpec } from './executor.js';
import { INSTANCE_LABEL, OWNER_LABEL } from './ownership.js';

export class ContainerExecutor implements Executor {
  readonly name = 'container' as const;
  private docker: Docker;

  /** `instance`: this data directory's id (ownership.ts), set on every container it starts. */
  constructor(socketPath: string, private instance: string, private network: 'none' | 'host' = 'none') {
    this.docker = new Docker({ socketPath });
  }

  /** Whether the engine answers (used at start-up to fail early with a clear message). */
  async ping(): Promise<void> { await this.docker.ping(); }

  /** Whether the engine holds `image` (no registry is reachable, so what is not here cannot run). */
  async hasImage(image: string): Promise<boolean> {
    try { await this.docker.getImage(image).inspect(); return true; } catch { return false; }
  }

  start(spec: TaskSpec, log: LogFn): RunningTask {
    const control = new Control(spec);
    const done = (async (): Promise<TaskResult> => {
      if (!spec.image) return { kind: 'failedToStart', message: 'the task has no image' };
      let container: Docker.Container;
      try {
        container = await this.docker.createContainer({
          Image: spec.image,
          ...(spec.command.length ? { Entrypoint: spec.command } : {}),
          Cmd: spec.args,
          Env: Object.entries(spec.env).map(([k, v]) => `${k}=${v}`),
          WorkingDir: spec.workingDir ?? (spec.workspace ? '/workspace' : undefined),
          Labels: { ...spec.labels, [INSTANCE_LABEL]: this.instance, ...(spec.owner ? { [OWNER_LABEL]: spec.owner } : {}) },
          StopTimeout: Math.ceil((spec.graceMs ?? 0) / 1000),
          HostConfig: {
            NetworkMode: spec.network ?? this.network, AutoRemove: false,
            Binds: [...(spec.workspace ? [`${spec.workspace}:/workspace`] : []), ...(spec.mounts ?? []).map(m => `${m.hostPath}:${m.path}${m.readOnly === false ? '' : ':ro'}`)],
          },
          AttachStdout: true, AttachStderr: true,
        });
      } catch (e) {
        return { kind: 'failedToStart', message: (e as Error).message };
      }
      const stream = await container.attach({ stream: true, stdout: true, stderr: true }).catch(() => undefined);
      if (stream) this.demux(stream, log);
      try {
        await container.start();
      } catch (e) {
        container.remove({ force: true }).catch(() => undefined);
        return { kind: 'failedToStart', message: (e as Error).message };
      }
      spec.onStarted?.(container.id);
      return this.follow(container, control);
    })();
    return { done, cancel: () => control.cancel(), kill: () => control.kill() };
  }

  async resume(handle: string, spec: TaskSpec, log: LogFn): Promise<RunningTask | undefined> {
    const mine = await this.ours(handle, spec.owner);
    if (!mine) return undefined;
    const { container, info } = mine;
    const control = new Control(spec, Date.parse(info.State.StartedAt));
    // The output it wrote while no Gantry listened, then whatever follows.
    const since = Math.floor(Date.parse(info.State.StartedAt) / 1000);
    const stream = await container.logs({ follow: true, stdout: true, stderr: true, since }).catch(() => undefined);
    if (stream) this.demux(stream as unknown as NodeJS.ReadableStream, log);
    const done = this.follow(container, control);
    return { done, cancel: () => control.cancel(), kill: () => control.kill() };
  }

  async reap(handle: string, owner?: string): Promise<boolean> {
    const mine = await this.ours(handle, owner);
    if (!mine) return false;
    await mine.container.remove({ force: true }).catch(() => undefined);
    return true;
  }

  async reapOwned(owner: string): Promise<boolean> {
    const found = await this.docker.listContainers({ all: true, filters: { label: [`${INSTANCE_LABEL}=${this.instance}`, `${OWNER_LABEL}=${owner}`] } });
    for (const c of found) await this.docker.getContainer(c.Id).remove({ force: true }).catch(() => undefined);
    return found.length > 0;
  }

  /**
   * The container a handle names, if this Gantry started it (its instance label) for `owner` (when given);
   * addressed by the id inspect answers, so a name handed in cannot stand for another container later.
   */
  private async ours(handle: string, owner?: string): Promise<{ container: Docker.Container; info: Docker.ContainerInspectInfo } | undefined> {
    if (!/^[0-9a-f]{12,64}$/.test(handle)) return undefined;
    let info: Docker.ContainerInspectInfo;
    try { info = await this.docker.getContainer(handle).inspect(); } catch { return undefined; }
    const labels = info.Config?.Labels ?? {};
    if (labels[INSTANCE_LABEL] !== this.instance) return undefined;
    if (owner !== undefined && labels[OWNER_LABEL] !== owner) return undefined;
    return { container: this.docker.getContainer(info.Id), info };
  }

  private demux(stream: NodeJS.ReadableStream, log: LogFn): void {
    const out = new PassThrough(), err = new PassThrough();
    out.on('data', (d: Buffer) => log('stdout', d.toString()));
    err.on('data', (d: Buffer) => log('stderr', d.toString()));
    this.docker.modem.demuxStream(stream, out, err);
  }

  /** Waits for the container's exit within the task's timeout, then removes it. */
  private async follow(container: Docker.Container, control: Control): Promise<TaskResult> {
    control.bind(container);
    try {
      const { StatusCode } = (await container.wait()) as { StatusCode: number };
      // Let the last output chunks through the demuxer before the result is reported.
      await new Promise(r => setImmediate(r));
      return control.outcome ?? { kind: 'exited', code: StatusCode };
    } catch (e) {
      return control.outcome ?? { kind: 'failedToStart', message: (e as Error).message };
    } finally {
      control.clear();
      container.remove({ force: true }).catch(() => undefined);
    }
  }
}

/** A container's timeout and cancel: `docker stop` (SIGTERM, SIGKILL after the grace period) or an immediate kill. */
class Control {
  outcome?: TaskResult;
  private container?: Docker.Container;
  private timer?: NodeJS.Timeout;
  private stopRequested = false;
  private killRequested = false;

  constructor(private spec: TaskSpec, startedAt = Date.now()) {
    const left = Math.max(0, spec.timeoutMs - (Date.now() - startedAt));
    this.timer = setTimeout(() => { this.outcome ??= { kind: 'timedOut' }; this.stop(); }, Math.min(left, 2 ** 31 - 1));
    this.timer.unref();
  }

  bind(container: Docker.Container): void {
    this.container = container;
    if (this.stopRequested) this.stop(this.killRequested);
  }

  cancel(): void { this.outcome ??= { kind: 'cancelled' }; this.stop(); }

  kill(): void { this.outcome ??= { kind: 'cancelled' }; this.stop(true); }

  clear(): void { clearTimeout(this.timer); }

  private stop(now = false): void {
    this.stopRequested = true;
    this.killRequested ||= now;
    const c = this.container;
    if (!c) return;
    const grace = this.killRequested ? 0 : Math.ceil((this.spec.graceMs ?? 0) / 1000);
    (grace ? c.stop({ t: grace }) : c.kill()).catch(() => undefined);
  }
}
