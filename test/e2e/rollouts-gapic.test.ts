// Rollout flows and precondition errors through @google-cloud/deploy on its default transport (gRPC).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gapicDeploy } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';
import type { CloudDeployClient, protos } from '@google-cloud/deploy';

type Rollout = protos.google.cloud.deploy.v1.IRollout;
const LOC = 'projects/gapic-ro/locations/us-east1';
const PIPE = `${LOC}/deliveryPipelines/svc`;
let g: Gantry;
let c: CloudDeployClient;

const get = async (name: string) => (await c.getRollout({ name }))[0];
const until = (name: string, pred: (r: Rollout) => boolean) => eventually(async () => { const r = await get(name); return pred(r) ? r : undefined; });
const code = (n: number) => (e: { code: number }) => e.code === n;

before(async () => {
  g = await startTestGantry();
  c = gapicDeploy(g.url);
  for (const [id, approval] of [['stage', false], ['live', true]] as const) {
    await (await c.createTarget({ parent: LOC, targetId: id, target: { requireApproval: approval, run: { location: LOC } } }))[0].promise();
  }
  await (await c.createDeliveryPipeline({ parent: LOC, deliveryPipelineId: 'svc', deliveryPipeline: { serialPipeline: { stages: [
    { targetId: 'stage', strategy: { standard: { verify: true } } },
    { targetId: 'live', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50] } } } },
  ] } } }))[0].promise();
});
after(async () => { await c.close(); await g.close(); });

async function release(id: string, annotations: Record<string, string> = {}) {
  const [rel] = await (await c.createRelease({ parent: PIPE, releaseId: id, release: { annotations } }))[0].promise();
  return rel.name!;
}

test('create a rollout (LRO), approve it, advance the canary; enums decode to names', async () => {
  await until(await createRollout(await release('v1'), 'v1-stage', 'stage'), r => r.state === 'SUCCEEDED');
  const first = await createRollout(await release('v2'), 'v2-live', 'live');
  await until(first, r => r.state === 'PENDING_APPROVAL');
  await c.approveRollout({ name: first, approved: true });
  // A first deployment skips the canary; stable waits for an advance.
  await until(first, r => r.state === 'IN_PROGRESS' && r.phases?.[1]?.state === 'PENDING');
  await c.advanceRollout({ name: first, phaseId: 'stable' });
  await until(first, r => r.state === 'SUCCEEDED');
  const second = await createRollout(await release('v3'), 'v3-live', 'live');
  await until(second, r => r.state === 'PENDING_APPROVAL');
  await c.approveRollout({ name: second, approved: true });
  const waiting = await until(second, r => r.phases?.[0]?.state === 'SUCCEEDED');
  assert.equal(waiting.state, 'IN_PROGRESS');
  assert.equal(waiting.approvalState, 'APPROVED');
  await assert.rejects(c.advanceRollout({ name: second, phaseId: 'canary-50' }), code(9)); // FAILED_PRECONDITION: 9 over gRPC (gax's REST mode makes 400 into 3)
  await c.advanceRollout({ name: second, phaseId: 'stable' });
  const done = await until(second, r => r.state === 'SUCCEEDED');
  assert.deepEqual(done.phases!.map(p => p.state), ['SUCCEEDED', 'SUCCEEDED']);
});

test('retryJob, ignoreJob, terminateJobRun, cancelRollout and listJobRuns', async () => {
  const rel = await release('v4', { 'gantry.dev/outcomes': 'stable/verify=fail@1' });
  const name = await createRollout(rel, 'v4-stage', 'stage');
  await until(name, r => r.state === 'FAILED');
  await c.retryJob({ rollout: name, phaseId: 'stable', jobId: 'verify' });
  await until(name, r => r.state === 'SUCCEEDED');
  const [runs] = await c.listJobRuns({ parent: name });
  assert.deepEqual(runs.map(j => `${j.jobId}:${j.state}`), ['deploy:SUCCEEDED', 'verify:FAILED', 'verify:SUCCEEDED']);
  const slow = await createRollout(await release('v5', { 'gantry.dev/outcomes': 'stable/deploy=succeed~60s@1; stable/verify=fail' }), 'v5-stage', 'stage');
  const running = await until(slow, r => r.phases?.[0]?.deploymentJobs?.deployJob?.state === 'IN_PROGRESS');
  await c.terminateJobRun({ name: running.phases![0].deploymentJobs!.deployJob!.jobRun! });
  await until(slow, r => r.state === 'FAILED');
  await assert.rejects(c.ignoreJob({ rollout: slow, phaseId: 'stable', jobId: 'verify' }), code(9));
  await c.ignoreJob({ rollout: slow, phaseId: 'stable', jobId: 'deploy' });
  await until(slow, r => r.state === 'FAILED' && r.phases![0].deploymentJobs!.verifyJob!.state === 'FAILED');
  await c.ignoreJob({ rollout: slow, phaseId: 'stable', jobId: 'verify' });
  await until(slow, r => r.state === 'SUCCEEDED');
  const cancelled = await createRollout(await release('v6', { 'gantry.dev/outcomes': 'stable/deploy=succeed~60s' }), 'v6-stage', 'stage');
  await until(cancelled, r => r.state === 'IN_PROGRESS');
  await c.cancelRollout({ name: cancelled });
  await until(cancelled, r => r.state === 'CANCELLED');
  await assert.rejects(c.cancelRollout({ name: cancelled }), code(9));
  await assert.rejects(c.getRollout({ name: `${PIPE}/releases/v6/rollouts/none` }), code(5));
  await assert.rejects(c.retryJob({ rollout: cancelled, phaseId: 'stable', jobId: 'nope' }), code(3));
});

test('rollbackTarget returns the rollback rollout, which deploys the previous release', async () => {
  for (const id of ['v7', 'v8']) await until(await createRollout(await release(id), `${id}-stage`, 'stage'), r => r.state === 'SUCCEEDED');
  const [res] = await c.rollbackTarget({ name: PIPE, targetId: 'stage', rolloutId: 'undo' });
  const name = res.rollbackConfig!.rollout!.name!;
  assert.equal(res.rollbackConfig!.startingPhaseId, 'stable');
  assert.equal(name, `${PIPE}/releases/v7/rollouts/undo`);
  const back = await until(name, r => r.state === 'SUCCEEDED');
  assert.ok(back.rollbackOfRollout);
  await assert.rejects(c.rollbackTarget({ name: PIPE, targetId: 'nowhere', rolloutId: 'x' }), code(9));
});

async function createRollout(parent: string, rolloutId: string, targetId: string): Promise<string> {
  const [op] = await c.createRollout({ parent, rolloutId, rollout: { targetId } });
  const [r] = await op.promise();
  return r.name!;
}
