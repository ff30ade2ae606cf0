// Assembles a Gantry: store, clock, controllers, and every API on one HTTP origin.
import { join, resolve } from 'node:path';
import { tmpdir } from 'node:os';
import { StorageService, registerPathStyleUpload, registerStorage } from './apis/storage/storage.js';
import { registerPlatform } from './apis/platform/index.js';
import { BlobStore, type Blobs } from './apis/storage/blobs.js';
import { instanceId } from './executors/ownership.js';
import { SqliteStore } from './store/sqlite.js';
import type { Store } from './store/store.js';
import { watchCount } from './store/name-watch.js';
import { HOLDER_META, SOLE_LEASE, WORK_SLOTS, slotOfName, type WorkLease } from './engine/work-lease.js';
import { SwitchableClock, type Clock } from './engine/clock.js';
import { ControllerRuntime } from './engine/controllers.js';
import type { RestartReport } from './engine/restart-report.js';
import { EXECUTION as RUN_EXECUTION } from './apis/run/service.js';
import { KIND as APPHOSTING_KIND } from './apis/apphosting/service.js';
import { Operations } from './google/operations.js';
import { Locations } from './google/locations.js';
import type { ApiContext, BaseContext } from './google/context.js';
import { Projects } from './google/projects.js';
import { registerSecretManager } from './apis/secretmanager/index.js';
import { ApiError } from './google/errors.js';
import { logViewerUrl, MAX_ENTRIES, registerLogging } from './apis/logging/index.js';
import type { EntryTable } from './apis/logging/entry-table.js';
import { cloudBuildStepEntry } from './apis/logging/producers.js';
import { cloudRunTaskEntry } from './apis/logging/producers.js';
import { registerRun, TASK_RULES } from './apis/run/index.js';
import { App, JSON_BODY_LIMIT } from './server/app.js';
import type { GrpcFront } from './grpc/server.js';
import type { Socket } from 'node:net';
import { LocalTls } from './server/tls.js';
import { DataDirLock } from './store/lock.js';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createLogger, type Level, type Logger } from './server/log.js';
import { registerCloudDeploy } from './apis/clouddeploy/routes.js';
import { renderController } from './apis/clouddeploy/releases.js';
import { pipelineConditionController } from './apis/clouddeploy/controllers/pipeline-conditions.js';
import { PROTO_PACKAGE, SERVICE, schema as deploySchema } from './apis/clouddeploy/service.js';
import { registerEmulator } from './emulator/routes.js';
import { registerConsole } from './console/assets.js';
import { GantryInfo } from './emulator/info.js';
import { EventFeed } from './emulator/events.js';
import { TaskRegistry } from './executors/registry.js';
import { exportSnapshot, importSnapshot, type SnapshotDeps } from './emulator/snapshot.js';
import { OutcomeScripts } from './emulator/outcome-scripts.js';
import { DEPLOY_RULES } from './apis/clouddeploy/outcomes.js';
import { executorFor, rolloutControllers } from './apis/clouddeploy/controllers/rollouts.js';
import { automationControllers } from './apis/clouddeploy/controllers/automations.js';
import { deployNotifications, emulatorPublisher } from './apis/clouddeploy/notifications.js';
import { StandardMethods } from './google/standard-methods.js';
import { ExecutorPolicy, type ExecutorMode } from './policy/executors.js';
import { SourcePolicy } from './policy/sources.js';
import { GitPolicy, type GitMirror } from './policy/git.js';
import type { Executor } from './executors/executor.js';
import { JobExecutions } from './apis/clouddeploy/job-execution.js';
import { ProcessExecutor } from './executors/process.js';
import { ImageDirs, type ImageDir } from './executors/image-dirs.js';
import { GitRepos } from './sources/git.js';
import { registerDeveloperConnect } from './apis/developerconnect/index.js';
import { registerCloudBuild } from './apis/cloudbuild/index.js';
import { BUILD_RULES, registerAppHosting } from './apis/apphosting/index.js';

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
  /** Further executors a target's or pipeline's annotation may choose (the default is always allowed). */
  allowExecutors: ExecutorMode[];
  /** Host directories `file://` sources may be read from; none by default. */
  sourceDirs: string[];
  /** Host directories Developer Connect links may name local git repositories under; `sourceDirs` when unset. */
  gitDirs?: string[];
  /** Whether links may name network remotes (git then connects out with the operator's configuration). */
  allowGitRemotes: boolean;
  /** Network repository URLs read from local repositories instead (`--git-mirror URL=PATH`). */
  gitMirrors?: GitMirror[];
  /** Images the process executor finds as local directories (`--image-dir IMAGE=DIR`). */
  imageDirs?: ImageDir[];
  /** Host names, besides loopback names, that requests may address (`*.example.test` for subdomains). */
  allowHosts: string[];
  /** Browser origins allowed to call Gantry. */
  allowOrigins: string[];
  /** Locations the APIs serve (Google's regions by default); others are refused as Google refuses them. */
  locations?: string[];
  /** Most simultaneous connections. */
  maxConnections: number;
  /** How long a client may take to send a whole request. */
  requestTimeoutMs: number;
  /** How long an HTTP/1 connection may move no byte before it is closed (2 minutes unless set; tests shorten it). */
  silentSocketMs?: number;
  /** How long a simulated Cloud Run task attempt takes unless scripted. */
  taskMs: number;
  /** How long a simulated App Hosting build step takes unless scripted. */
  buildMs: number;
  /** The image App Hosting build steps and apps run in with the container executor. */
  nodeImage: string;
  /** How long an App Hosting app has to answer its first request (Cloud Run's startup probe default: 240 s). */
  startupMs: number;
  /** The region of Cloud Run v1 requests whose host names none (plain `127.0.0.1`). */
  runRegion: string;
  /** The network of containers the container executor starts: none, or the host's. */
  containerNetwork: 'none' | 'host';
  /** Docker Engine API socket for the container executor (dockerd or podman). */
  dockerSocket: string;
  /** SQLite synchronous mode: NORMAL survives a killed process, FULL also power loss. */
  durability: 'NORMAL' | 'FULL';
  /**
   * A PostgreSQL URL (`postgres://…`): resources are kept there, shared with every Gantry given the same URL, instead
   * of in the data directory's SQLite file.
   */
  store?: string;
  /** How often an instance looks at the work slots (a PostgreSQL store): takes free ones, hands idle ones over, in ms. */
  leaseIntervalMs: number;
  /** The URL other instances sharing the store reach this one at, to forward requests for the apps it runs. */
  advertiseUrl?: string;
}

export const DEFAULTS: GantryOptions = {
  host: '127.0.0.1', port: 8080, dataDir: '.gantry', logLevel: 'info', clock: 'real', renderMs: 1000, jobMs: 1000, taskMs: 1000, buildMs: 1000, nodeImage: 'node:22-slim', startupMs: 240_000, runRegion: 'us-central1', containerNetwork: 'none', executor: 'simulated', dockerSocket: '/var/run/docker.sock', durability: 'NORMAL', leaseIntervalMs: 1000,
  allowExecutors: [], sourceDirs: [], allowGitRemotes: false, allowHosts: [], allowOrigins: [], maxConnections: 1024, requestTimeoutMs: 60_000,
};

export interface Gantry {
  url: string;
  port: number;
  /** The certificate TLS clients are given to trust (`core/custom_ca_certs_file` for gcloud). */
  tlsCertFile: string;
  /** The state (or one project's) as a snapshot, line by line (`GET /gantry/v1/snapshot`). */
  snapshot(project?: string): Iterable<string>;
  /** Replaces the state (or one project's) with a snapshot's (`POST /gantry/v1/snapshot:import`). */
  restore(text: string, project?: string): Promise<{ resources: number; logEntries: number }>;
  /** Every REST route served, as registered. */
  routes(): readonly { method: string; template: string }[];
  /** The HTTP listener's connections: how many are open, and how many were closed to make room for new ones. */
  connections(): { size: number; evicted: number };
  /** How many listeners wait on a stored resource (`:wait` requests, deploys waiting for a revision to be ready). */
  waiting(): number;
  clock: Clock;
  runtime: ControllerRuntime;
  log: Logger;
  close(): Promise<void>;
}

/**
 * Where the clock starts: a frozen clock resumes at the instant it was stopped; a running one goes on from where a
 * clock that was frozen and then let run had got to (never back), or is simply now.
 */
function clockStart(mode: 'real' | 'virtual', store: Store): number {
  let saved: { mode?: string; ms?: number; offsetMs?: number } = {};
  try { saved = JSON.parse(store.getMeta('clock.state') ?? '{}') as typeof saved; } catch { /* below */ }
  if (mode === 'virtual') {
    const ms = saved.mode === 'real' ? Date.now() + (saved.offsetMs ?? 0) : Number(store.getMeta('clock.virtual') ?? saved.ms ?? NaN);
    return Number.isFinite(ms) ? ms : Date.now();
  }
  return saved.mode === 'real' && Number.isFinite(saved.offsetMs) ? Date.now() + (saved.offsetMs ?? 0) : Date.now();
}

/** The work a previous Gantry left unfinished, which this start takes up again (reported once it has looked). */
function noteUnfinished(store: Store, report: RestartReport, which: (name: string) => boolean): void {
  const running = (kind: string, what: string) => report.note('resumed', what, store.activeNames(kind).filter(which).length);
  report.note('resumed', 'rollout', store.list({ kind: 'rollout', scope: { parentPrefix: 'projects/' }, order: [], equalities: [{ path: ['state'], value: 'IN_PROGRESS' }], limit: 100_000 }).rows.filter(r => which(String(r.name))).length);
  running('jobRun', 'job run');
  running(RUN_EXECUTION, 'execution');
  running(APPHOSTING_KIND.build, 'build');
}

export async function startGantry(partial: Partial<GantryOptions> = {}): Promise<Gantry> {
  const opts = { ...DEFAULTS, ...partial };
  let lock: DataDirLock | undefined;
  if (opts.dataDir !== ':memory:') {
    mkdirSync(opts.dataDir, { recursive: true });
    lock = DataDirLock.acquire(opts.dataDir);
  }
  try {
    return await start(opts, lock);
  } catch (e) {
    lock?.release();
    throw e;
  }
}

/**
 * A shared store's outage (the database restarting, the network gone) reaches work that runs off any request, on
 * timers and promises, as UNAVAILABLE errors: the instance logs them and goes on (its lease is lost with the
 * connection, and the work is reconciled again by whoever takes it), instead of exiting. Any other uncaught error
 * still ends the process, as Node's default does. Returns the removal.
 */
function survivingStoreOutages(log: Logger): () => void {
  const outage = (e: unknown) => e instanceof ApiError && e.code === 'UNAVAILABLE';
  const uncaught = (e: Error) => {
    if (outage(e)) { log.error(`Off a request: ${e.message}`); return; }
    process.stderr.write(`${e.stack ?? String(e)}\n`);
    process.exit(1);
  };
  const rejected = (e: unknown) => {
    if (outage(e)) { log.error(`Off a request: ${(e as Error).message}`); return; }
    throw e;
  };
  process.on('uncaughtException', uncaught);
  process.on('unhandledRejection', rejected);
  return () => { process.off('uncaughtException', uncaught); process.off('unhandledRejection', rejected); };
}

interface OpenedStore {
  store: Store;
  lease: WorkLease;
  /** Where Cloud Storage object bytes go: the shared store's, or (undefined) the data directory's files. */
  blobs?: Blobs;
  /** Where Cloud Logging's entries go: the shared store's, or (undefined) the data directory's logs.db. */
  logEntries?: EntryTable;
}

/** The data directory's SQLite file, or the PostgreSQL database of `--store` (loaded only then: it is a native module). */
async function openStore(opts: GantryOptions, log: Logger): Promise<OpenedStore> {
  if (opts.store === undefined) {
    const file = opts.dataDir === ':memory:' ? ':memory:' : join(opts.dataDir, 'gantry.db');
    return { store: new SqliteStore(file, { synchronous: opts.durability, onError: m => log.warn(`store: ${m}`) }), lease: SOLE_LEASE };
  }
  const { PostgresStore, isPostgresUrl } = await import('./store/postgres.js');
  if (!isPostgresUrl(opts.store)) throw new Error(`--store ${opts.store}: a store is a PostgreSQL URL, postgres://USER@HOST:PORT/DATABASE`);
  // The clock of instances sharing a database is the real one: a virtual clock lives in one process's timers.
  if (opts.clock === 'virtual') throw new Error('--clock virtual needs the embedded store: instances sharing a PostgreSQL database run on the real clock');
  const store = new PostgresStore(opts.store);
  try {
    await store.listen();
    const lease = await store.workLease(opts.leaseIntervalMs);
    return { store, lease, blobs: store.blobs(), logEntries: store.logEntries(MAX_ENTRIES) };
  } catch (e) {
    store.close();
    throw e;
  }
}

async function start(opts: GantryOptions, lock: DataDirLock | undefined): Promise<Gantry> {
  const log = createLogger(opts.logLevel);
  const { store, lease, blobs: sharedBlobs, logEntries } = await openStore(opts, log);
  const clock = new SwitchableClock(opts.clock, clockStart(opts.clock, store), state => {
    store.tx(w => { w.setMeta('clock.state', JSON.stringify(state)); if (state.mode === 'virtual') w.setMeta('clock.virtual', String(state.ms)); });
  });
  const runtime = new ControllerRuntime(store, clock, log);
  const outages = opts.store === undefined ? undefined : survivingStoreOutages(log);
  // On a shared store, only the projects of the slots held here are reconciled here: the others' workers hear every
  // change through the store's feed.
  if (opts.store !== undefined) runtime.workOnly(name => lease.works(name));
  const ops = new Operations(store, clock);
  // A listen address that is not loopback is a host name clients use: it is allowed like the --allow-hosts.
  const listenHost = ['0.0.0.0', '::', ''].includes(opts.host) ? [] : [opts.host];
  const app = new App({
    log, authToken: opts.authToken, allowHosts: [...listenHost, ...opts.allowHosts], allowOrigins: opts.allowOrigins,
    maxConnections: opts.maxConnections, requestTimeoutMs: opts.requestTimeoutMs, silentSocketMs: opts.silentSocketMs, readFresh: store.readFresh?.bind(store), exclusive: store.exclusive?.bind(store),
  });
  const executorPolicy = new ExecutorPolicy(opts.executor, opts.allowExecutors);
  const sourcePolicy = new SourcePolicy(opts.sourceDirs);

  let baseUrl = '';
  const base: BaseContext = { store, clock, ops, projects: new Projects(store), origin: () => baseUrl };
  const runLocations = new Locations(opts.locations);
  const deploy: ApiContext = { store, clock, ops, schema: deploySchema, locations: runLocations, svc: { protoPackage: PROTO_PACKAGE, apiVersion: 'v1', serviceName: SERVICE } };
  registerCloudDeploy(app, deploy, { executors: executorPolicy, sources: sourcePolicy });
  // In memory (`--ephemeral`): files (blobs, sources, the TLS certificate) go to a directory of this instance's own,
  // removed when it stops.
  const ephemeral = opts.dataDir === ':memory:';
  const work = ephemeral ? mkdtempSync(join(tmpdir(), 'gantry-')) : opts.dataDir;
  const blobs = sharedBlobs ?? new BlobStore(join(work, 'blobs'));
  const storage = new StorageService(store, clock, blobs, () => baseUrl, base.projects);
  // Only the executors the operator enabled exist at all: nothing else can run a command.
  const executors: Record<string, Executor> = {};
  // What proves a process or container is this Gantry's own is kept in the data directory (never in the store,
  // which a snapshot fills), so a handle from anywhere else is never acted on.
  const owned = join(work, 'executors');
  if (executorPolicy.enabled.has('process')) executors.process = new ProcessExecutor(join(owned, 'processes'), new ImageDirs(opts.imageDirs));
  if (executorPolicy.enabled.has('container')) {
    // Loaded only when enabled: the Docker client is a tenth of a second of start-up otherwise spent for nothing.
    const { ContainerExecutor } = await import('./executors/container.js');
    const containers = new ContainerExecutor(opts.dockerSocket, instanceId(owned), opts.containerNetwork);
    await containers.ping().catch((e: Error) => { throw new Error(`the container executor needs a Docker Engine API at ${opts.dockerSocket}: ${e.message}`); });
    executors.container = containers;
  }
  // Every task is recorded with the resource it works for, so a reset stops exactly the work of its scope.
  const tasks = new TaskRegistry();
  for (const k of Object.keys(executors)) executors[k] = tasks.wrap(executors[k]);
  const sources = {
    read: (url: string) => storage.read(url), localPath: (url: string) => sourcePolicy.localPath(url),
    write: (url: string, data: Buffer, type: string, owner?: string) => storage.write(url, data, type, owner), httpUrl: (url: string) => storage.httpUrl(url),
    origin: () => baseUrl,
  };
  const secrets = registerSecretManager(app, base);
  const logs = registerLogging(app, base, { dataDir: opts.dataDir === ':memory:' ? ':memory:' : work, entries: logEntries, log });
  const executions = new JobExecutions(store, clock, executors, sources, join(work, 'sources'), log, logs);
  const renderStorage = { ...sources, list: (bucket: string, prefix: string) => storage.listObjects(bucket, prefix) };
  runtime.register(renderController(deploy, () => opts.renderMs, { storage: renderStorage, workRoot: join(work, 'sources'), log, logs },
    (release, configs) => executions.renderCustomTargets(release, targetId => executorFor(release, targetId, opts.executor), configs)));
  runtime.register(pipelineConditionController(store));
  registerStorage(app, storage, store);
  const outcomes = new OutcomeScripts(store);
  outcomes.addGrammar(DEPLOY_RULES);
  for (const c of rolloutControllers(deploy, { jobMs: () => opts.jobMs, defaultExecutor: opts.executor, executions, apiRules: name => outcomes.rulesFor(name, DEPLOY_RULES),
    buildLog: lines => logs.write(lines.map(cloudBuildStepEntry)), decisions: runtime.decisions,
  })) runtime.register(c);
  for (const c of automationControllers(deploy, new StandardMethods(deploy), runtime.decisions)) runtime.register(c);
  // Pub/Sub notifications go to an emulator when one is named, as Cloud Deploy publishes to a project's topics.
  const pubsubHost = process.env.PUBSUB_EMULATOR_HOST;
  const publisher = pubsubHost ? await emulatorPublisher(pubsubHost, log) : undefined;
  if (publisher) deployNotifications(store, base.projects, publisher, clock.timestamp(), name => lease.works(name));
  const run = registerRun(app, base, {
    runtime, executors, policy: executorPolicy, defaultExecutor: opts.executor, secrets, logs, locations: runLocations, defaultRegion: opts.runRegion,
    authToken: opts.authToken, startupMs: opts.startupMs, working: name => lease.works(name), elsewhere: name => lease.holderOf(name),
    // On a shared store each instance records the revisions it runs under a key of its own, to reap them after a kill.
    servingKey: opts.store === undefined ? undefined : `run.serving.${instanceId(owned)}`,
    taskMs: () => opts.taskMs, apiRules: (name, grammar) => outcomes.rulesFor(name, grammar), workRoot: work, log,
    entry: (c, stream, line) => cloudRunTaskEntry({ ...c, stream, line }),
    revisionLogUri: (project, region, service, revision) => logViewerUrl(baseUrl, project,
      `resource.type="cloud_run_revision"\nresource.labels.service_name="${service}"\nresource.labels.revision_name="${revision}"\nresource.labels.location="${region}"`),
    logUri: (project, region, job, execution, taskIndex) => logViewerUrl(baseUrl, project,
      `resource.type="cloud_run_job"\nresource.labels.job_name="${job}"\nresource.labels.location="${region}"\nlabels."run.googleapis.com/execution_name"="${execution}"${
        taskIndex === undefined ? '' : `\nlabels."run.googleapis.com/task_index"="${taskIndex}"`}`),
  });
  executions.cloudRun = run.deploys;
  outcomes.addGrammar(TASK_RULES);
  const git = new GitRepos(join(work, 'git'), new GitPolicy({ dirs: opts.gitDirs ?? opts.sourceDirs, allowRemotes: opts.allowGitRemotes, mirrors: opts.gitMirrors, own: [work] }));
  const links = registerDeveloperConnect(app, base, { git, locations: runLocations });
  registerCloudBuild(app, base, runLocations);
  const appHosting = registerAppHosting(app, base, {
    runtime, executors, policy: executorPolicy, defaultExecutor: opts.executor, secrets, logs, links, git, locations: runLocations,
    readObject: url => storage.read(url),
    buildLogsUri: (project, region, logId) => `${baseUrl}/gantry/v1/cloud-build/builds;region=${region}/${logId}?project=${encodeURIComponent(project)}`,
    stepMs: () => opts.buildMs, apiRules: name => outcomes.rulesFor(name, BUILD_RULES), nodeImage: opts.nodeImage,
    workRoot: join(work, 'apphosting'), log, run: run.builds,
  });
  outcomes.addGrammar(BUILD_RULES);
  registerPlatform(app, base);
  const tls = new LocalTls(join(work, 'tls'), [...listenHost, ...opts.allowHosts]);
  const events = new EventFeed(store, clock, log);
  const snapshots: SnapshotDeps = { store, runtime, tasks, logs, blobs };
  registerEmulator(app, clock, runtime, outcomes, new GantryInfo({
    clock, executors: executorPolicy, dockerSocket: opts.dockerSocket, dataDir: ephemeral ? undefined : opts.dataDir, url: () => baseUrl, tlsCertFile: tls.certFile,
    store: opts.store === undefined ? 'sqlite' : 'postgres',
    work: opts.store === undefined ? undefined : () => ({ slots: lease.slots(), of: WORK_SLOTS, sole: store.soleWriter?.() === true }),
  }), events, snapshots);
  registerConsole(app);
  registerPathStyleUpload(app, storage);

  // gRPC clients connect to the same port (HTTP/2 with prior knowledge); their calls take the REST routes above.
  // Clients that insist on TLS (gcloud's gRPC commands) get it there too, with a certificate of the data directory.
  // Loaded on the first gRPC connection: grpc-js and the protos are start-up time a REST-only user would pay for nothing.
  let grpcFront: Promise<GrpcFront> | undefined;
  const grpc = (socket: Socket) => {
    grpcFront ??= import('./grpc/server.js').then(m => new m.GrpcFront(app, { log, maxMessageBytes: JSON_BODY_LIMIT, streams: logs.streams }));
    grpcFront.then(f => f.accept(socket), (e: Error) => { log.error(`gRPC: ${e.stack ?? e}`); socket.destroy(); });
  };
  app.acceptOtherProtocols({
    http2: grpc,
    tls: socket => tls.accept(socket, (secure, http2) => (http2 ? grpc(secure) : app.http1(secure))),
  });

  await app.listen(opts.host, opts.port);
  const address = app.server.address();
  const port = typeof address === 'object' && address ? address.port : opts.port;
  const host = opts.host.includes(':') ? `[${opts.host}]` : opts.host;
  baseUrl = `http://${host}:${port}`;
  // What this instance left running when it was killed is stopped before anything of its own starts.
  await run.reapLeftovers();
  // The work of the slots taken (all of them on SQLite, at once): what a previous worker (or a killed Gantry) left
  // unfinished is taken up, as a restart does.
  const inSlots = (slots: number[]) => { const set = new Set(slots); return (name: string) => set.has(slotOfName(name)); };
  const takeOver = async (slots: number[]) => {
    const which = inSlots(slots);
    if (opts.store !== undefined) store.tx(w => { for (const s of slots) w.setMeta(HOLDER_META + s, opts.advertiseUrl ?? baseUrl); });
    noteUnfinished(store, runtime.restart, which);
    run.resume();
    runtime.start(which);
    await appHosting.resume();
    void runtime.restart.finish(runtime.drained());
  };
  // Every service is routed either way: a request for any app may reach any instance.
  if (lease.slots().length) await takeOver(lease.slots());
  else run.resume();
  lease.onTaken(slots => {
    log.info(`Took work slots ${slots.join(', ')} (of ${WORK_SLOTS}): resuming their projects' work`);
    takeOver(slots).catch((e: Error) => log.error(`taking over work: ${e.stack ?? e}`));
  });
  // Slots handed over hold no running task (only idle ones are): their controllers stand by and their apps stop here,
  // to run on the instance that took them. An instance cut off from its database stops all its work at once (the
  // slots are others' within the keepalives' time), without recording anything; once the database answers again it
  // takes its share anew.
  lease.onLost((slots, handedOver) => {
    const which = inSlots(slots);
    if (handedOver) log.info(`Handed work slots ${slots.join(', ')} to another instance`);
    else log.error(`Lost the PostgreSQL store: this instance stops its work and stands by`);
    runtime.standBy(which);
    void tasks.abandon(which);
    run.stopWhere(which);
  });
  // A resource another instance deleted (a reset of its project there) takes its tasks running here with it, as a
  // reset here stops them: they are stopped as soon as the delete is heard.
  if (opts.store !== undefined) {
    store.onChange(c => {
      if (c.op !== 'delete' || !c.remote) return;
      const gone = (owner: string) => owner === c.name || owner.startsWith(`${c.name}/`);
      if (tasks.busyWith(gone)) void tasks.stopWhere(gone);
    });
  }
  lease.busyWith(slot => {
    const which = inSlots([slot]);
    return tasks.busyWith(which) || runtime.busyWith(which);
  });
  // Made after listening, so start-up does not wait for a key; a TLS client arriving first waits for it instead.
  void tls.ready().catch((e: Error) => log.error(`TLS certificate: ${e.message}`));
  lock?.update({ url: baseUrl, tlsCertFile: resolve(tls.certFile) });
  return {
    url: `http://${host}:${port}`, port, clock, runtime, log, tlsCertFile: tls.certFile, routes: () => app.router.templates(),
    connections: () => ({ size: app.slots.size, evicted: app.slots.evicted }),
    waiting: () => watchCount(store),
    snapshot: project => exportSnapshot(snapshots, project), restore: (text, project) => importSnapshot(snapshots, text, project),
    async close() {
      outages?.();
      lease.close();
      runtime.stop();
      // Tasks are stopped first and record nothing: their attempts stay running in the store, lost to the next start.
      const stopping = tasks.shutdown();
      appHosting.close();
      run.close();
      await stopping;
      if (grpcFront) (await grpcFront.catch(() => undefined))?.close();
      events.close();
      await app.close();
      await publisher?.close();
      store.close();
      lock?.release();
      if (ephemeral) rmSync(work, { recursive: true, force: true });
    },
  };
}
