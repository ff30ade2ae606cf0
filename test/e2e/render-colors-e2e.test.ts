// Google's colors-e2e sample (cloud-deploy-samples), set up as its README says: the variables of
// update_files_with_vars.sh are set (step 1: the clusters, the compute service account, the image repository) and the
// script runs, writing clouddeploy.yaml and the colors-fd/colors-be files from their templates; then
// `gcloud deploy apply -f clouddeploy.yaml` (step 3; gcloud has no `-f`, so `--file=`) and each cloudbuild.yaml's release step (steps 4 and 5), run from
// the repository root: `gcloud deploy releases create 'r$DATE-$TIME' --delivery-pipeline=colors-be --region us-central1
// --images … --skaffold-file=colors-be/skaffold.yaml --annotations=…`.
// Replaced here: the GKE clusters (Gantry simulates deploy and verify jobs: the verify containers, fortio and the
// sample's metrics checker, are not run), the build step's `docker build/push` (the image digest is made up) and its
// `git rev-parse`/`git log` (a fixed commit and author).
// Checked: the rendered manifests carry the labels Cloud Deploy adds (the sample's pods read
// `deploy.cloud.google.com/release-id` through a fieldRef), each target renders in its own Cloud Build build, a Cloud
// Run service gets the same labels in Cloud Run's form, and releases go through dev, staging and the all-prod
// multi-target as the sample's automations drive them (promote to @next, approval at all-prod, canary phases
// advanced automatically), and the README's "things to try": re-applying clouddeploy.yaml unchanged leaves the
// release's snapshots current (gcloud's approval compares etags), while a changed deploy parameter is reported.
//
// Google's files are not kept in this repository: with GANTRY_SAMPLES_DIR naming a directory that holds a checkout of
// cloud-deploy-samples, the test runs `$GANTRY_SAMPLES_DIR/cloud-deploy-samples/colors-e2e`; otherwise
// test/fixtures/colors-e2e-sample, our stand-in with the sample's templates, script, names, automations and labels
// (without the cloudbuild.yaml templates, whose release step the test runs itself).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';
import { assertDeployFieldsKnown } from '../helpers/schema-fields.js';
import { describeSample, sampleDir } from '../helpers/samples.js';

const SAMPLE = sampleDir('cloud-deploy-samples/colors-e2e', 'clouddeploy.yaml.template', 'colors-e2e-sample');
const LOC = 'projects/my-proj/locations/us-central1';
const run = promisify(execFile);
let g: Gantry;
let gcloud: Gcloud;
/** The sample's directory, set up by its script: the README's commands run from here. */
let root: string;
const IMAGE_REPO = 'us-central1-docker.pkg.dev/my-proj/colors';

type Labels = Record<string, string>;
interface Doc { kind: string; metadata: { name: string; labels?: Labels }; spec?: { selector?: unknown; template?: { metadata?: { labels?: Labels } } } }
interface Release {
  renderState: string;
  targetRenders: Record<string, { renderingState: string; renderingBuild: string; failureMessage?: string }>;
  targetArtifacts: Record<string, { artifactUri: string; manifestPath: string }>;
}

// Waiting and reading results go to the APIs directly (a gcloud start per poll is slow on a busy machine); the
// sample's own steps go through gcloud.
const rendered = (id: string, pipeline: string) => eventually(async () => {
  const r = (await (await fetch(`${g.url}/v1/${LOC}/deliveryPipelines/${pipeline}/releases/${id}`)).json()) as Release;
  return r.renderState && r.renderState !== 'IN_PROGRESS' ? r : undefined;
}, 20_000);
/** A stored object's text, through Cloud Storage's JSON API. */
const object = async (uri: string) => {
  const [, bucket, path] = /^gs:\/\/([^/]+)\/(.+)$/.exec(uri)!;
  const res = await fetch(`${g.url}/storage/v1/b/${bucket}/o/${encodeURIComponent(path)}?alt=media`);
  assert.equal(res.status, 200, uri);
  return res.text();
};
const manifestText = (r: Release, target: string, phase?: string) =>
  object(`${r.targetArtifacts[target].artifactUri}/${phase ? `${phase}/` : ''}${r.targetArtifacts[target].manifestPath}`);
const manifest = async (r: Release, target: string) =>
  YAML.parseAllDocuments(await manifestText(r, target)).map(d => d.toJS() as Doc).filter(Boolean);

before(async () => {
  g = await startTestGantry({ jobMs: 20 });
  gcloud = await gcloudFor(g.url);
  gcloud.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBUILD = `${g.url}/`;
  root = join(tempDir(), 'colors-e2e');
  cpSync(SAMPLE.dir, root, { recursive: true });
  // Step 1: "Update the variables in update_files_with_vars.sh and run the script".
  const { projectNumber } = (await (await fetch(`${g.url}/v1/projects/my-proj`)).json()) as { projectNumber: string };
  const vars: Record<string, string> = {
    DEV_CLUSTER: `${LOC}/clusters/dev`, STAGING_CLUSTER: `${LOC}/clusters/staging`,
    PROD1_CLUSTER: `${LOC}/clusters/prod1`, PROD2_CLUSTER: `${LOC}/clusters/prod2`,
    COMPUTE_SERVICE_ACCOUNT: `${projectNumber}-compute@developer.gserviceaccount.com`, IMAGE_REPO,
  };
  const script = join(root, 'update_files_with_vars.sh');
  writeFileSync(script, readFileSync(script, 'utf8').replace(/^([A-Z0-9_]+)=.*$/gm, (line, k: string) => vars[k] !== undefined ? `${k}=${vars[k]}` : line));
  await run('bash', ['update_files_with_vars.sh'], { cwd: root });
  // Step 3.
  await gcloud(['deploy', 'apply', `--file=${join(root, 'clouddeploy.yaml')}`, '--region=us-central1']);
});
after(() => g.close());

test('colors-e2e: --skaffold-file=colors-be/skaffold.yaml from the root renders k8s.yaml beside it, with Cloud Deploy\'s labels; each target has its own build', async t => {
  t.diagnostic(describeSample(SAMPLE));
  // The sample's own command, from the repository root (gcloud's --source defaults to the working directory).
  const image = `${IMAGE_REPO}/colors-backend`;
  await run('gcloud', ['deploy', 'releases', 'create', 'r20261206-1', '--delivery-pipeline=colors-be', '--region', 'us-central1',
    '--images', `${image}=${image}@sha256:${'b'.repeat(64)}`, '--skaffold-file=colors-be/skaffold.yaml', '--quiet'], { cwd: root, env: gcloud.env, timeout: 120_000 });
  const r = await rendered('r20261206-1', 'colors-be');
  assert.equal(r.renderState, 'SUCCEEDED', JSON.stringify(r.targetRenders));

  const want = (target: string): Labels => ({
    'app.kubernetes.io/managed-by': 'google-cloud-deploy',
    'deploy.cloud.google.com/location': 'us-central1',
    'deploy.cloud.google.com/project-id': 'my-proj',
    'deploy.cloud.google.com/delivery-pipeline-id': 'colors-be',
    'deploy.cloud.google.com/release-id': 'r20261206-1',
    'deploy.cloud.google.com/target-id': target,
  });
  for (const target of ['dev', 'staging']) {
    const docs = await manifest(r, target);
    const dep = docs.find(d => d.kind === 'Deployment')!;
    const svc = docs.find(d => d.kind === 'Service')!;
    // The resource's own labels (k8s-cleanup selects by them) and its pods' (colors-be reads release-id by fieldRef);
    // the sample's own `app: be` stays, the selector is not touched.
    assert.deepEqual(dep.metadata.labels, { app: 'be', ...want(target) });
    assert.deepEqual(dep.spec!.template!.metadata!.labels, { app: 'be', ...want(target) });
    assert.deepEqual(dep.spec!.selector, { matchLabels: { app: 'be' } });
    assert.deepEqual(svc.metadata.labels, want(target));
  }
  // gcloud reads the artifacts too.
  const devText = (await gcloud(['storage', 'cat', `${r.targetArtifacts.dev.artifactUri}/manifest.yaml`])).stdout;
  assert.match(devText, new RegExp(`image: ${image}@sha256:b{64}`));
  assert.match(devText, /value: "0" # from-param: \$\{faultPercent\}/, 'the deploy parameter is applied and its marker kept');

  // Each target renders in its own build, and Cloud Build answers for each.
  const dev = r.targetRenders.dev.renderingBuild, staging = r.targetRenders.staging.renderingBuild;
  assert.match(dev, /^projects\/\d+\/locations\/us-central1\/builds\/[0-9a-f-]{36}$/);
  assert.notEqual(dev, staging);
  const described = await gcloud.json<{ name: string; status: string }>(['builds', 'describe', dev.split('/').pop()!, '--region=us-central1']);
  assert.deepEqual([described.name, described.status], [dev, 'SUCCESS']);
  const other = (await (await fetch(`${g.url}/v1/${staging}`)).json()) as { name: string; status: string };
  assert.deepEqual([other.name, other.status], [staging, 'SUCCESS']);
});

test('a Cloud Run service gets the labels without the prefix (Cloud Run labels allow no "/"), on the service and its revision template', async () => {
  const dir = join(tempDir(), 'run-labels');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [service.yaml]\ndeploy:\n  cloudrun: {}\n');
  writeFileSync(join(dir, 'service.yaml'), 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: shop\n  labels:\n    team: web\nspec:\n  template:\n    metadata:\n      annotations:\n        autoscaling.knative.dev/maxScale: "3"\n    spec:\n      containers:\n      - image: shop-app\n');
  writeFileSync(join(dir, 'clouddeploy.yaml'), `apiVersion: deploy.cloud.google.com/v1\nkind: DeliveryPipeline\nmetadata:\n  name: run-labels\nserialPipeline:\n  stages:\n  - targetId: run-dev\n---\napiVersion: deploy.cloud.google.com/v1\nkind: Target\nmetadata:\n  name: run-dev\nrun:\n  location: ${LOC}\n`);
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'clouddeploy.yaml')}`, '--region=us-central1']);
  await gcloud(['deploy', 'releases', 'create', 'rl-1', `--source=${dir}`, '--delivery-pipeline=run-labels', '--region=us-central1', '--quiet']);
  const r = await rendered('rl-1', 'run-labels');
  assert.equal(r.renderState, 'SUCCEEDED', JSON.stringify(r.targetRenders));
  const [svc] = await manifest(r, 'run-dev');
  const want = {
    'managed-by': 'google-cloud-deploy', location: 'us-central1', 'project-id': 'my-proj',
    'delivery-pipeline-id': 'run-labels', 'release-id': 'rl-1', 'target-id': 'run-dev',
  };
  assert.deepEqual(svc.metadata.labels, { team: 'web', ...want });
  assert.deepEqual(svc.spec!.template!.metadata!.labels, want);
});

interface Rollout {
  name: string; targetId: string; state: string; approvalState: string; failureReason?: string;
  phases?: { id: string; state: string; childRolloutJobs?: unknown }[];
}
interface AutomationRun { name: string; ruleId: string; state: string; targetId: string; advanceRolloutOperation?: { sourcePhase: string; destinationPhase: string }; promoteReleaseOperation?: { targetId: string } }
const api = async <T>(path: string) => (await (await fetch(`${g.url}/v1/${LOC}/${path}`)).json()) as T;
/** Waits (reading the API directly: a gcloud start per poll is slow) for the release's rollout to the target to reach a state. */
const rolloutTo = (pipeline: string, release: string, target: string, pred: (r: Rollout) => boolean) => eventually(async () => {
  const { rollouts = [] } = await api<{ rollouts?: Rollout[] }>(`deliveryPipelines/${pipeline}/releases/${release}/rollouts`);
  const r = rollouts.find(x => x.targetId === target);
  return r && pred(r) ? r : undefined;
}, 20_000);
const needsApproval = (r: Rollout) => r.approvalState === 'NEEDS_APPROVAL' && r.state === 'PENDING_APPROVAL';
const finished = (r: Rollout) => ['SUCCEEDED', 'FAILED', 'CANCELLED', 'HALTED'].includes(r.state);
const phaseStates = (r: Rollout) => Object.fromEntries((r.phases ?? []).map(p => [p.id, p.state]));
/** The sample's cloudbuild.yaml release step (`$DATE`/`$TIME` filled by gcloud), from the repository root. */
async function buildStepRelease(app: 'colors-be' | 'colors-fd', image: string): Promise<string> {
  const GIT_REPO = 'https://github.com/GoogleCloudPlatform/cloud-deploy-samples', gitSha = 'f'.repeat(40), author = 'Colors Dev';
  const sha = `${IMAGE_REPO}/${image}@sha256:${(app === 'colors-be' ? 'c' : 'd').repeat(64)}`;
  const { stderr } = await run('gcloud', ['deploy', 'releases', 'create', 'r$DATE-$TIME', `--delivery-pipeline=${app}`, '--region', 'us-central1',
    '--images', `${IMAGE_REPO}/${image}=${sha}`, `--skaffold-file=${app}/skaffold.yaml`,
    `--annotations=src-at-commit=${GIT_REPO}/tree/${gitSha},commit-details=${GIT_REPO}/commit/${gitSha},commit-author=${author}`],
  { cwd: root, env: gcloud.env, timeout: 120_000 });
  return /Created Cloud Deploy release (r\d{8}-\d{4})\./.exec(stderr)![1];
}
/** What the sample's automations do after each verify passes: dev → staging → all-prod, which waits for approval. */
async function throughStagingToApproval(pipeline: string, release: string): Promise<string> {
  for (const target of ['dev', 'staging']) assert.equal((await rolloutTo(pipeline, release, target, finished)).state, 'SUCCEEDED', `${pipeline} ${release} → ${target}`);
  await rolloutTo(pipeline, release, 'all-prod', needsApproval);
  const rollout = (await api<{ rollouts: Rollout[] }>(`deliveryPipelines/${pipeline}/releases/${release}/rollouts`)).rollouts.find(r => r.targetId === 'all-prod')!;
  // gcloud compares the release's snapshots with the current pipeline and targets by etag before approving.
  return (await gcloud(['deploy', 'rollouts', 'approve', rollout.name.split('/').pop()!, `--release=${release}`, `--delivery-pipeline=${pipeline}`, '--region=us-central1', '--quiet'])).stderr;
}

test('colors-be goes to prod as the sample\'s automations drive it: promote to @next, approve all-prod, canary10 and canary30 advanced automatically', async () => {
  // The first release (the test above) reaches every prod cluster; its canary phases are skipped (nothing to split
  // yet), and the sample's advance rule takes it from the skipped canary30 to stable.
  await throughStagingToApproval('colors-be', 'r20261206-1');
  const first = await rolloutTo('colors-be', 'r20261206-1', 'all-prod', finished);
  assert.deepEqual([first.state, phaseStates(first)], ['SUCCEEDED', { canary10: 'SKIPPED', canary30: 'SKIPPED', stable: 'SUCCEEDED' }], first.failureReason);

  // The next build's release runs the canary: 10%, 30% (advanced by colors-be/advance-full with no wait), then stable.
  const release = await buildStepRelease('colors-be', 'colors-backend');
  // The README's "re-apply the file": unchanged, it changes nothing, so approving shows no snapshot differences.
  await gcloud(['deploy', 'apply', `--file=${join(root, 'clouddeploy.yaml')}`, '--region=us-central1']);
  const approved = await throughStagingToApproval('colors-be', release);
  assert.doesNotMatch(approved, /differ from their current definition/);
  assert.match(approved, /Approving rollout/);
  const done = await rolloutTo('colors-be', release, 'all-prod', finished);
  assert.deepEqual([done.state, phaseStates(done)], ['SUCCEEDED', { canary10: 'SUCCEEDED', canary30: 'SUCCEEDED', stable: 'SUCCEEDED' }], done.failureReason);
  for (const child of ['prod1', 'prod2']) {
    const { rollouts = [] } = await api<{ rollouts?: Rollout[] }>(`deliveryPipelines/colors-be/releases/${release}/rollouts`);
    assert.ok(rollouts.some(r => r.targetId === child && r.state === 'SUCCEEDED'), `a child rollout to ${child}: ${JSON.stringify(rollouts.map(r => [r.targetId, r.state]))}`);
  }

  // Each prod cluster's canary phases render the sample's 9 replicas overprovisioned (ceil(p·9/(100−p)): 1 at 10%,
  // 4 at 30%) with the all-prod stage's faultPercent.
  const r = await rendered(release, 'colors-be');
  for (const child of ['prod1', 'prod2']) {
    for (const [phase, name, replicas] of [['canary10', 'colors-be-canary', 1], ['canary30', 'colors-be-canary', 4], ['stable', 'colors-be', 9]] as const) {
      const text = await manifestText(r, child, phase);
      const dep = YAML.parseAllDocuments(text).map(d => d.toJS() as Doc & { spec: { replicas: number } }).find(d => d.kind === 'Deployment')!;
      assert.deepEqual([dep.metadata.name, dep.spec.replicas], [name, replicas], `${child} ${phase}`);
      assert.match(text, /name: FaultPercent\n\s+value: "30"/);
    }
  }

  const runs = await gcloud.json<AutomationRun[]>(['deploy', 'automation-runs', 'list', '--delivery-pipeline=colors-be', '--region=us-central1']);
  const of = (rule: string) => runs.filter(r => r.ruleId === rule);
  // The first release's stable waited behind its skipped canaries and was advanced from canary30 by the same rule.
  assert.deepEqual(of('advance-rollout').filter(r => r.state === 'SUCCEEDED').map(r => [r.advanceRolloutOperation?.sourcePhase, r.advanceRolloutOperation?.destinationPhase]).sort(),
    [['canary10', 'canary30'], ['canary30', 'stable'], ['canary30', 'stable']]);
  assert.deepEqual(of('promote-release').filter(r => r.state === 'SUCCEEDED').map(r => r.promoteReleaseOperation?.targetId).sort(),
    ['all-prod', 'all-prod', 'staging', 'staging']);
});

test('colors-fd goes to prod through its promote automation, each stage rendering its envName deploy parameter', async () => {
  const release = await buildStepRelease('colors-fd', 'colors-frontdoor');
  // The README's "change the deploy parameters in the colors-fd pipeline" after the release was made: gcloud's
  // approval lists the pipeline as differing from the release's snapshot.
  await run('sed', ['-i', 's/envName: "prod env two"/envName: "prod env 2"/', 'clouddeploy.yaml'], { cwd: root });
  await gcloud(['deploy', 'apply', `--file=${join(root, 'clouddeploy.yaml')}`, '--region=us-central1']);
  const approved = await throughStagingToApproval('colors-fd', release);
  assert.match(approved, new RegExp(`differ from their current definition:\\n- ${LOC}/deliveryPipelines/colors-fd\\n`));
  const done = await rolloutTo('colors-fd', release, 'all-prod', finished);
  assert.equal(done.state, 'SUCCEEDED', done.failureReason);
  const r = await rendered(release, 'colors-fd');
  const envName = async (target: string) => /name: AppEnvName\n\s+value: (.*)/.exec(await manifestText(r, target))?.[1];
  assert.equal(await envName('dev'), '"dev env" # from-param: ${envName}');
  assert.equal(await envName('staging'), '"staging env" # from-param: ${envName}');
  // The all-prod stage picks its values by matchTargetLabels `prod_type`, while the targets say `prodType`: gcloud
  // writes label keys in snake case (deploy_util.SetMetadata), so the sample's labels match as on Google.
  assert.equal(await envName('prod1'), '"prod env one" # from-param: ${envName}');
  assert.equal(await envName('prod2'), '"prod env two" # from-param: ${envName}');
  assert.match(await manifestText(r, 'prod2'), /value: "5" # from-param: \$\{replicaCount\}/);
});

test('every resource the sample made has only the fields its Cloud Deploy message has (what gcloud and the generated clients decode)', async () => {
  assert.ok(await assertDeployFieldsKnown(g.url, LOC, ['colors-be', 'colors-fd']) > 50);
});
