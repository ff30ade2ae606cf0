// Every verb in every rollout state: a rollout is built in each reachable state, and each verb that
// the state does not allow must answer FAILED_PRECONDITION and leave the rollout untouched.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import { DeployKit } from '../helpers/deploy.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/matrix/locations/us-central1';
const PIPE = `${LOC}/deliveryPipelines/m`;
let g: Gantry;
const k = new DeployKit();
const states = new Map<string, string>();

async function rollout(id: string, target: string, annotations?: Record<string, string>) {
  await k.opDone(k.api.deliveryPipelines.releases.create({ parent: PIPE, releaseId: id, requestBody: { annotations } }));
  await k.opDone(k.rollouts.create({ parent: `${PIPE}/releases/${id}`, rolloutId: id, requestBody: { targetId: target } }));
  return `${PIPE}/releases/${id}/rollouts/${id}`;
}

before(async () => {
  g = await startTestGantry();
  k.attach(g.url);
  for (const [id, approval] of [['gated', true], ['busy', false], ['canary', false], ['plain', false]] as const) {
    await k.opDone(k.api.targets.create({ parent: LOC, targetId: id, requestBody: { requireApproval: approval, run: { location: LOC } } }));
  }
  await k.opDone(k.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'm', requestBody: { serialPipeline: { stages: [
    { targetId: 'gated' }, { targetId: 'busy' }, { targetId: 'plain', strategy: { standard: { verify: true } } },
    { targetId: 'canary', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50] } } } },
  ] } } }));
  const slow = { 'gantry.dev/outcomes': '*/deploy=succeed~60s' };
  const pendingApproval = await rollout('pa', 'gated');
  states.set('PENDING_APPROVAL', await k.until(pendingApproval, r => r.state === 'PENDING_APPROVAL').then(r => r.name!));
  const rejected = await rollout('rj', 'gated');
  await k.until(rejected, r => r.state === 'PENDING_APPROVAL');
  await k.rollouts.approve({ name: rejected, requestBody: { approved: false } });
  states.set('APPROVAL_REJECTED', rejected);
  const running = await rollout('run', 'busy', slow);
  states.set('IN_PROGRESS (job running)', await k.until(running, r => r.phases?.[0]?.deploymentJobs?.deployJob?.state === 'IN_PROGRESS').then(r => r.name!));
  const queued = await rollout('queued', 'busy');
  states.set('PENDING', await k.until(queued, r => r.state === 'PENDING').then(r => r.name!));
  states.set('SUCCEEDED', await k.until(await rollout('ok', 'plain'), r => r.state === 'SUCCEEDED').then(r => r.name!));
  states.set('FAILED', await k.until(await rollout('bad', 'plain', { 'gantry.dev/outcomes': 'stable/verify=fail' }), r => r.state === 'FAILED').then(r => r.name!));
  const cancelled = await rollout('cx', 'plain', slow);
  await k.until(cancelled, r => r.state === 'IN_PROGRESS');
  await k.rollouts.cancel({ name: cancelled, requestBody: {} });
  states.set('CANCELLED', await k.until(cancelled, r => r.state === 'CANCELLED').then(r => r.name!));
  // The first deployment skips the canary; its stable phase waits for :advance.
  const first = await rollout('c1', 'canary');
  await k.until(first, r => r.state === 'IN_PROGRESS' && r.phases?.[1]?.state === 'PENDING');
  await k.rollouts.advance({ name: first, requestBody: { phaseId: 'stable' } });
  await k.until(first, r => r.state === 'SUCCEEDED');
  const parked = await rollout('c2', 'canary');
  states.set('IN_PROGRESS (awaiting advance)', await k.until(parked, r => r.phases?.[0]?.state === 'SUCCEEDED').then(r => r.name!));
  const halter = await rollout('c3', 'canary');
  await k.until(parked, r => r.state === 'HALTED');
  states.set('HALTED', parked);
  states.set('IN_PROGRESS (awaiting advance)', await k.until(halter, r => r.phases?.[0]?.state === 'SUCCEEDED').then(r => r.name!));
});
after(() => g.close());

type Verb = (name: string) => Promise<unknown>;
const VERBS: Record<string, Verb> = {
  approve: name => k.rollouts.approve({ name, requestBody: { approved: true } }),
  reject: name => k.rollouts.approve({ name, requestBody: { approved: false } }),
  advance: name => k.rollouts.advance({ name, requestBody: { phaseId: 'stable' } }),
  cancel: name => k.rollouts.cancel({ name, requestBody: {} }),
  retryJob: name => k.rollouts.retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'deploy' } }),
  ignoreJob: name => k.rollouts.ignoreJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'deploy' } }),
};

// What each state allows; every other verb must be refused.
const ALLOWED: Record<string, string[]> = {
  PENDING_APPROVAL: ['approve', 'reject', 'cancel'],
  PENDING: ['cancel'],
  'IN_PROGRESS (job running)': ['cancel'],
  'IN_PROGRESS (awaiting advance)': ['advance', 'cancel'],
  SUCCEEDED: [],
  FAILED: [], // its failed job is verify: retrying or ignoring the (succeeded) deploy job is refused too
  CANCELLED: [],
  APPROVAL_REJECTED: [],
  HALTED: [],
};

test('every refused verb in every state is FAILED_PRECONDITION and changes nothing', async () => {
  assert.deepEqual([...states.keys()].sort(), Object.keys(ALLOWED).sort());
  let checked = 0;
  for (const [state, name] of states) {
    const before = await k.rollout(name);
    for (const [verb, call] of Object.entries(VERBS)) {
      if (ALLOWED[state].includes(verb)) continue;
      const e = await googleError(call(name));
      assert.equal(e.status, 'FAILED_PRECONDITION', `${verb} in ${state}: ${e.message}`);
      checked++;
    }
    const afterwards = await k.rollout(name);
    if (!state.startsWith('IN_PROGRESS') && state !== 'PENDING') assert.equal(afterwards.etag, before.etag, `${state} changed`);
    assert.equal(afterwards.state, before.state);
  }
  assert.ok(checked >= 40, `checked ${checked}`);
});
