// Google's postdeploy-hooks/k8s-cleanup sample (cloud-deploy-samples), run as its quickstart/QUICKSTART.md says, from
// the quickstart directory of a clone, with gcloud pointed at Gantry. QUICKSTART steps the test runs:
//   4. Not run: building and pushing the cleanup image (Docker and Artifact Registry); IMAGE is only the name the
//      QUICKSTART gives it.
//   5. Not run: the GKE cluster; the target only names it (CLUSTER_ID as the QUICKSTART sets it).
//   6. The sed of configuration/clouddeploy.yaml ($PROJECT_ID, $REGION, $CLUSTER_ID), `gcloud deploy apply`, and the
//      sed of configuration/skaffold.yaml ($K8S_CLEANUP_IMAGE).
//   7. `gcloud deploy releases create release-001 … --source=configuration --images=my-app-image=…`.
//   8. The sed renaming the Deployment in kubernetes.yaml (…-orig to …-new) and release-002.
//   9. `gcloud deploy delete --file=configuration/clouddeploy.yaml` (no --force).
// The hook (the stage's `postdeploy.actions: ["cleanup-action"]`, a customAction of skaffold.yaml) runs as Gantry's
// simulated job, scripted through the control API's outcome rules where the test needs it to fail.
//
// Google's files are not kept in this repository: with GANTRY_SAMPLES_DIR naming a directory that holds a checkout of
// cloud-deploy-samples, the test runs `$GANTRY_SAMPLES_DIR/cloud-deploy-samples/postdeploy-hooks/k8s-cleanup`'s
// quickstart; otherwise test/fixtures/k8s-cleanup-sample, our stand-in with the sample's layout, resource names,
// custom action, hook and placeholders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { sampleDir } from '../helpers/samples.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

/** The quickstart directory: Google's from a checkout, else our stand-in's. */
const SAMPLE = join(sampleDir('cloud-deploy-samples/postdeploy-hooks/k8s-cleanup', 'quickstart/configuration/clouddeploy.yaml', 'k8s-cleanup-sample').dir, 'quickstart');
const run = promisify(execFile);
const PROJECT_ID = 'my-proj', REGION = 'us-central1';
const PIPELINE = `projects/${PROJECT_ID}/locations/${REGION}/deliveryPipelines/k8s-cleanup-qs`;
const NGINX = 'gcr.io/google-containers/nginx@sha256:f49a843c290594dcf4d193535d1f4ba8af7d56cea2cf79d1e9554f077f1e7aaa';
let g: Gantry;
let gcloud: Gcloud;
let quickstart: string;
let env: NodeJS.ProcessEnv;

const sh = (script: string) => run('bash', ['-c', script], { cwd: quickstart, env, timeout: 120_000, maxBuffer: 16 << 20 });
const createRelease = (id: string) => sh(`gcloud deploy releases create ${id} \\
    --delivery-pipeline=k8s-cleanup-qs \\
    --project=$PROJECT_ID \\
    --region=$REGION \\
    --source=configuration \\
    --images=my-app-image=${NGINX}`);
const settled = (release: string) => eventually(async () => {
  const r = await gcloud.json<Rollout>(['deploy', 'rollouts', 'describe', `${release}-to-k8s-cleanup-qs-prod-0001`, `--release=${release}`, '--delivery-pipeline=k8s-cleanup-qs', `--region=${REGION}`]);
  return ['SUCCEEDED', 'FAILED', 'HALTED', 'CANCELLED'].includes(r.state) ? r : undefined;
}, 20_000);

/** The release's rendered manifest for the target, read from Gantry's Cloud Storage. */
async function renderedManifest(release: string): Promise<string> {
  const r = await (await fetch(`${g.url}/v1/${PIPELINE}/releases/${release}`)).json() as { targetArtifacts: Record<string, { artifactUri: string; manifestPath: string }> };
  const a = r.targetArtifacts['k8s-cleanup-qs-prod'];
  const [, bucket, object] = /^gs:\/\/([^/]+)\/(.+)$/.exec(`${a.artifactUri}/${a.manifestPath}`)!;
  return (await fetch(`${g.url}/storage/v1/b/${bucket}/o/${encodeURIComponent(object)}?alt=media`)).text();
}

interface Job { id: string; state: string; jobRun?: string; postdeployJob?: { actions: string[] } }
interface Rollout { state: string; failureReason?: string; deployFailureCause?: string; phases: { id: string; state: string; deploymentJobs: { deployJob: Job; postdeployJob?: Job } }[] }
interface JobRun { state: string; phaseId: string; jobId: string; postdeployJobRun?: { failureCause?: string; failureMessage?: string; build?: string } }

before(async () => {
  g = await startTestGantry({ jobMs: 20 });
  gcloud = await gcloudFor(g.url, PROJECT_ID);
  quickstart = join(tempDir(), 'quickstart');
  cpSync(SAMPLE, quickstart, { recursive: true });
  env = { ...gcloud.env, PROJECT_ID, REGION };
  // 4. (image not built) and 5. (cluster not created): the names the QUICKSTART gives them.
  // 6. Create delivery pipeline and target.
  await sh(`CLUSTER_ID=quickstart-k8s-cleanup
IMAGE=$REGION-docker.pkg.dev/$PROJECT_ID/cd-k8s-cleanup/k8s-cleanup
sed -i "s%\\$PROJECT_ID%\${PROJECT_ID}%g" ./configuration/clouddeploy.yaml
sed -i "s%\\$REGION%\${REGION}%g" ./configuration/clouddeploy.yaml
sed -i "s%\\$CLUSTER_ID%\${CLUSTER_ID}%g" ./configuration/clouddeploy.yaml
gcloud deploy apply --file=configuration/clouddeploy.yaml --project=$PROJECT_ID --region=$REGION
sed -i "s%\\$K8S_CLEANUP_IMAGE%\${IMAGE}%g" ./configuration/skaffold.yaml`);
});
after(() => g.close());

test('k8s-cleanup: the rollout runs the sample\'s postdeploy hook as the stable phase\'s postdeploy job, after the deploy', async () => {
  // 7. Create a release.
  await createRelease('release-001');
  const ro = await settled('release-001');
  assert.equal(ro.state, 'SUCCEEDED', ro.failureReason);
  assert.equal(ro.phases.length, 1);
  const { deployJob, postdeployJob } = ro.phases[0].deploymentJobs;
  assert.equal(ro.phases[0].id, 'stable');
  assert.equal(deployJob.state, 'SUCCEEDED');
  assert.equal(postdeployJob?.id, 'postdeploy');
  assert.deepEqual(postdeployJob?.postdeployJob, { actions: ['cleanup-action'] });
  assert.equal(postdeployJob?.state, 'SUCCEEDED');
  const jr = await gcloud.json<JobRun>(['deploy', 'job-runs', 'describe', postdeployJob!.jobRun!.split('/').pop()!, '--rollout=release-001-to-k8s-cleanup-qs-prod-0001', '--release=release-001', '--delivery-pipeline=k8s-cleanup-qs', `--region=${REGION}`]);
  assert.equal(jr.state, 'SUCCEEDED');
  assert.equal(jr.phaseId, 'stable');
  assert.equal(jr.jobId, 'postdeploy');
  assert.ok(jr.postdeployJobRun, JSON.stringify(jr));
  // What the hook finds its resources by: the --images substitution and Cloud Deploy's labels on the Deployment.
  const manifest = await renderedManifest('release-001');
  assert.match(manifest, /name: k8s-cleanup-deployment-orig/);
  assert.match(manifest, new RegExp(`image: ${NGINX.replace(/[.]/g, '\\.')}`));
  for (const label of ['app.kubernetes.io/managed-by: google-cloud-deploy', 'deploy.cloud.google.com/delivery-pipeline-id: k8s-cleanup-qs', 'deploy.cloud.google.com/release-id: release-001', 'deploy.cloud.google.com/target-id: k8s-cleanup-qs-prod']) {
    assert.ok(manifest.includes(label), `${label} in\n${manifest}`);
  }
});

test('k8s-cleanup: a failing postdeploy hook fails its job run and the rollout, as Cloud Deploy reports it; retry-job runs it again', async () => {
  // 8. Rename the Deployment and release again; this time the hook is scripted to fail.
  await sh('sed -i "s/k8s-cleanup-deployment-orig/k8s-cleanup-deployment-new/" ./configuration/kubernetes.yaml');
  const r = await fetch(`${g.url}/gantry/v1/outcomes`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ scope: `${PIPELINE}/releases/release-002`, rules: 'stable/postdeploy=fail"[clean-up-image] error deleting resources"@1' }) });
  assert.equal(r.status, 200, await r.text());
  await createRelease('release-002');
  const ro = await settled('release-002');
  assert.match(await renderedManifest('release-002'), /name: k8s-cleanup-deployment-new/);
  assert.equal(ro.state, 'FAILED');
  const { deployJob, postdeployJob } = ro.phases[0].deploymentJobs;
  assert.equal(deployJob.state, 'SUCCEEDED');
  assert.equal(postdeployJob?.state, 'FAILED');
  const jr = await gcloud.json<JobRun>(['deploy', 'job-runs', 'describe', postdeployJob!.jobRun!.split('/').pop()!, '--rollout=release-002-to-k8s-cleanup-qs-prod-0001', '--release=release-002', '--delivery-pipeline=k8s-cleanup-qs', `--region=${REGION}`]);
  assert.equal(jr.state, 'FAILED');
  assert.equal(jr.postdeployJobRun?.failureCause, 'EXECUTION_FAILED');
  assert.match(jr.postdeployJobRun?.failureMessage ?? '', /error deleting resources/);
  assert.match(ro.failureReason ?? '', /job "postdeploy" in phase "stable" failed: \[clean-up-image\] error deleting resources/);

  // The failed hook is retried as another job run (the rule fails only the first attempt): the rollout succeeds.
  await gcloud(['deploy', 'rollouts', 'retry-job', 'release-002-to-k8s-cleanup-qs-prod-0001', '--job-id=postdeploy', '--phase-id=stable', '--release=release-002', '--delivery-pipeline=k8s-cleanup-qs', `--region=${REGION}`, '--quiet']);
  const again = await settled('release-002');
  assert.equal(again.state, 'SUCCEEDED', again.failureReason);
  assert.equal(again.failureReason, undefined);
  const retried = again.phases[0].deploymentJobs.postdeployJob!;
  assert.equal(retried.state, 'SUCCEEDED');
  assert.notEqual(retried.jobRun, postdeployJob!.jobRun);
});

test('k8s-cleanup: the QUICKSTART\'s clean-up (without --force) deletes the target and is refused the pipeline, which has releases', async () => {
  // 9. Cleanup. gcloud deletes targets first; the pipeline's releases make its delete fail without force, as the API
  // documents ("Otherwise, the request will only work if the pipeline has no child resources").
  const err = await sh('gcloud deploy delete --file=configuration/clouddeploy.yaml --project=$PROJECT_ID --region=$REGION').then(() => '', (e: { stderr: string }) => e.stderr);
  assert.match(err, /Status code: 400\. .*k8s-cleanup-qs/); // FAILED_PRECONDITION, as gcloud deploy prints it
  assert.match(err, /force/);
  assert.equal((await fetch(`${g.url}/v1/projects/${PROJECT_ID}/locations/${REGION}/targets/k8s-cleanup-qs-prod`)).status, 404);
  assert.equal((await fetch(`${g.url}/v1/${PIPELINE}`)).status, 200);
});
