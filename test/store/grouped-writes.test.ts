import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../src/store/sqlite.js';
import { GroupedWrites } from '../../src/store/grouped-writes.js';

const P = 'projects/p/locations/l';

test('grouped writes: one transaction per turn, each write undone alone when it fails, every promise settled after the commit', async () => {
  const s = new SqliteStore(':memory:');
  let commits = 0;
  const tx = s.tx.bind(s);
  s.tx = (fn => { commits++; return tx(fn); }) as typeof s.tx;
  const g = new GroupedWrites(s);
  const seenAtSettle: boolean[] = [];
  const put = (id: string) => g.add(w => w.put('thing', `${P}/things/${id}`, P, { id }, '2026-01-01T00:00:00Z', false)).then(() => { seenAtSettle.push(!!s.get(`${P}/things/${id}`)); });
  const bad = g.add(w => { w.put('thing', `${P}/things/bad`, P, {}, '2026-01-01T00:00:00Z', false); throw new Error('no'); });
  const results = await Promise.allSettled([put('a'), put('b'), bad, put('c')]);
  assert.deepEqual(results.map(r => r.status), ['fulfilled', 'fulfilled', 'rejected', 'fulfilled']);
  assert.equal(commits, 1, 'four writes of one turn, one transaction');
  assert.deepEqual(seenAtSettle, [true, true, true], 'each promise settles once its write is stored');
  assert.equal(s.get(`${P}/things/bad`), undefined, 'the failed write is undone');
  // A later turn is a transaction of its own.
  await put('d');
  assert.equal(commits, 2);
  s.close();
});
