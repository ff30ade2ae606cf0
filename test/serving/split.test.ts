import { test } from 'node:test';
import assert from 'node:assert/strict';
import { pickShare } from '../../src/serving/split.js';

test('pickShare: each request lands on one target with the probability of its share', () => {
  const shares = [{ to: 'r1', percent: 25 }, { to: 'r2', percent: 75 }, { to: 'tagged-only', percent: 0 }];
  // The boundaries are exact: [0, 0.25) is r1's, [0.25, 1) r2's, a 0% share never.
  assert.equal(pickShare(shares, 0), 'r1');
  assert.equal(pickShare(shares, 0.2499), 'r1');
  assert.equal(pickShare(shares, 0.25), 'r2');
  assert.equal(pickShare(shares, 0.999999), 'r2');
  const counts: Record<string, number> = {};
  for (let i = 0; i < 20_000; i++) { const t = pickShare(shares)!; counts[t] = (counts[t] ?? 0) + 1; }
  assert.ok(Math.abs(counts.r1 / 20_000 - 0.25) < 0.03, `r1 took ${counts.r1}`);
  assert.equal(counts['tagged-only'], undefined);
  assert.equal(pickShare([]), undefined);
  assert.equal(pickShare([{ to: 'x', percent: 0 }]), undefined);
  assert.equal(pickShare([{ to: 'only', percent: 100 }], 0.5), 'only');
});
