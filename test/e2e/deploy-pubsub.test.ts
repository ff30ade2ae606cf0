// Cloud Deploy's Pub/Sub notifications, received by a subscriber on Google's Pub/Sub emulator (from gcloud; it needs
// a Java runtime): a release rendered, a rollout waiting for approval, approved, deployed, and an advance.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFileSync } from 'node:child_process';
import { PubSub, type Message, type Subscription } from '@google-cloud/pubsub';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { freePort } from '../../src/serving/instances.js';

function emulatorUnavailable(): string | undefined {
  try { execFileSync('java', ['-version'], { stdio: 'ignore' }); } catch { return 'no Java runtime (apt-get install default-jre-headless)'; }
  try { execFileSync('gcloud', ['beta', 'emulators', 'pubsub', '--help'], { stdio: 'ignore', env: { ...process.env, CLOUDSDK_CONFIG: tempDir() } }); } catch { return 'gcloud has no Pub/Sub emulator'; }
  return undefined;
}
const skip = process.env.CI ? undefined : emulatorUnavailable();
const PROJECT = 'notify-proj';
const LOC = `projects/${PROJECT}/locations/us-central1`;

test('approval, operation, advance and resource messages reach a subscriber with Cloud Deploy\'s attributes', { skip, timeout: 180_000 }, async () => {
  const port = await freePort();
  const host = `127.0.0.1:${port}`;
  const emulator = spawn('gcloud', ['beta', 'emulators', 'pubsub', 'start', `--host-port=${host}`, `--project=${PROJECT}`], { env: { ...process.env, CLOUDSDK_CONFIG: tempDir() }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  let out = '';
  emulator.stdout!.on('data', d => { out += d; });
  emulator.stderr!.on('data', d => { out += d; });
  const saved = process.env.PUBSUB_EMULATOR_HOST;
  try {
    await eventually(() => /Server started, listening on/.test(out), 60_000);
    const pubsub = new PubSub({ projectId: PROJECT, apiEndpoint: host, emulatorMode: true });
    const received: Record<string, Message['attributes'][]> = {};
    const subscriptions: Subscription[] = [];
    const subscribe = async (topic: string) => {
      const [t] = await pubsub.createTopic(topic);
      const [sub] = await t.createSubscription(`${topic}-sub`);
      received[topic] = [];
      sub.on('message', (m: Message) => { received[topic].push(m.attributes); m.ack(); });
      subscriptions.push(sub);
    };
    // clouddeploy-approvals is created only after Gantry found it missing (r1's approval): it must not take a minute to see it.
    for (const topic of ['clouddeploy-resources', 'clouddeploy-operations', 'clouddeploy-advances']) await subscribe(topic);
    process.env.PUBSUB_EMULATOR_HOST = host;
    const g = await startTestGantry({ renderMs: 50, jobMs: 50 });
    try {
      const call = async (method: string, path: string, body?: unknown) => {
        const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
        assert.equal(r.status, 200, await r.clone().text());
        return await r.json() as Record<string, any>;
      };
      await call('POST', `/v1/${LOC}/targets?targetId=prod`, { run: { location: LOC }, requireApproval: true });
      await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=app`, { serialPipeline: { stages: [{ targetId: 'prod', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50] } } } }] } });
      const DP = `${LOC}/deliveryPipelines/app`;
      await call('POST', `/v1/${DP}/releases?releaseId=r1`, {});
      await eventually(async () => (await call('GET', `/v1/${DP}/releases/r1`)).renderState === 'SUCCEEDED', 10_000);
      await call('POST', `/v1/${DP}/releases/r1/rollouts?rolloutId=r1-to-prod-0001`, { targetId: 'prod' });
      await eventually(async () => (await call('GET', `/v1/${DP}/releases/r1/rollouts/r1-to-prod-0001`)).state === 'PENDING_APPROVAL', 10_000);
      await call('POST', `/v1/${DP}/releases/r1/rollouts/r1-to-prod-0001:approve`, { approved: true });
      // A first deployment skips the canary; stable waits for :advance.
      await eventually(async () => (await call('GET', `/v1/${DP}/releases/r1/rollouts/r1-to-prod-0001`)).phases?.[1]?.state === 'PENDING' && (await call('GET', `/v1/${DP}/releases/r1/rollouts/r1-to-prod-0001`)).state === 'IN_PROGRESS', 10_000);
      await call('POST', `/v1/${DP}/releases/r1/rollouts/r1-to-prod-0001:advance`, { phaseId: 'stable' });
      await eventually(async () => (await call('GET', `/v1/${DP}/releases/r1/rollouts/r1-to-prod-0001`)).state === 'SUCCEEDED', 10_000);
      await subscribe('clouddeploy-approvals');
      // A second release deploys the canary first, then waits for :advance.
      await call('POST', `/v1/${DP}/releases?releaseId=r2`, {});
      await eventually(async () => (await call('GET', `/v1/${DP}/releases/r2`)).renderState === 'SUCCEEDED', 10_000);
      await call('POST', `/v1/${DP}/releases/r2/rollouts?rolloutId=r2-to-prod-0001`, { targetId: 'prod' });
      await eventually(async () => (await call('GET', `/v1/${DP}/releases/r2/rollouts/r2-to-prod-0001`)).state === 'PENDING_APPROVAL', 10_000);
      await call('POST', `/v1/${DP}/releases/r2/rollouts/r2-to-prod-0001:approve`, { approved: true });
      await eventually(async () => (await call('GET', `/v1/${DP}/releases/r2/rollouts/r2-to-prod-0001`)).phases?.[0]?.state === 'SUCCEEDED', 10_000);
      await call('POST', `/v1/${DP}/releases/r2/rollouts/r2-to-prod-0001:advance`, { phaseId: 'stable' });
      await eventually(async () => (await call('GET', `/v1/${DP}/releases/r2/rollouts/r2-to-prod-0001`)).state === 'SUCCEEDED', 10_000);

      const number = String((await call('GET', `/v1/projects/${PROJECT}`)).projectNumber);
      const rollout2 = `projects/${number}/locations/us-central1/deliveryPipelines/app/releases/r2/rollouts/r2-to-prod-0001`;
      // r1's may arrive too, when they were still queued as the topic appeared.
      const approvals2 = () => received['clouddeploy-approvals'].filter(a => a.RolloutId === 'r2-to-prod-0001');
      await eventually(() => approvals2().some(a => a.Action === 'Approve'), 20_000);
      // Pub/Sub keeps no order between messages without an ordering key (Cloud Deploy's carry none), and the two are
      // published a moment apart, in batches of their own: both came, once each.
      assert.deepEqual(approvals2().map(a => a.Action).sort(), ['Approve', 'Required']);
      const required = approvals2().find(a => a.Action === 'Required')!;
      assert.deepEqual({ ...required }, {
        Action: 'Required', ResourceType: 'Rollout', Resource: rollout2, Rollout: rollout2, RolloutId: 'r2-to-prod-0001', ReleaseId: 'r2',
        DeliveryPipelineId: 'app', TargetId: 'prod', Location: 'us-central1', ProjectNumber: number,
      });
      await eventually(() => received['clouddeploy-operations'].some(a => a.RolloutId === 'r2-to-prod-0001' && a.ResourceType === 'Rollout' && a.Action === 'Succeed'), 20_000);
      const rolloutOps = received['clouddeploy-operations'].filter(a => a.ResourceType === 'Rollout' && a.RolloutId === 'r1-to-prod-0001').map(a => a.Action);
      assert.deepEqual(rolloutOps, ['Start', 'Succeed']);
      assert.ok(received['clouddeploy-operations'].some(a => a.ResourceType === 'Release' && a.ReleaseId === 'r1' && a.Action === 'Succeed'));
      assert.ok(received['clouddeploy-operations'].some(a => a.ResourceType === 'JobRun' && a.Action === 'Succeed' && a.PhaseId && a.JobId));
      await eventually(() => received['clouddeploy-advances'].some(a => a.RolloutId === 'r2-to-prod-0001' && a.Action === 'Advance'), 20_000);
      assert.deepEqual(received['clouddeploy-advances'].map(a => [a.RolloutId, a.Action, a.PhaseId]), [
        ['r1-to-prod-0001', 'Required', 'stable'], ['r1-to-prod-0001', 'Advance', undefined],
        ['r2-to-prod-0001', 'Required', 'stable'], ['r2-to-prod-0001', 'Advance', undefined],
      ]);
      await eventually(() => received['clouddeploy-resources'].some(a => a.ResourceType === 'Target' && a.Action === 'Create'), 20_000);
      assert.ok(received['clouddeploy-resources'].some(a => a.ResourceType === 'Release' && a.ReleaseId === 'r1' && a.Action === 'Create'));
      assert.ok(received['clouddeploy-resources'].some(a => a.ResourceType === 'Rollout' && a.Action === 'Update'));
    } finally {
      await g.close();
      for (const s of subscriptions) await s.close();
      await pubsub.close();
    }
  } finally {
    if (saved === undefined) delete process.env.PUBSUB_EMULATOR_HOST; else process.env.PUBSUB_EMULATOR_HOST = saved;
    try { process.kill(-emulator.pid!, 'SIGKILL'); } catch { /* gone */ }
  }
});
