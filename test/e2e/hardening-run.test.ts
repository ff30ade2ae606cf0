// Issue 23 (second hardening pass), Cloud Run: what no process can be started with (a NUL in an env value or an
// argument, a value past Cloud Run's 32,768 bytes) is refused at create, update and run; and an attempt the system
// refuses to start all the same fails its task with the reason instead of stalling the execution.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, eventually } from '../helpers/server.js';
import { googleapisRun, googleError } from '../helpers/clients.js';
import type { run_v1, run_v2 } from 'googleapis';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let v1: run_v1.Run;
let v2: run_v2.Run;
const NS = 'namespaces/harden-run';
const LOC = 'projects/harden-run/locations/us-central1';

before(async () => {
  g = await startTestGantry({ executor: 'process' });
  v1 = googleapisRun(g.url, 'v1');
  v2 = googleapisRun(g.url, 'v2');
});
after(async () => { await g.close(); });

const v2Job = (env: { name: string; value: string }[], command = ['true']) => ({
  template: { template: { maxRetries: 1, containers: [{ image: 'busybox', command, env }] } },
});

async function refused(p: Promise<unknown>, field: RegExp, message: RegExp) {
  const e = await googleError(p);
  assert.equal(e.status, 'INVALID_ARGUMENT', e.message);
  assert.match(e.message, message);
  const fields = (e.details ?? []).flatMap(d => ((d.fieldViolations ?? []) as { field: string }[]).map(v => v.field));
  assert.ok(fields.some(f => field.test(f)), `field violations ${JSON.stringify(fields)} name ${field}`);
}

test('a NUL or an oversized env value, or a NUL in an argument, is 400 naming the field: v2 and v1 create, update, and run overrides', async () => {
  await refused(v2.projects.locations.jobs.create({ parent: LOC, jobId: 'nul', requestBody: v2Job([{ name: 'A', value: 'x\u0000y' }]) }), /env\[0\]\.value$/, /NUL/);
  await refused(v2.projects.locations.jobs.create({ parent: LOC, jobId: 'big', requestBody: v2Job([{ name: 'A', value: 'x'.repeat(32_769) }]) }), /env\[0\]\.value$/, /32769 bytes; at most 32768/);
  await refused(v2.projects.locations.jobs.create({ parent: LOC, jobId: 'arg', requestBody: v2Job([], ['echo', 'a\u0000b']) }), /command\[1\]$/, /NUL/);
  await refused(v1.namespaces.jobs.create({ parent: NS, requestBody: {
    apiVersion: 'run.googleapis.com/v1', kind: 'Job', metadata: { name: 'nul1' },
    spec: { template: { spec: { template: { spec: { containers: [{ image: 'busybox', command: ['true'], env: [{ name: 'B', value: '\u0000' }] }] } } } } },
  } }), /env\[0\]\.value$/, /NUL/);
  // A good job: update and run with overrides are held to the same rules.
  const op = (await v2.projects.locations.jobs.create({ parent: LOC, jobId: 'good', requestBody: v2Job([{ name: 'A', value: 'ok' }]) })).data;
  await eventually(async () => (await v2.projects.locations.operations.get({ name: op.name! })).data.done);
  await refused(v2.projects.locations.jobs.patch({ name: `${LOC}/jobs/good`, requestBody: v2Job([{ name: 'A', value: 'x\u0000' }]) }), /env\[0\]\.value$/, /NUL/);
  await refused(v2.projects.locations.jobs.run({ name: `${LOC}/jobs/good`, requestBody: { overrides: { containerOverrides: [{ env: [{ name: 'A', value: 'a\u0000' }] }] } } }), /env\[0\]\.value$/, /NUL/);
  await refused(v2.projects.locations.jobs.run({ name: `${LOC}/jobs/good`, requestBody: { overrides: { containerOverrides: [{ args: ['a\u0000'] }] } } }), /args\[0\]$/, /NUL/);
  await refused(v2.projects.locations.jobs.run({ name: `${LOC}/jobs/good`, requestBody: { overrides: { containerOverrides: [{ env: [{ name: 'A', value: 'y'.repeat(40_000) }] }] } } }), /env\[0\]\.value$/, /at most 32768/);
});

test('an attempt the system refuses to start (an environment past exec\'s limit) fails its task with the reason, retries bounded', async () => {
  // 100 values of 30,000 bytes: each within Cloud Run's bound, together past Linux's 2 MiB for exec (E2BIG).
  const env = Array.from({ length: 100 }, (_, i) => ({ name: `V${i}`, value: 'v'.repeat(30_000) }));
  const op = (await v2.projects.locations.jobs.create({ parent: LOC, jobId: 'huge-env', requestBody: v2Job(env) })).data;
  await eventually(async () => (await v2.projects.locations.operations.get({ name: op.name! })).data.done);
  const run = (await v2.projects.locations.jobs.run({ name: `${LOC}/jobs/huge-env`, requestBody: {} })).data;
  const execution = String((run.metadata as { name?: string }).name);
  const done = await eventually(async () => {
    const ex = (await v2.projects.locations.jobs.executions.get({ name: execution })).data;
    return ex.completionTime ? ex : undefined;
  }, 15_000);
  assert.equal(done.failedCount, 1);
  const completed = done.conditions!.find(c => c.type === 'Completed')!;
  assert.equal(completed.state, 'CONDITION_FAILED');
  assert.match(completed.message!, /could not start the task: .*E2BIG/);
  // maxRetries 1: two attempts, then the task failed.
  const tasks = (await v2.projects.locations.jobs.executions.tasks.list({ parent: execution })).data.tasks!;
  assert.equal(tasks[0].retried, 1);
  assert.match(tasks[0].lastAttemptResult!.status!.message!, /E2BIG/);
});
