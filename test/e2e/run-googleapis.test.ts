// Cloud Run jobs through googleapis v1 and v2 and @google-cloud/run (gRPC and REST): one job seen by both versions, tasks
// that really run (process executor) with their own index, retries, failures, cancel, and bad input.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';
import { JobsClient, ExecutionsClient, TasksClient } from '@google-cloud/run';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gapicOptions, googleapisRun, googleError } from '../helpers/clients.js';
import type { run_v1, run_v2 } from 'googleapis';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let v1: run_v1.Run;
let v2: run_v2.Run;
const NS = 'namespaces/run-proj';
const LOC = 'projects/run-proj/locations/us-central1';

before(async () => {
  g = await startTestGantry({ executor: 'process' });
  v1 = googleapisRun(g.url, 'v1');
  v2 = googleapisRun(g.url, 'v2');
});
after(async () => { await g.close(); });

const shJob = (name: string, script: string, spec: Record<string, unknown> = {}, task: Record<string, unknown> = {}) => ({
  apiVersion: 'run.googleapis.com/v1', kind: 'Job', metadata: { name },
  spec: { template: { spec: { ...spec, template: { spec: { maxRetries: 0, ...task, containers: [{ image: 'busybox', command: ['sh', '-c', script] }] } } } } },
});

async function waitExecution(name: string) {
  return eventually(async () => {
    const ex = (await v1.namespaces.executions.get({ name: `${NS}/executions/${name}` })).data;
    return ex.status?.conditions?.find(c => c.type === 'Completed' && c.status !== 'Unknown') ? ex : undefined;
  }, 20_000);
}

test('v1: a job is created with Cloud Run\'s defaults and system fields, answers with the project number, and becomes Ready', async () => {
  const job = (await v1.namespaces.jobs.create({ parent: NS, requestBody: shJob('hello', 'echo hi') })).data;
  assert.match(job.metadata!.namespace!, /^\d{12}$/);
  assert.equal(job.metadata!.selfLink, `/apis/run.googleapis.com/v1/namespaces/${job.metadata!.namespace}/jobs/hello`);
  assert.equal(job.metadata!.generation, 1);
  assert.match(job.metadata!.resourceVersion!, /^[A-Za-z0-9_-]{11}$/);
  assert.equal(job.metadata!.labels!['cloud.googleapis.com/location'], 'us-central1');
  const task = job.spec!.template!.spec!.template!.spec!;
  assert.equal(task.timeoutSeconds, '600');
  assert.equal(task.serviceAccountName, `${job.metadata!.namespace}-compute@developer.gserviceaccount.com`);
  assert.deepEqual(task.containers![0].resources!.limits, { cpu: '1000m', memory: '512Mi' });
  assert.equal(job.spec!.template!.spec!.taskCount, 1);
  const ready = await eventually(async () => {
    const j = (await v1.namespaces.jobs.get({ name: `${NS}/jobs/hello` })).data;
    return j.status?.conditions?.find(c => c.type === 'Ready' && c.status === 'True') && j;
  });
  assert.equal(ready.status!.observedGeneration, ready.metadata!.generation);
  // The same job by project number.
  const byNumber = (await v1.namespaces.jobs.get({ name: `namespaces/${job.metadata!.namespace}/jobs/hello` })).data;
  assert.equal(byNumber.metadata!.uid, job.metadata!.uid);
});

test('v1: 100 tasks with parallelism 10 run for real, each with its own index and the task environment', async () => {
  const out = tempDir('gantry-run-tasks-');
  await v1.namespaces.jobs.create({ parent: NS, requestBody: shJob('fanout', `echo "$CLOUD_RUN_JOB $CLOUD_RUN_EXECUTION $CLOUD_RUN_TASK_COUNT $CLOUD_RUN_TASK_ATTEMPT" > ${out}/$CLOUD_RUN_TASK_INDEX`, { taskCount: 100, parallelism: 10 }) });
  await eventually(async () => (await v1.namespaces.jobs.get({ name: `${NS}/jobs/fanout` })).data.status?.conditions?.[0]?.status === 'True');
  const ex = (await v1.namespaces.jobs.run({ name: `${NS}/jobs/fanout`, requestBody: {} })).data;
  assert.match(ex.metadata!.name!, /^fanout-[a-z0-9]{5}$/);
  assert.equal(ex.metadata!.labels!['run.googleapis.com/job'], 'fanout');
  assert.ok(ex.status!.logUri, 'logUri is set from the start');
  const done = await waitExecution(ex.metadata!.name!);
  assert.equal(done.status!.succeededCount, 100);
  assert.equal(done.status!.conditions!.find(c => c.type === 'Completed')!.status, 'True');
  const files = readdirSync(out).map(Number).sort((a, b) => a - b);
  assert.deepEqual(files, Array.from({ length: 100 }, (_, i) => i));
  const { readFileSync } = await import('node:fs');
  assert.equal(readFileSync(join(out, '42'), 'utf8').trim(), `fanout ${ex.metadata!.name} 100 0`);
  // Tasks, newest first, by execution label; their index and state.
  const tasks = (await v1.namespaces.tasks.list({ parent: NS, labelSelector: `run.googleapis.com/execution=${ex.metadata!.name}`, limit: 30 })).data;
  assert.equal(tasks.items!.length, 30);
  assert.ok(tasks.metadata!.continue);
  assert.ok(tasks.items!.every(t => t.metadata!.labels!['run.googleapis.com/runningState'] === 'Succeeded' && t.status!.lastAttemptResult!.exitCode === 0));
  const rest = (await v1.namespaces.tasks.list({ parent: NS, labelSelector: `run.googleapis.com/execution=${ex.metadata!.name}`, continue: tasks.metadata!.continue! })).data;
  assert.equal(rest.items!.length, 70);
  const job = (await v1.namespaces.jobs.get({ name: `${NS}/jobs/fanout` })).data;
  assert.equal(job.status!.executionCount, 1);
  assert.equal(job.status!.latestCreatedExecution!.completionStatus, 'EXECUTION_SUCCEEDED');
});

test('v1: failures are retried up to maxRetries and reported with Cloud Run\'s messages; overrides apply', async () => {
  await v1.namespaces.jobs.create({ parent: NS, requestBody: shJob('flaky', 'exit 3', { taskCount: 2 }, { maxRetries: 1 }) });
  await eventually(async () => (await v1.namespaces.jobs.get({ name: `${NS}/jobs/flaky` })).data.status?.conditions?.[0]?.status === 'True');
  const ex = (await v1.namespaces.jobs.run({ name: `${NS}/jobs/flaky`, requestBody: { overrides: { taskCount: 1, containerOverrides: [{ env: [{ name: 'X', value: '1' }] }] } } })).data;
  assert.equal(ex.spec!.taskCount, 1);
  const done = await waitExecution(ex.metadata!.name!);
  const completed = done.status!.conditions!.find(c => c.type === 'Completed')!;
  assert.equal(completed.status, 'False');
  assert.equal(completed.message, `Task ${ex.metadata!.name}-task0 failed with message: The container exited with an error.`);
  assert.equal(done.status!.failedCount, 1);
  assert.equal(done.status!.retriedCount, 1);
  const task = (await v1.namespaces.tasks.get({ name: `${NS}/tasks/${ex.metadata!.name}-task0` })).data;
  assert.equal(task.status!.retried, 1);
  assert.equal(task.status!.lastAttemptResult!.exitCode, 3);
  assert.equal(task.metadata!.labels!['run.googleapis.com/runningState'], 'Failed');
  // args override: the same job succeeds when its script is replaced.
  const ok = (await v1.namespaces.jobs.run({ name: `${NS}/jobs/flaky`, requestBody: { overrides: { containerOverrides: [{ args: ['-c', 'exit 0'] }] } } })).data;
  void ok;
});

test('v1: a task over its timeout is stopped; cancel stops running tasks and abandons the rest', async () => {
  await v1.namespaces.jobs.create({ parent: NS, requestBody: shJob('slow', 'sleep 30', { taskCount: 3, parallelism: 1 }, { timeoutSeconds: '1' }) });
  await eventually(async () => (await v1.namespaces.jobs.get({ name: `${NS}/jobs/slow` })).data.status?.conditions?.[0]?.status === 'True');
  const ex = (await v1.namespaces.jobs.run({ name: `${NS}/jobs/slow`, requestBody: { overrides: { taskCount: 1 } } })).data;
  const done = await waitExecution(ex.metadata!.name!);
  assert.match(done.status!.conditions!.find(c => c.type === 'Completed')!.message!, /The configured timeout was reached\./);

  const ex2 = (await v1.namespaces.jobs.run({ name: `${NS}/jobs/slow`, requestBody: { overrides: { timeoutSeconds: 60 } } })).data;
  await eventually(async () => (await v1.namespaces.executions.get({ name: `${NS}/executions/${ex2.metadata!.name}` })).data.status?.runningCount === 1);
  const cancelled = (await v1.namespaces.executions.cancel({ name: `${NS}/executions/${ex2.metadata!.name}`, requestBody: {} })).data;
  assert.equal(cancelled.status!.conditions!.find(c => c.type === 'Completed')!.status, 'False');
  assert.equal(cancelled.status!.cancelledCount, 3);
  const states = (await v1.namespaces.tasks.list({ parent: NS, labelSelector: `run.googleapis.com/execution=${ex2.metadata!.name}` })).data.items!
    .map(t => t.metadata!.labels!['run.googleapis.com/runningState']).sort();
  assert.deepEqual(states, ['Abandoned', 'Abandoned', 'Cancelled']);
  const again = await googleError(v1.namespaces.executions.cancel({ name: `${NS}/executions/${ex2.metadata!.name}`, requestBody: {} }));
  assert.equal(again.status, 'FAILED_PRECONDITION');
  await v1.namespaces.executions.delete({ name: `${NS}/executions/${ex2.metadata!.name}` });
  assert.equal((await googleError(v1.namespaces.executions.get({ name: `${NS}/executions/${ex2.metadata!.name}` }))).code, 404);
});

test('v2 sees the v1 job and runs it; its operations finish with the work', async () => {
  const job = (await v2.projects.locations.jobs.get({ name: `${LOC}/jobs/hello` })).data;
  assert.equal(job.name, `${LOC}/jobs/hello`);
  assert.equal(job.template!.template!.timeout, '600s');
  assert.equal(job.terminalCondition!.state, 'CONDITION_SUCCEEDED');
  assert.equal(job.reconciling, false);
  assert.ok(job.etag);
  // A patch carrying a stale etag is refused (the etag is output-only in the message, yet checked).
  assert.equal((await googleError(v2.projects.locations.jobs.patch({ name: `${LOC}/jobs/hello`, requestBody: { ...job, etag: '"stale"' } }))).code, 409);
  const op = (await v2.projects.locations.jobs.run({ name: `${LOC}/jobs/hello`, requestBody: {} })).data;
  assert.match(op.name!, new RegExp(`^${LOC}/operations/`));
  const done = await eventually(async () => {
    const o = (await v2.projects.locations.operations.get({ name: op.name! })).data;
    return o.done ? o : undefined;
  }, 10_000);
  const ex = done.response as { name: string; succeededCount: number; job: string };
  assert.equal(ex.succeededCount, 1);
  assert.equal(ex.job, 'hello');
  const execs = (await v2.projects.locations.jobs.executions.list({ parent: `${LOC}/jobs/hello` })).data.executions!;
  assert.equal(execs[0].name, ex.name);
  const tasks = (await v2.projects.locations.jobs.executions.tasks.list({ parent: `${ex.name}` })).data.tasks!;
  assert.equal(tasks[0].index, 0);
  // Created through v2, visible through v1.
  const created = (await v2.projects.locations.jobs.create({ parent: LOC, jobId: 'from-v2', requestBody: { labels: { team: 'a' }, template: { taskCount: 2, template: { timeout: '30s', maxRetries: 0, containers: [{ image: 'busybox', command: ['true'] }] } } } })).data;
  await eventually(async () => (await v2.projects.locations.operations.get({ name: created.name! })).data.done);
  const asV1 = (await v1.namespaces.jobs.get({ name: `${NS}/jobs/from-v2` })).data;
  assert.equal(asV1.spec!.template!.spec!.template!.spec!.timeoutSeconds, '30');
  assert.equal(asV1.metadata!.labels!.team, 'a');
  assert.equal(asV1.spec!.template!.spec!.template!.spec!.maxRetries, 0, 'an explicit zero is kept');
  assert.equal((await v2.projects.locations.jobs.get({ name: `${LOC}/jobs/from-v2` })).data.template!.template!.maxRetries, 0);
  const reserved = await googleError(v2.projects.locations.jobs.create({ parent: LOC, jobId: 'bad', requestBody: { labels: { 'run.googleapis.com/x': 'y' }, template: { template: { containers: [{ image: 'i' }] } } } }));
  assert.equal(reserved.status, 'INVALID_ARGUMENT');
});

test('v2 locations/-: lists read across every location (jobs, executions, tasks, each named in its own region); create, run and get refuse it as every API does', async () => {
  const ALL = 'projects/run-proj/locations/-';
  const other = 'projects/run-proj/locations/europe-west1';
  const made = (await v2.projects.locations.jobs.create({ parent: other, jobId: 'elsewhere', requestBody: { template: { template: { maxRetries: 0, containers: [{ image: 'busybox', command: ['true'] }] } } } })).data;
  await eventually(async () => (await v2.projects.locations.operations.get({ name: made.name! })).data.done);
  const run = (await v2.projects.locations.jobs.run({ name: `${other}/jobs/elsewhere`, requestBody: {} })).data;
  await eventually(async () => (await v2.projects.locations.operations.get({ name: run.name! })).data.done, 10_000);

  const jobs = (await v2.projects.locations.jobs.list({ parent: ALL })).data.jobs!.map(j => j.name);
  assert.ok(jobs.includes(`${other}/jobs/elsewhere`) && jobs.includes(`${LOC}/jobs/hello`), JSON.stringify(jobs));
  const execs = (await v2.projects.locations.jobs.executions.list({ parent: `${ALL}/jobs/-` })).data.executions!;
  assert.ok(execs.some(e => e.name!.startsWith(`${other}/jobs/elsewhere/executions/`)), JSON.stringify(execs.map(e => e.name)));
  assert.ok(execs.some(e => e.name!.startsWith(`${LOC}/jobs/hello/executions/`)));
  const tasks = (await v2.projects.locations.jobs.executions.tasks.list({ parent: `${ALL}/jobs/elsewhere/executions/-` })).data.tasks!;
  assert.ok(tasks.length >= 1 && tasks.every(t => t.name!.startsWith(`${other}/jobs/elsewhere/executions/`)), JSON.stringify(tasks.map(t => t.name)));

  const body = { template: { template: { containers: [{ image: 'busybox' }] } } };
  for (const call of [
    v2.projects.locations.jobs.create({ parent: ALL, jobId: 'nowhere', requestBody: body }),
    v2.projects.locations.jobs.run({ name: `${ALL}/jobs/elsewhere`, requestBody: {} }),
    v2.projects.locations.jobs.get({ name: `${ALL}/jobs/elsewhere` }),
  ]) {
    const e = await googleError(call);
    assert.equal(e.status, 'PERMISSION_DENIED');
    assert.equal(e.message, 'Location - is not found or access is unauthorized.');
  }
  assert.equal((await googleError(v2.projects.locations.jobs.executions.list({ parent: `${ALL}/jobs/elsewhere` }))).status, 'INVALID_ARGUMENT');
});

for (const transport of ['grpc', 'rest'] as const) {
  test(`@google-cloud/run (${transport === 'grpc' ? 'gRPC, its default transport' : 'REST fallback'}): create, run and wait on the execution through LRO promises; tasks listed`, async () => {
    const opts = gapicOptions(g.url, transport) as ConstructorParameters<typeof JobsClient>[0];
    const jobs = new JobsClient(opts);
    const executions = new ExecutionsClient(opts);
    const tasks = new TasksClient(opts);
    const id = `gapic-${transport}`;
    try {
      const [op] = await jobs.createJob({ parent: LOC, jobId: id, job: { labels: { via: transport }, template: { taskCount: 3, template: { maxRetries: 0, containers: [{ image: 'busybox', command: ['sh', '-c', 'test $CLOUD_RUN_TASK_COUNT = 3 && echo task $CLOUD_RUN_TASK_INDEX'] }] } } } });
      const [job] = await op.promise();
      assert.equal(job.name, `${LOC}/jobs/${id}`);
      const [runOp] = await jobs.runJob({ name: `${LOC}/jobs/${id}` });
      const [ex] = await runOp.promise();
      assert.equal(ex.succeededCount, 3);
      const [again] = await executions.getExecution({ name: ex.name! });
      assert.equal(again.taskCount, 3);
      const [list] = await tasks.listTasks({ parent: ex.name! });
      assert.deepEqual(list.map(t => t.index).sort(), [0, 1, 2]);
      const [listed] = await jobs.listJobs({ parent: LOC });
      assert.ok(listed.some(j => j.name === job.name && j.labels?.via === transport));
      // gRPC carries the code; this library's REST fallback surfaces the error body as its message.
      await assert.rejects(jobs.getJob({ name: `${LOC}/jobs/none` }), (e: { code?: number; message: string }) => (transport === 'grpc' ? e.code === 5 : /NOT_FOUND/.test(e.message)));
      const [del] = await jobs.deleteJob({ name: job.name! });
      await del.promise();
    } finally {
      await jobs.close();
      await executions.close();
      await tasks.close();
    }
  });
}

test('bad input: Google-shaped 4xx, never a 5xx', async () => {
  const bad = async (p: Promise<unknown>, status: string, re?: RegExp) => {
    const e = await googleError(p);
    assert.equal(e.status, status, e.message);
    if (re) assert.match(e.message, re);
  };
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: shJob('Bad_Name', 'true') }), 'INVALID_ARGUMENT', /Job name 'Bad_Name' is invalid/);
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: shJob('ok', 'true', { taskCount: 10001 }) }), 'INVALID_ARGUMENT', /taskCount/);
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: shJob('ok', 'true', {}, { maxRetries: 11 }) }), 'INVALID_ARGUMENT', /maxRetries/);
  const env = shJob('ok', 'true');
  (env.spec.template.spec.template.spec.containers[0] as Record<string, unknown>).env = [{ name: 'CLOUD_RUN_TASK_INDEX', value: '1' }];
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: env }), 'INVALID_ARGUMENT', /reserved env names were provided: CLOUD_RUN_TASK_INDEX/);
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: { ...shJob('ok', 'true'), spec: { startExecutionToken: 'a', runExecutionToken: 'b', template: shJob('ok', 'true').spec.template } } }), 'INVALID_ARGUMENT');
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: { ...shJob('ok', 'true'), metadata: { name: 'ok', annotations: { 'run.googleapis.com/ingress': 'all' } } } }), 'INVALID_ARGUMENT', /run.googleapis.com\/ingress/);
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: { ...shJob('ok', 'true'), bogus: 1 } as never }), 'INVALID_ARGUMENT', /bogus/);
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: shJob('hello', 'true') }), 'ALREADY_EXISTS', /Resource 'hello' already exists\./);
  await bad(v1.namespaces.jobs.get({ name: `${NS}/jobs/nope` }), 'NOT_FOUND', /Resource 'nope' of kind 'JOB' in region 'us-central1' in project 'run-proj' does not exist\./);
  await bad(v1.namespaces.jobs.run({ name: `${NS}/jobs/nope`, requestBody: {} }), 'NOT_FOUND');
  await bad(v1.namespaces.jobs.list({ parent: NS, labelSelector: 'a in (b' }), 'INVALID_ARGUMENT', /label selector/);
  await bad(v1.namespaces.jobs.list({ parent: NS, continue: 'garbage' }), 'INVALID_ARGUMENT', /continue/);
  await bad(v1.namespaces.jobs.run({ name: `${NS}/jobs/hello`, requestBody: { overrides: { containerOverrides: [{ name: 'other' }] } } }), 'INVALID_ARGUMENT', /other/);
  const stale = (await v1.namespaces.jobs.get({ name: `${NS}/jobs/hello` })).data;
  await v1.namespaces.jobs.replaceJob({ name: `${NS}/jobs/hello`, requestBody: stale });
  await bad(v1.namespaces.jobs.replaceJob({ name: `${NS}/jobs/hello`, requestBody: stale }), 'ABORTED');
  await bad(v1.namespaces.jobs.create({ parent: NS, requestBody: { ...shJob('ok', 'true'), metadata: { name: 'ok', annotations: { 'gantry.dev/executor': 'container' } } } }), 'FAILED_PRECONDITION', /container executor/);
  await bad(v2.projects.locations.jobs.get({ name: 'projects/run-proj/locations/mars-north1/jobs/x' }), 'PERMISSION_DENIED');
});

test('v1: replace bumps generation only for spec changes; dryRun stores nothing; delete cascades', async () => {
  const job = (await v1.namespaces.jobs.get({ name: `${NS}/jobs/fanout` })).data;
  job.metadata!.labels = { ...job.metadata!.labels, team: 'b' };
  const relabelled = (await v1.namespaces.jobs.replaceJob({ name: `${NS}/jobs/fanout`, requestBody: job })).data;
  assert.equal(relabelled.metadata!.generation, job.metadata!.generation);
  relabelled.spec!.template!.spec!.taskCount = 20;
  const respecced = (await v1.namespaces.jobs.replaceJob({ name: `${NS}/jobs/fanout`, requestBody: relabelled })).data;
  assert.equal(respecced.metadata!.generation, job.metadata!.generation! + 1);
  const dry = (await v1.namespaces.jobs.create({ parent: NS, dryRun: 'all', requestBody: shJob('dry', 'true') })).data;
  assert.equal(dry.metadata!.name, 'dry');
  assert.equal((await googleError(v1.namespaces.jobs.get({ name: `${NS}/jobs/dry` }))).code, 404);
  const st = (await v1.namespaces.jobs.delete({ name: `${NS}/jobs/fanout` })).data;
  assert.equal(st.status, 'Success');
  const left = (await v1.namespaces.executions.list({ parent: NS, labelSelector: 'run.googleapis.com/job=fanout' })).data.items ?? [];
  assert.equal(left.length, 0);
});
