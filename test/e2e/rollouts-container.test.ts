// Job runs executed as containers through the Docker Engine API: the same hooks and verify as the
// process executor, run in a busybox image with the release source mounted at /workspace.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { DeployKit } from '../helpers/deploy.js';
import { dockerUnavailable, startDocker, TEST_IMAGE, type TestDocker } from '../helpers/docker.js';
import type { Gantry } from '../../src/gantry.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/hooks', import.meta.url));
const LOC = 'projects/ctr/locations/us-central1';
const skip = process.env.CI ? undefined : dockerUnavailable();
let g: Gantry;
let docker: TestDocker;
let api: clouddeploy_v1.Resource$Projects$Locations;

const k = new DeployKit();
const opDone = k.opDone.bind(k);
const ro = () => k.rollouts;
const until = (name: string, pred: (r: clouddeploy_v1.Schema$Rollout) => boolean) => k.until(name, pred, 30_000);
const download = k.download.bind(k);

before(async () => {
  if (skip) return;
  docker = await startDocker();
  g = await startTestGantry({ executor: 'container', dockerSocket: docker.socket });
  api = k.attach(g.url).api;
  await opDone(api.targets.create({ parent: LOC, targetId: 'dev', requestBody: { run: { location: LOC } } }));
  await opDone(api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'p', requestBody: { serialPipeline: { stages: [
    { targetId: 'dev', strategy: { standard: { verify: true, predeploy: { actions: ['announce'] } } } },
  ] } } }));
});
after(async () => { await g?.close(); await docker?.stop(); });

test('a verify container exiting 1 fails the rollout; fixed, retry succeeds; predeploy env in the log', { skip }, async () => {
  const source = join(tempDir(), 'src');
  cpSync(FIXTURE, source, { recursive: true });
  writeFileSync(join(source, 'skaffold.yaml'), readFileSync(join(source, 'skaffold.yaml'), 'utf8').replaceAll('image: busybox', `image: ${TEST_IMAGE}`));
  // The deployed service itself is simulated: this test is about the hook and verify containers, not serving.
  writeFileSync(join(source, 'service.yaml'), readFileSync(join(source, 'service.yaml'), 'utf8').replace('  name: hooks\n', '  name: hooks\n  annotations:\n    gantry.dev/executor: simulated\n'));
  const release = await k.renderedRelease(`${LOC}/deliveryPipelines/p`, 'r1', { skaffoldConfigUri: pathToFileURL(source).href });
  assert.equal(release.renderState, 'SUCCEEDED');
  const rel = release.name!;
  await opDone(ro().create({ parent: rel, rolloutId: 'ro1', requestBody: { targetId: 'dev' } }));
  const name = `${rel}/rollouts/ro1`;
  let r = await until(name, x => x.state === 'FAILED');
  assert.equal(r.deployFailureCause, 'EXECUTION_FAILED');
  const verify = (await ro().jobRuns.get({ name: r.phases![0].deploymentJobs!.verifyJob!.jobRun! })).data;
  assert.match(verify.verifyJobRun!.failureMessage!, /container "smoke" exited with code 1/);
  assert.match(await download(`${verify.verifyJobRun!.artifactUri!}/${verify.verifyJobRun!.eventLogPath!}`), /ready.flag is missing/);
  for (const build of [verify.verifyJobRun!.build, r.deployingBuild]) assert.match(build!, /^projects\/[1-9][0-9]{11}\/locations\/us-central1\/builds\/[0-9a-f-]{36}$/);
  assert.equal(r.failureReason, `Rollout failed because job "verify" in phase "stable" failed: ${verify.verifyJobRun!.failureMessage!}`);
  const logs = (await (await fetch(`${g.url}/storage/v1/b/gantry-logs/o?prefix=${encodeURIComponent(name)}`)).json()) as { items: { mediaLink: string }[] };
  const texts = await Promise.all(logs.items.map(async i => (await fetch(i.mediaLink)).text()));
  assert.ok(texts.some(t => /predeploy for dev in phase stable says hello/.test(t) && /CLOUD_DEPLOY_ROLLOUT=ro1/.test(t)), texts.join('\n---\n'));
  writeFileSync(join(source, 'ready.flag'), 'yes');
  await ro().retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'verify' } });
  r = await until(name, x => x.state === 'SUCCEEDED');
  const passed = (await ro().jobRuns.get({ name: r.phases![0].deploymentJobs!.verifyJob!.jobRun! })).data;
  assert.match(await download(`${passed.verifyJobRun!.artifactUri!}/${passed.verifyJobRun!.eventLogPath!}`), /smoke test passed/);
});

test('a missing image fails the job run with a message', { skip }, async () => {
  const source = join(tempDir(), 'src');
  cpSync(FIXTURE, source, { recursive: true });
  writeFileSync(join(source, 'skaffold.yaml'), readFileSync(join(source, 'skaffold.yaml'), 'utf8').replaceAll('image: busybox', 'image: gantry-test/absent:0'));
  const release = await k.renderedRelease(`${LOC}/deliveryPipelines/p`, 'r2', { skaffoldConfigUri: pathToFileURL(source).href });
  assert.equal(release.renderState, 'SUCCEEDED');
  const rel = release.name!;
  await opDone(ro().create({ parent: rel, rolloutId: 'ro2', requestBody: { targetId: 'dev' } }));
  const r = await until(`${rel}/rollouts/ro2`, x => x.state === 'FAILED');
  const pre = (await ro().jobRuns.get({ name: r.phases![0].deploymentJobs!.predeployJob!.jobRun! })).data;
  assert.match(pre.predeployJobRun!.failureMessage!, /could not start: .*(No such image|not found)/i);
});
