// Cloud Logging's entry table on PostgreSQL against SQLite's: the same entries and reads give the same answers
// (scans in both orders with cursors, time bounds and must-contain strings; log names; dumps; clears), the cap holds,
// and an instance hears the entries another stored, in order, and not its own.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { PostgresStore } from '../../src/store/postgres.js';
import { SqliteEntries } from '../../src/apis/logging/sqlite-entries.js';
import type { Cursor, EntryTable, StoredEntry } from '../../src/apis/logging/entry-table.js';
import type { Row } from '../../src/apis/logging/entry-row.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { rng } from '../helpers/model.js';
import { eventually } from '../helpers/server.js';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

function row(project: string, timestamp: string, log: string, text: string): Row {
  const entry = { logName: `projects/${project}/logs/${log}`, timestamp, textPayload: text };
  return { project, number: String(1000 + project.charCodeAt(0)), timestamp, log: entry.logName, entry, json: JSON.stringify(entry) };
}

/** Every page of a scan, resumed from each page's last cursor. */
function scanAll(t: EntryTable, projects: string[], desc: boolean, range: { from?: string; to?: string }, contains: string[], limit: number): string[] {
  const out: string[] = [];
  let after: Cursor | undefined;
  for (;;) {
    const rows = t.scan(projects, desc, after, range, contains, limit);
    for (const r of rows) out.push(r.data);
    if (rows.length < limit) return out;
    after = rows[rows.length - 1].cursor;
  }
}

test('entries on PostgreSQL read as they do on SQLite', () => {
  const store = new PostgresStore(pg.database());
  const tables: EntryTable[] = [new SqliteEntries(':memory:', 100_000), store.logEntries(100_000)];
  try {
    const r = rng(7);
    const projects = ['alpha', 'beta', 'gamma'];
    const texts = ['hello', 'world', 'quote " and \\ backslash', 'ünïcode ✓', '{"json":1}', 'hello world', 'a,b}{c'];
    for (let batch = 0; batch < 20; batch++) {
      const rows: Row[] = [];
      for (let i = 0; i < 1 + Math.floor(r() * 60); i++) {
        // Timestamps collide often, so write order decides between them.
        const ts = `2026-12-0${1 + Math.floor(r() * 3)}T00:00:0${Math.floor(r() * 10)}.000000000Z`;
        rows.push(row(projects[Math.floor(r() * 3)], ts, ['app', 'run.googleapis.com%2Fstdout', 'z'][Math.floor(r() * 3)], texts[Math.floor(r() * texts.length)] + ' ' + Math.floor(r() * 5)));
      }
      for (const t of tables) t.insert(rows);
    }
    const [sqlite, postgres] = tables;
    assert.equal(postgres.count(), sqlite.count());
    for (let q = 0; q < 60; q++) {
      const ps = projects.filter(() => r() < 0.6);
      if (!ps.length) ps.push('beta');
      const range = { ...(r() < 0.4 ? { from: '2026-12-02' } : {}), ...(r() < 0.3 ? { to: '2026-12-02T00:00:05Z' } : {}) };
      const contains = r() < 0.5 ? [texts[Math.floor(r() * texts.length)].slice(0, 5)] : r() < 0.5 ? ['hello', ' 1'] : [];
      const desc = r() < 0.5, limit = 1 + Math.floor(r() * 40);
      assert.deepEqual(scanAll(postgres, ps, desc, range, contains, limit), scanAll(sqlite, ps, desc, range, contains, limit), JSON.stringify({ ps, desc, range, contains, limit }));
    }
    for (const p of projects) {
      assert.deepEqual(postgres.logNames(p, '', 10), sqlite.logNames(p, '', 10));
      assert.deepEqual(postgres.logNames(p, 'projects/' + p + '/logs/app', 1), sqlite.logNames(p, 'projects/' + p + '/logs/app', 1));
      assert.deepEqual([...postgres.dump(p)], [...sqlite.dump(p)]);
      assert.equal(postgres.projectOf(String(1000 + p.charCodeAt(0))), p);
    }
    assert.deepEqual([...postgres.dump()], [...sqlite.dump()]);
    for (const t of tables) t.clear('alpha');
    assert.deepEqual([...postgres.dump()], [...sqlite.dump()]);
    assert.equal(postgres.count(), sqlite.count());
  } finally {
    for (const t of tables) t.close();
    store.close();
  }
});

test('the cap holds on PostgreSQL: the oldest entries go first', () => {
  const store = new PostgresStore(pg.database());
  const t = store.logEntries(2_000);
  try {
    for (let b = 0; b < 30; b++) t.insert(Array.from({ length: 200 }, (_, i) => row('p', '2026-12-06T00:00:00Z', 'app', `line ${b * 200 + i}`)));
    const n = t.count();
    assert.ok(n <= 2_000 && n >= 1_000, `${n} entries kept`);
    const kept = [...t.dump()].map(e => Number((JSON.parse(e.data) as { textPayload: string }).textPayload.split(' ')[1]));
    assert.equal(kept[kept.length - 1], 5_999, 'the newest is kept');
    assert.deepEqual(kept, kept.map((_, i) => 6_000 - kept.length + i), 'what is kept is the newest, in order');
  } finally {
    t.close();
    store.close();
  }
});

test('an instance hears the entries other instances store, in order, and not its own', async () => {
  const url = pg.database();
  const a = new PostgresStore(url), b = new PostgresStore(url);
  await a.listen();
  await b.listen();
  const ta = a.logEntries(100_000), tb = b.logEntries(100_000);
  const heard: StoredEntry[] = [];
  const stop = ta.onRemote!(entries => heard.push(...entries));
  try {
    ta.insert([row('p', '2026-12-06T00:00:00Z', 'app', 'mine')]);
    for (let i = 0; i < 5; i++) tb.insert(Array.from({ length: 700 }, (_, j) => row('p', '2026-12-06T00:00:01Z', 'app', `theirs ${i * 700 + j}`)));
    ta.insert([row('p', '2026-12-06T00:00:02Z', 'app', 'mine again')]);
    await eventually(() => heard.length >= 3_500, 10_000);
    assert.deepEqual(heard.map(e => (JSON.parse(e.data) as { textPayload: string }).textPayload), Array.from({ length: 3_500 }, (_, i) => `theirs ${i}`));
    stop();
    tb.insert([row('p', '2026-12-06T00:00:03Z', 'app', 'after')]);
    await new Promise(r => setTimeout(r, 300));
    assert.equal(heard.length, 3_500, 'nothing is heard after the unsubscribe');
  } finally {
    stop();
    a.close();
    b.close();
  }
});

test('a project whose entries all went is forgotten, on both tables: writing to ever new projects grows nothing but entries', () => {
  const store = new PostgresStore(pg.database());
  const tables: EntryTable[] = [new SqliteEntries(':memory:', 100), store.logEntries(100)];
  try {
    for (const t of tables) {
      for (let i = 0; i < 1000; i++) {
        const entry = { logName: `projects/p${i}/logs/a`, timestamp: '2026-12-01T00:00:00.000000000Z', textPayload: 'x' };
        t.insert([{ project: `p${i}`, number: String(500_000 + i), timestamp: entry.timestamp, log: entry.logName, entry, json: JSON.stringify(entry) }]);
      }
      assert.equal(t.projectOf('500000'), undefined, 'the first project, its entries long gone');
      assert.equal(t.projectOf('500999'), 'p999');
      const known = Array.from({ length: 1000 }, (_, i) => t.projectOf(String(500_000 + i))).filter(Boolean).length;
      assert.ok(known <= 100, `${known} projects still known for at most 100 entries`);
    }
  } finally {
    for (const t of tables) t.close();
    store.close();
  }
});

test('a project one instance forgot (its entries evicted by another\'s writes) is named again by the next batch of any instance', () => {
  const db = pg.database();
  const [sa, sb] = [new PostgresStore(db), new PostgresStore(db)];
  const [a, b] = [sa.logEntries(50), sb.logEntries(50)];
  const write = (t: EntryTable, project: string, number: string, n = 1) => {
    const entry = { logName: `projects/${project}/logs/a`, timestamp: '2026-12-01T00:00:00.000000000Z', textPayload: 'x' };
    t.insert(Array.from({ length: n }, () => ({ project, number, timestamp: entry.timestamp, log: entry.logName, entry, json: JSON.stringify(entry) })));
  };
  try {
    write(a, 'only-logs', '777001');
    // The other instance's writes push that entry out, and it forgets the project.
    for (let i = 0; i < 10; i++) write(b, 'busy', '777002', 20);
    assert.equal(b.projectOf('777001'), undefined);
    // The first instance still remembers it in memory, and writes to it again: every instance resolves it.
    write(a, 'only-logs', '777001');
    assert.equal(b.projectOf('777001'), 'only-logs');
  } finally {
    a.close(); b.close(); sa.close(); sb.close();
  }
});
