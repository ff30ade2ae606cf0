// Store.afterCommit on both stores: work added inside a transaction runs once it commits, in order; never when the
// transaction rolls back, nor when the savepoint it was added in does (the rest of the transaction's still runs).
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite.js';
import { PostgresStore } from '../../src/store/postgres.js';
import type { Store } from '../../src/store/store.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

function contract(s: Store): void {
  const ran: string[] = [];
  const put = (name: string) => s.tx(w => w.put('target', `projects/p/locations/l/targets/${name}`, 'projects/p/locations/l', { name }, '2026-12-06T00:00:00Z', false));
  s.afterCommit(() => ran.push('outside: at once'));
  assert.deepEqual(ran.splice(0), ['outside: at once']);

  s.tx(() => {
    put('a');
    s.afterCommit(() => ran.push('first'));
    assert.equal(ran.length, 0, 'nothing runs before the commit');
    s.tx(() => s.afterCommit(() => ran.push('nested')));
    try {
      s.savepoint(() => { put('b'); s.afterCommit(() => ran.push('undone savepoint')); throw new Error('undo'); });
    } catch { /* undone */ }
    s.savepoint(() => s.afterCommit(() => ran.push('kept savepoint')));
    assert.equal(ran.length, 0);
  });
  assert.deepEqual(ran.splice(0), ['first', 'nested', 'kept savepoint']);

  assert.throws(() => s.tx(() => { put('c'); s.afterCommit(() => ran.push('rolled back')); throw new Error('roll back'); }), /roll back/);
  s.tx(() => put('d'));
  assert.equal(ran.length, 0, 'a rolled-back transaction\'s work never runs, not even at the next commit');
  assert.equal(s.get('projects/p/locations/l/targets/c'), undefined);
}

test('afterCommit on SQLite', () => {
  const s = new SqliteStore(':memory:');
  try { contract(s); } finally { s.close(); }
});

test('afterCommit on PostgreSQL', () => {
  const s = new PostgresStore(pg.database());
  try { contract(s); } finally { s.close(); }
});
