// The rollout lifecycle through `googleapis`: states, phases and jobs, job runs, every verb and its
// preconditions, on the standard and canary shapes, with scripted outcomes.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, eventually } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import { DeployKit } from '../helpers/deploy.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/ro-proj/locations/us-central1';
const PIPE = `${LOC}/deliveryPipelines/app`;
let g: Gantry;
let api: clouddeploy_v1.Resource$Projects$Locations;
type Rollout = clouddeploy_v1.Schema$Rollout;

const k = new DeployKit();
const opDone = k.opDone.bind(k);
const rollouts = () => k.rollouts;
const get = k.rollout.bind(k);
const until = (name: string, pred: (r: Rollout) => boolean, ms = 5000) => k.until(name, pred, ms);
const state = (name: string, s: string) => until(name, r => r.state === s);
const phase = (r: Rollout, id: string) => r.phases!.find(p => p.id === id)!;

async function release(id: string, annotations?: Record<string, string>) {
  await opDone(api.deliveryPipelines.releases.create({ parent: PIPE, releaseId: id, requestBody: { annotations } }));
  return `${PIPE}/releases/${id}`;
}
async function rollout(rel: string, id: string, targetId: string, extra: Partial<clouddeploy_v1.Params$Resource$Projects$Locations$Deliverypipelines$Releases$Rollouts$Create> = {}, annotations?: Record<string, string>) {
  await opDone(rollouts().create({ parent: rel, rolloutId: id, requestBody: { targetId, annotations }, ...extra }));
  return `${rel}/rollouts/${id}`;
}

before(async () => {
  g = await startTestGantry();
  api = k.attach(g.url).api;
  for (const [id, approval] of [['dev', false], ['prod', true], ['qa', false]] as const) {
    await opDone(api.targets.create({ parent: LOC, targetId: id, requestBody: { requireApproval: approval, run: { location: LOC } } }));
  }
  await opDone(api.deliveryPipelines.create({
    parent: LOC, deliveryPipelineId: 'app', requestBody: {
      serialPipeline: {
        stages: [
          { targetId: 'dev', strategy: { standard: { verify: true, predeploy: { actions: ['pre'] }, postdeploy: { actions: ['post'] } } } },
          { targetId: 'qa', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [25, 50], verify: true } } } },
          { targetId: 'prod', strategy: { canary: { customCanaryDeployment: { phaseConfigs: [{ phaseId: 'small', percentage: 10 }, { phaseId: 'stable', percentage: 100, verify: true }] } } } },
        ],
      },
    },
  }));
});
after(() => g.close());

test('standard: PENDING_RELEASE → IN_PROGRESS → SUCCEEDED, predeploy/deploy/verify/postdeploy each with a job run', async () => {
  const rel = await release('r1');
  const name = await rollout(rel, 'r1-dev', 'dev');
  const first = await get(name);
  assert.ok(['PENDING_RELEASE', 'PENDING', 'IN_PROGRESS'].includes(first.state!));
  assert.equal(first.approvalState, 'DOES_NOT_NEED_APPROVAL');
  const r = await state(name, 'SUCCEEDED');
  assert.deepEqual(r.phases!.map(p => [p.id, p.state]), [['stable', 'SUCCEEDED']]);
  const jobs = phase(r, 'stable').deploymentJobs!;
  assert.deepEqual([jobs.predeployJob!.state, jobs.deployJob!.state, jobs.verifyJob!.state, jobs.postdeployJob!.state], ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  assert.deepEqual(jobs.predeployJob!.predeployJob!.actions, ['pre']);
  assert.ok(r.enqueueTime && r.deployStartTime && r.deployEndTime && r.deployEndTime > r.deployStartTime);
  const runs = (await rollouts().jobRuns.list({ parent: name })).data.jobRuns!;
  assert.deepEqual(runs.map(j => j.jobId), ['predeploy', 'deploy', 'verify', 'postdeploy']);
  assert.ok(runs.every(j => j.state === 'SUCCEEDED' && j.phaseId === 'stable' && j.endTime));
  assert.match(runs[1].name!, /\/jobRuns\/[0-9a-f-]{36}$/);
  assert.equal(jobs.deployJob!.jobRun, runs[1].name);
  assert.ok(runs[1].deployJobRun!.build);
  const one = (await rollouts().jobRuns.get({ name: runs[2].name! })).data;
  assert.equal(one.jobId, 'verify');
  // A deploy to a Cloud Run target records the service and its new revision.
  const cloudRun = r.metadata!.cloudRun!;
  assert.equal(cloudRun.service, `${LOC}/services/app`);
  assert.match(cloudRun.revision!, /^app-\d{5}-[a-z0-9]{3}$/);
  assert.match(cloudRun.serviceUrls![0], /^https:\/\/app-\d{12}\.us-central1\.run\.app$/);
  assert.equal(cloudRun.previousRevision, undefined);
  assert.deepEqual(runs[1].deployJobRun!.metadata!.cloudRun, cloudRun);
  assert.match(runs[1].deployJobRun!.artifact!.artifactUri!, /^gs:\/\/us-central1\.deploy-artifacts\.ro-proj\.appspot\.com\/r1-[0-9a-f]{32}\/dev$/);
  assert.deepEqual(runs[1].deployJobRun!.artifact!.manifestPaths, ['stable/manifest.yaml']);
  const rel1 = (await api.deliveryPipelines.releases.get({ name: rel })).data;
  assert.equal(rel1.targetRenders!.dev.metadata!.cloudRun!.service, `${LOC}/services/app`);
  // The wildcard parent lists rollouts across releases, with the filters gcloud sends.
  const across = (await rollouts().list({ parent: `${PIPE}/releases/-`, filter: '(approvalState!="REJECTED" AND approvalState!="NEEDS_APPROVAL") AND state="SUCCEEDED" AND targetId="dev"', orderBy: 'DeployEndTime desc' })).data;
  assert.deepEqual(across.rollouts!.map(x => x.name), [name]);
});

test('approval: PENDING_APPROVAL, approve → deploys; reject → APPROVAL_REJECTED; wrong states refused', async () => {
  const rel = await release('r2');
  const a = await rollout(rel, 'r2-prod-a', 'prod');
  let r = await state(a, 'PENDING_APPROVAL');
  assert.equal(r.approvalState, 'NEEDS_APPROVAL');
  assert.equal((await googleError(rollouts().advance({ name: a, requestBody: { phaseId: 'stable' } }))).status, 'FAILED_PRECONDITION');
  await rollouts().approve({ name: a, requestBody: { approved: true } });
  // First deployment to prod: the canary phase is skipped and stable waits for :advance.
  r = await state(a, 'IN_PROGRESS');
  assert.deepEqual(r.phases!.map(p => [p.id, p.state]), [['small', 'SKIPPED'], ['stable', 'PENDING']]);
  await rollouts().advance({ name: a, requestBody: { phaseId: 'stable' } });
  r = await state(a, 'SUCCEEDED');
  assert.equal(r.approvalState, 'APPROVED');
  assert.ok(r.approveTime);
  assert.deepEqual(r.phases!.map(p => [p.id, p.state]), [['small', 'SKIPPED'], ['stable', 'SUCCEEDED']]);
  assert.match(phase(r, 'small').skipMessage!, /first deployment/);
  const e = await googleError(rollouts().approve({ name: a, requestBody: { approved: true } }));
  assert.equal(e.status, 'FAILED_PRECONDITION');
  const b = await rollout(rel, 'r2-prod-b', 'prod');
  await state(b, 'PENDING_APPROVAL');
  await rollouts().approve({ name: b, requestBody: { approved: false } });
  r = await get(b);
  assert.equal(r.state, 'APPROVAL_REJECTED');
  assert.equal(r.approvalState, 'REJECTED');
});

test('canary: phases wait for :advance; advance preconditions', async () => {
  const rel1 = await release('c1');
  // The first deployment skips both canaries; stable waits for :advance.
  const first = await rollout(rel1, 'c1-qa', 'qa');
  await until(first, x => x.state === 'IN_PROGRESS');
  await rollouts().advance({ name: first, requestBody: { phaseId: 'stable' } });
  await state(first, 'SUCCEEDED');
  const rel2 = await release('c2');
  const name = await rollout(rel2, 'c2-qa', 'qa');
  let r = await until(name, x => x.state === 'IN_PROGRESS' && phase(x, 'canary-25').state === 'SUCCEEDED');
  assert.deepEqual(r.phases!.map(p => p.state), ['SUCCEEDED', 'PENDING', 'PENDING']);
  await new Promise(res => setTimeout(res, 150));
  assert.equal((await get(name)).phases![1].state, 'PENDING', 'a non-final phase waits for advance');
  assert.equal((await googleError(rollouts().advance({ name, requestBody: { phaseId: 'stable' } }))).status, 'FAILED_PRECONDITION');
  assert.equal((await googleError(rollouts().advance({ name, requestBody: { phaseId: 'canary-25' } }))).status, 'FAILED_PRECONDITION');
  assert.equal((await googleError(rollouts().advance({ name, requestBody: { phaseId: 'nope' } }))).status, 'INVALID_ARGUMENT');
  await rollouts().advance({ name, requestBody: { phaseId: 'canary-50' } });
  r = await until(name, x => phase(x, 'canary-50').state === 'SUCCEEDED');
  assert.equal(r.state, 'IN_PROGRESS');
  await rollouts().advance({ name, requestBody: { phaseId: 'stable' } });
  r = await state(name, 'SUCCEEDED');
  assert.deepEqual(r.phases!.map(p => p.state), ['SUCCEEDED', 'SUCCEEDED', 'SUCCEEDED']);
  const previous = (await get(`${PIPE}/releases/c1/rollouts/c1-qa`)).metadata!.cloudRun!.revision;
  assert.equal(r.metadata!.cloudRun!.previousRevision, `${LOC}/services/app/revisions/${previous}`);
  assert.notEqual(r.metadata!.cloudRun!.revision, previous);
  const runs = (await rollouts().jobRuns.list({ parent: name })).data.jobRuns!;
  assert.deepEqual(runs.map(j => `${j.phaseId}/${j.jobId}`), ['canary-25/deploy', 'canary-25/verify', 'canary-50/deploy', 'canary-50/verify', 'stable/deploy', 'stable/verify']);
});

test('startingPhaseId skips earlier phases; an unknown one is INVALID_ARGUMENT', async () => {
  const rel = await release('s1');
  const name = await rollout(rel, 's1-qa', 'qa', { startingPhaseId: 'stable' });
  const r = await state(name, 'SUCCEEDED');
  assert.deepEqual(r.phases!.map(p => p.state), ['SKIPPED', 'SKIPPED', 'SUCCEEDED']);
  assert.equal((await googleError(rollouts().create({ parent: rel, rolloutId: 'bad-phase', startingPhaseId: 'nope', requestBody: { targetId: 'qa' } }))).status, 'INVALID_ARGUMENT');
});

test('scripted failure: verify fails once → FAILED with the cause; retryJob succeeds; ignoreJob moves past', async () => {
  const rel = await release('f1', { 'gantry.dev/outcomes': 'stable/verify=fail:EXECUTION_FAILED@1' });
  const name = await rollout(rel, 'f1-dev', 'dev');
  let r = await state(name, 'FAILED');
  assert.equal(r.deployFailureCause, 'EXECUTION_FAILED');
  assert.match(r.failureReason!, /verify/);
  const jobs = phase(r, 'stable').deploymentJobs!;
  assert.equal(jobs.verifyJob!.state, 'FAILED');
  assert.equal(jobs.postdeployJob!.state, 'PENDING');
  const failed = (await rollouts().jobRuns.get({ name: jobs.verifyJob!.jobRun! })).data;
  assert.equal(failed.state, 'FAILED');
  assert.equal(failed.verifyJobRun!.failureCause, 'EXECUTION_FAILED');
  assert.equal((await googleError(rollouts().retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'deploy' } }))).status, 'FAILED_PRECONDITION');
  assert.equal((await googleError(rollouts().retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'nope' } }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(rollouts().retryJob({ rollout: name, requestBody: { phaseId: 'nope', jobId: 'verify' } }))).status, 'INVALID_ARGUMENT');
  await rollouts().retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'verify' } });
  r = await state(name, 'SUCCEEDED');
  assert.equal(r.deployFailureCause, undefined);
  const verifies = (await rollouts().jobRuns.list({ parent: name, filter: 'jobId="verify"' })).data.jobRuns!;
  assert.deepEqual(verifies.map(j => j.state), ['FAILED', 'SUCCEEDED']);
  assert.equal(phase(r, 'stable').deploymentJobs!.verifyJob!.jobRun, verifies[1].name);

  const rel2 = await release('f2', { 'gantry.dev/outcomes': 'stable/predeploy=fail:DEADLINE_EXCEEDED' });
  const n2 = await rollout(rel2, 'f2-dev', 'dev');
  r = await state(n2, 'FAILED');
  assert.equal(r.deployFailureCause, 'DEADLINE_EXCEEDED');
  assert.equal((await googleError(rollouts().ignoreJob({ rollout: n2, requestBody: { phaseId: 'stable', jobId: 'verify' } }))).status, 'FAILED_PRECONDITION');
  await rollouts().ignoreJob({ rollout: n2, requestBody: { phaseId: 'stable', jobId: 'predeploy' } });
  r = await state(n2, 'SUCCEEDED');
  assert.equal(phase(r, 'stable').deploymentJobs!.predeployJob!.state, 'IGNORED');
});

test('cancel: a running job run is terminated, pending work aborted; terminal rollouts refuse', async () => {
  const rel = await release('x1', { 'gantry.dev/outcomes': '*/deploy=succeed~30s' });
  const name = await rollout(rel, 'x1-dev', 'dev');
  const running = await until(name, x => phase(x, 'stable').deploymentJobs!.deployJob!.state === 'IN_PROGRESS');
  assert.equal(running.state, 'IN_PROGRESS');
  await rollouts().cancel({ name, requestBody: {} });
  const r = await state(name, 'CANCELLED');
  const jobs = phase(r, 'stable').deploymentJobs!;
  assert.equal(jobs.deployJob!.state, 'ABORTED');
  assert.equal(jobs.verifyJob!.state, 'ABORTED');
  assert.equal(phase(r, 'stable').state, 'ABORTED');
  const jr = (await rollouts().jobRuns.get({ name: jobs.deployJob!.jobRun! })).data;
  assert.equal(jr.state, 'TERMINATED');
  assert.equal((await googleError(rollouts().cancel({ name, requestBody: {} }))).status, 'FAILED_PRECONDITION');
});

test('terminate: ends the running job run and fails the rollout; only IN_PROGRESS runs', async () => {
  const rel = await release('t1', { 'gantry.dev/outcomes': 'stable/deploy=succeed~30s' });
  const name = await rollout(rel, 't1-dev', 'dev');
  const running = await until(name, x => phase(x, 'stable').deploymentJobs!.deployJob!.state === 'IN_PROGRESS');
  const jobRun = phase(running, 'stable').deploymentJobs!.deployJob!.jobRun!;
  await rollouts().jobRuns.terminate({ name: jobRun, requestBody: {} });
  const r = await state(name, 'FAILED');
  assert.match(r.failureReason!, /terminated/);
  assert.equal((await rollouts().jobRuns.get({ name: jobRun })).data.state, 'TERMINATED');
  assert.equal((await googleError(rollouts().jobRuns.terminate({ name: jobRun, requestBody: {} }))).status, 'FAILED_PRECONDITION');
  await rollouts().retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'deploy' } });
  assert.equal((await get(name)).state, 'IN_PROGRESS');
  // The retry runs another 30 s deploy: cancel it, freeing the target for the next tests.
  await until(name, x => phase(x, 'stable').deploymentJobs!.deployJob!.state === 'IN_PROGRESS');
  await rollouts().cancel({ name, requestBody: {} });
  await state(name, 'CANCELLED');
});

test('one rollout at a time per target: a second waits PENDING, then runs', async () => {
  const rel = await release('q1', { 'gantry.dev/outcomes': 'stable/deploy=succeed~0.4s' });
  const a = await rollout(rel, 'q1-a', 'dev');
  await until(a, x => x.state === 'IN_PROGRESS');
  const b = await rollout(rel, 'q1-b', 'dev');
  const waiting = await state(b, 'PENDING');
  assert.ok(waiting.enqueueTime);
  assert.equal(waiting.deployStartTime, undefined);
  await state(a, 'SUCCEEDED');
  const done = await state(b, 'SUCCEEDED');
  assert.ok(done.deployStartTime! >= (await get(a)).deployEndTime!);
});

test('a newer rollout halts one waiting for :advance on the same target', async () => {
  const rel = await release('h1');
  const old = await rollout(rel, 'h1-qa', 'qa');
  await until(old, x => x.state === 'IN_PROGRESS' && phase(x, 'canary-25').state === 'SUCCEEDED');
  const rel2 = await release('h2');
  const newer = await rollout(rel2, 'h2-qa', 'qa', { startingPhaseId: 'stable' });
  await state(newer, 'SUCCEEDED');
  const halted = await get(old);
  assert.equal(halted.state, 'HALTED');
  assert.deepEqual(halted.phases!.map(p => p.state), ['SUCCEEDED', 'ABORTED', 'ABORTED']);
});

test('release render failure and abandon fail waiting rollouts; create preconditions', async () => {
  const bad = await release('bad', { 'gantry.dev/render-failure': 'EXECUTION_FAILED' });
  await eventually(async () => (await api.deliveryPipelines.releases.get({ name: bad })).data.renderState === 'FAILED');
  assert.equal((await googleError(rollouts().create({ parent: bad, rolloutId: 'x', requestBody: { targetId: 'dev' } }))).status, 'FAILED_PRECONDITION');
  const rel = await release('ab');
  const pending = await rollout(rel, 'ab-prod', 'prod');
  await state(pending, 'PENDING_APPROVAL');
  await api.deliveryPipelines.releases.abandon({ name: rel, requestBody: {} });
  const r = await state(pending, 'FAILED');
  assert.equal(r.deployFailureCause, 'RELEASE_ABANDONED');
  assert.equal((await googleError(rollouts().create({ parent: rel, rolloutId: 'y', requestBody: { targetId: 'dev' } }))).status, 'FAILED_PRECONDITION');
  const badRules = await googleError(api.deliveryPipelines.releases.create({ parent: PIPE, releaseId: 'bad-rules', requestBody: { annotations: { 'gantry.dev/outcomes': 'stable/deploy=explode' } } }));
  assert.equal(badRules.status, 'INVALID_ARGUMENT');
  assert.match(badRules.message, /Outcome rule/);
  const ok = await release('ok');
  assert.equal((await googleError(rollouts().create({ parent: ok, rolloutId: 'z', requestBody: { targetId: 'elsewhere' } }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(rollouts().create({ parent: ok, rolloutId: 'Bad', requestBody: { targetId: 'dev' } }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(rollouts().create({ parent: `${PIPE}/releases/none`, rolloutId: 'z', requestBody: { targetId: 'dev' } }))).status, 'NOT_FOUND');
  await opDone(api.deliveryPipelines.patch({ name: PIPE, updateMask: 'suspended', requestBody: { suspended: true } }));
  assert.equal((await googleError(rollouts().create({ parent: ok, rolloutId: 'z', requestBody: { targetId: 'dev' } }))).status, 'FAILED_PRECONDITION');
  await opDone(api.deliveryPipelines.patch({ name: PIPE, updateMask: 'suspended', requestBody: { suspended: false } }));
});

test('rollouts read fine with enum-encoding=int and filter on job state', async () => {
  const raw = (await (await fetch(`${g.url}/v1/${PIPE}/releases/r1/rollouts/r1-dev?$alt=json;enum-encoding=int`)).json()) as { state: number; phases: { state: number; deploymentJobs: { deployJob: { state: number } } }[] };
  assert.equal(raw.state, 1);
  assert.equal(raw.phases[0].state, 3);
  assert.equal(raw.phases[0].deploymentJobs.deployJob.state, 4);
  const failedJobs = (await rollouts().list({ parent: `${PIPE}/releases/-`, filter: 'phases.deploymentJobs.verifyJob.state="FAILED"' })).data.rollouts ?? [];
  assert.deepEqual(failedJobs.map(r => r.name), []);
});

test('rollbackTarget: validateOnly previews, then creates a linked rollout of the previous release', async () => {
  for (const id of ['b1', 'b2']) await state(await rollout(await release(id), `${id}-dev`, 'dev'), 'SUCCEEDED');
  const preview = (await api.deliveryPipelines.rollbackTarget({ name: PIPE, requestBody: { targetId: 'dev', rolloutId: 'back', validateOnly: true } })).data;
  assert.equal(preview.rollbackConfig!.rollout!.name, `${PIPE}/releases/b1/rollouts/back`);
  assert.equal(preview.rollbackConfig!.rollout!.rollbackOfRollout, `${PIPE}/releases/b2/rollouts/b2-dev`);
  assert.equal(preview.rollbackConfig!.startingPhaseId, 'stable');
  assert.equal((await googleError(rollouts().get({ name: `${PIPE}/releases/b1/rollouts/back` }))).status, 'NOT_FOUND');
  await api.deliveryPipelines.rollbackTarget({ name: PIPE, requestBody: { targetId: 'dev', rolloutId: 'back', rollbackConfig: { rollout: { description: 'undo b2' } } } });
  const back = await state(`${PIPE}/releases/b1/rollouts/back`, 'SUCCEEDED');
  assert.equal(back.description, 'undo b2');
  assert.equal(back.rollbackOfRollout, `${PIPE}/releases/b2/rollouts/b2-dev`);
  assert.deepEqual((await get(`${PIPE}/releases/b2/rollouts/b2-dev`)).rolledBackByRollouts, [`${PIPE}/releases/b1/rollouts/back`]);
  const stale = await googleError(api.deliveryPipelines.rollbackTarget({ name: PIPE, requestBody: { targetId: 'dev', rolloutId: 'again', rolloutToRollBack: `${PIPE}/releases/b2/rollouts/b2-dev` } }));
  assert.equal(stale.status, 'FAILED_PRECONDITION');
  assert.equal((await googleError(api.deliveryPipelines.rollbackTarget({ name: PIPE, requestBody: { targetId: 'qa-none', rolloutId: 'x' } }))).status, 'FAILED_PRECONDITION');
  assert.equal((await googleError(api.deliveryPipelines.rollbackTarget({ name: PIPE, requestBody: { targetId: 'dev' } }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(api.deliveryPipelines.rollbackTarget({ name: `${LOC}/deliveryPipelines/none`, requestBody: { targetId: 'dev', rolloutId: 'x' } }))).status, 'NOT_FOUND');
});

test('outcome rules set through Gantry\'s API apply to the rollouts under their scope', async () => {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> };
  };
  assert.equal((await call('POST', '/gantry/v1/outcomes', { scope: PIPE, rules: 'stable/explode' })).status, 400);
  assert.equal((await call('POST', '/gantry/v1/outcomes', { scope: PIPE })).status, 400);
  const rel = await release('api1');
  const made = await call('POST', '/gantry/v1/outcomes', { scope: rel, rules: 'stable/deploy=fail:CLOUD_BUILD_UNAVAILABLE' });
  assert.equal(made.status, 200);
  const listed = await call('GET', '/gantry/v1/outcomes');
  assert.ok((listed.json.outcomes as { name: string }[]).some(o => o.name === made.json.name));
  const name = await rollout(rel, 'api1-dev', 'dev');
  const r = await state(name, 'FAILED');
  assert.equal(r.deployFailureCause, 'CLOUD_BUILD_UNAVAILABLE');
  // Out of scope: another release deploys normally.
  await state(await rollout(await release('api2'), 'api2-dev', 'dev'), 'SUCCEEDED');
  assert.equal((await call('DELETE', `/gantry/v1/${String(made.json.name)}`)).status, 200);
  assert.equal((await call('DELETE', `/gantry/v1/${String(made.json.name)}`)).status, 404);
  await rollouts().retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'deploy' } });
  await state(name, 'SUCCEEDED');
});
