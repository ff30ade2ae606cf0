// Google's cloud-deploy-samples `verify-evaluate-cloud-metrics`, run as its README's sections 3 and 4 say, through
// gcloud against Gantry: fill in configuration/clouddeploy.yaml and skaffold.yaml, `gcloud deploy apply
// --file=configuration/clouddeploy.yaml --project=$PROJECT_ID --region=$REGION`, then `gcloud deploy releases create
// release-001 --delivery-pipeline=my-verify-pipeline --project=$PROJECT_ID --region=$REGION --source=configuration`
// from the sample's directory, and "Advance to stable" (the Console's button is `gcloud deploy rollouts advance`).
//
// Replaced here:
// - Section 2 (IAM grants, an Artifact Registry repository, `docker build`/`docker push` of the Go verify container):
//   the container cannot be built here, so the verify job runs simulated (Gantry's default executor); its outcome is
//   what Gantry's outcome rules say (docs/control-api.md), success unless a rule scripts the MQL check failing.
// - The README's sed commands (`s%\$PROJECT_ID%…%g`) look for `$PROJECT_ID`, but the files hold `%PROJECT_ID%`,
//   `%REGION%` and `%IMAGE%` (marked "To be replaced"); the README's commands are run as written (they change
//   nothing), then the same sed fills the placeholders the files do hold.
//
// Google's files are not kept in this repository: with GANTRY_SAMPLES_DIR naming a directory that holds a checkout of
// cloud-deploy-samples, the test runs `$GANTRY_SAMPLES_DIR/cloud-deploy-samples/verify-evaluate-cloud-metrics`;
// otherwise test/fixtures/verify-metrics-sample, our stand-in with the sample's configuration directory, names,
// canary and placeholders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';
import { assertDeployFieldsKnown } from '../helpers/schema-fields.js';
import { describeSample, sampleDir } from '../helpers/samples.js';

const SAMPLE = sampleDir('cloud-deploy-samples/verify-evaluate-cloud-metrics', 'configuration/clouddeploy.yaml', 'verify-metrics-sample');
const PROJECT_ID = 'my-proj', REGION = 'us-central1';
const IMAGE = `${REGION}-docker.pkg.dev/${PROJECT_ID}/verify/cloud-metrics`;
const PIPELINE = `projects/${PROJECT_ID}/locations/${REGION}/deliveryPipelines/my-verify-pipeline`;
const P = ['--delivery-pipeline=my-verify-pipeline', `--project=${PROJECT_ID}`, `--region=${REGION}`];
const sh = promisify(execFile);
let g: Gantry;
let gcloud: Gcloud;
let dir: string;

interface Phase { id: string; state: string }
interface Rollout { name: string; state: string; failureReason?: string; deployFailureCause?: string; phases?: Phase[] }
interface JobRun {
  name: string; jobId: string; phaseId: string; state: string;
  verifyJobRun?: { build?: string; artifactUri?: string; eventLogPath?: string; failureCause?: string; failureMessage?: string };
}

const inSample = (args: string[]) => sh('gcloud', args, { cwd: dir, env: gcloud.env, timeout: 120_000 });
// Waiting reads the API directly (a gcloud start per poll is slow); the README's steps and the checks use gcloud.
const rollout = async (release: string) =>
  (await (await fetch(`${g.url}/v1/${PIPELINE}/releases/${release}/rollouts/${release}-to-prod-target-0001`)).json()) as Rollout;
const until = (release: string, pred: (r: Rollout) => boolean) => eventually(async () => { const r = await rollout(release); return pred(r) ? r : undefined; }, 15_000);
const jobRuns = (release: string) => gcloud.json<JobRun[]>(['deploy', 'job-runs', 'list', `--rollout=${release}-to-prod-target-0001`, `--release=${release}`, ...P]);
const phases = (r: Rollout): Record<string, string> => Object.fromEntries((r.phases ?? []).map(p => [p.id, p.state]));
const createRelease = (id: string) => inSample(['deploy', 'releases', 'create', id, ...P, '--source=configuration']);

before(async () => {
  g = await startTestGantry({ jobMs: 20 });
  gcloud = await gcloudFor(g.url, PROJECT_ID);
  dir = join(tempDir(), 'verify-evaluate-cloud-metrics');
  cpSync(SAMPLE.dir, dir, { recursive: true });
  const env = { ...process.env, PROJECT_ID, REGION, IMAGE };
  const bash = (script: string) => sh('bash', ['-c', script], { cwd: dir, env });
  // The README's commands, as written.
  await bash('sed -i "s%\\$PROJECT_ID%${PROJECT_ID}%g" ./configuration/clouddeploy.yaml && sed -i "s%\\$REGION%${REGION}%g" ./configuration/clouddeploy.yaml && sed -i "s%\\$IMAGE%${IMAGE}%g" ./configuration/skaffold.yaml');
  assert.match(readFileSync(join(dir, 'configuration/clouddeploy.yaml'), 'utf8'), /projects\/%PROJECT_ID%\/locations\/%REGION%/);
  // The placeholders the files hold.
  await bash('sed -i -e "s,%PROJECT_ID%,${PROJECT_ID},g" -e "s,%REGION%,${REGION},g" ./configuration/clouddeploy.yaml && sed -i "s,%IMAGE%,${IMAGE},g" ./configuration/skaffold.yaml');
  await inSample(['deploy', 'apply', '--file=configuration/clouddeploy.yaml', `--project=${PROJECT_ID}`, `--region=${REGION}`]);
});
after(() => g.close());

test('verify-evaluate-cloud-metrics: release-001 skips the canary on a first deploy and verifies stable; release-002 verifies canary-50, advances, verifies stable', async t => {
  t.diagnostic(describeSample(SAMPLE));
  const { stderr } = await createRelease('release-001');
  assert.match(stderr, /Created Cloud Deploy release release-001/);
  // Nothing runs on the target yet, so there is no traffic to split: the canary phase is skipped, and stable waits
  // for the README's "Advance to stable".
  const waiting = await until('release-001', r => phases(r)['canary-50'] === 'SKIPPED');
  assert.deepEqual([waiting.state, phases(waiting)], ['IN_PROGRESS', { 'canary-50': 'SKIPPED', stable: 'PENDING' }]);
  await gcloud(['deploy', 'rollouts', 'advance', 'release-001-to-prod-target-0001', '--release=release-001', '--phase-id=stable', ...P, '--quiet']);
  const first = await until('release-001', r => r.state !== 'IN_PROGRESS' && r.state !== 'PENDING_RELEASE');
  assert.deepEqual([first.state, phases(first)], ['SUCCEEDED', { 'canary-50': 'SKIPPED', stable: 'SUCCEEDED' }]);
  const runs1 = await jobRuns('release-001');
  const verify1 = runs1.find(j => j.jobId === 'verify' && j.phaseId === 'stable');
  assert.ok(verify1, JSON.stringify(runs1));
  assert.equal(verify1.state, 'SUCCEEDED');
  assert.match(verify1.verifyJobRun?.build ?? '', /^projects\/\d+\/locations\/us-central1\/builds\/[0-9a-f-]{36}$/);
  assert.equal(verify1.verifyJobRun?.eventLogPath, 'verify.log');

  await createRelease('release-002');
  const canary = await until('release-002', r => ['SUCCEEDED', 'FAILED'].includes(phases(r)['canary-50']));
  assert.deepEqual([canary.state, phases(canary)], ['IN_PROGRESS', { 'canary-50': 'SUCCEEDED', stable: 'PENDING' }]);
  assert.deepEqual((await jobRuns('release-002')).map(j => [j.phaseId, j.jobId, j.state]).sort(),
    [['canary-50', 'deploy', 'SUCCEEDED'], ['canary-50', 'verify', 'SUCCEEDED']]);
  await gcloud(['deploy', 'rollouts', 'advance', 'release-002-to-prod-target-0001', '--release=release-002', '--phase-id=stable', ...P, '--quiet']);
  const done = await until('release-002', r => r.state !== 'IN_PROGRESS');
  assert.deepEqual([done.state, phases(done)], ['SUCCEEDED', { 'canary-50': 'SUCCEEDED', stable: 'SUCCEEDED' }]);
  assert.ok((await jobRuns('release-002')).some(j => j.phaseId === 'stable' && j.jobId === 'verify' && j.state === 'SUCCEEDED'));
});

test('verify-evaluate-cloud-metrics: a failing verify (5xx over the threshold) fails the canary rollout as Cloud Deploy reports it', async () => {
  // What the verify container reports when the error condition lasts the trigger duration: it exits non-zero, so
  // its Cloud Build step fails and the job run fails EXECUTION_FAILED.
  const message = 'error condition met: 5xx responses were over 15% for 5m0s';
  const scripted = await fetch(`${g.url}/gantry/v1/outcomes`, {
    method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ scope: `${PIPELINE}/releases/release-003`, rules: `canary-50/verify=fail:EXECUTION_FAILED${JSON.stringify(message)}` }),
  });
  assert.equal(scripted.status, 200);
  await createRelease('release-003');
  const failed = await until('release-003', r => r.state !== 'IN_PROGRESS' && r.state !== 'PENDING_RELEASE');
  assert.equal(failed.state, 'FAILED');
  assert.equal(failed.deployFailureCause, 'EXECUTION_FAILED');
  assert.equal(phases(failed)['canary-50'], 'FAILED');
  assert.match(failed.failureReason ?? '', /job "verify" in phase "canary-50" failed/);
  assert.ok(failed.failureReason?.includes(message), failed.failureReason);
  const verify = (await jobRuns('release-003')).find(j => j.phaseId === 'canary-50' && j.jobId === 'verify');
  assert.deepEqual([verify?.state, verify?.verifyJobRun?.failureCause, verify?.verifyJobRun?.failureMessage], ['FAILED', 'EXECUTION_FAILED', message]);
  // The stable phase never starts.
  assert.ok(!(await jobRuns('release-003')).some(j => j.phaseId === 'stable'));
  // A failed verify can be retried, as on Google (`gcloud deploy rollouts retry-job`).
  await gcloud(['deploy', 'rollouts', 'retry-job', 'release-003-to-prod-target-0001', '--release=release-003', '--phase-id=canary-50', '--job-id=verify', ...P, '--quiet']);
  await eventually(async () => (await rollout('release-003')).state === 'FAILED' && (await jobRuns('release-003')).filter(j => j.jobId === 'verify').length === 2, 15_000);
});

test('every resource the sample made has only the fields its Cloud Deploy message has', async () => {
  assert.ok(await assertDeployFieldsKnown(g.url, `projects/${PROJECT_ID}/locations/${REGION}`, ['my-verify-pipeline']) > 5);
});
