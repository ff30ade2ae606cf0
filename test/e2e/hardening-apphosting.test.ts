// Issue 23, App Hosting and Developer Connect: the app proxy hands an app none of Gantry's credentials and its own
// forwarding headers; a backend's environment is an id (checked again when a build reads it); a link's cloneUri names only local repositories under the allowed directories (no network unless the
// operator allows it); a backend's executor annotation is checked like a target's; a backend's uri is its own.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { request } from 'node:http';
import { createServer, type Server } from 'node:net';
import { mkdirSync, renameSync, symlinkSync } from 'node:fs';
import { basename, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { firebaseapphosting_v1beta } from 'googleapis';
import { startTestGantry, tempDir, writeTree } from '../helpers/server.js';
import { appHostingV1beta, developerConnect, makeRepo, waitOp } from '../helpers/apphosting.js';
import { googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';

const P = 'projects/hard-app/locations/us-central1';
const TOKEN = 'test-token'; // what the googleapis helpers send
let g: Gantry;
let dataDir: string;
/** The one directory this Gantry reads git repositories under (its data directory inside it): not the temp directory,
 * where a CI clone of this checkout may itself live. */
let reposDir: string;
/** A repository under `reposDir`. */
function repo(files: Record<string, string>): string {
  const from = makeRepo(files);
  const to = join(reposDir, basename(from));
  renameSync(from, to);
  return to;
}
let ah: firebaseapphosting_v1beta.Firebaseapphosting;
let dc: ReturnType<typeof developerConnect>;

/** An app that answers every request with the headers it was sent, as JSON. */
const ECHO_APP: Record<string, string> = {
  'apphosting.yaml': 'scripts:\n  runCommand: node server.js\n',
  'server.js': "require('http').createServer((req, res) => { res.setHeader('content-type', 'application/json'); res.end(JSON.stringify(req.headers)); }).listen(Number(process.env.PORT), '127.0.0.1');\n",
};

async function link(id: string, cloneUri: string) {
  return dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: id, requestBody: { cloneUri } });
}

async function backend(id: string, body: Record<string, unknown>) {
  return waitOp(ah, (await ah.projects.locations.backends.create({ parent: P, backendId: id, requestBody: { servingLocality: 'GLOBAL_ACCESS', serviceAccount: 'runner@hard-app.iam.gserviceaccount.com', ...body } })).data.name!);
}

/** Builds `main` of the backend's repository; resolves with the finished build. */
async function build(be: string, id: string): Promise<Record<string, unknown>> {
  const op = await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/${be}`, buildId: id, requestBody: { source: { codebase: { branch: 'main' } } } });
  return (await waitOp<Record<string, unknown>>(ah, op.data.name!, 60_000)).response ?? (await ah.projects.locations.backends.builds.get({ name: `${P}/backends/${be}/builds/${id}` })).data as Record<string, unknown>;
}

function getRaw(host: string, headers: Record<string, string>): Promise<{ status: number; body: string }> {
  const u = new URL(g.url);
  return new Promise((res, rej) => {
    const req = request({ host: u.hostname, port: u.port, path: '/', headers: { ...headers, host } }, r => {
      let body = '';
      r.on('data', d => { body += d; });
      r.on('end', () => res({ status: r.statusCode ?? 0, body }));
    });
    req.on('error', rej);
    req.end();
  });
}

before(async () => {
  reposDir = tempDir('gantry-hard-repos-');
  dataDir = join(reposDir, 'data');
  g = await startTestGantry({ executor: 'process', authToken: TOKEN, dataDir, gitDirs: [reposDir] });
  ah = appHostingV1beta(g.url);
  dc = developerConnect(g.url);
  await dc.projects.locations.connections.create({ parent: P, connectionId: 'c', requestBody: {} });
});
after(async () => { await g?.close(); });

test('the app proxy forwards neither Gantry\'s token nor the client\'s forwarding headers', { timeout: 90_000 }, async () => {
  await link('echo', repo(ECHO_APP));
  await backend('echo', { codebase: { repository: `${P}/connections/c/gitRepositoryLinks/echo` } });
  assert.equal((await build('echo', 'b1')).state, 'READY');
  const r = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/echo`, rolloutId: 'r1', requestBody: { build: `${P}/backends/echo/builds/b1` } });
  assert.equal((await waitOp<Record<string, unknown>>(ah, r.data.name!)).response!.state, 'SUCCEEDED');

  const host = 'echo--hard-app.us-central1.hosted.app';
  const got = await getRaw(host, {
    authorization: `Bearer ${TOKEN}`, 'proxy-authorization': 'Basic c2VjcmV0', forwarded: 'for=203.0.113.9;host=evil.example;proto=https',
    'x-forwarded-for': '203.0.113.9', 'x-forwarded-host': 'evil.example', 'x-forwarded-port': '443', 'x-real-ip': '203.0.113.9', 'x-app-header': 'kept',
  });
  assert.equal(got.status, 200, got.body);
  const seen = JSON.parse(got.body) as Record<string, string>;
  assert.equal(seen.authorization, undefined, 'Gantry\'s token reached the app');
  assert.equal(seen['proxy-authorization'], undefined);
  assert.ok(!got.body.includes(TOKEN) && !got.body.includes('203.0.113.9') && !got.body.includes('evil.example'), got.body);
  assert.equal(seen.forwarded, `for=127.0.0.1;host=${host};proto=http`);
  assert.equal(seen['x-forwarded-for'], '127.0.0.1');
  assert.equal(seen['x-forwarded-host'], host);
  assert.equal(seen['x-forwarded-port'], undefined);
  assert.equal(seen['x-app-header'], 'kept');
  // Without the token the request never reaches the app.
  assert.equal((await getRaw(host, {})).status, 401);
});

test('a backend\'s environment is an id: it cannot name a file outside the source', async () => {
  for (const environment of ['/../../other-app/apphosting.local', '../x', 'a/b', 'a.b']) {
    const e = await googleError(backend('env-bad', { environment }));
    assert.equal(e.status, 'INVALID_ARGUMENT', environment);
    assert.match(e.message, /backend\.environment .* is not an environment name/);
  }
  await backend('env-ok', { environment: 'staging_2-eu' });
});

test('a backend stored with a climbing environment (a snapshot) builds nothing from outside the source', { timeout: 90_000 }, async () => {
  // Another app's environment file, with a secret, elsewhere on the host.
  const other = writeTree(tempDir('gantry-other-app-'), {
    'apphosting.local.yaml': 'env:\n  - variable: OTHER_APP_SECRET\n    value: hunter2\n',
  });
  await link('env-snap', repo(ECHO_APP));
  await backend('env-snap', { environment: 'local', codebase: { repository: `${P}/connections/c/gitRepositoryLinks/env-snap` } });
  const auth = { authorization: `Bearer ${TOKEN}` };
  const snapshot = await (await fetch(`${g.url}/gantry/v1/snapshot?project=hard-app`, { headers: auth })).text();
  const climbing = `${'/..'.repeat(40)}${other}/apphosting.local`;
  assert.ok(snapshot.includes('"environment":"local"'));
  const imported = await fetch(`${g.url}/gantry/v1/snapshot:import?project=hard-app`, { method: 'POST', body: snapshot.replace('"environment":"local"', `"environment":${JSON.stringify(climbing)}`), headers: { ...auth, 'content-type': 'application/x-ndjson' } });
  assert.equal(imported.status, 200, await imported.text());
  const b = await build('env-snap', 'b1');
  assert.equal(b.state, 'FAILED', JSON.stringify(b));
  assert.match(String((b.errors as { error: { message: string } }[])[0].error.message), /is not an environment name/);
  assert.ok(!JSON.stringify(b).includes('hunter2'));
});

test('a link\'s cloneUri is a local repository under the allowed directories, never Gantry\'s own files', async () => {
  const checkout = resolve(fileURLToPath(new URL('../../..', import.meta.url)));
  const viaSymlink = join(reposDir, 'checkout-link');
  symlinkSync(checkout, viaSymlink);
  const own = join(dataDir, 'git');
  mkdirSync(own, { recursive: true });
  for (const [uri, why] of [
    [join(checkout, '.git'), /not under a directory this Gantry reads git repositories from/],
    [checkout, /not under a directory/],
    [`file://${checkout}`, /not under a directory/],
    ['/etc', /not under a directory/],
    [viaSymlink, /not under a directory/],
    [own, /not under a directory/],
    ['relative/repo', /must be an absolute path/],
  ] as const) {
    const e = await googleError(link(`l${Math.random().toString(36).slice(2, 8)}`, uri));
    assert.equal(e.code, 400, uri);
    assert.equal(e.status, 'INVALID_ARGUMENT', uri);
    assert.match(e.message, why, uri);
    if (uri === viaSymlink) assert.ok(!e.message.includes(checkout), 'the message names the URI, not where it leads');
  }
  // A repository under the allowed directories is fine.
  await link('ok', repo({ 'a.txt': 'a\n' }));
});

test('a link\'s cloneUri naming a network remote is refused and git connects nowhere', async () => {
  let connections = 0;
  const listener: Server = createServer(s => { connections++; s.destroy(); });
  await new Promise<void>(r => listener.listen(0, '127.0.0.1', () => r()));
  const port = (listener.address() as { port: number }).port;
  try {
    for (const uri of [`http://127.0.0.1:${port}/x.git`, `https://127.0.0.1:${port}/x.git`, `ssh://git@127.0.0.1:${port}/x.git`, `git://127.0.0.1:${port}/x.git`, '127.0.0.1:x.git']) {
      const e = await googleError(link(`r${Math.random().toString(36).slice(2, 8)}`, uri));
      assert.equal(e.status, 'INVALID_ARGUMENT', uri);
      assert.match(e.message, /network remote.*--allow-git-remotes/, uri);
    }
    await new Promise(r => setTimeout(r, 200));
    assert.equal(connections, 0);
  } finally {
    listener.close();
  }
});

test('a backend\'s executor annotation must name an enabled executor', async () => {
  const e = await googleError(backend('ann', { annotations: { 'gantry.dev/executor': 'container' } }));
  assert.equal(e.status, 'FAILED_PRECONDITION');
  assert.match(e.message, /asks for the container executor, which this Gantry does not enable/);
  const bad = await googleError(backend('ann', { annotations: { 'gantry.dev/executor': 'shell' } }));
  assert.equal(bad.status, 'INVALID_ARGUMENT');
  await backend('ann', { annotations: { 'gantry.dev/executor': 'process' } });
});

test('a backend\'s uri is derived from its name, whatever a snapshot says', async () => {
  await backend('uri', {});
  const auth = { authorization: `Bearer ${TOKEN}` };
  const snapshot = await (await fetch(`${g.url}/gantry/v1/snapshot?project=hard-app`, { headers: auth })).text();
  const host = 'uri--hard-app.us-central1.hosted.app';
  assert.ok(snapshot.includes(`"uri":"${host}"`));
  const tampered = snapshot.replace(`"uri":"${host}"`, '"uri":"evil.example/phish?"');
  const imported = await fetch(`${g.url}/gantry/v1/snapshot:import?project=hard-app`, { method: 'POST', body: tampered, headers: { ...auth, 'content-type': 'application/x-ndjson' } });
  assert.equal(imported.status, 200, await imported.text());
  assert.equal((await ah.projects.locations.backends.get({ name: `${P}/backends/uri` })).data.uri, host);
  const listed = (await ah.projects.locations.backends.list({ parent: P })).data.backends!.find(b => b.name === `${P}/backends/uri`);
  assert.equal(listed?.uri, host);
});
