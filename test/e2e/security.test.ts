// What a web page, a foreign host or a hostile client can make Gantry do: nothing. Each layer is tested on its
// own: executors the operator did not enable, Host and Origin checks, JSON-only bodies, file:// sources, and the
// token on every method.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { googleError, googleapisDeploy } from '../helpers/clients.js';
import { DeployKit } from '../helpers/deploy.js';
import { rawExchange } from '../helpers/raw-http.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/sec/locations/us-central1';
let g: Gantry;
const k = new DeployKit();

before(async () => {
  g = await startTestGantry();
  k.attach(g.url);
});
after(() => g.close());

interface Reply { status: number; headers: Record<string, string>; json?: { error: { code: number; status: string; message: string } } }

/** One request exactly as written (a browser's or an attacker's headers), over a raw socket. */
async function rawRequest(port: number, o: { method: string; path: string; headers: Record<string, string>; body?: string; http10?: boolean }): Promise<Reply> {
  const headers = { ...o.headers, ...(o.body !== undefined ? { 'content-length': String(Buffer.byteLength(o.body)) } : {}), connection: 'close' };
  const head = `${o.method} ${o.path} HTTP/1.${o.http10 ? 0 : 1}\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
  const res = await rawExchange({ port, chunks: [Buffer.from(head + (o.body ?? ''))], heads: [o.method === 'HEAD'], resolveAfter: 1, timeoutMs: 10_000 });
  const r = res.responses[0];
  assert.ok(r, `${o.method} ${o.path}: no response (${JSON.stringify(res)})`);
  const text = r.body.toString();
  const reply: Reply = { status: r.status, headers: Object.fromEntries(r.headers.map(([k, v]) => [k.toLowerCase(), v])) };
  if (text) reply.json = JSON.parse(text) as Reply['json'];
  if (reply.json?.error) assert.equal(reply.json.error.code, r.status, 'the body code is the HTTP status');
  return reply;
}

/** A target that asks for the process executor, and a pipeline whose predeploy runs the `pwn` action on it. */
async function processPipeline(kit: DeployKit): Promise<void> {
  await kit.opDone(kit.api.targets.create({ parent: LOC, targetId: 'dev', requestBody: { annotations: { 'gantry.dev/executor': 'process' }, run: { location: LOC } } }));
  await kit.opDone(kit.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'app', requestBody: { serialPipeline: { stages: [{ targetId: 'dev', strategy: { standard: { predeploy: { actions: ['pwn'] } } } }] } } }));
}

/** A source whose predeploy action would leave a marker file on the host if it ever ran. */
function hostileSource(marker: string): string {
  const dir = join(tempDir(), 'src');
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'skaffold.yaml'), `apiVersion: skaffold/v4beta7
kind: Config
customActions:
- name: pwn
  containers:
  - name: pwn
    image: busybox
    command: ["sh", "-c", "touch ${marker}"]
`);
  return dir;
}

test('an annotation cannot choose an executor the operator did not enable', async () => {
  const api = k.api;
  const e = await googleError(api.targets.create({ parent: LOC, targetId: 'proc', requestBody: { annotations: { 'gantry.dev/executor': 'process' }, run: { location: LOC } } }));
  assert.equal(e.status, 'FAILED_PRECONDITION');
  assert.match(e.message, /--allow-executors process/);
  const p = await googleError(api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'pp', requestBody: { annotations: { 'gantry.dev/executor': 'container' } } }));
  assert.equal(p.status, 'FAILED_PRECONDITION');
  const bad = await googleError(api.targets.create({ parent: LOC, targetId: 'odd', requestBody: { annotations: { 'gantry.dev/executor': 'shell' } } }));
  assert.equal(bad.status, 'INVALID_ARGUMENT');
  // Updating an existing target to ask for it is refused the same way.
  await k.opDone(api.targets.create({ parent: LOC, targetId: 'plain', requestBody: { run: { location: LOC } } }));
  const patch = await googleError(api.targets.patch({ name: `${LOC}/targets/plain`, updateMask: 'annotations', requestBody: { annotations: { 'gantry.dev/executor': 'process' } } }));
  assert.equal(patch.status, 'FAILED_PRECONDITION');
});

test('targets annotated under a wider configuration run nothing once the operator narrows it', async () => {
  const dataDir = tempDir();
  const marker = join(tempDir(), 'pwned');
  const source = hostileSource(marker);
  const wide = await startTestGantry({ dataDir, allowExecutors: ['process'] });
  const kw = new DeployKit().attach(wide.url);
  await processPipeline(kw);
  await wide.close();

  const narrow = await startTestGantry({ dataDir });
  try {
    const kn = new DeployKit().attach(narrow.url);
    const e = await googleError(kn.api.deliveryPipelines.releases.create({ parent: `${LOC}/deliveryPipelines/app`, releaseId: 'r1', requestBody: { skaffoldConfigUri: pathToFileURL(source).href } }));
    assert.equal(e.status, 'FAILED_PRECONDITION');
    assert.match(e.message, /process executor/);
    assert.equal(existsSync(marker), false);
  } finally {
    await narrow.close();
  }
});

test('with the process executor allowed, the same hostile release does run: the refusal above is the guard, not an accident', async () => {
  const marker = join(tempDir(), 'ran');
  const source = hostileSource(marker);
  const wide = await startTestGantry({ allowExecutors: ['process'] });
  try {
    const kw = new DeployKit().attach(wide.url);
    await processPipeline(kw);
    const rel = await kw.renderedRelease(`${LOC}/deliveryPipelines/app`, 'r1', { skaffoldConfigUri: pathToFileURL(source).href });
    assert.equal(rel.renderState, 'SUCCEEDED');
    await kw.opDone(kw.rollouts.create({ parent: rel.name!, rolloutId: 'ro', requestBody: { targetId: 'dev' } }));
    await kw.until(`${rel.name}/rollouts/ro`, r => r.state === 'SUCCEEDED');
    assert.equal(existsSync(marker), true);
  } finally {
    await wide.close();
  }
});

test('the blind requests a web page can send are refused: text/plain bodies, foreign Origin, foreign Host', async () => {
  const port = g.port;
  const body = JSON.stringify({ run: { location: LOC } });
  const path = `/v1/${LOC}/targets?targetId=web`;
  const asPage = (headers: Record<string, string>) => rawRequest(port, { method: 'POST', path, headers: { host: `127.0.0.1:${port}`, ...headers }, body });

  const plain = await asPage({ 'content-type': 'text/plain' });
  assert.equal(plain.status, 400);
  assert.equal(plain.json?.error.status, 'INVALID_ARGUMENT');
  assert.match(plain.json!.error.message, /application\/json/);
  const form = await asPage({ 'content-type': 'application/x-www-form-urlencoded' });
  assert.equal(form.status, 400);

  const origin = await asPage({ 'content-type': 'application/json', origin: 'http://evil.example' });
  assert.equal(origin.status, 403);
  assert.equal(origin.json?.error.status, 'PERMISSION_DENIED');
  const nullOrigin = await asPage({ 'content-type': 'application/json', origin: 'null' });
  assert.equal(nullOrigin.status, 403);
  const crossSite = await rawRequest(port, { method: 'GET', path: `/v1/${LOC}/targets`, headers: { host: `localhost:${port}`, 'sec-fetch-site': 'cross-site' } });
  assert.equal(crossSite.status, 403);

  // DNS rebinding: the page's own name resolves to 127.0.0.1, so the Host is foreign.
  const rebound = await asPage({ 'content-type': 'application/json', host: `evil.example:${port}` });
  assert.equal(rebound.status, 403);
  assert.match(rebound.json!.error.message, /Host "evil.example/);
  const noHost = await rawRequest(port, { method: 'GET', path: '/gantry/v1/healthz', headers: {}, http10: true });
  assert.equal(noHost.status, 403);

  // Nothing was created by any of them.
  assert.equal((await googleError(k.api.targets.get({ name: `${LOC}/targets/web` }))).status, 'NOT_FOUND');
  // CORS preflights get no permission.
  const preflight = await rawRequest(port, { method: 'OPTIONS', path, headers: { host: `127.0.0.1:${port}`, origin: 'http://evil.example', 'access-control-request-method': 'POST' } });
  assert.equal(preflight.status, 403);
  assert.equal(preflight.headers['access-control-allow-origin'], undefined);
});

test('loopback names are served; other hosts and origins only when the operator allows them', async () => {
  const port = g.port;
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `[::1]:${port}`, `127.0.0.2:${port}`, 'localhost']) {
    const r = await rawRequest(port, { method: 'GET', path: '/gantry/v1/healthz', headers: { host } });
    assert.equal(r.status, 200, host);
  }
  const same = await rawRequest(port, { method: 'GET', path: '/gantry/v1/healthz', headers: { host: `127.0.0.1:${port}`, origin: `http://127.0.0.1:${port}` } });
  assert.equal(same.status, 200);
  const open = await startTestGantry({ allowHosts: ['gantry.test', '*.run.gantry'], allowOrigins: ['http://localhost:3000'] });
  try {
    for (const [host, status] of [['gantry.test:1', 200], ['us-central1-run.run.gantry:9', 200], ['run.gantry', 403], ['evil.gantry.test', 403]] as const) {
      const r = await rawRequest(open.port, { method: 'GET', path: '/gantry/v1/healthz', headers: { host } });
      assert.equal(r.status, status, host);
    }
    const allowed = await rawRequest(open.port, { method: 'GET', path: '/gantry/v1/healthz', headers: { host: 'localhost', origin: 'http://localhost:3000' } });
    assert.equal(allowed.status, 200);
    const other = await rawRequest(open.port, { method: 'GET', path: '/gantry/v1/healthz', headers: { host: 'localhost', origin: 'http://localhost:3001' } });
    assert.equal(other.status, 403);
  } finally {
    await open.close();
  }
});

test('file:// sources are read only under the directories the operator configured, and errors show no host paths', async () => {
  const allowed = tempDir('gantry-src-');
  const source = hostileSource(join(allowed, 'unused'));
  const inside = join(allowed, 'app');
  mkdirSync(inside);
  writeFileSync(join(inside, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta7\nkind: Config\n');
  symlinkSync('/etc', join(allowed, 'escape'));
  const off = await startTestGantry({ sourceDirs: [] });
  const on = await startTestGantry({ sourceDirs: [allowed] });
  try {
    for (const server of [off, on]) {
      const ks = new DeployKit().attach(server.url);
      await ks.opDone(ks.api.targets.create({ parent: LOC, targetId: 'dev', requestBody: { run: { location: LOC } } }));
      await ks.opDone(ks.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'app', requestBody: { serialPipeline: { stages: [{ targetId: 'dev' }] } } }));
    }
    const create = (server: Gantry, id: string, uri: string) => googleapisDeploy(server.url).projects.locations.deliveryPipelines.releases.create({ parent: `${LOC}/deliveryPipelines/app`, releaseId: id, requestBody: { skaffoldConfigUri: uri } });
    const disabled = await googleError(create(off, 'r1', pathToFileURL(inside).href));
    assert.equal(disabled.status, 'INVALID_ARGUMENT');
    assert.match(disabled.message, /not enabled/);
    for (const uri of [pathToFileURL(source).href, 'file:///etc/passwd', pathToFileURL(join(allowed, 'escape', 'passwd')).href, pathToFileURL(join(allowed, '..', 'x')).href]) {
      const e = await googleError(create(on, 'r2', uri));
      assert.equal(e.status, 'INVALID_ARGUMENT', uri);
      assert.match(e.message, /not under a directory/);
      assert.ok(!e.message.includes('/etc/passwd') || uri.includes('/etc/passwd'), 'the message quotes only the URI sent');
    }
    // A missing file inside a root says it cannot be read, without naming where Gantry looked.
    const missing = await googleError(create(on, 'r3', pathToFileURL(join(allowed, 'nope')).href));
    assert.equal(missing.status, 'FAILED_PRECONDITION');
    assert.equal(missing.message.split(allowed).length, 2, 'only the URI itself names the directory');
    assert.equal((await googleError(create(on, 'r4', 'http://example.com/src.tgz'))).status, 'INVALID_ARGUMENT');
    const ks = new DeployKit().attach(on.url);
    const rel = await ks.renderedRelease(`${LOC}/deliveryPipelines/app`, 'ok', { skaffoldConfigUri: pathToFileURL(inside).href });
    assert.equal(rel.renderState, 'SUCCEEDED');
  } finally {
    await off.close();
    await on.close();
  }
});

test('with --auth-token every method on every path needs the token, before anything else is looked at', async () => {
  const secured = await startTestGantry({ authToken: 's3cret' });
  try {
    for (const method of ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'TRACE', 'PROPFIND', 'MKCOL', 'LOCK', 'SEARCH']) {
      for (const path of ['/gantry/v1/healthz', `/v1/${LOC}/targets`, '/no/such/route', '/v1/%zz']) {
        const r = await rawRequest(secured.port, { method, path, headers: { host: 'localhost' } });
        assert.equal(r.status, 401, `${method} ${path}`);
        if (method !== 'HEAD') assert.equal(r.json?.error.status, 'UNAUTHENTICATED', `${method} ${path}`);
      }
    }
    const ok = await rawRequest(secured.port, { method: 'GET', path: '/gantry/v1/healthz', headers: { host: 'localhost', authorization: 'Bearer s3cret' } });
    assert.equal(ok.status, 200);
  } finally {
    await secured.close();
  }
});

test('a job whose source went away says so without naming host paths', async () => {
  const dir = hostileSource(join(tempDir(), 'unused'));
  const wide = await startTestGantry({ allowExecutors: ['process'], sourceDirs: [dir] });
  try {
    const kw = new DeployKit().attach(wide.url);
    await processPipeline(kw);
    const rel = await kw.renderedRelease(`${LOC}/deliveryPipelines/app`, 'r1', { skaffoldConfigUri: pathToFileURL(dir).href });
    assert.equal(rel.renderState, 'SUCCEEDED');
    rmSync(dir, { recursive: true });
    await kw.opDone(kw.rollouts.create({ parent: rel.name!, rolloutId: 'ro', requestBody: { targetId: 'dev' } }));
    const r = await kw.until(`${rel.name}/rollouts/ro`, x => x.state === 'FAILED');
    const jr = (await kw.rollouts.jobRuns.get({ name: r.phases![0].deploymentJobs!.predeployJob!.jobRun! })).data;
    const message = jr.predeployJobRun!.failureMessage!;
    assert.match(message, /Gantry could not run the job/);
    // The URI the client sent may be quoted; no file system error naming the host path is.
    assert.doesNotMatch(message, /ENOENT|stat '/, message);
  } finally {
    await wide.close();
  }
});
