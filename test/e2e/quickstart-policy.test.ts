// Google's quickstart "Use a deploy policy to restrict rollouts" (https://cloud.google.com/deploy/docs/deploy-app-policy),
// Cloud Run variant, through gcloud as the page says, only the project changed: the pipeline and target applied, the
// ten-year policy applied, `releases create` makes the release but its rollout is refused with the exact error line
// the page prints, no rollout exists, `releases promote --override-deploy-policies` makes it and it succeeds, and the
// page's clean-up deletes both files' resources. Not run: the IAM grants and `gcloud run services delete` (Gantry
// serves no Cloud Run services; its deploys record the revision on the rollout) and the console views.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { HELLO_IMAGE, quickstartDir, rolloutStates } from '../helpers/quickstart.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'policy-qs';
let g: Gantry;
let gcloud: Gcloud;
before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url, PROJECT);
});
after(() => g.close());

test('deploy-app-policy: the policy refuses the first rollout in Google\'s words; --override-deploy-policies deploys', async () => {
  const cwd = quickstartDir('policy', { PROJECT_ID: PROJECT });
  const at = ['--region=us-central1', `--project=${PROJECT}`];
  await gcloud(['deploy', 'apply', '--file=clouddeploy.yaml', ...at], { cwd });
  const applied = await gcloud(['deploy', 'apply', '--file=deploypolicy.yaml', ...at], { cwd });
  assert.match(applied.stderr, /Created Cloud Deploy resource: projects\/policy-qs\/locations\/us-central1\/deployPolicies\/quickstart-deploy-policy/);

  const refused = await gcloud.fails(['deploy', 'releases', 'create', 'test-release-001', `--project=${PROJECT}`, '--region=us-central1',
    '--delivery-pipeline=deploy-policy-pipeline', `--images=${HELLO_IMAGE}`], { cwd });
  // The page: "An error message is shown on the command line:" — CreateRollout's operation fails with it, so gcloud
  // prints the bare message (an HTTP error would read "FAILED_PRECONDITION: …" with its details after it).
  assert.match(refused, /Created Cloud Deploy release test-release-001\./);
  assert.ok(refused.includes('ERROR: (gcloud.deploy.releases.create) A create-rollout attempt was blocked by the "quickstart-deploy-policy" policy. Target: "prod-target", Delivery pipeline: "deploy-policy-pipeline", policy rule: "no-rollouts"\n'), refused);
  assert.doesNotMatch(refused, /FAILED_PRECONDITION/);
  // "you won't see a rollout for the release"
  assert.deepEqual(await rolloutStates(gcloud, 'test-release-001', 'deploy-policy-pipeline'), []);

  const promoted = await gcloud(['deploy', 'releases', 'promote', '--release=test-release-001', `--project=${PROJECT}`, '--region=us-central1',
    '--delivery-pipeline=deploy-policy-pipeline', '--to-target=prod-target', '--override-deploy-policies=quickstart-deploy-policy', '--quiet'], { cwd });
  assert.match(promoted.stderr, /Creating rollout .*test-release-001-to-prod-target-0001 in target prod-target/);
  // "because the policy was overridden, the rollout was created and it succeeded"
  await eventually(async () => (await rolloutStates(gcloud, 'test-release-001', 'deploy-policy-pipeline'))[0] === 'test-release-001-to-prod-target-0001 SUCCEEDED stable=SUCCEEDED', 15_000);

  // Clean up, as the page does.
  const gone = await gcloud(['deploy', 'delete', '--file=deploypolicy.yaml', ...at], { cwd });
  assert.match(gone.stderr, /Deleted Cloud Deploy resource: projects\/policy-qs\/locations\/us-central1\/deployPolicies\/quickstart-deploy-policy/);
  await gcloud(['deploy', 'delete', '--file=clouddeploy.yaml', '--force', ...at], { cwd });
  assert.deepEqual(await gcloud.json(['deploy', 'delivery-pipelines', 'list', '--region=us-central1']), []);
});
