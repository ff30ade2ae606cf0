// The PostgreSQL store against the Store contract, and against SQLite: the same writes and the same queries give the
// same rows in the same order, page by page (a differential test over random data and random queries).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { SqliteStore } from '../../src/store/sqlite.js';
import { PostgresStore, endClient, migratePostgres } from '../../src/store/postgres.js';
import { globRegex } from '../../src/store/list-pg.js';
import { PG_MIGRATIONS } from '../../src/store/pg-schema.js';
import { INDEXED_FIELDS } from '../../src/store/migrations.js';
import type { Change, ListQuery, Store } from '../../src/store/store.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { rng } from '../helpers/model.js';
import { eventually } from '../helpers/server.js';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

function pages(s: Store, q: Omit<ListQuery, 'after'>): string[][] {
  const out: string[][] = [];
  let afterKey: unknown[] | undefined;
  for (let guard = 0; guard < 10_000; guard++) {
    // A cursor goes through a page token (JSON) between pages, as the API layer sends it.
    const res = s.list({ ...q, after: afterKey === undefined ? undefined : JSON.parse(JSON.stringify(afterKey)) as unknown[] });
    out.push(res.rows.map(r => String(r.name)));
    if (!res.more) return out;
    afterKey = res.last;
  }
  throw new Error('paging did not end');
}

test('the same data and queries give the same pages on SQLite and PostgreSQL', () => {
  const sqlite = new SqliteStore(':memory:');
  const postgres = new PostgresStore(pg.database());
  const r = rng(7);
  const pick = <T>(xs: T[]) => xs[Math.floor(r() * xs.length)];
  const parents = ['projects/p/locations/a/deliveryPipelines/d1/releases/r1', 'projects/p/locations/a/deliveryPipelines/d1/releases/r2',
    'projects/p/locations/b/deliveryPipelines/d1/releases/r1', 'projects/p/locations/a/deliveryPipelines/d2/releases/r1', 'projects/q/locations/a/deliveryPipelines/d1/releases/r1'];
  // Values of every type SQLite's json_extract distinguishes, and texts whose bytewise order differs from a locale's.
  const values = [1, 2, 10, -3, 2.5, true, false, 'a', 'B', 'b', '_x', 'Z', '10', '9', 'é', '', null, undefined, { o: 1 }];
  for (const s of [sqlite, postgres]) {
    const r2 = rng(11);
    const pick2 = <T>(xs: T[]) => xs[Math.floor(r2() * xs.length)];
    s.tx(w => {
      for (let i = 0; i < 300; i++) {
        const parent = pick2(parents);
        const kind = i % 3 === 0 ? 'target' : 'rollout';
        const name = `${parent}/${kind}s/x${String(Math.floor(r2() * 1e6)).padStart(6, '0')}-${i}`;
        const doc: Record<string, unknown> = { name, rank: pick2(values), team: pick2(values), labels: { a: pick2(values), 'k.e"y': pick2(values) } };
        for (const f of [...INDEXED_FIELDS.rollout.order, ...INDEXED_FIELDS.rollout.equal]) {
          const v = pick2([undefined, '2026-01-0' + Math.floor(r2() * 9) + 'T00:00:00Z', 'SUCCEEDED', 'tgt-' + Math.floor(r2() * 3)]);
          if (v !== undefined) doc[f] = v;
        }
        w.put(kind, name, parent, doc, `2026-01-01T00:00:${String(Math.floor(r2() * 60)).padStart(2, '0')}Z`, i % 5 === 0);
      }
    });
  }
  const paths = [['rank'], ['team'], ['labels', 'a'], ['labels', 'k.e"y'], ['createTime'], ...INDEXED_FIELDS.rollout.order.map(f => [f]), ['missing']];
  const scopes: ListQuery['scope'][] = [
    { parent: parents[0] }, { grandparent: 'projects/p/locations/a/deliveryPipelines/d1' }, { parentPrefix: 'projects/p/' },
    { parentPrefix: 'projects/', parentGlob: 'projects/*/locations/a/deliveryPipelines/d1/releases/*' },
  ];
  for (let i = 0; i < 150; i++) {
    const order = Array.from({ length: Math.floor(r() * 4) }, () => ({ path: pick(paths), desc: r() < 0.5 }));
    const equalities = Array.from({ length: Math.floor(r() * 3) }, () => {
      const path = pick([['targetId'], ['state'], ['team'], ['labels', 'a'], ['rank']]);
      // Neither 1 nor 0: SQLite's json_extract reads true and false as 1 and 0, so `= 1` also matches a true there
      // (which the API's filters never meet: a field holds one type), where PostgreSQL compares JSON values exactly.
      return { path, value: pick(['tgt-1', 'SUCCEEDED', 'a', -3, 2.5, 10] as (string | number | boolean)[]) };
    });
    const q = { kind: pick(['rollout', 'target']), scope: pick(scopes), order, equalities, limit: 1 + Math.floor(r() * 30),
      predicate: r() < 0.3 ? (x: Record<string, unknown>) => String(x.name).length % 2 === 0 : undefined };
    assert.deepEqual(pages(postgres, q), pages(sqlite, q), `query ${i}: ${JSON.stringify({ ...q, predicate: !!q.predicate })}`);
  }
  sqlite.close();
  postgres.close();
});

test('the Store contract: reads, writes, transactions, savepoints, meta, dump, projects', () => {
  const s = new PostgresStore(pg.database());
  const seen: Change[] = [];
  s.onChange(c => seen.push(c));
  const P = 'projects/p/locations/l';
  s.tx(w => {
    w.put('target', `${P}/targets/a`, P, { name: `${P}/targets/a`, n: 1 }, '2026-01-01T00:00:00Z', true);
    w.put('target', `${P}/targets/b`, P, { name: `${P}/targets/b`, n: 2 }, '2026-01-01T00:00:01Z', false);
    w.setMeta('k/1', 'one');
  });
  assert.deepEqual(seen.map(c => c.name), [`${P}/targets/a`, `${P}/targets/b`], 'changes reach subscribers at commit');
  assert.equal(s.get(`${P}/targets/a`)?.createTime, '2026-01-01T00:00:00Z');
  assert.deepEqual(s.getParsed(`${P}/targets/b`), { name: `${P}/targets/b`, n: 2 });
  assert.deepEqual(s.activeNames('target'), [`${P}/targets/a`]);
  assert.deepEqual(s.children('target', P).map(r => r.n), [1, 2]);
  assert.equal(s.countUnder(P), 2);
  assert.equal(s.getMeta('k/1'), 'one');
  assert.deepEqual(s.metaEntries('k/'), [['k/1', 'one']]);
  assert.deepEqual(s.projects(10), ['p']);

  // A frozen document is shared until its row changes.
  const f1 = s.getFrozen<{ n: number }>(`${P}/targets/a`);
  assert.equal(s.getFrozen(`${P}/targets/a`), f1);
  assert.throws(() => { (f1 as { n: number }).n = 5; });
  s.tx(w => w.put('target', `${P}/targets/a`, P, { name: `${P}/targets/a`, n: 3 }, '2026-01-01T00:00:00Z', false));
  assert.equal(s.getFrozen<{ n: number }>(`${P}/targets/a`)?.n, 3);

  // A failed transaction leaves nothing; a failed savepoint undoes only its own writes.
  assert.throws(() => s.tx(w => { w.put('target', `${P}/targets/c`, P, {}, '2026-01-01T00:00:02Z', false); throw new Error('no'); }), /no/);
  assert.equal(s.get(`${P}/targets/c`), undefined);
  s.tx(w => {
    w.put('target', `${P}/targets/d`, P, { name: `${P}/targets/d` }, '2026-01-01T00:00:03Z', false);
    assert.throws(() => s.savepoint(w2 => { w2.put('target', `${P}/targets/e`, P, {}, '2026-01-01T00:00:04Z', false); throw new Error('inner'); }));
    // An SQL error inside a savepoint is undone too, and the transaction goes on.
    assert.throws(() => s.savepoint(() => (s as unknown as { db: { querySync(q: string): void } }).db.querySync('SELECT 1/0')));
    s.savepoint(w2 => w2.put('target', `${P}/targets/f`, P, { name: `${P}/targets/f` }, '2026-01-01T00:00:05Z', false));
  });
  assert.deepEqual([`${P}/targets/d`, `${P}/targets/e`, `${P}/targets/f`].map(n => !!s.get(n)), [true, false, true]);

  const dumped = [...s.dump('projects/p/')];
  assert.deepEqual(dumped.map(r => r.name), [`${P}/targets/a`, `${P}/targets/b`, `${P}/targets/d`, `${P}/targets/f`]);
  assert.equal(s.tx(w => w.deleteUnder(P)), 4);
  assert.equal(s.countUnder(P), 0);
  s.tx(w => { for (const r of dumped) w.restore(r); });
  assert.deepEqual([...s.dump('')], dumped, 'a restored row is the row dumped');
  s.close();
});

test('a second instance on the same database reads every write at once and hears each change from the feed', async () => {
  const url = pg.database();
  const a = new PostgresStore(url);
  const b = new PostgresStore(url);
  await b.listen();
  const heard: Change[] = [];
  b.onChange(c => heard.push(c));
  const P = 'projects/p/locations/l';
  for (let i = 0; i < 20; i++) {
    a.tx(w => w.put('target', `${P}/targets/t${i}`, P, { name: `${P}/targets/t${i}`, i }, '2026-01-01T00:00:00Z', false));
    assert.deepEqual(b.getParsed(`${P}/targets/t${i}`), { name: `${P}/targets/t${i}`, i }, 'read on the other instance right after the write');
  }
  a.tx(w => w.delete(`${P}/targets/t3`));
  await eventually(() => heard.length === 21, 5000);
  assert.deepEqual(heard.at(-1), { kind: 'target', name: `${P}/targets/t3`, op: 'delete', remote: true }, 'a change heard from the feed says it is another instance\'s');
  // b's own writes reach its subscribers once, at commit, not again from the feed.
  b.tx(w => w.put('target', `${P}/targets/own`, P, {}, '2026-01-01T00:00:00Z', false));
  await new Promise(r => setTimeout(r, 200));
  assert.deepEqual(heard.filter(c => c.name.endsWith('/own')), [{ kind: 'target', name: `${P}/targets/own`, op: 'put', active: false }]);
  a.close();
  b.close();
});

test('writers on two instances never interleave a read-modify-write', async () => {
  const url = pg.database();
  const name = 'projects/p/locations/l/counters/c';
  const a = new PostgresStore(url);
  a.tx(w => w.put('counter', name, 'projects/p/locations/l', { n: 0 }, '2026-01-01T00:00:00Z', false));
  // Two processes, each a store of its own (its own connection), each incrementing 300 times at once.
  const code = `
    import(process.argv[1]).then(({ PostgresStore }) => {
      const [, , url, name] = process.argv;
      const s = new PostgresStore(url);
      for (let i = 0; i < 300; i++) s.tx(w => {
        const n = s.getParsed(name).n;
        w.put('counter', name, 'projects/p/locations/l', { n: n + 1 }, '2026-01-01T00:00:00Z', false);
      });
      s.close();
    });`;
  const module = new URL('../../src/store/postgres.js', import.meta.url).href;
  await Promise.all([0, 1].map(() => new Promise<void>((resolve, reject) => {
    execFile(process.execPath, ['-e', code, module, url, name], e => (e ? reject(e) : resolve()));
  })));
  assert.equal(a.getParsed<{ n: number }>(name)!.n, 600);
  a.close();
});

test('a database of a newer schema is refused; migrating twice changes nothing', () => {
  const url = pg.database();
  const known = PG_MIGRATIONS.length;
  assert.deepEqual(migratePostgres(url), { current: 0, known });
  assert.deepEqual(migratePostgres(url), { current: known, known });
  const s = new PostgresStore(url);
  (s as unknown as { db: { querySync(q: string): void } }).db.querySync('UPDATE gantry_schema SET version = 99');
  s.close();
  assert.throws(() => new PostgresStore(url), new RegExp(`schema is version 99, newer than this Gantry knows \\(${known}\\)`));
});

test('a restarted database: a request meanwhile gets UNAVAILABLE, the next one after it reconnects', async () => {
  const s = new PostgresStore(pg.database());
  const P = 'projects/p/locations/l';
  s.tx(w => w.put('target', `${P}/targets/a`, P, { n: 1 }, '2026-01-01T00:00:00Z', false));
  await pg.restart();
  // The connection was cut: the first call connects again on its own (the server is back).
  assert.deepEqual(s.getParsed(`${P}/targets/a`), { n: 1 });
  s.tx(w => w.put('target', `${P}/targets/b`, P, { n: 2 }, '2026-01-01T00:00:00Z', false));
  assert.equal(s.countUnder(P), 2);
  // A transaction cut in the middle is not retried: it fails UNAVAILABLE, and the store goes on afterwards.
  assert.throws(() => s.tx(() => {
    (s as unknown as { db: { querySync(q: string): void } }).db.querySync('SELECT pg_terminate_backend(pg_backend_pid())');
  }), (e: Error & { code?: string }) => e.message.includes('The PostgreSQL store is unavailable') || /terminat/.test(e.message));
  assert.equal(s.countUnder(P), 2);
  s.close();
});

test('globs become anchored regular expressions', () => {
  assert.equal(globRegex('projects/*/a?b/[xy]/c.d'), '^projects/.*/a.b/[xy]/c\\.d$');
  assert.equal(globRegex('a[*]b'), '^a[*]b$');
});

test('the row cache inside transactions: random writes on two instances, transactions and savepoints undone at random, every read in a transaction sees what the database holds', () => {
  const url = pg.database();
  const stores = [new PostgresStore(url), new PostgresStore(url)];
  const r = rng(Number(process.env.GANTRY_MODEL_SEED ?? 41));
  const names = Array.from({ length: 12 }, (_, i) => `projects/p/locations/l/targets/t${i}`);
  const committed = new Map<string, number>();
  let value = 0;
  try {
    for (let step = 0; step < 400; step++) {
      const s = stores[Math.floor(r() * 2)];
      // What this transaction sees: the committed state, then its own writes (undone with it).
      const view = new Map(committed);
      const readAll = (w: Map<string, number>, where: string) => {
        for (const name of names) {
          if (r() < 0.6) continue;
          const got = s.getParsed<{ v: number }>(name)?.v;
          assert.equal(got, w.get(name), `step ${step} (${where}): ${name}`);
          const frozen = s.getFrozen<{ v: number }>(name)?.v;
          assert.equal(frozen, w.get(name), `step ${step} (${where}, frozen): ${name}`);
        }
      };
      const writeSome = (w: Map<string, number>, wr: { put: Store['tx'] extends (fn: (w: infer W) => unknown) => unknown ? W : never }['put']) => {
        for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
          const name = names[Math.floor(r() * names.length)];
          if (r() < 0.2) { wr.delete(name); w.delete(name); } else { const v = ++value; wr.put('target', name, 'projects/p/locations/l', { v }, '2026-12-06T00:00:00Z', false); w.set(name, v); }
        }
      };
      const fail = r() < 0.2;
      try {
        s.tx(w => {
          readAll(view, 'before its writes');
          writeSome(view, w);
          readAll(view, 'after its writes');
          if (r() < 0.4) {
            const inner = new Map(view);
            try {
              s.savepoint(w2 => { writeSome(inner, w2); readAll(inner, 'in a savepoint'); if (r() < 0.5) throw new Error('undo the savepoint'); });
              for (const [k] of view) if (!inner.has(k)) view.delete(k);
              for (const [k, v] of inner) view.set(k, v);
            } catch (e) { if ((e as Error).message !== 'undo the savepoint') throw e; }
            readAll(view, 'after the savepoint');
          }
          if (fail) throw new Error('undo the transaction');
        });
        committed.clear();
        for (const [k, v] of view) committed.set(k, v);
      } catch (e) {
        if ((e as Error).message !== 'undo the transaction') throw e;
      }
    }
  } finally {
    for (const s of stores) s.close();
  }
});

test('fresh reads: random writes on two instances and reads of either, many in flight at once; each read sees every write committed before it began, row by row', async () => {
  const url = pg.database();
  const stores = [new PostgresStore(url), new PostgresStore(url)];
  for (const s of stores) await s.listen();
  const r = rng(Number(process.env.GANTRY_MODEL_SEED ?? 43));
  const names = Array.from({ length: 10 }, (_, i) => `projects/p/locations/l/targets/t${i}`);
  // Every committed state, in commit order: a read begun at state k may show, per row, any state from k on.
  const states: Map<string, number>[] = [new Map()];
  let value = 0;
  const reads: Promise<void>[] = [];
  try {
    for (let step = 0; step < 300; step++) {
      const s = stores[Math.floor(r() * 2)];
      if (r() < 0.5) {
        const next = new Map(states.at(-1));
        s.tx(w => {
          for (let k = 0; k < 1 + Math.floor(r() * 3); k++) {
            const name = names[Math.floor(r() * names.length)];
            if (r() < 0.2) { w.delete(name); next.delete(name); } else { const v = ++value; w.put('target', name, 'projects/p/locations/l', { v }, '2026-12-06T00:00:00Z', false); next.set(name, v); }
          }
        });
        states.push(next);
      } else {
        const begun = states.length - 1;
        reads.push(Promise.resolve(s.readFresh(() => {
          for (const name of names) {
            const got = r() < 0.5 ? s.getParsed<{ v: number }>(name)?.v : s.getFrozen<{ v: number }>(name)?.v;
            const allowed = states.slice(begun).map(m => m.get(name));
            assert.ok(allowed.includes(got), `step ${step}: ${name} read ${got}, begun at state ${begun} (${allowed.join(', ')})`);
          }
        })));
      }
      // Now and then the reads in flight are let run: some answer between writes, some after several.
      if (r() < 0.2) await Promise.all(reads.splice(0));
    }
    await Promise.all(reads);
  } finally {
    for (const s of stores) s.close();
  }
});

test('fresh reads share one look at the feed, and answer a cached row without a query of their own', async () => {
  const url = pg.database();
  const a = new PostgresStore(url);
  const b = new PostgresStore(url);
  await a.listen();
  const P = 'projects/p/locations/l';
  b.tx(w => w.put('target', `${P}/targets/t`, P, { v: 1 }, '2026-12-06T00:00:00Z', false));
  const internals = a as unknown as { db: { executeSync: (...x: unknown[]) => unknown }; feedQuery: (...x: unknown[]) => Promise<unknown> };
  let queries = 0, looks = 0;
  const exec = internals.db.executeSync.bind(internals.db);
  internals.db.executeSync = (...x: unknown[]) => { queries++; return exec(...x); };
  const feedQuery = internals.feedQuery.bind(a);
  internals.feedQuery = (...x: unknown[]) => { if (String(x[0]).includes('max(seq)')) looks++; return feedQuery(...x); };
  try {
    assert.deepEqual(await a.readFresh(() => a.getParsed(`${P}/targets/t`)), { v: 1 });
    assert.equal(queries, 1, 'a row not cached is read');
    queries = 0; looks = 0;
    const all = await Promise.all(Array.from({ length: 50 }, () => a.readFresh(() => a.getParsed<{ v: number }>(`${P}/targets/t`)?.v)));
    assert.deepEqual(new Set(all), new Set([1]));
    assert.equal(queries, 0, 'a cached row is answered from the cache');
    assert.ok(looks <= 2, `50 reads at once took ${looks} looks at the feed`);
    // Another instance's write is seen by the next fresh read, before any notification could have arrived.
    b.tx(w => w.put('target', `${P}/targets/t`, P, { v: 2 }, '2026-12-06T00:00:00Z', false));
    assert.deepEqual(await a.readFresh(() => a.getParsed(`${P}/targets/t`)), { v: 2 });
    // A plain read outside a transaction still asks the database.
    queries = 0;
    a.get(`${P}/targets/t`);
    assert.equal(queries, 1);
  } finally {
    a.close();
    b.close();
  }
});

test('a fresh read whose look at the feed does not answer in time reads from the database instead', { timeout: 20_000 }, async () => {
  const url = pg.database();
  const a = new PostgresStore(url);
  await a.listen();
  const P = 'projects/p/locations/l';
  a.tx(w => w.put('target', `${P}/targets/t`, P, { v: 1 }, '2026-12-06T00:00:00Z', false));
  assert.deepEqual(await a.readFresh(() => a.getParsed(`${P}/targets/t`)), { v: 1 });
  // Another session holds the feed table: the look waits behind its lock, the rows themselves stay readable.
  const { createRequire } = await import('node:module');
  const Client = createRequire(import.meta.url)('pg-native') as typeof import('pg-native');
  const admin = new Client();
  admin.connectSync(url);
  // Changed behind the feed's back (no change row): only a read of the database sees it.
  admin.querySync('UPDATE resources SET data = $2 WHERE name = $1', [`${P}/targets/t`, '{"v":2}']);
  admin.querySync('BEGIN; LOCK TABLE changes IN ACCESS EXCLUSIVE MODE');
  try {
    const t0 = Date.now();
    assert.deepEqual(await a.readFresh(() => a.getParsed(`${P}/targets/t`)), { v: 2 }, 'read from the database, not the cache');
    const waited = Date.now() - t0;
    assert.ok(waited >= 900 && waited < 5000, `waited ${waited} ms`);
  } finally {
    admin.querySync('ROLLBACK');
    endClient(admin);
    a.close();
  }
});

test('a feed query its socket watcher misses is answered all the same, and a connection reset under one is noticed', { timeout: 30_000 }, async () => {
  const url = pg.database();
  const a = new PostgresStore(url);
  await a.listen();
  type Libpq = { startReader(): void };
  const internals = a as unknown as { feed?: import('pg-native') & { pq: Libpq }; feedQuery(text: string): Promise<Record<string, unknown>[]> };
  // What libuv does on a poll error (a reset connection): the watcher stops, and libpq's binding reports nothing.
  const deafen = () => {
    const pq = internals.feed!.pq;
    const start = pq.startReader;
    pq.startReader = () => { pq.startReader = start; };
  };
  let lost = 0;
  a.onLost(() => lost++);
  const { createRequire } = await import('node:module');
  const Client = createRequire(import.meta.url)('pg-native') as typeof import('pg-native');
  const admin = new Client();
  admin.connectSync(url);
  try {
    let t0 = Date.now();
    deafen();
    assert.deepEqual(await internals.feedQuery('SELECT 1 AS one'), [{ one: 1 }]);
    assert.ok(Date.now() - t0 >= 900, 'answered once the feed was read, not by the watcher');
    assert.equal(lost, 0, 'a sound connection is kept');
    const [{ pid }] = await internals.feedQuery('SELECT pg_backend_pid() AS pid');
    const first = internals.feed;
    deafen();
    t0 = Date.now();
    const running = internals.feedQuery('SELECT pg_sleep(0.3)');
    admin.querySync('SELECT pg_terminate_backend($1)', [String(pid)]);
    await assert.rejects(running);
    assert.ok(Date.now() - t0 < 5000, `noticed after ${Date.now() - t0} ms`);
    await eventually(() => lost === 1 && internals.feed !== undefined && internals.feed !== first);
    assert.deepEqual(await internals.feedQuery('SELECT 2 AS two'), [{ two: 2 }], 'the feed is open again');
  } finally {
    endClient(admin);
    a.close();
  }
});
