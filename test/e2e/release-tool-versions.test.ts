// Release.toolVersions and what a render names, as Google's newest REST surface (googleapis' typings) has them:
// a release freezes every tool's version at creation (the caller's, `latest`, or Config.defaultToolVersions) and
// reports each one's support in `condition.<tool>VersionSupportedCondition`; a Cloud Run render names the revision
// its manifest names, and a GKE render reports `metadata.kubernetes`.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, eventually, tempDir } from '../helpers/server.js';
import { googleapisDeploy, googleError } from '../helpers/clients.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/my-proj/locations/us-central1';
let g: Gantry;
let api: clouddeploy_v1.Resource$Projects$Locations;
let gcloud: Gcloud;

const done = (op: clouddeploy_v1.Schema$Operation) => eventually(async () => {
  const r = await api.operations.get({ name: op.name! });
  return r.data.done ? r.data : undefined;
});
const rendered = (name: string) => eventually(async () => {
  const r = (await api.deliveryPipelines.releases.get({ name })).data;
  return r.renderState !== 'IN_PROGRESS' ? r : undefined;
}, 20_000);

before(async () => {
  g = await startTestGantry({ jobMs: 20 });
  api = googleapisDeploy(g.url).projects.locations;
  gcloud = await gcloudFor(g.url);
  await done((await api.targets.create({ parent: LOC, targetId: 'dev', requestBody: { run: { location: LOC } } })).data);
  await done((await api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'tools', requestBody: { serialPipeline: { stages: [{ targetId: 'dev' }] } } })).data);
});
after(() => g.close());

test('Config answers defaultToolVersions; a release without toolVersions is frozen to them, each with its support window', async () => {
  const config = (await api.getConfig({ name: `${LOC}/config` })).data;
  const defaults = config.defaultToolVersions!;
  assert.deepEqual(Object.keys(defaults).sort(), ['docker', 'helm', 'kpt', 'kubectl', 'kustomize', 'skaffold']);
  assert.equal(defaults.skaffold, config.defaultSkaffoldVersion);
  await done((await api.deliveryPipelines.releases.create({ parent: `${LOC}/deliveryPipelines/tools`, releaseId: 'plain', requestBody: {} })).data);
  const r = await rendered(`${LOC}/deliveryPipelines/tools/releases/plain`);
  assert.deepEqual(r.toolVersions, defaults);
  assert.equal(r.skaffoldVersion, defaults.skaffold);
  const kubectl = r.condition!.kubectlVersionSupportedCondition!;
  assert.equal(kubectl.status, true);
  assert.equal(kubectl.toolVersionSupportState, 'TOOL_VERSION_SUPPORT_STATE_SUPPORTED');
  assert.ok(Date.parse(kubectl.maintenanceModeTime!) < Date.parse(kubectl.supportExpirationTime!));
  assert.deepEqual(r.condition!.skaffoldVersionSupportedCondition!.supportExpirationTime, r.condition!.skaffoldSupportedCondition!.supportExpirationTime);
});

test('a release keeps the versions it names and `latest`; skaffoldVersion follows toolVersions.skaffold', async () => {
  const parent = `${LOC}/deliveryPipelines/tools`;
  await done((await api.deliveryPipelines.releases.create({ parent, releaseId: 'pinned', requestBody: { toolVersions: { kubectl: '1.29', helm: 'latest', skaffold: '2.14' } } })).data);
  const r = await rendered(`${parent}/releases/pinned`);
  assert.equal(r.toolVersions!.kubectl, '1.29');
  assert.equal(r.toolVersions!.helm, 'latest');
  assert.equal(r.toolVersions!.skaffold, '2.14');
  assert.equal(r.skaffoldVersion, '2.14');
  assert.deepEqual(r.condition!.helmVersionSupportedCondition, { status: true, toolVersionSupportState: 'TOOL_VERSION_SUPPORT_STATE_SUPPORTED' });
  // A well-formed version Gantry knows no support window for is accepted, its state left unspecified.
  assert.equal(r.condition!.kubectlVersionSupportedCondition!.toolVersionSupportState, undefined);
  // gcloud (whose messages predate the field) prints it as the docs' "Manage tool versions" shows.
  const out = await gcloud(['deploy', 'releases', 'describe', 'pinned', '--delivery-pipeline=tools', '--region=us-central1', '--format=yaml(toolVersions)']);
  assert.match(out.stdout, /toolVersions:\n(\s+\w+: .+\n)*\s+kubectl: '1.29'/);
});

test('bad tool versions are INVALID_ARGUMENT naming the field; a Skaffold version must be one Config lists', async () => {
  const parent = `${LOC}/deliveryPipelines/tools`;
  const cases: [clouddeploy_v1.Schema$Release, RegExp, string][] = [
    [{ toolVersions: { kubectl: 'v1.30; rm -rf /' } }, /is not a kubectl version/, 'release.tool_versions.kubectl'],
    [{ toolVersions: { skaffold: '1.0' } }, /Skaffold version "1.0" is not supported/, 'release.tool_versions.skaffold'],
    [{ skaffoldVersion: '2.8', toolVersions: { skaffold: '2.14' } }, /differ/, 'release.tool_versions.skaffold'],
  ];
  for (const [body, message, field] of cases) {
    const e = await googleError(api.deliveryPipelines.releases.create({ parent, releaseId: 'bad', requestBody: body }));
    assert.equal(e.code, 400, JSON.stringify(body));
    assert.match(e.message, message);
    const violations = e.details?.find(d => Array.isArray(d.fieldViolations))?.fieldViolations as { field: string }[] | undefined;
    assert.equal(violations?.[0]?.field, field);
  }
  const unknown = await googleError(api.deliveryPipelines.releases.create({ parent, releaseId: 'bad', requestBody: { toolVersions: { terraform: '1.9' } } as clouddeploy_v1.Schema$Release }));
  assert.equal(unknown.code, 400);
  assert.match(unknown.message, /terraform/);
});

test('a Cloud Run render names the revision its manifest names; a GKE render reports metadata.kubernetes', async () => {
  const app = join(tempDir(), 'rev');
  mkdirSync(app, { recursive: true });
  writeFileSync(join(app, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [service.yaml]\ndeploy:\n  cloudrun: {}\nprofiles:\n- name: gke\n  manifests:\n    rawYaml: [deployment.yaml]\n  deploy:\n    kubectl: {}\n');
  writeFileSync(join(app, 'service.yaml'), 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: hello\nspec:\n  template:\n    metadata:\n      name: hello-v1\n    spec:\n      containers:\n      - image: hello-app\n');
  // The Namespace object is cluster-scoped: it goes to no namespace, so the Deployment's alone is the render's.
  writeFileSync(join(app, 'deployment.yaml'), 'apiVersion: v1\nkind: Namespace\nmetadata:\n  name: shop\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  namespace: shop\nspec:\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: hello-app\n');
  writeFileSync(join(app, 'clouddeploy.yaml'), `apiVersion: deploy.cloud.google.com/v1\nkind: DeliveryPipeline\nmetadata:\n  name: rev\nserialPipeline:\n  stages:\n  - targetId: rev-run\n  - targetId: rev-gke\n    profiles: [gke]\n---\napiVersion: deploy.cloud.google.com/v1\nkind: Target\nmetadata:\n  name: rev-run\nrun:\n  location: ${LOC}\n---\napiVersion: deploy.cloud.google.com/v1\nkind: Target\nmetadata:\n  name: rev-gke\ngke:\n  cluster: ${LOC}/clusters/c\n`);
  await gcloud(['deploy', 'apply', `--file=${join(app, 'clouddeploy.yaml')}`, '--region=us-central1']);
  await gcloud(['deploy', 'releases', 'create', 'rev-1', `--source=${app}`, '--images=hello-app=us-docker.pkg.dev/my-proj/repo/hello:1', '--delivery-pipeline=rev', '--region=us-central1', '--quiet']);
  const r = await rendered(`${LOC}/deliveryPipelines/rev/releases/rev-1`);
  assert.equal(r.renderState, 'SUCCEEDED', JSON.stringify(r.targetRenders));
  assert.deepEqual(r.targetRenders!['rev-run'].metadata, { cloudRun: { service: `${LOC}/services/hello`, revision: `${LOC}/services/hello/revisions/hello-v1` } });
  assert.deepEqual(r.targetRenders!['rev-gke'].metadata, { kubernetes: { deployment: 'web', kubernetesNamespace: 'shop' } });
});
