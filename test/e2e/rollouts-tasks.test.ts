// Predeploy, postdeploy and verify `tasks` run through the process executor, in both shapes official clients
// send: gcloud's Task{containersTask{containers[]}} (containers side by side) and googleapis' Task{container}.
// Tasks run in order, verify tasks per canary phase; a config task cannot run here and fails its job run.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { DeployKit } from '../helpers/deploy.js';
import type { Gantry } from '../../src/gantry.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/hooks', import.meta.url));
const LOC = 'projects/tasks/locations/us-central1';
const PIPE = `${LOC}/deliveryPipelines/tasks`;
let g: Gantry;
let source: string;
const k = new DeployKit();
type Rollout = clouddeploy_v1.Schema$Rollout;

interface Container { image: string; command: string[]; args: string[]; env?: Record<string, string> }
interface Task { containersTask?: { containers: Container[] }; container?: Container; config?: { id: string } }
const sh = (script: string, env?: Record<string, string>): Container => ({ image: 'busybox', command: ['/bin/sh'], args: ['-c', script], ...(env ? { env } : {}) });
const task = (...containers: Container[]): Task => ({ containersTask: { containers } });

before(async () => {
  g = await startTestGantry({ allowExecutors: ['process'] });
  k.attach(g.url);
  source = join(tempDir(), 'src');
  cpSync(FIXTURE, source, { recursive: true });
  for (const id of ['hooks', 'phased', 'config']) {
    await k.opDone(k.api.targets.create({ parent: LOC, targetId: id, requestBody: { annotations: { 'gantry.dev/executor': 'process' }, run: { location: LOC } } }));
  }
  const stages = [
    { targetId: 'hooks', strategy: { standard: {
      // A task's containers run side by side; the next task reads what the first wrote: tasks run in order.
      predeploy: { tasks: [
        task(sh('sleep 0.3; echo first > order.txt; echo first done'), sh('echo alongside')),
        task(sh('echo second saw $(cat order.txt)')),
        { container: sh('echo third says $GREETING', { GREETING: 'hi' }) },
      ] },
      verifyConfig: { tasks: [task(sh('echo verified $CLOUD_DEPLOY_TARGET in $CLOUD_DEPLOY_PHASE'))] },
      postdeploy: { tasks: [task(sh('echo post; exit 3')), task(sh('echo never'))] },
    } } },
    { targetId: 'phased', strategy: { canary: { customCanaryDeployment: { phaseConfigs: [
      { phaseId: 'small', percentage: 25, verifyConfig: { tasks: [task(sh('echo checked small'))] } },
      { phaseId: 'stable', percentage: 100, verifyConfig: { tasks: [task(sh('echo checked stable'))] } },
    ] } } } },
    { targetId: 'config', strategy: { standard: { predeploy: { tasks: [{ config: { id: 'lint' } }] } } } },
  ];
  await k.opDone(k.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'tasks', requestBody: { serialPipeline: { stages } } as clouddeploy_v1.Schema$DeliveryPipeline }));
});
after(() => g.close());

async function rollout(releaseId: string, targetId: string): Promise<string> {
  const rel = await k.renderedRelease(PIPE, releaseId, { skaffoldConfigUri: pathToFileURL(source).href });
  assert.equal(rel.renderState, 'SUCCEEDED');
  await k.opDone(k.rollouts.create({ parent: rel.name!, rolloutId: releaseId, requestBody: { targetId } }));
  return `${rel.name!}/rollouts/${releaseId}`;
}
const jobRun = async (name: string) => (await k.rollouts.jobRuns.get({ name })).data;
/** The log of a job run of `rollout`. */
const log = async (rollout: string, jr: clouddeploy_v1.Schema$JobRun) => k.download(`gs://gantry-logs/${rollout}/jobRuns/${jr.uid}.log`);
const jobs = (r: Rollout, phase: string) => r.phases!.find(p => p.id === phase)!.deploymentJobs!;
/** A verify job run's log: its event log, relative to its artifact directory. */
const verifyLog = (jr: clouddeploy_v1.Schema$JobRun) => `${jr.verifyJobRun!.artifactUri!}/${jr.verifyJobRun!.eventLogPath!}`;

test('predeploy and postdeploy tasks run in order, a task\'s containers side by side; verifyConfig tasks verify; a failing task stops its job', async () => {
  const name = await rollout('h1', 'hooks');
  const r = await k.until(name, x => x.state === 'FAILED');
  const stable = jobs(r, 'stable');
  // The verify job shows the tasks it runs.
  assert.deepEqual((stable.verifyJob!.verifyJob!.tasks as Task[])[0].containersTask!.containers[0].args, ['-c', 'echo verified $CLOUD_DEPLOY_TARGET in $CLOUD_DEPLOY_PHASE']);

  const pre = await jobRun(stable.predeployJob!.jobRun!);
  assert.equal(pre.state, 'SUCCEEDED');
  const preLog = await log(name, pre);
  assert.match(preLog, /\[tasks\[1\]\.containersTask\.containers\[0\]\] stdout: second saw first/);
  assert.match(preLog, /\[tasks\[2\]\.container\] stdout: third says hi/);
  // Side by side: the second container of the first task did not wait for the first one's sleep.
  assert.ok(preLog.indexOf('alongside') < preLog.indexOf('first done'), preLog);
  assert.ok(preLog.indexOf('first done') < preLog.indexOf('second saw') && preLog.indexOf('second saw') < preLog.indexOf('third says'), preLog);

  const verify = await jobRun(stable.verifyJob!.jobRun!);
  assert.equal(verify.state, 'SUCCEEDED');
  assert.match(await k.download(verifyLog(verify)), /verified hooks in stable/);

  const post = await jobRun(stable.postdeployJob!.jobRun!);
  assert.equal(post.state, 'FAILED');
  assert.equal(post.postdeployJobRun!.failureCause, 'EXECUTION_FAILED');
  assert.match(post.postdeployJobRun!.failureMessage!, /container "tasks\[0\]\.containersTask\.containers\[0\]" exited with code 3/);
  assert.doesNotMatch(await log(name, post), /never/);
  assert.equal(r.deployFailureCause, 'EXECUTION_FAILED');
});

test('each canary phase runs its own verifyConfig tasks', async () => {
  const first = await rollout('p1', 'phased');
  // A first deployment skips the canary phase; stable waits for :advance.
  await k.until(first, x => x.state === 'IN_PROGRESS' && x.phases![1].state === 'PENDING');
  await k.rollouts.advance({ name: first, requestBody: { phaseId: 'stable' } });
  await k.until(first, x => x.state === 'SUCCEEDED');
  const name = await rollout('p2', 'phased');
  let r = await k.until(name, x => x.phases![0].state === 'SUCCEEDED');
  assert.match(await k.download(verifyLog(await jobRun(jobs(r, 'small').verifyJob!.jobRun!))), /checked small/);
  await k.rollouts.advance({ name, requestBody: { phaseId: 'stable' } });
  r = await k.until(name, x => x.state === 'SUCCEEDED');
  const stableLog = await k.download(verifyLog(await jobRun(jobs(r, 'stable').verifyJob!.jobRun!)));
  assert.match(stableLog, /checked stable/);
  assert.doesNotMatch(stableLog, /checked small/);
});

test('a config task cannot run here: its job run fails, naming the task configuration', async () => {
  const name = await rollout('c1', 'config');
  const r = await k.until(name, x => x.state === 'FAILED');
  const pre = await jobRun(jobs(r, 'stable').predeployJob!.jobRun!);
  assert.equal(pre.state, 'FAILED');
  assert.equal(pre.predeployJobRun!.failureCause, 'EXECUTION_FAILED');
  assert.match(pre.predeployJobRun!.failureMessage!, /tasks\[0\] of the predeploy job is a config task \(task configuration "lint"\)/);
  assert.equal(jobs(r, 'stable').deployJob!.state, 'PENDING');
});
