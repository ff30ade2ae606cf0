// Benchmarks that print ratios and latencies (never asserted by tests; run with `npm run bench`).
//  1. GET of a stored resource: Gantry requests/s vs a bare node:http server sending the same bytes.
//  2. A filtered, ordered page of 50 out of 100,000 rollouts.
//  3. Start-up: process spawn to "listening", bare and through `npm start` with nothing changed (its build step only
//     checks that dist/ is current), against `node -e 0` (the floor any Node command pays).
//  4. Simulated rollouts per second, create → SUCCEEDED (jobs and renders of zero duration), through HTTP.
//  5. A task run by the process executor vs the same command spawned bare.
//  6. A Cloud Run job of 200 tasks running `true`, parallelism 10, on the process executor, vs a plain Node script
//     spawning the same 200 processes 10 at a time.
//  7. A 1,000-task Cloud Run execution on the simulated executor: its counts, and GET latency while it runs.
//  8. A unary gRPC GetRollout: Gantry vs a bare @grpc/grpc-js server answering the same message bytes, and vs
//     Gantry's own REST GET of the rollout.
//  9. A Cloud Run service's process revision (a tiny node:http server) through its URL on Gantry's port vs the same
//     process asked straight at its PORT (target ≥ 0.8×).
// 10. A simulated revision's answer through its service host vs Gantry's own GET of a small resource (target ≥ 0.8×).
// 11. PostgreSQL (a throwaway cluster): GET vs the same GET on SQLite (target ≥ 0.5×; alone, and beside a second instance), the page of 50 of 100,000
//     rollouts (target p50 < 5 ms), rollouts/s on one instance and on two sharing the database.
import { spawn, spawnSync } from 'node:child_process';
import { Worker } from 'node:worker_threads';
import { createServer as createHttpServer } from 'node:http';
import { fileURLToPath } from 'node:url';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { performance as perfHooks } from 'node:perf_hooks';
import { join } from 'node:path';
import autocannon from 'autocannon';
import * as grpc from '@grpc/grpc-js';
import { protoRoot } from '../src/grpc/protos.js';
import { encodeJson } from '../src/grpc/transcode.js';
import { SqliteStore } from '../src/store/sqlite.js';
import { PostgresStore } from '../src/store/postgres.js';
import type { Store } from '../src/store/store.js';
import { startPostgres } from '../test/helpers/postgres.js';
import { availableParallelism } from 'node:os';
import { startGantry as startInProcess } from '../src/gantry.js';
import { projectNumber } from '../src/google/project-number.js';
import { slotOfProject } from '../src/engine/work-lease.js';
import { ProcessExecutor } from '../src/executors/process.js';

const MAIN = fileURLToPath(new URL('../src/main.js', import.meta.url));
const LOC = 'projects/bench/locations/us-central1';

// Every data directory of this run lives under one, removed when the run ends (a benchmark writes hundreds of MB).
const BENCH_ROOT = mkdtempSync(join(tmpdir(), 'gantry-bench-'));
process.on('exit', () => rmSync(BENCH_ROOT, { recursive: true, force: true }));
const benchDir = () => mkdtempSync(join(BENCH_ROOT, 'd-'));
const seconds = Number(process.env.BENCH_SECONDS ?? 5);

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

/** Starts Gantry (by default `node dist/src/main.js`; `viaNpm`: `npm start` in the repository, as a user would). */
function startGantry(dataDir: string, viaNpm = false, extra: string[] = []): Promise<{ url: string; stop(): void; stopped(): Promise<void>; ms: number; pid: number }> {
  const t0 = performance.now();
  const args = ['--port', '0', '--data-dir', dataDir, '--log-level', 'silent', ...extra];
  return new Promise((resolve, reject) => {
    const proc = viaNpm
      ? spawn('npm', ['start', '--silent', '--', ...args], { cwd: ROOT, stdio: ['ignore', 'pipe', 'inherit'], detached: true })
      : spawn(process.execPath, [MAIN, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
    // npm runs Gantry under a shell: the whole process group is stopped.
    const stop = () => viaNpm ? process.kill(-proc.pid!, 'SIGTERM') : proc.kill('SIGTERM');
    proc.stdout.on('data', (d: Buffer) => {
      const m = /listening on (http:\/\/\S+)/.exec(d.toString());
      if (m) resolve({ url: m[1], stop, ms: performance.now() - t0, pid: proc.pid!, stopped: () => new Promise<void>(r => { proc.once('exit', () => r()); stop(); }) });
    });
    proc.once('exit', code => reject(new Error(`gantry exited ${code}`)));
  });
}

async function rps(url: string): Promise<number> {
  await autocannon({ url, connections: 10, duration: 1 });
  const r = await autocannon({ url, connections: 10, duration: seconds });
  return r.requests.average;
}

async function getThroughput(): Promise<void> {
  const g = await startGantry(benchDir());
  await fetch(`${g.url}/v1/${LOC}/targets?targetId=bench`, { method: 'POST', body: JSON.stringify({ description: 'bench', labels: { a: 'b' }, run: { location: LOC } }), headers: { 'content-type': 'application/json' } });
  const path = `/v1/${LOC}/targets/bench`;
  const res = await fetch(g.url + path);
  const bytes = Buffer.from(await res.arrayBuffer());
  // The bare server runs in its own process, as Gantry does, so both compete with autocannon alike.
  const bare = spawn(process.execPath, ['-e', `
    const body = Buffer.from(${JSON.stringify(bytes.toString('base64'))}, 'base64');
    const s = require('node:http').createServer((_q, out) => { out.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': body.length }); out.end(body); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const port = await new Promise<number>(r => bare.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  // Gantry, bare, bare, Gantry: the machine's drift within the run weighs on both alike. Each server's CPU per request
  // (from /proc) is printed too: on a 2-core machine shared with the load generator it varies less than the rate.
  const runs = { gantry: [] as { rate: number; cpuUs: number }[], node: [] as { rate: number; cpuUs: number }[] };
  for (const which of ['gantry', 'node', 'node', 'gantry'] as const) {
    runs[which].push(await rpsAs(which === 'gantry' ? g.url + path : `http://127.0.0.1:${port}${path}`, {}, which === 'gantry' ? g.pid : bare.pid!, seconds / 2));
  }
  bare.kill();
  g.stop();
  const mean = (xs: { rate: number; cpuUs: number }[], k: 'rate' | 'cpuUs') => xs.reduce((a, x) => a + x[k], 0) / xs.length;
  const gantry = mean(runs.gantry, 'rate'), node = mean(runs.node, 'rate');
  console.log(`GET ${bytes.length} B resource: gantry ${gantry.toFixed(0)} req/s, bare node:http ${node.toFixed(0)} req/s, ratio ${(gantry / node * 100).toFixed(0)}%` +
    ` (server CPU per request: gantry ${mean(runs.gantry, 'cpuUs').toFixed(1)} µs, bare ${mean(runs.node, 'cpuUs').toFixed(1)} µs, ratio ${(mean(runs.node, 'cpuUs') / mean(runs.gantry, 'cpuUs') * 100).toFixed(0)}%)`);
}

async function listPage(): Promise<void> {
  const dir = benchDir();
  const store = new SqliteStore(join(dir, 'gantry.db'));
  const t0 = performance.now();
  const pipe = loadRollouts(store);
  store.close();
  const loadMs = performance.now() - t0;
  const g = await startGantry(dir);
  await listQueries(g.url, pipe, 'SQLite');
  g.stop();
  console.log(`(loaded 100,000 rollouts in ${(loadMs / 1000).toFixed(1)} s)`);
}

async function startup(): Promise<void> {
  const median = async (once: () => Promise<number>) => {
    const times: number[] = [];
    for (let i = 0; i < 5; i++) times.push(await once());
    times.sort((a, b) => a - b);
    return { median: times[2], min: times[0] };
  };
  const start = (viaNpm: boolean) => median(async () => {
    const g = await startGantry(benchDir(), viaNpm);
    g.stop();
    await new Promise(r => setTimeout(r, 200)); // the stopped one releases its port and CPU
    return g.ms;
  });
  const floor = await median(() => new Promise(resolve => {
    const t0 = performance.now();
    spawn(process.execPath, ['-e', '0'], { stdio: 'ignore' }).once('exit', () => resolve(performance.now() - t0));
  }));
  const bare = await start(false);
  // `npm start` builds once if a source changed since its last build; that build is not what is measured.
  spawnSyncChecked(process.execPath, [join(ROOT, 'scripts/build-if-stale.mjs')]);
  const npm = await start(true);
  const f = (m: { median: number; min: number }) => `median ${m.median.toFixed(0)} ms, min ${m.min.toFixed(0)} ms`;
  console.log(`start-up (spawn to listening): node dist/src/main.js ${f(bare)}; npm start with nothing changed ${f(npm)} ` +
    `(${(npm.median / 1000).toFixed(2)} s of the 3 s budget); node -e 0 ${f(floor)}`);
}

function spawnSyncChecked(cmd: string, args: string[]): void {
  const r = spawnSync(cmd, args, { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}`);
}

/**
 * Simulated rollouts create → SUCCEEDED against the Gantrys at `urls` (clients spread over them), in `projects` (each
 * with its share of the 20 targets, a pipeline and a release; several projects let instances split the work);
 * answers rollouts/s.
 */
async function rolloutsThrough(urls: string[], label: string, projects = ['bench'], inProcess = false): Promise<number> {
  const targets = 20, perTarget = 100;
  const post = async (path: string, body: unknown) => {
    const r = await fetch(urls[0] + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  };
  const locOf = (p: string) => `projects/${p}/locations/us-central1`;
  const relOf = (p: string) => `/v1/${locOf(p)}/deliveryPipelines/many/releases/r`;
  // Target i is in project i % projects.length.
  const ids = Array.from({ length: targets }, (_, i) => `t${i}`);
  for (const [i, id] of ids.entries()) await post(`/v1/${locOf(projects[i % projects.length])}/targets?targetId=${id}`, { run: { location: locOf(projects[i % projects.length]) } });
  for (const [pi, p] of projects.entries()) {
    await post(`/v1/${locOf(p)}/deliveryPipelines?deliveryPipelineId=many`, { serialPipeline: { stages: ids.filter((_, i) => i % projects.length === pi).map(targetId => ({ targetId })) } });
    await post(`/v1/${locOf(p)}/deliveryPipelines/many/releases?releaseId=r`, {});
  }
  const n = targets * perTarget;
  const rels = projects.map(relOf);
  // Ten clients create rollouts as fast as they are answered; the queue of each target runs them one by one.
  const started = await postFromClients(urls, n, i => rels[(i % ids.length) % rels.length] + '/rollouts?rolloutId=ro-' + i, i => JSON.stringify({ targetId: ids[i % ids.length] }));
  const created = sinceStart(started, n).seconds;
  for (const p of projects) {
    for (;;) {
      const r = (await (await fetch(`${urls[0]}${relOf(p)}/rollouts?pageSize=1&filter=${encodeURIComponent('state!=SUCCEEDED')}`)).json()) as { rollouts?: unknown[] };
      if (!r.rollouts?.length) break;
      await new Promise(res => setTimeout(res, 5));
    }
  }
  const done = sinceStart(started, n);
  // A server running in this process (startInProcess) has this thread: its busy time is the server's whole cost.
  const busy = inProcess ? `, ${done.us.toFixed(0)} µs of the server thread's time each` : '';
  console.log(`simulated rollouts create → SUCCEEDED (${label}): ${n} over ${targets} targets of ${projects.length} project${projects.length > 1 ? 's' : ''} in ${done.seconds.toFixed(2)} s (all created after ${created.toFixed(2)} s), ${done.rate.toFixed(0)} rollouts/s${busy}`);
  return done.rate;
}

/**
 * Ten clients POST `n` requests (`path(i)`, `body(i)`) as fast as they are answered, spread over `urls`. They run on a
 * thread of their own, as clients of a server would, so the server's thread does only the server's work; the thread
 * is started before the clock (the answer: when they started), and the clients are node:http requests on keep-alive connections. A load
 * generator light on the CPU matters on a 2-core machine: `fetch` costs this machine ~1.3 ms of its own per request,
 * so ten fetch clients alone could not send 1,000 requests a second, and took the server's core from it meanwhile.
 */
async function postFromClients(urls: string[], n: number, path: (i: number) => string, body: (i: number) => string): Promise<Started> {
  const requests = Array.from({ length: n }, (_, i) => [path(i), body(i)]);
  const clients = new Worker(`
    const http = require('node:http');
    const { parentPort, workerData: { urls, requests } } = require('node:worker_threads');
    const agent = new http.Agent({ keepAlive: true, maxSockets: 10 });
    const post = (url, body) => new Promise((resolve, reject) => {
      const q = http.request(url, { method: 'POST', agent, headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } }, res => {
        const chunks = [];
        res.on('data', c => chunks.push(c));
        res.on('end', () => res.statusCode === 200 ? resolve() : reject(new Error(res.statusCode + ' ' + Buffer.concat(chunks).toString())));
      });
      q.on('error', reject);
      q.end(body);
    });
    parentPort.once('message', () => {
      let next = 0;
      Promise.all(Array.from({ length: 10 }, async (_, c) => {
        for (let i = next++; i < requests.length; i = next++) await post(urls[c % urls.length] + requests[i][0], requests[i][1]);
      })).then(() => parentPort.postMessage('done'), e => parentPort.postMessage(String(e) + (e.cause ? ' (' + String(e.cause) + ')' : '')));
    });
    parentPort.postMessage('ready');`, { eval: true, workerData: { urls, requests } });
  await new Promise(r => clients.once('message', r));
  const started: Started = { at: performance.now(), elu: perfHooks.eventLoopUtilization() };
  clients.postMessage('go');
  const outcome = await new Promise(r => clients.once('message', r));
  await clients.terminate();
  if (outcome !== 'done') throw new Error(String(outcome));
  return started;
}

/** When the clients started: the clock and this thread's busy time then. */
interface Started { at: number; elu: ReturnType<typeof perfHooks.eventLoopUtilization> }

/** `n` requests since `started`: per second, and µs of this thread (the in-process server's) each. */
function sinceStart(started: Started, n: number): { seconds: number; rate: number; us: number } {
  const seconds = (performance.now() - started.at) / 1000;
  return { seconds, rate: n / seconds, us: perfHooks.eventLoopUtilization(started.elu).active * 1000 / n };
}

/**
 * The same clients' POSTs answered by a bare `node:http` server in this process with a create's answer (a done
 * operation of the same size): what this machine's thread pays per request before any API work, the yardstick for
 * the rollouts' figure (a machine twice as fast halves both).
 */
async function barePosts(answer: string): Promise<{ rate: number; us: number }> {
  const server = createHttpServer((req, res) => {
    req.resume();
    req.on('end', () => { res.writeHead(200, { 'content-type': 'application/json; charset=UTF-8', 'content-length': Buffer.byteLength(answer) }); res.end(answer); });
  });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as { port: number }).port}`;
  const n = 2000;
  await postFromClients([url], 200, () => '/', () => '{}');
  const m = sinceStart(await postFromClients([url], n, i => '/v1/p/rollouts?rolloutId=ro-' + i, () => JSON.stringify({ targetId: 't0' })), n);
  await new Promise(r => server.close(r));
  return m;
}

/**
 * The create requests of the rollouts benchmark on their own: the same rollouts, clients and server, to targets that
 * require approval, so each rollout stops PENDING_APPROVAL and no deploy runs. What a rollout costs before its work.
 */
async function createsAlone(): Promise<{ rate: number; us: number }> {
  const g = await startInProcess({ port: 0, dataDir: benchDir(), logLevel: 'silent', renderMs: 0, jobMs: 0 });
  const ids = Array.from({ length: 20 }, (_, i) => `t${i}`);
  for (const id of ids) await runJson(g.url, 'POST', `/v1/${LOC}/targets?targetId=${id}`, { run: { location: LOC }, requireApproval: true });
  await runJson(g.url, 'POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=many`, { serialPipeline: { stages: ids.map(targetId => ({ targetId })) } });
  await runJson(g.url, 'POST', `/v1/${LOC}/deliveryPipelines/many/releases?releaseId=r`, {});
  await g.runtime.idle();
  const n = 2000;
  const m = sinceStart(await postFromClients([g.url], n, i => `/v1/${LOC}/deliveryPipelines/many/releases/r/rollouts?rolloutId=ro-${i}`, i => JSON.stringify({ targetId: ids[i % ids.length] })), n);
  await g.close();
  return m;
}

async function rolloutThroughput(): Promise<void> {
  const g = await startInProcess({ port: 0, dataDir: benchDir(), logLevel: 'silent', renderMs: 0, jobMs: 0 });
  const before = g.runtime.timings();
  const rate = await rolloutsThrough([g.url], 'SQLite', ['bench'], true);
  // Where the server thread's time went, per rollout: each controller's reconciles and the batches' commits; the rest
  // is the create requests (their handlers, commits and replies), HTTP and the collector.
  const after = g.runtime.timings(), n = 2000, us = (ms: number) => `${(ms * 1000 / n).toFixed(0)} µs`;
  const kinds = Object.entries(after.kinds).map(([k, v]) => [k, v.reconciles - (before.kinds[k]?.reconciles ?? 0), v.ms - (before.kinds[k]?.ms ?? 0)] as const)
    .filter(([, r]) => r > 0).sort((a, b) => b[2] - a[2]);
  const answer = await (await fetch(`${g.url}/v1/${LOC}/deliveryPipelines/many/releases/r/rollouts?rolloutId=ro-answer`, { method: 'POST', body: JSON.stringify({ targetId: 't0' }), headers: { 'content-type': 'application/json' } })).text();
  const bare = await barePosts(answer);
  console.log(`  the same clients' POSTs to a bare node:http server answering ${answer.length} B: ${bare.rate.toFixed(0)} requests/s, ${bare.us.toFixed(0)} µs of its thread each (a rollout costs ${(1e6 / rate / bare.us).toFixed(0)}× a bare request's time; 1,000/s needs ≤ 1,000 µs)`);
  const creates = await createsAlone();
  console.log(`  the creates alone (the same 2,000 rollouts to targets that require approval, so none deploys): ${creates.rate.toFixed(0)}/s, ${creates.us.toFixed(0)} µs of the server thread each`);
  console.log(`  per rollout: ${kinds.map(([k, r, ms]) => `${k} ${us(ms)} (${(r / n).toFixed(1)} reconciles)`).join(', ')}; commits of ${((after.batches - before.batches) / n).toFixed(2)} batches ${us(after.commitMs - before.commitMs)}`);
  await g.close();
}

/** Loads 100,000 rollouts of one pipeline (five targets, five states) into a store; answers the pipeline's name. */
function loadRollouts(store: Store): string {
  const targets = ['dev', 'staging', 'prod', 'eu', 'asia'];
  const states = ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'FAILED', 'CANCELLED'];
  const pipe = `${LOC}/deliveryPipelines/big`;
  const base = Date.parse('2026-01-01T00:00:00Z');
  store.tx(w => w.put('deliveryPipeline', pipe, LOC, { name: pipe }, '2026-01-01T00:00:00.000000000Z', false));
  for (let batch = 0; batch < 100; batch++) {
    store.tx(w => {
      for (let i = 0; i < 1000; i++) {
        const n = batch * 1000 + i;
        const release = `${pipe}/releases/r${Math.floor(n / 10)}`;
        const created = new Date(base + n * 1000).toISOString().replace('Z', '000000Z');
        const end = new Date(base + n * 1000 + 30_000).toISOString().replace('Z', '000000Z');
        const name = `${release}/rollouts/ro-${n}`;
        w.put('rollout', name, release, { name, targetId: targets[n % 5], state: states[Math.floor(n / 5) % 5], approvalState: 'DOES_NOT_NEED_APPROVAL', createTime: created, deployEndTime: end, uid: String(n).padStart(32, '0') }, created, false);
      }
    });
  }
  return pipe;
}

/** p50, p90 and the next page's time of the list queries gcloud and consoles send, against a Gantry holding `pipe`. */
async function listQueries(url: string, pipe: string, label: string): Promise<void> {
  const queries = [
    ['gcloud promote', 'filter=(approvalState!="REJECTED" AND approvalState!="NEEDS_APPROVAL") AND state="SUCCEEDED" AND targetId="prod"&orderBy=DeployEndTime desc&pageSize=50'],
    ['by target, newest first', 'filter=targetId="eu"&orderBy=createTime desc&pageSize=50'],
    ['failed anywhere', 'filter=state="FAILED"&pageSize=50'],
  ];
  for (const [what, q] of queries) {
    const u = `${url}/v1/${pipe}/releases/-/rollouts?${q}`;
    let body = (await (await fetch(u)).json()) as { rollouts: unknown[]; nextPageToken?: string };
    const times: number[] = [];
    for (let i = 0; i < 50; i++) {
      const s = performance.now();
      body = (await (await fetch(u)).json()) as typeof body;
      times.push(performance.now() - s);
    }
    times.sort((a, b) => a - b);
    const next = performance.now();
    await (await fetch(`${u}&pageToken=${body.nextPageToken}`)).json();
    console.log(`list 50 of 100,000 rollouts, ${label} (${what}): p50 ${times[25].toFixed(2)} ms, p90 ${times[45].toFixed(2)} ms, next page ${(performance.now() - next).toFixed(2)} ms (${body.rollouts.length} rows)`);
  }
}

/**
 * PostgreSQL, on a throwaway cluster of this machine (sharing its cores with Gantry and the load): GET against the
 * same GET on SQLite, the list page of 50 of 100,000 rollouts, rollouts/s on one instance and on two sharing it.
 */
async function postgres(): Promise<void> {
  const pg = await startPostgres();
  try {
    const target = async (url: string) => {
      await fetch(`${url}/v1/${LOC}/targets?targetId=bench`, { method: 'POST', body: JSON.stringify({ description: 'bench', labels: { a: 'b' }, run: { location: LOC } }), headers: { 'content-type': 'application/json' } });
      return `${url}/v1/${LOC}/targets/bench`;
    };
    const lite = await startGantry(benchDir());
    const getDb = pg.database();
    const onPg = await startGantry(benchDir(), false, ['--store', getDb]);
    const liteRate = await rps(await target(lite.url));
    const pgRate = await rps(await target(onPg.url));
    // A second instance on the database ends the first one's role of sole writer: its GETs look at the change feed.
    const soleOf = async (url: string) => ((await (await fetch(`${url}/gantry/v1/info`)).json()) as { work: { soleWriter: boolean } }).work.soleWriter;
    const wasSole = await soleOf(onPg.url);
    const second = await startGantry(benchDir(), false, ['--store', getDb]);
    for (let i = 0; await soleOf(onPg.url); i++) {
      if (i > 100) throw new Error('the first instance kept the sole writer\'s role beside a second one');
      await new Promise(r => setTimeout(r, 50));
    }
    const pgShared = await rps(`${onPg.url}/v1/${LOC}/targets/bench`);
    await second.stopped();
    await lite.stopped();
    await onPg.stopped();
    console.log(`GET of a target: PostgreSQL, one instance${wasSole ? ' (the sole writer: reads from its cache)' : ''} ${pgRate.toFixed(0)} req/s, SQLite ${liteRate.toFixed(0)} req/s, ratio ${(pgRate / liteRate).toFixed(2)}× (target ≥ 0.5×); ` +
      `one of two instances (a look at the change feed per batch of GETs) ${pgShared.toFixed(0)} req/s, ${(pgShared / liteRate).toFixed(2)}×`);

    const db = pg.database();
    const t0 = performance.now();
    const store = new PostgresStore(db);
    const pipe = loadRollouts(store);
    store.analyze();
    store.close();
    const loaded = performance.now() - t0;
    const lister = await startGantry(benchDir(), false, ['--store', db]);
    await listQueries(lister.url, pipe, 'PostgreSQL');
    await lister.stopped();
    console.log(`(loaded 100,000 rollouts into PostgreSQL in ${(loaded / 1000).toFixed(1)} s)`);

    const zero = ['--render-duration', '0s', '--job-duration', '0s'];
    const one = pg.database();
    const single = await startGantry(benchDir(), false, ['--store', one, ...zero]);
    const alone = await rolloutsThrough([single.url], 'PostgreSQL, one instance', ['bench-0', 'bench-1', 'bench-2', 'bench-3']);
    await single.stopped();
    const two = pg.database();
    const a = await startGantry(benchDir(), false, ['--store', two, ...zero, '--lease-interval', '100ms']);
    const b = await startGantry(benchDir(), false, ['--store', two, ...zero, '--lease-interval', '100ms']);
    try {
      // Two projects of each instance's slots (once they have split them), so each instance runs half the rollouts.
      const slotsOf = async (url: string) => ((await (await fetch(`${url}/gantry/v1/info`)).json()) as { work: { slots: number[] } }).work.slots;
      for (let i = 0; (await slotsOf(a.url)).length !== 8 || (await slotsOf(b.url)).length !== 8; i++) {
        if (i > 100) throw new Error('the instances did not split the work slots');
        await new Promise(r => setTimeout(r, 100));
      }
      const mine = new Set(await slotsOf(a.url));
      const split: string[] = [];
      for (let i = 0; split.length < 4; i++) {
        const p = `bench-${i}`;
        const onA = mine.has(slotOfProject(p));
        if (split.filter(q => mine.has(slotOfProject(q)) === onA).length < 2) split.push(p);
      }
      const both = await rolloutsThrough([a.url, b.url], 'PostgreSQL, two instances, clients on both', split);
      console.log(`two instances vs one on PostgreSQL: ${(both / alone).toFixed(2)}× (each runs the rollouts of its own projects' work slots, half of them, and answers half the API calls; every transaction of both takes the one writers' lock; all share ${availableParallelism()} cores with the database and the load)`);
    } catch (e) {
      // Reported, not hidden: docs/benchmarks.md says what is known of it.
      console.log(`two instances on PostgreSQL, clients on both: did not complete (${(e as Error).message})`);
    }
    await Promise.all([a, b].map(g => g.stopped()));
  } finally {
    await pg.stop();
  }
}

async function processTask(): Promise<void> {
  const runs = 200;
  const bare = async () => new Promise<void>(res => spawn('true', [], { stdio: 'ignore' }).once('close', () => res()));
  const exec = new ProcessExecutor(benchDir());
  const viaExecutor = async () => { await exec.start({ command: ['true'], args: [], env: {}, timeoutMs: 60_000 }, () => {}).done; };
  const time = async (fn: () => Promise<void>) => { const t0 = performance.now(); for (let i = 0; i < runs; i++) await fn(); return (performance.now() - t0) / runs; };
  await time(bare); await time(viaExecutor); // warm up
  const b = await time(bare), e = await time(viaExecutor);
  console.log(`process-executed task: ${e.toFixed(2)} ms vs bare spawn ${b.toFixed(2)} ms, ratio ${(e / b).toFixed(2)}×`);
}

const RUN = '/apis/run.googleapis.com/v1/namespaces/bench';
async function runJson(url: string, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const j = await r.json() as Record<string, any>;
  if (r.status !== 200) throw new Error(`${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

async function runTasks(): Promise<void> {
  const tasks = 200, parallelism = 10;
  const g = await startInProcess({ port: 0, dataDir: benchDir(), logLevel: 'silent', executor: 'process' });
  await runJson(g.url, 'POST', `${RUN}/jobs`, { metadata: { name: 'fan' }, spec: { template: { spec: { taskCount: tasks, parallelism, template: { spec: { maxRetries: 0, containers: [{ image: 'busybox', command: ['true'] }] } } } } } });
  await g.runtime.idle();
  const once = async () => {
    const t0 = performance.now();
    const op = await runJson(g.url, 'POST', '/v2/projects/bench/locations/us-central1/jobs/fan:run', {});
    let done = op;
    while (!done.done) done = await runJson(g.url, 'POST', `/v2/${op.name}:wait`, { timeout: '60s' });
    if (done.response?.succeededCount !== tasks) throw new Error(`execution ended ${JSON.stringify(done).slice(0, 300)}`);
    return performance.now() - t0;
  };
  const bare = () => new Promise<number>(resolve => {
    const t0 = performance.now();
    let started = 0, finished = 0;
    const next = () => {
      if (started >= tasks) return;
      started++;
      spawn('true', [], { stdio: 'ignore' }).once('close', () => { finished++; if (finished === tasks) resolve(performance.now() - t0); else next(); });
    };
    for (let i = 0; i < parallelism; i++) next();
  });
  await once(); await bare(); // warm up
  const g1 = [], b1 = [];
  for (let i = 0; i < 3; i++) { g1.push(await once()); b1.push(await bare()); }
  await g.close();
  const med = (xs: number[]) => xs.sort((a, b) => a - b)[1];
  console.log(`Cloud Run job, ${tasks} tasks of \`true\`, parallelism ${parallelism}, process executor: ${med(g1).toFixed(0)} ms vs a Node script spawning them ${med(b1).toFixed(0)} ms, ratio ${(med(g1) / med(b1)).toFixed(2)}×`);
}

async function bigExecution(): Promise<void> {
  const tasks = 1000;
  const g = await startInProcess({ port: 0, dataDir: benchDir(), logLevel: 'silent', taskMs: 50 });
  await runJson(g.url, 'POST', `${RUN}/jobs`, { metadata: { name: 'big' }, spec: { template: { spec: { taskCount: tasks, template: { spec: { containers: [{ image: 'busybox' }] } } } } } });
  await g.runtime.idle();
  const t0 = performance.now();
  const ex = await runJson(g.url, 'POST', `${RUN}/jobs/big:run`, {});
  const latencies: number[] = [];
  let status: Record<string, any> = {};
  for (;;) {
    const s = performance.now();
    status = (await runJson(g.url, 'GET', `${RUN}/executions/${ex.metadata.name}`)).status;
    latencies.push(performance.now() - s);
    if (status.conditions.find((c: { type: string; status: string }) => c.type === 'Completed').status !== 'Unknown') break;
  }
  const total = performance.now() - t0;
  await g.close();
  latencies.sort((a, b) => a - b);
  const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))];
  console.log(`1,000-task simulated execution: ${status.succeededCount}/${tasks} succeeded in ${(total / 1000).toFixed(2)} s; GET while it ran (${latencies.length} requests): p50 ${p(0.5).toFixed(2)} ms, p99 ${p(0.99).toFixed(2)} ms`);
}

/** CPU time (user + system, ms) a process has used, from /proc. */
function cpuMs(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return (Number(f[11]) + Number(f[12])) * 10; // clock ticks of 10 ms
}

/** A load run and the server's CPU per request (µs) over it. */
async function measured(pid: number, load: () => Promise<{ rate: number; count: number }>): Promise<{ rate: number; cpuUs: number }> {
  const c0 = cpuMs(pid);
  const r = await load();
  return { rate: r.rate, cpuUs: ((cpuMs(pid) - c0) * 1000) / r.count };
}

/** Unary calls per second: `inFlight` loops on one channel, each sending the next call when the last is answered. */
async function grpcLoad(address: string, path: string, request: Buffer, inFlight = 10): Promise<{ rate: number; count: number }> {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const once = () => new Promise<void>((res, rej) => client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, request, (e: grpc.ServiceError | null) => (e ? rej(e) : res())));
  const run = async (ms: number) => {
    let n = 0;
    const end = performance.now() + ms;
    await Promise.all(Array.from({ length: inFlight }, async () => { while (performance.now() < end) { await once(); n++; } }));
    return n / (ms / 1000);
  };
  await run(500);
  const r = await run(seconds * 1000);
  client.close();
  return { rate: r, count: r * seconds };
}

async function grpcGet(): Promise<void> {
  const g = await startGantry(benchDir());
  const post = async (path: string, body: unknown) => {
    const r = await fetch(g.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    if (r.status !== 200) throw new Error(`${path}: ${r.status} ${await r.text()}`);
  };
  await post(`/v1/${LOC}/targets?targetId=t`, { run: { location: LOC } });
  await post(`/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, { serialPipeline: { stages: [{ targetId: 't' }] } });
  await post(`/v1/${LOC}/deliveryPipelines/p/releases?releaseId=r`, {});
  const name = `${LOC}/deliveryPipelines/p/releases/r/rollouts/ro`;
  for (;;) {
    const r = await fetch(`${g.url}/v1/${name.slice(0, name.indexOf('/rollouts'))}`);
    if (((await r.json()) as { renderState?: string }).renderState === 'SUCCEEDED') break;
    await new Promise(res => setTimeout(res, 50));
  }
  await post(`/v1/${name.slice(0, name.lastIndexOf('/'))}?rolloutId=ro`, { targetId: 't' });
  const json = await (await fetch(`${g.url}/v1/${name}`)).json();
  const root = protoRoot();
  const Req = root.lookupType('google.cloud.deploy.v1.GetRolloutRequest');
  const request = Buffer.from(Req.encode(Req.fromObject({ name })).finish());
  const answer = encodeJson(root.lookupType('google.cloud.deploy.v1.Rollout'), json);
  const path = '/google.cloud.deploy.v1.CloudDeploy/GetRollout';
  const bare = spawn(process.execPath, ['-e', `
    const grpc = require('@grpc/grpc-js');
    const body = Buffer.from(${JSON.stringify(answer.toString('base64'))}, 'base64');
    const id = b => b;
    const s = new grpc.Server();
    s.addService({ GetRollout: { path: ${JSON.stringify(path)}, requestStream: false, responseStream: false, requestSerialize: id, requestDeserialize: id, responseSerialize: id, responseDeserialize: id } },
      { GetRollout: (_call, cb) => cb(null, body) });
    s.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (e, port) => console.log(port));`], { stdio: ['ignore', 'pipe', 'inherit'], cwd: fileURLToPath(new URL('../..', import.meta.url)) });
  const port = await new Promise<number>(r => bare.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  // Throughput with one client for both servers; the client (grpc-js, in this process) is the heavier side on a small
  // machine, so the server's own CPU per call is reported too: that is what the transport costs Gantry.
  const gantry = await measured(g.pid, () => grpcLoad(new URL(g.url).host, path, request));
  const plain = await measured(bare.pid!, () => grpcLoad(`127.0.0.1:${port}`, path, request));
  await rps(`${g.url}/v1/${name}`); // warm the REST path
  const rest = await measured(g.pid, async () => { const r = await autocannon({ url: `${g.url}/v1/${name}`, connections: 10, duration: seconds }); return { rate: r.requests.average, count: r.requests.total }; });
  bare.kill();
  g.stop();
  console.log(`gRPC GetRollout (${answer.length} B): gantry ${gantry.rate.toFixed(0)} calls/s, bare grpc-js ${plain.rate.toFixed(0)} calls/s, ratio ${(gantry.rate / plain.rate * 100).toFixed(0)}%; ` +
    `server CPU per call: gantry gRPC ${gantry.cpuUs.toFixed(0)} µs, bare grpc-js ${plain.cpuUs.toFixed(0)} µs, gantry REST GET ${rest.cpuUs.toFixed(0)} µs (gRPC/REST ${(gantry.cpuUs / rest.cpuUs).toFixed(2)}×)`);
}

/**
 * Requests/s with 10 connections (after a second's warm-up), every answer checked to be a 2xx, and the CPU per request
 * of the server process `pid` over the run (the steadier figure on a shared machine).
 */
async function rpsAs(url: string, headers: Record<string, string>, pid: number, duration = seconds): Promise<{ rate: number; cpuUs: number }> {
  await autocannon({ url, headers, connections: 10, duration: 1 });
  return measured(pid, async () => {
    const r = await autocannon({ url, headers, connections: 10, duration });
    if (r.non2xx || r.errors) throw new Error(`${url} (${JSON.stringify(headers)}): ${r.non2xx} non-2xx answers, ${r.errors} errors`);
    return { rate: r.requests.average, count: r.requests.total };
  });
}

/** Creates a Cloud Run service through the v2 API and waits for its operation; throws unless it became Ready. */
async function deployService(url: string, id: string, template: Record<string, unknown>): Promise<void> {
  let op = await runJson(url, 'POST', `/v2/${LOC}/services?serviceId=${id}`, { template });
  while (!op.done) op = await runJson(url, 'GET', `/v2/${op.name}`);
  if (op.error) throw new Error(`service ${id}: ${JSON.stringify(op.error)}`);
}

const serviceHost = (id: string) => `${id}-${projectNumber('bench')}.us-central1.run.app`;

/** The process whose command line holds `marker` (a unique path), and the PORT it was given (from /proc). */
function processOf(marker: string): { pid: number; port: number } {
  for (const pid of readdirSync('/proc').filter(d => /^\d+$/.test(d))) {
    try {
      if (!readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes(marker)) continue;
      const port = /(?:^|\0)PORT=(\d+)/.exec(readFileSync(`/proc/${pid}/environ`, 'utf8'))?.[1];
      if (port) return { pid: Number(pid), port: Number(port) };
    } catch { /* gone, or not ours */ }
  }
  throw new Error(`no process running ${marker}`);
}

async function processServing(): Promise<void> {
  const dir = benchDir();
  const server = join(dir, 'server.js');
  writeFileSync(server, "require('node:http').createServer((_q, s) => s.end('hello from the revision\\n')).listen(process.env.PORT);\n");
  const g = await startGantry(dir, false, ['--executor', 'process']);
  await deployService(g.url, 'app', { containers: [{ image: 'bench', command: ['node', server] }] });
  // The revision's own process: the same one Gantry proxies to, asked at the PORT Gantry gave it.
  const app = processOf(server);
  const via = await rpsAs(`${g.url}/`, { host: serviceHost('app') }, g.pid);
  const straight = await rpsAs(`http://127.0.0.1:${app.port}/`, {}, app.pid);
  // The ceiling for any proxy written on node:http: the smallest one (keep-alive upstream, headers passed as they
  // are, nothing logged) in front of the same process, measured in the same run.
  const bare = spawn(process.execPath, ['-e', `
    const http = require('node:http'); const agent = new http.Agent({ keepAlive: true });
    const s = http.createServer((req, res) => { const up = http.request({ host: '127.0.0.1', port: ${app.port}, method: req.method, path: req.url, headers: req.headers, agent }, u => { res.writeHead(u.statusCode, u.headers); u.pipe(res); }); req.pipe(up); });
    s.listen(0, '127.0.0.1', () => console.log(s.address().port));`], { stdio: ['ignore', 'pipe', 'inherit'] });
  const barePort = await new Promise<number>(r => bare.stdout.once('data', (d: Buffer) => r(Number(d.toString().trim()))));
  const proxied = await rpsAs(`http://127.0.0.1:${barePort}/`, {}, bare.pid!);
  bare.kill();
  g.stop();
  console.log(`Cloud Run service, process revision (node:http): through the service URL ${via.rate.toFixed(0)} req/s, straight to the process ${straight.rate.toFixed(0)} req/s, ` +
    `ratio ${(via.rate / straight.rate).toFixed(2)}× (target ≥ 0.8×); CPU per request: gantry ${via.cpuUs.toFixed(0)} µs, the app ${straight.cpuUs.toFixed(0)} µs; ` +
    `a bare node:http proxy in front of it ${proxied.rate.toFixed(0)} req/s (${(proxied.rate / straight.rate).toFixed(2)}×, ${proxied.cpuUs.toFixed(0)} µs): Gantry at ${(via.rate / proxied.rate).toFixed(2)}× of that ceiling`);
}

async function simulatedServing(): Promise<void> {
  const g = await startGantry(benchDir());
  await deployService(g.url, 'sim', { containers: [{ image: 'us-docker.pkg.dev/bench/app:1', env: [{ name: 'A', value: '1' }] }] });
  await runJson(g.url, 'POST', `/v1/${LOC}/targets?targetId=small`, { description: 'bench', run: { location: LOC } });
  const identity = Buffer.byteLength(await (await fetch(`${g.url}/`, { headers: { host: serviceHost('sim') } })).text());
  const resource = Buffer.byteLength(await (await fetch(`${g.url}/v1/${LOC}/targets/small`)).text());
  const sim = await rpsAs(`${g.url}/`, { host: serviceHost('sim') }, g.pid);
  const own = await rpsAs(`${g.url}/v1/${LOC}/targets/small`, {}, g.pid);
  g.stop();
  console.log(`Cloud Run service, simulated revision: its identity (${identity} B) through the service host ${sim.rate.toFixed(0)} req/s, Gantry's GET of a target (${resource} B) ${own.rate.toFixed(0)} req/s, ` +
    `ratio ${(sim.rate / own.rate).toFixed(2)}× (target ≥ 0.8×); gantry CPU per request ${sim.cpuUs.toFixed(0)} vs ${own.cpuUs.toFixed(0)} µs`);
}

const which = process.argv[2];
if (!which || which === 'get') await getThroughput();
if (!which || which === 'list') await listPage();
if (!which || which === 'startup') await startup();
if (!which || which === 'rollouts') await rolloutThroughput();
if (!which || which === 'process') await processTask();
if (!which || which === 'runtasks') await runTasks();
if (!which || which === 'bigexec') await bigExecution();
if (!which || which === 'grpc') await grpcGet();
if (!which || which === 'serve-process') await processServing();
if (!which || which === 'serve-simulated') await simulatedServing();
if (!which || which === 'postgres') await postgres();
