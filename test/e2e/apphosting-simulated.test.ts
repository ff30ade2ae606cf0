// App Hosting with simulated builds on the virtual clock (for users who test their tooling, not their app): step by
// step states and operation progress, scripted failures at the build and the deploy step, rollout queueing, pinned
// traffic, automatic rollouts of the rolloutPolicy branch; and the API's validation, as Google answers it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { appFiles, appHostingV1, appHostingV1beta, commit, developerConnect, getApp, makeRepo } from '../helpers/apphosting.js';
import { googleError } from '../helpers/clients.js';
import { gcloudFor } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';
import type { firebaseapphosting_v1beta } from 'googleapis';

const P = 'projects/sim-app/locations/us-central1';
const BE = `${P}/backends/web`;
let g: Gantry;
let ah: firebaseapphosting_v1beta.Firebaseapphosting;
let repo: string;

async function post(path: string, body: unknown): Promise<Response> {
  return fetch(g.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
}
const advance = async (duration: string) => assert.equal((await post('/gantry/v1/clock:advance', { duration })).status, 200);
const build = async (id: string) => (await ah.projects.locations.backends.builds.get({ name: `${BE}/builds/${id}` })).data;
const rollout = async (id: string) => (await ah.projects.locations.backends.rollouts.get({ name: `${BE}/rollouts/${id}` })).data;
const op = async (name: string) => (await ah.projects.locations.operations.get({ name })).data;
const createBuild = async (id: string, source: Record<string, unknown> = { codebase: { branch: 'main' } }) =>
  (await ah.projects.locations.backends.builds.create({ parent: BE, buildId: id, requestBody: { source } })).data;
const createRollout = async (id: string, buildId = id) =>
  (await ah.projects.locations.backends.rollouts.create({ parent: BE, rolloutId: id, requestBody: { build: `${BE}/builds/${buildId}` } })).data;

before(async () => {
  g = await startTestGantry({ clock: 'virtual' });
  ah = appHostingV1beta(g.url);
  repo = makeRepo(appFiles('sim'), 'First');
  const dc = developerConnect(g.url);
  await dc.projects.locations.connections.create({ parent: P, connectionId: 'c', requestBody: { gitlabConfig: {} } });
  await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: 'r', requestBody: { cloneUri: repo } });
  const created = await ah.projects.locations.backends.create({ parent: P, backendId: 'web', requestBody: { servingLocality: 'GLOBAL_ACCESS', serviceAccount: 'runner@sim-app.iam.gserviceaccount.com', codebase: { repository: `${P}/connections/c/gitRepositoryLinks/r` } } });
  assert.equal(created.data.done, true);
});
after(async () => { await g?.close(); });

test('simulated builds step through their states on the clock; scripted failures, queueing, pinned traffic, automatic rollouts', async () => {
  const b1 = await createBuild('b1');
  await advance('0s');
  let b = await build('b1');
  assert.equal(b.state, 'BUILDING');
  assert.equal(b.reconciling, true);
  assert.match(String(b.source!.codebase!.hash), /^[0-9a-f]{40}$/, 'the commit is resolved before the build step');
  await advance('1s');
  assert.equal((await build('b1')).state, 'DEPLOYING');
  assert.equal((await op(b1.name!)).metadata!.statusMessage, 'Deploying');
  await advance('1s');
  b = await build('b1');
  assert.equal(b.state, 'READY');
  const done = await op(b1.name!);
  assert.equal(done.done, true);
  assert.equal((done.response as { state: string; '@type': string }).state, 'READY');
  assert.equal((done.response as { '@type': string })['@type'], 'type.googleapis.com/google.firebase.apphosting.v1beta.Build');
  // The same operation read through v1's path (shared with Cloud Deploy and Developer Connect) keeps its @types.
  const viaV1 = await appHostingV1(g.url).projects.locations.operations.get({ name: b1.name! });
  assert.equal((viaV1.data.metadata as { '@type': string })['@type'], 'type.googleapis.com/google.firebase.apphosting.v1beta.OperationMetadata');
  // A client that names the API in the host (the proxy set-up) sees only that API's operations.
  const port = new URL(g.url).port;
  assert.equal((await getApp(g.url, `firebaseapphosting.localhost:${port}`, `/v1/${b1.name}`)).status, 200);
  assert.equal((await getApp(g.url, `clouddeploy.localhost:${port}`, `/v1/${b1.name}`)).status, 404);
  const mine = JSON.parse((await getApp(g.url, `firebaseapphosting.localhost:${port}`, `/v1/${P}/operations`)).body) as { operations: { name: string }[] };
  assert.ok(mine.operations.some(o => o.name === b1.name));
  const theirs = JSON.parse((await getApp(g.url, `developerconnect.localhost:${port}`, `/v1/${P}/operations`)).body) as { operations: { metadata: { '@type': string } }[] };
  assert.ok(theirs.operations.length > 0 && theirs.operations.every(o => o.metadata['@type'].includes('developerconnect')));

  const r1 = await createRollout('b1');
  await advance('0s');
  assert.equal((await rollout('b1')).state, 'SUCCEEDED');
  assert.equal((await op(r1.name!)).done, true);
  const page = await getApp(g.url, 'web--sim-app.us-central1.hosted.app');
  assert.equal(page.status, 200);
  // A simulated build is a simulated revision of the backend's Cloud Run service: it answers with who it is.
  assert.deepEqual(JSON.parse(page.body), { service: 'web', revision: 'web-b1', image: b.image, env: [], path: '/', simulated: true });
  // gcloud sees that service, its revision and where its traffic goes.
  const gcloud = await gcloudFor(g.url, 'sim-app', { run: true });
  const svc = await gcloud.json<{ status: { latestReadyRevisionName: string; traffic: { revisionName: string; percent: number }[] }; spec: { template: { metadata: { annotations: Record<string, string> } } } }>(['run', 'services', 'describe', 'web', '--region', 'us-central1']);
  assert.equal(svc.status.latestReadyRevisionName, 'web-b1');
  assert.deepEqual(svc.status.traffic.map(t => [t.revisionName, t.percent]), [['web-b1', 100]]);
  assert.equal(svc.spec.template.metadata.annotations['gantry.dev/apphosting-build'], `${BE}/builds/b1`);
  const revs = await gcloud.json<{ metadata: { name: string } }[]>(['run', 'revisions', 'list', '--service', 'web', '--region', 'us-central1']);
  assert.deepEqual(revs.map(r => r.metadata.name), ['web-b1']);

  // A scripted build failure (this build only), and a deploy failure after 30 s.
  assert.equal((await post('/gantry/v1/outcomes', { scope: `${BE}/builds/b2`, rules: 'build=fail"npm ERR! Missing script: \\"build\\""' })).status, 200);
  assert.equal((await post('/gantry/v1/outcomes', { scope: `${BE}/builds/b3`, rules: 'deploy=fail~30s' })).status, 200);
  await createBuild('b2');
  await createRollout('b2');
  await createBuild('b3');
  await advance('1s');
  b = await build('b2');
  assert.equal(b.state, 'FAILED');
  assert.equal(b.errors![0].errorSource, 'CLOUD_BUILD');
  assert.ok(b.errors![0].error!.message!.startsWith('npm ERR! Missing script: "build"'), 'the scripted message is the build\'s error');
  assert.equal(b.errorSource, 'CLOUD_BUILD');
  assert.equal((await rollout('b2')).state, 'FAILED');
  assert.equal((await build('b3')).state, 'DEPLOYING');
  await advance('30s');
  b = await build('b3');
  assert.equal(b.state, 'FAILED');
  assert.equal(b.errors![0].errorSource, 'CLOUD_RUN');
  const traffic = (await ah.projects.locations.backends.traffic.get({ name: `${BE}/traffic` })).data;
  assert.deepEqual(traffic.current, { splits: [{ build: `${BE}/builds/b1`, percent: 100 }] }, 'failures leave traffic where it was');

  // Rollouts queue: the second waits while the first is under way.
  await createBuild('b4');
  await createBuild('b5');
  await createRollout('b4');
  await createRollout('b5');
  await advance('0s');
  assert.equal((await rollout('b4')).state, 'PENDING_BUILD');
  assert.equal((await rollout('b5')).state, 'QUEUED');
  await advance('2s');
  assert.equal((await rollout('b4')).state, 'SUCCEEDED');
  assert.equal((await rollout('b5')).state, 'SUCCEEDED');
  assert.deepEqual((await ah.projects.locations.backends.traffic.get({ name: `${BE}/traffic` })).data.current, { splits: [{ build: `${BE}/builds/b5`, percent: 100 }] });

  // Pinned traffic.
  const pin = await ah.projects.locations.backends.traffic.patch({ name: `${BE}/traffic`, updateMask: 'target', requestBody: { target: { splits: [{ build: `${BE}/builds/b1`, percent: 100 }] } } });
  await advance('0s');
  assert.equal((await op(pin.data.name!)).done, true);
  assert.deepEqual((await ah.projects.locations.backends.traffic.get({ name: `${BE}/traffic` })).data.current, { splits: [{ build: `${BE}/builds/b1`, percent: 100 }] });
  assert.equal((await googleError(ah.projects.locations.backends.traffic.patch({ name: `${BE}/traffic`, updateMask: 'target', requestBody: { target: { splits: [{ build: `${BE}/builds/b1`, percent: 50 }, { build: `${BE}/builds/b4`, percent: 50 }] } } }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(ah.projects.locations.backends.traffic.patch({ name: `${BE}/traffic`, updateMask: 'target', requestBody: { target: { splits: [{ build: `${BE}/builds/b2`, percent: 100 }] } } }))).status, 'FAILED_PRECONDITION');

  // rolloutPolicy: a new commit on the branch builds and rolls out by itself; disabled, it does not.
  const policy = await ah.projects.locations.backends.traffic.patch({ name: `${BE}/traffic`, updateMask: 'rolloutPolicy', requestBody: { rolloutPolicy: { codebaseBranch: 'main' } } });
  assert.equal(policy.data.done, true);
  await advance('0s');
  const second = commit(repo, appFiles('sim two'), 'Second');
  await advance('5s');
  await advance('3s');
  // An automatic build is named build-{its day}-{nnn}; found by listing, so a run across midnight names it right.
  const automatic = async () => ((await ah.projects.locations.backends.builds.list({ parent: BE })).data.builds ?? [])
    .map(b => b.name!.slice(b.name!.lastIndexOf('/') + 1)).filter(id => /^build-\d{4}-\d{2}-\d{2}-\d{3}$/.test(id));
  const autos = await automatic();
  assert.equal(autos.length, 1, `one automatic build: ${autos.join(', ')}`);
  const autoId = autos[0];
  assert.ok(autoId.endsWith('-001'));
  const auto = await build(autoId);
  assert.equal(auto.source!.codebase!.hash, second.hash);
  assert.equal(auto.state, 'READY');
  assert.equal((await rollout(autoId)).state, 'SUCCEEDED');
  const after = (await ah.projects.locations.backends.traffic.get({ name: `${BE}/traffic` })).data;
  assert.deepEqual(after.current, { splits: [{ build: `${BE}/builds/${autoId}`, percent: 100 }] });
  assert.equal(after.target, undefined, 'the policy replaced the pinned target');
  const off = await ah.projects.locations.backends.traffic.patch({ name: `${BE}/traffic`, updateMask: 'rolloutPolicy.disabled', requestBody: { rolloutPolicy: { disabled: true } } });
  assert.ok((off.data.response as { rolloutPolicy: { disabledTime: string } }).rolloutPolicy.disabledTime);
  commit(repo, appFiles('sim three'), 'Third');
  await advance('10s');
  assert.deepEqual(await automatic(), [autoId], 'no automatic build once the policy is disabled');
});

test('validation: ids, sources, runConfig and env rules, preconditions, duplicates, requestId and validateOnly', async () => {
  const bad = async (p: Promise<unknown>, status: string, pattern: RegExp) => {
    const e = await googleError(p);
    assert.equal(e.status, status, e.message);
    assert.match(e.message, pattern);
    return e;
  };
  const create = (id: string, body: Record<string, unknown>, extra: Record<string, unknown> = {}) => ah.projects.locations.backends.builds.create({ parent: BE, buildId: id, requestBody: body, ...extra });
  const container = { container: { image: 'us-docker.pkg.dev/x/y/z:1' } };
  await bad(create('Bad_Id', { source: container }), 'INVALID_ARGUMENT', /build_id/);
  await bad(create('v1', {}), 'INVALID_ARGUMENT', /source is required/);
  await bad(create('v1', { source: { ...container, codebase: { branch: 'main' } } }), 'INVALID_ARGUMENT', /exactly one of/);
  await bad(create('v1', { source: { codebase: { branch: 'main', commit: 'abcdef0' } } }), 'INVALID_ARGUMENT', /exactly one of branch and commit/);
  await bad(create('v1', { source: container, config: { runConfig: { cpu: 3 } } }), 'INVALID_ARGUMENT', /cpu 3 is invalid/);
  await bad(create('v1', { source: container, config: { runConfig: { cpu: 0.5 } } }), 'INVALID_ARGUMENT', /concurrency must be 1/);
  await bad(create('v1', { source: container, config: { runConfig: { memoryMib: 100 } } }), 'INVALID_ARGUMENT', /128 to 32768/);
  await bad(create('v1', { source: container, config: { runConfig: { cpu: 4, memoryMib: 1024 } } }), 'INVALID_ARGUMENT', /at least 2048 MiB with 4 cpu/);
  await bad(create('v1', { source: container, config: { runConfig: { memoryMib: 8192 } } }), 'INVALID_ARGUMENT', /cpu must be at least 2/);
  await bad(create('v1', { source: container, config: { runConfig: { concurrency: 1001 } } }), 'INVALID_ARGUMENT', /1 to 1000/);
  await bad(create('v1', { source: { codebase: { branch: 'main' } }, config: { env: [{ variable: 'A', value: 'b' }] } }), 'INVALID_ARGUMENT', /apphosting.yaml/);
  await bad(create('v1', { source: container, config: { env: [{ variable: 'X_FIREBASE_A', value: 'b' }] } }), 'INVALID_ARGUMENT', /X_FIREBASE_/);
  await bad(create('v1', { source: container, config: { env: [{ variable: 'PORT', value: '1' }] } }), 'INVALID_ARGUMENT', /reserved/);
  await bad(create('v1', { source: container, config: { env: [{ variable: 'A', value: 'b', secret: 's' }] } }), 'INVALID_ARGUMENT', /exactly one of value and secret/);
  await bad(create('v1', { source: container, displayName: 'x'.repeat(64) }), 'INVALID_ARGUMENT', /63 characters/);
  await bad(create('v1', { source: container, state: 'READY', nonsense: 1 }), 'INVALID_ARGUMENT', /Unknown name "nonsense"/);
  await bad(create('v1', { source: { archive: { userStorageUri: 'http://example.com/x.zip' } } }), 'INVALID_ARGUMENT', /gs:\/\//);
  await bad(create('v1', { source: { archive: { userStorageUri: 'gs://bkt/x.zip', rootDirectory: '../..' } } }), 'INVALID_ARGUMENT', /inside the source/);

  // validateOnly stores nothing; requestId replays the first answer.
  const vo = await create('vo', { source: container }, { validateOnly: true });
  assert.equal(vo.data.done, true);
  await bad(ah.projects.locations.backends.builds.get({ name: `${BE}/builds/vo` }), 'NOT_FOUND', /was not found/);
  const requestId = '8c3bfbb0-53d5-4a3b-9a55-0c1f2a3b4c5d';
  const first = await create('once', { source: container }, { requestId });
  const replay = await create('once', { source: container }, { requestId });
  assert.equal(replay.data.name, first.data.name);
  const dup = await bad(create('once', { source: container }), 'ALREADY_EXISTS', /already exists/);
  assert.ok(JSON.stringify(dup.details).includes('RESOURCE_ALREADY_EXISTS'));
  await bad(create('r', { source: container }, { requestId: 'not-a-uuid' }), 'INVALID_ARGUMENT', /request_id/);
  const missing = await bad(ah.projects.locations.backends.builds.get({ name: `${BE}/builds/nope` }), 'NOT_FOUND', /nope/);
  assert.ok(JSON.stringify(missing.details).includes('RESOURCE_NOT_FOUND'));

  // Rollouts of builds that do not exist are 400 (firebase-tools retries on it); orderBy is checked.
  await bad(ah.projects.locations.backends.rollouts.create({ parent: BE, rolloutId: 'x', requestBody: { build: `${BE}/builds/ghost` } }), 'FAILED_PRECONDITION', /ghost was not found/);
  await bad(ah.projects.locations.backends.builds.list({ parent: BE, orderBy: 'state' }), 'INVALID_ARGUMENT', /order/i);

  // Backends: ids, required fields, immutable locality, stale etags, locations.
  const be = (id: string, body: Record<string, unknown>) => ah.projects.locations.backends.create({ parent: P, backendId: id, requestBody: body });
  const sa = 'runner@sim-app.iam.gserviceaccount.com';
  await bad(be('x', { servingLocality: 'GLOBAL_ACCESS', serviceAccount: sa }), 'INVALID_ARGUMENT', /3 to 30 characters/);
  await bad(be('plain', { serviceAccount: sa }), 'INVALID_ARGUMENT', /serving_locality is required/);
  await bad(be('plain', { servingLocality: 'GLOBAL_ACCESS' }), 'INVALID_ARGUMENT', /service_account is required/);
  await bad(be('plain', { servingLocality: 'NEARBY', serviceAccount: sa }), 'INVALID_ARGUMENT', /NEARBY/);
  await bad(be('plain', { servingLocality: 'GLOBAL_ACCESS', serviceAccount: sa, codebase: { repository: 'github.com/acme/x' } }), 'INVALID_ARGUMENT', /gitRepositoryLinks/);
  await be('plain', { servingLocality: 'GLOBAL_ACCESS', serviceAccount: sa });
  await bad(ah.projects.locations.backends.builds.create({ parent: `${P}/backends/plain`, buildId: 'c', requestBody: { source: { codebase: { branch: 'main' } } } }), 'FAILED_PRECONDITION', /no codebase.repository/);
  await bad(ah.projects.locations.backends.patch({ name: `${P}/backends/plain`, updateMask: 'servingLocality', requestBody: { servingLocality: 'REGIONAL_STRICT' } }), 'INVALID_ARGUMENT', /immutable/);
  const etag = await bad(ah.projects.locations.backends.delete({ name: `${P}/backends/plain`, etag: '"stale"' }), 'ABORTED', /etag is out of date/);
  assert.ok(JSON.stringify(etag.details).includes('OUT_DATED_ETAG'));
  await bad(ah.projects.locations.backends.get({ name: 'projects/sim-app/locations/mars-north1/backends/plain' }), 'PERMISSION_DENIED', /mars-north1/);
  const patched = await ah.projects.locations.backends.patch({ name: `${P}/backends/plain`, updateMask: 'displayName', requestBody: { displayName: 'Plain' } });
  assert.equal((patched.data.response as { displayName: string }).displayName, 'Plain');
  const all = (await ah.projects.locations.backends.list({ parent: 'projects/sim-app/locations/-' })).data.backends!.map(b => b.name);
  assert.deepEqual(all.sort(), [`${P}/backends/plain`, BE].sort());
  const domains = (await ah.projects.locations.backends.domains.list({ parent: BE })).data.domains!;
  assert.deepEqual(domains.map(d => [d.name, d.type]), [[`${BE}/domains/web--sim-app.us-central1.hosted.app`, 'DEFAULT']]);
  // Work is bounded: 50 unfinished builds per backend, then 429 TOO_MANY_OPERATIONS.
  await be('busy', { servingLocality: 'GLOBAL_ACCESS', serviceAccount: sa });
  for (let i = 0; i < 50; i++) await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/busy`, buildId: `q${i}`, requestBody: { source: container } });
  const busy = await bad(ah.projects.locations.backends.builds.create({ parent: `${P}/backends/busy`, buildId: 'q50', requestBody: { source: container } }), 'RESOURCE_EXHAUSTED', /50 unfinished builds/);
  assert.ok(JSON.stringify(busy.details).includes('TOO_MANY_OPERATIONS'));
  await ah.projects.locations.backends.delete({ name: `${P}/backends/busy`, force: true });
  // An app's host name reaches only the app proxy, never the API (whatever the path).
  const viaAppHost = await getApp(g.url, 'web--sim-app.us-central1.hosted.app', `/v1beta/${P}/backends`);
  assert.doesNotMatch(viaAppHost.body, /"backends"/);
  assert.equal((await getApp(g.url, 'evil--sim-app.us-central1.hosted.app', `/v1beta/${P}/backends`)).status, 404);
  // Domains: the DEFAULT one cannot be deleted; a custom one is active at once.
  await bad(ah.projects.locations.backends.domains.delete({ name: `${BE}/domains/web--sim-app.us-central1.hosted.app` }), 'FAILED_PRECONDITION', /DEFAULT domain/);
  const custom = await ah.projects.locations.backends.domains.create({ parent: BE, domainId: 'www.example.com', requestBody: {} });
  assert.equal((custom.data.response as { customDomainStatus: { certState: string } }).customDomainStatus.certState, 'CERT_ACTIVE');
  assert.equal((await ah.projects.locations.backends.domains.get({ name: `${BE}/domains/www.example.com` })).data.type, 'CUSTOM');
  await bad(ah.projects.locations.backends.domains.create({ parent: BE, domainId: 'not a host', requestBody: {} }), 'INVALID_ARGUMENT', /host name/);
  assert.equal((await ah.projects.locations.backends.domains.delete({ name: `${BE}/domains/www.example.com` })).data.done, true);
  // Developer Connect: a connection with links cannot go; links can; bad clone URLs are refused.
  const dc = developerConnect(g.url);
  await bad(dc.projects.locations.connections.delete({ name: `${P}/connections/c` }), 'FAILED_PRECONDITION', /git repository links/);
  await bad(dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: 'evil', requestBody: { cloneUri: 'ext::sh -c touch% /tmp/pwned' } }), 'INVALID_ARGUMENT', /transport helper/);
  await bad(dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: 'opt', requestBody: { cloneUri: '--upload-pack=touch /tmp/pwned' } }), 'INVALID_ARGUMENT', /must not start with "-"/);
  await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: 'spare', requestBody: { cloneUri: repo } });
  const links = (await dc.projects.locations.connections.gitRepositoryLinks.list({ parent: `${P}/connections/c` })).data.gitRepositoryLinks!.map(l => l.name!.split('/').pop());
  assert.deepEqual(links.sort(), ['r', 'spare']);
  assert.equal((await dc.projects.locations.connections.gitRepositoryLinks.delete({ name: `${P}/connections/c/gitRepositoryLinks/spare` })).data.done, true);
  await bad(dc.projects.locations.connections.gitRepositoryLinks.get({ name: `${P}/connections/c/gitRepositoryLinks/spare` }), 'NOT_FOUND', /spare/);
  const runtimes = (await ah.projects.locations.supportedRuntimes.list({ parent: P })).data.supportedRuntimes!.map(r => r.runtimeId);
  assert.ok(runtimes.includes('nodejs22'));
});
