// Cloud Run services through @google-cloud/run's ServicesClient and RevisionsClient over gRPC (their default
// transport, through Gantry's transcoding front): the same service googleapis v1 made, read and changed (a new
// revision, a traffic split with a tag), revisions listed and deleted, LRO promises, errors with gRPC codes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { RevisionsClient, ServicesClient } from '@google-cloud/run';
import { startTestGantry } from '../helpers/server.js';
import { gapicOptions, googleapisRun } from '../helpers/clients.js';
import type { run_v1 } from 'googleapis';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let v1: run_v1.Run;
let services: ServicesClient;
let revisions: RevisionsClient;
const NS = 'namespaces/grpc-proj';
const LOC = 'projects/grpc-proj/locations/us-central1';

before(async () => {
  g = await startTestGantry({ logLevel: 'silent' });
  v1 = googleapisRun(g.url, 'v1');
  const opts = gapicOptions(g.url) as ConstructorParameters<typeof ServicesClient>[0];
  services = new ServicesClient(opts);
  revisions = new RevisionsClient(opts);
});
after(async () => { await services.close(); await revisions.close(); await g.close(); });

test('ServicesClient reads the v1 service, updates it through an LRO, splits traffic with a tag; v1 sees it all', async () => {
  await v1.namespaces.services.create({ parent: NS, requestBody: { apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: 'shop' }, spec: { template: { spec: { containers: [{ image: 'img:1' }] } } } } });
  const [svc] = await services.getService({ name: `${LOC}/services/shop` });
  const r1 = svc.latestReadyRevision!.split('/').pop()!;
  assert.equal(svc.terminalCondition?.state, 'CONDITION_SUCCEEDED');
  assert.equal(svc.urls?.length, 2);
  const [op] = await services.updateService({ service: { ...svc, template: { ...svc.template, containers: [{ image: 'img:2', env: [{ name: 'MODE', value: 'new' }] }] } } });
  const [updated] = await op.promise();
  const r2 = updated.latestCreatedRevision!.split('/').pop()!;
  assert.match(r2, /^shop-00002-/);
  const [op2] = await services.updateService({ updateMask: { paths: ['traffic'] }, service: { name: svc.name, traffic: [
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r1, percent: 40, tag: 'old' },
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r2, percent: 60 },
  ] } });
  const [split] = await op2.promise();
  assert.deepEqual(split.trafficStatuses?.map(t => [t.revision, t.percent, t.tag || undefined]), [[r1, 40, 'old'], [r2, 60, undefined]]);
  const knative = (await v1.namespaces.services.get({ name: `${NS}/services/shop` })).data;
  assert.deepEqual(knative.status!.traffic!.map(t => [t.revisionName, t.percent]), [[r1, 40], [r2, 60]]);
  assert.deepEqual(knative.spec!.template!.spec!.containers![0].env, [{ name: 'MODE', value: 'new' }]);
});

test('RevisionsClient lists and gets revisions; deleting one that serves is FAILED_PRECONDITION; errors carry gRPC codes', async () => {
  const [list] = await revisions.listRevisions({ parent: `${LOC}/services/shop` });
  assert.equal(list.length, 2);
  const [rev] = await revisions.getRevision({ name: list[1].name! });
  assert.equal(rev.service, `${LOC}/services/shop`);
  assert.equal(rev.containers?.[0].image, 'img:1');
  await assert.rejects(revisions.deleteRevision({ name: list[1].name! }), (e: { code?: number }) => e.code === 9);
  await assert.rejects(services.getService({ name: `${LOC}/services/none` }), (e: { code?: number }) => e.code === 5);
  await assert.rejects(services.createService({ parent: LOC, serviceId: 'Bad', service: { template: { containers: [{ image: 'i' }] } } }), (e: { code?: number }) => e.code === 3);
  const [created] = await services.createService({ parent: LOC, serviceId: 'made-by-grpc', service: { template: { containers: [{ image: 'i' }] } } });
  const [made] = await created.promise();
  assert.match(made.uri!, /^https:\/\/made-by-grpc-[a-z0-9]{10}-uc\.a\.run\.app$/);
  const [del] = await services.deleteService({ name: made.name! });
  await del.promise();
  const [after] = await services.listServices({ parent: LOC });
  assert.deepEqual(after.map(s => s.name!.split('/').pop()), ['shop']);
});
