// Cloud Deploy through @google-cloud/deploy in REST mode: numeric enums ($alt=json;enum-encoding=int),
// LRO promises polled through the Operations mixin, and error codes as gax maps them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gapicDeploy } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';
import type { CloudDeployClient } from '@google-cloud/deploy';
import { uploadSource } from '../helpers/source.js';

const LOC = 'projects/gapic-proj/locations/europe-west1';
let g: Gantry;
let client: CloudDeployClient;

before(async () => {
  g = await startTestGantry();
  client = gapicDeploy(g.url);
});
after(async () => { await client.close(); await g.close(); });

test('create targets and a pipeline, waiting on the LRO promise', async () => {
  for (const id of ['qa', 'prod']) {
    const [op] = await client.createTarget({ parent: LOC, targetId: id, target: { requireApproval: id === 'prod', run: { location: LOC } } });
    const [target] = await op.promise();
    assert.equal(target.name, `${LOC}/targets/${id}`);
    assert.equal(target.requireApproval, id === 'prod');
  }
  const [op] = await client.createDeliveryPipeline({
    parent: LOC, deliveryPipelineId: 'shop',
    deliveryPipeline: { description: 'shop', serialPipeline: { stages: [{ targetId: 'qa' }, { targetId: 'prod', strategy: { canary: { customCanaryDeployment: { phaseConfigs: [{ phaseId: 'first', percentage: 10 }, { phaseId: 'stable', percentage: 100, verify: true }] } } } }] } },
  });
  const [p] = await op.promise();
  assert.equal(p.description, 'shop');
  assert.equal(p.condition?.pipelineReadyCondition?.status, true);
});

test('get and list with filters and ordering', async () => {
  const [p] = await client.getDeliveryPipeline({ name: `${LOC}/deliveryPipelines/shop` });
  assert.equal(p.serialPipeline!.stages!.length, 2);
  const [targets] = await client.listTargets({ parent: LOC, filter: 'requireApproval = true' }, { autoPaginate: true });
  assert.deepEqual(targets.map(t => t.targetId), ['prod']);
  const [ordered] = await client.listTargets({ parent: LOC, orderBy: 'targetId desc' });
  assert.deepEqual(ordered.map(t => t.targetId), ['qa', 'prod']);
  const all: string[] = [];
  for await (const t of client.listTargetsAsync({ parent: LOC, pageSize: 1 })) all.push(t.targetId!);
  assert.deepEqual(all, ['qa', 'prod']);
});

test('update with a field mask and delete', async () => {
  const [op] = await client.updateTarget({ target: { name: `${LOC}/targets/qa`, description: 'quality' }, updateMask: { paths: ['description'] } });
  const [t] = await op.promise();
  assert.equal(t.description, 'quality');
  const [del] = await client.deleteTarget({ name: `${LOC}/targets/qa`, allowMissing: true });
  await del.promise();
  await assert.rejects(client.getTarget({ name: `${LOC}/targets/qa` }), (e: { code: number }) => e.code === 5);
  const [again] = await client.createTarget({ parent: LOC, targetId: 'qa', target: { run: { location: LOC } } });
  await again.promise();
});

test('releases render to SUCCEEDED; enums arrive as numbers and decode to names', async () => {
  const [op] = await client.createRelease({ parent: `${LOC}/deliveryPipelines/shop`, releaseId: 'v1', release: { skaffoldConfigUri: await uploadSource(g.url, 'gs://src-bucket/s.tgz') } });
  const [created] = await op.promise();
  assert.equal(created.name, `${LOC}/deliveryPipelines/shop/releases/v1`);
  const r = await eventually(async () => {
    const [rel] = await client.getRelease({ name: created.name! });
    return rel.renderState === 'SUCCEEDED' ? rel : undefined;
  });
  assert.equal(r.targetRenders!.prod.renderingState, 'SUCCEEDED');
  assert.deepEqual(Object.keys(r.targetArtifacts!.prod.phaseArtifacts!).sort(), ['first', 'stable']);
  const raw = (await (await fetch(`${g.url}/v1/${created.name}?$alt=json;enum-encoding=int`)).json()) as { renderState: number };
  assert.equal(raw.renderState, 1);
  const [releases] = await client.listReleases({ parent: `${LOC}/deliveryPipelines/shop`, filter: 'renderState="SUCCEEDED"' });
  assert.equal(releases.length, 1);
});

test('errors map to gax codes by HTTP status', async () => {
  await assert.rejects(client.getDeliveryPipeline({ name: `${LOC}/deliveryPipelines/none` }), (e: { code: number }) => e.code === 5);
  await assert.rejects(client.createTarget({ parent: LOC, targetId: 'Bad_Id', target: {} }), (e: { code: number }) => e.code === 3);
  await assert.rejects(client.createTarget({ parent: LOC, targetId: 'prod', target: { run: { location: LOC } } }), (e: { code: number }) => e.code === 10 || e.code === 6);
  await assert.rejects(client.deleteDeliveryPipeline({ name: `${LOC}/deliveryPipelines/shop` }), (e: { code: number; message: string }) => e.code === 3 || e.code === 9);
});

test('config and locations through the mixins', async () => {
  const [config] = await client.getConfig({ name: `${LOC}/config` });
  assert.equal(config.defaultSkaffoldVersion, '2.16');
  const ids: string[] = [];
  for await (const l of client.listLocationsAsync({ name: 'projects/gapic-proj' })) ids.push(l.locationId!);
  assert.ok(ids.includes('europe-west1'));
  // gax's typings say ILocation, but the mixin resolves to [ILocation, …] like every other call.
  const got: unknown = await client.getLocation({ name: LOC });
  const location = (Array.isArray(got) ? got[0] : got) as { locationId?: string };
  assert.equal(location.locationId, 'europe-west1');
});
