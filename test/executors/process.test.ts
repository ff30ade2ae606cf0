import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ProcessExecutor } from '../../src/executors/process.js';
import { tempDir } from '../helpers/server.js';

const ex = new ProcessExecutor(tempDir());
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

/** Whether a process is alive: it exists and is not a zombie (killed, not yet waited for). */
const alive = (pid: number) => { try { return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8')); } catch { return false; } };
const waitGone = async (pid: number) => { for (let i = 0; i < 100 && alive(pid); i++) await new Promise(r => setTimeout(r, 20)); return !alive(pid); };

test('reap stops only a process group this data directory\'s executor started, for the owner it started it for', { skip: process.platform !== 'linux' && 'start times come from /proc' }, async () => {
  const dir = tempDir();
  // A victim the test started itself, leading its own process group as Gantry's tasks do.
  const victim = spawn('sleep', ['30'], { detached: true, stdio: 'ignore' });
  const victimPid = victim.pid!;
  try {
    const first = new ProcessExecutor(dir);
    let handle = '';
    const task = first.start({ ...spec(['sleep 30']), owner: 'projects/p/executions/e', onStarted: h => { handle = h; } }, () => {});
    // A restarted Gantry (the same records) never signals a pid it did not start, nor one started for another owner.
    const again = new ProcessExecutor(dir);
    await again.reap(String(victimPid));
    await again.reap(String(victimPid), 'projects/p/executions/none');
    await again.reap(handle, 'projects/other/executions/x');
    await again.reap(`${handle}/../1`);
    // A record whose start time is not the process's (the pid was reused) proves nothing.
    writeFileSync(join(dir, String(victimPid)), JSON.stringify({ start: '1', owner: '' }));
    await again.reap(String(victimPid));
    await new Promise(r => setTimeout(r, 300)); // a signal sent would have landed by now
    assert.ok(alive(victimPid), 'the victim lives');
    assert.ok(alive(Number(handle)), 'another owner\'s task lives');
    await again.reap(handle, 'projects/p/executions/e');
    assert.ok(await waitGone(Number(handle)), 'the task it started is stopped');
    assert.equal((await task.done).kind, 'signalled');
  } finally {
    victim.kill('SIGKILL');
  }
});

test('reapOwned stops what was started for exactly that owner, though its handle was never recorded', { skip: process.platform !== 'linux' && 'start times come from /proc' }, async () => {
  const dir = tempDir();
  const first = new ProcessExecutor(dir);
  let mine = '', other = '';
  const a = first.start({ ...spec(['sleep 30']), owner: 'projects/p/executions/e/tasks/0/attempts/0', onStarted: h => { mine = h; } }, () => {});
  const b = first.start({ ...spec(['sleep 30']), owner: 'projects/p/executions/e/tasks/0/attempts/1', onStarted: h => { other = h; } }, () => {});
  try {
    const again = new ProcessExecutor(dir);
    assert.equal(await again.reapOwned('projects/p/executions/e/tasks/0'), false, 'an owner\'s prefix is not the owner');
    assert.equal(await again.reapOwned('projects/p/executions/e/tasks/0/attempts/0'), true);
    assert.ok(await waitGone(Number(mine)), 'the owner\'s process is stopped');
    assert.equal((await a.done).kind, 'signalled');
    assert.ok(alive(Number(other)), 'another attempt\'s process lives');
    assert.equal(await again.reapOwned('projects/p/executions/e/tasks/0/attempts/0'), false, 'nothing is left to find');
  } finally {
    b.cancel();
    await b.done;
  }
});

test('a task whose record was never written (its Gantry killed in between) is still found and stopped by its environment\'s token, children and all', { skip: process.platform !== 'linux' && 'environments come from /proc' }, async () => {
  const dir = tempDir();
  const first = new ProcessExecutor(dir);
  const owner = 'projects/p/executions/e/tasks/0/attempts/0';
  const marks = tempDir();
  let leader = '';
  // The task forks a child, which inherits the token; its shell writes both pids.
  const t = first.start({ ...spec([`sleep 30 & echo $! > ${marks}/child; echo $$ > ${marks}/leader; wait`]), owner, onStarted: h => { leader = h; } }, () => {});
  const other = first.start({ ...spec(['sleep 30']), owner: `${owner}0` }, () => {});
  try {
    await waitFor(() => { try { return readFileSync(join(marks, 'child'), 'utf8').trim() !== ''; } catch { return false; } });
    const child = Number(readFileSync(join(marks, 'child'), 'utf8'));
    // As if the Gantry had died before writing the records: none is left.
    rmSync(join(dir, leader), { force: true });
    for (const f of readdirSync(dir)) if (/^\d+$/.test(f)) rmSync(join(dir, f));
    const again = new ProcessExecutor(dir);
    assert.equal(await again.reap(leader, owner), true, 'the handle is unproven, the token proves it');
    assert.ok(await waitGone(Number(leader)) && await waitGone(child), 'the task and the child it forked are stopped');
    assert.equal((await t.done).kind, 'signalled');
    assert.equal(await again.reapOwned(owner), false, 'nothing is left to find');
    assert.equal(await new ProcessExecutor(tempDir()).reapOwned(`${owner}0`), false, 'another data directory\'s Gantry makes other tokens: it finds nothing');
  } finally {
    other.cancel();
    await other.done;
  }
});

async function waitFor(ok: () => boolean, ms = 5000): Promise<void> {
  for (const end = Date.now() + ms; !ok();) {
    if (Date.now() > end) throw new Error('timed out');
    await new Promise(r => setTimeout(r, 20));
  }
}
