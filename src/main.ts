#!/usr/bin/env node
// The CLI: flags and environment variables over embedded defaults, then serve until a signal.
import { isIP } from 'node:net';
import type { GantryOptions } from './gantry.js';
import { parseExecutorList } from './policy/executors.js';
import { parseFlexibleDurationMs } from './google/time.js';
import { Locations } from './google/locations.js';
import type { Level } from './server/log.js';
import { DEFAULT_PROJECT, DEFAULT_REGION, envCommand } from './cli/env.js';
import { CONTROL_COMMANDS, CONTROL_USAGE, controlCommand, isControlCommand } from './cli/control.js';
import { choice, nearest, parseFlags, UsageError } from './cli/args.js';
import { runUnderGantry, splitExecArgs } from './cli/exec.js';
import { migrateCommand, storeUrl } from './cli/migrate.js';
import { startBanner } from './cli/banner.js';
import { readFileSync, writeFileSync } from 'node:fs';
import { checkOutside, parseGitMirrors } from './policy/git.js';
import { checkImageDirs, parseImageDirs } from './executors/image-dirs.js';
import { VERSION } from './version.js';

const USAGE = `Usage: gantry [options]                                 serve (on the embedded defaults without options)
       gantry env [--shell S]                           print the environment pointing every client at the running Gantry
       gantry exec [options] -- CMD [ARG…]              start Gantry (in memory, a free port), run CMD with that environment,
                                                        stop, and exit with CMD's status
${CONTROL_USAGE}
       gantry migrate [--store URL]                     apply this version's schema to a PostgreSQL store, then exit
       gantry --version`;
const HELP = `gantry — Cloud Deploy, Cloud Run jobs and Firebase App Hosting on your own machine

${USAGE}

  --host HOST          listen address (GANTRY_HOST, default 127.0.0.1)
  --port PORT          listen port (GANTRY_PORT, default 8080; 0 picks a free one)
  --data-dir DIR       where state is kept (GANTRY_DATA_DIR, default ./.gantry)
  --ephemeral          keep state in memory only, gone when Gantry stops (GANTRY_EPHEMERAL=1)
  --store URL          keep resources in the PostgreSQL database at URL (postgres://USER@HOST:PORT/DB), shared with
                       every Gantry given the same URL (GANTRY_STORE, else DATABASE_URL; default: SQLite in --data-dir)
  --advertise-url URL  with --store: where the other instances reach this one, to pass on requests for the apps it
                       runs (its work slots' projects) (GANTRY_ADVERTISE_URL; default: its listen URL)
  --lease-interval D   with --store: how often an instance looks at the work slots, taking free ones up to its share
                       and handing idle ones over above it, e.g. 1s (GANTRY_LEASE_INTERVAL, default 1s)
  --import FILE        start from a snapshot (GET /gantry/v1/snapshot), replacing the data directory's state
  --export-on-exit F   write a snapshot of the whole state to F when stopped by SIGINT or SIGTERM
  --auth-token TOKEN   require "Authorization: Bearer TOKEN" (GANTRY_AUTH_TOKEN; required off loopback)
  --log-level LEVEL    debug, info, warn, error or silent (GANTRY_LOG_LEVEL, default info)
  --clock MODE         real or virtual (GANTRY_CLOCK, default real)
  --render-duration D  how long a simulated release render takes, e.g. 1s (GANTRY_RENDER_DURATION)
  --job-duration D     how long a simulated job run takes unless scripted, e.g. 1s (GANTRY_JOB_DURATION)
  --task-duration D    how long a simulated Cloud Run task attempt takes unless scripted (GANTRY_TASK_DURATION)
  --build-duration D   how long a simulated App Hosting build step (build, deploy) takes unless scripted
                       (GANTRY_BUILD_DURATION)
  --node-image IMAGE   the image App Hosting builds and apps run in with the container executor
                       (GANTRY_NODE_IMAGE, default node:22-slim)
  --startup-timeout D  how long an App Hosting app or a Cloud Run revision has to answer its first request (GANTRY_STARTUP_TIMEOUT, 240s)
  --run-region R       the region of Cloud Run v1 requests whose host names none (GANTRY_RUN_REGION, us-central1)
  --container-network N none (default) or host: the network of containers the container executor starts
                       (GANTRY_CONTAINER_NETWORK)
  --executor MODE      simulated (default), process or container: how Cloud Deploy job runs execute (GANTRY_EXECUTOR)
  --allow-executors L  executors a target's or pipeline's gantry.dev/executor annotation may also choose, e.g.
                       process,container (GANTRY_ALLOW_EXECUTORS; default none: only --executor runs)
  --source-dirs L      directories file:// release sources may be read from (GANTRY_SOURCE_DIRS; default none)
  --git-dirs L         directories a Developer Connect link's cloneUri may name local git repositories under
                       (GANTRY_GIT_DIRS; default: the --source-dirs)
  --git-mirror URL=PATH links to the git repository at URL (e.g. https://github.com/acme/app.git) read the local
                       repository at PATH instead, offline; repeatable or comma-separated (GANTRY_GIT_MIRRORS)
  --image-dir IMAGE=DIR the process executor runs tasks of IMAGE (any tag, unless one is given) in the local
                       directory DIR, and one without a command runs DIR's Procfile web process (else npm start), as
                       a buildpack-built image would; repeatable or comma-separated (GANTRY_IMAGE_DIRS)
  --allow-git-remotes  let links name network remotes (https, ssh, git): git then connects out with your HOME, git
                       configuration and credentials (GANTRY_ALLOW_GIT_REMOTES=1; default off: local repositories only)
  --allow-hosts L      host names besides loopback that requests may address; *.example.test for subdomains
                       (GANTRY_ALLOW_HOSTS; the --host address is always allowed)
  --locations L        locations the APIs serve (GANTRY_LOCATIONS; default: Google's regions, e.g.
                       us-central1,europe-west1)
  --allow-origins L    browser origins allowed to call, e.g. http://localhost:3000 (GANTRY_ALLOW_ORIGINS; default none)
  --max-connections N  most simultaneous connections; past it an idle or slow one makes room
                       (GANTRY_MAX_CONNECTIONS, default 1024)
  --request-timeout D  how long a client may take to send a request, e.g. 60s (GANTRY_REQUEST_TIMEOUT)
  --docker-socket PATH Docker Engine API socket for the container executor (GANTRY_DOCKER_SOCKET, /var/run/docker.sock)
  --durability MODE    NORMAL (survives a killed process) or FULL (also power loss) (GANTRY_DURABILITY)
  --version            print the version
  -h, --help           this text`;

/** Set to 'exec' once the command line is known to be exec's: its serving flags' errors then name it. */
let serving: 'exec' | undefined;
/** A bad command line: one line saying what is wrong, and where the options are listed. */
function fail(msg: string, command?: string): never {
  if (command === undefined && serving) { msg = `${serving}: ${msg}`; command = serving; }
  process.stderr.write(`gantry: ${msg}\nRun gantry ${command ? `${command} ` : ''}--help for the options.\n`);
  process.exit(2);
}

/** Gantry could not start (the port or data directory is taken, the container engine is missing…). */
function die(msg: string): never {
  process.stderr.write(`gantry: ${msg}\n`);
  process.exit(1);
}

// Subcommands besides serving: the environment for clients, the control API of a running Gantry, and exec.
const [sub, ...subArgs] = process.argv.slice(2);
if (sub === 'env') {
  try { process.stdout.write(await envCommand(subArgs)); } catch (e) { if (e instanceof UsageError) fail(`env: ${e.message}`, 'env'); die(`env: ${(e as Error).message}`); }
  process.exit(0);
}
if (isControlCommand(sub)) {
  try { await controlCommand(sub, subArgs, process.stdout); } catch (e) { if (e instanceof UsageError) fail(`${sub}: ${e.message}`, sub); die(`${sub}: ${(e as Error).message}`); }
  process.exit(0);
}
if (sub === 'migrate') {
  try { process.stdout.write(await migrateCommand(subArgs, process.env)); } catch (e) { if (e instanceof UsageError) fail(`migrate: ${e.message}`, 'migrate'); die(`migrate: ${(e as Error).message}`); }
  process.exit(0);
}
if (sub !== undefined && !sub.startsWith('-') && sub !== 'exec') {
  const guess = nearest(sub, ['env', 'exec', 'migrate', ...CONTROL_COMMANDS]);
  fail(`unknown command "${sub}"${guess ? `: did you mean gantry ${guess}?` : ` (commands: env, exec, migrate, ${CONTROL_COMMANDS.join(', ')})`}`);
}
let exec: ReturnType<typeof splitExecArgs> | undefined;
try { exec = sub === 'exec' ? splitExecArgs(subArgs) : undefined; } catch (e) { fail(`exec: ${(e as Error).message}`, 'exec'); }
const serveArgs = exec ? exec.flags : process.argv.slice(2);
if (exec) serving = 'exec';
// The server's modules load only to serve: the subcommands above and a bad command line answer without them.
const { DEFAULTS, startGantry } = await import('./gantry.js');

function isLoopback(host: string): boolean {
  if (host === 'localhost') return true;
  if (isIP(host) === 4) return host.startsWith('127.');
  return host === '::1';
}

let parsed: ReturnType<typeof parseOptions>;
try { parsed = parseOptions(); } catch (e) { fail((e as Error).message); }
const { values } = parsed;
function parseOptions() {
  return parseFlags(serveArgs, {
    host: { type: 'string' }, port: { type: 'string' }, 'data-dir': { type: 'string' }, 'auth-token': { type: 'string' },
    'log-level': { type: 'string' }, clock: { type: 'string' }, 'render-duration': { type: 'string' }, 'job-duration': { type: 'string' }, 'task-duration': { type: 'string' }, 'build-duration': { type: 'string' }, 'node-image': { type: 'string' }, 'startup-timeout': { type: 'string' }, 'run-region': { type: 'string' }, 'container-network': { type: 'string' },
    durability: { type: 'string' }, executor: { type: 'string' }, 'docker-socket': { type: 'string' }, help: { type: 'boolean', short: 'h' },
    'allow-executors': { type: 'string' }, 'source-dirs': { type: 'string' }, 'git-dirs': { type: 'string' }, 'git-mirror': { type: 'string', multiple: true }, 'image-dir': { type: 'string', multiple: true }, 'allow-git-remotes': { type: 'boolean' }, 'allow-hosts': { type: 'string' }, locations: { type: 'string' }, 'allow-origins': { type: 'string' },
    'max-connections': { type: 'string' }, 'request-timeout': { type: 'string' }, version: { type: 'boolean' }, ephemeral: { type: 'boolean' }, import: { type: 'string' }, 'export-on-exit': { type: 'string' },
    store: { type: 'string' }, 'advertise-url': { type: 'string' }, 'lease-interval': { type: 'string' },
  });
}
if (values.help) { process.stdout.write(HELP + '\n'); process.exit(0); }
if (values.version) { process.stdout.write(`gantry ${VERSION}\n`); process.exit(0); }

const env = process.env;
const pick = (flag: string | undefined, name: string) => flag ?? env[name];
/** A value from a fixed list, or a one-line error naming the flag and every valid value. */
function valid<const T extends string>(what: string, value: string, list: readonly T[]): T {
  try { return choice(what, value, list); } catch (e) { fail((e as Error).message); }
}
const opts: Partial<GantryOptions> = {};
opts.host = pick(values.host, 'GANTRY_HOST') ?? DEFAULTS.host;
// exec picks a free port: CMD learns it from the environment, and a Gantry already on 8080 is no obstacle.
const rawPort = pick(values.port, 'GANTRY_PORT') ?? String(exec ? 0 : DEFAULTS.port);
const port = /^\d{1,5}$/.test(rawPort.trim()) ? Number(rawPort) : NaN;
if (!(port >= 0 && port <= 65535)) fail(`invalid ${values.port !== undefined ? '--port' : 'GANTRY_PORT'} "${rawPort}": a port is a whole number from 1 to 65535, or 0 for any free one`);
opts.port = port;
// exec keeps state in memory unless given a data directory.
const ephemeral = values.ephemeral ?? (exec ? values['data-dir'] === undefined : ['1', 'true'].includes((env.GANTRY_EPHEMERAL ?? '').toLowerCase()));
if (ephemeral && values['data-dir'] !== undefined) fail('--ephemeral keeps no data directory: give one or the other');
opts.dataDir = ephemeral ? ':memory:' : pick(values['data-dir'], 'GANTRY_DATA_DIR') ?? DEFAULTS.dataDir;
try { opts.store = storeUrl(values.store, env); } catch (e) { fail((e as Error).message); }
const advertise = pick(values['advertise-url'], 'GANTRY_ADVERTISE_URL');
if (advertise !== undefined) {
  if (!/^https?:\/\/[^/]+\/?$/.test(advertise)) fail(`invalid --advertise-url ${advertise}: a URL of this instance, e.g. http://10.0.0.5:8080`);
  opts.advertiseUrl = advertise.replace(/\/$/, '');
}
const leaseInterval = pick(values['lease-interval'], 'GANTRY_LEASE_INTERVAL');
if (leaseInterval !== undefined) {
  const ms = parseFlexibleDurationMs(leaseInterval);
  if (ms === undefined || ms < 50) fail(`invalid --lease-interval ${leaseInterval} (use e.g. 1s; at least 50ms)`);
  opts.leaseIntervalMs = ms;
}
opts.authToken = pick(values['auth-token'], 'GANTRY_AUTH_TOKEN') || undefined;
// exec's output is CMD's: Gantry then says only what went wrong.
opts.logLevel = valid<Level>('--log-level', pick(values['log-level'], 'GANTRY_LOG_LEVEL') ?? (exec ? 'warn' : DEFAULTS.logLevel), ['debug', 'info', 'warn', 'error', 'silent']);
opts.clock = valid('--clock', pick(values.clock, 'GANTRY_CLOCK') ?? DEFAULTS.clock, ['real', 'virtual']);
for (const [flag, env, key] of [['render-duration', 'GANTRY_RENDER_DURATION', 'renderMs'], ['job-duration', 'GANTRY_JOB_DURATION', 'jobMs'], ['task-duration', 'GANTRY_TASK_DURATION', 'taskMs'], ['build-duration', 'GANTRY_BUILD_DURATION', 'buildMs'], ['startup-timeout', 'GANTRY_STARTUP_TIMEOUT', 'startupMs']] as const) {
  const raw = pick(values[flag], env);
  if (raw === undefined) continue;
  const ms = parseFlexibleDurationMs(raw);
  if (ms === undefined || ms < 0) fail(`invalid --${flag} ${raw} (use e.g. 1s, 0.5s, 2m)`);
  opts[key] = ms;
}
opts.executor = valid('--executor', pick(values.executor, 'GANTRY_EXECUTOR') ?? DEFAULTS.executor, ['simulated', 'process', 'container']);
const list = (flag: string | undefined, name: string) => (pick(flag, name) ?? '').split(',').map(x => x.trim()).filter(Boolean);
try { opts.allowExecutors = parseExecutorList(pick(values['allow-executors'], 'GANTRY_ALLOW_EXECUTORS') ?? ''); } catch (e) { fail(`--allow-executors: ${(e as Error).message}`); }
opts.sourceDirs = list(values['source-dirs'], 'GANTRY_SOURCE_DIRS');
if (pick(values['git-dirs'], 'GANTRY_GIT_DIRS') !== undefined) opts.gitDirs = list(values['git-dirs'], 'GANTRY_GIT_DIRS');
const mirrors = values['git-mirror'] ?? (env.GANTRY_GIT_MIRRORS !== undefined ? [env.GANTRY_GIT_MIRRORS] : []);
try {
  opts.gitMirrors = parseGitMirrors(mirrors);
  // Gantry's data directory is never a repository (checked again, symlinks resolved, when the server starts).
  if (opts.dataDir !== ':memory:') for (const m of opts.gitMirrors) checkOutside(m.path, opts.dataDir!);
} catch (e) { fail(`${values['git-mirror'] ? '--git-mirror' : 'GANTRY_GIT_MIRRORS'}: ${(e as Error).message}`); }
const imageDirs = values['image-dir'] ?? (env.GANTRY_IMAGE_DIRS !== undefined ? [env.GANTRY_IMAGE_DIRS] : []);
try { opts.imageDirs = parseImageDirs(imageDirs); checkImageDirs(opts.imageDirs); } catch (e) { fail(`${values['image-dir'] ? '--image-dir' : 'GANTRY_IMAGE_DIRS'}: ${(e as Error).message}`); }
opts.allowGitRemotes = values['allow-git-remotes'] ?? ['1', 'true'].includes((env.GANTRY_ALLOW_GIT_REMOTES ?? '').toLowerCase());
opts.allowHosts = list(values['allow-hosts'], 'GANTRY_ALLOW_HOSTS');
const locations = list(values.locations, 'GANTRY_LOCATIONS');
if (locations.length) {
  try { new Locations(locations); } catch (e) { fail(`--locations: ${(e as Error).message}`); }
  opts.locations = locations;
}
opts.allowOrigins = list(values['allow-origins'], 'GANTRY_ALLOW_ORIGINS');
for (const o of opts.allowOrigins) if (!/^https?:\/\/[^/]+$/.test(o)) fail(`--allow-origins: "${o}" is not an origin (scheme://host[:port])`);
const maxConnections = Number(pick(values['max-connections'], 'GANTRY_MAX_CONNECTIONS') ?? DEFAULTS.maxConnections);
if (!Number.isInteger(maxConnections) || maxConnections < 1) fail(`invalid --max-connections ${pick(values['max-connections'], 'GANTRY_MAX_CONNECTIONS')}: a whole number of connections, at least 1`);
opts.maxConnections = maxConnections;
const requestTimeout = pick(values['request-timeout'], 'GANTRY_REQUEST_TIMEOUT');
if (requestTimeout !== undefined) {
  const ms = parseFlexibleDurationMs(requestTimeout);
  if (ms === undefined || ms < 100) fail(`invalid --request-timeout ${requestTimeout} (use e.g. 60s)`);
  opts.requestTimeoutMs = ms;
}
const runRegion = pick(values['run-region'], 'GANTRY_RUN_REGION');
if (runRegion !== undefined) {
  if (!/^[a-z]+-[a-z]+[0-9]+$/.test(runRegion)) fail(`invalid --run-region ${runRegion} (a region id, e.g. europe-west1)`);
  opts.runRegion = runRegion;
}
opts.containerNetwork = valid('--container-network', pick(values['container-network'], 'GANTRY_CONTAINER_NETWORK') ?? DEFAULTS.containerNetwork, ['none', 'host']);
const nodeImage = pick(values['node-image'], 'GANTRY_NODE_IMAGE');
if (nodeImage !== undefined) {
  if (!/^[a-z0-9][a-z0-9._\/:@-]{0,254}$/i.test(nodeImage)) fail(`invalid --node-image ${nodeImage}`);
  opts.nodeImage = nodeImage;
}
opts.dockerSocket = pick(values['docker-socket'], 'GANTRY_DOCKER_SOCKET') ?? DEFAULTS.dockerSocket;
opts.durability = valid('--durability', (pick(values.durability, 'GANTRY_DURABILITY') ?? DEFAULTS.durability).toUpperCase(), ['NORMAL', 'FULL']);
// Gantry runs user-supplied commands: anything reachable beyond loopback must require a token.
if (!isLoopback(opts.host) && !opts.authToken) fail(`listening on ${opts.host} needs --auth-token (or GANTRY_AUTH_TOKEN)`);

const importFile = values.import;
let snapshotText: string | undefined;
if (importFile !== undefined) {
  try { snapshotText = readFileSync(importFile, 'utf8'); } catch (e) { fail(`--import: cannot read ${importFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`); }
}
const exportFile = values['export-on-exit'];

const started = performance.now();
const gantry = await startGantry(opts).catch((e: Error) => die(e.message));
if (snapshotText !== undefined) {
  await gantry.restore(snapshotText).catch(async (e: Error) => { await gantry.close(); die(`--import ${importFile}: ${e.message}`); });
}

if (exec) {
  process.stderr.write(`gantry exec: Gantry listening on ${gantry.url} (${ephemeral ? 'state in memory' : `data ${opts.dataDir}`}); running ${exec.command.join(' ')}\n`);
  const status = await runUnderGantry(exec.command, { url: gantry.url, tlsCertFile: gantry.tlsCertFile, authToken: opts.authToken, project: DEFAULT_PROJECT, region: DEFAULT_REGION });
  try {
    if (exportFile) writeFileSync(exportFile, [...gantry.snapshot()].join(''));
  } catch (e) {
    gantry.log.error(`--export-on-exit ${exportFile}: ${(e as Error).message}`);
  }
  await gantry.close();
  process.exit(status);
}

let closing = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (closing) return;
    closing = true;
    gantry.log.info(`${sig}: shutting down`);
    try {
      if (exportFile) writeFileSync(exportFile, [...gantry.snapshot()].join(''));
    } catch (e) {
      gantry.log.error(`--export-on-exit ${exportFile}: ${(e as Error).message}`);
    }
    gantry.close().then(() => process.exit(0), () => process.exit(1));
  });
}
// Printed last (handlers are in place), and to stdout whatever the log level: with --port 0 it is how callers learn the port.
process.stdout.write(startBanner({
  url: gantry.url, tlsCertFile: gantry.tlsCertFile, dataDir: ephemeral ? undefined : opts.dataDir, clock: opts.clock, executor: opts.executor,
  allowExecutors: opts.allowExecutors ?? [], authToken: Boolean(opts.authToken), startedMs: performance.now() - started, store: opts.store,
}));
