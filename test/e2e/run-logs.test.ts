// Cloud Run task output as Cloud Logging entries: `gcloud run jobs logs read`, `gcloud run jobs executions logs read`
// and `gcloud logging read` show them, the execution's logUri serves the same lines, googleapis `logging` pages them;
// structured JSON lines keep their severity; bad filters are 400s.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { google, type logging_v2 } from 'googleapis';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let gcloud: Gcloud;
let logging: logging_v2.Logging;
let execution = '';

before(async () => {
  g = await startTestGantry({ executor: 'process' });
  gcloud = await gcloudFor(g.url, 'log-proj', { run: true });
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 't', expiry_date: Date.now() + 3600_000 });
  logging = google.logging({ version: 'v2', rootUrl: g.url + '/', auth });
  await gcloud(['run', 'jobs', 'create', 'chatty', '--image', 'busybox', '--command', 'sh', '--tasks', '3',
    '--args=-c,echo "hello from $CLOUD_RUN_TASK_INDEX"; echo "oops $CLOUD_RUN_TASK_INDEX" >&2']);
  const run = await gcloud(['run', 'jobs', 'execute', 'chatty', '--wait']);
  execution = /Execution \[(chatty-[a-z0-9]{5})\]/.exec(run.stderr)![1];
  // Structured logging in a job of its own: gcloud's run log formatter expects text payloads.
  // `^|^` makes | gcloud's list delimiter: the line holds commas.
  await gcloud(['run', 'jobs', 'create', 'structured', '--image', 'busybox', '--command', 'sh', '--tasks', '3',
    '--args=^|^-c|echo \'{"severity":"WARNING","message":"structured"}\'']);
  await gcloud(['run', 'jobs', 'execute', 'structured', '--wait']);
});
after(async () => { await g.close(); });

test('gcloud run jobs logs read and executions logs read show every task\'s lines', async () => {
  const job = (await gcloud(['run', 'jobs', 'logs', 'read', 'chatty'])).stdout;
  for (const i of [0, 1, 2]) {
    assert.match(job, new RegExp(`\\d{4}-\\d{2}-\\d{2} \\d{2}:\\d{2}:\\d{2} hello from ${i}`));
    assert.match(job, new RegExp(`oops ${i}`));
  }
  const ex = (await gcloud(['beta', 'run', 'jobs', 'executions', 'logs', 'read', execution])).stdout;
  assert.equal(ex.split('\n').filter(l => /hello from/.test(l)).length, 3);
});

test('gcloud logging read with the filters people write', async () => {
  type Entry = { textPayload?: string; jsonPayload?: { message: string }; severity: string; labels: Record<string, string>; resource: { type: string; labels: Record<string, string> } };
  const all = await gcloud.json<Entry[]>(['logging', 'read', `resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="${execution}"`, '--limit', '100']);
  assert.equal(all.length, 6);
  assert.ok(all.every(e => e.resource.labels.job_name === 'chatty' && e.resource.labels.location === 'us-central1'));
  const warnings = await gcloud.json<Entry[]>(['logging', 'read', 'resource.type=cloud_run_job severity>=WARNING', '--limit', '10']);
  assert.equal(warnings.length, 3);
  assert.ok(warnings.every(e => e.severity === 'WARNING' && e.jsonPayload?.message === 'structured'));
  const one = await gcloud.json<Entry[]>(['logging', 'read', `textPayload:"hello from 1" AND labels."run.googleapis.com/task_index"="1"`, '--limit', '10']);
  assert.deepEqual(one.map(e => e.textPayload), ['hello from 1']);
  const stderr = await gcloud.json<Entry[]>(['logging', 'read', 'logName:"run.googleapis.com%2Fstderr"', '--limit', '10', '--order', 'asc']);
  assert.equal(stderr.length, 3);
});

test('the execution\'s logUri serves the same lines; googleapis pages entries', async () => {
  const ex = await gcloud.json<{ status: { logUri: string } }>(['run', 'jobs', 'executions', 'describe', execution]);
  const text = await (await fetch(ex.status.logUri)).text();
  assert.equal(text.split('\n').filter(l => /hello from/.test(l)).length, 3);
  const task = await gcloud.json<{ status: { logUri: string } }>(['run', 'jobs', 'executions', 'tasks', 'describe', `${execution}-task2`]);
  const taskText = await (await fetch(task.status.logUri)).text();
  assert.match(taskText, /hello from 2/);
  assert.doesNotMatch(taskText, /hello from 1/);
  const seen: string[] = [];
  let pageToken: string | undefined;
  do {
    const r = (await logging.entries.list({ requestBody: { resourceNames: ['projects/log-proj'], filter: `labels."run.googleapis.com/execution_name" = ${execution}`, orderBy: 'timestamp desc', pageSize: 4, pageToken } })).data;
    for (const e of r.entries ?? []) seen.push(e.insertId!);
    pageToken = r.nextPageToken ?? undefined;
  } while (pageToken);
  assert.equal(new Set(seen).size, 6);
  // Written through entries:write, read back by the project number.
  await logging.entries.write({ requestBody: { logName: 'projects/log-proj/logs/app', resource: { type: 'global', labels: {} }, entries: [{ textPayload: 'written', severity: 'ERROR' }] } });
  const number = (await gcloud.json<{ metadata: { namespace: string } }>(['run', 'jobs', 'describe', 'chatty'])).metadata.namespace;
  const back = await eventually(async () => (await logging.entries.list({ requestBody: { resourceNames: [`projects/${number}`], filter: 'logName="projects/log-proj/logs/app"' } })).data.entries);
  assert.equal(back[0].textPayload, 'written');
});

test('bad filters and requests are 400s naming the problem', async () => {
  for (const filter of ['severity>=', '(a=b', 'a=b)', 'x=~"(a+)+$"', '('.repeat(100) + 'a=b' + ')'.repeat(100), 'a'.repeat(30_000), '"unterminated']) {
    const e = await googleError(logging.entries.list({ requestBody: { resourceNames: ['projects/log-proj'], filter } }));
    assert.equal(e.status, 'INVALID_ARGUMENT', filter.slice(0, 40));
    assert.match(e.message, /Invalid filter/);
  }
  assert.equal((await googleError(logging.entries.list({ requestBody: { resourceNames: ['folders/1'] } }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(logging.entries.list({ requestBody: { resourceNames: ['projects/p'], bogus: 1 } as never }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(logging.entries.write({ requestBody: { entries: [{ logName: 'nope', textPayload: 'x' }] } }))).status, 'INVALID_ARGUMENT');
});
