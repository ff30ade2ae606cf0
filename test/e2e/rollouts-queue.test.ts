// The per-target queue in virtual time, through googleapis: one rollout deploys to a target at a time,
// across pipelines and multi-target children; the queue drains when a canary waits for :advance, when a
// pipeline is force-deleted, and failed rollouts do not resume beside a deploying one.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import { DeployKit } from '../helpers/deploy.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/queue/locations/us-central1';
const CANARY = { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50] } } };
let g: Gantry;
const k = new DeployKit();
type Rollout = clouddeploy_v1.Schema$Rollout;

/** Moves virtual time; answers once the controllers have settled. */
async function advance(duration: string): Promise<void> {
  const r = await fetch(`${g.url}/gantry/v1/clock:advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration }) });
  assert.equal(r.status, 200);
}
async function pipeline(id: string, stages: clouddeploy_v1.Schema$Stage[]) {
  await k.opDone(k.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: id, requestBody: { serialPipeline: { stages } } }));
}
/** A rendered release of `pipe` and a rollout of it to `targetId`; returns the rollout's name. */
async function rollout(pipe: string, id: string, targetId: string, annotations?: Record<string, string>): Promise<string> {
  const parent = `${LOC}/deliveryPipelines/${pipe}`;
  await k.opDone(k.api.deliveryPipelines.releases.create({ parent, releaseId: id, requestBody: { annotations } }));
  await advance('1s');
  await k.opDone(k.rollouts.create({ parent: `${parent}/releases/${id}`, rolloutId: id, requestBody: { targetId } }));
  await advance('0s');
  return `${parent}/releases/${id}/rollouts/${id}`;
}
const get = (name: string) => k.rollout(name);

/** A canary pipeline's first rollout to a target: the canary is skipped, stable waits for :advance, then deploys. */
async function firstDeployment(pipe: string, id: string, targetId: string): Promise<string> {
  const name = await rollout(pipe, id, targetId);
  await advance('30s');
  assert.deepEqual((await get(name)).phases!.map(p => p.state), ['SKIPPED', 'PENDING']);
  await k.rollouts.advance({ name, requestBody: { phaseId: 'stable' } });
  await advance('30s');
  assert.equal((await get(name)).state, 'SUCCEEDED');
  return name;
}
const states = async (...names: string[]) => Promise.all(names.map(async n => (await get(n)).state));

before(async () => {
  g = await startTestGantry({ clock: 'virtual', renderMs: 1000, jobMs: 10_000 });
  k.attach(g.url);
  for (const id of ['shared', 'gone', 'solo', 'east']) {
    await k.opDone(k.api.targets.create({ parent: LOC, targetId: id, requestBody: { run: { location: LOC } } }));
  }
  await k.opDone(k.api.targets.create({ parent: LOC, targetId: 'fleet', requestBody: { multiTarget: { targetIds: ['east'] } } }));
  await pipeline('can', [{ targetId: 'shared', strategy: CANARY }, { targetId: 'east', strategy: CANARY }]);
  await pipeline('std', [{ targetId: 'shared' }, { targetId: 'gone' }]);
  await pipeline('doomed', [{ targetId: 'gone' }]);
  await pipeline('solo', [{ targetId: 'solo' }]);
  await pipeline('multi', [{ targetId: 'fleet' }]);
});
after(() => g.close());

test('rollouts queued behind a canary start when it waits for :advance: the first queued halts it, the next follows', async () => {
  await firstDeployment('can', 'c1', 'shared');
  const canary = await rollout('can', 'c2', 'shared');
  assert.equal((await get(canary)).phases![0].state, 'IN_PROGRESS');
  // Queued while the canary deploys, by another pipeline.
  const queued = await rollout('std', 's1', 'shared');
  assert.equal((await get(queued)).state, 'PENDING');
  await advance('10s');
  // The canary's first phase is done; it now waits for :advance and gives way.
  const halted = await get(canary);
  assert.equal(halted.state, 'HALTED');
  assert.match(halted.failureReason!, new RegExp(`rollout ${queued} started deploying`));
  assert.equal((await get(queued)).state, 'IN_PROGRESS');
  const next = await rollout('std', 's2', 'shared');
  assert.equal((await get(next)).state, 'PENDING');
  await advance('30s');
  assert.deepEqual(await states(queued, next), ['SUCCEEDED', 'SUCCEEDED']);
  assert.ok((await get(next)).deployStartTime! >= (await get(queued)).deployEndTime!);
});

test('a multi-target child queued behind an idle canary on its child target starts, and its controller completes', async () => {
  await firstDeployment('can', 'e1', 'east');
  const canary = await rollout('can', 'e2', 'east');
  const controller = await rollout('multi', 'm1', 'fleet');
  const child = `${LOC}/deliveryPipelines/multi/releases/m1/rollouts/m1-east`;
  assert.deepEqual(await states(controller, child), ['IN_PROGRESS', 'PENDING']);
  await advance('10s');
  assert.deepEqual(await states(canary, child), ['HALTED', 'IN_PROGRESS']);
  await advance('30s');
  assert.deepEqual(await states(controller, child), ['SUCCEEDED', 'SUCCEEDED']);
});

test('force-deleting a pipeline with a deploying rollout starts what other pipelines queued on its targets', async () => {
  const doomed = await rollout('doomed', 'd1', 'gone');
  assert.equal((await get(doomed)).state, 'IN_PROGRESS');
  const waiting = await rollout('std', 'w1', 'gone');
  assert.equal((await get(waiting)).state, 'PENDING');
  await k.opDone(k.api.deliveryPipelines.delete({ name: `${LOC}/deliveryPipelines/doomed`, force: true }));
  await advance('0s');
  assert.equal((await get(waiting)).state, 'IN_PROGRESS');
  await advance('30s');
  assert.equal((await get(waiting)).state, 'SUCCEEDED');
});

test('retryJob and ignoreJob refuse to resume a failed rollout while another one is active on its target', async () => {
  const failed = await rollout('solo', 'f1', 'solo', { 'gantry.dev/outcomes': 'stable/deploy=fail@1' });
  await advance('10s');
  const before = await get(failed);
  assert.equal(before.state, 'FAILED');
  const busy = await rollout('solo', 'b1', 'solo');
  assert.equal((await get(busy)).state, 'IN_PROGRESS');
  const job = { phaseId: 'stable', jobId: 'deploy' };
  for (const e of [
    await googleError(k.rollouts.retryJob({ rollout: failed, requestBody: job })),
    await googleError(k.rollouts.ignoreJob({ rollout: failed, requestBody: job })),
  ]) {
    assert.equal(e.status, 'FAILED_PRECONDITION');
    assert.match(e.message, new RegExp(`rollout ${busy} is deploying to target "solo"`));
  }
  const unchanged: Rollout = await get(failed);
  assert.equal(unchanged.etag, before.etag);
  await advance('10s');
  assert.equal((await get(busy)).state, 'SUCCEEDED');
  await k.rollouts.retryJob({ rollout: failed, requestBody: job });
  assert.equal((await get(failed)).state, 'IN_PROGRESS');
  await advance('10s');
  assert.equal((await get(failed)).state, 'SUCCEEDED');
});
