import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decodePageToken, encodePageToken, queryHash } from '../../src/google/paging.js';

test('page tokens round-trip; a forged cursor the store cannot bind is INVALID_ARGUMENT naming page_token', () => {
  // The hash is public (it is over the query), so anyone can mint a token for a query.
  const hash = queryHash('rollout', 'projects/p/locations/l/deliveryPipelines/d/releases/-', undefined, 'deployEndTime desc');
  assert.deepEqual(decodePageToken(encodePageToken(hash, ['2026-01-01T00:00:00Z', 3, null, 'name']), hash), ['2026-01-01T00:00:00Z', 3, null, 'name']);
  const mint = (cursor: string) => Buffer.from(`{"h":"${hash}","a":${cursor}}`).toString('base64url');
  for (const cursor of ['[{}]', '[["x"]]', '[true]', '[1e400]', JSON.stringify(Array(65).fill('x'))]) {
    assert.throws(() => decodePageToken(mint(cursor), hash),
      (e: { code: string; details: { fieldViolations: { field: string }[] }[] }) => e.code === 'INVALID_ARGUMENT' && e.details[0].fieldViolations[0].field === 'page_token',
      cursor);
  }
  assert.throws(() => decodePageToken(encodePageToken('other', ['x']), hash), /page token/);
});
