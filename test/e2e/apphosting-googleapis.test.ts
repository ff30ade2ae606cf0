// Firebase App Hosting through googleapis (v1beta and v1) and Developer Connect v1: a Node web app in a local git
// repository is built for real (process executor), rolled out and served on its backend's uri; a second commit rolls
// out and serves new content; a broken commit fails with a useful error while the old build keeps serving.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startTestGantry, tempDir, writeTree } from '../helpers/server.js';
import { appFiles, appHostingV1, appHostingV1beta, commit, developerConnect, getApp, makeRepo, waitOp } from '../helpers/apphosting.js';
import { google } from 'googleapis';
import { googleError } from '../helpers/clients.js';
import { rawExchange } from '../helpers/raw-http.js';

const P = 'projects/demo-app/locations/us-central1';

function apiAuth() {
  const a = new google.auth.OAuth2();
  a.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3600_000 });
  return a;
}

test('a codebase build of a local git repository builds, rolls out, serves, and a broken commit fails while the old build serves', { timeout: 180_000 }, async () => {
  const dataDir = tempDir();
  const g = await startTestGantry({ executor: 'process', logLevel: 'silent', dataDir });
  try {
    // The first version reads its greeting from Secret Manager, as apphosting.yaml names it.
    const sm = google.secretmanager({ version: 'v1', rootUrl: g.url + '/', auth: apiAuth() });
    await sm.projects.secrets.create({ parent: 'projects/demo-app', secretId: 'app-greeting', requestBody: { replication: { automatic: {} } } });
    await sm.projects.secrets.addVersion({ parent: 'projects/demo-app/secrets/app-greeting', requestBody: { payload: { data: Buffer.from('a secret greeting').toString('base64') } } });
    const repo = makeRepo(appFiles('version one', {
      'apphosting.yaml': 'runConfig:\n  cpu: 1\n  memoryMiB: 512\n  maxInstances: 2\nenv:\n  - variable: GREETING\n    secret: app-greeting\n    availability: [RUNTIME]\n  - variable: BUILD_LABEL\n    value: build-time\n    availability: [BUILD]\n',
    }), 'First version');
    const dc = developerConnect(g.url);
    const ah = appHostingV1beta(g.url);
    const conn = await dc.projects.locations.connections.create({ parent: P, connectionId: 'local', requestBody: { githubConfig: { githubApp: 'FIREBASE' } } });
    assert.equal(conn.data.done, true);
    const linkOp = await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/local`, gitRepositoryLinkId: 'hello', requestBody: { cloneUri: repo } });
    assert.equal((linkOp.data.response as { cloneUri: string }).cloneUri, repo);
    const refs = await dc.projects.locations.connections.gitRepositoryLinks.fetchGitRefs({ gitRepositoryLink: `${P}/connections/local/gitRepositoryLinks/hello`, refType: 'BRANCH' });
    assert.deepEqual(refs.data.refNames, ['main']);

    const beOp = await ah.projects.locations.backends.create({
      parent: P, backendId: 'web', requestBody: {
        servingLocality: 'GLOBAL_ACCESS', serviceAccount: 'firebase-app-hosting-compute@demo-app.iam.gserviceaccount.com',
        codebase: { repository: `${P}/connections/local/gitRepositoryLinks/hello` }, labels: { team: 'web' },
      },
    });
    const backend = (await waitOp<{ uri: string; name: string }>(ah, beOp.data.name!)).response!;
    assert.equal(backend.uri, 'web--demo-app.us-central1.hosted.app');
    const uri = backend.uri;
    assert.match((await getApp(g.url, uri)).body, /Nothing rolled out yet/);

    // Build 1: the build is readable as soon as builds.create answers.
    const b1 = await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/web`, buildId: 'build-1', requestBody: { source: { codebase: { branch: 'main' } } } });
    const early = (await ah.projects.locations.backends.builds.get({ name: `${P}/backends/web/builds/build-1` })).data;
    assert.ok(['BUILDING', 'BUILT', 'DEPLOYING', 'READY'].includes(String(early.state)));
    const r1 = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/web`, rolloutId: 'build-1', requestBody: { build: `${P}/backends/web/builds/build-1` } });
    const built = (await waitOp<Record<string, unknown>>(ah, b1.data.name!)).response!;
    assert.equal(built.state, 'READY', JSON.stringify(built));
    assert.equal(built.reconciling, false);
    const src = (built.source as { codebase: Record<string, unknown> }).codebase;
    assert.match(String(src.hash), /^[0-9a-f]{40}$/);
    assert.equal(src.commitMessage, 'First version');
    assert.deepEqual(src.author, { displayName: 'Ada Lovelace', email: 'ada@example.com' });
    assert.equal(src.displayName, String(src.hash).slice(0, 8));
    assert.equal(src.repository, `${P}/connections/local/gitRepositoryLinks/hello`);
    assert.match(String(built.image), /^us-central1-docker\.pkg\.dev\/demo-app\/firebaseapphosting-images\/web@sha256:[0-9a-f]{64}$/);
    assert.match(String(built.buildLogsUri), /region=us-central1\/[0-9a-f-]+/);
    assert.deepEqual((built.config as { runConfig: unknown }).runConfig, { cpu: 1, memoryMib: 512, maxInstances: 2 });
    const rollout = (await waitOp<Record<string, unknown>>(ah, r1.data.name!)).response!;
    assert.equal(rollout.state, 'SUCCEEDED');
    const traffic = (await ah.projects.locations.backends.traffic.get({ name: `${P}/backends/web/traffic` })).data;
    assert.deepEqual(traffic.current, { splits: [{ build: `${P}/backends/web/builds/build-1`, percent: 100 }] });
    const served = await getApp(g.url, uri);
    assert.equal(served.status, 200);
    assert.equal(served.body, `version one | a secret greeting | built at build-time | ${uri}\n`);
    const env = (built.config as { effectiveEnv: { variable: string; secret?: string; availability: string[] }[] }).effectiveEnv;
    assert.deepEqual(env.find(e => e.variable === 'GREETING'), { variable: 'GREETING', secret: 'app-greeting', availability: ['RUNTIME'], originFileName: 'apphosting.yaml' });
    // A browser using Gantry as its HTTP proxy reaches the app by its uri.
    const proxied = await rawExchange({ port: Number(new URL(g.url).port), chunks: [Buffer.from(`GET http://${uri}/ HTTP/1.1\r\nHost: ${uri}\r\nConnection: close\r\n\r\n`)], heads: [false], timeoutMs: 5000 });
    assert.equal(proxied.responses[0]?.status, 200);
    assert.match(proxied.responses[0].body.toString(), /^version one/);
    // The app's own output is in Cloud Logging as its Cloud Run revision's.
    const logging = google.logging({ version: 'v2', rootUrl: g.url + '/', auth: apiAuth() });
    const appLogs = await logging.entries.list({ requestBody: { resourceNames: ['projects/demo-app'], filter: 'resource.type="cloud_run_revision" AND resource.labels.service_name="web"' } });
    assert.ok(appLogs.data.entries?.some(e => /^listening on \d+$/.test(String(e.textPayload)) && e.resource?.labels?.revision_name === 'web-build-1'), JSON.stringify(appLogs.data));

    // The build log is in Cloud Logging, and buildLogsUri leads to it.
    const logs = await fetch(String(built.buildLogsUri));
    const text = await logs.text();
    assert.match(text, /Step #1 - "install": \$ npm ci/);
    assert.match(text, /Step #2 - "build": \$ npm run build/);

    // A second commit rolls out and serves the new content.
    const second = commit(repo, appFiles('version two'), 'Second version');
    const b2 = await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/web`, buildId: 'build-2', requestBody: { source: { codebase: { commit: second.hash } } } });
    const r2 = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/web`, rolloutId: 'build-2', requestBody: { build: `${P}/backends/web/builds/build-2` } });
    assert.equal(((await waitOp<Record<string, unknown>>(ah, b2.data.name!)).response!).state, 'READY');
    assert.equal(((await waitOp<Record<string, unknown>>(ah, r2.data.name!)).response!).state, 'SUCCEEDED');
    assert.match((await getApp(g.url, uri)).body, /^version two \|/);

    // The backend serves through its managed Cloud Run service: each build a revision, the backend's traffic its traffic.
    const run = google.run({ version: 'v2', rootUrl: g.url + '/', auth: apiAuth() });
    const svc = (await run.projects.locations.services.get({ name: `${P}/services/web` })).data;
    assert.equal(svc.latestReadyRevision, `${P}/services/web/revisions/web-build-2`);
    assert.deepEqual(svc.trafficStatuses?.map(t => [t.revision, t.percent]), [['web-build-2', 100]]);
    assert.equal(svc.terminalCondition?.state, 'CONDITION_SUCCEEDED');
    const revs = (await run.projects.locations.services.revisions.list({ parent: `${P}/services/web` })).data.revisions!;
    assert.deepEqual(revs.map(r => r.name!.split('/').pop()).sort(), ['web-build-1', 'web-build-2']);
    assert.match(String(revs[0].containers![0].image), /^us-central1-docker\.pkg\.dev\/demo-app\/firebaseapphosting-images\/web@sha256:/);
    // The service's own URL serves the same app.
    assert.match((await getApp(g.url, new URL(svc.uri!).host)).body, /^version two \|/);
    // Pinning the backend's traffic to a build is the service's traffic moving to its revision (splits are 0 or 100).
    await waitOp(ah, (await ah.projects.locations.backends.traffic.patch({ name: `${P}/backends/web/traffic`, updateMask: 'target', requestBody: { target: { splits: [{ build: `${P}/backends/web/builds/build-1`, percent: 100 }] } } })).data.name!);
    assert.deepEqual((await run.projects.locations.services.get({ name: `${P}/services/web` })).data.trafficStatuses?.map(t => [t.revision, t.percent]), [['web-build-1', 100]]);
    assert.match((await getApp(g.url, uri)).body, /^version one \|/);
    await waitOp(ah, (await ah.projects.locations.backends.traffic.patch({ name: `${P}/backends/web/traffic`, updateMask: 'target', requestBody: { target: { splits: [{ build: `${P}/backends/web/builds/build-2`, percent: 100 }] } } })).data.name!);
    assert.deepEqual((await run.projects.locations.services.get({ name: `${P}/services/web` })).data.trafficStatuses?.map(t => [t.revision, t.percent]), [['web-build-2', 100]]);

    // A broken commit: its build step fails; the build ends FAILED (a normal response), the rollout FAILED, and
    // version two keeps serving.
    commit(repo, { 'build.js': "console.error('syntax problem in the app'); process.exit(3);\n" }, 'Break the build');
    const b3 = await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/web`, buildId: 'build-3', requestBody: { source: { codebase: { branch: 'main' } } } });
    const r3 = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/web`, rolloutId: 'build-3', requestBody: { build: `${P}/backends/web/builds/build-3` } });
    const op3 = await waitOp<Record<string, unknown>>(ah, b3.data.name!);
    assert.equal(op3.error, undefined);
    const failed = op3.response!;
    assert.equal(failed.state, 'FAILED');
    const errs = failed.errors as { error: { message: string }; errorSource: string; cloudResource: string }[];
    assert.equal(errs[0].errorSource, 'CLOUD_BUILD');
    assert.match(errs[0].error.message, /Step #2 - "build" \(npm run build\) failed: it exited with code 3/);
    assert.match(errs[0].error.message, /build log is at http/);
    assert.equal((failed.error as { message: string }).message, errs[0].error.message, 'v1beta mirrors the first error');
    assert.equal(failed.errorSource, 'CLOUD_BUILD');
    const rolled3 = (await waitOp<Record<string, unknown>>(ah, r3.data.name!)).response!;
    assert.equal(rolled3.state, 'FAILED');
    assert.match(String((rolled3.error as { message: string }).message), /build-3 failed/);
    assert.match((await getApp(g.url, uri)).body, /^version two \|/);

    // Lists: filters, ordering, paging; v1 has no deprecated `error`.
    const ready = (await ah.projects.locations.backends.builds.list({ parent: `${P}/backends/web`, filter: 'state = READY', orderBy: 'createTime desc' })).data.builds!;
    assert.deepEqual(ready.map(b => b.name!.split('/').pop()), ['build-2', 'build-1']);
    const page1 = await ah.projects.locations.backends.rollouts.list({ parent: `${P}/backends/web`, pageSize: 2, orderBy: 'name' });
    assert.equal(page1.data.rollouts!.length, 2);
    const page2 = await ah.projects.locations.backends.rollouts.list({ parent: `${P}/backends/web`, pageSize: 2, orderBy: 'name', pageToken: page1.data.nextPageToken! });
    assert.deepEqual(page2.data.rollouts!.map(r => r.name!.split('/').pop()), ['build-3']);
    const v1 = appHostingV1(g.url);
    const v1Failed = (await v1.projects.locations.backends.builds.get({ name: `${P}/backends/web/builds/build-3` })).data as Record<string, unknown>;
    assert.equal(v1Failed.error, undefined);
    assert.equal(v1Failed.errorSource, undefined);
    assert.equal((v1Failed.errors as unknown[]).length, 1);

    // A build that serves cannot be deleted; one that does not is soft-deleted.
    const refused = await googleError(ah.projects.locations.backends.builds.delete({ name: `${P}/backends/web/builds/build-2` }));
    assert.equal(refused.status, 'FAILED_PRECONDITION');
    assert.ok(JSON.stringify(refused.details).includes('RESOURCE_REFERENCES_EXIST'));
    const del = await ah.projects.locations.backends.builds.delete({ name: `${P}/backends/web/builds/build-1` });
    assert.equal(del.data.done, true);
    assert.ok((await ah.projects.locations.backends.builds.get({ name: `${P}/backends/web/builds/build-1` })).data.deleteTime);
    const visible = (await ah.projects.locations.backends.builds.list({ parent: `${P}/backends/web` })).data.builds!.map(b => b.name!.split('/').pop());
    assert.deepEqual(visible.sort(), ['build-2', 'build-3']);
    const all = (await ah.projects.locations.backends.builds.list({ parent: `${P}/backends/web`, showDeleted: true })).data.builds!;
    assert.equal(all.length, 3);

    // Deleting the backend without force is refused while it has builds; with force it goes, and so does its app.
    const child = await googleError(ah.projects.locations.backends.delete({ name: `${P}/backends/web` }));
    assert.equal(child.status, 'FAILED_PRECONDITION');
    assert.ok(JSON.stringify(child.details).includes('CHILD_RESOURCE_EXISTS'));
    await waitOp(ah, (await ah.projects.locations.backends.delete({ name: `${P}/backends/web`, force: true })).data.name!);
    assert.match((await getApp(g.url, uri)).body, /Backend Not Found/);
    // Its Cloud Run service went with it.
    assert.equal((await googleError(run.projects.locations.services.get({ name: `${P}/services/web` }))).status, 'NOT_FOUND');
    // The built artifacts no build uses any more are removed soon after.
    const artifacts = join(dataDir, 'apphosting', 'artifacts');
    await eventually(() => !existsSync(artifacts) || readdirSync(artifacts).length === 0, 20_000);
  } finally {
    await g.close();
  }
});

test('failures say which step failed: an install error, an app that crashes on start or never answers; a tar.gz archive builds', { timeout: 180_000 }, async () => {
  const g = await startTestGantry({ executor: 'process', logLevel: 'silent', startupMs: 3000 });
  try {
    const ah = appHostingV1beta(g.url);
    const PB = 'projects/fail-app/locations/us-central1';
    await waitOp(ah, (await ah.projects.locations.backends.create({ parent: PB, backendId: 'web', requestBody: { servingLocality: 'GLOBAL_ACCESS', serviceAccount: 'runner@fail-app.iam.gserviceaccount.com' } })).data.name!);
    // Archives in Cloud Storage, as firebase deploy uploads them (here tar.gz through the JSON API).
    const upload = async (name: string, files: Record<string, string>) => {
      const dir = tempDir('gantry-archive-');
      writeTree(dir, files);
      const tgz = execFileSync('tar', ['-C', dir, '-cz', '.']);
      await fetch(`${g.url}/storage/v1/b?project=fail-app`, { method: 'POST', body: JSON.stringify({ name: 'fail-app-sources' }), headers: { 'content-type': 'application/json' } });
      const r = await fetch(`${g.url}/upload/storage/v1/b/fail-app-sources/o?uploadType=media&name=${name}`, { method: 'POST', body: tgz, headers: { 'content-type': 'application/gzip' } });
      assert.equal(r.status, 200);
      return `gs://fail-app-sources/${name}`;
    };
    const buildOf = async (id: string, uri: string) => {
      const op = await ah.projects.locations.backends.builds.create({ parent: `${PB}/backends/web`, buildId: id, requestBody: { source: { archive: { userStorageUri: uri, rootDirectory: 'app' } } } });
      return (await waitOp<Record<string, any>>(ah, op.data.name!)).response!;
    };
    const prefixed = (files: Record<string, string>) => Object.fromEntries(Object.entries(files).map(([k, v]) => [`app/${k}`, v]));

    const ok = await buildOf('good', await upload('good.tgz', prefixed(appFiles('from a tarball'))));
    assert.equal(ok.state, 'READY', JSON.stringify(ok.errors));

    const install = await buildOf('install', await upload('install.tgz', prefixed({ ...appFiles('x'), 'package-lock.json': '{ not json' })));
    assert.equal(install.state, 'FAILED');
    assert.equal(install.errors[0].errorSource, 'CLOUD_BUILD');
    assert.match(install.errors[0].error.message, /Step #1 - "install" \(npm ci\) failed/);

    const crash = await buildOf('crash', await upload('crash.tgz', prefixed({ ...appFiles('x'), 'server.js': "console.error('cannot start: missing config'); process.exit(7);\n" })));
    assert.equal(crash.state, 'FAILED');
    assert.equal(crash.errors[0].errorSource, 'CLOUD_RUN');
    assert.match(crash.errors[0].error.message, /exited before it answered .*exit code 7.*cannot start: missing config/);
    assert.match(crash.errors[0].cloudResource, /services\/web\/revisions\/web-crash$/);
    // The failed revision is Cloud Run's too, with Cloud Run's reason; the backend's service still says so.
    const run = google.run({ version: 'v2', rootUrl: g.url + '/', auth: apiAuth() });
    const crashed = (await run.projects.locations.services.revisions.get({ name: `${PB}/services/web/revisions/web-crash` })).data;
    const crashReady = crashed.conditions!.find(c => c.type === 'Ready');
    assert.equal(crashReady?.state, 'CONDITION_FAILED');
    assert.equal(crashReady?.reason === 'HEALTH_CHECK_CONTAINER_ERROR' || crashReady?.revisionReason === 'HEALTH_CHECK_CONTAINER_ERROR' || /HealthCheckContainerError|failed to start and listen/.test(String(crashReady?.message)), true, JSON.stringify(crashReady));

    // v1beta's locallyBuilt source: the bundle runs as it is, with its runCommand and env (nothing is built).
    const bundle = await upload('bundle.tgz', { 'dist/server.js': appFiles('prebuilt')['server.js'], 'dist/built.txt': 'built on my laptop' });
    const lb = await ah.projects.locations.backends.builds.create({ parent: `${PB}/backends/web`, buildId: 'local', requestBody: { source: { locallyBuilt: { userStorageUri: bundle, rootDirectory: 'dist', runCommand: 'node server.js', env: [{ variable: 'GREETING', value: 'from the bundle' }] } } } });
    const local = (await waitOp<Record<string, any>>(ah, lb.data.name!)).response!;
    assert.equal(local.state, 'READY', JSON.stringify(local.errors));
    const lr = await ah.projects.locations.backends.rollouts.create({ parent: `${PB}/backends/web`, rolloutId: 'local', requestBody: { build: `${PB}/backends/web/builds/local` } });
    assert.equal(((await waitOp<Record<string, any>>(ah, lr.data.name!)).response!).state, 'SUCCEEDED');
    assert.match((await getApp(g.url, 'web--fail-app.us-central1.hosted.app')).body, /^prebuilt \| from the bundle \| built on my laptop/);

    const silent = await buildOf('silent', await upload('silent.tgz', prefixed({ ...appFiles('x'), 'server.js': "require('http').createServer(() => {}).listen(Number(process.env.PORT) + 1, '127.0.0.1');\n" })));
    assert.equal(silent.state, 'FAILED');
    assert.equal(silent.errors[0].errorSource, 'CLOUD_RUN');
    assert.match(silent.errors[0].error.message, /did not answer HTTP on port \d+ \(the PORT it was given\) within 3 s/);

    const noRoot = await buildOf('noroot', await upload('noroot.tgz', { 'README.md': 'nothing here' }));
    assert.equal(noRoot.state, 'FAILED');
    assert.match(noRoot.errors[0].error.message, /root directory "app" does not exist/);
  } finally {
    await g.close();
  }
});
