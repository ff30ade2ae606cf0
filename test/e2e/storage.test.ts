// Gantry's Cloud Storage subset through the official clients: @google-cloud/storage (resumable and
// simple uploads) and googleapis (buckets, media uploads, listing, download, delete), with errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Storage } from '@google-cloud/storage';
import { google, type storage_v1 } from 'googleapis';
import { startTestGantry } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';
import { UploadSessions, UPLOAD_SESSION_TTL_MS, type UploadSession } from '../../src/apis/storage/uploads.js';
import { VirtualClock } from '../../src/engine/clock.js';

let g: Gantry;
let gcs: Storage;
let api: storage_v1.Storage;

before(async () => {
  g = await startTestGantry();
  gcs = new Storage({ apiEndpoint: g.url, projectId: 'store-proj', useAuthWithCustomEndpoint: false });
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3600_000 });
  api = google.storage({ version: 'v1', rootUrl: g.url + '/', auth });
});
after(() => g.close());

test('@google-cloud/storage: create a bucket, resumable and simple uploads, download, list, delete', async () => {
  const [bucket] = await gcs.createBucket('gantry-store-test');
  assert.equal(bucket.name, 'gantry-store-test');
  const big = Buffer.alloc(300_000, 'x');
  await bucket.file('dir/big.bin').save(big, { resumable: true, contentType: 'application/octet-stream' });
  await bucket.file('dir/small.txt').save('hello', { resumable: false, contentType: 'text/plain' });
  const [data] = await bucket.file('dir/big.bin').download();
  assert.equal(data.length, big.length);
  assert.equal((await bucket.file('dir/small.txt').download())[0].toString(), 'hello');
  const [meta] = await bucket.file('dir/small.txt').getMetadata();
  assert.equal(meta.size, '5');
  assert.equal(meta.contentType, 'text/plain');
  const [files] = await bucket.getFiles({ prefix: 'dir/' });
  assert.deepEqual(files.map(f => f.name).sort(), ['dir/big.bin', 'dir/small.txt']);
  await bucket.file('dir/small.txt').delete();
  const [exists] = await bucket.file('dir/small.txt').exists();
  assert.equal(exists, false);
});

// googleapis builds its media-upload URL from the public host whatever rootUrl says, so uploads go
// through @google-cloud/storage here and googleapis does everything else.
test('googleapis: buckets, object metadata and download; errors for missing buckets, objects and bad names', async () => {
  await api.buckets.insert({ project: 'store-proj', requestBody: { name: 'gantry-api-test' } });
  assert.equal((await api.buckets.get({ bucket: 'gantry-api-test' })).data.name, 'gantry-api-test');
  const listed = (await api.buckets.list({ project: 'store-proj' })).data.items!.map(b => b.name);
  assert.ok(listed.includes('gantry-api-test'));
  await gcs.bucket('gantry-api-test').file('a.json').save('{"a":1}', { resumable: false, contentType: 'application/json' });
  const up = (await api.objects.get({ bucket: 'gantry-api-test', object: 'a.json' })).data;
  assert.equal(up.size, '7');
  assert.equal(up.contentType, 'application/json');
  assert.match(up.md5Hash!, /^[A-Za-z0-9+/]+=*$/);
  const got = await api.objects.get({ bucket: 'gantry-api-test', object: 'a.json', alt: 'media' }, { responseType: 'text' });
  assert.equal(got.data, '{"a":1}');
  assert.equal((await googleError(api.buckets.get({ bucket: 'no-such-bucket' }))).status, 'NOT_FOUND');
  assert.equal((await googleError(api.objects.get({ bucket: 'gantry-api-test', object: 'missing' }))).status, 'NOT_FOUND');
  assert.equal((await googleError(api.buckets.insert({ project: 'store-proj', requestBody: { name: 'Bad Name' } }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(api.buckets.insert({ project: 'store-proj', requestBody: { name: 'gantry-api-test' } }))).status, 'ALREADY_EXISTS');
  await assert.rejects(gcs.bucket('no-such-bucket').file('x').save('x', { resumable: false }), (e: { code: number }) => e.code === 404);
  const objects = (await api.objects.list({ bucket: 'gantry-api-test' })).data.items!.map(o => o.name);
  assert.deepEqual(objects, ['a.json']);
  await api.objects.delete({ bucket: 'gantry-api-test', object: 'a.json' });
  assert.equal((await api.objects.list({ bucket: 'gantry-api-test' })).data.items, undefined);
});

/** A raw request to Gantry: status and parsed JSON answer. */
async function call(method: string, path: string, body: string, headers: Record<string, string> = {}) {
  const r = await fetch(g.url + path, { method, body, headers: { 'content-type': 'application/json', ...headers } });
  const text = await r.text();
  return { status: r.status, json: (text ? JSON.parse(text) : undefined) as { error: { code: number; message: string; status: string } } };
}

test('uploads with malformed object resources are 400 INVALID_ARGUMENT in google.rpc.Status shape, never 500', async () => {
  await gcs.createBucket('gantry-bad-uploads');
  const resumable = '/upload/storage/v1/b/gantry-bad-uploads/o?uploadType=resumable';
  const bodies = ['null', '[]', '[{"name":"a"}]', '5', '"a.txt"', 'true', '{"name":5}', '{"name":{"a":1}}', '{"name":"a","contentType":7}',
    '{"name":"a","metadata":[]}', '{"name":"a","metadata":"x"}', '{"name":"a","metadata":{"k":1}}', '{"name":"\\ud800"}', '{"name":"a\\nb"}',
    `{"name":"${'n'.repeat(1025)}"}`, JSON.stringify({ name: 'a', metadata: { k: 'v'.repeat(8 * 1024) } }), '{"name":'];
  for (const b of bodies) {
    const r = await call('POST', resumable, b);
    assert.equal(r.status, 400, b);
    assert.equal(r.json.error.code, 400, b);
    assert.equal(r.json.error.status, 'INVALID_ARGUMENT', b);
    assert.equal(typeof r.json.error.message, 'string', b);
  }
  // Multipart: the same object resource, in the first part.
  const multipart = (meta: string) => `--B\r\nContent-Type: application/json\r\n\r\n${meta}\r\n--B\r\nContent-Type: text/plain\r\n\r\nhello\r\n--B--\r\n`;
  for (const meta of ['null', '[]', '5', '{"name":5}', '{"name":"a","metadata":7}', '{"name":"\\udfff"}']) {
    const r = await call('POST', '/upload/storage/v1/b/gantry-bad-uploads/o?uploadType=multipart', multipart(meta), { 'content-type': 'multipart/related; boundary=B' });
    assert.deepEqual([r.status, r.json.error.status], [400, 'INVALID_ARGUMENT'], meta);
  }
  // A media upload's name parameter follows the same rules.
  const bad = await call('POST', `/upload/storage/v1/b/gantry-bad-uploads/o?uploadType=media&name=${'n'.repeat(1025)}`, 'x', { 'content-type': 'text/plain' });
  assert.deepEqual([bad.status, bad.json.error.status], [400, 'INVALID_ARGUMENT']);
  // Well-formed ones still work, custom metadata and all.
  const ok = await call('POST', '/upload/storage/v1/b/gantry-bad-uploads/o?uploadType=multipart',
    multipart('{"name":"ok.txt","metadata":{"team":"a","gone":null}}'), { 'content-type': 'multipart/related; boundary=B' });
  assert.equal(ok.status, 200);
  const [meta] = await gcs.bucket('gantry-bad-uploads').file('ok.txt').getMetadata();
  assert.deepEqual([meta.contentType, meta.metadata], ['text/plain', { team: 'a' }]);
  assert.equal((await gcs.bucket('gantry-bad-uploads').getFiles())[0].length, 1);
});

test('a resumable session lives a week on the server clock, then answers 404 like an unknown one', async () => {
  const v = await startTestGantry({ clock: 'virtual' });
  try {
    const client = new Storage({ apiEndpoint: v.url, projectId: 'store-proj', useAuthWithCustomEndpoint: false });
    const advance = async (duration: string) => {
      const r = await fetch(v.url + '/gantry/v1/clock:advance', { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration }) });
      assert.equal(r.status, 200);
    };
    const [bucket] = await client.createBucket('gantry-sessions');
    const [early] = await bucket.file('early.txt').createResumableUpload({ metadata: { contentType: 'text/plain' } });
    const [late] = await bucket.file('late.txt').createResumableUpload({ metadata: { contentType: 'text/plain' } });
    await advance(`${UPLOAD_SESSION_TTL_MS / 1000 - 60}s`);
    // Resuming by URI: the client asks for the session's progress (308), then sends the bytes.
    await bucket.file('early.txt').save('on time', { resumable: true, uri: early });
    assert.equal((await bucket.file('early.txt').download())[0].toString(), 'on time');
    await advance('60s');
    await assert.rejects(bucket.file('late.txt').save('too late', { resumable: true, uri: late }),
      (e: { response?: { status: number; data: unknown } }) => e.response?.status === 404);
    assert.equal((await bucket.file('late.txt').exists())[0], false);
    const put = await fetch(late, { method: 'PUT', body: 'x' });
    const body = (await put.json()) as { error: { code: number; status: string; message: string } };
    assert.deepEqual([put.status, body.error.code, body.error.status], [404, 404, 'NOT_FOUND']);
    const unknown = await fetch(`${v.url}/upload/storage/v1/b/gantry-sessions/o?uploadType=resumable&upload_id=nope`, { method: 'PUT', body: 'x' });
    assert.deepEqual((await unknown.json()) as unknown, { error: { code: 404, message: 'No such upload session: nope', status: 'NOT_FOUND' } });
  } finally {
    await v.close();
  }
});

test('open upload sessions are bounded: the oldest go first, sooner when they are large', () => {
  const clock = new VirtualClock(Date.parse('2026-01-01T00:00:00Z'));
  const session = (name: string, metaChars = 0): UploadSession =>
    ({ bucket: 'b', name, contentType: 'text/plain', metadata: metaChars ? { k: 'v'.repeat(metaChars) } : {} });
  const s = new UploadSessions(clock, 3, 10_000);
  const ids = ['a', 'b', 'c', 'd'].map(n => s.start(session(n)));
  assert.equal(s.size, 3);
  assert.equal(s.take(ids[0]), undefined);
  assert.equal(s.take(ids[1])?.name, 'b');
  assert.equal(s.take(ids[1]), undefined, 'a session is one upload');
  // Under the character budget, a large session pushes out older ones before the count does.
  const big = s.start(session('big', 6_000));
  const bigger = s.start(session('bigger', 6_000));
  assert.equal(s.has(big), false);
  assert.equal(s.has(bigger), true);
  // Expired sessions are swept when others open, and refused when taken.
  clock.set(clock.now() + UPLOAD_SESSION_TTL_MS);
  assert.deepEqual([s.has(bigger), s.size], [false, 1]);
  const fresh = s.start(session('fresh'));
  assert.deepEqual([s.has(fresh), s.size], [true, 1]);
  clock.set(clock.now() + UPLOAD_SESSION_TTL_MS - 1);
  assert.equal(s.take(fresh)?.name, 'fresh');
});

test('object lists page in name order (maxResults, pageToken) instead of answering a whole bucket at once', async () => {
  const bucket = gcs.bucket('gantry-paged');
  await bucket.create();
  const names = Array.from({ length: 25 }, (_, i) => `logs/${String(24 - i).padStart(2, '0')}.txt`).concat(['other.txt']);
  for (const n of names) await bucket.file(n).save(n, { resumable: false });
  const pages: string[][] = [];
  let pageToken: string | undefined;
  do {
    const res = (await api.objects.list({ bucket: 'gantry-paged', prefix: 'logs/', maxResults: 10, pageToken })).data;
    pages.push((res.items ?? []).map(o => o.name!));
    pageToken = res.nextPageToken ?? undefined;
  } while (pageToken);
  const logs = names.filter(n => n.startsWith('logs/')).sort();
  assert.deepEqual(pages, [logs.slice(0, 10), logs.slice(10, 20), logs.slice(20)]);
  // The library follows the tokens itself.
  assert.deepEqual((await bucket.getFiles())[0].map(f => f.name), [...logs, 'other.txt']);
  assert.equal((await googleError(api.objects.list({ bucket: 'gantry-paged', maxResults: -1 }))).status, 'INVALID_ARGUMENT');
  assert.equal((await googleError(api.objects.list({ bucket: 'gantry-paged', prefix: 'x', pageToken: 'bm9wZQ' }))).status, 'INVALID_ARGUMENT');
});
