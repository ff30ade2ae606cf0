// Gantry's Cloud Storage subset through the official clients: @google-cloud/storage (resumable and
// simple uploads) and googleapis (buckets, media uploads, listing, download, delete), with errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { Storage } from '@google-cloud/storage';
import { google, type storage_v1 } from 'googleapis';
import { startTestGantry } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';

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
