// Gantry's Cloud Storage through the real gcloud CLI (JSON API, `api_endpoint_overrides/storage`): buckets
// create/list/describe/update/delete; cp up, down and between objects (objects.rewrite), cat, ls in its forms
// (bucket, prefix, `**`, -r, -l), mv, rm (-r), no-clobber and generation preconditions, objects describe/list/update,
// compose; and `gcloud deploy releases create --source=gs://…`, which rewrites the source into the staging bucket.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const APP = fileURLToPath(new URL('../../../test/fixtures/app', import.meta.url));
const PIPELINE = fileURLToPath(new URL('../../../test/fixtures/clouddeploy.yaml', import.meta.url));
let g: Gantry;
let gcloud: Gcloud;
let dir: string;

before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url);
  dir = tempDir('gcs-gcloud-');
  mkdirSync(join(dir, 'tree/a/b'), { recursive: true });
  writeFileSync(join(dir, 'hello.txt'), 'hello gantry\n');
  writeFileSync(join(dir, 'tree/top.txt'), 'top\n');
  writeFileSync(join(dir, 'tree/a/one.txt'), 'one\n');
  writeFileSync(join(dir, 'tree/a/b/two.txt'), 'two\n');
  // Over gcloud's 8 MiB resumable threshold: a resumable session (POST /resumable/upload/…, then one PUT).
  writeFileSync(join(dir, 'big.bin'), Buffer.alloc(9 * 1024 * 1024 + 17, 'gantry-'));
});
after(() => g.close());

const out = async (args: string[]) => (await gcloud(args)).stdout;
const lines = (s: string) => s.split('\n').map(l => l.trim()).filter(Boolean);

interface BucketView { name: string; location: string; storage_url: string; labels?: Record<string, string> }
interface ObjectView { name: string; size: number; content_type: string; generation: string; metageneration: number; custom_fields?: Record<string, string>; md5_hash?: string; crc32c_hash: string; storage_url: string; component_count?: number }

test('buckets create, list, describe and update', async () => {
  await gcloud(['storage', 'buckets', 'create', 'gs://gantry-gcloud', '--location=us-central1']);
  await gcloud(['storage', 'buckets', 'create', 'gs://gantry-gcloud-2']);
  const listed = await gcloud.json<BucketView[]>(['storage', 'buckets', 'list']);
  assert.deepEqual(listed.map(b => b.name), ['gantry-gcloud', 'gantry-gcloud-2']);
  assert.deepEqual(lines(await out(['storage', 'ls'])), ['gs://gantry-gcloud/', 'gs://gantry-gcloud-2/']);
  const described = await gcloud.json<BucketView>(['storage', 'buckets', 'describe', 'gs://gantry-gcloud']);
  assert.equal(described.location, 'US-CENTRAL1');
  assert.equal(described.storage_url, 'gs://gantry-gcloud/');
  await gcloud(['storage', 'buckets', 'update', 'gs://gantry-gcloud', '--update-labels=team=platform']);
  assert.deepEqual((await gcloud.json<BucketView>(['storage', 'buckets', 'describe', 'gs://gantry-gcloud'])).labels, { team: 'platform' });
  assert.match(await gcloud.fails(['storage', 'buckets', 'describe', 'gs://no-such-gantry-bucket']), /gs:\/\/no-such-gantry-bucket not found: 404/);
});

test('cp uploads files (one-shot and resumable) and directories; ls lists a bucket, a prefix, ** and recursively', async () => {
  await gcloud(['storage', 'cp', join(dir, 'hello.txt'), 'gs://gantry-gcloud/hello.txt']);
  await gcloud(['storage', 'cp', join(dir, 'big.bin'), 'gs://gantry-gcloud/big.bin']);
  await gcloud(['storage', 'cp', '-r', join(dir, 'tree'), 'gs://gantry-gcloud/']);
  // A bucket listing collapses "directories" (delimiter=/ → prefixes).
  assert.deepEqual(lines(await out(['storage', 'ls', 'gs://gantry-gcloud'])),
    ['gs://gantry-gcloud/big.bin', 'gs://gantry-gcloud/hello.txt', 'gs://gantry-gcloud/tree/']);
  assert.deepEqual(lines(await out(['storage', 'ls', 'gs://gantry-gcloud/tree/'])),
    ['gs://gantry-gcloud/tree/top.txt', 'gs://gantry-gcloud/tree/a/']);
  assert.deepEqual(lines(await out(['storage', 'ls', 'gs://gantry-gcloud/**'])),
    ['gs://gantry-gcloud/big.bin', 'gs://gantry-gcloud/hello.txt', 'gs://gantry-gcloud/tree/a/b/two.txt', 'gs://gantry-gcloud/tree/a/one.txt', 'gs://gantry-gcloud/tree/top.txt']);
  assert.deepEqual(lines(await out(['storage', 'ls', 'gs://gantry-gcloud/tree/**/*.txt'])),
    ['gs://gantry-gcloud/tree/a/b/two.txt', 'gs://gantry-gcloud/tree/a/one.txt', 'gs://gantry-gcloud/tree/top.txt']);
  assert.deepEqual(lines(await out(['storage', 'ls', '-r', 'gs://gantry-gcloud/tree'])), [
    'gs://gantry-gcloud/tree/:', 'gs://gantry-gcloud/tree/top.txt',
    'gs://gantry-gcloud/tree/a/:', 'gs://gantry-gcloud/tree/a/one.txt',
    'gs://gantry-gcloud/tree/a/b/:', 'gs://gantry-gcloud/tree/a/b/two.txt',
  ]);
  const long = lines(await out(['storage', 'ls', '-l', 'gs://gantry-gcloud/*.*']));
  assert.match(long[0], /^9437201\s+\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ\s+gs:\/\/gantry-gcloud\/big\.bin$/);
  assert.match(long[1], /^13\s+\S+\s+gs:\/\/gantry-gcloud\/hello\.txt$/);
  assert.match(long[2], /^TOTAL: 2 objects, 9437214 bytes/);
});

test('cat and cp download what was uploaded (ranged GETs, hashes checked by gcloud)', async () => {
  assert.equal(await out(['storage', 'cat', 'gs://gantry-gcloud/hello.txt']), 'hello gantry\n');
  assert.equal(await out(['storage', 'cat', '-r', '6-', 'gs://gantry-gcloud/hello.txt']), 'gantry\n');
  await gcloud(['storage', 'cp', 'gs://gantry-gcloud/big.bin', join(dir, 'big.down')]);
  assert.ok(readFileSync(join(dir, 'big.down')).equals(readFileSync(join(dir, 'big.bin'))));
  mkdirSync(join(dir, 'down'));
  await gcloud(['storage', 'cp', '-r', 'gs://gantry-gcloud/tree/*', join(dir, 'down')]);
  assert.equal(readFileSync(join(dir, 'down/a/b/two.txt'), 'utf8'), 'two\n');
  assert.equal(readFileSync(join(dir, 'down/top.txt'), 'utf8'), 'top\n');
});

test('cp between objects rewrites them, in one bucket and across buckets; no-clobber and preconditions hold', async () => {
  await gcloud(['storage', 'cp', 'gs://gantry-gcloud/hello.txt', 'gs://gantry-gcloud/copies/hello.txt']);
  await gcloud(['storage', 'cp', 'gs://gantry-gcloud/big.bin', 'gs://gantry-gcloud-2/big-copy.bin']);
  assert.equal(await out(['storage', 'cat', 'gs://gantry-gcloud/copies/hello.txt']), 'hello gantry\n');
  const src = await gcloud.json<ObjectView>(['storage', 'objects', 'describe', 'gs://gantry-gcloud/big.bin']);
  const copy = await gcloud.json<ObjectView>(['storage', 'objects', 'describe', 'gs://gantry-gcloud-2/big-copy.bin']);
  assert.deepEqual([copy.size, copy.md5_hash, copy.crc32c_hash], [src.size, src.md5_hash, src.crc32c_hash]);
  assert.notEqual(copy.generation, src.generation);

  // -n: the existing object is skipped, not overwritten.
  writeFileSync(join(dir, 'other.txt'), 'other\n');
  const { stderr } = await gcloud(['storage', 'cp', '-n', join(dir, 'other.txt'), 'gs://gantry-gcloud/hello.txt']);
  assert.match(stderr, /Skipping existing destination item \(no-clobber\)/);
  assert.equal(await out(['storage', 'cat', 'gs://gantry-gcloud/hello.txt']), 'hello gantry\n');
  // A generation precondition that does not hold is Google's 412; one that holds lets the write through.
  const hello = await gcloud.json<ObjectView>(['storage', 'objects', 'describe', 'gs://gantry-gcloud/hello.txt']);
  assert.match(await gcloud.fails(['storage', 'cp', join(dir, 'other.txt'), 'gs://gantry-gcloud/hello.txt', '--if-generation-match=1']),
    /At least one of the pre-conditions you specified did not hold/);
  assert.match(await gcloud.fails(['storage', 'rm', 'gs://gantry-gcloud/hello.txt', '--if-generation-match=1']), /pre-conditions you specified did not hold/);
  await gcloud(['storage', 'cp', join(dir, 'other.txt'), 'gs://gantry-gcloud/hello.txt', `--if-generation-match=${hello.generation}`]);
  assert.equal(await out(['storage', 'cat', 'gs://gantry-gcloud/hello.txt']), 'other\n');
});

test('objects describe, list, update and compose; describing a missing object is a 404', async () => {
  const described = await gcloud.json<ObjectView>(['storage', 'objects', 'describe', 'gs://gantry-gcloud/tree/top.txt']);
  assert.equal(described.name, 'tree/top.txt');
  assert.equal(described.size, 4);
  assert.equal(described.content_type, 'text/plain');
  assert.equal(described.storage_url, `gs://gantry-gcloud/tree/top.txt#${described.generation}`);
  const listed = await gcloud.json<ObjectView[]>(['storage', 'objects', 'list', 'gs://gantry-gcloud/tree/a/**']);
  assert.deepEqual(listed.map(o => o.name), ['tree/a/b/two.txt', 'tree/a/one.txt']);
  await gcloud(['storage', 'objects', 'update', 'gs://gantry-gcloud/tree/top.txt', '--content-type=text/x-top', '--custom-metadata=k=v']);
  const updated = await gcloud.json<ObjectView>(['storage', 'objects', 'describe', 'gs://gantry-gcloud/tree/top.txt']);
  assert.deepEqual([updated.content_type, updated.custom_fields, updated.metageneration, updated.generation], ['text/x-top', { k: 'v' }, 2, described.generation]);
  await gcloud(['storage', 'objects', 'compose', 'gs://gantry-gcloud/tree/a/one.txt', 'gs://gantry-gcloud/tree/a/b/two.txt', 'gs://gantry-gcloud/composed.txt']);
  assert.equal(await out(['storage', 'cat', 'gs://gantry-gcloud/composed.txt']), 'one\ntwo\n');
  const composed = await gcloud.json<ObjectView>(['storage', 'objects', 'describe', 'gs://gantry-gcloud/composed.txt']);
  assert.deepEqual([composed.component_count, composed.md5_hash], [2, undefined]);

  assert.match(await gcloud.fails(['storage', 'objects', 'describe', 'gs://gantry-gcloud/missing.txt']), /gs:\/\/gantry-gcloud\/missing\.txt not found: 404/);
  assert.match(await gcloud.fails(['storage', 'cat', 'gs://gantry-gcloud/missing.txt']), /matched no objects/);
});

test('mv renames (rewrite, then delete); rm removes objects and, with -r, a prefix or a whole bucket', async () => {
  await gcloud(['storage', 'mv', 'gs://gantry-gcloud/copies/hello.txt', 'gs://gantry-gcloud/moved/hello.txt']);
  assert.equal(await out(['storage', 'cat', 'gs://gantry-gcloud/moved/hello.txt']), 'hello gantry\n');
  assert.match(await gcloud.fails(['storage', 'objects', 'describe', 'gs://gantry-gcloud/copies/hello.txt']), /not found: 404/);

  await gcloud(['storage', 'rm', 'gs://gantry-gcloud/composed.txt']);
  await gcloud(['storage', 'rm', '-r', 'gs://gantry-gcloud/tree']);
  assert.deepEqual(lines(await out(['storage', 'ls', 'gs://gantry-gcloud'])),
    ['gs://gantry-gcloud/big.bin', 'gs://gantry-gcloud/hello.txt', 'gs://gantry-gcloud/moved/']);
  // A bucket with objects cannot be deleted; rm -r on the bucket empties and deletes it.
  assert.match(await gcloud.fails(['storage', 'buckets', 'delete', 'gs://gantry-gcloud-2']), /Bucket is not empty/);
  await gcloud(['storage', 'rm', '-r', 'gs://gantry-gcloud-2']);
  assert.deepEqual((await gcloud.json<BucketView[]>(['storage', 'buckets', 'list'])).map(b => b.name), ['gantry-gcloud']);
});

test('gcloud deploy releases create --source=gs://… rewrites the source into the staging bucket; the release renders from it', async () => {
  const p = tempDir('gcs-release-');
  const tgz = join(p, 'src.tgz');
  execFileSync('tar', ['-czf', tgz, '-C', APP, '.']);
  await gcloud(['storage', 'cp', tgz, 'gs://gantry-gcloud/releases/src.tgz']);
  await gcloud(['deploy', 'apply', `--file=${PIPELINE}`, '--region=us-central1']);
  await gcloud(['deploy', 'releases', 'create', 'rel-gcs', '--delivery-pipeline=web', '--region=us-central1', '--source=gs://gantry-gcloud/releases/src.tgz', '--quiet']);
  const release = await eventually(async () => {
    const r = await gcloud.json<{ skaffoldConfigUri: string; renderState: string }>(['deploy', 'releases', 'describe', 'rel-gcs', '--delivery-pipeline=web', '--region=us-central1']);
    return r.renderState !== 'IN_PROGRESS' ? r : undefined;
  }, 30_000);
  // gcloud stages the source as gs://<default bucket>/source/<stamp>-<uuid>.tgz, a copy of the given object.
  const m = /^gs:\/\/([^/]+_clouddeploy)\/source\/[\d.]+-[0-9a-f]{32}\.tgz$/.exec(release.skaffoldConfigUri);
  assert.ok(m, release.skaffoldConfigUri);
  const staged = await gcloud.json<ObjectView>(['storage', 'objects', 'describe', release.skaffoldConfigUri]);
  const original = await gcloud.json<ObjectView>(['storage', 'objects', 'describe', 'gs://gantry-gcloud/releases/src.tgz']);
  assert.equal(staged.md5_hash, original.md5_hash);
  assert.equal(release.renderState, 'SUCCEEDED');
  // The staging bucket is the project's, so gcloud's ownership check passes on the next release too.
  await gcloud(['deploy', 'releases', 'create', 'rel-gcs-2', '--delivery-pipeline=web', '--region=us-central1', '--source=gs://gantry-gcloud/releases/src.tgz', '--quiet']);
  assert.ok((await gcloud.json<BucketView[]>(['storage', 'buckets', 'list'])).some(b => b.name === m[1]));
});
