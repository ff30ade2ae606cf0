// Assembles a Gantry: store, clock, controllers, and every API on one HTTP origin.
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { StorageService, registerStorage } from './apis/storage/storage.js';
import { BlobStore } from './apis/storage/blobs.js';
import { SqliteStore } from './store/sqlite.js';
import { RealClock, VirtualClock, type Clock } from './engine/clock.js';
import { ControllerRuntime } from './engine/controllers.js';
import { Operations } from './google/operations.js';
import type { ApiContext } from './google/context.js';
import { App } from './server/app.js';
import { createLogger, type Level, type Logger } from './server/log.js';
import { registerCloudDeploy } from './apis/clouddeploy/routes.js';
import { renderController } from './apis/clouddeploy/releases.js';
import { pipelineConditionController } from './apis/clouddeploy/controllers/pipeline-conditions.js';
import { PROTO_PACKAGE, SERVICE, schema as deploySchema } from './apis/clouddeploy/service.js';
import { registerEmulator } from './emulator/routes.js';
import { OutcomeScripts } from './emulator/outcome-scripts.js';
import { executorFor, rolloutControllers, type ExecutorMode } from './apis/clouddeploy/controllers/rollouts.js';
import { JobExecutions } from './apis/clouddeploy/job-execution.js';
import { ProcessExecutor } from './executors/process.js';
import { ContainerExecutor } from './executors/container.js';

export interface GantryOptions {
  host: string;
  port: number;
  dataDir: string;
  authToken?: string;
  logLevel: Level;
  clock: 'real' | 'virtual';
  /** How long a simulated release render takes. */
  renderMs: number;
  /** How long a simulated job run (predeploy, deploy, verify, postdeploy) takes unless scripted. */
  jobMs: number;
  /** Default executor for Cloud Deploy job runs: simulated, process (commands on the host) or container. */
  executor: ExecutorMode;
  /** Docker Engine API socket for the container executor (dockerd or podman). */
  dockerSocket: string;
  /** SQLite synchronous mode: NORMAL survives a killed process, FULL also power loss. */
  durability: 'NORMAL' | 'FULL';
}

export const DEFAULTS: GantryOptions = {
  host: '127.0.0.1', port: 8080, dataDir: '.gantry', logLevel: 'info', clock: 'real', renderMs: 1000, jobMs: 1000, executor: 'simulated', dockerSocket: '/var/run/docker.sock', durability: 'NORMAL',
};

export interface Gantry {
  url: string;
  port: number;
  clock: Clock;
  runtime: ControllerRuntime;
  log: Logger;
  close(): Promise<void>;
}

export async function startGantry(partial: Partial<GantryOptions> = {}): Promise<Gantry> {
  const opts = { ...DEFAULTS, ...partial };
  const log = createLogger(opts.logLevel);
  const store = new SqliteStore(opts.dataDir === ':memory:' ? ':memory:' : join(opts.dataDir, 'gantry.db'), { synchronous: opts.durability });
  let clock: Clock;
  if (opts.clock === 'virtual') {
    // Virtual time persists, so a restarted Gantry resumes at the moment it stopped.
    const saved = Number(store.getMeta('clock.virtual') ?? NaN);
    clock = new VirtualClock(Number.isFinite(saved) ? saved : Date.now(), ms => store.tx(w => w.setMeta('clock.virtual', String(ms))));
  } else {
    clock = new RealClock();
  }
  const runtime = new ControllerRuntime(store, clock, log);
  const ops = new Operations(store, clock);
  const app = new App({ log, authToken: opts.authToken });

  const deploy: ApiContext = { store, clock, ops, schema: deploySchema, svc: { protoPackage: PROTO_PACKAGE, apiVersion: 'v1', serviceName: SERVICE } };
  registerCloudDeploy(app, deploy);
  let baseUrl = '';
  const work = opts.dataDir === ':memory:' ? join(tmpdir(), `gantry-${process.pid}`) : opts.dataDir;
  const storage = new StorageService(store, clock, new BlobStore(join(work, 'blobs')), () => baseUrl);
  const containers = new ContainerExecutor(opts.dockerSocket);
  if (opts.executor === 'container') {
    await containers.ping().catch((e: Error) => { throw new Error(`the container executor needs a Docker Engine API at ${opts.dockerSocket}: ${e.message}`); });
  }
  const executions = new JobExecutions(store, clock, { process: new ProcessExecutor(), container: containers }, storage, join(work, 'sources'), log);
  runtime.register(renderController(deploy, () => opts.renderMs, { reader: storage, workRoot: join(work, 'sources') },
    release => executions.renderCustomTargets(release, targetId => executorFor(release, targetId, opts.executor))));
  runtime.register(pipelineConditionController(store));
  registerStorage(app, storage, store);
  const outcomes = new OutcomeScripts(store);
  for (const c of rolloutControllers(deploy, { jobMs: () => opts.jobMs, defaultExecutor: opts.executor, executions, apiRules: name => outcomes.rulesFor(name) })) runtime.register(c);
  registerEmulator(app, clock, runtime, outcomes);

  await app.fastify.listen({ host: opts.host, port: opts.port });
  const address = app.fastify.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  runtime.start();
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  baseUrl = `http://${host}:${port}`;
  return {
    url: `http://${host}:${port}`, port, clock, runtime, log,
    async close() {
      runtime.stop();
      await app.fastify.close();
      store.close();
    },
  };
}
