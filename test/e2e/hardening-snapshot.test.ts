// Issue 23, snapshots: a snapshot is untrusted input. Blob references are content addresses verified against the
// bytes the snapshot carries (never paths), every line is checked as strictly as a request (400 naming the line,
// nothing stored), and every kind Gantry stores survives a round trip.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { google } from 'googleapis';
import { spawnGantry, startTestGantry, tempDir } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import { appFiles, makeRepo } from '../helpers/apphosting.js';
import type { Gantry } from '../../src/gantry.js';

const P = 'snap-h';
const LOC = `projects/${P}/locations/us-central1`;

async function call(url: string, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any>; text: string }> {
  const r = await fetch(url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await r.text();
  let json: Record<string, any> = {};
  try { json = JSON.parse(text) as Record<string, any>; } catch { /* not JSON */ }
  return { status: r.status, json, text };
}

const importSnapshot = (url: string, text: string) =>
  fetch(`${url}/gantry/v1/snapshot:import`, { method: 'POST', body: text, headers: { 'content-type': 'application/x-ndjson' } });

/** A bucket with one object, its snapshot and the object's resource line. */
async function withObject(g: Gantry): Promise<{ snapshot: string[]; objectLine: number }> {
  assert.equal((await call(g.url, 'POST', '/storage/v1/b?project=p', { name: 'bkt' })).status, 200);
  const up = await fetch(`${g.url}/upload/storage/v1/b/bkt/o?uploadType=media&name=a.txt`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
  assert.equal(up.status, 200);
  const snapshot = (await (await fetch(`${g.url}/gantry/v1/snapshot`)).text()).split('\n').filter(Boolean);
  const objectLine = snapshot.findIndex(l => l.includes('"kind":"storageObject"'));
  assert.ok(objectLine > 0);
  return { snapshot, objectLine };
}

function pointAt(line: string, blob: string): string {
  const l = JSON.parse(line) as { resource: { data: Record<string, unknown> } };
  l.resource.data.gantryBlob = blob;
  return JSON.stringify(l);
}

test('a snapshot cannot make an object read a host file: blob references are content addresses carried in the snapshot', async () => {
  const g = await startTestGantry();
  try {
    const { snapshot, objectLine } = await withObject(g);
    const hostile = [...snapshot];
    hostile[objectLine] = pointAt(snapshot[objectLine], '../../../../../../etc/passwd');
    const r = await importSnapshot(g.url, hostile.join('\n'));
    assert.equal(r.status, 400);
    assert.match(await r.text(), new RegExp(`Snapshot line ${objectLine + 1}: .*gantryBlob`));
    // A well-formed address whose bytes the snapshot does not carry is refused too: references are verified.
    const missing = [...snapshot.filter(l => !l.startsWith('{"blob"'))];
    const r2 = await importSnapshot(g.url, missing.join('\n'));
    assert.equal(r2.status, 400);
    assert.match(await r2.text(), /are not in the snapshot/);
    // Nothing changed: the object reads its own bytes, a copy too.
    assert.equal(await (await fetch(`${g.url}/storage/v1/b/bkt/o/a.txt?alt=media`)).text(), 'hello');
    assert.equal((await call(g.url, 'POST', '/storage/v1/b/bkt/o/a.txt/copyTo/b/bkt/o/b.txt', {})).status, 200);
    assert.equal(await (await fetch(`${g.url}/storage/v1/b/bkt/o/b.txt?alt=media`)).text(), 'hello');
    // The export still carries only the object's own bytes.
    const again = await (await fetch(`${g.url}/gantry/v1/snapshot`)).text();
    assert.ok(!again.includes(Buffer.from('root:').toString('base64').slice(0, 6)));
  } finally {
    await g.close();
  }
});

test('--import refuses a snapshot whose object names a host file', async () => {
  const g = await startTestGantry();
  const dir = tempDir();
  try {
    const { snapshot, objectLine } = await withObject(g);
    snapshot[objectLine] = pointAt(snapshot[objectLine], '/etc/passwd');
    writeFileSync(join(dir, 'in.ndjson'), snapshot.join('\n'));
  } finally {
    await g.close();
  }
  const started = await spawnGantry(['--ephemeral', '--log-level', 'silent', '--import', join(dir, 'in.ndjson')]).then(c => c, (e: Error) => e);
  if (!(started instanceof Error)) await started.kill('SIGKILL');
  assert.ok(started instanceof Error, 'Gantry refused to start');
  assert.match(started.message, /Snapshot line \d+: .*gantryBlob/);
});

/** Hostile lines after a valid header: each a 400 naming line 2, and nothing stored. */
const HOSTILE: [string, string][] = [
  ['null', 'null'], ['a number', '42'], ['a string', '"x"'], ['an array', '[1]'], ['true', 'true'],
  ['a null resource', '{"resource":null}'], ['a resource that is a number', '{"resource":7}'], ['a null log', '{"log":null}'],
  ['a null meta', '{"meta":null}'], ['a meta without key', '{"meta":{"value":"p"}}'], ['a null blob', '{"blob":null}'],
  ['a blob with a path id', '{"blob":{"id":"../../x","data":""}}'], ['two kinds on one line', '{"log":{},"meta":{}}'],
  ['deep nesting', '['.repeat(100_000) + ']'.repeat(100_000)],
  // Its controller would write it back under data.name (found by the snapshot fuzz test: a row named "undefined").
  ['a job run whose data lacks its name', `{"resource":{"name":"${LOC}/deliveryPipelines/p/releases/r/rollouts/ro/jobRuns/j","kind":"jobRun","parent":"${LOC}/deliveryPipelines/p/releases/r/rollouts/ro","createTime":"2024-01-01T00:00:00Z","data":{}}}`],
  ['deep data', `{"resource":{"name":"${LOC}/targets/t","kind":"target","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":${'{"a":'.repeat(200)}1${'}'.repeat(200)}}}`],
  ['an unknown kind', `{"resource":{"name":"${LOC}/things/t","kind":"thing","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{}}}`],
  ['a dot-dot name', `{"resource":{"name":"projects/${P}/locations/../targets/t","kind":"target","parent":"projects/${P}/locations/..","createTime":"2024-01-01T00:00:00Z","data":{}}}`],
  ['a control character in a name', `{"resource":{"name":"${LOC}/targets/a\\u0000b","kind":"target","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{}}}`],
  ['a parent in another project', `{"resource":{"name":"${LOC}/targets/t","kind":"target","parent":"projects/other/locations/us-central1","createTime":"2024-01-01T00:00:00Z","data":{}}}`],
  ['a createTime that is no time', `{"resource":{"name":"${LOC}/targets/t","kind":"target","parent":"${LOC}","createTime":"yesterday","data":{}}}`],
  ['data that is an array', `{"resource":{"name":"${LOC}/targets/t","kind":"target","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":[]}}`],
  ['data naming another resource', `{"resource":{"name":"${LOC}/targets/t","kind":"target","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{"name":"${LOC}/targets/u"}}}`],
  ['data that does not fit its API message', `{"resource":{"name":"${LOC}/targets/t","kind":"target","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{"name":"${LOC}/targets/t","labels":[1],"requireApproval":"yes"}}}`],
  ['a Run job whose status is an array', `{"resource":{"name":"${LOC}/jobs/j","kind":"run.job","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{"status":[]}}}`],
  ['a Run job whose metadata is null', `{"resource":{"name":"${LOC}/jobs/j","kind":"run.job","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{"metadata":null}}}`],
  ['a Run job with a null condition', `{"resource":{"name":"${LOC}/jobs/j","kind":"run.job","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{"status":{"conditions":[null]}}}}`],
  ['a Run job without metadata', `{"resource":{"name":"${LOC}/jobs/j","kind":"run.job","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{"spec":{}}}}`],
  ['a Run operation whose target is no string', `{"resource":{"name":"${LOC}/operations/o","kind":"run.operation","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{"name":"${LOC}/operations/o","verb":"create","kind":"job","target":7,"id":"j","job":"j"}}}`],
  ['a secret version whose payload is no string', `{"resource":{"name":"projects/${P}/secrets/s/versions/1","kind":"sm.version","parent":"projects/${P}/secrets/s","createTime":"2024-01-01T00:00:00Z","data":{"name":"projects/${P}/secrets/s/versions/1","data":{"x":1}}}}`],
  ['a log of another project', `{"log":{"project":"${P}","timestamp":"2024-01-01T00:00:00Z","log":"projects/other/logs/x","data":{}}}`],
  ['meta that is not a project number', '{"meta":{"key":"clock.state","value":"x"}}'],
  ['an IAM policy under a dot-dot name', `{"meta":{"key":"iam:projects/${P}/locations/../targets/t","value":"{}"}}`],
  ['an IAM policy outside any project', '{"meta":{"key":"iam:../../etc/passwd","value":"{}"}}'],
  ['an IAM policy with a NUL in its name', `{"meta":{"key":"iam:projects/${P}/secrets/a\\u0000b","value":"{}"}}`],
  ['an IAM policy that is not JSON', `{"meta":{"key":"iam:projects/${P}/secrets/s","value":"{"}}`],
  ['an IAM policy that is an array', `{"meta":{"key":"iam:projects/${P}/secrets/s","value":"[]"}}`],
  ['an IAM policy whose bindings are not bindings', `{"meta":{"key":"iam:projects/${P}/secrets/s","value":"{\\"bindings\\":[{\\"role\\":1}]}"}}`],
  ['a huge IAM policy', `{"meta":{"key":"iam:projects/${P}/secrets/s","value":"{\\"etag\\":\\"${'A'.repeat(2_000_000)}\\"}"}}`],
];

test('hostile snapshot lines are 400s naming the line; nothing is stored and later reads answer', async () => {
  const g = await startTestGantry();
  try {
    assert.equal((await call(g.url, 'POST', `/v1/${LOC}/targets?targetId=keep`, { run: { location: LOC } })).status, 200);
    const header = JSON.stringify({ snapshot: { format: 1, gantry: 'x', exportedAt: '2024-01-01T00:00:00Z' } });
    const target = `{"resource":{"name":"${LOC}/targets/t","kind":"target","parent":"${LOC}","createTime":"2024-01-01T00:00:00Z","data":{"name":"${LOC}/targets/t"}}}`;
    for (const [what, line] of HOSTILE) {
      const r = await importSnapshot(g.url, `${header}\n${target}\n${line}\n`);
      const text = await r.text();
      assert.equal(r.status, 400, `${what}: ${text.slice(0, 300)}`);
      assert.match(text, /Snapshot line 3: /, what);
      assert.equal((await call(g.url, 'GET', `/v1/${LOC}/targets/keep`)).status, 200, `${what}: nothing changed`);
      assert.equal((await call(g.url, 'GET', `/v1/${LOC}/targets/t`)).status, 404, `${what}: nothing stored`);
    }
    const first = await importSnapshot(g.url, 'null\n');
    assert.equal(first.status, 400);
    assert.match(await first.text(), /Snapshot line 1: /);
  } finally {
    await g.close();
  }
});

test('every kind Gantry stores survives a snapshot round trip (App Hosting, Developer Connect, IAM, Firebase included)', async () => {
  const g = await startTestGantry({ clock: 'virtual' });
  try {
    const c = async (m: string, p: string, b?: unknown) => { const r = await call(g.url, m, p, b); assert.equal(r.status, 200, `${m} ${p}: ${r.text}`); return r.json; };
    const repo = makeRepo(appFiles('snap'));
    await c('POST', `/v1/${LOC}/connections?connectionId=c`, { gitlabConfig: {} });
    await c('POST', `/v1/${LOC}/connections/c/gitRepositoryLinks?gitRepositoryLinkId=r`, { cloneUri: repo });
    await c('POST', `/v1beta/${LOC}/backends?backendId=web`, { servingLocality: 'GLOBAL_ACCESS', serviceAccount: `runner@${P}.iam.gserviceaccount.com`, codebase: { repository: `${LOC}/connections/c/gitRepositoryLinks/r` } });
    await c('POST', `/v1beta/${LOC}/backends/web/builds?buildId=b1`, { source: { codebase: { branch: 'main' } } });
    await c('POST', '/gantry/v1/clock:advance', { duration: '10s' });
    await c('POST', `/v1beta/${LOC}/backends/web/rollouts?rolloutId=r1`, { build: `${LOC}/backends/web/builds/b1` });
    await c('POST', '/gantry/v1/clock:advance', { duration: '10s' });
    await c('POST', `/v1/projects/${P}/serviceAccounts`, { accountId: 'runner-sa' });
    await c('POST', `/v1beta1/projects/${P}/webApps`, { displayName: 'web' });
    const snapshot = await (await fetch(`${g.url}/gantry/v1/snapshot`)).text();
    const kinds = new Set(snapshot.split('\n').filter(l => l.startsWith('{"resource"')).map(l => (JSON.parse(l) as { resource: { kind: string } }).resource.kind));
    for (const k of ['apphosting.backend', 'apphosting.build', 'apphosting.rollout', 'apphosting.traffic', 'devconnect.connection', 'devconnect.gitRepositoryLink', 'iam.serviceAccount', 'firebase.webApp', 'firebase.operation']) {
      assert.ok(kinds.has(k), `the state holds a ${k}`);
    }
    const r = await importSnapshot(g.url, snapshot);
    assert.equal(r.status, 200, await r.text());
    assert.equal((await c('GET', `/v1beta/${LOC}/backends/web/builds/b1`)).state, 'READY');
  } finally {
    await g.close();
  }
});

test('what the APIs take a snapshot carries back: a project or log id no snapshot could hold is refused when it is written', async () => {
  const g = await startTestGantry();
  try {
    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: 't', expiry_date: Date.now() + 3600_000 });
    const deploy = google.clouddeploy({ version: 'v1', rootUrl: g.url + '/', auth });
    const sm = google.secretmanager({ version: 'v1', rootUrl: g.url + '/', auth });
    const logging = google.logging({ version: 'v2', rootUrl: g.url + '/', auth });
    const refused = async (p: Promise<unknown>, what: RegExp) => {
      const e = await googleError(p);
      assert.equal(e.status, 'INVALID_ARGUMENT');
      assert.match(e.message, what);
    };
    await refused(deploy.projects.locations.targets.create({ parent: 'projects/My_Project/locations/us-central1', targetId: 't1', requestBody: { run: { location: 'projects/My_Project/locations/us-central1' } } }), /Invalid project "My_Project"/);
    await refused(sm.projects.secrets.create({ parent: 'projects/-', secretId: 's1', requestBody: { replication: { automatic: {} } } }), /Invalid project "-"/);
    await refused(logging.entries.write({ requestBody: { entries: [{ logName: `projects/${P}/logs/a\u0001b`, resource: { type: 'global' }, textPayload: 'x' }] } }), /log_name/);
    await refused(logging.entries.write({ requestBody: { entries: [{ logName: 'projects/P_Q/logs/a', resource: { type: 'global' }, textPayload: 'x' }] } }), /log_name/);
    // A project by number, or by a domain-scoped id, is still a name a client may use; a list across projects (`-`)
    // gets the list's own answer.
    assert.equal((await call(g.url, 'GET', '/v1/projects/123456789012/locations/us-central1/targets')).status, 200);
    assert.equal((await call(g.url, 'GET', '/v1/projects/example.com:legacy/locations/us-central1/targets')).status, 200);
    const across = await call(g.url, 'GET', '/v1/projects/-/locations/us-central1/targets');
    assert.match(across.json.error?.message ?? '', /a project cannot be the wildcard/);
    // What was taken comes back whole from its own snapshot.
    await deploy.projects.locations.targets.create({ parent: LOC, targetId: 't1', requestBody: { run: { location: LOC } } });
    await sm.projects.secrets.create({ parent: `projects/${P}`, secretId: 's1', requestBody: { replication: { automatic: {} } } });
    await logging.entries.write({ requestBody: { entries: [{ logName: `projects/${P}/logs/a%2Fb.c-d_e`, resource: { type: 'global' }, textPayload: 'x' }] } });
    const snapshot = await (await fetch(`${g.url}/gantry/v1/snapshot`)).text();
    const back = await importSnapshot(g.url, snapshot);
    assert.equal(back.status, 200, await back.text());
  } finally {
    await g.close();
  }
});
