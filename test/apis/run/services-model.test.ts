// Cloud Run services in the store, without HTTP: revisions per template change, the readiness hook's verdicts
// (ready, pending then settled, failed), what the status derives from them, and the serving plan the serving layer
// reads.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../../src/store/sqlite.js';
import { VirtualClock } from '../../../src/engine/clock.js';
import { Projects } from '../../../src/google/projects.js';
import { RunServices } from '../../../src/apis/run/services.js';
import { READY_AT_ONCE, type Readiness, type RevisionReadiness } from '../../../src/apis/run/revisions.js';
import { servingPlan } from '../../../src/apis/run/serving-plan.js';
import { ApiError } from '../../../src/google/errors.js';

type Obj = Record<string, any>;
const S = { project: 'model-proj', region: 'us-central1', asNamed: 'model-proj' };

function setup(readiness: RevisionReadiness = READY_AT_ONCE, maxRevisions?: number) {
  const store = new SqliteStore(':memory:');
  const projects = new Projects(store);
  // Loosely typed answers: the test reads the stored v1 objects' fields directly.
  const services = new RunServices({ store, clock: new VirtualClock(0), projects, readiness, maxRevisions }) as unknown as {
    [K in 'create' | 'replace' | 'get' | 'revision']: (...a: any[]) => Obj } & { revisions(...a: any[]): Obj[]; settleRevision(...a: any[]): void };
  return { services, number: projects.number(S.project) };
}

const svc = (name: string, image: string, extra: Obj = {}): Obj => ({
  apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name },
  spec: { template: { spec: { containers: [{ image }] } }, ...extra },
});
const ready = (o: Obj, type = 'Ready') => o.status.conditions.find((c: Obj) => c.type === type);

test('each template change makes a numbered revision; a traffic-only change makes none; the plan follows the split', () => {
  const { services, number } = setup();
  const one = services.create(S, svc('web', 'img:1'), false);
  const r1 = one.status.latestCreatedRevisionName as string;
  assert.match(r1, /^web-00001-[a-z0-9]{3}$/);
  assert.equal(ready(one).status, 'True');
  assert.deepEqual(one.status.traffic, [{ revisionName: r1, percent: 100, latestRevision: true }]);
  const two = services.replace(S, 'web', svc('web', 'img:2'), false);
  const r2 = two.status.latestCreatedRevisionName as string;
  assert.match(r2, /^web-00002-[a-z0-9]{3}$/);
  assert.equal(two.status.latestReadyRevisionName, r2);
  const split = services.replace(S, 'web', svc('web', 'img:2', { traffic: [{ revisionName: r1, percent: 25 }, { revisionName: r2, percent: 75, tag: 'blue' }] }), false);
  assert.equal(split.status.latestCreatedRevisionName, r2, 'no new revision for a traffic change');
  assert.equal(services.revisions(S, 'web').length, 2);
  const plan = servingPlan(split);
  assert.deepEqual(plan.hosts[0], `web-${number}.us-central1.run.app`);
  assert.match(plan.hosts[1], /^web-[a-z0-9]{10}-uc\.a\.run\.app$/);
  assert.deepEqual(plan.split, [{ revision: r1, percent: 25 }, { revision: r2, percent: 75 }]);
  assert.deepEqual(plan.tags, { blue: r2 });
  assert.deepEqual(plan.tagHosts, { [`blue---web-${number}.us-central1.run.app`]: r2 });
  assert.equal(plan.project, 'model-proj');
});

test('a pending revision leaves the service reconciling on the old one until settled; a failed one never takes traffic', () => {
  let verdict: Readiness = { state: 'ready' };
  const { services } = setup({ assess: () => verdict });
  const r1 = services.create(S, svc('api', 'img:1'), false).status.latestCreatedRevisionName as string;
  verdict = { state: 'pending' };
  const pending = services.replace(S, 'api', svc('api', 'img:2'), false);
  const r2 = pending.status.latestCreatedRevisionName as string;
  assert.equal(ready(pending).status, 'Unknown');
  assert.equal(pending.status.latestReadyRevisionName, r1);
  assert.deepEqual(servingPlan(pending).split, [{ revision: r1, percent: 100 }], 'the old revision serves meanwhile');
  services.settleRevision(`projects/${S.project}/locations/${S.region}/revisions/${r2}`, { state: 'ready' });
  const settled = services.get(S, 'api');
  assert.equal(ready(settled).status, 'True');
  assert.deepEqual(servingPlan(settled).split, [{ revision: r2, percent: 100 }]);

  verdict = { state: 'failed', reason: 'HealthCheckContainerError', message: 'The user-provided container failed to start and listen on the port defined provided by the PORT=8080 environment variable.' };
  const failed = services.replace(S, 'api', svc('api', 'img:3'), false);
  const r3 = failed.status.latestCreatedRevisionName as string;
  assert.equal(ready(failed).status, 'False');
  assert.equal(ready(failed, 'ConfigurationsReady').reason, 'RevisionFailed');
  assert.match(ready(failed).message, new RegExp(`Revision '${r3}' is not ready and cannot serve traffic\\. The user-provided container failed to start`));
  assert.deepEqual(servingPlan(failed).split, [{ revision: r2, percent: 100 }], 'the last ready revision keeps serving');
  assert.equal(ready(services.revision(S, r3)).status, 'False');
  assert.throws(() => (services as unknown as RunServices).deleteRevision(S, r3, false), (e: ApiError) => e.code === 'FAILED_PRECONDITION' && /is the latest revision of service 'api'/.test(e.message));
  (services as unknown as RunServices).deleteRevision(S, r1, false);
  assert.deepEqual(services.revisions(S, 'api').map(r => r.metadata.name), [r2, r3]);
});

test('a template naming its revision makes that name; reusing it for a different template is refused', () => {
  const { services } = setup();
  const named = (image: string) => ({ ...svc('named', image), spec: { template: { metadata: { name: 'named-v1' }, spec: { containers: [{ image }] } } } });
  assert.equal(services.create(S, named('img:1'), false).status.latestCreatedRevisionName, 'named-v1');
  assert.throws(() => services.replace(S, 'named', named('img:2'), false), (e: ApiError) => e.code === 'ALREADY_EXISTS' && /Revision named 'named-v1' with different configuration already exists/.test(e.message));
});

test('revisions are bounded per service: past the bound the oldest that serve nothing go, a tagged one stays', () => {
  const { services } = setup(READY_AT_ONCE, 3);
  const first = services.create(S, svc('many', 'img:0'), false).status.latestCreatedRevisionName as string;
  services.replace(S, 'many', svc('many', 'img:1', { traffic: [{ latestRevision: true, percent: 100 }, { revisionName: first, percent: 0, tag: 'pinned' }] }), false);
  for (let i = 2; i < 6; i++) services.replace(S, 'many', svc('many', `img:${i}`, { traffic: [{ latestRevision: true, percent: 100 }, { revisionName: first, percent: 0, tag: 'pinned' }] }), false);
  const names = services.revisions(S, 'many').map(r => r.metadata.name as string);
  assert.equal(names.length, 3);
  assert.equal(names[0], first, 'the tagged revision is kept');
  assert.deepEqual(names.slice(1).map(n => n.slice(0, 10)), ['many-00005', 'many-00006']);
});
