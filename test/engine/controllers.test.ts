import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ControllerRuntime } from '../../src/engine/controllers.js';
import { VirtualClock } from '../../src/engine/clock.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { createLogger } from '../../src/server/log.js';

test('a reconcile that keeps failing is retried with a doubling back-off up to 5 minutes, and at once again after a success', async () => {
  const store = new SqliteStore(':memory:');
  const clock = new VirtualClock(0);
  const errors: string[] = [];
  const runtime = new ControllerRuntime(store, clock, createLogger('error', l => errors.push(l)));
  const tries: number[] = [];
  let healthy = false;
  runtime.register({ kind: 'thing', reconcile() { tries.push(clock.now()); if (!healthy) throw new Error('broken data'); } });
  const step = async (ms: number) => { await runtime.idle(); clock.advance(ms); await runtime.idle(); };

  runtime.enqueue('thing', 'things/a');
  for (let i = 0; i < 120; i++) await step(10_000); // 20 minutes, in 10 s steps
  const gaps = tries.slice(1).map((t, i) => t - tries[i]);
  // 1 s, 2 s, 4 s … 256 s, then 300 s: a dozen tries in 20 minutes, not 1,200.
  assert.deepEqual(gaps.slice(0, 9), [1, 2, 4, 8, 16, 32, 64, 128, 256].map(s => Math.ceil(s / 10) * 10_000), `gaps ${gaps}`);
  assert.ok(gaps.slice(9).every(g => g === 300_000), `gaps ${gaps}`);
  assert.ok(tries.length < 20, `${tries.length} tries`);
  assert.match(errors.at(-1)!, /failed \(\d+ in a row; next try in 300s\)/);

  // A success resets the count: the next failure is retried after a second again.
  healthy = true;
  runtime.enqueue('thing', 'things/a');
  await runtime.idle();
  healthy = false;
  const before = tries.length;
  runtime.enqueue('thing', 'things/a');
  await step(1_000);
  assert.equal(tries.length, before + 2, 'tried, failed, tried again after 1 s');
  runtime.stop();
  store.close();
});
