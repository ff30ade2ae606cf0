// `--log-level debug` says what the controllers decide: why a rollout waits (once per change of reason, not on every
// reconcile), which job runs, Cloud Run attempts and App Hosting build steps start, and how they end.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnGantry, eventually } from '../helpers/server.js';
import { DeployKit } from '../helpers/deploy.js';

const LOC = 'projects/dlog/locations/us-central1';

test('debug logs controller decisions, each once', async () => {
  const g = await spawnGantry(['--ephemeral', '--clock', 'virtual', '--log-level', 'debug', '--render-duration', '1s', '--job-duration', '10s', '--task-duration', '5s']);
  const post = async (path: string, body: unknown) => {
    const r = await fetch(g.url + path, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const text = await r.text();
    assert.equal(r.status, 200, `${path}: ${text}`);
    return JSON.parse(text) as Record<string, any>;
  };
  const advance = (duration: string) => post('/gantry/v1/clock:advance', { duration });
  /** The debug lines logged so far that contain `part`, without their time stamps. */
  const lines = (part: string) => g.output().split('\n').filter(l => l.includes(' DEBUG ') && l.includes(part)).map(l => l.slice(l.indexOf(' DEBUG ') + 7));
  try {
    const k = new DeployKit().attach(g.url);
    await k.opDone(k.api.targets.create({ parent: LOC, targetId: 'dev', requestBody: { run: { location: LOC } } }));
    await k.opDone(k.api.targets.create({ parent: LOC, targetId: 'prod', requestBody: { run: { location: LOC }, requireApproval: true } }));
    await k.opDone(k.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'web', requestBody: { serialPipeline: { stages: [{ targetId: 'dev' }, { targetId: 'prod' }] } } }));
    const parent = `${LOC}/deliveryPipelines/web`;
    for (const id of ['r1', 'r2']) await k.opDone(k.api.deliveryPipelines.releases.create({ parent, releaseId: id, requestBody: {} }));
    await advance('1s');
    for (const [release, id, targetId] of [['r1', 'a', 'dev'], ['r2', 'b', 'dev'], ['r1', 'p', 'prod']]) {
      await k.opDone(k.rollouts.create({ parent: `${parent}/releases/${release}`, rolloutId: id, requestBody: { targetId } }));
      await advance('0s');
    }
    await eventually(() => lines('rollout web/r1/p to prod waits for approval').length === 1);
    assert.deepEqual(lines('rollout web/r2/b to dev is queued'), ['Cloud Deploy: rollout web/r2/b to dev is queued: rollout web/r1/a is in progress on the target']);
    assert.match(lines('rollout web/r1/a started')[0], /^Cloud Deploy: rollout web\/r1\/a started job run [0-9a-f-]+ \(stable\/deploy\) on the simulated executor \(10s, succeed\)$/);
    await advance('10s');
    await advance('10s');
    await eventually(() => lines('rollout web/r2/b to dev SUCCEEDED').length === 1);
    assert.match(lines('rollout web/r1/a job run')[0], /^Cloud Deploy: rollout web\/r1\/a job run [0-9a-f-]+ \(stable\/deploy\) ended SUCCEEDED$/);
    // Still waiting for the same reason after every tick: said once.
    assert.equal(lines('rollout web/r1/p to prod waits for approval').length, 1);

    // A canary (after a first deployment, which skips it) waits to advance once its first phase is done.
    await k.opDone(k.api.targets.create({ parent: LOC, targetId: 'edge', requestBody: { run: { location: LOC } } }));
    await k.opDone(k.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'can', requestBody: { serialPipeline: { stages: [{ targetId: 'edge',
      strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50] } } } }] } } }));
    for (const id of ['c1', 'c2']) {
      await k.opDone(k.api.deliveryPipelines.releases.create({ parent: `${LOC}/deliveryPipelines/can`, releaseId: id, requestBody: {} }));
      await advance('1s');
      await k.opDone(k.rollouts.create({ parent: `${LOC}/deliveryPipelines/can/releases/${id}`, rolloutId: id, requestBody: { targetId: 'edge' } }));
      await advance('10s');
      await advance('10s');
    }
    await eventually(() => lines('rollout can/c2/c2 to edge waits to be advanced').length === 1);
    assert.deepEqual(lines('rollout can/c2/c2 to edge'), ['Cloud Deploy: rollout can/c2/c2 to edge waits to be advanced to phase stable']);

    // Cloud Run: task 0 fails its first attempt and is retried.
    const NS = '/apis/run.googleapis.com/v1/namespaces/dlog';
    await post(`${NS}/jobs`, { metadata: { name: 'j', annotations: { 'gantry.dev/outcomes': '0=fail:3@1' } },
      spec: { template: { spec: { taskCount: 1, template: { spec: { maxRetries: 1, containers: [{ image: 'busybox' }] } } } } } });
    await advance('0s');
    const ex = (await post(`${NS}/jobs/j:run`, {})).metadata.name as string;
    await advance('0s');
    await advance('5s');
    await advance('5s');
    await eventually(() => lines(`execution ${ex} ended`).length === 1);
    assert.deepEqual(lines(`Cloud Run: execution ${ex}`), [
      `Cloud Run: execution ${ex} of job j started: 1 task, 1 at a time, on the simulated executor`,
      `Cloud Run: execution ${ex} task 0 attempt 0 started (simulated: exit 3 after 5s)`,
      `Cloud Run: execution ${ex} task 0 attempt 0 ended: exit 3; the task is retried`,
      `Cloud Run: execution ${ex} task 0 attempt 1 started (simulated: exit 0 after 5s)`,
      `Cloud Run: execution ${ex} task 0 attempt 1 ended: succeeded`,
      `Cloud Run: execution ${ex} ended: succeeded (1 task)`,
    ]);
    if (process.env.SHOW_LOG) console.error(g.output());
    // Nothing of this reaches info.
    assert.doesNotMatch(g.output(), /INFO (Cloud Deploy|Cloud Run):/);
  } finally {
    await g.kill('SIGTERM');
  }
});
