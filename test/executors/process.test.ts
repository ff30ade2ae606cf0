import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ProcessExecutor } from '../../src/executors/process.js';

const ex = new ProcessExecutor();
const spec = (args: string[], timeoutMs = 10_000) => ({ command: ['/bin/sh', '-c'], args, env: { WHO: 'gantry' }, timeoutMs });

test('exit codes, environment and both streams', async () => {
  const lines: string[] = [];
  const t = ex.start(spec(['echo out $WHO; echo err >&2; exit 3']), (s, c) => lines.push(`${s}:${c.trim()}`));
  assert.deepEqual(await t.done, { kind: 'exited', code: 3 });
  assert.deepEqual(lines.sort(), ['stderr:err', 'stdout:out gantry']);
});

test('timeouts and cancellation kill the whole process group', async () => {
  const started = Date.now();
  assert.deepEqual(await ex.start(spec(['sleep 30 & sleep 30'], 200), () => {}).done, { kind: 'timedOut' });
  assert.ok(Date.now() - started < 5000);
  const t = ex.start(spec(['sleep 30']), () => {});
  setTimeout(() => t.cancel(), 100);
  assert.deepEqual(await t.done, { kind: 'cancelled' });
});

test('a missing command fails to start', async () => {
  const r = await ex.start({ command: ['/no/such/binary'], args: [], env: {}, timeoutMs: 1000 }, () => {}).done;
  assert.equal(r.kind, 'failedToStart');
  assert.equal((await ex.start({ command: [], args: [], env: {}, timeoutMs: 1000 }, () => {}).done).kind, 'failedToStart');
});
