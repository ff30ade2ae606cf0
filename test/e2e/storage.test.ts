// Gantry's Cloud Storage subset through the official clients: @google-cloud/storage (resumable, chunked and
// simple uploads, copy, move, combine, delimiter and glob listings) and googleapis (buckets, listing, download,
// delete), plus the raw API: listing parameters, preconditions, rewrite/copy/compose, ranges, chunked sessions,
// hostile parameters and the start-up re-keying of objects for name-order listing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Storage } from '@google-cloud/storage';
import { google, type storage_v1 } from 'googleapis';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { startTestGantry, tempDir } from '../helpers/server.js';
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
  const described = (await api.buckets.get({ bucket: 'gantry-api-test' })).data;
  assert.equal(described.name, 'gantry-api-test');
  // The owning project's number, the one Resource Manager answers for it (firebase-tools names buckets after it).
  const rm = await (await fetch(`${g.url}/v1/projects/store-proj`)).json() as { projectNumber: string };
  assert.match(rm.projectNumber, /^[1-9]\d+$/);
  assert.equal(described.projectNumber, rm.projectNumber);
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

test('an upload session keeps only the bytes it counts: a retried chunk\'s new bytes do not hold its whole request body', () => {
  const s = new UploadSessions(new VirtualClock(Date.parse('2026-01-01T00:00:00Z')));
  const id = s.start({ bucket: 'b', name: 'o', contentType: 'application/octet-stream', metadata: {} });
  // A chunk of 8 MiB, then a retry of it from byte 0 carrying one byte more: only that byte is new.
  const first = Buffer.alloc(8 * 1024 * 1024, 1);
  assert.equal(s.append(id, first), true);
  const retry = Buffer.alloc(first.length + 1, 2);
  assert.equal(s.append(id, retry.subarray(first.length)), true);
  assert.equal(s.get(id)?.received, first.length + 1);
  const bytes = s.bytes(id);
  assert.equal(bytes.length, first.length + 1);
  assert.equal(bytes.at(-1), 2);
  // A lone kept view: one session whose only chunk is a 1-byte view of a large body keeps a copy instead.
  const other = s.start({ bucket: 'b', name: 'p', contentType: 'application/octet-stream', metadata: {} });
  s.append(other, retry.subarray(retry.length - 1));
  assert.ok(s.bytes(other).buffer.byteLength < 1024 * 1024, `kept ${s.bytes(other).buffer.byteLength} bytes for 1`);
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

// ---- Copies, listing parameters, preconditions, ranges, chunked uploads, hostile input ----

/** A media upload through the raw API; the object resource. */
async function put(bucket: string, name: string, data: string | Buffer, query = ''): Promise<{ status: number; json: Record<string, unknown> }> {
  const r = await fetch(`${g.url}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(name)}${query}`,
    { method: 'POST', body: typeof data === 'string' ? data : new Uint8Array(data), headers: { 'content-type': 'text/plain' } });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
}

interface ListAnswer { items?: { name: string }[]; prefixes?: string[]; nextPageToken?: string; error?: { code: number; status: string; message: string } }
async function list(bucket: string, params: Record<string, string | number | boolean>): Promise<ListAnswer & { status: number }> {
  const qs = new URLSearchParams(Object.entries(params).map(([k, v]) => [k, String(v)]));
  const r = await fetch(`${g.url}/storage/v1/b/${bucket}/o?${qs}`);
  return { status: r.status, ...((await r.json()) as ListAnswer) };
}
const names = (a: ListAnswer) => (a.items ?? []).map(i => i.name);

test('@google-cloud/storage: copy (rewrite), move, combine, delimiter and glob listings, ranged download, chunked resumable upload, preconditions', async () => {
  const [bucket] = await gcs.createBucket('gantry-lib-copies');
  const [other] = await gcs.createBucket('gantry-lib-copies-2');
  await bucket.file('dir/a.txt').save('alpha', { resumable: false, contentType: 'text/plain', metadata: { metadata: { team: 'a' } } });
  await bucket.file('dir/b.txt').save('bravo', { resumable: false, contentType: 'text/plain' });
  await bucket.file('dir/sub/c.txt').save('charlie', { resumable: false });
  await bucket.file('top.json').save('{}', { resumable: false, contentType: 'application/json' });

  // copy is objects.rewrite: the copy keeps the source's metadata and bytes, under a new generation.
  const [copied] = await bucket.file('dir/a.txt').copy(other.file('copies/a.txt'));
  assert.equal(copied.name, 'copies/a.txt');
  const [meta] = await other.file('copies/a.txt').getMetadata();
  assert.deepEqual([meta.contentType, meta.metadata, meta.size], ['text/plain', { team: 'a' }, '5']);
  assert.equal((await other.file('copies/a.txt').download())[0].toString(), 'alpha');
  await bucket.file('dir/b.txt').move('moved/b.txt');
  assert.equal((await bucket.file('dir/b.txt').exists())[0], false);
  assert.equal((await bucket.file('moved/b.txt').download())[0].toString(), 'bravo');
  await bucket.combine(['dir/a.txt', 'moved/b.txt'], 'combined.txt');
  assert.equal((await bucket.file('combined.txt').download())[0].toString(), 'alphabravo');
  const [combined] = await bucket.file('combined.txt').getMetadata();
  assert.equal(combined.componentCount, 2);

  // Delimiter listings: objects at this level and prefixes for the levels below.
  const [files, , response] = await bucket.getFiles({ delimiter: '/', autoPaginate: false });
  assert.deepEqual(files.map(f => f.name), ['combined.txt', 'top.json']);
  assert.deepEqual((response as { prefixes: string[] }).prefixes, ['dir/', 'moved/']);
  const [dirFiles, , dirResponse] = await bucket.getFiles({ prefix: 'dir/', delimiter: '/', autoPaginate: false });
  assert.deepEqual([dirFiles.map(f => f.name), (dirResponse as { prefixes: string[] }).prefixes], [['dir/a.txt'], ['dir/sub/']]);
  // `**/` matches any directories, or none.
  assert.deepEqual((await bucket.getFiles({ matchGlob: '**/*.txt' }))[0].map(f => f.name), ['combined.txt', 'dir/a.txt', 'dir/sub/c.txt', 'moved/b.txt']);
  assert.deepEqual((await bucket.getFiles({ matchGlob: 'dir/**.txt' }))[0].map(f => f.name), ['dir/a.txt', 'dir/sub/c.txt']);
  assert.deepEqual((await bucket.getFiles({ matchGlob: '*.{txt,json}' }))[0].map(f => f.name), ['combined.txt', 'top.json']);

  // A ranged download (206), and a resumable upload in 256 KiB chunks (308 between them).
  assert.equal((await bucket.file('dir/sub/c.txt').download({ start: 1, end: 3 }))[0].toString(), 'har');
  const big = Buffer.alloc(700_000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  await new Promise<void>((resolve, reject) => {
    const w = bucket.file('chunked.bin').createWriteStream({ resumable: true, chunkSize: 256 * 1024, contentType: 'application/octet-stream' });
    w.on('error', reject).on('finish', resolve);
    w.end(big);
  });
  assert.ok((await bucket.file('chunked.bin').download())[0].equals(big));

  // ifGenerationMatch: 0 means "must not exist": Google's 412 for an existing object.
  await assert.rejects(bucket.file('top.json').save('{"x":1}', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } }), (e: { code: number }) => e.code === 412);
  await bucket.file('fresh.json').save('{}', { resumable: false, preconditionOpts: { ifGenerationMatch: 0 } });
  const [top] = await bucket.file('top.json').getMetadata();
  await bucket.file('top.json').save('{"y":2}', { resumable: false, preconditionOpts: { ifGenerationMatch: Number(top.generation) } });
  assert.equal((await bucket.file('top.json').download())[0].toString(), '{"y":2}');
});

test('objects.list: prefix, delimiter, includeTrailingDelimiter, offsets, matchGlob, UTF-8 byte order, paging across prefixes, partial responses', async () => {
  await gcs.createBucket('gantry-listing');
  const all = ['a/1', 'a/2', 'a/b/3', 'a/', 'b', 'c/x/y', 'd.txt', 'e\uFFFD', 'e\u{1F600}', 'z'];
  for (const n of all) assert.equal((await put('gantry-listing', n, n)).status, 200, n);
  // Byte order: U+FFFD (EF BF BD) sorts before U+1F600 (F0 9F 98 80), unlike UTF-16 order.
  assert.deepEqual(names(await list('gantry-listing', {})), ['a/', 'a/1', 'a/2', 'a/b/3', 'b', 'c/x/y', 'd.txt', 'e\uFFFD', 'e\u{1F600}', 'z']);
  const top = await list('gantry-listing', { delimiter: '/' });
  assert.deepEqual([names(top), top.prefixes], [['b', 'd.txt', 'e\uFFFD', 'e\u{1F600}', 'z'], ['a/', 'c/']]);
  const underA = await list('gantry-listing', { delimiter: '/', prefix: 'a/' });
  assert.deepEqual([names(underA), underA.prefixes], [['a/', 'a/1', 'a/2'], ['a/b/']]);
  const trailing = await list('gantry-listing', { delimiter: '/', includeTrailingDelimiter: true });
  assert.deepEqual([names(trailing), trailing.prefixes], [['a/', 'b', 'd.txt', 'e\uFFFD', 'e\u{1F600}', 'z'], ['a/', 'c/']]);
  // gcloud asks with a prefix that is not a directory yet: prefix=a, delimiter=/ → the prefix a/.
  assert.deepEqual((await list('gantry-listing', { delimiter: '/', prefix: 'a' })).prefixes, ['a/']);
  assert.deepEqual(names(await list('gantry-listing', { startOffset: 'b', endOffset: 'e' })), ['b', 'c/x/y', 'd.txt']);
  assert.deepEqual(names(await list('gantry-listing', { startOffset: 'a/2', prefix: 'a/' })), ['a/2', 'a/b/3']);
  assert.deepEqual(names(await list('gantry-listing', { matchGlob: 'a/**' })), ['a/', 'a/1', 'a/2', 'a/b/3']);
  assert.deepEqual(names(await list('gantry-listing', { matchGlob: 'a/*' })), ['a/', 'a/1', 'a/2']);
  assert.deepEqual(names(await list('gantry-listing', { matchGlob: '**/{3,y}' })), ['a/b/3', 'c/x/y']);
  assert.deepEqual(names(await list('gantry-listing', { matchGlob: '[!a-c]*' })), ['d.txt', 'e\uFFFD', 'e\u{1F600}', 'z']);
  // One entry per page, prefixes included, every page bound to its query.
  const seen: string[] = [];
  let pageToken: string | undefined;
  let pages = 0;
  do {
    const page = await list('gantry-listing', { delimiter: '/', maxResults: 1, ...(pageToken ? { pageToken } : {}) });
    assert.equal(page.status, 200);
    seen.push(...names(page), ...(page.prefixes ?? []));
    pageToken = page.nextPageToken;
    pages++;
  } while (pageToken && pages < 20);
  assert.deepEqual(seen, ['a/', 'b', 'c/', 'd.txt', 'e\uFFFD', 'e\u{1F600}', 'z']);
  const first = await list('gantry-listing', { delimiter: '/', maxResults: 1 });
  assert.equal((await list('gantry-listing', { maxResults: 1, pageToken: first.nextPageToken! })).error?.status, 'INVALID_ARGUMENT');
  // Partial responses, as gcloud asks for them.
  const r = await fetch(`${g.url}/storage/v1/b/gantry-listing/o?delimiter=/&fields=${encodeURIComponent('prefixes,items/name,items/size,nextPageToken')}`);
  const partial = (await r.json()) as { items: Record<string, unknown>[]; prefixes: string[]; kind?: string };
  assert.equal(partial.kind, undefined);
  assert.deepEqual(partial.items[0], { name: 'b', size: '1' });
  assert.deepEqual(partial.prefixes, ['a/', 'c/']);
  const one = await fetch(`${g.url}/storage/v1/b/gantry-listing/o/b?fields=bucket,name,size,generation`);
  assert.deepEqual(Object.keys((await one.json()) as object).sort(), ['bucket', 'generation', 'name', 'size']);
  const nested = await fetch(`${g.url}/storage/v1/b/gantry-listing/o?maxResults=1&fields=items(name,bucket)`);
  assert.deepEqual(await nested.json(), { items: [{ name: 'a/', bucket: 'gantry-listing' }] });
});

test('preconditions: 412 on writes, 304 on reads, metagenerations on patch; generations that are gone are 404', async () => {
  await gcs.createBucket('gantry-preconditions');
  const first = (await put('gantry-preconditions', 'o.txt', 'one')).json;
  const gen = String(first.generation);
  const cond = async (method: string, path: string, body?: string) => {
    const r = await fetch(g.url + path, { method, body, headers: body ? { 'content-type': 'application/json' } : {} });
    return { status: r.status, text: await r.text() };
  };
  const exists = await put('gantry-preconditions', 'o.txt', 'two', '&ifGenerationMatch=0');
  assert.equal(exists.status, 412);
  assert.deepEqual([(exists.json.error as { code: number }).code, (exists.json.error as { message: string }).message], [412, 'At least one of the pre-conditions you specified did not hold.']);
  assert.equal((await put('gantry-preconditions', 'o.txt', 'two', '&ifGenerationMatch=12345')).status, 412);
  assert.equal((await put('gantry-preconditions', 'new.txt', 'x', '&ifGenerationMatch=12345')).status, 412);
  assert.equal((await put('gantry-preconditions', 'o.txt', 'two', '&ifGenerationNotMatch=' + gen)).status, 412);
  const second = await put('gantry-preconditions', 'o.txt', 'two', '&ifGenerationMatch=' + gen);
  assert.equal(second.status, 200);
  const gen2 = String(second.json.generation);
  assert.ok(BigInt(gen2) > BigInt(gen));
  // Reads: NotMatch that fails is 304 Not Modified; Match that fails is 412; an old generation is gone.
  assert.equal((await cond('GET', `/storage/v1/b/gantry-preconditions/o/o.txt?ifGenerationNotMatch=${gen2}`)).status, 304);
  assert.equal((await cond('GET', `/storage/v1/b/gantry-preconditions/o/o.txt?ifGenerationMatch=${gen}`)).status, 412);
  assert.equal((await cond('GET', `/storage/v1/b/gantry-preconditions/o/o.txt?alt=media&ifGenerationMatch=${gen2}`)).text, 'two');
  assert.equal((await cond('GET', `/storage/v1/b/gantry-preconditions/o/o.txt?generation=${gen}`)).status, 404);
  // Patch: metadata merges (null removes a key), the metageneration counts up, the generation stays.
  const p1 = await cond('PATCH', '/storage/v1/b/gantry-preconditions/o/o.txt?ifMetagenerationMatch=1', '{"metadata":{"a":"1","b":"2"},"contentType":"text/x-one"}');
  assert.equal(p1.status, 200, p1.text);
  assert.equal((await cond('PATCH', '/storage/v1/b/gantry-preconditions/o/o.txt?ifMetagenerationMatch=1', '{"metadata":{"a":"3"}}')).status, 412);
  const p2 = JSON.parse((await cond('PATCH', '/storage/v1/b/gantry-preconditions/o/o.txt?ifMetagenerationMatch=2', '{"metadata":{"a":null,"c":"3"}}')).text) as Record<string, unknown>;
  assert.deepEqual([p2.metadata, p2.metageneration, p2.generation, p2.contentType], [{ b: '2', c: '3' }, '3', gen2, 'text/x-one']);
  // Copies check the source's preconditions and the destination's.
  const rw = (q: string) => cond('POST', `/storage/v1/b/gantry-preconditions/o/o.txt/rewriteTo/b/gantry-preconditions/o/o2.txt?${q}`, '{}');
  assert.equal((await rw('ifSourceGenerationMatch=1')).status, 412);
  assert.equal((await rw('ifSourceMetagenerationMatch=3&ifGenerationMatch=0')).status, 200);
  assert.equal((await rw('ifGenerationMatch=0')).status, 412);
  // Deletes.
  assert.equal((await cond('DELETE', '/storage/v1/b/gantry-preconditions/o/o.txt?ifGenerationMatch=1')).status, 412);
  assert.equal((await cond('DELETE', `/storage/v1/b/gantry-preconditions/o/o.txt?ifGenerationMatch=${gen2}`)).status, 204);
  assert.equal((await cond('DELETE', '/storage/v1/b/gantry-preconditions/o/o.txt')).status, 404);
});

test('rewrite answers in one call (done, totalBytesRewritten, objectSize, resource); copyTo and compose; ranged downloads', async () => {
  await gcs.createBucket('gantry-rewrite');
  await put('gantry-rewrite', 'src/a b.txt', 'hello world');
  const post = async (path: string, body = '{}') => {
    const r = await fetch(g.url + path, { method: 'POST', body, headers: { 'content-type': 'application/json' } });
    return { status: r.status, json: (await r.json()) as Record<string, unknown> & { error?: { status: string } } };
  };
  const rw = await post(`/storage/v1/b/gantry-rewrite/o/${encodeURIComponent('src/a b.txt')}/rewriteTo/b/gantry-rewrite/o/dst%2Fcopy.txt?maxBytesRewrittenPerCall=1048576&rewriteToken=`);
  assert.equal(rw.status, 200);
  assert.deepEqual([rw.json.kind, rw.json.done, rw.json.totalBytesRewritten, rw.json.objectSize], ['storage#rewriteResponse', true, '11', '11']);
  assert.equal((rw.json.resource as { name: string }).name, 'dst/copy.txt');
  assert.equal(rw.json.rewriteToken, undefined);
  // A body carrying metadata replaces the source's.
  const cp = await post(`/storage/v1/b/gantry-rewrite/o/dst%2Fcopy.txt/copyTo/b/gantry-rewrite/o/dst%2Fcopy2.txt`, '{"contentType":"text/x-copy","metadata":{"k":"v"}}');
  assert.deepEqual([cp.status, cp.json.contentType, cp.json.metadata, cp.json.size], [200, 'text/x-copy', { k: 'v' }, '11']);
  const composed = await post('/storage/v1/b/gantry-rewrite/o/joined.txt/compose', JSON.stringify({
    sourceObjects: [{ name: 'dst/copy.txt' }, { name: 'dst/copy2.txt', objectPreconditions: { ifGenerationMatch: cp.json.generation } }],
    destination: { contentType: 'text/plain' },
  }));
  assert.deepEqual([composed.status, composed.json.size, composed.json.componentCount, composed.json.md5Hash], [200, '22', 2, undefined]);
  assert.equal((await post('/storage/v1/b/gantry-rewrite/o/missing/rewriteTo/b/gantry-rewrite/o/x')).status, 404);
  assert.equal((await post('/storage/v1/b/gantry-rewrite/o/joined.txt/rewriteTo/b/no-such-bucket/o/x')).status, 404);
  assert.equal((await post('/storage/v1/b/gantry-rewrite/o/joined.txt/compose', '{"sourceObjects":[{"name":"missing"}]}')).status, 404);

  const get = (range: string) => fetch(`${g.url}/download/storage/v1/b/gantry-rewrite/o/joined.txt?alt=media`, { headers: { range } });
  const r1 = await get('bytes=6-10');
  assert.deepEqual([r1.status, r1.headers.get('content-range'), await r1.text()], [206, 'bytes 6-10/22', 'world']);
  const r2 = await get('bytes=-5');
  assert.deepEqual([r2.status, await r2.text()], [206, 'world']);
  const r3 = await get('bytes=20-999999999999999999999999');
  assert.deepEqual([r3.status, await r3.text()], [206, 'ld']);
  const r4 = await get('bytes=22-');
  assert.deepEqual([r4.status, r4.headers.get('content-range'), ((await r4.json()) as { error: { code: number } }).error.code], [416, 'bytes */22', 416]);
  const r5 = await get('bytes=5-2');
  assert.deepEqual([r5.status, (await r5.text()).length], [200, 22]);
  const r6 = await get('bytes=999999999999999999999999-');
  assert.equal(r6.status, 416);
  await r6.body?.cancel();
});

test('resumable uploads in chunks: 308 with Range between them, a retried chunk is skipped, a gap is refused, a repeated final answers the object', async () => {
  await gcs.createBucket('gantry-chunks');
  const open = await fetch(`${g.url}/upload/storage/v1/b/gantry-chunks/o?uploadType=resumable`, {
    method: 'POST', body: JSON.stringify({ name: 'chunked.txt', contentType: 'text/plain', metadata: { a: 'b' } }), headers: { 'content-type': 'application/json' },
  });
  const session = open.headers.get('location')!;
  const chunk = (body: string, range: string) => fetch(session, { method: 'PUT', body, headers: { 'content-range': range } });
  const c1 = await chunk('01234', 'bytes 0-4/*');
  assert.deepEqual([c1.status, c1.headers.get('range')], [308, 'bytes=0-4']);
  const status = await chunk('', 'bytes */*');
  assert.deepEqual([status.status, status.headers.get('range')], [308, 'bytes=0-4']);
  const retried = await chunk('34567', 'bytes 3-7/*');
  assert.deepEqual([retried.status, retried.headers.get('range')], [308, 'bytes=0-7']);
  const gap = await chunk('x', 'bytes 20-20/*');
  assert.equal(gap.status, 400);
  const bad = await chunk('abc', 'bytes 8-20/*');
  assert.equal(bad.status, 400);
  const last = await chunk('89', 'bytes 8-9/10');
  const obj = (await last.json()) as { name: string; size: string; metadata: Record<string, string>; generation: string };
  assert.deepEqual([last.status, obj.name, obj.size, obj.metadata], [200, 'chunked.txt', '10', { a: 'b' }]);
  const again = await chunk('89', 'bytes 8-9/10');
  assert.deepEqual([again.status, ((await again.json()) as { generation: string }).generation], [200, obj.generation]);
  const got = await fetch(`${g.url}/storage/v1/b/gantry-chunks/o/chunked.txt?alt=media`);
  assert.equal(await got.text(), '0123456789');
  // A session opened with a precondition checks it again when it completes.
  const guarded = await fetch(`${g.url}/upload/storage/v1/b/gantry-chunks/o?uploadType=resumable&ifGenerationMatch=0`, {
    method: 'POST', body: JSON.stringify({ name: 'guarded.txt' }), headers: { 'content-type': 'application/json' },
  });
  await put('gantry-chunks', 'guarded.txt', 'first');
  const late = await fetch(guarded.headers.get('location')!, { method: 'PUT', body: 'second' });
  assert.equal(late.status, 412);
  await late.body?.cancel();
});

test('buckets: lists page by name within a project, delete refuses a bucket with objects, patch merges labels', async () => {
  for (const b of ['gantry-pb-c', 'gantry-pb-a', 'gantry-pb-b']) await api.buckets.insert({ project: 'paged-proj', requestBody: { name: b } });
  await api.buckets.insert({ project: 'another-proj', requestBody: { name: 'gantry-pb-other' } });
  const p1 = (await api.buckets.list({ project: 'paged-proj', maxResults: 2 })).data;
  assert.deepEqual(p1.items!.map(b => b.name), ['gantry-pb-a', 'gantry-pb-b']);
  const p2 = (await api.buckets.list({ project: 'paged-proj', maxResults: 2, pageToken: p1.nextPageToken! })).data;
  assert.deepEqual([p2.items!.map(b => b.name), p2.nextPageToken], [['gantry-pb-c'], undefined]);
  assert.deepEqual((await api.buckets.list({ project: 'paged-proj', prefix: 'gantry-pb-b' })).data.items!.map(b => b.name), ['gantry-pb-b']);
  assert.equal((await googleError(api.buckets.list({ project: 'paged-proj', maxResults: 2, pageToken: p1.nextPageToken!, prefix: 'x' }))).status, 'INVALID_ARGUMENT');
  const patched = (await api.buckets.patch({ bucket: 'gantry-pb-a', requestBody: { labels: { env: 'dev', team: 'x' } } })).data;
  assert.deepEqual([patched.labels, patched.metageneration], [{ env: 'dev', team: 'x' }, '2']);
  const merged = (await api.buckets.patch({ bucket: 'gantry-pb-a', ifMetagenerationMatch: '2', requestBody: { labels: { team: null } } as never })).data;
  assert.deepEqual(merged.labels, { env: 'dev' });
  assert.equal((await googleError(api.buckets.patch({ bucket: 'gantry-pb-a', ifMetagenerationMatch: '2', requestBody: {} }))).code, 412);
  await gcs.bucket('gantry-pb-b').file('x').save('x', { resumable: false });
  const refused = await googleError(api.buckets.delete({ bucket: 'gantry-pb-b' }));
  assert.deepEqual([refused.code, refused.message], [409, 'The bucket you tried to delete is not empty.']);
  await api.buckets.delete({ bucket: 'gantry-pb-c' });
  assert.equal((await googleError(api.buckets.get({ bucket: 'gantry-pb-c' }))).code, 404);
  const layout = await fetch(`${g.url}/storage/v1/b/gantry-pb-a/storageLayout`);
  assert.deepEqual((await layout.json()) as unknown, { kind: 'storage#storageLayout', bucket: 'gantry-pb-a', location: 'US', locationType: 'multi-region', hierarchicalNamespace: { enabled: false } });
});

test('hostile list, copy, download and upload parameters are 400s in Google\'s shape, never 5xx or slow', async () => {
  await gcs.createBucket('gantry-hostile');
  for (let i = 0; i < 200; i++) await put('gantry-hostile', `${'a'.repeat(100)}/${i}`, 'x');
  const bad: [string, string, string?, Record<string, string>?][] = [
    ['GET', '/storage/v1/b/gantry-hostile/o?maxResults=-5'],
    ['GET', '/storage/v1/b/gantry-hostile/o?maxResults=99999999999999'],
    ['GET', `/storage/v1/b/gantry-hostile/o?prefix=${'p'.repeat(1100)}`],
    ['GET', `/storage/v1/b/gantry-hostile/o?startOffset=${'s'.repeat(1100)}`],
    ['GET', `/storage/v1/b/gantry-hostile/o?delimiter=${'d'.repeat(1100)}`],
    ['GET', `/storage/v1/b/gantry-hostile/o?matchGlob=${'*'.repeat(1100)}`],
    ['GET', '/storage/v1/b/gantry-hostile/o?matchGlob=%5Babc'],
    ['GET', '/storage/v1/b/gantry-hostile/o?matchGlob=%7Ba,b'],
    ['GET', `/storage/v1/b/gantry-hostile/o?matchGlob=${'%7B'.repeat(12)}a${'%7D'.repeat(12)}`],
    ['GET', '/storage/v1/b/gantry-hostile/o?matchGlob=a&delimiter=-'],
    ['GET', '/storage/v1/b/gantry-hostile/o?pageToken=%00%01garbage'],
    ['GET', '/storage/v1/b/gantry-hostile/o?pageToken=' + Buffer.from(JSON.stringify({ h: 'x', a: [{}] })).toString('base64url')],
    ['GET', '/storage/v1/b/gantry-hostile/o?projection=everything'],
    ['GET', '/storage/v1/b/gantry-hostile/o?versions=maybe'],
    ['GET', '/storage/v1/b/gantry-hostile/o?fields=items(name'],
    ['GET', `/storage/v1/b/gantry-hostile/o?fields=${'a('.repeat(40)}`],
    ['GET', '/storage/v1/b/gantry-hostile/o/x?ifGenerationMatch=abc'],
    ['GET', '/storage/v1/b/gantry-hostile/o/x?ifGenerationMatch=99999999999999999999'],
    ['GET', '/storage/v1/b/gantry-hostile/o/x?ifMetagenerationNotMatch=-1'],
    ['DELETE', '/storage/v1/b/gantry-hostile/o/x?generation=-5'],
    ['GET', '/storage/v1/b/gantry-hostile/o/x?generation=-'],
    ['POST', '/storage/v1/b/gantry-hostile/o/x/rewriteTo/b/gantry-hostile/o/y?maxBytesRewrittenPerCall=-1048576', '{}'],
    ['POST', '/storage/v1/b/gantry-hostile/o/x/rewriteTo/b/gantry-hostile/o/y?maxBytesRewrittenPerCall=123', '{}'],
    ['POST', '/storage/v1/b/gantry-hostile/o/x/rewriteTo/b/gantry-hostile/o/y?maxBytesRewrittenPerCall=99999999999999999999999', '{}'],
    ['POST', '/storage/v1/b/gantry-hostile/o/x/rewriteTo/b/gantry-hostile/o/y', '[]'],
    ['POST', '/storage/v1/b/gantry-hostile/o/x/rewriteTo/b/gantry-hostile/o/y', '{"metadata":{"k":5}}'],
    ['POST', '/storage/v1/b/gantry-hostile/o/c/compose', '{"sourceObjects":[]}'],
    ['POST', '/storage/v1/b/gantry-hostile/o/c/compose', JSON.stringify({ sourceObjects: Array.from({ length: 33 }, (_, i) => ({ name: String(i) })) })],
    ['POST', '/storage/v1/b/gantry-hostile/o/c/compose', '{"sourceObjects":[5]}'],
    ['POST', '/storage/v1/b/gantry-hostile/o/c/compose', '{"sourceObjects":[{"name":"x","generation":"1e99"}]}'],
    ['POST', '/storage/v1/b/gantry-hostile/o/c/compose', 'null'],
    ['PATCH', '/storage/v1/b/gantry-hostile/o/x', '{"contentType":5}'],
    ['PATCH', '/storage/v1/b/gantry-hostile', '{"labels":{"Bad Key":"v"}}'],
    ['PATCH', '/storage/v1/b/gantry-hostile', '{"cors":"nope"}'],
    ['POST', '/storage/v1/b?project=p', '{"name":"goog-bucket"}'],
    ['POST', '/storage/v1/b?project=p', '{"name":"gantry-hostile-x","location":"../etc"}'],
    ['GET', '/storage/v1/b'],
    ['PUT', '/upload/storage/v1/b/gantry-hostile/o?uploadType=resumable&upload_id=nope', 'x', { 'content-range': 'bytes 5-1/10' }],
    ['POST', '/upload/storage/v1/b/gantry-hostile/o?uploadType=resumable', '{"name":"big"}', { 'x-upload-content-length': String(2 ** 40) }],
    ['POST', '/upload/storage/v1/b/gantry-hostile/o?uploadType=multipart', 'x', { 'content-type': 'multipart/related; boundary=B' }],
    ['POST', '/upload/storage/v1/b/gantry-hostile/o?uploadType=media&name=..', 'x', { 'content-type': 'text/plain' }],
  ];
  for (const [method, path, body, headers] of bad) {
    const r = await fetch(g.url + path, { method, body, headers: { 'content-type': 'application/json', ...(headers ?? {}) } });
    const text = await r.text();
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path.slice(0, 120)} → ${r.status} ${text.slice(0, 200)}`);
    const err = (JSON.parse(text) as { error: { code: number; status: string; message: string } }).error;
    assert.equal(err.code, r.status, path.slice(0, 120));
    assert.equal(typeof err.message, 'string');
    assert.equal(typeof err.status, 'string');
  }
  // Pathological globs (no backtracking) over long names answer quickly, paging on with a token when the work
  // budget of a page runs out.
  const started = Date.now();
  const glob = encodeURIComponent('*a'.repeat(400) + 'b');
  let pageToken = '';
  let pages = 0;
  let matched = 0;
  do {
    const r = await fetch(`${g.url}/storage/v1/b/gantry-hostile/o?matchGlob=${glob}${pageToken ? `&pageToken=${pageToken}` : ''}`);
    assert.equal(r.status, 200);
    const body = (await r.json()) as ListAnswer;
    matched += body.items?.length ?? 0;
    pageToken = body.nextPageToken ?? '';
    pages++;
  } while (pageToken && pages < 500);
  assert.equal(matched, 0);
  assert.equal(pageToken, '');
  assert.ok(Date.now() - started < 20_000, `took ${Date.now() - started} ms over ${pages} pages`);
  const deep = await fetch(`${g.url}/storage/v1/b/gantry-hostile/o?matchGlob=${encodeURIComponent('{'.repeat(10) + 'a,'.repeat(400) + '}'.repeat(10) + '*/**')}`);
  assert.equal(deep.status, 200);
  assert.equal(((await deep.json()) as ListAnswer).items?.length, 200);
});

test('objects written before name-keyed listing are re-keyed at start-up and list in name order', async () => {
  const dataDir = tempDir();
  const first = await startTestGantry({ dataDir });
  const client = new Storage({ apiEndpoint: first.url, projectId: 'store-proj', useAuthWithCustomEndpoint: false });
  const [bucket] = await client.createBucket('gantry-rekey');
  for (const n of ['c', 'a', 'b/1', 'b/0']) await bucket.file(n).save(n, { resumable: false });
  await first.close();
  // Rewind the store to the old layout: objects keyed by creation time, in the order they were written.
  const db = new Database(join(dataDir, 'gantry.db'));
  let t = 0;
  for (const row of db.prepare("SELECT name FROM resources WHERE kind = 'storageObject' ORDER BY rowid").all() as { name: string }[]) {
    db.prepare('UPDATE resources SET create_time = ? WHERE name = ?').run(`2026-01-01T00:00:0${t++}.000Z`, row.name);
  }
  db.prepare("DELETE FROM meta WHERE key = 'storage.objectsByName'").run();
  db.close();
  const second = await startTestGantry({ dataDir });
  try {
    const r = await fetch(`${second.url}/storage/v1/b/gantry-rekey/o?delimiter=/`);
    const body = (await r.json()) as ListAnswer;
    assert.deepEqual([names(body), body.prefixes], [['a', 'c'], ['b/']]);
    const all = (await (await fetch(`${second.url}/storage/v1/b/gantry-rekey/o?startOffset=b`)).json()) as ListAnswer;
    assert.deepEqual(names(all), ['b/0', 'b/1', 'c']);
  } finally {
    await second.close();
  }
});

test('path-style uploads (PUT /{bucket}/{object}, as firebase-tools sends its source) take media past the JSON limit', async () => {
  await gcs.createBucket('path-style');
  const big = Buffer.alloc(12 * 1024 * 1024, 7);
  const put = await fetch(`${g.url}/path-style/dir/app.zip`, { method: 'PUT', body: big, headers: { 'content-type': 'application/zip', 'x-goog-content-length-range': '0,123289600' } });
  assert.equal(put.status, 200, await put.text());
  assert.ok(put.headers.get('x-goog-generation'));
  const [meta] = await gcs.bucket('path-style').file('dir/app.zip').getMetadata();
  assert.equal(Number(meta.size), big.length);
  const outside = await fetch(`${g.url}/path-style/small.zip`, { method: 'PUT', body: 'abc', headers: { 'content-type': 'application/zip', 'x-goog-content-length-range': '10,20' } });
  assert.equal(outside.status, 400);
  // A JSON body keeps its 10 MiB limit on a PUT too.
  const json = await fetch(`${g.url}/storage/v1/b/path-style`, { method: 'PUT', body: JSON.stringify({ labels: { a: 'x'.repeat(11 * 1024 * 1024) } }), headers: { 'content-type': 'application/json' } });
  assert.equal(json.status, 400);
  assert.match(((await json.json()) as { error: { message: string } }).error.message, /exceeds the limit/);
});
