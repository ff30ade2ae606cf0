// Google's custom-targets/helm sample (cloud-deploy-samples), run as its quickstart/QUICKSTART.md says, from the
// quickstart directory of a clone, with gcloud pointed at Gantry. QUICKSTART steps the test runs:
//   1. Clone the repository and change to custom-targets/helm/quickstart (here: a copy made a git repository, since
//      the registration script passes the clone's commit to its build).
//   3. `gcloud services enable clouddeploy.googleapis.com container.googleapis.com` as written (the IAM grants of
//      that step are not run: Gantry checks no permissions).
//   4. `../build_and_register.sh -p $PROJECT_ID -r $REGION`, run unchanged. Its image build cannot run here (no
//      Docker engine, no Artifact Registry): a `gcloud` shim in front of the real one stands in for
//      `gcloud beta builds submit` and the `gcloud artifacts …` calls around it (the repository, its reader grant,
//      the built image's digest). Everything else the script does — the project number, the bucket, the Skaffold
//      module upload to Cloud Storage, `gcloud deploy apply` of the custom target type — is the real gcloud against
//      Gantry.
//   5. Not run: the GKE cluster (`gcloud container clusters create-auto`); the target only names it.
//   6. The sed of clouddeploy.yaml ($PROJECT_ID, $REGION, $CLUSTER_ID) and `gcloud deploy apply`.
//   7. `gcloud deploy releases create release-001 … --source=configuration`.
//   8. `gcloud deploy rollouts describe release-001-to-helm-cluster-0001 …`.
//   9. `gcloud deploy delete --file=clouddeploy.yaml --force`.
// The helm deployer image's render and deploy actions run as Gantry's simulated custom actions (the default
// executor; the module names only an image, which the process executor cannot run): the render and the deploy
// succeed, as the real deployer's do for this chart. Simulated actions write no results.json, so the release and
// rollout carry no custom metadata; custom-target-gcloud.test.ts runs a stand-in deployer under the process
// executor and checks the metadata its results.json reports.
//
// Google's files are not kept in this repository: with GANTRY_SAMPLES_DIR naming a directory that holds a checkout of
// cloud-deploy-samples, the test runs `$GANTRY_SAMPLES_DIR/cloud-deploy-samples/custom-targets/helm` (with its sibling
// custom-targets/util, which the script calls); otherwise test/fixtures/helm-custom-target-sample, our stand-in with
// the sample's layout, names and a build_and_register.sh making the same gcloud calls.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { chmodSync, cpSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const STAND_IN = fileURLToPath(new URL('../../../test/fixtures/helm-custom-target-sample', import.meta.url));
const SAMPLES = process.env.GANTRY_SAMPLES_DIR ? join(process.env.GANTRY_SAMPLES_DIR, 'cloud-deploy-samples/custom-targets') : undefined;
/** Google's custom-targets/helm (and the util directory its script calls) from a checkout, else our stand-in. */
const sample = SAMPLES && existsSync(join(SAMPLES, 'helm/build_and_register.sh'))
  ? { helm: join(SAMPLES, 'helm'), util: join(SAMPLES, 'util') }
  : { helm: STAND_IN };
const run = promisify(execFile);
const PROJECT_ID = 'my-proj', REGION = 'us-central1', CLUSTER_ID = 'quickstart-cluster-helm';
const DIGEST = `sha256:${'c'.repeat(64)}`;
let g: Gantry;
let gcloud: Gcloud;
let quickstart: string;

/** The stand-in for what needs Docker and Artifact Registry; every other command goes to the real gcloud. */
const SHIM = `#!/bin/bash
args=" $* "
case "$args" in
  *" artifacts repositories describe "*) exit 1 ;;
  *" artifacts repositories create "*|*" artifacts repositories add-iam-policy-binding "*) echo "[shim] gcloud$args" >&2; exit 0 ;;
  *" builds submit "*) echo "[shim] gcloud$args (no Docker engine here: the image is not built)" >&2; exit 0 ;;
  *" artifacts docker images describe "*) echo "${DIGEST}"; exit 0 ;;
esac
exec "$REAL_GCLOUD" "$@"
`;

const sh = (script: string, cwd: string, env: NodeJS.ProcessEnv = gcloud.env) => run('bash', ['-c', script], { cwd, env, timeout: 120_000, maxBuffer: 16 << 20 });

before(async () => {
  g = await startTestGantry({ jobMs: 20 });
  gcloud = await gcloudFor(g.url, PROJECT_ID);
  for (const api of ['SERVICEUSAGE', 'CLOUDRESOURCEMANAGER']) gcloud.env[`CLOUDSDK_API_ENDPOINT_OVERRIDES_${api}`] = `${g.url}/`;
  // 1. Clone the repository (a git checkout: the script reads its commit) and go to the quickstart directory.
  const clone = join(tempDir(), 'cloud-deploy-samples');
  cpSync(sample.helm, join(clone, 'custom-targets/helm'), { recursive: true });
  if (sample.util) cpSync(sample.util, join(clone, 'custom-targets/util'), { recursive: true });
  const git = { ...gcloud.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.com', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.com' };
  await sh('git init -q && git add -A && git commit -qm clone', clone, git);
  quickstart = join(clone, 'custom-targets/helm/quickstart');
});
after(() => g.close());

test('custom-targets/helm: build_and_register.sh registers the type from its Cloud Storage module; the quickstart release renders and its rollout succeeds', async () => {
  const env = { ...gcloud.env, PROJECT_ID, REGION };
  // 3. Prerequisites: the APIs (the IAM grants are left out: Gantry checks no permissions, and the script below
  // reads the project number the same way).
  await sh('gcloud services enable clouddeploy.googleapis.com container.googleapis.com --project $PROJECT_ID', quickstart, env);

  // 4. Build and register the custom target type, with the image build replaced (see the header).
  const bin = tempDir('shim-');
  writeFileSync(join(bin, 'gcloud'), SHIM);
  chmodSync(join(bin, 'gcloud'), 0o755);
  const real = (await run('bash', ['-c', 'command -v gcloud'], { env: gcloud.env })).stdout.trim();
  const reg = await sh('../build_and_register.sh -p $PROJECT_ID -r $REGION', quickstart, { ...env, PATH: `${bin}:${gcloud.env.PATH}`, REAL_GCLOUD: real, TERM: 'dumb' });
  const head = (await run('git', ['rev-parse', 'HEAD'], { cwd: quickstart })).stdout.trim();
  const build = /^\[shim\] gcloud .*\bbuilds submit .*$/m.exec(reg.stderr)?.[0] ?? '';
  assert.match(build, /[ ,=]_IMAGE_NAME=helm,/, reg.stderr);
  assert.ok(build.includes(`COMMIT_SHA=${head}`), build);
  const module = await (await fetch(`${g.url}/storage/v1/b/${PROJECT_ID}-${REGION}-custom-targets/o/helm%2Fskaffold.yaml?alt=media`)).text();
  assert.match(module, new RegExp(`image: ${REGION}-docker.pkg.dev/${PROJECT_ID}/cd-custom-targets/helm@${DIGEST}`));
  const type = await (await fetch(`${g.url}/v1/projects/${PROJECT_ID}/locations/${REGION}/customTargetTypes/helm`)).json() as { customActions: Record<string, unknown> };
  assert.deepEqual(type.customActions, {
    renderAction: 'helm-deployer', deployAction: 'helm-deployer',
    includeSkaffoldModules: [{ configs: ['helmConfig'], googleCloudStorage: { source: `gs://${PROJECT_ID}-${REGION}-custom-targets/helm/*`, path: 'skaffold.yaml' } }],
  });

  // 6. Create delivery pipeline and target.
  await sh(`export CLUSTER_ID=${CLUSTER_ID}
sed -i "s/\\$PROJECT_ID/\${PROJECT_ID}/g" ./clouddeploy.yaml
sed -i "s/\\$REGION/\${REGION}/g" ./clouddeploy.yaml
sed -i "s/\\$CLUSTER_ID/\${CLUSTER_ID}/g" ./clouddeploy.yaml
gcloud deploy apply --file=clouddeploy.yaml --project=$PROJECT_ID --region=$REGION`, quickstart, env);
  assert.match(readFileSync(join(quickstart, 'clouddeploy.yaml'), 'utf8'), /customTarget\/helmGKECluster: projects\/my-proj\/locations\/us-central1\/clusters\/quickstart-cluster-helm/);

  // 7. Create a release.
  await sh('gcloud deploy releases create release-001 --delivery-pipeline=helm-pipeline --project=$PROJECT_ID --region=$REGION --source=configuration', quickstart, env);
  const rel = await eventually(async () => {
    const r = JSON.parse((await sh('gcloud deploy releases describe release-001 --delivery-pipeline=helm-pipeline --project=$PROJECT_ID --region=$REGION --format=json', quickstart, env)).stdout) as Release;
    return r.renderState !== 'IN_PROGRESS' ? r : undefined;
  }, 20_000);
  assert.equal(rel.renderState, 'SUCCEEDED', JSON.stringify(rel.targetRenders));
  const typeName = `projects/${PROJECT_ID}/locations/${REGION}/customTargetTypes/helm`;
  assert.deepEqual(rel.customTargetTypeSnapshots.map(t => t.name), [typeName]);
  assert.equal(rel.targetSnapshots[0].customTarget?.customTargetType, typeName);
  // Simulated actions leave no results.json, so there is no custom metadata to report.
  assert.equal(rel.targetRenders['helm-cluster'].metadata?.custom, undefined);

  // 8. Check rollout status for the target.
  const ro = await eventually(async () => {
    const r = JSON.parse((await sh('gcloud deploy rollouts describe release-001-to-helm-cluster-0001 --release=release-001 --delivery-pipeline=helm-pipeline --project=$PROJECT_ID --region=$REGION --format=json', quickstart, env)).stdout) as Rollout;
    return ['SUCCEEDED', 'FAILED', 'HALTED', 'CANCELLED'].includes(r.state) ? r : undefined;
  }, 20_000);
  assert.equal(ro.state, 'SUCCEEDED', ro.failureReason);
  assert.equal(ro.phases[0].deploymentJobs.deployJob.state, 'SUCCEEDED');
  assert.equal(ro.metadata?.custom, undefined);

  // 9. Clean up: the Cloud Deploy resources go, the pipeline's release and rollout with it (--force).
  await sh('gcloud deploy delete --file=clouddeploy.yaml --force --project=$PROJECT_ID --region=$REGION', quickstart, env);
  assert.equal((await fetch(`${g.url}/v1/projects/${PROJECT_ID}/locations/${REGION}/deliveryPipelines/helm-pipeline`)).status, 404);
  assert.equal((await fetch(`${g.url}/v1/projects/${PROJECT_ID}/locations/${REGION}/targets/helm-cluster`)).status, 404);
});

interface Release { renderState: string; customTargetTypeSnapshots: { name: string }[]; targetSnapshots: { customTarget?: { customTargetType: string } }[]; targetRenders: Record<string, { renderingState: string; failureMessage?: string; metadata?: { custom?: { values: Record<string, string> } } }>; targetArtifacts: Record<string, { artifactUri: string; manifestPath: string }> }
interface Rollout { state: string; failureReason?: string; phases: { id: string; deploymentJobs: { deployJob: { jobRun: string; state: string } } }[]; metadata?: { custom?: { values: Record<string, string> } } }
