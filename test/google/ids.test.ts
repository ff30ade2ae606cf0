import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hex } from '../../src/google/ids.js';

test('hex: n random lowercase hex digits, across refills of its pool and past its size', () => {
  const seen = new Set<string>();
  // 20,000 × 7 bytes: the 4 KiB pool refills about 34 times.
  for (let i = 0; i < 20_000; i++) {
    const h = hex(13);
    assert.match(h, /^[0-9a-f]{13}$/);
    seen.add(h);
  }
  assert.equal(seen.size, 20_000, 'no repeats');
  assert.match(hex(1), /^[0-9a-f]$/);
  assert.match(hex(10_000), /^[0-9a-f]{10000}$/);
});
