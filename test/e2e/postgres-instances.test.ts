// Several Gantry instances on one PostgreSQL database (a throwaway cluster): every instance serves every API over the
// same state; one holds the work lease and runs the work (rollouts, revisions), the others forward requests for
// served apps to it; when it is SIGKILLed another takes over and resumes what it left.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFile, execFileSync } from 'node:child_process';
import { promisify } from 'node:util';
import { google } from 'googleapis';
import { eventually, spawnGantry, tempDir, type ChildGantry } from '../helpers/server.js';
import { gcloudFor } from '../helpers/gcloud.js';
import { getApp } from '../helpers/apphosting.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { projectNumber } from '../../src/google/project-number.js';
import { Logging, type Entry } from '@google-cloud/logging';
import { JobsClient } from '@google-cloud/run';
import { gapicOptions } from '../helpers/clients.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/clouddeploy.yaml', import.meta.url));
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const PIPE = 'projects/my-proj/locations/us-central1/deliveryPipelines/web';
const SERVICES = '/v2/projects/my-proj/locations/us-central1/services';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

function fakeAuth() {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3600_000 });
  return auth;
}

/** An app that answers with its revision and its process id. */
function helloApp(): string {
  const app = tempDir('pg-app-');
  writeFileSync(join(app, 'server.js'), "require('http').createServer((q, s) => s.end(process.env.K_REVISION + ' ' + process.pid)).listen(process.env.PORT);");
  return app;
}

/** A Cloud Run service running that app as a process, made through one instance. */
async function createService(url: string, id: string, app: string): Promise<void> {
  const r = await fetch(`${url}${SERVICES}?serviceId=${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
    annotations: { 'gantry.dev/executor': 'process' }, template: { containers: [{ image: 'app:1', command: ['node', join(app, 'server.js')] }] },
  }) });
  assert.equal(r.status, 200, await r.text());
}

/** The pids of the processes running an app directory's server. */
function appProcesses(dir: string): string[] {
  try { return execFileSync('pgrep', ['-f', join(dir, 'server.js')]).toString().trim().split('\n').filter(Boolean); } catch { return []; }
}

const json = async <T>(url: string, init?: RequestInit): Promise<T> => {
  const r = await fetch(url, { ...init, headers: { 'content-type': 'application/json' } });
  const body = await r.json() as T;
  assert.ok(r.ok, `${init?.method ?? 'GET'} ${url}: ${r.status} ${JSON.stringify(body)}`);
  return body;
};

test('three instances share one database: writes read anywhere, work runs once, apps answer through any instance, and a SIGKILLed holder is replaced', async () => {
  const store = pg.database();
  const app = helloApp();
  const args = (dir: string) => ['--store', store, '--data-dir', dir, '--log-level', 'warn', '--allow-executors', 'process', '--lease-interval', '200ms', '--job-duration', '100ms', '--render-duration', '50ms'];
  const instances: ChildGantry[] = [];
  try {
    for (let i = 0; i < 3; i++) instances.push(await spawnGantry(args(tempDir())));
    const [a, b, c] = instances;
    const info = await json<{ store: string }>(`${b.url}/gantry/v1/info`);
    assert.equal(info.store, 'postgres');

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

    // A Cloud Run service created on c runs on the holder (a), and answers on every instance's run.app host.
    await createService(c.url, 'hello', app);
    const host = `hello-${projectNumber('my-proj')}.us-central1.run.app`;
    const first = await eventually(async () => { const x = await getApp(b.url, host); return x.status === 200 ? x.body : undefined; }, 20_000);
    for (const g of instances) assert.equal((await getApp(g.url, host)).body, first, 'the same instance answers through every Gantry');
    assert.deepEqual(appProcesses(app), [first.split(' ')[1]], 'only the holder runs the revision, though the service was made on another');
    // A client claiming its request was already forwarded is answered by the instance it reached, which runs nothing
    // while standing by: no loop, no second process.
    const spoofed = await getApp(b.url, host, '/', { 'x-gantry-forwarded': '1' });
    assert.equal(spoofed.status, 404, 'a standby routes no app');
    assert.deepEqual(appProcesses(app), [first.split(' ')[1]]);

    // The clock is the real one for every instance sharing the store.
    const frozen = await fetch(`${b.url}/gantry/v1/clock:freeze`, { method: 'POST' });
    assert.equal(frozen.status, 400);
    assert.match(JSON.stringify(await frozen.json()), /FAILED_PRECONDITION.*PostgreSQL store and runs in real time/);

    // The holder dies: another takes the lease, serves the same revision from a new instance, and runs new work.
    await a.kill('SIGKILL');
    instances.shift();
    const [revision, oldPid] = first.split(' ');
    const again = await eventually(async () => { const x = await getApp(c.url, host); return x.status === 200 && !x.body.endsWith(` ${oldPid}`) ? x.body : undefined; }, 30_000);
    assert.equal(again.split(' ')[0], revision);
    // The killed holder's own app process is its machine's to reap (its restart with the same data directory does):
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
    const [holder, b, c] = instances;
    const onB = new Logging({ projectId: project, ...gapicOptions(b.url) });
    const onC = new Logging({ projectId: project, ...gapicOptions(c.url) });
    // Written through b, read through c (and logs.list through the holder).
    await onB.log('audit').write([onB.entry({ resource: { type: 'global' } }, 'from b: one'), onB.entry({ resource: { type: 'global' } }, { n: 2 })]);
    const [read] = await onC.getEntries({ filter: 'logName="projects/logs-proj/logs/audit"', orderBy: 'timestamp asc' });
    // (The client adds an entry of its own once: its instrumentation diagnostic.)
    assert.deepEqual(read.map(e => e.data).filter(d => !JSON.stringify(d).includes('logging.googleapis.com/diagnostic')), ['from b: one', { n: 2 }]);
    const [logs] = await new Logging({ projectId: project, ...gapicOptions(holder.url) }).getLogs();
    assert.deepEqual(logs.map(l => l.name), ['audit']);

    // A tail on c streams entries b writes and the task lines of a job that runs on the holder.
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

test('the database restarts: every instance stops its work and stands by, then one takes the lease again and work runs', async () => {
  const store = pg.database();
  const app = helloApp();
  const args = (dir: string) => ['--store', store, '--data-dir', dir, '--log-level', 'warn', '--allow-executors', 'process', '--lease-interval', '200ms', '--job-duration', '100ms', '--render-duration', '50ms'];
  const instances: ChildGantry[] = [];
  const leases = async () => (await Promise.all(instances.map(g => json<{ work: { lease: string } }>(`${g.url}/gantry/v1/info`)))).map(i => i.work.lease).sort();
  try {
    for (let i = 0; i < 2; i++) instances.push(await spawnGantry(args(tempDir())));
    const [a, b] = instances;
    assert.deepEqual(await leases(), ['HELD', 'STANDING_BY']);
    await createService(b.url, 'again', app);
    const host = `again-${projectNumber('my-proj')}.us-central1.run.app`;
    const before = await eventually(async () => { const x = await getApp(a.url, host); return x.status === 200 ? x.body : undefined; }, 20_000);

    await pg.restart();
    // Each instance notices, stops its work, reconnects; one takes the lease and serves the service from a new process.
    await eventually(async () => { try { return JSON.stringify(await leases()) === '["HELD","STANDING_BY"]'; } catch { return false; } }, 30_000);
    const after = await eventually(async () => { const x = await getApp(b.url, host); return x.status === 200 && x.body !== before ? x.body : undefined; }, 30_000);
    assert.equal(after.split(' ')[0], before.split(' ')[0], 'the same revision');
    let oldAlive = true;
    try { process.kill(Number(before.split(' ')[1]), 0); } catch { oldAlive = false; }
    assert.ok(!oldAlive, 'the process the holder ran before the restart was stopped when it lost the lease');
    for (const g of instances) assert.equal((await getApp(g.url, host)).body, after, 'every instance reaches the one serving');
    assert.deepEqual(appProcesses(app), [after.split(' ')[1]], 'one instance of the revision runs, on the new holder');

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
