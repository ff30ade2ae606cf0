// Job runs executed for real by the process executor: a predeploy custom action and a verify
// container from the release's Skaffold config, with Cloud Deploy's environment and captured logs.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import { DeployKit } from '../helpers/deploy.js';
import type { Gantry } from '../../src/gantry.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/hooks', import.meta.url));
// Custom actions end by writing results.json, as the custom target contract asks.
const RESULTS = fileURLToPath(new URL('../../../test/fixtures/custom-target/results.mjs', import.meta.url));
const LOC = 'projects/proc/locations/us-central1';
let g: Gantry;
let api: clouddeploy_v1.Resource$Projects$Locations;
let source: string;

const k = new DeployKit();
const opDone = k.opDone.bind(k);
const ro = () => k.rollouts;
const until = k.until.bind(k);
const download = k.download.bind(k);

before(async () => {
  // The server default stays simulated; the operator allows the process executor for targets that ask.
  g = await startTestGantry({ allowExecutors: ['process'] });
  api = k.attach(g.url).api;
  source = join(tempDir(), 'src');
  cpSync(FIXTURE, source, { recursive: true });
  // The server default stays simulated; the target asks for the process executor.
  await opDone(api.targets.create({ parent: LOC, targetId: 'dev', requestBody: { annotations: { 'gantry.dev/executor': 'process' }, run: { location: LOC } } }));
  await opDone(api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'p', requestBody: { serialPipeline: { stages: [
    { targetId: 'dev', strategy: { standard: { verify: true, predeploy: { actions: ['announce'] } } } },
  ] } } }));
});
after(() => g.close());

test('verify exits 1 → FAILED/EXECUTION_FAILED with the log; fixed, retry-job succeeds; predeploy env and logs visible', async () => {
  const release = await k.renderedRelease(`${LOC}/deliveryPipelines/p`, 'r1', { skaffoldConfigUri: pathToFileURL(source).href });
  assert.equal(release.renderState, 'SUCCEEDED');
  const rel = release.name!;
  await opDone(ro().create({ parent: rel, rolloutId: 'ro1', requestBody: { targetId: 'dev' } }));
  const name = `${rel}/rollouts/ro1`;
  let r = await until(name, x => x.state === 'FAILED');
  assert.equal(r.deployFailureCause, 'EXECUTION_FAILED');
  const jobs = r.phases![0].deploymentJobs!;
  const verify = (await ro().jobRuns.get({ name: jobs.verifyJob!.jobRun! })).data;
  assert.equal(verify.verifyJobRun!.failureCause, 'EXECUTION_FAILED');
  assert.match(verify.verifyJobRun!.failureMessage!, /container "smoke" exited with code 1\. Logs: gs:\/\//);
  assert.match(await download(`${verify.verifyJobRun!.artifactUri!}/${verify.verifyJobRun!.eventLogPath!}`), /smoke\] stderr: ready.flag is missing/);
  // The same lines are Cloud Logging entries of the Cloud Build build the job run names.
  const buildId = verify.verifyJobRun!.build!.split('/').pop();
  const [project] = verify.name!.split('/').slice(1, 2);
  const listed = await fetch(`${g.url}/v2/entries:list`, { method: 'POST', headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ resourceNames: [`projects/${project}`], filter: `resource.type="build" AND resource.labels.build_id="${buildId}"` }) });
  const entries = ((await listed.json()) as { entries?: { textPayload: string }[] }).entries ?? [];
  assert.ok(entries.some(e => /ready.flag is missing/.test(e.textPayload)), JSON.stringify(entries).slice(0, 500));

  const pre = (await ro().jobRuns.get({ name: jobs.predeployJob!.jobRun! })).data;
  assert.equal(pre.state, 'SUCCEEDED');
  const deploy = (await ro().jobRuns.get({ name: jobs.deployJob!.jobRun! })).data;
  assert.equal(deploy.deployJobRun!.artifact!.manifestPaths![0], 'stable/manifest.yaml');
  // The service name comes from the Knative Service in the source's manifests.
  assert.equal(deploy.deployJobRun!.metadata!.cloudRun!.service, `${LOC}/services/hooks`);
  const preLog = (await (await fetch(`${g.url}/storage/v1/b/gantry-logs/o?prefix=${encodeURIComponent(name)}`)).json()) as { items: { name: string; mediaLink: string }[] };
  const texts = await Promise.all(preLog.items.map(async i => (await fetch(i.mediaLink)).text()));
  const announce = texts.find(t => t.includes('predeploy for'))!;
  assert.match(announce, /predeploy for dev in phase stable says hello/);
  assert.match(announce, /CLOUD_DEPLOY_ROLLOUT=ro1/);
  assert.match(announce, /CLOUD_DEPLOY_DELIVERY_PIPELINE=p/);
  assert.match(announce, /CLOUD_DEPLOY_PROJECT=proc/);

  writeFileSync(join(source, 'ready.flag'), 'yes');
  await ro().retryJob({ rollout: name, requestBody: { phaseId: 'stable', jobId: 'verify' } });
  r = await until(name, x => x.state === 'SUCCEEDED');
  const passed = (await ro().jobRuns.get({ name: r.phases![0].deploymentJobs!.verifyJob!.jobRun! })).data;
  assert.equal(passed.state, 'SUCCEEDED');
  assert.match(await download(`${passed.verifyJobRun!.artifactUri!}/${passed.verifyJobRun!.eventLogPath!}`), /smoke test passed/);
});

test('terminate kills the running process', async () => {
  writeFileSync(join(source, 'skaffold.yaml'), readFileSync(join(FIXTURE, 'skaffold.yaml'), 'utf8').replace('if test -f ready.flag', 'sleep 30; if test -f ready.flag'));
  const release = await k.renderedRelease(`${LOC}/deliveryPipelines/p`, 'r2', { skaffoldConfigUri: pathToFileURL(source).href });
  assert.equal(release.renderState, 'SUCCEEDED');
  const rel = release.name!;
  await opDone(ro().create({ parent: rel, rolloutId: 'ro2', requestBody: { targetId: 'dev' } }));
  const name = `${rel}/rollouts/ro2`;
  const running = await until(name, x => x.phases![0].deploymentJobs!.verifyJob!.state === 'IN_PROGRESS');
  const started = Date.now();
  await ro().jobRuns.terminate({ name: running.phases![0].deploymentJobs!.verifyJob!.jobRun!, requestBody: {} });
  const r = await until(name, x => x.state === 'FAILED');
  assert.ok(Date.now() - started < 10_000);
  assert.match(r.failureReason!, /terminated/);
  assert.equal((await googleError(ro().jobRuns.terminate({ name: r.phases![0].deploymentJobs!.verifyJob!.jobRun!, requestBody: {} }))).status, 'FAILED_PRECONDITION');
});

test('render checks the Skaffold config: no verify stanza, unknown custom action', async () => {
  const bare = join(tempDir(), 'bare');
  cpSync(FIXTURE, bare, { recursive: true });
  writeFileSync(join(bare, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [service.yaml]\n');
  const rel = await k.renderedRelease(`${LOC}/deliveryPipelines/p`, 'bare', { skaffoldConfigUri: pathToFileURL(bare).href });
  assert.equal(rel.renderState, 'FAILED');
  assert.ok(['VERIFICATION_CONFIG_NOT_FOUND', 'CUSTOM_ACTION_NOT_FOUND'].includes(rel.targetRenders!.dev.failureCause!));
  writeFileSync(join(bare, 'skaffold.yaml'), readFileSync(join(FIXTURE, 'skaffold.yaml'), 'utf8').replace('- name: announce', '- name: other'));
  const r2 = await k.renderedRelease(`${LOC}/deliveryPipelines/p`, 'noaction', { skaffoldConfigUri: pathToFileURL(bare).href });
  assert.equal(r2.renderState, 'FAILED');
  assert.equal(r2.targetRenders!.dev.failureCause, 'CUSTOM_ACTION_NOT_FOUND');
  assert.match(r2.targetRenders!.dev.failureMessage!, /"announce"/);
});

test('custom target types: the render action runs at render, the deploy action as the deploy job', async () => {
  const dir = join(tempDir(), 'custom');
  cpSync(FIXTURE, dir, { recursive: true });
  writeFileSync(join(dir, 'skaffold.yaml'), `apiVersion: skaffold/v4beta7
kind: Config
customActions:
- name: render-it
  containers:
  - name: render
    image: busybox
    command: ["/bin/sh"]
    args: ["-c", "echo rendering for $CLOUD_DEPLOY_TARGET; test -f render-ok && node ${RESULTS} SUCCEEDED"]
- name: ship-it
  containers:
  - name: ship
    image: busybox
    command: ["/bin/sh"]
    args: ["-c", "echo shipping release $CLOUD_DEPLOY_RELEASE to $CLOUD_DEPLOY_TARGET; node ${RESULTS} SUCCEEDED"]
`);
  await opDone(api.customTargetTypes.create({ parent: LOC, customTargetTypeId: 'shipper', requestBody: { customActions: { renderAction: 'render-it', deployAction: 'ship-it' } } }));
  await opDone(api.targets.create({ parent: LOC, targetId: 'edge', requestBody: { annotations: { 'gantry.dev/executor': 'process' }, customTarget: { customTargetType: `${LOC}/customTargetTypes/shipper` } } }));
  await opDone(api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'edge', requestBody: { serialPipeline: { stages: [{ targetId: 'edge' }] } } }));
  const parent = `${LOC}/deliveryPipelines/edge`;
  const failed = await k.renderedRelease(parent, 'e1', { skaffoldConfigUri: pathToFileURL(dir).href });
  assert.equal(failed.renderState, 'FAILED');
  assert.equal(failed.targetRenders!.edge.failureCause, 'EXECUTION_FAILED');
  assert.match(failed.targetRenders!.edge.failureMessage!, /render action "render-it" of custom target type .*shipper failed: container "render" exited with code 1/);
  writeFileSync(join(dir, 'render-ok'), '');
  const e2 = await k.renderedRelease(parent, 'e2', { skaffoldConfigUri: pathToFileURL(dir).href });
  assert.equal(e2.renderState, 'SUCCEEDED', JSON.stringify(e2.targetRenders));
  assert.match(await download(`${e2.targetArtifacts!.edge.artifactUri}/custom-render.log`), /rendering for edge/);
  await opDone(ro().create({ parent: `${parent}/releases/e2`, rolloutId: 'go', requestBody: { targetId: 'edge' } }));
  const r = await until(`${parent}/releases/e2/rollouts/go`, x => x.state === 'SUCCEEDED');
  const deploy = (await ro().jobRuns.get({ name: r.phases![0].deploymentJobs!.deployJob!.jobRun! })).data;
  assert.equal(deploy.state, 'SUCCEEDED');
  const logs = (await (await fetch(`${g.url}/storage/v1/b/gantry-logs/o?prefix=${encodeURIComponent(`${parent}/releases/e2/rollouts/go`)}`)).json()) as { items: { mediaLink: string }[] };
  const text = (await Promise.all(logs.items.map(async i => (await fetch(i.mediaLink)).text()))).join('\n');
  assert.match(text, /shipping release e2 to edge/);
});
