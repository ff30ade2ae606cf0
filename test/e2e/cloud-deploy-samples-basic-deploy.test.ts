// Google's cloud-deploy-samples `basic-deploy`, run as its README says, through gcloud against Gantry: fill in
// %PROJECT_ID%, %CLUSTER_LOCATION% and %CLUSTER_NAME% in clouddeploy.yaml (with sed, as a user would), then from the
// sample's directory `gcloud deploy apply --file=clouddeploy.yaml` and
// `gcloud deploy releases create 'r$DATE$TIME' --delivery-pipeline=my-app-pipeline` (the README's en dashes typed as
// the ASCII dashes gcloud needs). The README's "promote the release to the second target" in the Cloud Console is
// `gcloud deploy releases promote`, the same API call. Replaced here: the GKE clusters (Gantry simulates the deploy
// jobs; nothing reaches a cluster). The README builds no image, so its release renders `my-app-image` as written; a
// second release passes `--images` as Google's quickstarts do, and its manifest carries the image given.
//
// Google's files are not kept in this repository: with GANTRY_SAMPLES_DIR naming a directory that holds a checkout of
// cloud-deploy-samples, the test runs `$GANTRY_SAMPLES_DIR/cloud-deploy-samples/basic-deploy`; otherwise
// test/fixtures/basic-deploy-sample, our stand-in with the sample's files, names and placeholders.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';
import { assertDeployFieldsKnown } from '../helpers/schema-fields.js';
import { describeSample, sampleDir } from '../helpers/samples.js';

const SAMPLE = sampleDir('cloud-deploy-samples/basic-deploy', 'clouddeploy.yaml', 'basic-deploy-sample');
const sh = promisify(execFile);
const P = ['--delivery-pipeline=my-app-pipeline', '--region=us-central1'];
let g: Gantry;
let gcloud: Gcloud;
let dir: string;

interface Release {
  name: string; renderState: string; targetRenders: Record<string, { metadata?: unknown }>;
  targetArtifacts: Record<string, { artifactUri: string; manifestPath: string }> }
interface Rollout { name: string; state: string; targetId: string; approvalState: string }
interface Pod { kind: string; metadata: { name: string; labels?: Record<string, string> }; spec: { containers: { name: string; image: string }[] } }

/** gcloud run from the sample's directory, as the README's commands are. */
const inSample = async (args: string[]) => sh('gcloud', args, { cwd: dir, env: gcloud.env, timeout: 120_000 });
const PIPELINE = 'projects/my-proj/locations/us-central1/deliveryPipelines/my-app-pipeline';
// Waiting reads the API directly (a gcloud start per poll is slow); the README's own steps go through gcloud.
const rollouts = async (release: string) =>
  ((await (await fetch(`${g.url}/v1/${PIPELINE}/releases/${release}/rollouts`)).json()) as { rollouts?: Rollout[] }).rollouts ?? [];
const settled = (release: string, target: string) => eventually(async () => {
  const r = (await rollouts(release)).find(x => x.targetId === target);
  return r && !['PENDING_RELEASE', 'IN_PROGRESS', 'PENDING'].includes(r.state) ? r : undefined;
}, 15_000);
const manifest = async (r: Release, target: string) => {
  const a = r.targetArtifacts[target];
  const text = (await gcloud(['storage', 'cat', `${a.artifactUri}/${a.manifestPath}`])).stdout;
  return YAML.parseAllDocuments(text).map(d => d.toJS() as Pod).filter(Boolean);
};

before(async () => {
  g = await startTestGantry({ jobMs: 20 });
  gcloud = await gcloudFor(g.url);
  dir = join(tempDir(), 'basic-deploy');
  cpSync(SAMPLE.dir, dir, { recursive: true });
  // The README: "replace the %PROJECT_ID%, %CLUSTER_LOCATION%, and %CLUSTER_NAME% values".
  await sh('sed', ['-i', '-e', 's/%PROJECT_ID%/my-proj/g', '-e', 's/%CLUSTER_LOCATION%/us-central1/g', '-e', 's/%CLUSTER_NAME%/my-cluster/g', 'clouddeploy.yaml'], { cwd: dir });
});
after(() => g.close());

test('basic-deploy: apply, release r$DATE$TIME from the sample directory, deploy to staging, promote to prod', async t => {
  t.diagnostic(describeSample(SAMPLE));
  const applied = await inSample(['deploy', 'apply', '--file=clouddeploy.yaml', '--region=us-central1']);
  assert.match(applied.stderr, /Created Cloud Deploy resource: .*deliveryPipelines\/my-app-pipeline/);
  const { stderr } = await inSample(['deploy', 'releases', 'create', 'r$DATE$TIME', '--delivery-pipeline=my-app-pipeline', '--region=us-central1']);
  // gcloud fills $DATE (YYYYMMDD) and $TIME (HHMM) itself.
  const id = /Created Cloud Deploy release (r\d{12})\./.exec(stderr)?.[1];
  assert.ok(id, stderr);
  assert.match(stderr, new RegExp(`Creating rollout .*${id}-to-staging-0001 in target staging`));

  const staging = await settled(id, 'staging');
  assert.equal(staging.state, 'SUCCEEDED');
  await gcloud(['deploy', 'releases', 'promote', `--release=${id}`, ...P, '--quiet']);
  const prod = await settled(id, 'prod');
  // Neither target requires approval, so prod deploys straight away.
  assert.deepEqual([prod.state, prod.approvalState, prod.name.endsWith(`/rollouts/${id}-to-prod-0001`)], ['SUCCEEDED', 'DOES_NOT_NEED_APPROVAL', true]);
  // Promoting again: gcloud says prod is the last target and redeploys the release there.
  const again = await gcloud(['deploy', 'releases', 'promote', `--release=${id}`, ...P, '--quiet']);
  assert.match(again.stderr, new RegExp(`Release ${id} is already deployed to the last target \\(prod\\) in the promotion sequence`));
  assert.equal((await eventually(async () => (await rollouts(id)).find(r => r.name.endsWith('-to-prod-0002') && r.state === 'SUCCEEDED'), 15_000)).targetId, 'prod');

  const release = await gcloud.json<Release>(['deploy', 'releases', 'describe', id, ...P]);
  assert.equal(release.renderState, 'SUCCEEDED');
  // KubernetesRenderMetadata: no Deployment, so no `deployment`; the Pod goes to one namespace, `default`.
  assert.deepEqual(release.targetRenders.staging.metadata, { kubernetes: { kubernetesNamespace: 'default' } });
  for (const target of ['staging', 'prod']) {
    const [pod, ...rest] = await manifest(release, target);
    assert.equal(rest.length, 0);
    assert.equal(pod.kind, 'Pod');
    assert.equal(pod.metadata.name, 'getting-started');
    // No --images: the manifest's image stays as the sample wrote it.
    assert.deepEqual(pod.spec.containers, [{ name: 'echoserver', image: 'my-app-image' }]);
    assert.equal(pod.metadata.labels?.['deploy.cloud.google.com/target-id'], target);
    assert.equal(pod.metadata.labels?.['deploy.cloud.google.com/release-id'], id);
  }
});

test('basic-deploy with --images: the rendered Pod of every target runs the image given', async () => {
  const image = 'us-docker.pkg.dev/my-proj/apps/echoserver@sha256:' + 'c'.repeat(64);
  await inSample(['deploy', 'releases', 'create', 'rel-images', '--delivery-pipeline=my-app-pipeline', '--region=us-central1', `--images=my-app-image=${image}`]);
  assert.equal((await settled('rel-images', 'staging')).state, 'SUCCEEDED');
  const release = await gcloud.json<Release>(['deploy', 'releases', 'describe', 'rel-images', ...P]);
  for (const target of ['staging', 'prod']) {
    const [pod] = await manifest(release, target);
    assert.deepEqual(pod.spec.containers, [{ name: 'echoserver', image }]);
  }
});

test('every resource the sample made has only the fields its Cloud Deploy message has', async () => {
  assert.ok(await assertDeployFieldsKnown(g.url, 'projects/my-proj/locations/us-central1', ['my-app-pipeline']) > 5);
});
