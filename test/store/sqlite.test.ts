import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { LIST_STATEMENT_CHARS, LIST_STATEMENTS, SqliteStore } from '../../src/store/sqlite.js';
import { listSql } from '../../src/store/list-sql.js';
import { INDEXED_FIELDS } from '../../src/store/migrations.js';
import { Lru } from '../../src/store/lru.js';
import type { ListQuery } from '../../src/store/store.js';

const PARENT = 'projects/p/locations/l';
// The store's caches, read through its privates: what matters is that they stay bounded.
const caches = (s: SqliteStore) => s as unknown as { rows: { size: number } };

/** The store's creation time of the i-th row of `storeWith` (not in order of names past 60). */
const createdAt = (i: number) => `2026-01-01T00:00:${String(i % 60).padStart(2, '0')}.${String(i).padStart(9, '0')}Z`;

function storeWith(n: number, make: (i: number) => Record<string, unknown>): SqliteStore {
  const s = new SqliteStore(':memory:');
  s.tx(w => {
    for (let i = 0; i < n; i++) {
      const name = `${PARENT}/things/t${String(i).padStart(3, '0')}`;
      w.put('thing', name, PARENT, { name, ...make(i) }, createdAt(i), false);
    }
  });
  return s;
}

/** Every page of a query, following the cursor. */
function pages(s: SqliteStore, q: Omit<ListQuery, 'after'>): Record<string, unknown>[][] {
  const out: Record<string, unknown>[][] = [];
  let after: unknown[] | undefined;
  for (;;) {
    const res = s.list({ ...q, after });
    out.push(res.rows);
    if (!res.more) return out;
    assert.ok(res.last, 'a page with more has a cursor');
    after = res.last;
  }
}

/** Asserts SQLite answers the query by walking the rollouts-on-target index, with no sort of its own. */
function walksTheTargetIndex(s: SqliteStore, q: ListQuery): void {
  const { sql, params } = listSql(q);
  const plan = (s as unknown as { db: { prepare(q: string): { all(p: unknown): { detail: string }[] } } }).db.prepare('EXPLAIN QUERY PLAN ' + sql()).all(params).map(p => p.detail).join('\n');
  assert.match(plan, /rollouts_on_target/);
  assert.doesNotMatch(plan, /TEMP B-TREE/);
}

test('maxBytes ends pages early; paging still returns every row exactly once, in order', () => {
  // Sizes from 1 to ~3 KB, with a few rows larger than the whole budget.
  const size = (i: number) => (i % 17 === 0 ? 9000 : 100 + ((i * 7919) % 3000));
  const s = storeWith(120, i => ({ blob: 'x'.repeat(size(i)), rank: i % 5, labels: { team: `t${i % 3}` } }));
  const bytes = (rows: Record<string, unknown>[]) => rows.reduce((n, r) => n + JSON.stringify(r).length, 0);
  const cases: { order: ListQuery['order']; predicate?: ListQuery['predicate'] }[] = [
    { order: [] },
    { order: [{ path: ['rank'], desc: true }] },
    { order: [{ path: ['rank'], desc: false }, { path: ['labels', 'team'], desc: true }] },
    { order: [{ path: ['createTime'], desc: false }], predicate: r => Number(r.rank) !== 2 },
  ];
  for (const c of cases) {
    const all = s.list({ kind: 'thing', scope: { parent: PARENT }, order: c.order, predicate: c.predicate, limit: 1000 }).rows.map(r => r.name);
    assert.ok(all.length > 60);
    for (const limit of [1000, 7]) {
      const got = pages(s, { kind: 'thing', scope: { parent: PARENT }, order: c.order, predicate: c.predicate, limit, maxBytes: 6000 });
      assert.deepEqual(got.flat().map(r => r.name), all, JSON.stringify(c.order));
      assert.ok(got.length > all.length / limit, 'pages ended early');
      for (const page of got) {
        assert.ok(page.length >= 1 && page.length <= limit);
        if (page.length > 1) assert.ok(bytes(page) <= 6000, `a page of ${page.length} rows holds ${bytes(page)} bytes`);
      }
    }
  }
  s.close();
});

test('list statements are a fixed set: distinct orders and filters bind their paths, and no statement is prepared twice', () => {
  const s = storeWith(3, i => ({ rank: i, labels: { [`k${i}`]: 'v' } }));
  const q = (order: ListQuery['order'], equalities?: ListQuery['equalities'], after?: unknown[]) =>
    s.list({ kind: 'thing', scope: { parent: PARENT }, order, equalities, after, limit: 10 });
  for (let i = 0; i < 600; i++) {
    // Up to 8 keys, each a client-chosen map key or a field, in either direction; and equalities on client-chosen keys.
    const order = Array.from({ length: 1 + (i % 8) }, (_, j) => ({ path: j === 3 ? ['createTime'] : ['labels', `k${i}x${j}`], desc: ((i >> j) & 1) === 1 }));
    q(order);
    q(order, [{ path: ['labels', `e${i}`], value: 'v' }], ['', '', '', '', '', '', '', '', '']);
    q([{ path: ['labels', `k${i}`], desc: i % 2 === 0 }]);
    q([{ path: ['createTime'], desc: i % 2 === 0 }], i % 3 ? [{ path: ['rank'], value: i }] : undefined);
  }
  const st = s.listStatements();
  // Before, every distinct order was its own statement (2,400 prepared here), each holding native memory until V8
  // happened to collect it.
  // One per number of keys, with and without bound equalities and a cursor, and the createTime index walks: 20.
  assert.ok(st.prepared <= 24, `${st.prepared} list statements prepared`);
  assert.equal(st.cached, st.prepared, 'none was evicted');
  assert.ok(st.chars < 256 * 1024, `${st.chars} characters of SQL cached`);
  s.close();
});

test('every list statement shape fits the statement cache at once, so none is ever evicted and prepared again', () => {
  const shapes = new Map<string, number>();
  const indexedOrders = ['createTime', ...INDEXED_FIELDS.rollout.order].flatMap(f => [false, true].map(desc => [{ path: [f], desc }]));
  const orders: ListQuery['order'][] = [[], ...indexedOrders, ...Array.from({ length: 8 }, (_, n) => Array.from({ length: n + 1 }, (_, j) => ({ path: ['labels', `x${j}`], desc: j % 2 === 1 })))];
  const literal = INDEXED_FIELDS.rollout.equal.map(f => ({ path: [f], value: 'v' }));
  const eqs = [[], [literal[0]], [literal[1]], literal, [...literal, { path: ['labels', 'z'], value: 1 }], [{ path: ['labels', 'z'], value: 1 }]];
  for (const kind of ['rollout', 'target']) {
    for (const scope of [{ parent: 'x' }, { grandparent: 'x' }, { parentPrefix: 'x' }, { parentPrefix: 'x', parentGlob: 'x*' }]) {
      for (const order of orders) for (const equalities of eqs) for (const after of [undefined, Array(9).fill('a')]) {
        const q = listSql({ kind, scope, order, equalities, after, limit: 1 });
        shapes.set(q.shape, q.sql().length);
      }
    }
  }
  const chars = [...shapes.values()].reduce((a, b) => a + b, 0);
  assert.ok(shapes.size <= LIST_STATEMENTS && chars <= LIST_STATEMENT_CHARS, `${shapes.size} shapes, ${chars} characters`);
});

test('generic orders (several keys, mixed directions, createTime among them) and bound equalities page exactly as sorting does', () => {
  const s = storeWith(90, i => ({ rank: i % 4, team: `t${i % 3}`, labels: { a: `a${i % 5}`, b: `b${i % 2}` }, on: i % 2 === 0 }));
  const all = s.list({ kind: 'thing', scope: { parent: PARENT }, order: [], limit: 1000 }).rows;
  const value = (r: Record<string, unknown>, path: string[]) => path.reduce<unknown>((v, k) => (v as Record<string, unknown> | undefined)?.[k], r);
  const cases: { order: ListQuery['order']; equalities?: ListQuery['equalities'] }[] = [
    { order: [{ path: ['rank'], desc: true }, { path: ['createTime'], desc: false }] },
    { order: [{ path: ['team'], desc: false }, { path: ['labels', 'a'], desc: true }, { path: ['rank'], desc: false }] },
    { order: [{ path: ['labels', 'b'], desc: true }], equalities: [{ path: ['team'], value: 't1' }] },
    // Five equalities: four bound in SQL, one checked on the row.
    { order: [{ path: ['rank'], desc: false }, { path: ['team'], desc: true }], equalities: [{ path: ['on'], value: true }, { path: ['labels', 'b'], value: 'b0' }, { path: ['rank'], value: 2 }, { path: ['team'], value: 't2' }, { path: ['labels', 'a'], value: 'a4' }] },
    { order: [{ path: ['labels', 'a'], desc: false }], equalities: [{ path: ['on'], value: false }, { path: ['labels', 'b'], value: 'b1' }, { path: ['rank'], value: 1 }, { path: ['team'], value: 't0' }, { path: ['labels', 'a'], value: 'a2' }] },
  ];
  for (const c of cases) {
    const cmp = (x: Record<string, unknown>, y: Record<string, unknown>) => {
      for (const k of c.order) {
        const key = (r: Record<string, unknown>) => String(k.path[0] === 'createTime' ? createdAt(Number(String(r.name).slice(-3))) : value(r, k.path) ?? '');
        const a = key(x), b = key(y);
        if (a !== b) return (a < b ? -1 : 1) * (k.desc ? -1 : 1);
      }
      return (String(x.name) < String(y.name) ? -1 : 1) * (c.order[c.order.length - 1].desc ? -1 : 1);
    };
    const want = all.filter(r => (c.equalities ?? []).every(e => value(r, e.path) === e.value)).sort(cmp).map(r => r.name);
    assert.ok(want.length > 0, JSON.stringify(c));
    const got = pages(s, { kind: 'thing', scope: { parent: PARENT }, order: c.order, equalities: c.equalities, limit: 4 }).flat().map(r => r.name);
    assert.deepEqual(got, want, JSON.stringify(c));
  }
  s.close();
});

test('the row cache is bounded by the characters it holds, not only by count', () => {
  const s = storeWith(50, () => ({ blob: 'x'.repeat(1_000_000) }));
  for (let i = 0; i < 50; i++) assert.ok(s.get(`${PARENT}/things/t${String(i).padStart(3, '0')}`));
  // 32 Mi characters hold at most 33 one-megabyte rows.
  assert.ok(caches(s).rows.size <= 33, `${caches(s).rows.size} rows of 1 MB cached`);
  assert.equal(s.getParsed<{ blob: string }>(`${PARENT}/things/t000`)!.blob.length, 1_000_000);
  s.close();
});

test('order by map keys of any spelling: quotes, dots and brackets are data, not SQL or JSON path', () => {
  const keys = ["it's", 'a.b', 'x"y', 'br[0]', "')--", 'back\\slash'];
  const s = storeWith(3, i => ({ labels: Object.fromEntries(keys.map(k => [k, `v${2 - i}`])) }));
  for (const k of keys) {
    const rows = s.list({ kind: 'thing', scope: { parent: PARENT }, order: [{ path: ['labels', k], desc: false }], limit: 10 }).rows;
    assert.deepEqual(rows.map(r => (r.labels as Record<string, string>)[k]), ['v0', 'v1', 'v2'], k);
    // And the cursor continues on such a key.
    const first = s.list({ kind: 'thing', scope: { parent: PARENT }, order: [{ path: ['labels', k], desc: false }], limit: 1 });
    const next = s.list({ kind: 'thing', scope: { parent: PARENT }, order: [{ path: ['labels', k], desc: false }], limit: 10, after: first.last });
    assert.deepEqual(next.rows.map(r => (r.labels as Record<string, string>)[k]), ['v1', 'v2'], k);
  }
  s.close();
});

test('Lru: least recently used goes first, by count and by weight; too heavy is not kept', () => {
  const l = new Lru<string, string>(3, 10, v => v.length);
  l.set('a', '1'); l.set('b', '1'); l.set('c', '1');
  l.get('a');
  l.set('d', '1');
  assert.deepEqual(['a', 'b', 'c', 'd'].map(k => l.peek(k) !== undefined), [true, false, true, true]);
  l.set('e', '123456789');
  assert.deepEqual([l.size, l.weight, l.oldest()], [2, 10, ['d', '1']]);
  l.set('f', 'x'.repeat(11));
  assert.deepEqual([l.peek('f'), l.size], [undefined, 2]);
  l.set('e', '1');
  assert.equal(l.weight, 2);
  assert.equal(l.delete('d'), true);
  assert.deepEqual([l.size, l.weight], [1, 1]);
});

test('projects() lists each project once, by an index seek per project, and stops at the limit', () => {
  const s = new SqliteStore(':memory:');
  const names = ['projects/a/locations/l/targets/t', 'projects/a-b/locations/l/targets/t', 'projects/a0/locations/l/targets/t', 'projects/a/locations/l/targets/u', 'projects/b/x/y', 'gantry/outcomes/1'];
  s.tx(w => { for (const n of names) w.put('target', n, n.slice(0, n.lastIndexOf('/')), {}, '2026-01-01T00:00:00Z', false); });
  assert.deepEqual(s.projects(100), ['a', 'a-b', 'a0', 'b'].sort());
  assert.deepEqual(s.projects(2), ['a', 'a-b']);
  s.close();
});

test('transactions and savepoints open lazily and still undo exactly their own writes, and the row and children caches follow, under random nesting (model)', () => {
  // Seeded: a failure names its seed.
  for (let seed = 1; seed <= 40; seed++) {
    let x = seed;
    const r = () => ((x = (x * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const s = new SqliteStore(':memory:');
    const db = (s as unknown as { db: { inTransaction: boolean } }).db;
    // The model: committed rows, and a stack of the rows each open level sees.
    let model = new Map<string, { parent: string; n: number; active: boolean }>();
    const names = ['a', 'b', 'c', 'd'].map(n => `${PARENT}/things/${n}`);
    const parents = [PARENT, `${PARENT}/other`];
    const seen: string[] = [];
    s.onChange(c => seen.push(c.name));
    const check = (where: string) => {
      for (const n of names) {
        const want = model.get(n);
        const got = s.getParsed<{ n: number }>(n);
        assert.deepEqual(got?.n, want?.n, `seed ${seed} ${where}: ${n}`);
      }
      for (const p of parents) {
        const want = [...model].filter(([, v]) => v.parent === p).map(([k]) => k).sort();
        assert.deepEqual(s.children('thing', p).map(c => String(c.name)).sort(), want, `seed ${seed} ${where}: children of ${p}`);
      }
      assert.deepEqual(s.activeNames('thing').sort(), [...model].filter(([, v]) => v.active).map(([k]) => k).sort(), `seed ${seed} ${where}: active`);
    };
    const level = (depth: number, w: Parameters<Parameters<SqliteStore['tx']>[0]>[0]) => {
      const steps = 1 + Math.floor(r() * 5);
      for (let i = 0; i < steps; i++) {
        const op = r();
        if (op < 0.45) {
          const name = names[Math.floor(r() * names.length)];
          // Mostly the same parent and creation time (the update path); sometimes another (the full write).
          const parent = r() < 0.8 ? PARENT : parents[1];
          const v = { parent, n: Math.floor(r() * 1000), active: r() < 0.5 };
          w.put('thing', name, parent, { name, n: v.n }, parent === PARENT ? '2026-01-01T00:00:00Z' : '2026-01-02T00:00:00Z', v.active);
          model.set(name, v);
        } else if (op < 0.55) {
          const name = names[Math.floor(r() * names.length)];
          w.delete(name);
          model.delete(name);
        } else if (op < 0.85 && depth < 4) {
          const before = new Map(model);
          const fail = r() < 0.4;
          try {
            s.savepoint(w2 => { level(depth + 1, w2); if (fail) throw new Error('undo'); });
          } catch (e) {
            assert.equal((e as Error).message, 'undo');
            model = before;
          }
        } else {
          check(`depth ${depth}`);
        }
      }
    };
    for (let t = 0; t < 30; t++) {
      const before = new Map(model);
      const fail = r() < 0.3;
      const readOnly = r() < 0.2;
      try {
        s.tx(w => {
          if (readOnly) {
            check('read-only');
            // Nothing written: no BEGIN was issued.
            assert.equal(db.inTransaction, false, `seed ${seed}: a read-only transaction opened SQLite's`);
          } else {
            level(1, w);
          }
          if (fail) throw new Error('undo');
        });
      } catch (e) {
        assert.equal((e as Error).message, 'undo');
        model = before;
      }
      assert.equal(db.inTransaction, false, `seed ${seed}: every level ended`);
      check(`after transaction ${t}`);
    }
    s.close();
  }
});

test('an unordered list uses the equalities\' index and returns exactly the matching rows', () => {
  const s = new SqliteStore(':memory:');
  const pipe = 'projects/p/locations/l/deliveryPipelines/d';
  s.tx(w => {
    for (let i = 0; i < 60; i++) {
      const name = `${pipe}/releases/r${i % 3}/rollouts/ro${i}`;
      w.put('rollout', name, `${pipe}/releases/r${i % 3}`, { name, targetId: `t${i % 4}`, state: i % 5 ? 'SUCCEEDED' : 'PENDING' }, createdAt(i), false);
    }
  });
  const q: ListQuery = { kind: 'rollout', scope: { grandparent: pipe }, order: [], unordered: true, equalities: [{ path: ['targetId'], value: 't1' }, { path: ['state'], value: 'PENDING' }], limit: 100 };
  const want = Array.from({ length: 60 }, (_, i) => i).filter(i => i % 4 === 1 && i % 5 === 0).map(i => `ro${i}`).sort();
  assert.deepEqual(s.list(q).rows.map(r => String(r.name).split('/').pop()).sort(), want);
  walksTheTargetIndex(s, q);
  s.close();
});

test('Lru: an entry read between insertions is never evicted, though it is moved only now and then', () => {
  for (const weighted of [false, true]) {
    const l = weighted ? new Lru<string, string>(1000, 100, v => v.length) : new Lru<string, string>(100);
    l.set('hot', 'h');
    let moves = 0;
    const at = () => (l as unknown as { map: Map<string, { at: number }> }).map.get('hot')?.at;
    for (let i = 0; i < 5000; i++) {
      l.set(`k${i}`, 'v');
      const before = at();
      assert.equal(l.get('hot'), 'h', `weighted ${weighted}: evicted after ${i} insertions`);
      if (at() !== before) moves++;
    }
    assert.ok(moves > 0 && moves < 500, `moved ${moves} times in 5,000 reads`);
  }
});

test('the head of a target\'s queue is an index walk in enqueue order, not a sort of the whole queue', () => {
  const s = new SqliteStore(':memory:');
  const q: ListQuery = { kind: 'rollout', scope: { parentPrefix: 'projects/p/locations/l/deliveryPipelines/' }, order: [{ path: ['enqueueTime'], desc: false }], equalities: [{ path: ['targetId'], value: 't1' }, { path: ['state'], value: 'PENDING' }], limit: 8 };
  walksTheTargetIndex(s, q);
  s.close();
});

test('a database of a newer schema than this Gantry knows is refused', () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-schema-'));
  new SqliteStore(join(dir, 'g.db')).close();
  const db = new Database(join(dir, 'g.db'));
  db.pragma('user_version = 99');
  db.close();
  assert.throws(() => new SqliteStore(join(dir, 'g.db')), /schema is version 99, newer than this Gantry knows/);
});
