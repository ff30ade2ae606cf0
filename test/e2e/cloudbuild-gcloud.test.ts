// Cloud Build's builds.get and builds.list for the builds Gantry names, through gcloud as Google's docs use them
// ("see the build log"): a render's build and a job run's build described, listed and their logs printed; a failed
// job run's build is FAILURE with its message; App Hosting's build too; the global form does not find regional builds.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'cb-proj';
const LOC = `projects/${PROJECT}/locations/us-central1`;
let g: Gantry;
let gcloud: Gcloud;

before(async () => {
  g = await startTestGantry({ renderMs: 50, jobMs: 50, buildMs: 50 });
  gcloud = await gcloudFor(g.url, PROJECT);
  gcloud.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDBUILD = `${g.url}/`;
  gcloud.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING = `${g.url}/`;
  // `builds log` reads Cloud Logging through a client that wants a token (any will do), as gantry env sets.
  gcloud.env.CLOUDSDK_AUTH_ACCESS_TOKEN = 'gantry';
  gcloud.env.CLOUDSDK_AUTH_DISABLE_CREDENTIALS = 'false';
});
after(async () => { await g.close(); });

const call = async (method: string, path: string, body?: unknown) => {
  const r = await fetch(`${g.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200, await r.clone().text());
  return await r.json() as Record<string, any>;
};

interface Build { id: string; name: string; status: string; statusDetail?: string; projectId: string; options: { logging: string }; startTime?: string; finishTime?: string }

test('gcloud builds describe, list and log: a render\'s and a job run\'s build; a failed job\'s build is FAILURE; global finds none', async () => {
  await call('POST', `/v1/${LOC}/targets?targetId=dev`, { run: { location: LOC } });
  await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=app`, { serialPipeline: { stages: [{ targetId: 'dev', strategy: { standard: { verify: true } } }] } });
  await call('POST', `/v1/${LOC}/deliveryPipelines/app/releases?releaseId=r1`, { annotations: { 'gantry.dev/outcomes': 'stable/verify=fail"smoke test: 3 of 40 checks failed"' } });
  const release = await eventually(async () => { const r = await call('GET', `/v1/${LOC}/deliveryPipelines/app/releases/r1`); return r.renderState === 'SUCCEEDED' && r; }, 10_000);
  const renderBuild = String(release.targetRenders.dev.renderingBuild);
  const render = await gcloud.json<Build>(['builds', 'describe', renderBuild.split('/').pop()!, '--region=us-central1']);
  assert.equal(render.name, renderBuild);
  assert.equal(render.status, 'SUCCESS');
  assert.equal(render.projectId, PROJECT);
  assert.equal(render.options.logging, 'CLOUD_LOGGING_ONLY');
  assert.ok(render.startTime && render.finishTime);
  // The render's log is its build's log, as Cloud Build keeps it.
  const renderLog = (await gcloud(['builds', 'log', renderBuild.split('/').pop()!, '--region=us-central1'])).stdout;
  assert.match(renderLog, /Step #0 - "render": .*Rendered \d+ manifest\(s\) for target "dev"/);

  await call('POST', `/v1/${LOC}/deliveryPipelines/app/releases/r1/rollouts?rolloutId=r1-to-dev-0001`, { targetId: 'dev' });
  await eventually(async () => (await call('GET', `/v1/${LOC}/deliveryPipelines/app/releases/r1/rollouts/r1-to-dev-0001`)).state === 'FAILED', 10_000);
  const runs = (await call('GET', `/v1/${LOC}/deliveryPipelines/app/releases/r1/rollouts/r1-to-dev-0001/jobRuns`)).jobRuns as Record<string, any>[];
  const deployBuild = String(runs.find(j => j.jobId === 'deploy')!.deployJobRun.build).split('/').pop()!;
  const verifyBuild = String(runs.find(j => j.jobId === 'verify')!.verifyJobRun.build).split('/').pop()!;
  assert.equal((await gcloud.json<Build>(['builds', 'describe', deployBuild, '--region=us-central1'])).status, 'SUCCESS');
  const failed = await gcloud.json<Build>(['builds', 'describe', verifyBuild, '--region=us-central1']);
  assert.equal(failed.status, 'FAILURE');
  assert.match(String(failed.statusDetail), /smoke test: 3 of 40 checks failed/);

  // The log, read from Cloud Logging as gcloud does for a CLOUD_LOGGING_ONLY build.
  const { stdout } = await gcloud(['builds', 'log', verifyBuild, '--region=us-central1']);
  assert.match(stdout, /REMOTE BUILD OUTPUT/);
  assert.match(stdout, /Step #\d+.*smoke test: 3 of 40 checks failed/);

  const listed = await gcloud.json<Build[]>(['builds', 'list', '--region=us-central1']);
  assert.deepEqual(new Set(listed.map(b => b.id)), new Set([renderBuild.split('/').pop(), deployBuild, verifyBuild]));
  // Newest first, as Cloud Build lists.
  assert.equal(listed[listed.length - 1].id, renderBuild.split('/').pop());

  // A build lives in its region: the global form (gcloud's default region) does not find it.
  assert.match(await gcloud.fails(['builds', 'describe', deployBuild]), /NOT_FOUND|not found/i);
  assert.match(await gcloud.fails(['builds', 'describe', '00000000-0000-4000-8000-000000000000', '--region=us-central1']), /NOT_FOUND|not found/i);
});

test('an App Hosting build is a Cloud Build build: its buildLogsUri id describes as SUCCESS once built', async () => {
  const AH = `${LOC}/backends/web`;
  const op = await call('POST', `/v1beta/${LOC}/backends?backendId=web`, { appId: '1:1:web:1', servingLocality: 'GLOBAL_ACCESS', serviceAccount: `app-hosting@${PROJECT}.iam.gserviceaccount.com` });
  await eventually(async () => (await call('GET', `/v1beta/${op.name}`)).done, 10_000);
  await call('POST', `/v1beta/${AH}/builds?buildId=b1`, { source: { container: { image: 'us-docker.pkg.dev/cloudrun/container/hello' } } });
  const built = await eventually(async () => { const b = await call('GET', `/v1beta/${AH}/builds/b1`); return b.state === 'READY' && b; }, 15_000);
  const id = /builds;region=us-central1\/([0-9a-f-]+)/.exec(String(built.buildLogsUri))![1];
  const build = await gcloud.json<Build>(['builds', 'describe', id, '--region=us-central1']);
  assert.equal(build.status, 'SUCCESS');
  assert.equal(build.projectId, PROJECT);
});
