import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TaskRegistry } from '../../src/executors/registry.js';
import { ProcessExecutor } from '../../src/executors/process.js';
import { tempDir } from '../helpers/server.js';

const gone = (pid: number) => { try { process.kill(pid, 0); return false; } catch { return true; } };

test('a shutdown stops every task (a SIGTERM-deaf one by SIGKILL to its group) and none reports a result', async () => {
  const registry = new TaskRegistry();
  const ex = registry.wrap(new ProcessExecutor(tempDir()));
  const pids: number[] = [];
  const spec = (script: string) => ({ command: ['/bin/sh', '-c'], args: [script], env: {}, timeoutMs: 60_000, graceMs: 10_000, onStarted: (h: string) => pids.push(Number(h)) });
  let reported = 0;
  const polite = ex.start(spec('sleep 30'), () => {});
  // Ignores SIGTERM, and so does its child: only the group's SIGKILL ends them.
  const deaf = ex.start(spec('trap "" TERM; sleep 30 & wait'), () => {});
  for (const t of [polite, deaf]) t.done.then(() => reported++, () => reported++);
  await new Promise(r => setTimeout(r, 200));
  const started = Date.now();
  assert.equal(await registry.shutdown(), 2);
  assert.ok(Date.now() - started < 3000, `shutdown took ${Date.now() - started} ms`);
  assert.ok(pids.length === 2 && pids.every(gone));
  await new Promise(r => setTimeout(r, 100));
  assert.equal(reported, 0, 'a task stopped by the shutdown reports no result, so nothing is recorded for it');
});

test('a reset stops the tasks of its scope, which report being cancelled', async () => {
  const registry = new TaskRegistry();
  const ex = registry.wrap(new ProcessExecutor(tempDir()));
  const mine = ex.start({ command: ['sleep', '30'], args: [], env: {}, timeoutMs: 60_000, owner: 'projects/a/x' }, () => {});
  const other = ex.start({ command: ['sleep', '30'], args: [], env: {}, timeoutMs: 60_000, owner: 'projects/b/x' }, () => {});
  assert.equal(await registry.stopUnder('projects/a/'), 1);
  assert.deepEqual(await mine.done, { kind: 'cancelled' });
  other.cancel();
  assert.deepEqual(await other.done, { kind: 'cancelled' });
});
