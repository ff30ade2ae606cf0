// Cloud Run services through googleapis v1 (Knative) and v2: one service seen and changed through both, revisions per
// template change, traffic with tags, Knative and v2 status fields, LROs, resourceVersion and etag conflicts, derived
// routes and configurations, and revisions that serve refusing deletion.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { googleapisRun, googleError } from '../helpers/clients.js';
import type { run_v1, run_v2 } from 'googleapis';
import type { Gantry } from '../../src/gantry.js';
import { projectNumber } from '../../src/google/project-number.js';

let g: Gantry;
let v1: run_v1.Run;
let v2: run_v2.Run;
const NS = 'namespaces/svc-proj';
const LOC = 'projects/svc-proj/locations/us-central1';
const NUM = projectNumber('svc-proj');

before(async () => {
  g = await startTestGantry({ logLevel: 'silent' });
  v1 = googleapisRun(g.url, 'v1');
  v2 = googleapisRun(g.url, 'v2');
});
after(async () => { await g.close(); });

const knative = (name: string, image: string, extra: Record<string, unknown> = {}): run_v1.Schema$Service => ({
  apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name },
  spec: { template: { spec: { containers: [{ image, env: [{ name: 'GREETING', value: 'hi' }] }] } }, ...extra },
});
const cond = (s: { status?: { conditions?: { type?: string | null; status?: string | null }[] } | null }, type: string) => s.status?.conditions?.find(c => c.type === type)?.status;

test('v1 create makes revision 1 at 100%, Ready with Knative conditions and both URL forms; v2 reads the same service', async () => {
  const svc = (await v1.namespaces.services.create({ parent: NS, requestBody: knative('web', 'us-docker.pkg.dev/cloudrun/container/hello') })).data;
  assert.equal(svc.metadata!.namespace, NUM);
  const r1 = svc.status!.latestCreatedRevisionName!;
  assert.match(r1, /^web-00001-[a-z0-9]{3}$/);
  for (const t of ['Ready', 'ConfigurationsReady', 'RoutesReady']) assert.equal(cond(svc, t), 'True', t);
  assert.deepEqual(svc.status!.traffic, [{ revisionName: r1, percent: 100, latestRevision: true }]);
  assert.match(svc.status!.url!, /^https:\/\/web-[a-z0-9]{10}-uc\.a\.run\.app$/);
  assert.equal(svc.status!.address!.url, svc.status!.url);
  assert.deepEqual(JSON.parse(svc.metadata!.annotations!['run.googleapis.com/urls']), [`https://web-${NUM}.us-central1.run.app`, svc.status!.url]);
  assert.deepEqual(svc.spec!.template!.spec!.containers![0].ports, [{ name: 'http1', containerPort: 8080 }]);

  const s2 = (await v2.projects.locations.services.get({ name: `${LOC}/services/web` })).data;
  assert.equal(s2.uid, svc.metadata!.uid);
  assert.equal(s2.latestReadyRevision, `${LOC}/services/web/revisions/${r1}`);
  assert.equal(s2.latestCreatedRevision, s2.latestReadyRevision);
  assert.equal(s2.terminalCondition!.state, 'CONDITION_SUCCEEDED');
  assert.equal(s2.reconciling, false);
  assert.equal(s2.uri, svc.status!.url);
  assert.deepEqual(s2.urls, [`https://web-${NUM}.us-central1.run.app`, svc.status!.url]);
  assert.deepEqual(s2.traffic, [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 100 }]);
  assert.deepEqual(s2.template!.containers![0].env, [{ name: 'GREETING', value: 'hi' }]);
  assert.match(s2.etag!, /^".+"$/);
});

test('v2 patch with an update mask makes revision 2 (LRO done); a traffic-only patch makes none; tags get URLs', async () => {
  const before = (await v2.projects.locations.services.get({ name: `${LOC}/services/web` })).data;
  const op = (await v2.projects.locations.services.patch({ name: `${LOC}/services/web`, updateMask: 'template',
    requestBody: { template: { containers: [{ image: 'us-docker.pkg.dev/cloudrun/container/hello:v2' }] } } })).data;
  assert.equal(op.done, true);
  const after = op.response as run_v2.Schema$GoogleCloudRunV2Service;
  const r1 = before.latestCreatedRevision!.split('/').pop()!;
  const r2 = after.latestCreatedRevision!.split('/').pop()!;
  assert.match(r2, /^web-00002-/);
  assert.equal(after.generation, String(Number(before.generation) + 1));
  const split = (await v2.projects.locations.services.patch({ name: `${LOC}/services/web`, updateMask: 'traffic', requestBody: { traffic: [
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r1, percent: 25 },
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r2, percent: 75, tag: 'green' },
  ] } })).data.response as run_v2.Schema$GoogleCloudRunV2Service;
  assert.equal(split.latestCreatedRevision, after.latestCreatedRevision, 'no revision for a traffic change');
  assert.deepEqual(split.trafficStatuses, [
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r1, percent: 25 },
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r2, percent: 75, tag: 'green', uri: `https://green---web-${NUM}.us-central1.run.app` },
  ]);
  const revs = (await v2.projects.locations.services.revisions.list({ parent: `${LOC}/services/web` })).data.revisions!;
  assert.deepEqual(revs.map(r => r.name!.split('/').pop()), [r2, r1], 'newest first');
  const listed = (await v1.namespaces.revisions.list({ parent: NS, labelSelector: 'serving.knative.dev/service=web' })).data.items!;
  assert.deepEqual(listed.map(r => r.metadata!.name), [r2, r1]);
  assert.equal(cond(listed[0], 'Active'), 'True');
  // Routes and configurations are what Knative derives.
  const route = (await v1.namespaces.routes.get({ name: `${NS}/routes/web` })).data;
  assert.equal(route.status!.traffic!.length, 2);
  const config = (await v1.namespaces.configurations.list({ parent: NS })).data.items!;
  assert.equal(config[0].status!.latestReadyRevisionName, r2);
});

test('serving revisions refuse deletion; v1 replace with a stale resourceVersion and v2 with a stale etag are 409', async () => {
  const svc = (await v1.namespaces.services.get({ name: `${NS}/services/web` })).data;
  const [r1] = svc.status!.traffic!.map(t => t.revisionName!);
  const err = await googleError(v1.namespaces.revisions.delete({ name: `${NS}/revisions/${r1}` }));
  assert.equal(err.code, 400);
  assert.match(err.message, /cannot be deleted because it is serving traffic/);
  const stale = { ...svc, metadata: { ...svc.metadata, resourceVersion: 'AAAAAAAAAAE' } };
  assert.equal((await googleError(v1.namespaces.services.replaceService({ name: `${NS}/services/web`, requestBody: stale }))).code, 409);
  assert.equal((await googleError(v2.projects.locations.services.patch({ name: `${LOC}/services/web`, requestBody: { etag: '"stale"', template: { containers: [{ image: 'x' }] } } }))).code, 409);
  // All traffic back to the latest: the older revision no longer serves and can go.
  const replaced = (await v1.namespaces.services.replaceService({ name: `${NS}/services/web`, requestBody: { ...svc, spec: { ...svc.spec, traffic: [{ latestRevision: true, percent: 100 }] } } })).data;
  assert.equal(replaced.metadata!.generation, svc.metadata!.generation! + 1);
  await v1.namespaces.revisions.delete({ name: `${NS}/revisions/${r1}` });
  assert.equal((await googleError(v1.namespaces.revisions.get({ name: `${NS}/revisions/${r1}` }))).code, 404);
});

test('v1 list pages with limit and continue and filters by label selector; v2 delete is an LRO and removes revisions', async () => {
  for (const n of ['list-a', 'list-b', 'list-c']) await v1.namespaces.services.create({ parent: NS, requestBody: { ...knative(n, 'img'), metadata: { name: n, labels: { team: n === 'list-b' ? 'b' : 'a' } } } });
  const page1 = (await v1.namespaces.services.list({ parent: NS, limit: 2 })).data;
  assert.equal(page1.items!.length, 2);
  const page2 = (await v1.namespaces.services.list({ parent: NS, limit: 2, continue: page1.metadata!.continue! })).data;
  assert.ok(page2.items!.length >= 1);
  assert.deepEqual((await v1.namespaces.services.list({ parent: NS, labelSelector: 'team=b' })).data.items!.map(s => s.metadata!.name), ['list-b']);
  const op = (await v2.projects.locations.services.delete({ name: `${LOC}/services/list-b` })).data;
  assert.equal(op.done, true);
  assert.equal((await googleError(v2.projects.locations.services.get({ name: `${LOC}/services/list-b` }))).code, 404);
  assert.equal((await v1.namespaces.revisions.list({ parent: NS, labelSelector: 'serving.knative.dev/service=list-b' })).data.items!.length, 0);
});

test('v2 create through serviceId answers an LRO; allowMissing patch creates', async () => {
  const op = (await v2.projects.locations.services.create({ parent: LOC, serviceId: 'api', requestBody: { template: { containers: [{ image: 'img', ports: [{ containerPort: 9000 }] }] } } })).data;
  assert.equal(op.done, true);
  assert.equal((op.response as run_v2.Schema$GoogleCloudRunV2Service).template!.containers![0].ports![0].containerPort, 9000);
  const made = (await v2.projects.locations.services.patch({ name: `${LOC}/services/api-2`, allowMissing: true, requestBody: { template: { containers: [{ image: 'img' }] } } })).data;
  assert.match((made.response as run_v2.Schema$GoogleCloudRunV2Service).latestReadyRevision!, /revisions\/api-2-00001-/);
  const knativeView = (await v1.namespaces.services.get({ name: `${NS}/services/api-2` })).data;
  assert.equal(cond(knativeView, 'Ready'), 'True');
  const all = (await v2.projects.locations.services.list({ parent: 'projects/svc-proj/locations/-' })).data.services!;
  assert.ok(all.some(x => x.name === `${LOC}/services/api-2`), 'listed under locations/-, named in its region');
  const revs = (await v2.projects.locations.services.revisions.list({ parent: `${LOC}/services/-` })).data.revisions!;
  assert.ok(revs.some(r => r.service === `${LOC}/services/api`) && revs.some(r => r.service === `${LOC}/services/api-2`));
});

test('v1 projects.locations form: the same services, revisions, routes and configurations; locations/- lists every region', async () => {
  const made = (await v1.projects.locations.services.create({ parent: LOC, requestBody: knative('proj-form', 'img:1') })).data;
  assert.equal(made.metadata!.namespace, NUM);
  const read = (await v1.projects.locations.services.get({ name: `${LOC}/services/proj-form` })).data;
  await v1.projects.locations.services.replaceService({ name: `${LOC}/services/proj-form`, requestBody: { ...read, spec: { ...read.spec, template: { spec: { containers: [{ image: 'img:2' }] } } } } });
  const revs = (await v1.projects.locations.revisions.list({ parent: LOC, labelSelector: 'serving.knative.dev/service=proj-form' })).data.items!;
  assert.deepEqual(revs.map(r => r.metadata!.name!.slice(0, 15)), ['proj-form-00002', 'proj-form-00001']);
  assert.equal((await v1.projects.locations.revisions.get({ name: `${LOC}/revisions/${revs[1].metadata!.name}` })).data.spec!.containers![0].image, 'img:1');
  assert.equal((await v1.projects.locations.routes.get({ name: `${LOC}/routes/proj-form` })).data.status!.traffic![0].revisionName, revs[0].metadata!.name);
  const all = (await v1.projects.locations.services.list({ parent: 'projects/svc-proj/locations/-' })).data.items!;
  assert.ok(all.some(s => s.metadata!.name === 'proj-form') && all.some(s => s.metadata!.name === 'web'));
  const configs = (await v1.projects.locations.configurations.list({ parent: LOC })).data.items!;
  assert.ok(configs.some(c => c.metadata!.name === 'proj-form' && c.status!.latestReadyRevisionName === revs[0].metadata!.name));
  await v1.projects.locations.services.delete({ name: `${LOC}/services/proj-form` });
  assert.equal((await googleError(v1.namespaces.services.get({ name: `${NS}/services/proj-form` }))).code, 404);
});
