import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BlobStore, isContentAddress } from '../../../src/apis/storage/blobs.js';

test('blobs: bytes by content address; a small blob read again comes from memory, as a copy of its own', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-blobs-'));
  const b = new BlobStore(dir);
  const id = b.put(Buffer.from('manifest: yes\n'));
  assert.ok(isContentAddress(id));
  assert.equal(b.put(Buffer.from('manifest: yes\n')), id, 'the same bytes, the same address');
  const first = b.get(id);
  assert.equal(first.toString(), 'manifest: yes\n');
  // Read once: now served without the file (removed here to prove it).
  for (const f of readdirSync(dir)) rmSync(join(dir, f));
  const second = b.get(id);
  assert.equal(second.toString(), 'manifest: yes\n');
  second.fill(0);
  assert.equal(b.get(id).toString(), 'manifest: yes\n', 'a caller writing into its buffer changes nothing cached');
  // A large blob is not kept.
  const big = b.put(Buffer.alloc(100 * 1024, 1));
  b.get(big);
  for (const f of readdirSync(dir)) rmSync(join(dir, f));
  assert.throws(() => b.get(big), /ENOENT/);
  assert.throws(() => b.get('../etc/passwd'), /not a blob id/);
});
