import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SqliteStore } from '../../src/store/sqlite.js';
import type { SqliteCheckpointer } from '../../src/store/sqlite-checkpointer.js';

const P = 'projects/p/locations/l';

test('the WAL is checkpointed by the worker thread, not in the main thread\'s commits', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'gantry-ckpt-'));
  const file = join(dir, 'gantry.db');
  const s = new SqliteStore(file);
  const before = statSync(file).size;
  // 200 commits of a few pages each: far below the main connection's own bound (FALLBACK_PAGES), so only the worker
  // can have copied them into the database file.
  for (let i = 0; i < 200; i++) s.tx(w => w.put('thing', `${P}/things/t${i}`, P, { i, pad: 'x'.repeat(3000) }, '2026-01-01T00:00:00Z', false));
  const checkpoints = (s as unknown as { checkpoints: SqliteCheckpointer }).checkpoints;
  await checkpoints.idle();
  assert.ok(statSync(file).size > before + 150 * 3000, `the database file grew from ${before} to ${statSync(file).size} bytes`);
  s.close();
});
