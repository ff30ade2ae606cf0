// One scenario language for every API's simulated work, through one endpoint: scripted failures say what the work
// reports (a job run's failureMessage, a task's stderr line in Cloud Logging), a count limits them to the first
// attempts, and a retry then succeeds; all on the virtual clock, in well under a second of real time.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { google } from 'googleapis';
import { startTestGantry } from '../helpers/server.js';
import { googleapisDeploy } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/scn/locations/us-central1';
let g: Gantry;
before(async () => { g = await startTestGantry({ clock: 'virtual', renderMs: 10_000, jobMs: 60_000, taskMs: 5_000 }); });
after(async () => { await g.close(); });

async function call(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const j = (await r.json()) as Record<string, any>;
  assert.equal(r.status, 200, JSON.stringify(j));
  return j;
}
const advance = (duration: string) => call('POST', '/gantry/v1/clock:advance', { duration });

test('a canary rollout end to end on the virtual clock: a scripted verify failure with its message, a retry, an advance', async () => {
  const started = performance.now();
  await call('POST', `/v1/${LOC}/targets?targetId=prod`, { run: { location: LOC } });
  await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=shop`, { serialPipeline: { stages: [{ targetId: 'prod', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [25], verify: true } } } }] } });
  await call('POST', '/gantry/v1/outcomes', { scope: `${LOC}/deliveryPipelines/shop`, rules: 'canary-25/verify=fail:EXECUTION_FAILED"smoke test: 3 of 40 checks failed, see report"@1' });
  // The first release skips the canary (a first deployment has nothing to split traffic with) and is advanced to
  // stable; the second canaries.
  for (const rel of ['r1', 'r2']) {
    await call('POST', `/v1/${LOC}/deliveryPipelines/shop/releases?releaseId=${rel}`, {});
    await advance('10s');
    await call('POST', `/v1/${LOC}/deliveryPipelines/shop/releases/${rel}/rollouts?rolloutId=${rel}-to-prod-0001`, { targetId: 'prod' });
    await advance('1h');
    if (rel === 'r1') {
      await call('POST', `/v1/${LOC}/deliveryPipelines/shop/releases/r1/rollouts/r1-to-prod-0001:advance`, { phaseId: 'stable' });
      await advance('1h');
    }
  }
  const ro = `${LOC}/deliveryPipelines/shop/releases/r2/rollouts/r2-to-prod-0001`;
  let r = await call('GET', `/v1/${ro}`);
  assert.equal(r.state, 'FAILED');
  // As a client reads it (googleapis).
  const deploy = googleapisDeploy(g.url);
  const runs = (await deploy.projects.locations.deliveryPipelines.releases.rollouts.jobRuns.list({ parent: ro })).data.jobRuns!;
  const verify = runs.find(j => j.phaseId === 'canary-25' && j.jobId === 'verify')!;
  assert.equal(verify.verifyJobRun!.failureMessage, 'smoke test: 3 of 40 checks failed, see report');
  assert.match((await deploy.projects.locations.deliveryPipelines.releases.rollouts.get({ name: ro })).data.failureReason!, /smoke test: 3 of 40 checks failed, see report/);
  // The simulated job run's Cloud Build log says what ran and how it ended, as `gcloud logging read` would show it.
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3600_000 });
  const logging = google.logging({ version: 'v2', rootUrl: g.url + '/', auth });
  const buildId = verify.verifyJobRun!.build!.split('/').pop();
  const lines = ((await logging.entries.list({ requestBody: { resourceNames: ['projects/scn'], filter: `resource.type="build" AND resource.labels.build_id="${buildId}"`, orderBy: 'timestamp asc' } })).data.entries ?? []).map(e => e.textPayload);
  assert.deepEqual(lines, [
    'Step #0 - "verify": Simulated verify job of rollout r2-to-prod-0001, phase canary-25: Gantry\'s simulated executor runs no command.',
    'Step #1 - "result": FAILED: EXECUTION_FAILED: smoke test: 3 of 40 checks failed, see report',
  ]);
  await call('POST', `/v1/${ro}:retryJob`, { phaseId: 'canary-25', jobId: 'verify' });
  await advance('1h');
  r = await call('GET', `/v1/${ro}`);
  assert.equal(r.state, 'IN_PROGRESS');
  assert.equal(r.phases.find((p: { id: string }) => p.id === 'canary-25').state, 'SUCCEEDED');
  await call('POST', `/v1/${ro}:advance`, { phaseId: 'stable' });
  await advance('1h');
  r = await call('GET', `/v1/${ro}`);
  assert.equal(r.state, 'SUCCEEDED');
  assert.ok(performance.now() - started < 5_000, 'hours of rollout in seconds of real time');
});

test('a Cloud Deploy job scripted to hang runs until its target\'s execution timeout and fails DEADLINE_EXCEEDED', async () => {
  await call('POST', `/v1/${LOC}/targets?targetId=slow`, { run: { location: LOC }, executionConfigs: [{ usages: ['RENDER', 'DEPLOY'] }, { usages: ['VERIFY'], executionTimeout: '900s' }] });
  await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=hangs`, { serialPipeline: { stages: [{ targetId: 'slow', strategy: { standard: { verify: true } } }] } });
  await call('POST', '/gantry/v1/outcomes', { scope: `${LOC}/deliveryPipelines/hangs`, rules: '*/verify=hang' });
  await call('POST', `/v1/${LOC}/deliveryPipelines/hangs/releases?releaseId=r`, {});
  await call('POST', `/v1/${LOC}/deliveryPipelines/hangs/releases/r/rollouts?rolloutId=ro`, { targetId: 'slow' });
  await advance('10s'); // the render
  await advance('60s'); // the deploy job
  const ro = `${LOC}/deliveryPipelines/hangs/releases/r/rollouts/ro`;
  await advance('899s');
  assert.equal((await call('GET', `/v1/${ro}`)).state, 'IN_PROGRESS', 'still running a second before its timeout');
  await advance('1s');
  const deploy = googleapisDeploy(g.url);
  const verify = (await deploy.projects.locations.deliveryPipelines.releases.rollouts.jobRuns.list({ parent: ro })).data.jobRuns!.find(j => j.jobId === 'verify')!;
  assert.equal(verify.state, 'FAILED');
  assert.equal(verify.verifyJobRun!.failureCause, 'DEADLINE_EXCEEDED');
  assert.equal(Date.parse(verify.endTime!) - Date.parse(verify.startTime!), 900_000);
  assert.equal((await deploy.projects.locations.deliveryPipelines.releases.rollouts.get({ name: ro })).data.state, 'FAILED');
});

test('a Cloud Run task scripted to fail exits with its code and writes its message to the task\'s log', async () => {
  await call('POST', `/v2/${LOC}/jobs?jobId=batch`, { template: { taskCount: 2, template: { containers: [{ image: 'busybox' }] } } });
  await advance('1s');
  await call('POST', '/gantry/v1/outcomes', { scope: `${LOC}/jobs/batch`, rules: '1=fail:137"killed: out of memory, 512Mi"' });
  const op = await call('POST', `/v2/${LOC}/jobs/batch:run`, {});
  await advance('1m');
  const done = await call('GET', `/v2/${op.name}`);
  assert.equal(done.done, true);
  assert.match(done.error.message, /failed/i);
  const execution = String(done.metadata.name);
  const tasks = (await call('GET', `/v2/${execution}/tasks`)).tasks as Record<string, any>[];
  const failed = tasks.find(t => t.index === 1)!;
  assert.equal(failed.lastAttemptResult.exitCode, 137);
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3600_000 });
  const logging = google.logging({ version: 'v2', rootUrl: g.url + '/', auth });
  const logs = (await logging.entries.list({ requestBody: { resourceNames: ['projects/scn'], filter: 'resource.type="cloud_run_job" AND severity>=DEFAULT AND textPayload:"out of memory"' } })).data as Record<string, any>;
  // Cloud Run's default of three retries: every attempt of task 1 says it.
  assert.equal(logs.entries?.length, 4, JSON.stringify(logs));
  assert.ok(logs.entries.every((e: { textPayload: string; logName: string }) => e.textPayload === 'killed: out of memory, 512Mi' && e.logName.endsWith('run.googleapis.com%2Fstderr')));
});
