// gcloud logging against Gantry: write (text and JSON payloads, severities), read with the filters people type
// (resource.type, labels, severity, freshness, --limit, --order, --format json), logs list.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let gcloud: Gcloud;
type Entry = { textPayload?: string; jsonPayload?: Record<string, unknown>; severity: string; logName: string; timestamp: string; insertId: string; resource: { type: string; labels: Record<string, string> } };

before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url, 'logs-proj');
  await gcloud(['config', 'set', 'api_endpoint_overrides/logging', g.url + '/']);
  await gcloud(['logging', 'write', 'app-log', 'first message']);
  await gcloud(['logging', 'write', 'app-log', 'something broke', '--severity=ERROR']);
  await gcloud(['logging', 'write', 'other-log', '{"message": "structured", "user": "ada", "count": 3}', '--payload-type=json', '--severity=WARNING']);
  // An old entry (outside gcloud's default freshness of one day), written through the API with its own timestamp.
  const old = new Date(Date.now() - 3 * 86400_000).toISOString();
  const r = await fetch(`${g.url}/v2/entries:write`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
    entries: [{ logName: 'projects/logs-proj/logs/app-log', resource: { type: 'global' }, timestamp: old, textPayload: 'ancient history', labels: { env: 'prod' } }],
  }) });
  assert.equal(r.status, 200);
});
after(async () => { await g.close(); });

test('gcloud logging write then read: newest first, with resource, severity and payloads', async () => {
  const all = await gcloud.json<Entry[]>(['logging', 'read', '']);
  assert.deepEqual(all.map(e => e.textPayload ?? e.jsonPayload?.message), ['structured', 'something broke', 'first message'], 'newest first; the old entry is outside the freshness');
  assert.ok(all.every(e => e.resource.type === 'global' && e.resource.labels.project_id === 'logs-proj' && e.insertId && e.timestamp));
  assert.equal(all[0].logName, 'projects/logs-proj/logs/other-log');
  assert.deepEqual(all[0].jsonPayload, { message: 'structured', user: 'ada', count: 3 });
  assert.deepEqual(all.map(e => e.severity), ['WARNING', 'ERROR', 'DEFAULT']);
});

test('gcloud logging read with filters, freshness, --limit and --order', async () => {
  const errors = await gcloud.json<Entry[]>(['logging', 'read', 'severity>=ERROR']);
  assert.deepEqual(errors.map(e => e.textPayload), ['something broke']);
  const warnings = await gcloud.json<Entry[]>(['logging', 'read', 'severity>=WARNING AND resource.type="global"']);
  assert.equal(warnings.length, 2);
  assert.deepEqual((await gcloud.json<Entry[]>(['logging', 'read', 'logName="projects/logs-proj/logs/app-log"', '--freshness=7d'])).map(e => e.textPayload),
    ['something broke', 'first message', 'ancient history']);
  assert.deepEqual((await gcloud.json<Entry[]>(['logging', 'read', 'labels.env=prod', '--freshness=7d'])).map(e => e.textPayload), ['ancient history']);
  assert.deepEqual((await gcloud.json<Entry[]>(['logging', 'read', 'jsonPayload.user="ada" jsonPayload.count>=3'])).map(e => e.severity), ['WARNING']);
  assert.deepEqual((await gcloud.json<Entry[]>(['logging', 'read', 'textPayload:BROKE OR textPayload:first'])).length, 2);
  // An explicit timestamp in the filter replaces the freshness; --order asc reads oldest first.
  const since = new Date(Date.now() - 5 * 86400_000).toISOString();
  const asc = await gcloud.json<Entry[]>(['logging', 'read', `timestamp>="${since}" AND log_id("app-log")`, '--order=asc']);
  assert.deepEqual(asc.map(e => e.textPayload), ['ancient history', 'first message', 'something broke']);
  const limited = await gcloud.json<Entry[]>(['logging', 'read', 'resource.type=global', '--limit=1', '--order=asc', '--freshness=7d']);
  assert.deepEqual(limited.map(e => e.textPayload), ['ancient history']);
  // The default output is YAML, one document per entry.
  const yaml = (await gcloud(['logging', 'read', 'severity=ERROR'])).stdout;
  assert.match(yaml, /textPayload: something broke/);
  assert.match(yaml, /severity: ERROR/);
});

test('gcloud logging logs list; a bad filter is gcloud\'s INVALID_ARGUMENT', async () => {
  const logs = (await gcloud(['logging', 'logs', 'list'])).stdout;
  assert.match(logs, /projects\/logs-proj\/logs\/app-log/);
  assert.match(logs, /projects\/logs-proj\/logs\/other-log/);
  const err = await gcloud.fails(['logging', 'read', 'severity>=(']);
  assert.match(err, /INVALID_ARGUMENT|Invalid filter/);
});
