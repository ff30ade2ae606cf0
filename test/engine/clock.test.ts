import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock, RealClock } from '../../src/engine/clock.js';

test('virtual timers fire in time order, each seeing its own due time', () => {
  const c = new VirtualClock(1_000);
  const seen: [string, number][] = [];
  c.at(5_000, () => seen.push(['b', c.now()]));
  c.at(2_000, () => seen.push(['a', c.now()]));
  const cancelled = c.at(3_000, () => seen.push(['x', c.now()]));
  cancelled.cancel();
  c.advance(3_000);
  assert.deepEqual(seen, [['a', 2_000]]);
  c.advance(10_000);
  assert.deepEqual(seen, [['a', 2_000], ['b', 5_000]]);
  assert.equal(c.now(), 14_000);
  assert.throws(() => c.advance(-1));
});

test('timestamps are RFC 3339 with nanoseconds and strictly increasing', () => {
  for (const c of [new RealClock(), new VirtualClock(0)]) {
    const a = c.timestamp(), b = c.timestamp();
    assert.match(a, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$/);
    assert.ok(b > a);
  }
});
