// Google's colors-e2e sample (cloud-deploy-samples), run as its build step does: from the repository root,
// `gcloud deploy releases create … --skaffold-file=colors-be/skaffold.yaml` (whose rawYaml `k8s.yaml` sits beside
// it). The rendered manifests carry the labels Cloud Deploy adds (the sample's pods read
// `deploy.cloud.google.com/release-id` through a fieldRef), each target renders in its own Cloud Build build, and
// a Cloud Run service gets the same labels in Cloud Run's form.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import YAML from 'yaml';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/colors-e2e', import.meta.url));
const LOC = 'projects/my-proj/locations/us-central1';
const run = promisify(execFile);
let g: Gantry;
let gcloud: Gcloud;

type Labels = Record<string, string>;
interface Doc { kind: string; metadata: { name: string; labels?: Labels }; spec?: { selector?: unknown; template?: { metadata?: { labels?: Labels } } } }
interface Release {
  renderState: string;
  targetRenders: Record<string, { renderingState: string; renderingBuild: string; failureMessage?: string }>;
  targetArtifacts: Record<string, { artifactUri: string; manifestPath: string }>;
}

const rendered = (id: string, pipeline: string) => eventually(async () => {
  const r = await gcloud.json<Release>(['deploy', 'releases', 'describe', id, `--delivery-pipeline=${pipeline}`, '--region=us-central1']);
  return r.renderState !== 'IN_PROGRESS' ? r : undefined;
}, 20_000);
const manifest = async (r: Release, target: string) => {
  const a = r.targetArtifacts[target];
  const text = (await gcloud(['storage', 'cat', `${a.artifactUri}/${a.manifestPath}`])).stdout;
  return YAML.parseAllDocuments(text).map(d => d.toJS() as Doc).filter(Boolean);
};

before(async () => {
  g = await startTestGantry({ jobMs: 20 });
  gcloud = await gcloudFor(g.url);
  gcloud.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBUILD = `${g.url}/`;
});
after(() => g.close());

test('colors-e2e: --skaffold-file=colors-be/skaffold.yaml from the root renders k8s.yaml beside it, with Cloud Deploy\'s labels; each target has its own build', async () => {
  const root = join(tempDir(), 'colors-e2e');
  cpSync(FIXTURE, root, { recursive: true });
  await gcloud(['deploy', 'apply', `--file=${join(root, 'clouddeploy.yaml')}`, '--region=us-central1']);
  // The sample's own command, from the repository root (gcloud's --source defaults to the working directory).
  const image = 'us-central1-docker.pkg.dev/my-proj/colors/colors-backend';
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
  const devText = (await gcloud(['storage', 'cat', `${r.targetArtifacts.dev.artifactUri}/manifest.yaml`])).stdout;
  assert.match(devText, new RegExp(`image: ${image}@sha256:b{64}`));
  assert.match(devText, /value: "0" # from-param: \$\{faultPercent\}/, 'the deploy parameter is applied and its marker kept');

  // Each target renders in its own build, and Cloud Build answers for each.
  const dev = r.targetRenders.dev.renderingBuild, staging = r.targetRenders.staging.renderingBuild;
  assert.match(dev, /^projects\/\d+\/locations\/us-central1\/builds\/[0-9a-f-]{36}$/);
  assert.notEqual(dev, staging);
  for (const build of [dev, staging]) {
    const b = await gcloud.json<{ name: string; status: string }>(['builds', 'describe', build.split('/').pop()!, '--region=us-central1']);
    assert.deepEqual([b.name, b.status], [build, 'SUCCESS']);
  }
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
