// Cloud Deploy pipelines, targets, custom target types, releases and operations through `googleapis`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, eventually } from '../helpers/server.js';
import { googleapisDeploy, googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';
import { uploadSource } from '../helpers/source.js';

const LOC = 'projects/my-proj/locations/us-central1';
let g: Gantry;
let cd: clouddeploy_v1.Clouddeploy;
let api: clouddeploy_v1.Resource$Projects$Locations;

async function done(op: clouddeploy_v1.Schema$Operation): Promise<clouddeploy_v1.Schema$Operation> {
  return eventually(async () => {
    const r = await api.operations.get({ name: op.name! });
    return r.data.done ? r.data : undefined;
  });
}

async function createTarget(id: string, body: clouddeploy_v1.Schema$Target = { run: { location: LOC } }) {
  const r = await api.targets.create({ parent: LOC, targetId: id, requestBody: body });
  return done(r.data);
}

before(async () => {
  g = await startTestGantry();
  cd = googleapisDeploy(g.url);
  api = cd.projects.locations;
});
after(() => g.close());

test('targets: create answers an LRO whose response is the target; get and list read it back', async () => {
  const op = await createTarget('dev', { description: 'dev env', labels: { team: 'a' }, run: { location: LOC } });
  assert.match(op.name!, new RegExp(`^${LOC}/operations/operation-\\d{13}-[0-9a-f]{13}-[0-9a-f]{8}-[0-9a-f]{8}$`));
  assert.equal(op.metadata!['@type'], 'type.googleapis.com/google.cloud.deploy.v1.OperationMetadata');
  assert.equal(op.metadata!.verb, 'create');
  assert.equal(op.response!['@type'], 'type.googleapis.com/google.cloud.deploy.v1.Target');
  const t = (await api.targets.get({ name: `${LOC}/targets/dev` })).data;
  assert.equal(t.targetId, 'dev');
  assert.match(t.uid!, /^[0-9a-f]{32}$/);
  assert.match(t.etag!, /^[0-9a-f]{16}$/);
  assert.match(t.createTime!, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
  const list = (await api.targets.list({ parent: LOC })).data;
  assert.deepEqual(list.targets!.map(x => x.targetId), ['dev']);
});

test('pipelines: condition reports missing targets until they exist', async () => {
  await done((await api.deliveryPipelines.create({
    parent: LOC, deliveryPipelineId: 'web',
    requestBody: { serialPipeline: { stages: [{ targetId: 'dev' }, { targetId: 'prod', strategy: { canary: { canaryDeployment: { percentages: [25, 50] } } } }] } },
  })).data);
  let p = (await api.deliveryPipelines.get({ name: `${LOC}/deliveryPipelines/web` })).data;
  assert.deepEqual(p.condition!.targetsPresentCondition!.missingTargets, [`${LOC}/targets/prod`]);
  assert.equal(p.condition!.pipelineReadyCondition!.status, undefined);
  await createTarget('prod', { requireApproval: true, run: { location: LOC } });
  p = await eventually(async () => {
    const d = (await api.deliveryPipelines.get({ name: `${LOC}/deliveryPipelines/web` })).data;
    return d.condition!.pipelineReadyCondition!.status ? d : undefined;
  });
  assert.equal(p.condition!.targetsPresentCondition!.status, true);
});

test('update: updateMask paths, `*`, etag checks and allowMissing upsert', async () => {
  const name = `${LOC}/targets/dev`;
  const before = (await api.targets.get({ name })).data;
  await done((await api.targets.patch({ name, updateMask: 'description', requestBody: { description: 'changed', labels: { ignored: 'x' } } })).data);
  let t = (await api.targets.get({ name })).data;
  assert.equal(t.description, 'changed');
  assert.deepEqual(t.labels, { team: 'a' });
  assert.notEqual(t.etag, before.etag);
  assert.equal(t.createTime, before.createTime);
  assert.equal(t.uid, before.uid);
  await done((await api.targets.patch({ name, updateMask: '*', requestBody: { run: { location: LOC } } })).data);
  t = (await api.targets.get({ name })).data;
  assert.equal(t.description, undefined);
  assert.equal(t.labels, undefined);
  const stale = await googleError(api.targets.patch({ name, updateMask: 'description', requestBody: { description: 'x', etag: before.etag } }));
  assert.equal(stale.status, 'ABORTED');
  const missing = await googleError(api.targets.patch({ name: `${LOC}/targets/nope`, updateMask: 'description', requestBody: { description: 'x' } }));
  assert.equal(missing.status, 'NOT_FOUND');
  await done((await api.targets.patch({ name: `${LOC}/targets/upserted`, allowMissing: true, updateMask: '*', requestBody: { gke: { cluster: 'projects/my-proj/locations/us-central1/clusters/c1' } } })).data);
  assert.equal((await api.targets.get({ name: `${LOC}/targets/upserted` })).data.gke!.cluster, 'projects/my-proj/locations/us-central1/clusters/c1');
  const badMask = await googleError(api.targets.patch({ name, updateMask: 'nosuchfield', requestBody: {} }));
  assert.equal(badMask.status, 'INVALID_ARGUMENT');
});

test('list: AIP-160 filters, orderBy (any case) and page tokens', async () => {
  for (const id of ['t-a', 't-b', 't-c', 't-d']) {
    await createTarget(id, { labels: { tier: id === 't-b' ? 'gold' : 'std' }, requireApproval: id !== 't-a', run: { location: LOC } });
  }
  const ids = async (q: clouddeploy_v1.Params$Resource$Projects$Locations$Targets$List) =>
    ((await api.targets.list({ parent: LOC, ...q })).data.targets ?? []).map(t => t.targetId);
  assert.deepEqual(await ids({ filter: 'requireApproval=true AND targetId:"t-*"' }), ['t-b', 't-c', 't-d']);
  assert.deepEqual(await ids({ filter: 'labels.tier="gold" OR targetId="t-a"' }), ['t-a', 't-b']);
  assert.deepEqual(await ids({ filter: 'NOT requireApproval=true AND targetId="t-*"' }), ['t-a']);
  assert.deepEqual(await ids({ filter: 'labels:tier AND -labels.tier="std"' }), ['t-b']);
  assert.deepEqual(await ids({ filter: 'target_id="t-c"' }), ['t-c']);
  assert.deepEqual(await ids({ filter: 'targetId="t-*"', orderBy: 'TargetId desc' }), ['t-d', 't-c', 't-b', 't-a']);
  assert.deepEqual(await ids({ filter: 'createTime > "2000-01-01T00:00:00Z" AND targetId="t-*"', orderBy: 'create_time' }), ['t-a', 't-b', 't-c', 't-d']);
  const seen: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = (await api.targets.list({ parent: LOC, filter: 'targetId="t-*"', orderBy: 'targetId desc', pageSize: 3, pageToken })).data;
    assert.ok(page.targets!.length <= 3);
    seen.push(...page.targets!.map(t => t.targetId!));
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  assert.deepEqual(seen, ['t-d', 't-c', 't-b', 't-a']);
  const first = (await api.targets.list({ parent: LOC, pageSize: 1 })).data;
  const wrong = await googleError(api.targets.list({ parent: LOC, pageSize: 1, filter: 'targetId="dev"', pageToken: first.nextPageToken! }));
  assert.equal(wrong.status, 'INVALID_ARGUMENT');
  for (const filter of ['targetId=', 'nosuch="x"', '(targetId="a"', 'requireApproval=maybe']) {
    const e = await googleError(api.targets.list({ parent: LOC, filter }));
    assert.equal(e.status, 'INVALID_ARGUMENT', filter);
  }
  const pipelines = (await api.deliveryPipelines.list({ parent: LOC, filter: 'serialPipeline.stages.targetId:"prod"' })).data;
  assert.deepEqual(pipelines.deliveryPipelines!.map(p => p.name), [`${LOC}/deliveryPipelines/web`]);
  assert.equal((await api.deliveryPipelines.list({ parent: LOC, filter: 'serialPipeline.stages.targetId:"zzz"' })).data.deliveryPipelines, undefined);
});

test('requestId replays the original operation; validateOnly persists nothing', async () => {
  const requestId = randomUUID();
  const a = (await api.targets.create({ parent: LOC, targetId: 'idem', requestId, requestBody: { run: { location: LOC } } })).data;
  const b = (await api.targets.create({ parent: LOC, targetId: 'idem', requestId, requestBody: { run: { location: LOC } } })).data;
  assert.equal(a.name, b.name);
  const dup = await googleError(api.targets.create({ parent: LOC, targetId: 'idem', requestBody: { run: { location: LOC } } }));
  assert.equal(dup.status, 'ALREADY_EXISTS');
  const badId = await googleError(api.targets.create({ parent: LOC, targetId: 'x', requestId: 'not-a-uuid', requestBody: {} }));
  assert.equal(badId.status, 'INVALID_ARGUMENT');
  const v = (await api.targets.create({ parent: LOC, targetId: 'dry', validateOnly: true, requestBody: { run: { location: LOC } } })).data;
  assert.equal(v.done, true);
  assert.equal(v.response!.targetId, 'dry');
  assert.equal((await googleError(api.targets.get({ name: `${LOC}/targets/dry` }))).status, 'NOT_FOUND');
  const vd = (await api.targets.delete({ name: `${LOC}/targets/idem`, validateOnly: true })).data;
  assert.equal(vd.done, true);
  assert.equal((await api.targets.get({ name: `${LOC}/targets/idem` })).data.targetId, 'idem');
});

test('custom target types: one of customActions or tasks, full CRUD', async () => {
  const bad = await googleError(api.customTargetTypes.create({ parent: LOC, customTargetTypeId: 'ctt', requestBody: { description: 'no def' } }));
  assert.equal(bad.status, 'INVALID_ARGUMENT');
  await done((await api.customTargetTypes.create({ parent: LOC, customTargetTypeId: 'ctt', requestBody: { customActions: { deployAction: 'deploy-it', renderAction: 'render-it' } } })).data);
  const c = (await api.customTargetTypes.get({ name: `${LOC}/customTargetTypes/ctt` })).data;
  assert.equal(c.customTargetTypeId, 'ctt');
  await done((await api.customTargetTypes.patch({ name: `${LOC}/customTargetTypes/ctt`, updateMask: 'description', requestBody: { description: 'mine' } })).data);
  assert.equal((await api.customTargetTypes.get({ name: `${LOC}/customTargetTypes/ctt` })).data.description, 'mine');
  await createTarget('custom', { customTarget: { customTargetType: `${LOC}/customTargetTypes/ctt` } });
  assert.equal((await googleError(api.customTargetTypes.delete({ name: `${LOC}/customTargetTypes/ctt`, etag: c.etag! }))).status, 'ABORTED');
  const fresh = (await api.customTargetTypes.get({ name: `${LOC}/customTargetTypes/ctt` })).data;
  await done((await api.customTargetTypes.delete({ name: `${LOC}/customTargetTypes/ctt`, etag: fresh.etag! })).data);
  assert.equal((await googleError(api.customTargetTypes.get({ name: `${LOC}/customTargetTypes/ctt` }))).status, 'NOT_FOUND');
});

test('releases: snapshots at creation, render to SUCCEEDED with target artifacts, abandon', async () => {
  await done((await api.deliveryPipelines.create({
    parent: LOC, deliveryPipelineId: 'rel-pipe',
    requestBody: { serialPipeline: { stages: [{ targetId: 'dev' }, { targetId: 'prod', strategy: { canary: { canaryDeployment: { percentages: [25] } } } }] } },
  })).data);
  const op = await done((await api.deliveryPipelines.releases.create({
    parent: `${LOC}/deliveryPipelines/rel-pipe`, releaseId: 'r1',
    requestBody: { skaffoldConfigUri: await uploadSource(g.url, 'gs://bucket/source.tgz'), buildArtifacts: [{ image: 'app', tag: 'app:v1' }] },
  })).data);
  assert.equal(op.response!['@type'], 'type.googleapis.com/google.cloud.deploy.v1.Release');
  const name = `${LOC}/deliveryPipelines/rel-pipe/releases/r1`;
  const r = await eventually(async () => {
    const d = (await api.deliveryPipelines.releases.get({ name })).data;
    return d.renderState === 'SUCCEEDED' ? d : undefined;
  });
  assert.equal(r.deliveryPipelineSnapshot!.name, `${LOC}/deliveryPipelines/rel-pipe`);
  assert.deepEqual(r.targetSnapshots!.map(t => t.targetId).sort(), ['dev', 'prod']);
  assert.equal(r.targetRenders!.dev.renderingState, 'SUCCEEDED');
  assert.deepEqual(Object.keys(r.targetArtifacts!.prod.phaseArtifacts!), ['canary-25', 'stable']);
  assert.ok(r.renderEndTime! > r.renderStartTime!);
  assert.equal(r.condition!.releaseReadyCondition!.status, true);
  assert.equal(r.skaffoldVersion, '2.16');
  // Snapshots do not follow later edits.
  await done((await api.targets.patch({ name: `${LOC}/targets/dev`, updateMask: 'description', requestBody: { description: 'after release' } })).data);
  const again = (await api.deliveryPipelines.releases.get({ name })).data;
  assert.notEqual(again.targetSnapshots!.find(t => t.targetId === 'dev')!.description, 'after release');
  const list = (await api.deliveryPipelines.releases.list({ parent: `${LOC}/deliveryPipelines/rel-pipe`, filter: 'renderState="SUCCEEDED"' })).data;
  assert.deepEqual(list.releases!.map(x => x.name), [name]);
  await api.deliveryPipelines.releases.abandon({ name, requestBody: {} });
  assert.equal((await api.deliveryPipelines.releases.get({ name })).data.abandoned, true);
  assert.equal((await googleError(api.deliveryPipelines.releases.abandon({ name, requestBody: {} }))).status, 'FAILED_PRECONDITION');
});

test('releases: scripted render failure, suspended pipeline, missing targets, bad skaffold version', async () => {
  const parent = `${LOC}/deliveryPipelines/rel-pipe`;
  await done((await api.deliveryPipelines.releases.create({ parent, releaseId: 'r-fail', requestBody: { annotations: { 'gantry.dev/render-failure': 'prod=EXECUTION_FAILED' } } })).data);
  const r = await eventually(async () => {
    const d = (await api.deliveryPipelines.releases.get({ name: `${parent}/releases/r-fail` })).data;
    return d.renderState === 'FAILED' ? d : undefined;
  });
  assert.equal(r.targetRenders!.prod.failureCause, 'EXECUTION_FAILED');
  assert.equal(r.targetRenders!.dev.renderingState, 'SUCCEEDED');
  assert.equal((await googleError(api.deliveryPipelines.releases.create({ parent, releaseId: 'r-v', requestBody: { skaffoldVersion: '0.1' } }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(api.deliveryPipelines.releases.create({ parent: `${LOC}/deliveryPipelines/none`, releaseId: 'r', requestBody: {} }))).status, 'NOT_FOUND');
  await done((await api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'ghost', requestBody: { serialPipeline: { stages: [{ targetId: 'ghost-target' }] } } })).data);
  assert.equal((await googleError(api.deliveryPipelines.releases.create({ parent: `${LOC}/deliveryPipelines/ghost`, releaseId: 'r', requestBody: {} }))).status, 'FAILED_PRECONDITION');
  await done((await api.deliveryPipelines.patch({ name: parent, updateMask: 'suspended', requestBody: { suspended: true } })).data);
  const e = await googleError(api.deliveryPipelines.releases.create({ parent, releaseId: 'r-s', requestBody: {} }));
  assert.equal(e.status, 'FAILED_PRECONDITION');
  assert.match(e.message, /suspended/);
  await done((await api.deliveryPipelines.patch({ name: parent, updateMask: 'suspended', requestBody: { suspended: false } })).data);
});

test('delete: pipelines with releases need force; force removes the children', async () => {
  const name = `${LOC}/deliveryPipelines/rel-pipe`;
  const e = await googleError(api.deliveryPipelines.delete({ name }));
  assert.equal(e.status, 'FAILED_PRECONDITION');
  const op = await done((await api.deliveryPipelines.delete({ name, force: true })).data);
  assert.equal(op.response!['@type'], 'type.googleapis.com/google.protobuf.Empty');
  assert.equal((await googleError(api.deliveryPipelines.get({ name }))).status, 'NOT_FOUND');
  assert.equal((await googleError(api.deliveryPipelines.releases.get({ name: `${name}/releases/r1` }))).status, 'NOT_FOUND');
  assert.equal((await googleError(api.deliveryPipelines.delete({ name }))).status, 'NOT_FOUND');
  assert.equal((await api.deliveryPipelines.delete({ name, allowMissing: true })).data.done, true);
  const t = (await api.targets.get({ name: `${LOC}/targets/t-d` })).data;
  assert.equal((await googleError(api.targets.delete({ name: t.name!, etag: 'ffffffffffffffff' }))).status, 'ABORTED');
  await done((await api.targets.delete({ name: t.name!, etag: t.etag! })).data);
});

test('operations: list, get, wait, cancel (a done op stays done), delete', async () => {
  const ops = (await api.operations.list({ name: LOC, pageSize: 2 })).data;
  assert.equal(ops.operations!.length, 2);
  assert.ok(ops.nextPageToken);
  const doneOnly = (await api.operations.list({ name: LOC, filter: 'done=true' })).data;
  assert.ok(doneOnly.operations!.every(o => o.done));
  const name = ops.operations![0].name!;
  const res = await fetch(`${g.url}/v1/${name}:wait`, { method: 'POST', body: '{"timeout":"1s"}', headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 200);
  assert.equal(((await res.json()) as { done: boolean }).done, true);
  await api.operations.cancel({ name, requestBody: {} });
  assert.equal((await api.operations.get({ name })).data.error, undefined);
  await api.operations.delete({ name });
  assert.equal((await googleError(api.operations.get({ name }))).status, 'NOT_FOUND');
});

test('locations and config', async () => {
  const locs = (await cd.projects.locations.list({ name: 'projects/my-proj' })).data;
  assert.ok(locs.locations!.some(l => l.locationId === 'us-central1'));
  assert.equal((await cd.projects.locations.get({ name: LOC })).data.locationId, 'us-central1');
  const config = (await api.getConfig({ name: `${LOC}/config` })).data;
  assert.equal(config.defaultSkaffoldVersion, '2.16');
  assert.ok(config.supportedVersions!.some(v => v.version === '2.16'));
});

test('IAM policies are stored and returned', async () => {
  const resource = `${LOC}/targets/dev`;
  const p0 = (await api.targets.getIamPolicy({ resource })).data;
  const p1 = (await api.targets.setIamPolicy({ resource, requestBody: { policy: { bindings: [{ role: 'roles/clouddeploy.releaser', members: ['user:a@example.com'] }], etag: p0.etag } } })).data;
  assert.equal(p1.bindings![0].role, 'roles/clouddeploy.releaser');
  assert.equal((await googleError(api.targets.setIamPolicy({ resource, requestBody: { policy: { etag: p0.etag } } }))).status, 'ABORTED');
  const perms = (await api.targets.testIamPermissions({ resource, requestBody: { permissions: ['clouddeploy.targets.get'] } })).data;
  assert.deepEqual(perms.permissions, ['clouddeploy.targets.get']);
});
