// Cloud Run services serve on Gantry's port, driven by gcloud unchanged: a deploy's URL answers, a second deploy takes
// 100%, update-traffic splits requests by their percentages, a tag's URL reaches its revision alone, a revision whose
// container never listens is not Ready (Cloud Run's reason) while the old one keeps serving, requests and output go
// to Cloud Logging, and a deleted service's names answer Google's 404 page.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { getApp } from '../helpers/apphosting.js';
import { googleapisRun, googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';
import { projectNumber } from '../../src/google/project-number.js';

const P = 'serve-proj';
const NUM = projectNumber(P);
const HOST = `web-${NUM}.us-central1.run.app`;
const IMAGE = 'us-docker.pkg.dev/cloudrun/container/hello';

let g: Gantry;
let gcloud: Gcloud;
before(async () => {
  g = await startTestGantry({ logLevel: 'silent' });
  gcloud = await gcloudFor(g.url, P, { run: true });
});
after(async () => { await g.close(); });

interface Identity { service: string; revision: string; image: string; env: string[]; simulated: boolean }
const ask = async (host: string, path = '/') => {
  const r = await getApp(g.url, host, path);
  return { ...r, json: r.headers['content-type']?.startsWith('application/json') ? JSON.parse(r.body) as Identity : undefined };
};
const revisions = async (service: string) => (await gcloud.json<{ metadata: { name: string } }[]>(['run', 'revisions', 'list', '--service', service])).map(r => r.metadata.name);

test('simulated revisions: the URL answers, a second deploy takes it, update-traffic splits 1,000 requests, a tag reaches its revision alone, delete ends it', async () => {
  await gcloud(['run', 'deploy', 'web', '--image', IMAGE, '--region', 'us-central1', '--allow-unauthenticated', '--set-env-vars', 'A=1,B=2']);
  const [r1] = await revisions('web');
  let got = await ask(`${HOST}.localhost`, '/hello');
  assert.equal(got.status, 200);
  assert.deepEqual(got.json, { service: 'web', revision: r1, image: IMAGE, env: ['A', 'B'], path: '/hello', simulated: true });

  await gcloud(['run', 'deploy', 'web', '--image', `${IMAGE}:v2`, '--region', 'us-central1', '--allow-unauthenticated']);
  const [r2] = await revisions('web');
  assert.notEqual(r2, r1);
  assert.equal((await ask(HOST)).json?.revision, r2, 'the new revision takes all traffic');

  await gcloud(['run', 'services', 'update-traffic', 'web', `--to-revisions=${r1}=25,${r2}=75`]);
  const counts: Record<string, number> = {};
  for (let i = 0; i < 1000; i++) { const r = (await ask(HOST)).json!.revision; counts[r] = (counts[r] ?? 0) + 1; }
  assert.ok(Math.abs(counts[r1] - 250) <= 50, `25% to ${r1}: ${JSON.stringify(counts)}`);
  assert.ok(Math.abs(counts[r2] - 750) <= 50, `75% to ${r2}: ${JSON.stringify(counts)}`);

  await gcloud(['run', 'services', 'update-traffic', 'web', `--set-tags=old=${r1}`, `--to-revisions=${r2}=100`]);
  for (let i = 0; i < 20; i++) assert.equal((await ask(`old---${HOST}.localhost`)).json?.revision, r1, 'a tag reaches its revision alone');
  for (let i = 0; i < 20; i++) assert.equal((await ask(HOST)).json?.revision, r2);

  // Each request is logged as Cloud Run logs it (run.googleapis.com/requests, with httpRequest).
  const entries = await eventually(async () => {
    const r = await fetch(`${g.url}/v2/entries:list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
      resourceNames: [`projects/${P}`], filter: `logName="projects/${P}/logs/run.googleapis.com%2Frequests" AND resource.labels.revision_name="${r1}"`, pageSize: 5,
    }) });
    const j = await r.json() as { entries?: { resource: { type: string }; httpRequest: { requestMethod: string; status: number; requestUrl: string } }[] };
    return j.entries?.length ? j.entries : undefined;
  });
  assert.equal(entries[0].resource.type, 'cloud_run_revision');
  assert.equal(entries[0].httpRequest.status, 200);
  assert.match(entries[0].httpRequest.requestUrl, /^https:\/\/(old---)?web-/);

  // A host no service holds answers Google's 404 page, not an API error.
  const none = await ask(`nothing-${NUM}.us-central1.run.app`, '/x');
  assert.equal(none.status, 404);
  assert.match(none.body, /404\..*That’s an error\./s);

  await gcloud(['run', 'services', 'delete', 'web']);
  assert.equal((await ask(HOST)).status, 404);
  assert.equal((await ask(`old---${HOST}`)).status, 404);
});

test('process revisions: the container command serves on PORT; one that exits at start is not Ready with Cloud Run\'s reason and the old one keeps serving', async () => {
  const pg = await startTestGantry({ logLevel: 'silent', executor: 'process' });
  const gcloud = await gcloudFor(pg.url, P, { run: true });
  const ask = async (host: string, path = '/') => getApp(pg.url, host, path);
  const revisions = async (service: string) => (await gcloud.json<{ metadata: { name: string } }[]>(['run', 'revisions', 'list', '--service', service])).map(r => r.metadata.name);
  try {
  const dir = tempDir('run-app-');
  writeFileSync(join(dir, 'server.js'), "require('http').createServer((q, s) => { console.log('served ' + q.url); s.end(`${process.env.K_REVISION} says ${process.env.GREETING}`); }).listen(process.env.PORT);\n");
  const host = `app-${NUM}.us-central1.run.app`;
  await gcloud(['run', 'deploy', 'app', '--image', IMAGE, '--region', 'us-central1', '--allow-unauthenticated', '--command', 'node', '--args', join(dir, 'server.js'),
    '--set-env-vars', 'GREETING=hi']);
  const [r1] = await revisions('app');
  assert.equal((await ask(host, '/a')).body, `${r1} says hi`);

  const err = await gcloud.fails(['run', 'deploy', 'app', '--image', IMAGE, '--region', 'us-central1', '--command', 'sh', '--args=-c,echo cannot start >&2; exit 3']);
  assert.match(err, /The user-provided container failed to start and listen on the port defined provided by the PORT environment variable/);
  assert.match(err, /exit code 3/);
  assert.equal((await ask(host, '/b')).body, `${r1} says hi`, 'the previous revision keeps serving');

  // The app's own output is the revision's log (resource cloud_run_revision).
  await eventually(async () => {
    const r = await fetch(`${pg.url}/v2/entries:list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
      resourceNames: [`projects/${P}`], filter: `resource.type="cloud_run_revision" AND resource.labels.revision_name="${r1}" AND textPayload="served /a"`,
    }) });
    return ((await r.json()) as { entries?: unknown[] }).entries?.length ? true : undefined;
  });
  // The revision's logUri opens its log in Gantry's log viewer, the app's line among it.
  const rev = (await googleapisRun(pg.url, 'v2').projects.locations.services.revisions.get({ name: `projects/${P}/locations/us-central1/services/app/revisions/${r1}` })).data;
  assert.ok(rev.logUri?.startsWith(pg.url + '/'), rev.logUri ?? 'no logUri');
  assert.match(await (await fetch(rev.logUri!)).text(), /served \/a/);
  await gcloud(['run', 'services', 'delete', 'app']);
  assert.equal((await ask(host)).status, 404);
  } finally {
    await pg.close();
  }
});

test('a service may choose among the executors the operator enabled, never widen them', async () => {
  const run = googleapisRun(g.url, 'v2');
  const parent = `projects/${P}/locations/us-central1`;
  const asks = (where: 'service' | 'template') => ({
    ...(where === 'service' ? { annotations: { 'gantry.dev/executor': 'process' } } : {}),
    template: { ...(where === 'template' ? { annotations: { 'gantry.dev/executor': 'process' } } : {}), containers: [{ image: IMAGE, command: ['sh', '-c', 'touch /tmp/should-not-run'] }] },
  });
  for (const where of ['service', 'template'] as const) {
    const e = await googleError(run.projects.locations.services.create({ parent, serviceId: `wants-${where}`, requestBody: asks(where) }));
    assert.equal(e.status, 'FAILED_PRECONDITION', e.message);
    assert.match(e.message, /asks for the process executor, which this Gantry does not enable/);
  }
  const bad = await googleError(run.projects.locations.services.create({ parent, serviceId: 'wants-nonsense', requestBody: { annotations: { 'gantry.dev/executor': 'vm' }, template: { containers: [{ image: IMAGE }] } } }));
  assert.equal(bad.status, 'INVALID_ARGUMENT');
});

test('an answer that does not read the body (Cloud Run\'s 404 page, a simulated answer) waits for it: a socket closed with unread bytes would lose the answer', async () => {
  const { connect } = await import('node:net');
  const port = Number(new URL(g.url).port);
  for (const host of [`nope-${NUM}.us-central1.run.app`, 'nothing--serve-proj.us-central1.hosted.app']) {
    const s = connect(port, '127.0.0.1');
    let got = '';
    s.on('data', d => { got += d.toString('latin1'); });
    const closed = new Promise(r => s.once('close', r));
    s.write(`PUT /upload HTTP/1.1\r\nHost: ${host}\r\nConnection: close\r\nContent-Type: application/octet-stream\r\nContent-Length: 200000\r\n\r\n`);
    s.write(Buffer.alloc(100_000, 1));
    await new Promise(r => setTimeout(r, 300));
    assert.equal(got, '', `${host}: nothing is answered while the body is still coming`);
    s.write(Buffer.alloc(100_000, 2));
    await closed;
    assert.match(got, /^HTTP\/1\.1 404 /, host);
  }
});
