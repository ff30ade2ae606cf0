// Malformed and invalid requests of every kind answer 4xx with a google.rpc.Status, never 5xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { startTestGantry } from '../helpers/server.js';
import { Logging } from '@google-cloud/logging';
import { Storage } from '@google-cloud/storage';
import { gapicDeploy, gapicOptions, googleapisRun, googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/p/locations/us-central1';
let g: Gantry;
before(async () => { g = await startTestGantry(); });
after(() => g.close());

interface Status { error: { code: number; status: string; message: string; details?: { '@type': string; fieldViolations?: { field: string }[] }[] } }

async function call(method: string, path: string, body?: string, headers: Record<string, string> = {}): Promise<{ status: number; json: Status }> {
  const res = await fetch(g.url + path, { method, body, headers: { 'content-type': 'application/json', ...headers } });
  return { status: res.status, json: (await res.json()) as Status };
}

async function expectError(method: string, path: string, body: string | undefined, status: number, code: string, match?: RegExp, field?: string) {
  const r = await call(method, path, body);
  assert.equal(r.status, status, `${method} ${path} ${body}: ${JSON.stringify(r.json)}`);
  assert.equal(r.json.error.code, status);
  assert.equal(r.json.error.status, code);
  if (match) assert.match(r.json.error.message, match);
  if (field !== undefined) {
    const fv = r.json.error.details?.find(d => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest');
    assert.ok(fv?.fieldViolations?.some(v => v.field === field), JSON.stringify(r.json));
  }
}

test('malformed JSON bodies', async () => {
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '{"run": ', 400, 'INVALID_ARGUMENT', /Invalid JSON payload/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '[1,2]', 400, 'INVALID_ARGUMENT', /TYPE_MESSAGE/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '"str"', 400, 'INVALID_ARGUMENT');
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, `{"labels":${'['.repeat(100_000)}${']'.repeat(100_000)}}`, 400, 'INVALID_ARGUMENT', /Nesting/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, `{"labels":${'['.repeat(50)}${']'.repeat(50)}}`, 400, 'INVALID_ARGUMENT', /TYPE_MESSAGE/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, `{"description":"${'x'.repeat(5000)}`, 400, 'INVALID_ARGUMENT', /Invalid JSON payload/);
  await expectError('GET', `/v1/${LOC}/targets?filter=%ZZ`, undefined, 400, 'INVALID_ARGUMENT');
  await expectError('POST', `/v1/${LOC}/targets?targetId=a&targetId=b`, '{}', 400, 'INVALID_ARGUMENT', /Repeated/);
});

test('unknown fields, wrong types and bad enum values name the field', async () => {
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '{"bogus": 1}', 400, 'INVALID_ARGUMENT', /Unknown name "bogus" at 'target'/, 'target');
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '{"run": {"nope": 1}}', 400, 'INVALID_ARGUMENT', /Unknown name "nope" at 'target.run'/, 'target.run');
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '{"requireApproval": "yes"}', 400, 'INVALID_ARGUMENT', /target.require_approval.*TYPE_BOOL/, 'target.require_approval');
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '{"description": 5}', 400, 'INVALID_ARGUMENT', /TYPE_STRING/, 'target.description');
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '{"labels": {"a": 1}}', 400, 'INVALID_ARGUMENT', /TYPE_STRING/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=t`, '{"executionConfigs": [{"usages": ["NOPE"]}]}', 400, 'INVALID_ARGUMENT', /google.cloud.deploy.v1.ExecutionConfig/);
  await expectError('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, '{"serialPipeline": {"stages": [{"targetId": "a", "strategy": {"canary": {"canaryDeployment": {"percentages": ["x"]}}}}]}}', 400, 'INVALID_ARGUMENT', /TYPE_INT32/);
  await expectError('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, '{"serialPipeline": {"stages": "a"}}', 400, 'INVALID_ARGUMENT', /repeated/);
});

test('output-only fields are ignored, snake_case names accepted, enum numbers accepted', async () => {
  const r = await call('POST', `/v1/${LOC}/targets?targetId=oo`, JSON.stringify({ uid: 'mine', createTime: '2000-01-01T00:00:00Z', target_id: 'other', require_approval: true, run: { location: LOC }, executionConfigs: [{ usages: [1, 'DEPLOY'] }] }));
  assert.equal(r.status, 200, JSON.stringify(r.json));
  const t = (await (await fetch(`${g.url}/v1/${LOC}/targets/oo`)).json()) as Record<string, unknown>;
  assert.notEqual(t.uid, 'mine');
  assert.equal(t.targetId, 'oo');
  assert.equal(t.requireApproval, true);
  assert.deepEqual((t.executionConfigs as { usages: string[] }[])[0].usages, ['RENDER', 'DEPLOY']);
  const ints = (await (await fetch(`${g.url}/v1/${LOC}/targets/oo?$alt=json;enum-encoding=int`)).json()) as Record<string, unknown>;
  assert.deepEqual((ints.executionConfigs as { usages: number[] }[])[0].usages, [1, 2]);
});

test('ids, names and semantic limits', async () => {
  await expectError('POST', `/v1/${LOC}/targets`, '{}', 400, 'INVALID_ARGUMENT', /target_id is required/, 'target_id');
  for (const id of ['Upper', '1abc', 'trailing-', 'a'.repeat(64), 'under_score']) {
    await expectError('POST', `/v1/${LOC}/targets?targetId=${id}`, '{}', 400, 'INVALID_ARGUMENT', /target_id/, 'target_id');
  }
  await expectError('POST', `/v1/${LOC}/targets?targetId=lbl`, JSON.stringify({ labels: { Bad: 'x' } }), 400, 'INVALID_ARGUMENT', /Label key/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=lbl`, JSON.stringify({ labels: Object.fromEntries(Array.from({ length: 65 }, (_, i) => [`k${i}`, 'v'])) }), 400, 'INVALID_ARGUMENT', /64 labels/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=lbl`, JSON.stringify({ description: 'd'.repeat(256) }), 400, 'INVALID_ARGUMENT', /255/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=two`, JSON.stringify({ run: { location: LOC }, gke: { cluster: 'projects/p/locations/l/clusters/c' } }), 400, 'INVALID_ARGUMENT', /only one deployment target/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=ec`, JSON.stringify({ executionConfigs: [{ usages: ['RENDER'] }] }), 400, 'INVALID_ARGUMENT', /RENDER and DEPLOY/);
  await expectError('POST', `/v1/${LOC}/targets?targetId=ec`, JSON.stringify({ executionConfigs: [{ usages: ['RENDER', 'DEPLOY'], executionTimeout: '5s' }] }), 400, 'INVALID_ARGUMENT', /execution_timeout/);
  await expectError('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, JSON.stringify({ serialPipeline: { stages: [{ targetId: 'a', strategy: { canary: { canaryDeployment: { percentages: [50, 25] } } } }] } }), 400, 'INVALID_ARGUMENT', /ascending/);
  await expectError('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, JSON.stringify({ serialPipeline: { stages: [{ targetId: 'a' }, { targetId: 'a' }] } }), 400, 'INVALID_ARGUMENT', /more than one stage/);
  await expectError('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, JSON.stringify({ serialPipeline: { stages: [{ targetId: 'a', strategy: { standard: { verify: true, verifyConfig: {} } } }] } }), 400, 'INVALID_ARGUMENT', /mutually exclusive/);
});

test('unknown routes, methods, query parameters and bad query values', async () => {
  await expectError('GET', '/v1/nothing/here', undefined, 404, 'NOT_FOUND');
  await expectError('GET', '/', undefined, 404, 'NOT_FOUND');
  await expectError('PUT', `/v1/${LOC}/targets/x`, '{}', 404, 'NOT_FOUND');
  await expectError('POST', `/v1/${LOC}/deliveryPipelines/p/releases/r:explode`, '{}', 404, 'NOT_FOUND');
  await expectError('GET', `/v1/${LOC}/targets?bogus=1`, undefined, 400, 'INVALID_ARGUMENT', /Cannot bind query parameter/, 'bogus');
  await expectError('GET', `/v1/${LOC}/targets?pageSize=abc`, undefined, 400, 'INVALID_ARGUMENT', /page_size/);
  await expectError('GET', `/v1/${LOC}/targets?pageSize=-1`, undefined, 400, 'INVALID_ARGUMENT');
  await expectError('GET', `/v1/${LOC}/targets?pageToken=garbage`, undefined, 400, 'INVALID_ARGUMENT', /page token/);
  await expectError('GET', `/v1/${LOC}/targets?orderBy=nosuch`, undefined, 400, 'INVALID_ARGUMENT', /order_by/);
  await expectError('DELETE', `/v1/${LOC}/targets/x?allowMissing=perhaps`, undefined, 400, 'INVALID_ARGUMENT', /allow_missing/);
  await expectError('GET', `/v1/${LOC}/targets/missing`, undefined, 404, 'NOT_FOUND', /was not found/);
  await expectError('GET', `/v1/${LOC}/operations/operation-1-2-3-4`, undefined, 404, 'NOT_FOUND');
  await expectError('POST', `/v1/${LOC}/operations/operation-1:wait`, '{"timeout": "soon"}', 400, 'INVALID_ARGUMENT');
});

test('U+0000 and halves of surrogate pairs are refused in bodies, query parameters and gRPC messages, naming where', async () => {
  const run = googleapisRun(g.url, 'v2');
  const refused = await googleError(run.projects.locations.services.create({ parent: LOC, serviceId: 'nul', requestBody: { description: 'a\u0000b', template: { containers: [{ image: 'gcr.io/p/i' }] } } }));
  assert.equal(refused.status, 'INVALID_ARGUMENT');
  assert.match(refused.message, /Invalid string at 'description'/);
  const half = await googleError(run.projects.locations.services.create({ parent: LOC, serviceId: 'half', requestBody: { annotations: { k: '\ud800' }, template: { containers: [{ image: 'gcr.io/p/i' }] } } }));
  assert.match(half.message, /Invalid string at 'annotations\.k'/);
  // The same text as six characters (an escaped backslash) is text like any other.
  const literal = (await run.projects.locations.services.create({ parent: LOC, serviceId: 'literal', requestBody: { description: '\\u0000', template: { containers: [{ image: 'gcr.io/p/i' }] } } })).data;
  assert.equal(literal.done !== undefined || literal.name !== undefined, true);
  const listed = await googleError(run.projects.locations.services.list({ parent: LOC, pageToken: 'x\u0000' }));
  assert.equal(listed.status, 'INVALID_ARGUMENT');
  await expectError('GET', `/v1/${LOC}/deliveryPipelines?filter=${encodeURIComponent('name="a\u0000"')}`, undefined, 400, 'INVALID_ARGUMENT', /Invalid string at 'filter'/);
  await expectError('POST', '/v2/entries:list', '{"resourceNames":["projects/p\\u0000"]}', 400, 'INVALID_ARGUMENT', /resourceNames\[0\]/);
  // Cloud Storage's uploads: an object's name and its metadata's keys and values.
  const gcs = new Storage({ apiEndpoint: g.url, projectId: 'p', useAuthWithCustomEndpoint: false });
  const [bucket] = await gcs.createBucket('nul-bucket');
  await assert.rejects(bucket.file('a\u0000b').save('x', { resumable: false }), (e: { code: number }) => e.code === 400);
  await assert.rejects(bucket.file('ok.txt').save('x', { resumable: false, metadata: { metadata: { ['k\u0000']: 'v' } } }), (e: { code: number; message: string }) => e.code === 400 && /Invalid string/.test(e.message));
  await bucket.file('ok.txt').save('x', { resumable: false, metadata: { metadata: { k: 'v' } } });
  const sm = new SecretManagerServiceClient(gapicOptions(g.url) as ConstructorParameters<typeof SecretManagerServiceClient>[0]);
  try {
    await assert.rejects(sm.createSecret({ parent: 'projects/p', secretId: 'nul', secret: { replication: { automatic: {} }, labels: { k: 'v\u0000' } } }),
      (e: { code: number; details: string }) => e.code === 3 && /Invalid string at 'labels\.k'/.test(e.details));
  } finally {
    await sm.close();
  }
});

test('Durations are checked where they are written, over REST and gRPC: a malformed or negative one had broken every gRPC read', async () => {
  const mesh = (wait: unknown) => ({ serialPipeline: { stages: [{ targetId: 'gke', strategy: { canary: { canaryDeployment: { percentages: [50] }, runtimeConfig: { kubernetes: { gatewayServiceMesh: { httpRoute: 'r', service: 's', deployment: 'd', routeUpdateWaitTime: wait } } } } } }] } });
  for (const wait of ['bogus', '1h', '-5s', '-0s', '10801s']) {
    await expectError('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=mesh`, JSON.stringify(mesh(wait)), 400, 'INVALID_ARGUMENT', /route_update_wait_time/);
  }
  assert.equal((await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=mesh`, JSON.stringify(mesh('600s')))).status, 200);
  const deploy = gapicDeploy(g.url);
  try {
    await assert.rejects(deploy.createDeliveryPipeline({ parent: LOC, deliveryPipelineId: 'mesh-grpc', deliveryPipeline: mesh({ seconds: -5 }) as never }),
      (e: { code: number; details: string }) => e.code === 3 && /route_update_wait_time/.test(e.details));
  } finally {
    await deploy.close();
  }
  const entry = (latency: unknown) => JSON.stringify({ entries: [{ logName: 'projects/p/logs/req', resource: { type: 'global' }, httpRequest: { requestMethod: 'GET', latency } }] });
  for (const latency of ['bogus', '-5s', '-0s', '-0.000s']) await expectError('POST', '/v2/entries:write', entry(latency), 400, 'INVALID_ARGUMENT', /http_request\.latency/);
  assert.equal((await call('POST', '/v2/entries:write', entry('0.25s'))).status, 200);
  const logging = new Logging({ projectId: 'p', ...gapicOptions(g.url) });
  await assert.rejects(logging.log('req').write(logging.entry({ resource: { type: 'global' }, httpRequest: { requestMethod: 'GET', latency: { seconds: -5 } } }, 'x')),
    (e: { code: number }) => e.code === 3);
  const [entries] = await logging.getEntries({ filter: 'logName="projects/p/logs/req"', autoPaginate: false });
  assert.equal(entries.length, 1);
});

test('a large pile of random garbage never yields a 5xx', async () => {
  const paths = [`/v1/${LOC}/targets?targetId=g`, `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=g`, `/v1/${LOC}/customTargetTypes?customTargetTypeId=g`, `/v1/${LOC}/deliveryPipelines/g/releases?releaseId=g`];
  const values = [null, 0, -1, 1.5, '', 'x', true, [], [null], {}, { a: { b: [1, { c: 'd' }] } }, 'A'.repeat(1000)];
  const keys = ['name', 'labels', 'annotations', 'serialPipeline', 'run', 'gke', 'multiTarget', 'executionConfigs', 'customActions', 'tasks', 'deployParameters', 'buildArtifacts', 'skaffoldVersion', 'suspended'];
  let n = 0;
  for (const path of paths) for (const k of keys) for (const v of values) {
    const r = await fetch(g.url + path, { method: 'POST', body: JSON.stringify({ [k]: v }), headers: { 'content-type': 'application/json' } });
    assert.ok(r.status < 500, `${path} ${k}=${JSON.stringify(v)} gave ${r.status}: ${await r.text()}`);
    n++;
  }
  assert.ok(n > 500);
});

test('access tokens: required when configured', async () => {
  const secured = await startTestGantry({ authToken: 's3cret' });
  try {
    const anon = await fetch(`${secured.url}/v1/${LOC}/targets`);
    assert.equal(anon.status, 401);
    assert.equal(((await anon.json()) as Status).error.status, 'UNAUTHENTICATED');
    const ok = await fetch(`${secured.url}/v1/${LOC}/targets`, { headers: { authorization: 'Bearer s3cret' } });
    assert.equal(ok.status, 200);
  } finally {
    await secured.close();
  }
});

test('Service Usage batchEnable: 1 to 20 service ids, else INVALID_ARGUMENT', async () => {
  const path = '/v1/projects/my-proj/services:batchEnable';
  const ok = await call('POST', path, JSON.stringify({ serviceIds: ['clouddeploy.googleapis.com', 'container.googleapis.com'] }));
  assert.equal(ok.status, 200);
  await expectError('POST', path, '{}', 400, 'INVALID_ARGUMENT', /serviceIds/, 'service_ids');
  await expectError('POST', path, JSON.stringify({ serviceIds: [7] }), 400, 'INVALID_ARGUMENT', /serviceIds/);
  await expectError('POST', path, JSON.stringify({ serviceIds: ['../x'] }), 400, 'INVALID_ARGUMENT', /serviceIds/);
  await expectError('POST', path, JSON.stringify({ serviceIds: Array.from({ length: 21 }, (_, i) => `s${i}.googleapis.com`) }), 400, 'INVALID_ARGUMENT', /At most 20/);
  await expectError('POST', '/v1/projects/BAD!/services:batchEnable', JSON.stringify({ serviceIds: ['a.googleapis.com'] }), 400, 'INVALID_ARGUMENT');
});
