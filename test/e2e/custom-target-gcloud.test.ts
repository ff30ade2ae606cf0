// A custom target type registered as cloud-deploy-samples' build_and_register.sh does: the custom action
// lives in a Skaffold module in Cloud Storage (`includeSkaffoldModules`), the release's own config is
// bare. Under the process executor the render and deploy actions really run, talk to Gantry's storage
// through STORAGE_EMULATOR_HOST, and their results.json finish the render and the deploy.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/custom-target', import.meta.url));
const BUCKET = 'my-proj-us-central1-custom-targets';
const P = ['--delivery-pipeline=helm-pipeline', '--region=us-central1', '--quiet'];
let g: Gantry;
let gcloud: Gcloud;
let dir: string;

interface Release { renderState: string; targetRenders: Record<string, { renderingState: string; failureMessage?: string; metadata?: { custom?: { values: Record<string, string> } } }>; targetArtifacts: Record<string, { artifactUri: string; manifestPath: string }> }
interface Rollout { state: string; failureReason?: string; phases: { deploymentJobs: { deployJob: { jobRun: string } } }[]; metadata?: { custom?: { values: Record<string, string> } } }

before(async () => {
  g = await startTestGantry({ allowExecutors: ['process'], jobMs: 20 });
  gcloud = await gcloudFor(g.url);
  dir = join(tempDir(), 'ct');
  cpSync(FIXTURE, dir, { recursive: true });
  // build_and_register.sh: the custom action's Skaffold module goes to Cloud Storage, then the type is applied.
  writeFileSync(join(dir, 'module.yaml'), YAML.stringify({
    apiVersion: 'skaffold/v4beta7', kind: 'Config', metadata: { name: 'helmConfig' },
    customActions: [{ name: 'helm-deployer', containers: [{ name: 'helm-deployer', image: `us-central1-docker.pkg.dev/my-proj/cd-custom-targets/helm@sha256:${'b'.repeat(64)}`, command: ['node'], args: [join(dir, 'deployer.mjs')] }] }],
  }));
  await gcloud(['storage', 'buckets', 'create', `gs://${BUCKET}`, '--location=us-central1']);
  await gcloud(['storage', 'cp', join(dir, 'module.yaml'), `gs://${BUCKET}/helm/skaffold.yaml`]);
  writeFileSync(join(dir, 'type.yaml'), `apiVersion: deploy.cloud.google.com/v1
kind: CustomTargetType
metadata:
  name: helm
customActions:
  renderAction: helm-deployer
  deployAction: helm-deployer
  includeSkaffoldModules:
    - configs: ["helmConfig"]
      googleCloudStorage:
        source: "gs://${BUCKET}/helm/*"
        path: "skaffold.yaml"
`);
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'type.yaml')}`, '--region=us-central1']);
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'clouddeploy.yaml')}`, '--region=us-central1']);
});
after(() => g.close());

test('the custom render action renders from the module in Cloud Storage, and the deploy action deploys it', async () => {
  await gcloud(['deploy', 'releases', 'create', 'rel-1', `--source=${join(dir, 'configuration')}`, ...P]);
  const r = await eventually(async () => {
    const x = await gcloud.json<Release>(['deploy', 'releases', 'describe', 'rel-1', ...P.slice(0, 2)]);
    return x.renderState !== 'IN_PROGRESS' ? x : undefined;
  }, 30_000);
  assert.equal(r.renderState, 'SUCCEEDED', JSON.stringify(r.targetRenders));
  assert.deepEqual(r.targetRenders['helm-cluster'].metadata?.custom?.values, { 'custom-target-source': 'gantry-test-deployer' });
  const art = r.targetArtifacts['helm-cluster'];
  const manifest = (await gcloud(['storage', 'cat', `${art.artifactUri}/${art.manifestPath}`])).stdout;
  assert.match(manifest, /name: mychart/);
  assert.match(manifest, /replicas: 2/);
  assert.match(manifest, /target: helm-cluster/);

  const ro = await eventually(async () => {
    const x = await gcloud.json<Rollout>(['deploy', 'rollouts', 'describe', 'rel-1-to-helm-cluster-0001', '--release=rel-1', ...P]);
    return x.state !== 'IN_PROGRESS' && x.state !== 'PENDING_RELEASE' ? x : undefined;
  }, 30_000);
  assert.equal(ro.state, 'SUCCEEDED', ro.failureReason);
  const jr = await gcloud.json<{ deployJobRun: { metadata?: { custom?: { values: Record<string, string> } } } }>(['deploy', 'job-runs', 'describe', ro.phases[0].deploymentJobs.deployJob.jobRun.split('/').pop()!, '--rollout=rel-1-to-helm-cluster-0001', '--release=rel-1', ...P]);
  assert.deepEqual(jr.deployJobRun.metadata?.custom?.values, { 'helm-release': 'mychart', cluster: 'projects/my-proj/locations/us-central1/clusters/dev' });
  assert.equal(ro.metadata?.custom?.values?.['helm-release'], 'mychart');
});

test('a type whose module is missing from Cloud Storage fails the render naming the source', async () => {
  await gcloud(['storage', 'rm', `gs://${BUCKET}/helm/skaffold.yaml`]);
  await gcloud(['deploy', 'releases', 'create', 'rel-2', `--source=${join(dir, 'configuration')}`, ...P]).catch(() => undefined);
  const r = await eventually(async () => {
    const x = await gcloud.json<Release>(['deploy', 'releases', 'describe', 'rel-2', ...P.slice(0, 2)]);
    return x.renderState !== 'IN_PROGRESS' ? x : undefined;
  }, 30_000);
  assert.equal(r.renderState, 'FAILED');
  assert.match(r.targetRenders['helm-cluster'].failureMessage!, new RegExp(`gs://${BUCKET}/helm/\\*`));
});
