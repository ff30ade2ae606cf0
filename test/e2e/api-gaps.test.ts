// Four gaps between Gantry and Google, end to end through gcloud and googleapis:
// 1. lists with a `-` wildcard parent (AIP-159) across locations, pipelines, releases and rollouts;
// 2. unknown locations refused as Google refuses them (403 "Location … is not found or access is unauthorized.");
// 3. one NOT_FOUND form everywhere, the missing parent's included (ResourceInfo type `clouddeploy.googleapis.com/DeliveryPipeline`);
// 4. methods and APIs Gantry does not serve answered 501 UNIMPLEMENTED naming the method, after the token check.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, eventually } from '../helpers/server.js';
import { googleapisDeploy, googleError } from '../helpers/clients.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'gaps-proj';
const US = `projects/${PROJECT}/locations/us-central1`;
const EU = `projects/${PROJECT}/locations/europe-west1`;
const ANY = `projects/${PROJECT}/locations/-`;
const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/clouddeploy.yaml', import.meta.url));

let g: Gantry;
let gcloud: Gcloud;
let api: clouddeploy_v1.Resource$Projects$Locations;
type Status = Awaited<ReturnType<typeof googleError>>;

async function opDone(p: Promise<{ data: clouddeploy_v1.Schema$Operation }>): Promise<void> {
  const op = (await p).data;
  await eventually(async () => (await api.operations.get({ name: op.name! })).data.done);
}

/** A release of `pipeline` and one rollout of it to `dev`, run to SUCCEEDED (so it has job runs). */
async function deployed(pipeline: string, release: string): Promise<string> {
  await opDone(api.deliveryPipelines.releases.create({ parent: pipeline, releaseId: release, requestBody: {} }));
  const rel = `${pipeline}/releases/${release}`;
  await eventually(async () => (await api.deliveryPipelines.releases.get({ name: rel })).data.renderState === 'SUCCEEDED');
  await opDone(api.deliveryPipelines.releases.rollouts.create({ parent: rel, rolloutId: `${release}-dev`, requestBody: { targetId: 'dev' } }));
  const name = `${rel}/rollouts/${release}-dev`;
  await eventually(async () => (await api.deliveryPipelines.releases.rollouts.get({ name })).data.state === 'SUCCEEDED', 10_000);
  return name;
}

const info = (e: Status, type: string) => e.details?.find(d => d['@type'] === `type.googleapis.com/google.rpc.${type}`);
const names = <T extends { name?: string | null }>(xs: T[] | undefined) => (xs ?? []).map(x => x.name!);

before(async () => {
  g = await startTestGantry();
  api = googleapisDeploy(g.url).projects.locations;
  gcloud = await gcloudFor(g.url, PROJECT);
  for (const loc of [US, EU]) {
    await opDone(api.targets.create({ parent: loc, targetId: 'dev', requestBody: { run: { location: loc } } }));
    await opDone(api.deliveryPipelines.create({ parent: loc, deliveryPipelineId: 'app', requestBody: { serialPipeline: { stages: [{ targetId: 'dev' }] } } }));
  }
  await opDone(api.targets.create({ parent: US, targetId: 'prod', requestBody: { run: { location: US } } }));
  await opDone(api.deliveryPipelines.create({ parent: US, deliveryPipelineId: 'web', requestBody: { serialPipeline: { stages: [{ targetId: 'dev' }, { targetId: 'prod' }] } } }));
  await opDone(api.customTargetTypes.create({ parent: EU, customTargetTypeId: 'ctt', requestBody: { customActions: { deployAction: 'deploy' } } }));
  // Releases in creation order: app/r1, app/r2, web/w1 (us-central1), app/e1 (europe-west1).
  for (const [pipeline, release] of [[`${US}/deliveryPipelines/app`, 'r1'], [`${US}/deliveryPipelines/app`, 'r2'], [`${US}/deliveryPipelines/web`, 'w1'], [`${EU}/deliveryPipelines/app`, 'e1']]) {
    await deployed(pipeline, release);
  }
});
after(() => g.close());

// ---------------------------------------------------------------------------------------------------
// 1. Wildcard parents.

test('locations/- lists pipelines, targets and custom target types of every location, with full names', async () => {
  assert.deepEqual(names((await api.deliveryPipelines.list({ parent: ANY })).data.deliveryPipelines),
    [`${US}/deliveryPipelines/app`, `${EU}/deliveryPipelines/app`, `${US}/deliveryPipelines/web`]);
  assert.deepEqual(names((await api.targets.list({ parent: ANY, filter: 'targetId="dev"' })).data.targets), [`${US}/targets/dev`, `${EU}/targets/dev`]);
  assert.deepEqual(names((await api.targets.list({ parent: ANY, orderBy: 'name desc' })).data.targets), [`${US}/targets/prod`, `${US}/targets/dev`, `${EU}/targets/dev`]);
  assert.deepEqual(names((await api.customTargetTypes.list({ parent: ANY })).data.customTargetTypes), [`${EU}/customTargetTypes/ctt`]);
  // A concrete location still lists only its own.
  assert.deepEqual(names((await api.deliveryPipelines.list({ parent: EU })).data.deliveryPipelines), [`${EU}/deliveryPipelines/app`]);
});

test('deliveryPipelines/- and locations/- list releases across pipelines and locations', async () => {
  const releases = async (parent: string, extra: Partial<clouddeploy_v1.Params$Resource$Projects$Locations$Deliverypipelines$Releases$List> = {}) =>
    names((await api.deliveryPipelines.releases.list({ parent, ...extra })).data.releases).map(n => n.replace(`projects/${PROJECT}/locations/`, ''));
  assert.deepEqual(await releases(`${US}/deliveryPipelines/-`), ['us-central1/deliveryPipelines/app/releases/r1', 'us-central1/deliveryPipelines/app/releases/r2', 'us-central1/deliveryPipelines/web/releases/w1']);
  assert.deepEqual(await releases(`${ANY}/deliveryPipelines/app`), ['us-central1/deliveryPipelines/app/releases/r1', 'us-central1/deliveryPipelines/app/releases/r2', 'europe-west1/deliveryPipelines/app/releases/e1']);
  assert.deepEqual(await releases(`${ANY}/deliveryPipelines/-`, { filter: 'renderState="SUCCEEDED" AND name:"*/app/*"' }), ['us-central1/deliveryPipelines/app/releases/r1', 'us-central1/deliveryPipelines/app/releases/r2', 'europe-west1/deliveryPipelines/app/releases/e1']);

  // Paging across the union, newest first: every release once, each page one release.
  const seen: string[] = [];
  let pageToken: string | undefined;
  do {
    const page = (await api.deliveryPipelines.releases.list({ parent: `${ANY}/deliveryPipelines/-`, orderBy: 'createTime desc', pageSize: 1, pageToken })).data;
    assert.ok((page.releases ?? []).length <= 1);
    seen.push(...names(page.releases));
    pageToken = page.nextPageToken ?? undefined;
  } while (pageToken);
  assert.deepEqual(seen.map(n => n.split('/').pop()), ['e1', 'w1', 'r2', 'r1']);
  // A token is bound to its parent.
  const first = (await api.deliveryPipelines.releases.list({ parent: `${ANY}/deliveryPipelines/-`, pageSize: 1 })).data.nextPageToken!;
  const wrong = await googleError(api.deliveryPipelines.releases.list({ parent: `${US}/deliveryPipelines/-`, pageSize: 1, pageToken: first }));
  assert.equal(wrong.status, 'INVALID_ARGUMENT');
});

test('rollouts and job runs list across releases, rollouts, pipelines and locations', async () => {
  const rollouts = api.deliveryPipelines.releases.rollouts;
  assert.deepEqual(names((await rollouts.list({ parent: `${US}/deliveryPipelines/app/releases/-` })).data.rollouts).map(n => n.split('/').pop()), ['r1-dev', 'r2-dev']);
  assert.deepEqual(names((await rollouts.list({ parent: `${ANY}/deliveryPipelines/-/releases/-`, orderBy: 'DeployEndTime desc' })).data.rollouts).map(n => n.split('/').pop()), ['e1-dev', 'w1-dev', 'r2-dev', 'r1-dev']);
  assert.deepEqual(names((await rollouts.list({ parent: `${ANY}/deliveryPipelines/app/releases/-`, filter: 'targetId="dev" AND state="SUCCEEDED"' })).data.rollouts).length, 3);

  const ofRelease = (await rollouts.jobRuns.list({ parent: `${US}/deliveryPipelines/app/releases/r1/rollouts/-` })).data.jobRuns!;
  assert.ok(ofRelease.length > 0 && ofRelease.every(j => j.name!.startsWith(`${US}/deliveryPipelines/app/releases/r1/rollouts/r1-dev/jobRuns/`)));
  const deploys = (await rollouts.jobRuns.list({ parent: `${ANY}/deliveryPipelines/-/releases/-/rollouts/-`, filter: 'jobId="deploy"' })).data.jobRuns!;
  assert.deepEqual(deploys.map(j => j.name!.split('/')[7]).sort(), ['e1', 'r1', 'r2', 'w1']);
});

test('operations list across locations; projects/- is INVALID_ARGUMENT, an unknown location under a wildcard is refused', async () => {
  const ops = (await api.operations.list({ name: ANY, pageSize: 1000 })).data.operations!;
  assert.ok(ops.some(o => o.name!.startsWith(`${EU}/operations/`)) && ops.some(o => o.name!.startsWith(`${US}/operations/`)));

  const star = await googleError(api.deliveryPipelines.list({ parent: 'projects/-/locations/-' }));
  assert.deepEqual([star.code, star.status], [400, 'INVALID_ARGUMENT']);
  assert.equal((info(star, 'BadRequest') as { fieldViolations: { field: string }[] }).fieldViolations[0].field, 'parent');
  const typo = await googleError(api.deliveryPipelines.releases.list({ parent: `projects/${PROJECT}/locations/us-cetnral1/deliveryPipelines/-` }));
  assert.deepEqual([typo.code, typo.status], [403, 'PERMISSION_DENIED']);
});

test('gcloud lists with --region=- and --delivery-pipeline=-', async () => {
  const pipelines = await gcloud.json<{ name: string }[]>(['deploy', 'delivery-pipelines', 'list', '--region=-']);
  assert.deepEqual(pipelines.map(p => p.name).sort(), [`${EU}/deliveryPipelines/app`, `${US}/deliveryPipelines/app`, `${US}/deliveryPipelines/web`]);
  const releases = await gcloud.json<{ name: string }[]>(['deploy', 'releases', 'list', '--delivery-pipeline=-', '--region=us-central1']);
  assert.deepEqual(releases.map(r => r.name.split('/').slice(-3).join('/')).sort(), ['app/releases/r1', 'app/releases/r2', 'web/releases/w1']);
});

// ---------------------------------------------------------------------------------------------------
// 2. Unknown locations.

const DENIED = /Status code: 403\. Location us-cetnral1 is not found or access is unauthorized\./;

test('gcloud: apply, list and describe in an unknown region are refused as Google refuses them', async () => {
  assert.match(await gcloud.fails(['deploy', 'apply', `--file=${FIXTURE}`, '--region=us-cetnral1']), DENIED);
  assert.match(await gcloud.fails(['deploy', 'targets', 'list', '--region=us-cetnral1']), DENIED);
  assert.match(await gcloud.fails(['deploy', 'delivery-pipelines', 'describe', 'app', '--region=us-cetnral1']), DENIED);
  // Nothing was created there, and the real region is untouched.
  assert.deepEqual(names((await api.deliveryPipelines.list({ parent: ANY })).data.deliveryPipelines).filter(n => n.includes('cetnral')), []);
});

test('googleapis: every method in an unknown location is PERMISSION_DENIED naming it; Locations lists the served ones', async () => {
  const BAD = `projects/${PROJECT}/locations/us-cetnral1`;
  const calls: [string, () => Promise<unknown>][] = [
    ['create', () => api.deliveryPipelines.create({ parent: BAD, deliveryPipelineId: 'p', requestBody: {} })],
    ['get', () => api.targets.get({ name: `${BAD}/targets/dev` })],
    ['list', () => api.targets.list({ parent: BAD })],
    ['patch', () => api.targets.patch({ name: `${BAD}/targets/dev`, allowMissing: true, requestBody: {} })],
    ['delete', () => api.deliveryPipelines.delete({ name: `${BAD}/deliveryPipelines/app`, allowMissing: true })],
    ['release list', () => api.deliveryPipelines.releases.list({ parent: `${BAD}/deliveryPipelines/app` })],
    ['iam', () => api.deliveryPipelines.getIamPolicy({ resource: `${BAD}/deliveryPipelines/app` })],
    ['operations', () => api.operations.list({ name: BAD })],
    ['location', () => api.get({ name: BAD })],
  ];
  for (const [what, call] of calls) {
    const e = await googleError(call());
    assert.deepEqual([e.code, e.status, e.message], [403, 'PERMISSION_DENIED', 'Location us-cetnral1 is not found or access is unauthorized.'], what);
    assert.equal((info(e, 'ErrorInfo') as { reason: string }).reason, 'LOCATION_ACCESS_DENIED', what);
  }
  const listed = (await googleapisDeploy(g.url).projects.locations.list({ name: `projects/${PROJECT}` })).data.locations!.map(l => l.locationId);
  assert.ok(listed.includes('us-central1') && listed.includes('europe-west1') && !listed.includes('us-cetnral1'));
  assert.equal((await api.get({ name: US })).data.locationId, 'us-central1');
});

// ---------------------------------------------------------------------------------------------------
// 3. One NOT_FOUND.

test('a missing resource or parent is Resource \'<name>\' was not found, with the AIP-123 type in ResourceInfo', async () => {
  const cases: [() => Promise<unknown>, string, string][] = [
    [() => api.deliveryPipelines.releases.create({ parent: `${US}/deliveryPipelines/none`, releaseId: 'r', requestBody: {} }), `${US}/deliveryPipelines/none`, 'DeliveryPipeline'],
    [() => api.deliveryPipelines.releases.list({ parent: `${US}/deliveryPipelines/none` }), `${US}/deliveryPipelines/none`, 'DeliveryPipeline'],
    [() => api.deliveryPipelines.releases.rollouts.create({ parent: `${US}/deliveryPipelines/app/releases/none`, rolloutId: 'x', requestBody: { targetId: 'dev' } }), `${US}/deliveryPipelines/app/releases/none`, 'Release'],
    [() => api.deliveryPipelines.releases.rollouts.jobRuns.list({ parent: `${US}/deliveryPipelines/app/releases/r1/rollouts/none` }), `${US}/deliveryPipelines/app/releases/r1/rollouts/none`, 'Rollout'],
    [() => api.targets.get({ name: `${US}/targets/none` }), `${US}/targets/none`, 'Target'],
    [() => api.customTargetTypes.delete({ name: `${US}/customTargetTypes/none` }), `${US}/customTargetTypes/none`, 'CustomTargetType'],
    [() => api.deliveryPipelines.getIamPolicy({ resource: `${US}/deliveryPipelines/none` }), `${US}/deliveryPipelines/none`, 'DeliveryPipeline'],
    [() => api.targets.setIamPolicy({ resource: `${US}/targets/none`, requestBody: { policy: {} } }), `${US}/targets/none`, 'Target'],
    [() => api.operations.get({ name: `${US}/operations/operation-1-2-3-4` }), `${US}/operations/operation-1-2-3-4`, 'Operation'],
  ];
  for (const [call, name, type] of cases) {
    const e = await googleError(call());
    assert.deepEqual([e.code, e.status, e.message], [404, 'NOT_FOUND', `Resource '${name}' was not found`], name);
    assert.deepEqual(info(e, 'ResourceInfo'), { '@type': 'type.googleapis.com/google.rpc.ResourceInfo', resourceType: `clouddeploy.googleapis.com/${type}`, resourceName: name });
  }
});

test('gcloud prints the missing parent as Google writes it', async () => {
  // Declarative commands (list) print the status name and the details; hand-written ones (describe) the HTTP code.
  const err = await gcloud.fails(['deploy', 'releases', 'list', '--delivery-pipeline=none', '--region=us-central1']);
  assert.match(err, new RegExp(`NOT_FOUND: Resource '${US}/deliveryPipelines/none' was not found\\.`));
  assert.match(err, /resourceType: clouddeploy\.googleapis\.com\/DeliveryPipeline/);
  const missing = await gcloud.fails(['deploy', 'targets', 'describe', 'none', '--region=us-central1']);
  assert.match(missing, new RegExp(`Status code: 404\\. Resource '${US}/targets/none' was not found\\.`));
});

// ---------------------------------------------------------------------------------------------------
// 4. Unsupported methods and APIs.

test('methods of APIs Gantry serves in part are 501 UNIMPLEMENTED naming the RPC', async () => {
  const status = async (method: string, path: string) => {
    const r = await fetch(g.url + path, { method, ...(method === 'POST' ? { body: '{}', headers: { 'content-type': 'application/json' } } : {}) });
    return { code: r.status, body: (await r.json()) as { error: { status: string; message: string; details: Record<string, unknown>[] } } };
  };
  const cases: [string, string, string, string][] = [
    ['GET', `/v1/${US}/accountConnectors`, 'google.cloud.developerconnect.v1.DeveloperConnect.ListAccountConnectors', 'developerconnect.googleapis.com'],
    ['POST', `/v1/${US}/insightsConfigs`, 'google.cloud.developerconnect.v1.DeveloperConnect.CreateInsightsConfig', 'developerconnect.googleapis.com'],
  ];
  for (const [method, path, rpc, service] of cases) {
    const { code, body } = await status(method, path);
    assert.deepEqual([code, body.error.status], [501, 'UNIMPLEMENTED'], rpc);
    assert.match(body.error.message, new RegExp(`^Method ${rpc.replace(/\./g, '\\.')} is not implemented by Gantry`));
    const info = body.error.details.find(d => String(d['@type']).endsWith('ErrorInfo')) as { metadata: Record<string, string> };
    assert.deepEqual(info.metadata, { service, method: rpc });
  }
  // Every Cloud Deploy method is served now: automations included, through gcloud.
  assert.deepEqual(await gcloud.json(['deploy', 'automations', 'list', '--delivery-pipeline=app', '--region=us-central1']), []);
});

test('paths of APIs Gantry does not serve are 501 naming the path; other unknown paths stay 404', async () => {
  const status = async (method: string, path: string) => {
    const r = await fetch(g.url + path, { method });
    const body = (await r.json()) as { error: { code: number; status: string; message: string } };
    assert.equal(body.error.code, r.status);
    return [r.status, body.error.status, body.error.message] as const;
  };
  for (const path of ['/v1/projects/p/locations/us-central1/functions', '/compute/v1/projects/p/zones/us-central1-a/instances']) {
    const [code, s, message] = await status('GET', path);
    assert.deepEqual([code, s], [501, 'UNIMPLEMENTED'], path);
    assert.ok(message.includes(`GET ${path} is not a method of an API Gantry implements`), message);
  }
  // Cloud Run worker pools belong to an API Gantry serves (for its jobs and services): a named method.
  assert.deepEqual(await status('GET', '/v2/projects/p/locations/us-central1/workerPools'), [501, 'UNIMPLEMENTED', 'Method run.projects.locations.workerPools.list is not implemented by Gantry.']);
  const [code, , message] = await status('GET', '/storage/v1/b/bkt/iam');
  assert.deepEqual([code, message], [501, 'Method storage.buckets.getIamPolicy is not implemented by Gantry.']);
  for (const [method, path] of [['GET', '/favicon.ico'], ['GET', '/v1/nothing/here'], ['GET', `/v1/${US}/deliveryPipelines/app/bogus`], ['PUT', `/v1/${US}/targets/dev`], ['POST', `/v1/${US}/deliveryPipelines/app:explode`], ['GET', '/gantry/v1/nope']]) {
    assert.deepEqual((await status(method, path)).slice(0, 2), [404, 'NOT_FOUND'], `${method} ${path}`);
  }
});

test('the token is checked before a method is found unimplemented', async () => {
  const secured = await startTestGantry({ authToken: 's3cret' });
  try {
    const path = `${secured.url}/v1/${US}/accountConnectors`;
    assert.equal((await fetch(path)).status, 401);
    assert.equal((await fetch(`${secured.url}/v2/projects/p/locations/l/services`)).status, 401);
    assert.equal((await fetch(path, { headers: { authorization: 'Bearer s3cret' } })).status, 501);
  } finally {
    await secured.close();
  }
});

test('the served locations are configurable: --locations decides what exists, for every method (gcloud)', async () => {
  const own = await startTestGantry({ locations: ['europe-west9', 'us-central1'] });
  try {
    const gc = await gcloudFor(own.url, PROJECT);
    const config = await gc.json<{ defaultSkaffoldVersion: string }>(['deploy', 'get-config', '--region=europe-west9']);
    assert.equal(config.defaultSkaffoldVersion, '2.16');
    for (const args of [['deploy', 'get-config', '--region=us-cetnral1'], ['deploy', 'get-config', '--region=europe-west1'], ['deploy', 'delivery-pipelines', 'list', '--region=europe-west1']]) {
      assert.match(await gc.fails(args), /Location .* is not found or access is unauthorized/, args.join(' '));
    }
    const verb = await fetch(`${own.url}/v1/projects/${PROJECT}/locations/asia-east1/deliveryPipelines/p/releases/r/rollouts/x:approve`, { method: 'POST', body: '{"approved":true}', headers: { 'content-type': 'application/json' } });
    assert.equal(verb.status, 403);
    const locs = (await (await fetch(`${own.url}/v1/projects/${PROJECT}/locations`)).json()) as { locations: { locationId: string }[] };
    assert.deepEqual(locs.locations.map(l => l.locationId).sort(), ['europe-west9', 'us-central1']);
  } finally {
    await own.close();
  }
});
