// Snapshots: export, reset and import restore an identical state, compared resource by resource through the APIs
// (Cloud Deploy, Cloud Run, Secret Manager, Cloud Logging, Cloud Storage objects and their bytes, outcome scripts);
// a project's snapshot replaces that project only; --import and --export-on-exit carry state across Gantrys.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnGantry, startTestGantry, tempDir } from '../helpers/server.js';
import type { Gantry } from '../../src/gantry.js';

const P = 'snap-a';
const LOC = `projects/${P}/locations/us-central1`;

async function call(url: string, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await r.text();
  assert.ok(r.status === 200 || r.status === 404, `${method} ${path}: ${r.status} ${text}`);
  return r.status === 404 ? { notFound: true } : (JSON.parse(text) as Record<string, any>);
}

async function build(g: Gantry): Promise<void> {
  const c = (m: string, p: string, b?: unknown) => call(g.url, m, p, b);
  await c('POST', `/v1/${LOC}/targets?targetId=dev`, { run: { location: LOC }, labels: { tier: 'dev' } });
  await c('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=app`, { serialPipeline: { stages: [{ targetId: 'dev', strategy: { standard: { verify: true } } }] } });
  await c('POST', `/v1/${LOC}/deliveryPipelines/app/releases?releaseId=r1`, {});
  await c('POST', '/gantry/v1/clock:advance', { duration: '1m' });
  await c('POST', `/v1/${LOC}/deliveryPipelines/app/releases/r1/rollouts?rolloutId=ro`, { targetId: 'dev' });
  await c('POST', '/gantry/v1/clock:advance', { duration: '1h' });
  await c('POST', `/v2/${LOC}/jobs?jobId=batch`, { template: { taskCount: 3, template: { containers: [{ image: 'busybox' }] } } });
  await c('POST', '/gantry/v1/clock:advance', { duration: '1s' });
  await c('POST', `/v2/${LOC}/jobs/batch:run`, {});
  await c('POST', '/gantry/v1/clock:advance', { duration: '1h' });
  await c('POST', `/v1/projects/${P}/secrets?secretId=token`, { replication: { automatic: {} } });
  await c('POST', `/v1/projects/${P}/secrets/token:addVersion`, { payload: { data: Buffer.from('s3cr3t').toString('base64') } });
  await c('POST', '/v2/entries:write', { entries: [{ logName: `projects/${P}/logs/app`, resource: { type: 'global' }, textPayload: 'hello' }] });
  await c('POST', '/gantry/v1/outcomes', { scope: `${LOC}/deliveryPipelines/app`, rules: '*/verify=succeed~5s' });
  await c('POST', `/v1/projects/${P}/secrets/token:setIamPolicy`, { policy: { bindings: [{ role: 'roles/secretmanager.secretAccessor', members: ['user:dev@example.com'] }] } });
  await c('POST', `/v1/${LOC}/targets/dev:setIamPolicy`, { policy: { bindings: [{ role: 'roles/clouddeploy.approver', members: ['group:ops@example.com'] }] } });
}

/** What a client sees of the project, through the APIs. */
async function views(url: string): Promise<Record<string, unknown>> {
  const c = (p: string, m = 'GET', b?: unknown) => call(url, m, p, b);
  const release = await c(`/v1/${LOC}/deliveryPipelines/app/releases/r1`);
  const bucket = `us-central1.deploy-artifacts.${P}.appspot.com`;
  const objects = await c(`/storage/v1/b/${bucket}/o`);
  const first = objects.items?.[0]?.name as string | undefined;
  const executions = await c(`/v2/${LOC}/jobs/batch/executions`);
  return {
    targets: await c(`/v1/${LOC}/targets`), pipelines: await c(`/v1/${LOC}/deliveryPipelines`), release,
    rollouts: await c(`/v1/${LOC}/deliveryPipelines/app/releases/r1/rollouts`), jobRuns: await c(`/v1/${LOC}/deliveryPipelines/app/releases/r1/rollouts/ro/jobRuns`),
    jobs: await c(`/v2/${LOC}/jobs`), executions, tasks: executions.executions ? await c(`/v2/${executions.executions[0].name}/tasks`) : undefined,
    secret: await c(`/v1/projects/${P}/secrets/token/versions/latest:access`), logs: await c('/v2/entries:list', 'POST', { resourceNames: [`projects/${P}`] }),
    objects, content: first ? await (await fetch(`${url}/storage/v1/b/${bucket}/o/${encodeURIComponent(first)}?alt=media`)).text() : undefined,
    outcomes: (await c('/gantry/v1/outcomes')).outcomes,
    iam: [await c(`/v1/projects/${P}/secrets/token:getIamPolicy`), await c(`/v1/${LOC}/targets/dev:getIamPolicy`)],
  };
}

test('export, reset and import restore an identical state, resource by resource', async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 5_000, jobMs: 20_000, taskMs: 3_000 });
  try {
    await build(g);
    const before = await views(g.url);
    assert.equal(before.rollouts && (before.rollouts as { rollouts: { state: string }[] }).rollouts[0].state, 'SUCCEEDED');
    assert.ok((before.objects as { items: unknown[] }).items.length > 2, 'the render wrote its artifacts to storage');
    const snapshot = await (await fetch(`${g.url}/gantry/v1/snapshot`)).text();
    assert.match(snapshot.split('\n')[0], /^\{"snapshot":\{"format":1/);
    await call(g.url, 'POST', '/gantry/v1/reset', {});
    assert.notDeepEqual(await views(g.url), before);
    const imported = await fetch(`${g.url}/gantry/v1/snapshot:import`, { method: 'POST', body: snapshot, headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(imported.status, 200, await imported.clone().text());
    assert.deepEqual(await views(g.url), before);
    // A bad snapshot changes nothing.
    const bad = await fetch(`${g.url}/gantry/v1/snapshot:import`, { method: 'POST', body: snapshot.split('\n').slice(0, 3).join('\n') + '\n{"oops":1}\n', headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(await views(g.url), before);
    assert.equal((await fetch(`${g.url}/gantry/v1/snapshot:import`, { method: 'POST', body: snapshot, headers: { 'content-type': 'text/plain' } })).status, 400);
  } finally {
    await g.close();
  }
});

test('a project\'s snapshot replaces that project only', async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 5_000, jobMs: 20_000, taskMs: 3_000 });
  try {
    await build(g);
    await call(g.url, 'POST', '/v1/projects/snap-b/locations/us-central1/targets?targetId=keep', { run: { location: 'projects/snap-b/locations/us-central1' } });
    const before = await views(g.url);
    const snapshot = await (await fetch(`${g.url}/gantry/v1/snapshot?project=${P}`)).text();
    assert.ok(!snapshot.includes('snap-b'), 'only the project travels');
    await call(g.url, 'DELETE', `/v1/${LOC}/deliveryPipelines/app?force=true`);
    await call(g.url, 'POST', '/v1/projects/snap-b/locations/us-central1/targets?targetId=later', { run: { location: 'projects/snap-b/locations/us-central1' } });
    const r = await fetch(`${g.url}/gantry/v1/snapshot:import?project=${P}`, { method: 'POST', body: snapshot, headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await views(g.url), before);
    const b = await call(g.url, 'GET', '/v1/projects/snap-b/locations/us-central1/targets');
    assert.deepEqual((b.targets as { targetId: string }[]).map(t => t.targetId).sort(), ['keep', 'later'], 'the other project is as it was left');
  } finally {
    await g.close();
  }
});

test('a project\'s reset and snapshot take its Cloud Storage: the buckets it owns and the objects of its resources', async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 5_000, jobMs: 20_000, taskMs: 3_000 });
  try {
    await build(g);
    // Another project's bucket, and an object of its own in Gantry's job-log bucket, stay through snap-a's reset.
    await call(g.url, 'POST', '/storage/v1/b?project=snap-b', { name: 'snap-b-bucket' });
    await fetch(`${g.url}/upload/storage/v1/b/snap-b-bucket/o?uploadType=media&name=keep.txt`, { method: 'POST', body: 'kept', headers: { 'content-type': 'text/plain' } });
    const before = await views(g.url);
    assert.ok((before.objects as { items?: unknown[] }).items?.length, 'the render wrote its artifacts');
    const snapshot = await (await fetch(`${g.url}/gantry/v1/snapshot?project=${P}`)).text();
    assert.match(snapshot, /deploy-artifacts\.snap-a\.appspot\.com/, 'the project\'s artifact bucket travels');
    assert.ok(!snapshot.includes('snap-b'), 'only the project travels');

    await call(g.url, 'POST', '/gantry/v1/reset', { project: P });
    assert.equal((await call(g.url, 'GET', `/storage/v1/b/us-central1.deploy-artifacts.${P}.appspot.com`)).notFound, true, 'the project\'s bucket is gone');
    assert.equal(await (await fetch(`${g.url}/storage/v1/b/snap-b-bucket/o/keep.txt?alt=media`)).text(), 'kept', 'another project\'s bucket stays');

    const r = await fetch(`${g.url}/gantry/v1/snapshot:import?project=${P}`, { method: 'POST', body: snapshot, headers: { 'content-type': 'application/x-ndjson' } });
    assert.equal(r.status, 200, await r.clone().text());
    assert.deepEqual(await views(g.url), before, 'artifacts and their bytes are back');
    // The release's artifacts answer again, as the render left them.
    const release = await call(g.url, 'GET', `/v1/${LOC}/deliveryPipelines/app/releases/r1`);
    const manifest = `${String(release.targetArtifacts.dev.artifactUri)}/manifest.yaml`.replace(/^gs:\/\/([^/]+)\//, (_m, b: string) => `${g.url}/storage/v1/b/${b}/o/`);
    const m = /^(.*\/o\/)(.*)$/.exec(manifest)!;
    const got = await fetch(`${m[1]}${encodeURIComponent(m[2])}?alt=media`);
    assert.equal(got.status, 200);
  } finally {
    await g.close();
  }
});

test('--import starts from a snapshot, --export-on-exit writes one', async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 5_000, jobMs: 20_000, taskMs: 3_000 });
  let before: Record<string, unknown>;
  const dir = tempDir();
  try {
    await build(g);
    before = await views(g.url);
    writeFileSync(join(dir, 'in.ndjson'), [...g.snapshot()].join(''));
  } finally {
    await g.close();
  }
  const child = await spawnGantry(['--ephemeral', '--clock', 'virtual', '--log-level', 'silent', '--import', join(dir, 'in.ndjson'), '--export-on-exit', join(dir, 'out.ndjson')]);
  try {
    assert.deepEqual(await views(child.url), before);
  } finally {
    await child.kill('SIGTERM');
  }
  const resources = (f: string) => readFileSync(join(dir, f), 'utf8').split('\n').filter(l => l.startsWith('{"resource"')).sort();
  assert.deepEqual(resources('out.ndjson'), resources('in.ndjson'));
});
