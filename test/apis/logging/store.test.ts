// The log store's bounds: a cap on entries (oldest dropped first), a cap on entry size (a task's long line cut,
// entries:write refused), writes batched per tick and durable across a reopen, the scan budget, logs.list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { SqliteEntries } from '../../../src/apis/logging/sqlite-entries.js';
import { LogStore, MAX_ENTRIES, MAX_ENTRY_BYTES, registerLogging, type LogWriter } from '../../../src/apis/logging/index.js';
import type { RequestLogWriter } from '../../../src/apis/logging/request-logs.js';
import type { App } from '../../../src/server/app.js';
import type { BaseContext } from '../../../src/google/context.js';
import type { ApiReply, ApiRequest, MethodSpec } from '../../../src/server/api.js';
import { ApiError } from '../../../src/google/errors.js';
import { tempDir } from '../../helpers/server.js';

type Obj = Record<string, any>;

/** registerLogging on a stand-in App: its handlers are called directly. */
function logging(opts: { dataDir?: string; maxEntries?: number } = {}) {
  const routes = new Map<string, MethodSpec>();
  const closers: (() => Promise<void>)[] = [];
  const app = { route: (m: string, p: string, spec: MethodSpec) => routes.set(`${m} ${p}`, spec), onClose: (fn: () => Promise<void>) => closers.push(fn) } as unknown as App;
  let t = Date.parse('2026-11-23T10:00:00Z');
  const base = {
    clock: { timestamp: () => new Date(t++).toISOString().replace('Z', '000000Z') },
    projects: { resolve: (p: string) => p, number: (p: string) => (p === 'p' ? '123' : '456') },
  } as unknown as BaseContext;
  const writer: LogWriter & RequestLogWriter = registerLogging(app, base, { dataDir: opts.dataDir ?? tempDir(), maxEntries: opts.maxEntries });
  const call = async (key: string, req: Partial<ApiRequest>): Promise<Obj> => {
    const r = (await routes.get(key)!.handler({ method: 'POST', path: '', params: {}, query: {}, headers: {}, enumInts: false, body: undefined, ...req })) as ApiReply;
    return r.bytes ? { text: r.bytes.data.toString() } : r.body as Obj;
  };
  const list = (body: Obj) => call('POST /v2/entries:list', { body: JSON.parse(JSON.stringify({ resourceNames: ['projects/p'], pageSize: 1000, ...body })) });
  return { writer, call, list, close: () => Promise.all(closers.map(c => c())) };
}
const line = (i: number, text = `line ${i}`) => ({ logName: 'projects/p/logs/run.googleapis.com%2Fstdout', resource: { type: 'cloud_run_job', labels: { job_name: 'j' } }, textPayload: text });
const refusal = async (p: Promise<unknown>) => { try { await p; } catch (e) { assert.ok(e instanceof ApiError); return e; } assert.fail('expected a refusal'); };

test('at most maxEntries are kept, the oldest dropped first; the store is durable across a reopen', async () => {
  const dir = tempDir();
  const l = logging({ dataDir: dir, maxEntries: 100 });
  for (let i = 0; i < 1000; i++) l.writer.write([line(i)]);
  const all = (await l.list({})).entries as Obj[];
  assert.ok(all.length <= 100 && all.length >= 90, String(all.length));
  assert.equal(all[all.length - 1].textPayload, 'line 999');
  assert.ok(!all.some(e => e.textPayload === 'line 0'));
  l.writer.write([line(1000)]);
  await l.close();
  const again = logging({ dataDir: dir, maxEntries: 100 });
  const back = (await again.list({ orderBy: 'timestamp desc', pageSize: 1 })).entries as Obj[];
  assert.equal(back[0].textPayload, 'line 1000', 'buffered writes are flushed on close');
  await again.close();
});

test('writes are buffered and stored once per tick; reads see them at once', async () => {
  const store = new LogStore(new SqliteEntries(join(tempDir(), 'logs.db'), MAX_ENTRIES));
  const row = (i: number) => ({ project: 'p', number: '1', timestamp: `2026-11-23T10:00:00.${String(i).padStart(9, '0')}Z`, log: 'projects/p/logs/a', entry: { textPayload: String(i) }, json: JSON.stringify({ textPayload: String(i) }) });
  const started = Date.now();
  for (let i = 0; i < 20_000; i++) store.add([row(i)]);
  assert.equal(store.size, 20_000);
  assert.ok(Date.now() - started < 3000, `20,000 single-line writes took ${Date.now() - started} ms`);
  store.close();
});

test('an entry is at most 256 KiB: a task line is cut, entries:write refuses more', async () => {
  const l = logging();
  l.writer.write([line(0, 'x'.repeat(400_000)), line(1, 'é'.repeat(200_000)), { ...line(2), textPayload: undefined, jsonPayload: { big: 'y'.repeat(300_000) } }]);
  const got = (await l.list({})).entries as Obj[];
  assert.equal(got.length, 3);
  for (const e of got) assert.ok(Buffer.byteLength(JSON.stringify(e)) <= MAX_ENTRY_BYTES && e.textPayload.length > 100_000);
  assert.ok(!got[1].textPayload.includes('\uFFFD'));
  const e = await refusal(l.call('POST /v2/entries:write', { body: { entries: [{ ...line(3), textPayload: 'z'.repeat(300_000) }] } }));
  assert.match(e.message, /exceeds maximum size of 256\.0K/);
  await l.close();
});

test('entries:write fills ids and times, keeps given ones, validates, honours dryRun', async () => {
  const l = logging();
  await l.call('POST /v2/entries:write', { body: { logName: 'projects/p/logs/app', resource: { type: 'global' }, labels: { a: '1' }, entries: [
    { textPayload: 'one', severity: 'ERROR', labels: { b: '2' } },
    { jsonPayload: { m: 2 }, insertId: 'mine', timestamp: '2026-01-01T00:00:00+02:00', trace: 'projects/p/traces/abc' },
  ] } });
  await l.call('POST /v2/entries:write', { body: { logName: 'projects/p/logs/app', resource: { type: 'global' }, dryRun: true, entries: [{ textPayload: 'dry' }] } });
  const [old, one] = (await l.list({})).entries as Obj[];
  assert.deepEqual(one.labels, { a: '1', b: '2' });
  assert.equal(one.resource.labels.project_id, 'p');
  assert.match(one.insertId, /^[0-9a-z]{16}$/);
  assert.match(one.receiveTimestamp, /^2026-11-23T10:00:00\.\d{9}Z$/);
  assert.equal(old.insertId, 'mine');
  assert.equal(old.timestamp, '2025-12-31T22:00:00.000000000Z');
  assert.equal(old.trace, 'projects/p/traces/abc');
  for (const bad of [
    { entries: [] },
    { entries: [{ logName: 'nope', resource: { type: 'global' }, textPayload: 'x' }] },
    { entries: [{ logName: 'projects/p/logs/a', textPayload: 'x' }] },
    { entries: [{ logName: 'projects/p/logs/a', resource: { type: 'global' }, timestamp: 'yesterday' }] },
    { entries: [{ logName: 'projects/p/logs/a', resource: { type: 'global' }, severity: 'LOUD' }] },
    { entries: [{ logName: 'projects/p/logs/a', resource: { type: 'global' }, bogus: 1 }] },
  ]) await refusal(l.call('POST /v2/entries:write', { body: bad }));
  await l.close();
});

test('pages, order, page tokens bound to their query, projects by number, logs.list, the viewer', async () => {
  const l = logging();
  for (let i = 0; i < 25; i++) l.writer.write([{ ...line(i), severity: i % 5 === 0 ? 'ERROR' : 'INFO', ...(i % 2 ? { logName: 'projects/p/logs/run.googleapis.com%2Fstderr' } : {}) }]);
  l.writer.write([{ ...line(99), logName: 'projects/q/logs/other' }]);
  const seen: string[] = [];
  let pageToken: string | undefined;
  do {
    const r = await l.list({ pageSize: 4, pageToken, orderBy: 'timestamp desc' });
    seen.push(...(r.entries as Obj[]).map(e => e.textPayload));
    pageToken = r.nextPageToken;
  } while (pageToken);
  assert.deepEqual(seen, Array.from({ length: 25 }, (_, i) => `line ${24 - i}`));
  const first = await l.list({ pageSize: 2 });
  await refusal(l.list({ pageSize: 2, pageToken: first.nextPageToken, filter: 'severity>=ERROR' }));
  await refusal(l.list({ pageToken: 'garbage' }));
  await refusal(l.list({ orderBy: 'severity desc' }));
  await refusal(l.list({ resourceNames: ['organizations/1'] }));
  assert.deepEqual(((await l.list({ filter: 'severity>=ERROR' })).entries as Obj[]).map(e => e.textPayload), ['line 0', 'line 5', 'line 10', 'line 15', 'line 20']);
  assert.equal(((await l.list({ resourceNames: ['projects/456'] })).entries as Obj[])[0].textPayload, 'line 99', 'a project by its number');
  const logs = await l.call('GET /v2/projects/{project}/logs', { method: 'GET', params: { project: 'p' }, query: { pageSize: '1' } });
  assert.deepEqual(logs.logNames, ['projects/p/logs/run.googleapis.com%2Fstderr']);
  const rest = await l.call('GET /v2/projects/{project}/logs', { method: 'GET', params: { project: 'p' }, query: { pageToken: logs.nextPageToken } });
  assert.deepEqual(rest, { logNames: ['projects/p/logs/run.googleapis.com%2Fstdout'] });
  const view = await l.call('GET /gantry/v1/logs/viewer', { method: 'GET', query: { project: 'p', advancedFilter: 'severity>=ERROR' } });
  assert.match(view.text, /^2026-11-23T10:00:00\.\d{9}Z ERROR line 0\n(.+\n){3}.+ ERROR line 20\n$/);
  await l.close();
});

const served = (i: number) => ({ project: 'p', region: 'us-central1', service: 'web', revision: 'web-00001-abc', method: 'GET', url: `https://web-123.us-central1.run.app/${i}`, status: i % 10 ? 200 : 503, latencyMs: 1.5, userAgent: 'curl/8', remoteIp: '127.0.0.1' });

test('requests a service served are logged off the request path (a worker thread), as Cloud Run writes them; closing drains them', async () => {
  const dir = tempDir();
  const l = logging({ dataDir: dir });
  for (let i = 0; i < 2500; i++) l.writer.request(served(i));
  await l.close();
  const again = logging({ dataDir: dir });
  const page = (await again.list({ filter: 'logName="projects/p/logs/run.googleapis.com%2Frequests"', orderBy: 'timestamp asc' })).entries as Obj[];
  const rest = (await again.list({ filter: 'logName="projects/p/logs/run.googleapis.com%2Frequests" AND httpRequest.status=503' })).entries as Obj[];
  assert.equal(page.length, 1000);
  assert.equal(rest.length, 250);
  const first = page[0];
  assert.deepEqual(first.resource, { type: 'cloud_run_revision', labels: { project_id: 'p', service_name: 'web', revision_name: 'web-00001-abc', location: 'us-central1', configuration_name: 'web' } });
  assert.deepEqual(first.httpRequest, { requestMethod: 'GET', requestUrl: 'https://web-123.us-central1.run.app/0', status: 503, latency: '0.001500s', protocol: 'HTTP/1.1', userAgent: 'curl/8', remoteIp: '127.0.0.1' });
  assert.equal(first.severity, 'ERROR');
  assert.equal(page[1].severity, 'INFO');
  assert.equal(new Set(page.map(e => e.insertId)).size, 1000);
  assert.ok(page.every((e, i) => i === 0 || e.timestamp > page[i - 1].timestamp), 'each request keeps the time it was served');
  await again.close();
});

test('request entries stored by the worker count toward the cap: the oldest are dropped as for any entry', async () => {
  const dir = tempDir();
  const l = logging({ dataDir: dir, maxEntries: 100 });
  for (let i = 0; i < 1000; i++) l.writer.request(served(i));
  await l.close();
  const again = logging({ dataDir: dir, maxEntries: 100 });
  const all = (await again.list({})).entries as Obj[];
  assert.ok(all.length <= 100 && all.length >= 90, String(all.length));
  assert.equal((all[all.length - 1].httpRequest as Obj).requestUrl, 'https://web-123.us-central1.run.app/999');
  await again.close();
});
