// The sole writer (src/store/pg-sole-writer.ts): an instance alone on its database answers fresh reads from its cache
// at once; a writer elsewhere takes the role from it and waits out its trust before writing; a second member ends it.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore } from '../../src/store/postgres.js';
import { DEAD_WAIT_MS, SOLE_META } from '../../src/store/pg-sole-writer.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { eventually } from '../helpers/server.js';
import { rng } from '../helpers/model.js';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

const NAME = 'projects/p/locations/l/targets/t';
const put = (s: PostgresStore, v: number, name = NAME) => s.tx(w => w.put('target', name, 'projects/p/locations/l', { v }, '2026-12-07T00:00:00Z', false));
const isPromise = (x: unknown) => x instanceof Promise;

test('alone, an instance reads from its cache at once; a write elsewhere clears its marker, waits out its trust, and is read next', async () => {
  const url = pg.database();
  const a = new PostgresStore(url), b = new PostgresStore(url);
  try {
    await a.listen();
    await a.workLease(3_600_000);
    assert.equal(a.soleWriter(), true, 'the only member claims the role');
    assert.equal(a.getMeta(SOLE_META), a.origin);
    put(a, 1);
    const own = a.readFresh(() => a.getParsed<{ v: number }>(NAME)?.v);
    assert.ok(!isPromise(own), 'a fresh read of the sole writer needs no look at the feed');
    assert.equal(own, 1);

    // b is no member (a tool such as an import): its write finds a's marker, clears it and waits before writing.
    await b.listen();
    const t0 = performance.now();
    put(b, 2);
    assert.ok(performance.now() - t0 >= DEAD_WAIT_MS, `the first write waited ${(performance.now() - t0).toFixed(0)} ms`);
    assert.equal(b.getMeta(SOLE_META), '');
    const seen = a.readFresh(() => a.getParsed<{ v: number }>(NAME)?.v);
    assert.equal(await seen, 2, 'the next read on the former sole writer sees the write');
    await eventually(() => !a.soleWriter() || undefined, 2_000);
    // A second write pays nothing.
    const t1 = performance.now();
    put(b, 3);
    assert.ok(performance.now() - t1 < DEAD_WAIT_MS);
    assert.equal(await a.readFresh(() => a.getParsed<{ v: number }>(NAME)?.v), 3);
  } finally {
    a.close();
    b.close();
  }
});

test('a second member ends the role (the marker cleared by its holder, so the newcomer writes without waiting); a stop clears it too', async () => {
  const url = pg.database();
  const a = new PostgresStore(url), b = new PostgresStore(url);
  try {
    await a.listen();
    await a.workLease(1_000);
    assert.equal(a.soleWriter(), true);
    await b.listen();
    await b.workLease(1_000);
    await eventually(() => (!a.soleWriter() && a.getMeta(SOLE_META) === '') || undefined, 2_000);
    assert.equal(b.soleWriter(), false, 'two members: neither claims');
    const t0 = performance.now();
    put(b, 1);
    assert.ok(performance.now() - t0 < DEAD_WAIT_MS);
  } finally {
    b.close();
  }
  const c = new PostgresStore(url);
  try {
    // b has gone: a is alone again, and claims once it has rested.
    await eventually(() => a.soleWriter() || undefined, 10_000);
    a.close();
    assert.equal(c.getMeta(SOLE_META), '', 'a stop clears the marker');
  } finally {
    a.close();
    c.close();
  }
});

test('random writes, reads, joins and departures of three instances and writes of a tool: every fresh read sees every write committed before it began', { timeout: 120_000 }, async () => {
  const url = pg.database();
  const r = rng(Number(process.env.GANTRY_MODEL_SEED ?? 7));
  const names = Array.from({ length: 5 }, (_, i) => `${NAME}${i}`);
  const live: PostgresStore[] = [];
  const join = async () => {
    const s = new PostgresStore(url);
    await s.listen();
    await s.workLease(50);
    live.push(s);
  };
  const states: Map<string, number>[] = [new Map()];
  let value = 0, sole = 0;
  const reads: Promise<void>[] = [];
  const read = (s: PostgresStore, step: number) => {
    const begun = states.length - 1;
    if (s.soleWriter()) sole++;
    reads.push(Promise.resolve(s.readFresh(() => {
      for (const name of names) {
        const got = s.getParsed<{ v: number }>(name)?.v;
        const allowed = states.slice(begun).map(m => m.get(name));
        assert.ok(allowed.includes(got), `step ${step}: ${name} read ${got}, begun at state ${begun} (${allowed.join(', ')})`);
      }
    })));
  };
  // A writer that is no member (an import, a migration tool): it never holds the role, and takes it from whoever does.
  const tool = new PostgresStore(url);
  try {
    await tool.listen();
    await join();
    for (let step = 0; step < 200; step++) {
      const x = r();
      if (x < 0.08 && live.length < 3) await join();
      else if (x < 0.14 && live.length > 1) live.splice(Math.floor(r() * live.length), 1)[0].close();
      else if (x < 0.5) {
        const s = r() < 0.25 ? tool : live[Math.floor(r() * live.length)];
        const next = new Map(states.at(-1));
        s.tx(w => {
          const name = names[Math.floor(r() * names.length)];
          const v = ++value;
          w.put('target', name, 'projects/p/locations/l', { v }, '2026-12-07T00:00:00Z', false);
          next.set(name, v);
        });
        states.push(next);
        // The interleaving that matters most: a write elsewhere, then the very next request to each instance.
        if (s === tool || r() < 0.3) for (const t of live) read(t, step);
      } else if (x < 0.9) read(live[Math.floor(r() * live.length)], step);
      else {
        // Time for heartbeats and lease looks: roles are claimed and given up meanwhile.
        await Promise.all(reads.splice(0));
        await new Promise(res => setTimeout(res, Math.floor(r() * 400)));
      }
    }
    await Promise.all(reads);
    assert.ok(sole > 0, 'some reads were a sole writer\'s');
  } finally {
    for (const s of live) s.close();
    tool.close();
  }
});
