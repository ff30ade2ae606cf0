// Google's quickstart "Canary-deploy an application to a target" (https://cloud.google.com/deploy/docs/deploy-app-canary),
// Cloud Run variant, through gcloud as the page says, only the project changed: the first release skips canary-50 and
// waits "Pending advance" at stable; advancing deploys it; the second release runs canary-50 (its rendered Cloud Run
// service sends 50% of traffic to the new revision) and waits again; advancing takes it to 100%; the page's clean-up
// deletes the pipeline. The page's "Advance to stable" and "Advance Rollout" are console buttons: the test uses their
// gcloud equivalent, `gcloud deploy rollouts advance`. Not run: the IAM grants and `gcloud run services delete`
// (Gantry serves no Cloud Run services).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { HELLO_IMAGE, quickstartDir, rolloutStates } from '../helpers/quickstart.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'canary-qs';
const PIPELINE = 'my-canary-demo-app-1';
let g: Gantry;
let gcloud: Gcloud;
before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url, PROJECT);
});
after(() => g.close());

interface Release { targetArtifacts: Record<string, { artifactUri: string; phaseArtifacts: Record<string, { manifestPath: string }> }> }

test('deploy-app-canary: first release skips the canary and waits to advance to stable; the second runs canary-50 at 50% traffic', async () => {
  const cwd = quickstartDir('canary', { PROJECT_ID: PROJECT });
  const at = ['--region=us-central1', `--project=${PROJECT}`];
  const states = () => rolloutStates(gcloud, 'test-release-001', PIPELINE);
  await gcloud(['deploy', 'apply', '--file=clouddeploy.yaml', ...at], { cwd });
  await gcloud(['deploy', 'releases', 'create', 'test-release-001', `--project=${PROJECT}`, '--region=us-central1', `--delivery-pipeline=${PIPELINE}`, `--images=${HELLO_IMAGE}`], { cwd });
  // "Notice that the rollout status is 'Pending advance'": canary skipped (no earlier revision to split traffic
  // with), stable not started until advanced.
  await eventually(async () => (await states())[0] === 'test-release-001-to-prod-0001 IN_PROGRESS canary-50=SKIPPED stable=PENDING', 15_000);
  await new Promise(r => setTimeout(r, 300)); // and it stays there
  assert.deepEqual(await states(), ['test-release-001-to-prod-0001 IN_PROGRESS canary-50=SKIPPED stable=PENDING']);
  const advance = (release: string) => gcloud(['deploy', 'rollouts', 'advance', `${release}-to-prod-0001`, `--release=${release}`, `--delivery-pipeline=${PIPELINE}`, '--region=us-central1', '--quiet']);
  await advance('test-release-001');
  await eventually(async () => (await states())[0] === 'test-release-001-to-prod-0001 SUCCEEDED canary-50=SKIPPED stable=SUCCEEDED', 15_000);

  // "Execute the canary deployment": the second release deploys canary-50, then waits.
  await gcloud(['deploy', 'releases', 'create', 'test-release-002', `--project=${PROJECT}`, '--region=us-central1', `--delivery-pipeline=${PIPELINE}`, `--images=${HELLO_IMAGE}`], { cwd });
  await eventually(async () => (await rolloutStates(gcloud, 'test-release-002', PIPELINE))[0] === 'test-release-002-to-prod-0001 IN_PROGRESS canary-50=SUCCEEDED stable=PENDING', 15_000);
  // "the application is now deployed to 50%": the canary phase's rendered service gives the new revision 50%.
  const release = await gcloud.json<Release>(['deploy', 'releases', 'describe', 'test-release-002', `--delivery-pipeline=${PIPELINE}`, '--region=us-central1']);
  const art = release.targetArtifacts.prod;
  const service = YAML.parse((await gcloud(['storage', 'cat', `${art.artifactUri}/${art.phaseArtifacts['canary-50'].manifestPath}`])).stdout) as { metadata: { name: string }; spec: { traffic: { latestRevision?: boolean; percent: number }[]; template: { spec: { containers: { image: string }[] } } } };
  assert.equal(service.metadata.name, 'my-canary-run-service');
  assert.equal(service.spec.template.spec.containers[0].image, HELLO_IMAGE.split('=')[1]);
  assert.deepEqual(service.spec.traffic.filter(t => t.latestRevision).map(t => t.percent), [50]);
  assert.equal(service.spec.traffic.reduce((n, t) => n + t.percent, 0), 100);
  await advance('test-release-002');
  await eventually(async () => (await rolloutStates(gcloud, 'test-release-002', PIPELINE))[0] === 'test-release-002-to-prod-0001 SUCCEEDED canary-50=SUCCEEDED stable=SUCCEEDED', 15_000);

  await gcloud(['deploy', 'delete', '--file=clouddeploy.yaml', '--force', ...at], { cwd });
  assert.deepEqual(await gcloud.json(['deploy', 'delivery-pipelines', 'list', '--region=us-central1']), []);
});
