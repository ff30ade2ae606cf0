// Multi-target rollouts: a controller rollout creates one child rollout per child target and
// advances them phase by phase; children fail, retry and cancel as ordinary rollouts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import { DeployKit } from '../helpers/deploy.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/multi/locations/us-central1';
const PIPE = `${LOC}/deliveryPipelines/fleet`;
let g: Gantry;
let api: clouddeploy_v1.Resource$Projects$Locations;
type Rollout = clouddeploy_v1.Schema$Rollout;

const k = new DeployKit();
const opDone = k.opDone.bind(k);
const ro = () => k.rollouts;
const get = k.rollout.bind(k);
const until = (name: string, pred: (r: Rollout) => boolean) => k.until(name, pred, 8000);
async function release(id: string, annotations?: Record<string, string>) {
  await opDone(api.deliveryPipelines.releases.create({ parent: PIPE, releaseId: id, requestBody: { annotations } }));
  return `${PIPE}/releases/${id}`;
}
async function rollout(rel: string, id: string) {
  await opDone(ro().create({ parent: rel, rolloutId: id, requestBody: { targetId: 'all' } }));
  return `${rel}/rollouts/${id}`;
}

before(async () => {
  g = await startTestGantry();
  api = k.attach(g.url).api;
  for (const id of ['east', 'west']) await opDone(api.targets.create({ parent: LOC, targetId: id, requestBody: { run: { location: LOC } } }));
  await opDone(api.targets.create({ parent: LOC, targetId: 'all', requestBody: { requireApproval: true, multiTarget: { targetIds: ['east', 'west'] } } }));
  await opDone(api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'fleet', requestBody: { serialPipeline: { stages: [
    { targetId: 'all', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50], verify: true } } } },
  ] } } }));
});
after(() => g.close());

test('first deployment: approval on the multi-target, advanced past the skipped canary, children created in stable, all succeed', async () => {
  const rel = await release('m1');
  const name = await rollout(rel, 'm1-all');
  await until(name, r => r.state === 'PENDING_APPROVAL');
  await ro().approve({ name, requestBody: { approved: true } });
  // The canary skipped on a first deployment, stable waits for :advance (as Google's canary quickstart shows).
  const waiting = await until(name, x => x.state === 'IN_PROGRESS');
  assert.deepEqual(waiting.phases!.map(p => [p.id, p.state]), [['canary-50', 'SKIPPED'], ['stable', 'PENDING']]);
  await ro().advance({ name, requestBody: { phaseId: 'stable' } });
  const r = await until(name, x => x.state === 'SUCCEEDED');
  assert.deepEqual(r.phases!.map(p => [p.id, p.state]), [['canary-50', 'SKIPPED'], ['stable', 'SUCCEEDED']]);
  const create = r.phases![1].childRolloutJobs!.createRolloutJobs!;
  assert.deepEqual(create.map(j => [j.id, j.state]), [['create-rollout-east', 'SUCCEEDED'], ['create-rollout-west', 'SUCCEEDED']]);
  const run = (await ro().jobRuns.get({ name: create[0].jobRun! })).data;
  assert.equal(run.createChildRolloutJobRun!.rollout, `${rel}/rollouts/m1-all-east`);
  assert.equal(run.createChildRolloutJobRun!.rolloutPhaseId, 'stable');
  const child = await get(`${rel}/rollouts/m1-all-east`);
  assert.equal(child.state, 'SUCCEEDED');
  assert.equal(child.targetId, 'east');
  assert.equal(child.controllerRollout, name);
  assert.equal(child.approvalState, 'DOES_NOT_NEED_APPROVAL');
  assert.deepEqual(child.phases!.map(p => p.state), ['SKIPPED', 'SUCCEEDED']);
  assert.equal(child.phases![1].deploymentJobs!.verifyJob!.state, 'SUCCEEDED');
  const children = (await ro().list({ parent: rel, filter: `controllerRollout="${name}"` })).data.rollouts!;
  assert.deepEqual(children.map(c => c.targetId).sort(), ['east', 'west']);
});

test('canary: children created in canary-50, then advanced together with :advance', async () => {
  const rel = await release('m2');
  const name = await rollout(rel, 'm2-all');
  await until(name, r => r.state === 'PENDING_APPROVAL');
  await ro().approve({ name, requestBody: { approved: true } });
  let r = await until(name, x => x.phases![0].state === 'SUCCEEDED');
  assert.equal(r.state, 'IN_PROGRESS');
  assert.equal(r.phases![1].state, 'PENDING');
  const east = await get(`${rel}/rollouts/m2-all-east`);
  assert.deepEqual(east.phases!.map(p => p.state), ['SUCCEEDED', 'PENDING']);
  await ro().advance({ name, requestBody: { phaseId: 'stable' } });
  r = await until(name, x => x.state === 'SUCCEEDED');
  assert.deepEqual(r.phases![1].childRolloutJobs!.advanceRolloutJobs!.map(j => [j.id, j.state]), [['advance-rollout-east', 'SUCCEEDED'], ['advance-rollout-west', 'SUCCEEDED']]);
  assert.equal((await get(`${rel}/rollouts/m2-all-west`)).state, 'SUCCEEDED');
});

test('a failing child fails its job and the controller; retrying the child and then the job recovers', async () => {
  const rel = await release('m3', { 'gantry.dev/outcomes': 'canary-50/verify=fail@1' });
  const name = await rollout(rel, 'm3-all');
  await until(name, r => r.state === 'PENDING_APPROVAL');
  await ro().approve({ name, requestBody: { approved: true } });
  const failed = await until(name, x => x.state === 'FAILED');
  assert.equal(failed.deployFailureCause, 'EXECUTION_FAILED');
  const childJobRun = failed.phases![0].childRolloutJobs!.createRolloutJobs![0].jobRun!;
  assert.equal((await googleError(ro().jobRuns.terminate({ name: childJobRun, requestBody: {} }))).status, 'FAILED_PRECONDITION');
  for (const c of ['east', 'west']) {
    const child = `${rel}/rollouts/m3-all-${c}`;
    await until(child, x => x.state === 'FAILED');
    await ro().retryJob({ rollout: child, requestBody: { phaseId: 'canary-50', jobId: 'verify' } });
    await until(child, x => x.phases![0].state === 'SUCCEEDED');
  }
  for (const c of ['east', 'west']) await ro().retryJob({ rollout: name, requestBody: { phaseId: 'canary-50', jobId: `create-rollout-${c}` } });
  const r = await until(name, x => x.phases![0].state === 'SUCCEEDED');
  assert.equal(r.state, 'IN_PROGRESS');
});

test('cancelling the controller cancels its children', async () => {
  const rel = await release('m4', { 'gantry.dev/outcomes': '*/deploy=succeed~30s' });
  const name = await rollout(rel, 'm4-all');
  await until(name, r => r.state === 'PENDING_APPROVAL');
  // m3's controller still holds the multi-target (it waits for :advance): the new one halts it.
  await ro().approve({ name, requestBody: { approved: true } });
  await until(`${rel}/rollouts/m4-all-east`, x => x.state === 'IN_PROGRESS');
  await ro().cancel({ name, requestBody: {} });
  const r = await until(name, x => x.state === 'CANCELLED');
  assert.ok(r.phases!.flatMap(p => p.childRolloutJobs?.createRolloutJobs ?? []).every(j => j.state === 'ABORTED'));
  for (const c of ['east', 'west']) assert.equal((await until(`${rel}/rollouts/m4-all-${c}`, x => x.state === 'CANCELLED')).state, 'CANCELLED');
});

test('ignoring the failed child jobs lets the controller\'s phase complete', async () => {
  const rel = await release('m5', { 'gantry.dev/outcomes': 'canary-50/deploy=fail@1' });
  const name = await rollout(rel, 'm5-all');
  await until(name, r => r.state === 'PENDING_APPROVAL');
  await ro().approve({ name, requestBody: { approved: true } });
  await until(name, x => x.state === 'FAILED');
  // Both children failed: ignoring one job leaves the other failed, so the controller fails again.
  await ro().ignoreJob({ rollout: name, requestBody: { phaseId: 'canary-50', jobId: 'create-rollout-east' } });
  await until(name, x => x.state === 'FAILED');
  await ro().ignoreJob({ rollout: name, requestBody: { phaseId: 'canary-50', jobId: 'create-rollout-west' } });
  const r = await until(name, x => x.phases![0].state === 'SUCCEEDED');
  assert.equal(r.state, 'IN_PROGRESS'); // waiting for :advance to stable
  assert.deepEqual(r.phases![0].childRolloutJobs!.createRolloutJobs!.map(j => j.state), ['IGNORED', 'IGNORED']);
});
