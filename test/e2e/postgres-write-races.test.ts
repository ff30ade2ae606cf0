// Two instances on one PostgreSQL database answering writes to the same resources at the same time, through the
// official googleapis clients: a write request reads what it decides by inside the writers' lock (Store.exclusive),
// so nothing one instance acknowledges is overwritten by a write the other decided on a stale read, exactly as on
// one instance.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import { google, type clouddeploy_v1 } from 'googleapis';
import { spawnGantry, tempDir, type ChildGantry } from '../helpers/server.js';
import { googleapisRun, googleError } from '../helpers/clients.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

const LOC = 'projects/races/locations/us-central1';

let pg: TestPostgres;
let a: ChildGantry, b: ChildGantry;
before(async () => {
  pg = await startPostgres();
  const store = pg.database();
  const args = () => ['--store', store, '--data-dir', tempDir(), '--log-level', 'warn', '--lease-interval', '200ms', '--job-duration', '0s', '--render-duration', '0s'];
  a = await spawnGantry(args());
  b = await spawnGantry(args());
});
after(async () => {
  await a?.kill('SIGTERM');
  await b?.kill('SIGTERM');
  await pg?.stop();
});

function deploy(url: string): clouddeploy_v1.Clouddeploy {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3600_000 });
  return google.clouddeploy({ version: 'v1', rootUrl: url + '/', auth });
}

test('PATCHes of one target through two instances at once: each acknowledged change is kept, a stale etag is ABORTED', async () => {
  const [da, db] = [deploy(a.url), deploy(b.url)];
  for (let i = 0; i < 12; i++) {
    const name = `${LOC}/targets/t${i}`;
    await da.projects.locations.targets.create({ parent: LOC, targetId: `t${i}`, requestBody: { run: { location: LOC } } });
    const [x, y] = await Promise.all([
      da.projects.locations.targets.patch({ name, updateMask: 'description', requestBody: { description: 'from a' } }),
      db.projects.locations.targets.patch({ name, updateMask: 'labels', requestBody: { labels: { from: 'b' } } }),
    ]);
    assert.deepEqual([x.status, y.status], [200, 200]);
    const got = (await db.projects.locations.targets.get({ name })).data;
    assert.deepEqual([got.description, got.labels], ['from a', { from: 'b' }], `round ${i}`);
  }
  // Clients adding a label each, read-modify-write with the etag, retrying when it is stale, through both instances.
  const name = `${LOC}/targets/shared`;
  await da.projects.locations.targets.create({ parent: LOC, targetId: 'shared', requestBody: { run: { location: LOC } } });
  let acknowledged = 0;
  await Promise.all(Array.from({ length: 6 }, async (_, w) => {
    const api = w % 2 ? db : da;
    for (let k = 0; k < 3; k++) {
      for (;;) {
        const cur = (await api.projects.locations.targets.get({ name })).data;
        try {
          await api.projects.locations.targets.patch({ name, updateMask: 'labels', requestBody: { labels: { ...cur.labels, [`w${w}-${k}`]: 'x' }, etag: cur.etag } });
          acknowledged++;
          break;
        } catch (e) {
          assert.equal((await googleError(Promise.reject(e))).status, 'ABORTED');
        }
      }
    }
  }));
  const labels = (await da.projects.locations.targets.get({ name })).data.labels ?? {};
  assert.equal(acknowledged, 18);
  assert.equal(Object.keys(labels).length, 18, JSON.stringify(labels));
});

test('the same create through two instances at once: one is made, the other is ALREADY_EXISTS; a requestId answers both with one operation', async () => {
  const [ra, rb] = [googleapisRun(a.url, 'v2'), googleapisRun(b.url, 'v2')];
  for (let i = 0; i < 10; i++) {
    const outcomes = await Promise.allSettled([ra, rb].map((api, k) => api.projects.locations.services.create({
      parent: LOC, serviceId: `svc${i}`, requestBody: { template: { containers: [{ image: `us-docker.pkg.dev/cloudrun/container/hello:${k}` }] } },
    })));
    assert.equal(outcomes.filter(o => o.status === 'fulfilled').length, 1, `round ${i}`);
    const refused = outcomes.find(o => o.status === 'rejected') as PromiseRejectedResult;
    assert.equal((await googleError(Promise.reject(refused.reason))).status, 'ALREADY_EXISTS');
  }
  const [da, db] = [deploy(a.url), deploy(b.url)];
  for (let i = 0; i < 10; i++) {
    const requestId = randomUUID();
    const [x, y] = await Promise.all([da, db].map(api => api.projects.locations.targets.create({ parent: LOC, targetId: `r${i}`, requestId, requestBody: { run: { location: LOC } } })));
    assert.equal(x.data.name, y.data.name, `round ${i}`);
  }
});

test('a job updated through one instance while its executions are started through the other keeps every execution counted', async () => {
  const [ra, rb] = [googleapisRun(a.url, 'v2'), googleapisRun(b.url, 'v2')];
  const name = `${LOC}/jobs/counted`;
  await ra.projects.locations.jobs.create({ parent: LOC, jobId: 'counted', requestBody: { template: { template: { containers: [{ image: 'busybox' }] } } } });
  await Promise.all([
    (async () => { for (let i = 0; i < 10; i++) await ra.projects.locations.jobs.run({ name, requestBody: {} }); })(),
    (async () => { for (let i = 0; i < 10; i++) await rb.projects.locations.jobs.patch({ name, requestBody: { labels: { round: String(i) }, template: { template: { containers: [{ image: 'busybox' }] } } } }); })(),
  ]);
  const job = (await rb.projects.locations.jobs.get({ name })).data;
  const executions = (await rb.projects.locations.jobs.executions.list({ parent: name, pageSize: 100 })).data.executions ?? [];
  assert.equal(executions.length, 10);
  assert.equal(job.executionCount, 10);
  assert.equal(job.labels?.round, '9');
});

test('PostgreSQL takes the requests SQLite takes: U+0000 is refused on both, and text the server writes itself is made storable', async () => {
  const run = googleapisRun(a.url, 'v2');
  const refused = await googleError(run.projects.locations.services.create({ parent: LOC, serviceId: 'nul', requestBody: { description: 'a\u0000b', template: { containers: [{ image: 'gcr.io/p/i' }] } } }));
  assert.equal(refused.status, 'INVALID_ARGUMENT');
  // A scripted task failure whose message (a JSON string in the rule) decodes to half a surrogate pair: the failure
  // is recorded (as U+FFFD) and the execution ends, where the write had failed on jsonb and been retried for ever.
  const name = `${LOC}/jobs/odd-failure`;
  const made = await run.projects.locations.jobs.create({ parent: LOC, jobId: 'odd-failure', requestBody: {
    annotations: { 'gantry.dev/outcomes': '*=fail:3"boom \\ud800 here"' }, template: { taskCount: 1, template: { maxRetries: 0, containers: [{ image: 'busybox' }] } },
  } });
  await run.projects.locations.operations.wait({ name: made.data.name!, requestBody: { timeout: '20s' } });
  const started = await run.projects.locations.jobs.run({ name, requestBody: {} });
  const done = await run.projects.locations.operations.wait({ name: started.data.name!, requestBody: { timeout: '20s' } });
  assert.equal(done.data.done, true, JSON.stringify(done.data));
  const execution = (await run.projects.locations.jobs.executions.get({ name: (started.data.metadata as { name: string }).name })).data;
  assert.equal(execution.failedCount, 1);
});
