// Google's quickstart "Automate release promotion and rollout advancement in Cloud Deploy"
// (https://cloud.google.com/deploy/docs/deploy-app-automation), Cloud Run variant, through gcloud as the page says,
// only the project (and the project number it has the user look up with `gcloud projects describe`) filled in: one
// release deploys to dev, the promote automation promotes it to staging a minute later, the staging rollout skips
// canary-25 (first deployment) and the advance automation advances it to stable a minute after that; "Automation
// runs" then shows two runs, one per automation. The page's minutes pass on Gantry's virtual clock (its API, as
// `gantry clock advance` does) so the test takes seconds. Not run: the IAM grants, `gcloud run services delete` and
// the console views (their data is read with gcloud instead).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { HELLO_IMAGE, quickstartDir, rolloutStates } from '../helpers/quickstart.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'automation-qs';
const PIPELINE = 'my-automation-demo-app-1';
let g: Gantry;
let gcloud: Gcloud;
before(async () => {
  g = await startTestGantry({ clock: 'virtual', renderMs: 1000, jobMs: 1000 });
  gcloud = await gcloudFor(g.url, PROJECT);
  await gcloud(['config', 'set', 'api_endpoint_overrides/cloudresourcemanager', `${g.url}/`]);
});
after(() => g.close());

const clock = async (duration: string) => {
  const r = await fetch(`${g.url}/gantry/v1/clock:advance`, { method: 'POST', body: JSON.stringify({ duration }), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200, await r.text());
};

interface AutomationRun { name: string; automationId: string; ruleId: string; state: string; targetId: string; createTime: string; waitUntilTime?: string; advanceRolloutOperation?: { sourcePhase: string; destinationPhase: string; rollout: string } }

test('deploy-app-automation: promoted to staging after a minute, advanced from the skipped canary-25 to stable after another', async () => {
  const projectNumber = (await gcloud(['projects', 'describe', PROJECT, '--format=value(projectNumber)'])).stdout.trim();
  assert.match(projectNumber, /^\d+$/);
  const cwd = quickstartDir('automation', { PROJECT_ID: PROJECT, PROJECT_NUMBER: projectNumber });
  const applied = await gcloud(['deploy', 'apply', '--file=clouddeploy.yaml', '--region=us-central1', `--project=${PROJECT}`], { cwd });
  for (const a of ['promote', 'advance']) assert.match(applied.stderr, new RegExp(`Created Cloud Deploy resource: projects/${PROJECT}/locations/us-central1/deliveryPipelines/${PIPELINE}/automations/${a}\\.`));
  await gcloud(['deploy', 'releases', 'create', 'test-release-001', `--project=${PROJECT}`, '--region=us-central1', `--delivery-pipeline=${PIPELINE}`, `--images=${HELLO_IMAGE}`], { cwd });
  const states = () => rolloutStates(gcloud, 'test-release-001', PIPELINE);
  const runs = () => gcloud.json<AutomationRun[]>(['deploy', 'automation-runs', 'list', `--delivery-pipeline=${PIPELINE}`, '--region=us-central1']);

  await clock('5s');
  assert.deepEqual(await states(), ['test-release-001-to-automation-quickstart-dev-0001 SUCCEEDED stable=SUCCEEDED']);
  const [promote] = await runs();
  assert.deepEqual([promote.automationId, promote.ruleId, promote.state, promote.targetId], ['promote', 'promote-release', 'PENDING', 'automation-quickstart-dev']);
  assert.equal(Date.parse(promote.waitUntilTime!) - Date.parse(promote.createTime), 60_000); // "a one-minute wait time"

  await clock('60s');
  assert.deepEqual(await states(), [
    'test-release-001-to-automation-quickstart-dev-0001 SUCCEEDED stable=SUCCEEDED',
    // "the canary-25 phase is skipped, because there is no pre-existing version of the app to canary against"
    'test-release-001-to-automation-quickstart-staging-0001 IN_PROGRESS canary-25=SKIPPED stable=PENDING',
  ]);
  const advance = (await runs()).find(r => r.automationId === 'advance');
  assert.ok(advance, 'the advance automation waits to advance the staging rollout');
  assert.deepEqual([advance.ruleId, advance.state, advance.targetId], ['advance-rollout', 'PENDING', 'automation-quickstart-staging']);
  assert.deepEqual([advance.advanceRolloutOperation!.sourcePhase, advance.advanceRolloutOperation!.destinationPhase], ['canary-25', 'stable']);

  await clock('60s');
  await clock('5s');
  // "the application is deployed to successfully to both targets without you having to do anything further"
  assert.deepEqual(await states(), [
    'test-release-001-to-automation-quickstart-dev-0001 SUCCEEDED stable=SUCCEEDED',
    'test-release-001-to-automation-quickstart-staging-0001 SUCCEEDED canary-25=SKIPPED stable=SUCCEEDED',
  ]);
  // "There are two entries, one for each of the two automations you created."
  const all = await runs();
  assert.deepEqual(all.map(r => `${r.automationId} ${r.state}`).sort(), ['advance SUCCEEDED', 'promote SUCCEEDED']);
  const described = await gcloud.json<AutomationRun>(['deploy', 'automation-runs', 'describe', all.find(r => r.automationId === 'advance')!.name.split('/').pop()!, `--delivery-pipeline=${PIPELINE}`, '--region=us-central1']);
  assert.equal(described.advanceRolloutOperation!.rollout.split('/').pop(), 'test-release-001-to-automation-quickstart-staging-0001');

  await gcloud(['deploy', 'delete', '--file=clouddeploy.yaml', '--force', '--region=us-central1', `--project=${PROJECT}`], { cwd });
  assert.deepEqual(await gcloud.json(['deploy', 'delivery-pipelines', 'list', '--region=us-central1']), []);
});
