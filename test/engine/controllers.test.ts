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

test('a runtime reconciles only the resources it works for: others\' changes pass it by, and work it stands by from drops its queue and wake-ups', async () => {
  const store = new SqliteStore(':memory:');
  const clock = new VirtualClock(0);
  const runtime = new ControllerRuntime(store, clock, createLogger('silent'));
  const mine = new Set(['projects/a']);
  runtime.workOnly(name => mine.has(name.split('/').slice(0, 2).join('/')));
  const seen: string[] = [];
  runtime.register({ kind: 'thing', reconcile(name, ctx) { seen.push(name); ctx.wakeAt(clock.now() + 1000); } });
  store.tx(w => {
    for (const n of ['projects/a/things/1', 'projects/b/things/1']) w.put('thing', n, n.split('/things')[0], { name: n }, '2026-01-01T00:00:00Z', true);
  });
  await runtime.idle();
  assert.deepEqual(seen, ['projects/a/things/1'], 'a change of another instance\'s project is not reconciled here');

  // Standing by from project a: its wake-up is dropped; nothing is reconciled when it would have fired.
  runtime.standBy(name => name.startsWith('projects/a/'));
  mine.clear();
  clock.advance(2000);
  await runtime.idle();
  assert.deepEqual(seen, ['projects/a/things/1']);

  // Taking project b over: its unfinished resources are reconciled, and only they.
  mine.add('projects/b');
  runtime.start(name => name.startsWith('projects/b/'));
  await runtime.idle();
  assert.deepEqual(seen, ['projects/a/things/1', 'projects/b/things/1']);
  assert.equal(runtime.busyWith(() => true), false);
  runtime.stop();
  store.close();
});

test('a runtime keeps its reconciles\' count and time by kind, and its batches\' commits', async () => {
  const store = new SqliteStore(':memory:');
  const clock = new VirtualClock(0);
  const runtime = new ControllerRuntime(store, clock, createLogger('silent'));
  runtime.register({ kind: 'thing', reconcile() { const until = performance.now() + 2; while (performance.now() < until); } });
  runtime.register({ kind: 'other', reconcile(name, ctx) { ctx.enqueue('thing', `${name}/thing`); } });
  assert.deepEqual(runtime.timings(), { kinds: {}, batches: 0, commitMs: 0 });
  store.tx(w => {
    for (const n of ['p/others/1', 'p/others/2']) w.put('other', n, 'p', { name: n }, '2026-01-01T00:00:00Z', true);
  });
  await runtime.idle();
  const t = runtime.timings();
  assert.equal(t.kinds.other.reconciles, 2);
  assert.equal(t.kinds.thing.reconciles, 2, 'what a reconcile enqueues is counted under its own kind');
  assert.ok(t.kinds.thing.ms >= 4, `the time of the things' reconciles (${t.kinds.thing.ms} ms) is theirs`);
  assert.ok(t.kinds.other.ms < t.kinds.thing.ms);
  assert.ok(t.batches >= 1 && t.commitMs >= 0);
  // A copy: what the caller holds does not move.
  t.kinds.thing.reconciles = 99;
  assert.equal(runtime.timings().kinds.thing.reconciles, 2);
  runtime.stop();
  store.close();
});
