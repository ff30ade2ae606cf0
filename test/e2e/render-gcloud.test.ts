// A real Skaffold render through gcloud: stages select profiles (verify and custom actions live inside
// them), a backend module comes in through `requires` with its own profile, images come from
// `--images`, deploy parameters from the pipeline, target and release; the rendered manifests are read
// back with `gcloud storage cat`, and the jobs run what the render produced under the process executor.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, writeFileSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/profiles-app', import.meta.url));
const LOC = 'projects/my-proj/locations/us-central1';
const PIPE = `${LOC}/deliveryPipelines/shop`;
const P = ['--delivery-pipeline=shop', '--region=us-central1', '--quiet'];
let g: Gantry;
let gcloud: Gcloud;
let src: string;

interface Release {
  renderState: string;
  targetRenders: Record<string, { renderingState: string; renderingBuild?: string; failureCause?: string; failureMessage?: string; metadata?: { cloudRun?: { service: string; revision?: string }; kubernetes?: { deployment: string } } }>;
  targetArtifacts: Record<string, { artifactUri: string; manifestPath: string; skaffoldConfigPath: string; phaseArtifacts?: Record<string, { manifestPath: string; skaffoldConfigPath: string }> }>;
}
interface Rollout { state: string; deployFailureCause?: string; failureReason?: string; phases: { deploymentJobs: Record<string, { jobRun?: string }> }[] }

const release = (id: string, pipe = PIPE) => gcloud.json<Release>(['deploy', 'releases', 'describe', id, `--delivery-pipeline=${pipe.split('/').pop()}`, '--region=us-central1']);
const rendered = (id: string, pipe = PIPE) => eventually(async () => { const r = await release(id, pipe); return r.renderState !== 'IN_PROGRESS' ? r : undefined; }, 20_000);
const rollout = (id: string, rel: string) => gcloud.json<Rollout>(['deploy', 'rollouts', 'describe', id, `--release=${rel}`, ...P]);
const until = (id: string, rel: string, pred: (r: Rollout) => boolean) => eventually(async () => { const r = await rollout(id, rel); return pred(r) ? r : undefined; }, 30_000);
const cat = async (gs: string) => (await gcloud(['storage', 'cat', gs])).stdout;
const docs = (text: string) => YAML.parseAllDocuments(text).map(d => d.toJS() as { kind: string; metadata: { name: string }; spec?: Record<string, unknown> }).filter(Boolean);

before(async () => {
  g = await startTestGantry({ allowExecutors: ['process'], jobMs: 20 });
  gcloud = await gcloudFor(g.url);
  src = join(tempDir(), 'shop');
  cpSync(FIXTURE, src, { recursive: true });
  await gcloud(['deploy', 'apply', `--file=${join(src, 'clouddeploy.yaml')}`, '--region=us-central1']);
});
after(() => g.close());

test('profiles, a required module, images and deploy parameters render per target; gcloud storage cat shows them', async () => {
  await gcloud(['deploy', 'releases', 'create', 'r1', `--source=${src}`, '--images=web-app=us-docker.pkg.dev/my-proj/repo/web@sha256:' + 'a'.repeat(64) + ',backend-app=us-docker.pkg.dev/my-proj/repo/backend:v2', '--deploy-parameters=greeting=from-release', ...P]);
  const r = await rendered('r1');
  assert.equal(r.renderState, 'SUCCEEDED', JSON.stringify(r.targetRenders));
  // Two Deployments (web and backend): KubernetesRenderMetadata.deployment is "only set if a single Deployment was provided".
  assert.deepEqual(r.targetRenders['shop-dev'].metadata, { kubernetes: { kubernetesNamespace: 'default' } });
  // Each target renders in its own build, named as Cloud Build names builds (project number, region, uuid).
  assert.match(r.targetRenders['shop-dev'].renderingBuild!, /^projects\/\d{12}\/locations\/us-central1\/builds\/[0-9a-f-]{36}$/);
  assert.notEqual(r.targetRenders['shop-prod'].renderingBuild, r.targetRenders['shop-dev'].renderingBuild);

  const dev = r.targetArtifacts['shop-dev'];
  assert.match(dev.artifactUri, /^gs:\/\/us-central1\.deploy-artifacts\.my-proj\.appspot\.com\/r1-[0-9a-f]{32}\/shop-dev$/);
  const devDocs = docs(await cat(`${dev.artifactUri}/${dev.manifestPath}`));
  // Dependencies first (Skaffold's order): the backend module, then web and the dev profile's extra manifest.
  assert.deepEqual(devDocs.map(d => `${d.kind}/${d.metadata.name}`), ['Deployment/backend', 'Deployment/web', 'ConfigMap/web-debug']);
  const devWeb = await cat(`${dev.artifactUri}/${dev.manifestPath}`);
  assert.match(devWeb, /image: us-docker\.pkg\.dev\/my-proj\/repo\/web@sha256:a{64}/);
  assert.match(devWeb, /image: us-docker\.pkg\.dev\/my-proj\/repo\/backend:v2/);
  // The release's parameter wins over the target's.
  assert.match(devWeb, /value: from-release # from-param: \$\{greeting\}/);
  const devSkaffold = YAML.parse(await cat(`${dev.artifactUri}/${dev.skaffoldConfigPath}`)) as { manifests: { rawYaml: string[] }; verify: { name: string }[]; customActions?: unknown[] };
  assert.deepEqual(devSkaffold.manifests.rawYaml, ['manifest.yaml']);
  assert.deepEqual(devSkaffold.verify.map(v => v.name), ['smoke-dev']);
  assert.equal(devSkaffold.customActions, undefined);
  const log = await cat(`${dev.artifactUri}/render.log`);
  assert.match(log, /--profile=dev/);

  const prod = r.targetArtifacts['shop-prod'];
  const prodDocs = docs(await cat(`${prod.artifactUri}/${prod.manifestPath}`));
  // The prod profile patches web's manifest list; activeProfiles turns on backend's prod profile (the HPA).
  assert.deepEqual(prodDocs.map(d => `${d.kind}/${d.metadata.name}`), ['Deployment/backend', 'HorizontalPodAutoscaler/backend', 'Deployment/web']);
  const web = prodDocs.find(d => d.metadata.name === 'web' && d.kind === 'Deployment')!;
  assert.equal(web.spec!.replicas, 5, 'the pipeline stage sets replicas');
  const prodSkaffold = YAML.parse(await cat(`${prod.artifactUri}/${prod.skaffoldConfigPath}`)) as { verify: { name: string }[]; customActions: { name: string }[] };
  assert.deepEqual(prodSkaffold.verify.map(v => v.name), ['smoke-prod']);
  assert.deepEqual(prodSkaffold.customActions.map(a => a.name), ['announce']);
});

test('the rollouts run the verify and custom action of their own profile, for real', async () => {
  const first = await until('r1-to-shop-dev-0001', 'r1', x => x.state !== 'IN_PROGRESS' && x.state !== 'PENDING_RELEASE');
  assert.equal(first.state, 'SUCCEEDED', first.failureReason);
  const verifyRun = first.phases[0].deploymentJobs.verifyJob!.jobRun!;
  const jr = await gcloud.json<{ verifyJobRun: { artifactUri?: string; eventLogPath?: string } }>(['deploy', 'job-runs', 'describe', verifyRun.split('/').pop()!, '--rollout=r1-to-shop-dev-0001', '--release=r1', ...P]);
  assert.ok(jr.verifyJobRun.artifactUri && jr.verifyJobRun.eventLogPath, 'verify keeps its log');
  assert.match(await cat(`${jr.verifyJobRun.artifactUri}/${jr.verifyJobRun.eventLogPath}`), /dev smoke passed/);

  await gcloud(['deploy', 'releases', 'promote', '--release=r1', '--to-target=shop-prod', ...P]);
  const prod = await until('r1-to-shop-prod-0001', 'r1', x => x.state !== 'IN_PROGRESS' && x.state !== 'PENDING_RELEASE');
  assert.equal(prod.state, 'SUCCEEDED', prod.failureReason);
  const pre = await gcloud.json<{ predeployJobRun?: unknown; state: string }>(['deploy', 'job-runs', 'describe', prod.phases[0].deploymentJobs.predeployJob!.jobRun!.split('/').pop()!, '--rollout=r1-to-shop-prod-0001', '--release=r1', ...P]);
  assert.equal(pre.state, 'SUCCEEDED');
});

test('a stage profile that does not exist fails the render with Google\'s cause and names the profile', async () => {
  const broken = readFileSync(join(src, 'clouddeploy.yaml'), 'utf8').replace('name: shop', 'name: shop-broken').replace('profiles: [dev]', 'profiles: [staging]');
  writeFileSync(join(src, 'broken.yaml'), broken);
  await gcloud(['deploy', 'apply', `--file=${join(src, 'broken.yaml')}`, '--region=us-central1']);
  await gcloud(['deploy', 'releases', 'create', 'r2', `--source=${src}`, '--delivery-pipeline=shop-broken', '--region=us-central1', '--quiet']).catch(() => undefined);
  const r = await rendered('r2', `${LOC}/deliveryPipelines/shop-broken`);
  assert.equal(r.renderState, 'FAILED');
  assert.equal(r.targetRenders['shop-dev'].renderingState, 'FAILED');
  assert.equal(r.targetRenders['shop-dev'].failureCause, 'EXECUTION_FAILED');
  assert.match(r.targetRenders['shop-dev'].failureMessage!, /profile.*staging/);
  assert.equal(r.targetRenders['shop-prod'].renderingState, 'SUCCEEDED');
});

test('a missing manifest file and invalid YAML fail the render naming the file', async () => {
  const bad = join(tempDir(), 'bad');
  cpSync(src, bad, { recursive: true });
  writeFileSync(join(bad, 'k8s/web-prod.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata: [unclosed\n');
  cpSync(join(bad, 'k8s/web.yaml'), join(bad, 'k8s/web-moved.yaml'));
  writeFileSync(join(bad, 'k8s/web.yaml'), '');
  const { rmSync } = await import('node:fs');
  rmSync(join(bad, 'k8s/web.yaml'));
  await gcloud(['deploy', 'releases', 'create', 'r3', `--source=${bad}`, ...P]).catch(() => undefined);
  const r = await rendered('r3');
  assert.equal(r.renderState, 'FAILED');
  assert.equal(r.targetRenders['shop-dev'].failureCause, 'EXECUTION_FAILED');
  assert.match(r.targetRenders['shop-dev'].failureMessage!, /k8s\/web\.yaml/);
  assert.equal(r.targetRenders['shop-prod'].failureCause, 'EXECUTION_FAILED');
  assert.match(r.targetRenders['shop-prod'].failureMessage!, /web-prod\.yaml/);
});

test('a Cloud Run canary: the service is named by the Knative manifest, each phase has its manifest, preview Skaffold is accepted', async () => {
  const run = join(tempDir(), 'run');
  const { mkdirSync } = await import('node:fs');
  mkdirSync(run, { recursive: true });
  writeFileSync(join(run, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta11\nkind: Config\nmetadata:\n  name: storefront\nmanifests:\n  rawYaml: [service.yaml]\ndeploy:\n  cloudrun: {}\n');
  writeFileSync(join(run, 'service.yaml'), 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: storefront\nspec:\n  template:\n    spec:\n      containers:\n      - image: storefront-app\n');
  writeFileSync(join(run, 'clouddeploy.yaml'), `apiVersion: deploy.cloud.google.com/v1
kind: DeliveryPipeline
metadata:
  name: run-pipe
serialPipeline:
  stages:
  - targetId: run-prod
    strategy:
      canary:
        runtimeConfig:
          cloudRun:
            automaticTrafficControl: true
        canaryDeployment:
          percentages: [25]
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: run-prod
run:
  location: ${LOC}
`);
  await gcloud(['deploy', 'apply', `--file=${join(run, 'clouddeploy.yaml')}`, '--region=us-central1']);
  await gcloud(['deploy', 'releases', 'create', 'sf-1', `--source=${run}`, '--skaffold-version=skaffold_preview', '--images=storefront-app=us-docker.pkg.dev/my-proj/repo/storefront:1.0', '--delivery-pipeline=run-pipe', '--region=us-central1', '--quiet']);
  const r = await rendered('sf-1', `${LOC}/deliveryPipelines/run-pipe`);
  assert.equal(r.renderState, 'SUCCEEDED', JSON.stringify(r.targetRenders));
  assert.equal(r.targetRenders['run-prod'].metadata?.cloudRun?.service, `${LOC}/services/storefront`);
  const art = r.targetArtifacts['run-prod'];
  assert.deepEqual(Object.keys(art.phaseArtifacts!).sort(), ['canary-25', 'stable']);
  const canary = docs(await cat(`${art.artifactUri}/${art.phaseArtifacts!['canary-25'].manifestPath}`))[0] as unknown as { spec: { traffic: { percent: number; latestRevision?: boolean }[]; template: unknown } };
  assert.deepEqual(canary.spec.traffic[0], { latestRevision: true, percent: 25 });
  const stable = await cat(`${art.artifactUri}/${art.phaseArtifacts!.stable.manifestPath}`);
  assert.match(stable, /image: us-docker\.pkg\.dev\/my-proj\/repo\/storefront:1\.0/);
  assert.doesNotMatch(stable, /traffic/);
  const err = await gcloud.fails(['deploy', 'releases', 'create', 'sf-2', `--source=${run}`, '--skaffold-version=1.0', '--delivery-pipeline=run-pipe', '--region=us-central1', '--quiet']);
  assert.match(err, /Skaffold version "1\.0" is not supported/);
});

test('kustomize overlays render through kubectl, a module comes from a local git repository, a helm config fails naming helm', async () => {
  const { mkdirSync } = await import('node:fs');
  const { execFileSync } = await import('node:child_process');
  const root = tempDir();
  // A shared module in a git repository on this machine (Gantry clones only local repositories).
  const repo = join(root, 'platform-config');
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta7\nkind: Config\nmetadata:\n  name: shared\nmanifests:\n  rawYaml: [quota.yaml]\n');
  writeFileSync(join(repo, 'quota.yaml'), 'apiVersion: v1\nkind: ResourceQuota\nmetadata:\n  name: team-quota\nspec:\n  hard:\n    pods: "20"\n');
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test' } });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'shared config');
  git('tag', 'v1');

  const app = join(root, 'kapp');
  mkdirSync(join(app, 'base'), { recursive: true });
  mkdirSync(join(app, 'overlays/dev'), { recursive: true });
  writeFileSync(join(app, 'base/deployment.yaml'), 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: api\nspec:\n  replicas: 1\n  selector:\n    matchLabels: {app: api}\n  template:\n    metadata:\n      labels: {app: api}\n    spec:\n      containers:\n      - name: api\n        image: api-app\n');
  writeFileSync(join(app, 'base/kustomization.yaml'), 'resources: [deployment.yaml]\n');
  writeFileSync(join(app, 'overlays/dev/kustomization.yaml'), 'resources: [../../base]\nnamePrefix: dev-\ncommonLabels:\n  env: dev\n');
  writeFileSync(join(app, 'skaffold.yaml'), `apiVersion: skaffold/v4beta7
kind: Config
metadata:
  name: kapp
requires:
- git:
    repo: file://${repo}
    ref: v1
  configs: [shared]
manifests:
  kustomize:
    paths: [base]
profiles:
- name: dev
  manifests:
    kustomize:
      paths: [overlays/dev]
- name: charts
  manifests:
    helm:
      releases:
      - name: api
        chartPath: chart
`);
  writeFileSync(join(app, 'clouddeploy.yaml'), `apiVersion: deploy.cloud.google.com/v1
kind: DeliveryPipeline
metadata:
  name: kapp
serialPipeline:
  stages:
  - targetId: k-dev
    profiles: [dev]
  - targetId: k-charts
    profiles: [charts]
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: k-dev
gke:
  cluster: projects/my-proj/locations/us-central1/clusters/dev
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: k-charts
gke:
  cluster: projects/my-proj/locations/us-central1/clusters/charts
`);
  await gcloud(['deploy', 'apply', `--file=${join(app, 'clouddeploy.yaml')}`, '--region=us-central1']);
  await gcloud(['deploy', 'releases', 'create', 'k-1', `--source=${app}`, '--images=api-app=us-docker.pkg.dev/my-proj/repo/api:7', '--delivery-pipeline=kapp', '--region=us-central1', '--quiet']).catch(() => undefined);
  const r = await rendered('k-1', `${LOC}/deliveryPipelines/kapp`);
  assert.equal(r.targetRenders['k-dev'].renderingState, 'SUCCEEDED', r.targetRenders['k-dev'].failureMessage);
  const dev = r.targetArtifacts['k-dev'];
  const devDocs = docs(await cat(`${dev.artifactUri}/${dev.manifestPath}`));
  assert.deepEqual(devDocs.map(d => `${d.kind}/${d.metadata.name}`), ['ResourceQuota/team-quota', 'Deployment/dev-api']);
  assert.match(await cat(`${dev.artifactUri}/${dev.manifestPath}`), /image: us-docker\.pkg\.dev\/my-proj\/repo\/api:7/);
  // helm is not installed on this machine: the render of that target says so.
  assert.equal(r.targetRenders['k-charts'].renderingState, 'FAILED');
  assert.equal(r.targetRenders['k-charts'].failureCause, 'EXECUTION_FAILED');
  assert.match(r.targetRenders['k-charts'].failureMessage!, /helm/);
});

test('releases create --from-run-manifest: gcloud generates the Skaffold config (with the stages\' profiles) and it renders', async () => {
  const { mkdirSync } = await import('node:fs');
  const dir = join(tempDir(), 'frm');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'service.yaml'), 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: hello-run\nspec:\n  template:\n    spec:\n      containers:\n      - image: us-docker.pkg.dev/cloudrun/container/hello\n');
  writeFileSync(join(dir, 'cd.yaml'), `apiVersion: deploy.cloud.google.com/v1
kind: DeliveryPipeline
metadata:
  name: frm
serialPipeline:
  stages:
  - targetId: frm-dev
  - targetId: frm-prod
    profiles: [prod]
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: frm-dev
run:
  location: ${LOC}
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: frm-prod
run:
  location: ${LOC}
`);
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'cd.yaml')}`, '--region=us-central1']);
  const { stderr } = await gcloud(['deploy', 'releases', 'create', 'frm-1', `--from-run-manifest=${join(dir, 'service.yaml')}`, '--delivery-pipeline=frm', '--region=us-central1', '--quiet']);
  assert.match(stderr, /Generated Skaffold file can be found here: gs:\/\//);
  const r = await rendered('frm-1', `${LOC}/deliveryPipelines/frm`);
  assert.equal(r.renderState, 'SUCCEEDED', JSON.stringify(r.targetRenders));
  for (const t of ['frm-dev', 'frm-prod']) assert.equal(r.targetRenders[t].metadata?.cloudRun?.service, `${LOC}/services/hello-run`);
  const art = r.targetArtifacts['frm-prod'];
  assert.match(await cat(`${art.artifactUri}/${art.manifestPath}`), /name: hello-run/);
  // A stage without verify still lists its verify job, DISABLED, as Cloud Deploy shows it; the rollout runs past it.
  const ro = await eventually(async () => {
    const x = await gcloud.json<{ state: string; phases: { deploymentJobs: { verifyJob: { state: string; id: string } } }[] }>(['deploy', 'rollouts', 'describe', 'frm-1-to-frm-dev-0001', '--release=frm-1', '--delivery-pipeline=frm', '--region=us-central1']);
    return x.state === 'SUCCEEDED' ? x : undefined;
  }, 20_000);
  assert.deepEqual(ro.phases[0].deploymentJobs.verifyJob, { id: 'verify', state: 'DISABLED', verifyJob: {} });
});

test('GKE canaries overprovision pods by default (ceil(p·r/(100−p))) and take their share of replicas with disablePodOverprovisioning; the render names the canary deployment', async () => {
  const app = join(tempDir(), 'canary');
  const file = (name: string, text: string) => { writeFileSync(join(app, name), text); };
  mkdirSync(app, { recursive: true });
  file('skaffold.yaml', 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [deployment.yaml]\ndeploy:\n  kubectl: {}\n');
  file('deployment.yaml', 'apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\nspec:\n  replicas: 10\n  selector:\n    matchLabels: {app: web}\n  template:\n    metadata:\n      labels: {app: web}\n    spec:\n      containers:\n      - name: web\n        image: web-app\n');
  const stage = (target: string, disable: boolean) => `  - targetId: ${target}\n    strategy:\n      canary:\n        runtimeConfig:\n          kubernetes:\n            serviceNetworking:\n              service: web\n              deployment: web${disable ? '\n              disablePodOverprovisioning: true' : ''}\n        canaryDeployment:\n          percentages: [25, 50]\n`;
  file('clouddeploy.yaml', `apiVersion: deploy.cloud.google.com/v1\nkind: DeliveryPipeline\nmetadata:\n  name: canaries\nserialPipeline:\n  stages:\n${stage('over', false)}${stage('exact', true)}---\napiVersion: deploy.cloud.google.com/v1\nkind: Target\nmetadata:\n  name: over\ngke:\n  cluster: ${LOC}/clusters/a\n---\napiVersion: deploy.cloud.google.com/v1\nkind: Target\nmetadata:\n  name: exact\ngke:\n  cluster: ${LOC}/clusters/b\n`);
  await gcloud(['deploy', 'apply', `--file=${join(app, 'clouddeploy.yaml')}`, '--region=us-central1']);
  await gcloud(['deploy', 'releases', 'create', 'c1', `--source=${app}`, '--images=web-app=us-docker.pkg.dev/my-proj/repo/web:1', '--delivery-pipeline=canaries', '--region=us-central1', '--quiet']);
  const r = await rendered('c1', `${LOC}/deliveryPipelines/canaries`);
  assert.equal(r.renderState, 'SUCCEEDED', JSON.stringify(r.targetRenders));
  assert.deepEqual(r.targetRenders.over.metadata?.kubernetes, { deployment: 'web', canaryDeployment: 'web-canary', kubernetesNamespace: 'default' });
  const canaryPods = async (target: string, phase: string) => {
    const a = r.targetArtifacts[target];
    const text = await cat(`${a.artifactUri}/${a.phaseArtifacts![phase].manifestPath}`);
    return (docs(text).find(d => d.metadata.name === 'web-canary')!.spec as { replicas: number }).replicas;
  };
  assert.equal(await canaryPods('over', 'canary-25'), 4, '25% of all pods beside 10 stable ones: ceil(25·10/75)');
  assert.equal(await canaryPods('over', 'canary-50'), 10, '50%: as many canary pods as stable ones');
  assert.equal(await canaryPods('exact', 'canary-25'), 3, 'without overprovisioning: ceil(25% of 10)');
  assert.equal(await canaryPods('exact', 'canary-50'), 5);
});
