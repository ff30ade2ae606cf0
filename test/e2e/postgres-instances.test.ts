// Several Gantry instances on one PostgreSQL database (a throwaway cluster): every instance serves every API over the
// same state; the work is split by project among them (each project's work runs on the instance holding its slot),
// requests for served apps are passed to the instance running them; when one is SIGKILLed the others take its
// work over and resume what it left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { google } from 'googleapis';
import { eventually, spawnGantry, tempDir, type ChildGantry } from '../helpers/server.js';
import { gcloudFor } from '../helpers/gcloud.js';
import { appFiles, appHostingV1beta, developerConnect, getApp, makeRepo, waitOp } from '../helpers/apphosting.js';
import { splitEvenly, startPostgres, workOf, workerOf, type TestPostgres } from '../helpers/postgres.js';
import { projectNumber } from '../../src/google/project-number.js';
import { PostgresStore } from '../../src/store/postgres.js';
import { slotOfProject } from '../../src/engine/work-lease.js';
import { Logging, type Entry } from '@google-cloud/logging';
import { JobsClient } from '@google-cloud/run';
import { gapicOptions } from '../helpers/clients.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/clouddeploy.yaml', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const PIPE = 'projects/my-proj/locations/us-central1/deliveryPipelines/web';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

function fakeAuth() {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3600_000 });
  return auth;
}

/** An app that answers with its revision, its process id and its parent's (the Gantry that runs it). */
function helloApp(): string {
  const app = tempDir('pg-app-');
  writeFileSync(join(app, 'server.js'), "require('http').createServer((q, s) => s.end(process.env.K_REVISION + ' ' + process.pid + ' ' + process.ppid)).listen(process.env.PORT);");
  return app;
}

/** A Cloud Run service of `project` running that app as a process, made through one instance. */
async function createService(url: string, id: string, app: string, project = 'my-proj'): Promise<void> {
  const r = await fetch(`${url}/v2/projects/${project}/locations/us-central1/services?serviceId=${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
    annotations: { 'gantry.dev/executor': 'process' }, template: { containers: [{ image: 'app:1', command: ['node', join(app, 'server.js')] }] },
  }) });
  assert.equal(r.status, 200, await r.text());
}

/** The pids of the processes running an app directory's server. */
function appProcesses(dir: string): string[] {
  try { return execFileSync('pgrep', ['-f', join(dir, 'server.js')]).toString().trim().split('\n').filter(Boolean).sort(); } catch { return []; }
}

const json = async <T>(url: string, init?: RequestInit): Promise<T> => {
  const r = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  const body = await r.json() as T;
  assert.ok(r.ok, `${init?.method ?? 'GET'} ${url}: ${r.status} ${JSON.stringify(body)}`);
  return body;
};

/** Answers once the app at `host` answers 200 through `url` (and `ok` holds of its body). */
const served = (url: string, host: string, ok: (body: string) => boolean = () => true) =>
  eventually(async () => { const x = await getApp(url, host); return x.status === 200 && ok(x.body) ? x.body : undefined; }, 30_000);

test('three instances share one database and split the work: writes read anywhere, each project\'s work runs once on its own instance, apps answer through any, and a SIGKILLed instance\'s work moves', async () => {
  const store = pg.database();
  const app = helloApp();
  const args = (dir: string) => ['--store', store, '--data-dir', dir, '--log-level', 'warn', '--allow-executors', 'process', '--lease-interval', '200ms', '--job-duration', '100ms', '--render-duration', '50ms'];
  const instances: ChildGantry[] = [];
  try {
    for (let i = 0; i < 3; i++) instances.push(await spawnGantry(args(tempDir())));
    const [, b, c] = instances;
    const info = await json<{ store: string }>(`${b.url}/gantry/v1/info`);
    assert.equal(info.store, 'postgres');
    // The first instance took every slot; the later ones take a share each as the others hand slots over.
    await eventually(() => splitEvenly(instances.map(g => g.url)), 10_000);

    // Cloud Deploy through gcloud on b, read through googleapis on c: one state.
    const gcloud = await gcloudFor(b.url);
    await gcloud(['deploy', 'apply', `--file=${FIXTURE}`, '--region=us-central1']);
    await json(`${c.url}/v1/${PIPE}/releases?releaseId=rel-1`, { method: 'POST', body: '{}' });
    const deploy = google.clouddeploy({ version: 'v1', rootUrl: c.url + '/', auth: fakeAuth() });
    await eventually(async () => (await deploy.projects.locations.deliveryPipelines.releases.get({ name: `${PIPE}/releases/rel-1` })).data.renderState === 'SUCCEEDED', 20_000);
    await gcloud(['deploy', 'releases', 'promote', '--release=rel-1', '--to-target=dev', '--delivery-pipeline=web', '--region=us-central1', '--quiet']);
    const rollout = `${PIPE}/releases/rel-1/rollouts/rel-1-to-dev-0001`;
    await eventually(async () => (await deploy.projects.locations.deliveryPipelines.releases.rollouts.get({ name: rollout })).data.state === 'SUCCEEDED', 20_000);
    // Each job ran once: one job run per phase job, though three instances heard every change.
    const runs = (await deploy.projects.locations.deliveryPipelines.releases.rollouts.jobRuns.list({ parent: rollout })).data.jobRuns ?? [];
    assert.deepEqual(runs.map(r => [r.jobId, r.state]), [['deploy', 'SUCCEEDED']]);

    // Two projects whose work falls to two different instances.
    const urls = instances.map(g => g.url);
    const pidOf = new Map<string, number>();
    for (const g of instances) pidOf.set(g.url, (await workOf(g.url)).pid);
    const projects: { project: string; worker: string }[] = [];
    for (let i = 0; projects.length < 2; i++) {
      const project = `split-${i}`;
      const worker = (await workerOf(urls, slotOfProject(project)))!;
      if (!projects.some(p => p.worker === worker)) projects.push({ project, worker });
    }
    const hostOf = (project: string) => `hello-${projectNumber(project)}.us-central1.run.app`;
    // Each one's service, though both were made through c, runs on its own project's instance (the app's parent is
    // that Gantry), and answers the same through every instance.
    const first: string[] = [];
    for (const { project, worker } of projects) {
      await createService(c.url, 'hello', app, project);
      const body = await served(urls.find(u => u !== worker)!, hostOf(project));
      assert.equal(Number(body.split(' ')[2]), pidOf.get(worker), `${project}'s revision runs on the instance holding its slot`);
      for (const g of instances) assert.equal((await getApp(g.url, hostOf(project))).body, body, 'the same instance answers through every Gantry');
      first.push(body);
    }
    assert.deepEqual(appProcesses(app), first.map(f => f.split(' ')[1]).sort(), 'each revision runs once');
    // A client claiming its request was already passed on is answered by the instance it reached, which does not run
    // that project's revisions: no loop, no second process.
    const notWorker = urls.find(u => u !== projects[0].worker)!;
    const spoofed = await getApp(notWorker, hostOf(projects[0].project), '/', { 'x-gantry-forwarded': '1' });
    assert.equal(spoofed.status, 503, spoofed.body);
    assert.match(spoofed.body, /does not run this project/);
    assert.deepEqual(appProcesses(app), first.map(f => f.split(' ')[1]).sort());

    // The clock is the real one for every instance sharing the store.
    const frozen = await fetch(`${b.url}/gantry/v1/clock:freeze`, { method: 'POST' });
    assert.equal(frozen.status, 400);
    assert.match(JSON.stringify(await frozen.json()), /FAILED_PRECONDITION.*PostgreSQL store and runs in real time/);
    const advanced = await fetch(`${b.url}/gantry/v1/clock:advance`, { method: 'POST', body: '{"duration":"1s"}', headers: { 'content-type': 'application/json' } });
    assert.equal(advanced.status, 400);
    assert.match(JSON.stringify(await advanced.json()), /FAILED_PRECONDITION.*PostgreSQL store and runs in real time/);

    // The first project's instance dies: the other two take its slots, and its service serves again from a new
    // process on the one that took its slot. The second project's work, on a live instance, does not move.
    const dead = instances.find(g => g.url === projects[0].worker)!;
    await dead.kill('SIGKILL');
    instances.splice(instances.indexOf(dead), 1);
    await eventually(() => splitEvenly(instances.map(g => g.url)), 10_000);
    const [revision, oldPid] = first[0].split(' ');
    const again = await served(instances[0].url, hostOf(projects[0].project), body => body.split(' ')[1] !== oldPid);
    assert.equal(again.split(' ')[0], revision);
    const newWorker = await workerOf(instances.map(g => g.url), slotOfProject(projects[0].project));
    assert.equal(Number(again.split(' ')[2]), pidOf.get(newWorker!), 'it runs on the instance that took its slot');
    assert.equal((await getApp(instances[1].url, hostOf(projects[1].project))).body, first[1], 'the other project\'s revision kept running where it was');
    // The killed instance's own app process is its machine's to reap (its restart with the same data directory does):
    // no other instance may kill a process it cannot prove its own. The test ends it.
    try { process.kill(Number(oldPid), 'SIGKILL'); } catch { /* gone */ }
    await gcloud(['deploy', 'releases', 'promote', '--release=rel-1', '--delivery-pipeline=web', '--region=us-central1', '--quiet']);
    await eventually(async () => (await deploy.projects.locations.deliveryPipelines.releases.rollouts.get({ name: `${PIPE}/releases/rel-1/rollouts/rel-1-to-staging-0001` })).data.state === 'SUCCEEDED', 20_000);
  } finally {
    for (const g of instances) await g.kill('SIGTERM');
  }
});

test('Cloud Logging is shared: entries written on one instance are read on another, and a tail streams what other instances store', async () => {
  const store = pg.database();
  const args = (dir: string) => ['--store', store, '--data-dir', dir, '--log-level', 'warn', '--executor', 'process', '--lease-interval', '200ms'];
  const instances: ChildGantry[] = [];
  const project = 'logs-proj';
  try {
    for (let i = 0; i < 3; i++) instances.push(await spawnGantry(args(tempDir())));
    const [a, b, c] = instances;
    const onB = new Logging({ projectId: project, ...gapicOptions(b.url) });
    const onC = new Logging({ projectId: project, ...gapicOptions(c.url) });
    // Written through b, read through c (and logs.list through a).
    await onB.log('audit').write([onB.entry({ resource: { type: 'global' } }, 'from b: one'), onB.entry({ resource: { type: 'global' } }, { n: 2 })]);
    const [read] = await onC.getEntries({ filter: 'logName="projects/logs-proj/logs/audit"', orderBy: 'timestamp asc' });
    // (The client adds an entry of its own once: its instrumentation diagnostic.)
    assert.deepEqual(read.map(e => e.data).filter(d => !JSON.stringify(d).includes('logging.googleapis.com/diagnostic')), ['from b: one', { n: 2 }]);
    const [logs] = await new Logging({ projectId: project, ...gapicOptions(a.url) }).getLogs();
    assert.deepEqual(logs.map(l => l.name), ['audit']);

    // A tail on c streams entries b writes and the task lines of a job that runs on the project's instance.
    const tail = onC.tailEntries({ filter: 'logName="projects/logs-proj/logs/audit" OR resource.type="cloud_run_job"', bufferWindow: 100 } as never);
    const seen: string[] = [];
    tail.on('data', (chunk: { entries: Entry[] }) => { for (const e of chunk.entries) seen.push(typeof e.data === 'string' ? e.data : JSON.stringify(e.data)); });
    tail.on('error', () => { /* the abort below */ });
    // The stream opens once the client has resolved its project: write until the tail sees a line.
    await eventually(async () => {
      await onB.log('audit').write(onB.entry({ resource: { type: 'global' } }, 'from b: while tailing'));
      return seen.includes('from b: while tailing');
    }, 15_000);
    const jobs = new JobsClient(gapicOptions(b.url) as ConstructorParameters<typeof JobsClient>[0]);
    try {
      const loc = `projects/${project}/locations/us-central1`;
      const [op] = await jobs.createJob({ parent: loc, jobId: 'printer', job: { template: { taskCount: 1, template: { maxRetries: 0, containers: [{ image: 'busybox', command: ['sh', '-c', 'echo "line from $$"'] }] } } } });
      await op.promise();
      const [runOp] = await jobs.runJob({ name: `${loc}/jobs/printer` });
      await runOp.promise();
    } finally {
      await jobs.close();
    }
    await eventually(() => seen.some(l => /^line from [0-9]+$/.test(l)), 15_000);
    assert.ok(!seen.includes('from b: one'), 'a tail shows only what is written after it starts');
    (tail as unknown as { abort(): void }).abort();
    // The task's line is read on every instance.
    for (const g of instances) {
      const [task] = await new Logging({ projectId: project, ...gapicOptions(g.url) }).getEntries({ filter: 'resource.type="cloud_run_job"' });
      assert.ok(task.some(e => /^line from [0-9]+$/.test(String(e.data))), g.url);
    }
  } finally {
    for (const g of instances) await g.kill('SIGTERM');
  }
});

test('the database restarts: every instance stops its work and stands by, then they split the work again and it runs', async () => {
  const store = pg.database();
  const app = helloApp();
  const args = (dir: string) => ['--store', store, '--data-dir', dir, '--log-level', 'warn', '--allow-executors', 'process', '--lease-interval', '200ms', '--job-duration', '100ms', '--render-duration', '50ms'];
  const instances: ChildGantry[] = [];
  try {
    for (let i = 0; i < 2; i++) instances.push(await spawnGantry(args(tempDir())));
    const [a, b] = instances;
    const urls = instances.map(g => g.url);
    await eventually(() => splitEvenly(urls), 10_000);
    await createService(b.url, 'again', app);
    const host = `again-${projectNumber('my-proj')}.us-central1.run.app`;
    const before = await served(a.url, host);

    await pg.restart();
    // Each instance notices, stops its work, reconnects; they split the slots again, and the service serves from a new
    // process on the instance that holds its project's slot now.
    await eventually(async () => { try { return await splitEvenly(urls); } catch { return false; } }, 30_000).catch(async () => {
      const work = await Promise.all(urls.map(u => workOf(u).then(w => JSON.stringify(w.work), e => String(e))));
      assert.fail(`the instances did not split the work again: ${work.join(' / ')}\n${instances.map(g => g.output().slice(-3000)).join('\n----\n')}`);
    });
    const after = await served(b.url, host, body => body !== before);
    assert.equal(after.split(' ')[0], before.split(' ')[0], 'the same revision');
    let oldAlive = true;
    try { process.kill(Number(before.split(' ')[1]), 0); } catch { oldAlive = false; }
    assert.ok(!oldAlive, 'the process run before the restart was stopped when its instance lost the database');
    for (const g of instances) assert.equal((await getApp(g.url, host)).body, after, 'every instance reaches the one serving');
    assert.deepEqual(appProcesses(app), [after.split(' ')[1]], 'one instance of the revision runs');

    // New work runs once, to the end.
    const gcloud = await gcloudFor(a.url);
    await gcloud(['deploy', 'apply', `--file=${FIXTURE}`, '--region=us-central1']);
    await json(`${b.url}/v1/${PIPE}/releases?releaseId=after-restart`, { method: 'POST', body: '{}' });
    await eventually(async () => (await json<{ renderState: string }>(`${a.url}/v1/${PIPE}/releases/after-restart`)).renderState === 'SUCCEEDED', 20_000);
    await json(`${a.url}/v1/${PIPE}/releases/after-restart/rollouts?rolloutId=r1`, { method: 'POST', body: JSON.stringify({ targetId: 'dev' }) });
    await eventually(async () => (await json<{ state: string }>(`${b.url}/v1/${PIPE}/releases/after-restart/rollouts/r1`)).state === 'SUCCEEDED', 20_000);
    const runs = await json<{ jobRuns?: unknown[] }>(`${b.url}/v1/${PIPE}/releases/after-restart/rollouts/r1/jobRuns`);
    assert.equal(runs.jobRuns?.length, 1);
  } finally {
    for (const g of instances) await g.kill('SIGTERM');
  }
});

/** Starts two instances on a new database (into `instances`, for the caller to stop) and answers once they split the work. */
async function twoSplitting(instances: ChildGantry[], extra: string[]): Promise<string[]> {
  const store = pg.database();
  for (let i = 0; i < 2; i++) instances.push(await spawnGantry(['--store', store, '--data-dir', tempDir(), '--log-level', 'warn', '--lease-interval', '200ms', ...extra]));
  const urls = instances.map(g => g.url);
  await eventually(() => splitEvenly(urls), 10_000);
  return urls;
}

/** A project (`prefix-N`) whose work the instance at `worker` does. */
async function projectWorkedBy(urls: string[], worker: string, prefix: string): Promise<string> {
  for (let i = 0; ; i++) if ((await workerOf(urls, slotOfProject(`${prefix}-${i}`))) === worker) return `${prefix}-${i}`;
}

test('a reset of a project through an instance that does not run its work stops the tasks the project\'s instance runs', async () => {
  const instances: ChildGantry[] = [];
  try {
    const urls = await twoSplitting(instances, ['--executor', 'process']);
    const project = await projectWorkedBy(urls, urls[0], 'reset');
    const loc = `${urls[1]}/v2/projects/${project}/locations/us-central1`;
    const marker = `gantry-reset-${process.pid}-${Date.now()}`;
    await json(`${loc}/jobs?jobId=sleeper`, { method: 'POST', body: JSON.stringify({ template: { template: { maxRetries: 0, containers: [{ image: 'busybox', command: ['sh', '-c', `sleep 120 # ${marker}`] }] } } }) });
    await json(`${loc}/jobs/sleeper:run`, { method: 'POST', body: '{}' });
    const running = () => { try { return execFileSync('pgrep', ['-f', marker]).toString().trim().split('\n').filter(Boolean); } catch { return []; } };
    const pids = await eventually(() => { const p = running(); return p.length ? p : undefined; }, 15_000);
    assert.ok(pids.length >= 1);
    await json(`${urls[1]}/gantry/v1/reset`, { method: 'POST', body: JSON.stringify({ project }) });
    await eventually(() => running().length === 0, 10_000).catch(() => assert.fail(`the task still runs after the reset: ${running().join(', ')}`));
  } finally {
    for (const g of instances) await g.kill('SIGTERM');
  }
});

test('App Hosting across instances: a backend made through one instance builds and serves on its project\'s instance, and its hosted.app name answers through either', { timeout: 180_000 }, async () => {
  const instances: ChildGantry[] = [];
  try {
    const urls = await twoSplitting(instances, ['--executor', 'process', '--git-dirs', tmpdir()]);
    // A project the first instance works for, driven entirely through the second.
    const project = await projectWorkedBy(urls, urls[0], 'web');
    const P = `projects/${project}/locations/us-central1`;
    const repo = makeRepo(appFiles('hello from app hosting'));
    const dc = developerConnect(urls[1]);
    const ah = appHostingV1beta(urls[1]);
    await dc.projects.locations.connections.create({ parent: P, connectionId: 'c', requestBody: {} });
    await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: 'r', requestBody: { cloneUri: repo } });
    await waitOp(ah, (await ah.projects.locations.backends.create({ parent: P, backendId: 'web', requestBody: { servingLocality: 'GLOBAL_ACCESS', serviceAccount: `runner@${project}.iam.gserviceaccount.com`, codebase: { repository: `${P}/connections/c/gitRepositoryLinks/r` } } })).data.name!);
    const build = await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/web`, buildId: 'one', requestBody: { source: { codebase: { branch: 'main' } } } });
    assert.equal(((await waitOp<Record<string, unknown>>(ah, build.data.name!, 120_000)).response!).state, 'READY');
    const rollout = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/web`, rolloutId: 'one', requestBody: { build: `${P}/backends/web/builds/one` } });
    assert.equal(((await waitOp<Record<string, unknown>>(ah, rollout.data.name!)).response!).state, 'SUCCEEDED');
    const host = `web--${project}.us-central1.hosted.app`;
    // The second instance runs nothing of the project (a request passed on to it is refused there): its answer
    // comes from the first.
    const bodies = await Promise.all(urls.map(async url => (await getApp(url, host)).body));
    assert.match(bodies[0], /^hello from app hosting \| /);
    assert.equal(bodies[1], bodies[0]);
    const passedOn = await getApp(urls[1], host, '/', { 'x-gantry-forwarded': '1' });
    assert.equal(passedOn.status, 503, 'the second instance does not run the app itself');
  } finally {
    for (const g of instances) await g.kill('SIGTERM');
  }
});

test('a virtual clock is refused on a shared store, and gantry migrate reports the schema', async () => {
  const store = pg.database();
  const run = promisify(execFile);
  const refused = await run(process.execPath, [MAIN, '--store', store, '--ephemeral', '--port', '0', '--clock', 'virtual']).then(() => '', (e: { stderr: string }) => e.stderr);
  assert.match(refused, /--clock virtual needs the embedded store/);
  assert.equal((await run(process.execPath, [MAIN, 'migrate', '--store', store])).stdout, 'schema migrated from version 0 to 4\n');
  assert.equal((await run(process.execPath, [MAIN, 'migrate', '--store', store])).stdout, 'schema is at version 4: nothing to do\n');
});

test('a snapshot moves from SQLite to PostgreSQL and back, identically', async () => {
  const sqlite = await spawnGantry(['--data-dir', tempDir(), '--log-level', 'warn', '--render-duration', '50ms', '--job-duration', '50ms']);
  let text: string;
  try {
    const gcloud = await gcloudFor(sqlite.url);
    await gcloud(['deploy', 'apply', `--file=${FIXTURE}`, '--region=us-central1']);
    await json(`${sqlite.url}/v1/${PIPE}/releases?releaseId=rel-1`, { method: 'POST', body: '{}' });
    await eventually(async () => (await json<{ renderState: string }>(`${sqlite.url}/v1/${PIPE}/releases/rel-1`)).renderState === 'SUCCEEDED', 20_000);
    await json(`${sqlite.url}/v1/${PIPE}/releases/rel-1/rollouts?rolloutId=r1`, { method: 'POST', body: JSON.stringify({ targetId: 'dev' }) });
    await eventually(async () => (await json<{ state: string }>(`${sqlite.url}/v1/${PIPE}/releases/rel-1/rollouts/r1`)).state === 'SUCCEEDED', 20_000);
    text = await (await fetch(`${sqlite.url}/gantry/v1/snapshot`)).text();
  } finally {
    await sqlite.kill('SIGTERM');
  }
  const file = join(tempDir(), 'snap.jsonl');
  writeFileSync(file, text);
  const onPg = await spawnGantry(['--store', pg.database(), '--ephemeral', '--log-level', 'warn', '--import', file]);
  let fromPg: string;
  try {
    fromPg = await (await fetch(`${onPg.url}/gantry/v1/snapshot`)).text();
  } finally {
    await onPg.kill('SIGTERM');
  }
  // Every line but the header (which says when it was exported).
  const body = (snapshot: string) => snapshot.split('\n').slice(1);
  assert.ok(body(text).length > 20);
  assert.ok(body(fromPg).join('\n') === body(text).join('\n'), 'PostgreSQL exports what SQLite did');
  writeFileSync(file, fromPg);
  const back = await spawnGantry(['--data-dir', tempDir(), '--log-level', 'warn', '--import', file]);
  try {
    assert.ok(body(await (await fetch(`${back.url}/gantry/v1/snapshot`)).text()).join('\n') === body(text).join('\n'), 'and SQLite exports it again');
  } finally {
    await back.kill('SIGTERM');
  }
});

test('an instance alone on the database answers reads from its cache; a write through a newcomer is read on the next request to it, and a killed sole writer\'s marker is waited out', async () => {
  const store = pg.database();
  const args = (dir: string) => ['--store', store, '--data-dir', dir, '--log-level', 'warn', '--lease-interval', '200ms'];
  const sole = async (url: string) => (await json<{ work: { soleWriter: boolean } }>(`${url}/gantry/v1/info`)).work.soleWriter;
  const loc = `${'projects/my-proj/locations/us-central1'}`;
  const a = await spawnGantry(args(tempDir()));
  const others: ChildGantry[] = [];
  try {
    // Alone, it holds the role from its start; its trust lasts 300 ms past each heartbeat, so on a machine too busy to
    // beat in time it is asked again until a heartbeat renews it.
    assert.equal(await eventually(async () => (await sole(a.url)) || undefined, 5000), true, 'alone, it holds the role');
    // A writer that is no instance (a tool on the same database, in this process): each write of it is read through
    // the sole writer on the next request, though the sole writer has not heard of it yet.
    const tool = new PostgresStore(store);
    try {
      for (let i = 0; i < 3; i++) {
        await eventually(async () => (await sole(a.url)) || undefined, 10_000);
        const name = `${loc}/targets/tool${i}`;
        // Read first, so the sole writer's cache knows it absent.
        assert.equal((await fetch(`${a.url}/v1/${name}`)).status, 404);
        tool.tx(w => w.put('target', name, loc, { name, description: `tool ${i}` }, new Date().toISOString(), false));
        const got = await fetch(`${a.url}/v1/${name}`);
        assert.equal(got.status, 200, `round ${i}: ${await got.text()}`);
      }
    } finally {
      tool.close();
    }
    // A newcomer (a separate process): each write through it is read through the sole writer on the next request,
    // from the moment it starts (before the sole writer has heard of it) until it is a member and the role has ended.
    const b = await spawnGantry(args(tempDir()));
    others.push(b);
    for (let i = 0; i < 20; i++) {
      await json(`${b.url}/v1/${loc}/targets?targetId=t${i}`, { method: 'POST', body: JSON.stringify({ description: `d${i}`, run: { location: loc } }) });
      const got = await fetch(`${a.url}/v1/${loc}/targets/t${i}`);
      assert.equal(got.status, 200, `target t${i} written through the newcomer, read through the first instance`);
      await json(`${b.url}/v1/${loc}/targets/t0?updateMask=description`, { method: 'PATCH', body: JSON.stringify({ description: `v${i}` }) });
      assert.equal(((await (await fetch(`${a.url}/v1/${loc}/targets/t0`)).json()) as { description: string }).description, `v${i}`);
    }
    await eventually(async () => (!(await sole(a.url)) && !(await sole(b.url))) || undefined, 5_000);
    // Alone again once the newcomer stops, after resting five lease intervals.
    await b.kill('SIGTERM');
    others.pop();
    await eventually(async () => (await sole(a.url)) || undefined, 10_000);
    // Killed while it holds the role: its marker stays; the next writer waits its trust out, clears it and writes.
    await a.kill('SIGKILL');
    const c = await spawnGantry(args(tempDir()));
    others.push(c);
    await json(`${c.url}/v1/${loc}/targets/t1?updateMask=description`, { method: 'PATCH', body: JSON.stringify({ description: 'after' }) });
    assert.equal(((await (await fetch(`${c.url}/v1/${loc}/targets/t1`)).json()) as { description: string }).description, 'after');
    await eventually(async () => (await sole(c.url)) || undefined, 10_000);
  } finally {
    await a.kill('SIGKILL').catch(() => undefined);
    for (const g of others) await g.kill('SIGKILL').catch(() => undefined);
  }
});
