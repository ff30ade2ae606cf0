// Fields Google's server fills in, as clients read them back: a target's execution configs, the Cloud Build build
// behind every job run and a rollout's deploy (named with the project number), a verify job run's artifacts, the
// state a rollout of a rendered release is created in, and a rollout's failureReason. Simulated and process
// executors; the container executor's are checked in rollouts-container.test.ts.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { DeployKit } from '../helpers/deploy.js';
import { projectNumber } from '../../src/google/project-number.js';
import type { Gantry } from '../../src/gantry.js';
import { uploadSource } from '../helpers/source.js';

const PROJECT = 'fields-proj';
const LOC = `projects/${PROJECT}/locations/us-central1`;
const PIPELINE = `${LOC}/deliveryPipelines/p`;
const HOOKS = fileURLToPath(new URL('../../../test/fixtures/hooks', import.meta.url));
const NUMBER = projectNumber(PROJECT);
const BUILD = new RegExp(`^projects/${NUMBER}/locations/us-central1/builds/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`);
const ARTIFACTS = `gs://us-central1.deploy-artifacts.${PROJECT}.appspot.com`;
const COMPUTE_SA = `${NUMBER}-compute@developer.gserviceaccount.com`;

let g: Gantry;
let gcloud: Gcloud;
const k = new DeployKit();
const P = ['--delivery-pipeline=p', '--region=us-central1'];

interface ExecutionConfig { usages: string[]; executionTimeout?: string; serviceAccount?: string; artifactStorage?: string; defaultPool?: { serviceAccount?: string; artifactStorage?: string } }
interface Target { name: string; etag: string; executionConfigs?: ExecutionConfig[] }

before(async () => {
  // Simulated by default; the `proc` target asks for the process executor.
  g = await startTestGantry({ allowExecutors: ['process'] });
  k.attach(g.url);
  gcloud = await gcloudFor(g.url, PROJECT);
  const dir = tempDir();
  writeFileSync(join(dir, 'deploy.yaml'), `apiVersion: deploy.cloud.google.com/v1
kind: DeliveryPipeline
metadata:
  name: p
serialPipeline:
  stages:
  - targetId: dev
    strategy:
      standard:
        verify: true
        predeploy:
          actions: [announce]
        postdeploy:
          actions: [announce]
  - targetId: tuned
    strategy:
      standard:
        verify: true
  - targetId: prod
  - targetId: proc
    strategy:
      standard:
        verify: true
        predeploy:
          actions: [announce]
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: dev
run:
  location: ${LOC}
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: tuned
run:
  location: ${LOC}
executionConfigs:
- usages: [RENDER, DEPLOY]
  executionTimeout: 7200s
- usages: [VERIFY]
  serviceAccount: verifier@${PROJECT}.iam.gserviceaccount.com
  artifactStorage: gs://fields-verify/runs
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: prod
requireApproval: true
run:
  location: ${LOC}
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: proc
  annotations:
    gantry.dev/executor: process
run:
  location: ${LOC}
`);
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'deploy.yaml')}`, '--region=us-central1']);
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'deploy.yaml')}`, '--region=us-central1']); // re-applied: nothing changes
});
after(() => g.close());

const describeTarget = async (id: string): Promise<Target> => {
  const out = await gcloud.json<{ Target: Target } | Target>(['deploy', 'targets', 'describe', id, '--region=us-central1']);
  return 'Target' in out ? out.Target : out;
};

test('a target created without execution configs reads back with the default Google fills', async () => {
  assert.match(NUMBER, /^[1-9][0-9]{11}$/);
  const dev = await describeTarget('dev');
  assert.deepEqual(dev.executionConfigs, [{
    artifactStorage: ARTIFACTS,
    defaultPool: { artifactStorage: ARTIFACTS, serviceAccount: COMPUTE_SA },
    executionTimeout: '3600s',
    serviceAccount: COMPUTE_SA,
    usages: ['RENDER', 'DEPLOY', 'VERIFY', 'PREDEPLOY', 'POSTDEPLOY'],
  }]);
  // The same through googleapis, and stable: re-applying the same file kept the etag (and a PATCH of the
  // description keeps the defaults).
  const viaApi = (await k.api.targets.get({ name: `${LOC}/targets/dev` })).data;
  assert.deepEqual(viaApi.executionConfigs, dev.executionConfigs);
  const patched = await k.opDone(k.api.targets.patch({ name: `${LOC}/targets/dev`, updateMask: 'description', requestBody: { description: 'dev' } }));
  assert.deepEqual((patched.response as clouddeploy_v1.Schema$Target).executionConfigs, dev.executionConfigs);
});

test('given execution configs keep what they say and get the rest filled in', async () => {
  const tuned = await describeTarget('tuned');
  assert.deepEqual(tuned.executionConfigs, [
    {
      artifactStorage: ARTIFACTS,
      defaultPool: { artifactStorage: ARTIFACTS, serviceAccount: COMPUTE_SA },
      executionTimeout: '7200s',
      serviceAccount: COMPUTE_SA,
      usages: ['RENDER', 'DEPLOY'],
    },
    {
      artifactStorage: 'gs://fields-verify/runs',
      defaultPool: { artifactStorage: 'gs://fields-verify/runs', serviceAccount: `verifier@${PROJECT}.iam.gserviceaccount.com` },
      executionTimeout: '3600s',
      serviceAccount: `verifier@${PROJECT}.iam.gserviceaccount.com`,
      usages: ['VERIFY'],
    },
  ]);
});

test('simulated: a rollout of a rendered release is created PENDING (enqueued) and its job runs name their builds', async () => {
  const release = await k.renderedRelease(PIPELINE, 'r1', { skaffoldConfigUri: await uploadSource(g.url, 'gs://fields-src/source.tgz') });
  assert.equal(release.renderState, 'SUCCEEDED');
  // The LRO's response is the rollout as created: enqueued for its target's queue, not waiting on the render.
  const op = await k.opDone(k.rollouts.create({ parent: release.name!, rolloutId: 'ro1', requestBody: { targetId: 'dev' } }));
  const created = op.response as clouddeploy_v1.Schema$Rollout;
  assert.equal(created.state, 'PENDING');
  assert.equal(created.enqueueTime, created.createTime);
  const name = `${release.name!}/rollouts/ro1`;
  const r = await k.until(name, x => x.state === 'SUCCEEDED');
  assert.equal(r.enqueueTime, created.enqueueTime);
  const jobs = r.phases![0].deploymentJobs!;
  const run = async (job?: clouddeploy_v1.Schema$Job) => (await k.rollouts.jobRuns.get({ name: job!.jobRun! })).data;
  const [pre, deploy, verify, post] = await Promise.all([run(jobs.predeployJob), run(jobs.deployJob), run(jobs.verifyJob), run(jobs.postdeployJob)]);
  for (const build of [pre.predeployJobRun!.build, deploy.deployJobRun!.build, verify.verifyJobRun!.build, post.postdeployJobRun!.build]) assert.match(build!, BUILD);
  assert.equal(new Set([pre.predeployJobRun!.build, deploy.deployJobRun!.build, verify.verifyJobRun!.build, post.postdeployJobRun!.build]).size, 4);
  // The rollout's deployingBuild is its deploy job run's build.
  assert.equal(r.deployingBuild, deploy.deployJobRun!.build);
  // A verify job run's artifacts: a directory beside the release's rendered artifacts, the log relative to it.
  const verifyId = verify.name!.slice(verify.name!.lastIndexOf('/') + 1);
  assert.equal(verify.verifyJobRun!.artifactUri, `${ARTIFACTS}/r1-${release.uid!}/dev/jobRuns/${verifyId}`);
  assert.equal(verify.verifyJobRun!.eventLogPath, 'verify.log');

  // Through gcloud: the describe shows the build, and promoting the rendered release to an approval target says so.
  const described = await gcloud.json<{ deployingBuild: string }>(['deploy', 'rollouts', 'describe', 'ro1', '--release=r1', ...P]);
  assert.equal(described.deployingBuild, r.deployingBuild);
  const promoted = await gcloud(['deploy', 'releases', 'promote', '--release=r1', '--to-target=prod', '--rollout-id=ro-prod', ...P]);
  assert.match(promoted.stderr, /The rollout is pending approval\./);
  const prod = await k.rollout(`${release.name!}/rollouts/ro-prod`);
  assert.equal(prod.state, 'PENDING_APPROVAL');
  assert.equal(prod.enqueueTime, undefined);
});

test('simulated: a verify job keeps its artifacts in the storage of the target\'s VERIFY execution config', async () => {
  const release = await k.renderedRelease(PIPELINE, 'r2', { skaffoldConfigUri: await uploadSource(g.url, 'gs://fields-src/source.tgz') });
  const snapshot = release.targetSnapshots!.find(t => t.targetId === 'tuned')!;
  assert.equal(snapshot.executionConfigs![1].artifactStorage, 'gs://fields-verify/runs');
  await k.opDone(k.rollouts.create({ parent: release.name!, rolloutId: 'ro-tuned', requestBody: { targetId: 'tuned' } }));
  const r = await k.until(`${release.name!}/rollouts/ro-tuned`, x => x.state === 'SUCCEEDED');
  const verify = (await k.rollouts.jobRuns.get({ name: r.phases![0].deploymentJobs!.verifyJob!.jobRun! })).data;
  const id = verify.name!.slice(verify.name!.lastIndexOf('/') + 1);
  assert.equal(verify.verifyJobRun!.artifactUri, `gs://fields-verify/runs/r2-${release.uid!}/tuned/jobRuns/${id}`);
  assert.equal(verify.verifyJobRun!.eventLogPath, 'verify.log');
  assert.match(verify.verifyJobRun!.build!, BUILD);
  assert.match(r.deployingBuild!, BUILD);
});

test('simulated: a failed job gives one failureReason naming the job and phase once', async () => {
  const release = await k.renderedRelease(PIPELINE, 'r3', { skaffoldConfigUri: await uploadSource(g.url, 'gs://fields-src/source.tgz') });
  await k.opDone(k.rollouts.create({
    parent: release.name!, rolloutId: 'ro-fail',
    requestBody: { targetId: 'dev', annotations: { 'gantry.dev/outcomes': 'stable/verify=fail:EXECUTION_FAILED' } },
  }));
  const r = await k.until(`${release.name!}/rollouts/ro-fail`, x => x.state === 'FAILED');
  assert.equal(r.deployFailureCause, 'EXECUTION_FAILED');
  assert.equal(r.failureReason, 'Rollout failed because job "verify" in phase "stable" failed: Gantry\'s outcome rules scripted this failure (EXECUTION_FAILED).');
  const verify = (await k.rollouts.jobRuns.get({ name: r.phases![0].deploymentJobs!.verifyJob!.jobRun! })).data;
  assert.equal(verify.verifyJobRun!.failureMessage, 'Gantry\'s outcome rules scripted this failure (EXECUTION_FAILED).');
  assert.match(verify.verifyJobRun!.build!, BUILD);
  assert.ok(verify.verifyJobRun!.artifactUri && verify.verifyJobRun!.eventLogPath);
});

test('process: builds, the verify log at artifactUri/eventLogPath, and a clean failureReason', async () => {
  const source = join(tempDir(), 'src');
  cpSync(HOOKS, source, { recursive: true });
  const release = await k.renderedRelease(PIPELINE, 'r4', { skaffoldConfigUri: pathToFileURL(source).href });
  assert.equal(release.renderState, 'SUCCEEDED');
  const op = await k.opDone(k.rollouts.create({ parent: release.name!, rolloutId: 'ro-proc', requestBody: { targetId: 'proc' } }));
  assert.equal((op.response as clouddeploy_v1.Schema$Rollout).state, 'PENDING');
  const name = `${release.name!}/rollouts/ro-proc`;
  const r = await k.until(name, x => x.state === 'FAILED');
  const jobs = r.phases![0].deploymentJobs!;
  const verify = (await k.rollouts.jobRuns.get({ name: jobs.verifyJob!.jobRun! })).data;
  const v = verify.verifyJobRun!;
  assert.match(v.build!, BUILD);
  assert.equal(v.artifactUri, `${ARTIFACTS}/r4-${release.uid!}/proc/jobRuns/${verify.name!.slice(verify.name!.lastIndexOf('/') + 1)}`);
  assert.equal(v.eventLogPath, 'verify.log');
  assert.match(await k.download(`${v.artifactUri!}/${v.eventLogPath!}`), /smoke\] stderr: ready.flag is missing/);
  assert.match(v.failureMessage!, new RegExp(`^container "smoke" exited with code 1\\. Logs: ${v.artifactUri!.replace(/[.]/g, '\\.')}/verify\\.log `));
  // The rollout says which job failed once, then why.
  assert.equal(r.failureReason, `Rollout failed because job "verify" in phase "stable" failed: ${v.failureMessage!}`);
  assert.equal(r.failureReason!.match(/"verify"/g)!.length, 1);
  const pre = (await k.rollouts.jobRuns.get({ name: jobs.predeployJob!.jobRun! })).data;
  assert.match(pre.predeployJobRun!.build!, BUILD);
  const deploy = (await k.rollouts.jobRuns.get({ name: jobs.deployJob!.jobRun! })).data;
  assert.match(deploy.deployJobRun!.build!, BUILD);
  assert.equal(r.deployingBuild, deploy.deployJobRun!.build);

  // Fixed and retried: a new job run, a new build and its own artifact directory.
  writeFileSync(join(source, 'ready.flag'), 'yes');
  await k.rollouts.retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'verify' } });
  const done = await k.until(name, x => x.state === 'SUCCEEDED');
  const passed = (await k.rollouts.jobRuns.get({ name: done.phases![0].deploymentJobs!.verifyJob!.jobRun! })).data.verifyJobRun!;
  assert.notEqual(passed.build, v.build);
  assert.notEqual(passed.artifactUri, v.artifactUri);
  assert.match(await k.download(`${passed.artifactUri!}/${passed.eventLogPath!}`), /smoke test passed/);
  assert.equal(done.failureReason, undefined);
});
