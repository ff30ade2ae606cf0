// Google's quickstart "Run hooks before and after deploying" (https://cloud.google.com/deploy/docs/deploy-app-hooks),
// Cloud Run variant, only the project changed: the pipeline with a predeploy and a postdeploy task (containers that
// echo "this is a predeploy action" / "… postdeploy action"), a release that deploys to the one target, the rollout
// running predeploy, deploy and postdeploy in that order, and the hooks' output in their Cloud Build logs ("View the
// results of the pre- and post-deploy hooks in the Cloud Build logs"), read with `gcloud builds log`.
// The files are Gantry's own stand-ins for the page's (test/fixtures/deploy-quickstarts/hooks), with its names and
// hooks. The page's tasks use the current API's task syntax
// (`type: container`), which gcloud 528 (installed here) predates: its `deploy apply` crashes on the file before
// sending anything ("May not assign arbitrary value type to message Task"). Where the installed gcloud cannot
// apply or delete the file, the test sends the same resources through googleapis, the task as the REST reference
// gives it (`{container: {image, command, args}}`); a gcloud that can is used as the page says. The process
// executor runs the hooks' commands (the `ubuntu` image is not pulled) and the service (Google's hello image is a
// stand-in app mapped with --image-dir). Not run: the IAM grants, `gcloud run
// services delete` and the console.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import YAML from 'yaml';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { googleapisDeploy } from '../helpers/clients.js';
import { HELLO_IMAGE, helloImageDir, quickstartDir, rolloutStates } from '../helpers/quickstart.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'hooks-qs';
const PIPELINE = 'deploy-hooks-demo-app-run-1';
const LOC = `projects/${PROJECT}/locations/us-central1`;
let g: Gantry;
let gcloud: Gcloud;
before(async () => {
  // The page's service really deploys: Google's hello image is a local stand-in app (--image-dir).
  g = await startTestGantry({ executor: 'process', imageDirs: [helloImageDir()] });
  gcloud = await gcloudFor(g.url, PROJECT);
  for (const api of ['cloudbuild', 'logging']) gcloud.env[`CLOUDSDK_API_ENDPOINT_OVERRIDES_${api.toUpperCase()}`] = `${g.url}/`;
  // `builds log` reads Cloud Logging through a client that wants a token (any will do), as gantry env sets.
  gcloud.env.CLOUDSDK_AUTH_ACCESS_TOKEN = 'gantry';
  gcloud.env.CLOUDSDK_AUTH_DISABLE_CREDENTIALS = 'false';
});
after(() => g.close());

type Obj = Record<string, any>;
const OLD_GCLOUD = /May not assign arbitrary value type to message Task/;

/** The page's flattened task (`type: container` beside the container's fields), as the API's Task. */
const apiTask = ({ type, ...rest }: Obj): Obj => ({ [type as string]: rest });

/** `gcloud deploy apply` of the page's file, or, where this gcloud predates its task syntax, the same through googleapis. */
async function apply(cwd: string): Promise<void> {
  try {
    await gcloud(['deploy', 'apply', '--file=clouddeploy.yaml', '--region=us-central1', `--project=${PROJECT}`], { cwd });
    return;
  } catch (e) {
    if (!OLD_GCLOUD.test(String((e as { stderr?: string }).stderr))) throw e;
  }
  const api = googleapisDeploy(g.url).projects.locations;
  for (const doc of YAML.parseAllDocuments(readFileSync(join(cwd, 'clouddeploy.yaml'), 'utf8')).map(d => d.toJS() as Obj)) {
    const { apiVersion: _v, kind, metadata, ...body } = doc;
    if (kind === 'Target') await api.targets.create({ parent: LOC, targetId: metadata.name, requestBody: body });
    else {
      for (const stage of body.serialPipeline.stages) {
        for (const hook of ['predeploy', 'postdeploy']) {
          const h = stage.strategy?.standard?.[hook];
          if (h?.tasks) h.tasks = h.tasks.map(apiTask);
        }
      }
      await api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: metadata.name, requestBody: body });
    }
  }
}

interface JobRun { name: string; jobId: string; phaseId: string; state: string; createTime: string; predeployJobRun?: { build: string }; postdeployJobRun?: { build: string }; deployJobRun?: { build: string } }

test('deploy-app-hooks: the predeploy task runs before the deploy, the postdeploy task after it; their output is in the build logs', async () => {
  const cwd = quickstartDir('hooks', { PROJECT_ID: PROJECT });
  await apply(cwd);
  const pipeline = (await gcloud.json<Obj>(['deploy', 'delivery-pipelines', 'describe', PIPELINE, '--region=us-central1']))['Delivery Pipeline'];
  assert.equal(pipeline.condition.pipelineReadyCondition.status, true);
  assert.deepEqual(pipeline.serialPipeline.stages[0].strategy.standard.predeploy.tasks[0].container, { image: 'ubuntu', command: ['/bin/sh'], args: ['-c', 'echo "this is a predeploy action"'] });
  await gcloud(['deploy', 'releases', 'create', 'test-release-001', `--project=${PROJECT}`, '--region=us-central1', `--delivery-pipeline=${PIPELINE}`, `--images=${HELLO_IMAGE}`], { cwd });
  await eventually(async () => (await rolloutStates(gcloud, 'test-release-001', PIPELINE))[0] === 'test-release-001-to-hooks-staging-0001 SUCCEEDED stable=SUCCEEDED', 20_000);

  const runs = await gcloud.json<JobRun[]>(['deploy', 'job-runs', 'list', '--rollout=test-release-001-to-hooks-staging-0001', '--release=test-release-001', `--delivery-pipeline=${PIPELINE}`, '--region=us-central1']);
  const order = [...runs].sort((a, b) => a.createTime.localeCompare(b.createTime));
  assert.deepEqual(order.map(r => `${r.jobId} ${r.state}`), ['predeploy SUCCEEDED', 'deploy SUCCEEDED', 'postdeploy SUCCEEDED']);
  const log = async (build: string) => (await gcloud(['builds', 'log', build.split('/').pop()!, '--region=us-central1'])).stdout;
  assert.match(await log(order[0].predeployJobRun!.build), /this is a predeploy action/);
  assert.match(await log(order[2].postdeployJobRun!.build), /this is a postdeploy action/);
  assert.doesNotMatch(await log(order[2].postdeployJobRun!.build), /predeploy action/);

  // Clean up: `gcloud deploy delete --file=clouddeploy.yaml --force`, or its resources one by one where this gcloud
  // cannot read the file.
  try {
    await gcloud(['deploy', 'delete', '--file=clouddeploy.yaml', '--force', '--region=us-central1', `--project=${PROJECT}`], { cwd });
  } catch (e) {
    if (!OLD_GCLOUD.test(String((e as { stderr?: string }).stderr))) throw e;
    await gcloud(['deploy', 'delivery-pipelines', 'delete', PIPELINE, '--force', '--region=us-central1', '--quiet']);
    await gcloud(['deploy', 'targets', 'delete', 'hooks-staging', '--region=us-central1', '--quiet']);
  }
  assert.deepEqual(await gcloud.json(['deploy', 'delivery-pipelines', 'list', '--region=us-central1']), []);
});
