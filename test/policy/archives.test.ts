// Archive unpacking within bounds: a small tar.gz that expands past the limits writes nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'tar';
import { tempDir, writeTree } from '../helpers/server.js';
import { ArchiveError, unpackArchive } from '../../src/policy/archives.js';

async function archive(files: Record<string, string | Buffer>): Promise<Buffer> {
  const dir = writeTree(tempDir('arch-src-'), files);
  const out = join(tempDir('arch-out-'), 'a.tgz');
  await create({ gzip: true, file: out, cwd: dir }, Object.keys(files));
  return readFileSync(out);
}

test('an archive within the limits unpacks', async () => {
  const dest = tempDir('arch-dest-');
  await unpackArchive(await archive({ 'skaffold.yaml': 'kind: Config\n', 'k8s/a.yaml': 'x: 1\n' }), dest);
  assert.equal(readFileSync(join(dest, 'k8s/a.yaml'), 'utf8'), 'x: 1\n');
  assert.deepEqual(readdirSync(dest).sort(), ['k8s', 'skaffold.yaml']);
});

test('an archive that expands past the byte or entry limit writes nothing', async () => {
  const big = await archive({ 'zeros.bin': Buffer.alloc(2 * 1024 * 1024) });
  assert.ok(big.length < 16 * 1024, 'compresses small');
  const dest = tempDir('arch-dest-');
  await assert.rejects(unpackArchive(big, dest, { maxBytes: 1024 * 1024, maxEntries: 100 }), (e: Error) => e instanceof ArchiveError && /more than 1 MiB/.test(e.message));
  assert.equal(existsSync(join(dest, 'zeros.bin')), false);
  const many = await archive(Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`f${i}`, 'x'])));
  await assert.rejects(unpackArchive(many, tempDir('arch-dest-'), { maxBytes: 1 << 20, maxEntries: 10 }), /more than 10 entries/);
});

test('something that is not a tar.gz is refused as such', async () => {
  await assert.rejects(unpackArchive(Buffer.from('not an archive'), tempDir('arch-dest-')), (e: Error) => e instanceof ArchiveError && /not a readable tar\.gz/.test(e.message));
});
