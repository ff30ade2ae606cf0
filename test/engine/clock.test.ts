import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VirtualClock, RealClock, SwitchableClock } from '../../src/engine/clock.js';

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

test('a switchable clock: running timers wait while frozen, fire on advance, and run on in real time once unfrozen; time never goes back', async () => {
  const states: string[] = [];
  const c = new SwitchableClock('real', Date.now(), s => states.push(s.mode));
  const seen: string[] = [];
  const start = c.now();
  c.at(start + 30, () => seen.push('soon'));
  c.at(start + 60_000, () => seen.push('later'));
  c.freeze();
  const frozenAt = c.now();
  await new Promise(r => setTimeout(r, 80));
  assert.equal(seen.length, 0, 'nothing fires while frozen');
  assert.equal(c.now(), frozenAt);
  c.advance(50);
  assert.deepEqual(seen, ['soon']);
  c.advance(120_000);
  assert.deepEqual(seen, ['soon', 'later']);
  const ahead = c.now();
  c.at(ahead + 40, () => seen.push('after unfreeze'));
  c.unfreeze();
  assert.ok(c.now() >= ahead, 'unfrozen, time goes on from the frozen instant');
  assert.ok(c.now() > Date.now() + 100_000, 'ahead of the wall clock by what was advanced');
  await new Promise(r => setTimeout(r, 100));
  assert.deepEqual(seen, ['soon', 'later', 'after unfreeze']);
  assert.throws(() => c.advance(1), /frozen/);
  assert.deepEqual(states, ['virtual', 'virtual', 'virtual', 'real']);
});
