// googleapis logging v2 against Gantry: entries.write and entries.list with filters, paging and orderBy; logs.list;
// bad filters, hostile sizes and unknown fields are 400 google.rpc.Status answers.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { google, type logging_v2 } from 'googleapis';
import { startTestGantry } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let logging: logging_v2.Logging;
const P = 'projects/api-proj';
const SEV = ['DEBUG', 'INFO', 'WARNING', 'ERROR'];

before(async () => {
  g = await startTestGantry();
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 't', expiry_date: Date.now() + 3600_000 });
  logging = google.logging({ version: 'v2', rootUrl: g.url + '/', auth });
  const base = Date.parse('2026-01-01T00:00:00Z');
  await logging.entries.write({ requestBody: {
    logName: `${P}/logs/worker`, resource: { type: 'cloud_run_job', labels: { job_name: 'etl', location: 'us-central1' } },
    entries: Array.from({ length: 30 }, (_, i) => ({
      timestamp: new Date(base + i * 1000).toISOString(), severity: SEV[i % 4], textPayload: `step ${i}`,
      labels: { 'run.googleapis.com/execution_name': i < 15 ? 'etl-aaaaa' : 'etl-bbbbb', 'run.googleapis.com/task_index': String(i % 3) },
    })),
  } });
  await logging.entries.write({ requestBody: { entries: [{ logName: `${P}/logs/audit`, resource: { type: 'global' }, jsonPayload: { action: 'login', user: { name: 'ada' } } }] } });
});
after(async () => { await g.close(); });

const list = async (req: logging_v2.Schema$ListLogEntriesRequest) => (await logging.entries.list({ requestBody: { resourceNames: [P], ...req } })).data;

test('entries.list filters by resource, quoted labels, severity, time and payload', async () => {
  const etl = await list({ filter: 'resource.type = "cloud_run_job" AND labels."run.googleapis.com/execution_name" = "etl-bbbbb"', pageSize: 100 });
  assert.equal(etl.entries!.length, 15);
  assert.ok(etl.entries!.every(e => Number(e.textPayload!.split(' ')[1]) >= 15));
  const errs = await list({ filter: 'severity>=ERROR resource.labels.job_name=etl', pageSize: 100 });
  assert.deepEqual(errs.entries!.map(e => e.textPayload), ['step 3', 'step 7', 'step 11', 'step 15', 'step 19', 'step 23', 'step 27']);
  const window = await list({ filter: 'timestamp>="2026-01-01T00:00:10Z" AND timestamp<"2026-01-01T00:00:13Z"' });
  assert.deepEqual(window.entries!.map(e => e.textPayload), ['step 10', 'step 11', 'step 12']);
  assert.equal(window.entries![0].timestamp, '2026-01-01T00:00:10.000000000Z');
  const nested = await list({ filter: 'jsonPayload.user.name="ada"' });
  assert.equal(nested.entries![0].jsonPayload!.action, 'login');
  assert.equal(nested.entries![0].resource!.labels!.project_id, 'api-proj');
  const grouped = await list({ filter: 'labels."run.googleapis.com/task_index"=(0 OR 2) AND -severity=DEBUG AND textPayload:"step 2"', pageSize: 100 });
  assert.deepEqual(grouped.entries!.map(e => e.textPayload), ['step 2', 'step 21', 'step 23', 'step 26', 'step 27', 'step 29']);
});

test('entries.list pages in timestamp order both ways, tokens bound to their query', async () => {
  for (const orderBy of ['timestamp asc', 'timestamp desc']) {
    const seen: string[] = [];
    let pageToken: string | undefined;
    let pages = 0;
    do {
      const r = await list({ filter: 'resource.type=cloud_run_job', orderBy, pageSize: 7, pageToken });
      seen.push(...r.entries!.map(e => e.textPayload!));
      pageToken = r.nextPageToken ?? undefined;
      pages++;
    } while (pageToken);
    const want = Array.from({ length: 30 }, (_, i) => `step ${i}`);
    assert.deepEqual(seen, orderBy.endsWith('desc') ? want.reverse() : want);
    assert.equal(pages, 5);
  }
  const first = await list({ pageSize: 2 });
  assert.equal((await googleError(list({ pageSize: 2, filter: 'severity>=ERROR', pageToken: first.nextPageToken! }))).status, 'INVALID_ARGUMENT');
  const logs = (await logging.projects.logs.list({ parent: P })).data;
  assert.deepEqual(logs.logNames, [`${P}/logs/audit`, `${P}/logs/worker`]);
});

test('bad filters, hostile sizes and unknown fields are 400 google.rpc.Status', async () => {
  for (const filter of ['severity>=', '(a=b', 'a=b)', 'x=~"(a+)+$"', '('.repeat(100) + 'a=b' + ')'.repeat(100), 'NOT '.repeat(500) + 'a', 'a'.repeat(30_000), '"unterminated']) {
    const e = await googleError(list({ filter }));
    assert.equal(e.status, 'INVALID_ARGUMENT', filter.slice(0, 40));
    assert.equal(e.code, 400);
    assert.match(e.message, /Invalid filter/);
  }
  const bad = async (p: Promise<unknown>) => assert.equal((await googleError(p)).status, 'INVALID_ARGUMENT');
  await bad(list({ orderBy: 'insertId' }));
  await bad(list({ pageSize: -1 }));
  await bad(logging.entries.list({ requestBody: { resourceNames: ['folders/1'] } }));
  await bad(logging.entries.list({ requestBody: { resourceNames: [P], bogus: 1 } as never }));
  // More resources than one list may name (40,000 had been a 500 from SQLite's bound on a statement's variables).
  await bad(logging.entries.list({ requestBody: { resourceNames: Array.from({ length: 40_000 }, (_, i) => `projects/p${i}`) } }));
  assert.ok((await list({ resourceNames: Array.from({ length: 100 }, (_, i) => `projects/p${i}`) })) !== undefined);
  await bad(logging.entries.write({ requestBody: { entries: [{ logName: 'nope', resource: { type: 'global' }, textPayload: 'x' }] } }));
  await bad(logging.entries.write({ requestBody: { entries: [{ logName: `${P}/logs/a`, resource: { type: 'global' }, textPayload: 'x'.repeat(300_000) }] } }));
  await bad(logging.entries.write({ requestBody: { entries: [{ logName: `${P}/logs/a`, resource: { type: 'global' }, severity: 'LOUD' }] } }));
  await bad(logging.entries.write({ requestBody: { entries: [{ logName: `${P}/logs/a`, resource: { type: 'global' }, timestamp: 'soon' }] } }));
  // Raw: the body is a google.rpc.Status.
  const r = await fetch(`${g.url}/v2/entries:list`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ resourceNames: [P], filter: '(((' }) });
  assert.equal(r.status, 400);
  const body = (await r.json()) as { error: { code: number; status: string; message: string } };
  assert.equal(body.error.code, 400);
  assert.equal(body.error.status, 'INVALID_ARGUMENT');
});
