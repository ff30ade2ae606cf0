// Cloud Deploy through @google-cloud/deploy on its default transport (gRPC on Gantry's one port): LRO promises
// polled through the Operations mixin, paging iterators, repeated enums, and errors with their real gRPC codes and
// details. The same client in REST mode (fallback) too: numeric enums ($alt=json;enum-encoding=int), codes as gax
// maps them from HTTP statuses.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gapicDeploy } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';
import type { CloudDeployClient, protos } from '@google-cloud/deploy';
import { uploadSource } from '../helpers/source.js';

const LOC = 'projects/gapic-proj/locations/europe-west1';
let g: Gantry;
let client: CloudDeployClient;
let rest: CloudDeployClient;

before(async () => {
  g = await startTestGantry();
  client = gapicDeploy(g.url);
  rest = gapicDeploy(g.url, 'rest');
});
after(async () => { await client.close(); await rest.close(); await g.close(); });

type GaxError = { code: number; message: string; statusDetails?: { constructor: { name: string } }[]; errorInfo?: { reason: string } };

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

test('errors carry their real gRPC codes, messages and typed details', async () => {
  const fails = async (p: Promise<unknown>, code: number, re: RegExp) => {
    const e = await p.then(() => assert.fail('expected an error'), (x: GaxError) => x);
    assert.equal(e.code, code, e.message);
    assert.match(e.message, re);
    return e;
  };
  const nf = await fails(client.getDeliveryPipeline({ name: `${LOC}/deliveryPipelines/none` }), 5, /NOT_FOUND: .*deliveryPipelines\/none/);
  assert.ok(nf.statusDetails?.length, 'grpc-status-details-bin decoded into statusDetails');
  const bad = await fails(client.createTarget({ parent: LOC, targetId: 'Bad_Id', target: {} }), 3, /INVALID_ARGUMENT/);
  assert.ok(bad.statusDetails?.some(d => d.constructor.name === 'BadRequest'), 'a BadRequest detail');
  await fails(client.createTarget({ parent: LOC, targetId: 'prod', target: { run: { location: LOC } } }), 6, /ALREADY_EXISTS/);
  await fails(client.deleteDeliveryPipeline({ name: `${LOC}/deliveryPipelines/shop` }), 9, /FAILED_PRECONDITION/);
  await fails(client.getDeliveryPipeline({ name: 'projects/p/deliveryPipelines/x' }), 3, /name/);
});

test('REST mode (fallback): the same calls, enums as numbers on the wire, codes mapped by gax from HTTP statuses', async () => {
  const [p] = await rest.getDeliveryPipeline({ name: `${LOC}/deliveryPipelines/shop` });
  assert.equal(p.serialPipeline!.stages!.length, 2);
  assert.equal(p.condition?.pipelineReadyCondition?.status, true);
  await assert.rejects(rest.createTarget({ parent: LOC, targetId: 'prod', target: { run: { location: LOC } } }), (e: GaxError) => e.code === 10);
  await assert.rejects(rest.deleteDeliveryPipeline({ name: `${LOC}/deliveryPipelines/shop` }), (e: GaxError) => e.code === 3);
});

test('a repeated enum (executionConfigs[].usages) works over gRPC, where the REST fallback fails inside the client', async () => {
  const target = { run: { location: LOC }, executionConfigs: [{ usages: ['RENDER', 'DEPLOY'], defaultPool: {} }, { usages: ['VERIFY'], defaultPool: {} }] } as unknown as protos.google.cloud.deploy.v1.ITarget;
  const [op] = await client.createTarget({ parent: LOC, targetId: 'enums', target });
  const [created] = await op.promise();
  // gax decodes an LRO's Any response with enums as numbers, a unary answer with their names.
  assert.deepEqual(created.executionConfigs!.map((c: protos.google.cloud.deploy.v1.IExecutionConfig) => c.usages), [[1, 2], [3]]);
  const [t] = await client.getTarget({ name: created.name! });
  assert.deepEqual(t.executionConfigs!.map((c: protos.google.cloud.deploy.v1.IExecutionConfig) => c.usages), [['RENDER', 'DEPLOY'], ['VERIFY']]);
  await assert.rejects((async () => { const [o] = await rest.createTarget({ parent: LOC, targetId: 'enums-rest', target }); await o.promise(); })());
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
