// Cloud Run jobs through gcloud, unchanged, with Gantry as its HTTP proxy for the regional v1 hosts: create,
// describe, list, update, execute (--wait, overrides, failure), executions and tasks, cancel, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let gcloud: Gcloud;

interface Job { metadata: { name: string; generation: number; labels: Record<string, string> }; spec: { template: { spec: { taskCount: number; parallelism?: number; template: { spec: { maxRetries: number; timeoutSeconds: string; containers: { args?: string[]; env?: { name: string; value?: string }[] }[] } } } } }; status: { executionCount?: number; latestCreatedExecution?: { name: string; completionStatus: string } } }
interface Execution { metadata: { name: string; labels: Record<string, string> }; spec: { taskCount: number }; status: { succeededCount?: number; failedCount?: number; cancelledCount?: number; conditions: { type: string; status: string; message?: string }[] } }

before(async () => {
  g = await startTestGantry({ executor: 'process', logLevel: 'silent' });
  gcloud = await gcloudFor(g.url, 'gc-proj', { run: true });
});
after(async () => { await g.close(); });

test('jobs create, describe, list and update', async () => {
  const created = await gcloud(['run', 'jobs', 'create', 'report', '--image', 'busybox', '--command', 'sh',
    '--args=-c,echo task $CLOUD_RUN_TASK_INDEX of $CLOUD_RUN_TASK_COUNT $GREETING', '--tasks', '4', '--parallelism', '2', '--max-retries', '1',
    '--task-timeout', '5m', '--set-env-vars', 'GREETING=hi', '--labels', 'team=data']);
  assert.match(created.stderr, /Job \[report\] has successfully been created\./);
  const job = await gcloud.json<Job>(['run', 'jobs', 'describe', 'report']);
  const spec = job.spec.template.spec;
  assert.equal(spec.taskCount, 4);
  assert.equal(spec.parallelism, 2);
  assert.equal(spec.template.spec.maxRetries, 1);
  assert.equal(spec.template.spec.timeoutSeconds, '300');
  assert.deepEqual(spec.template.spec.containers[0].env, [{ name: 'GREETING', value: 'hi' }]);
  assert.equal(job.metadata.labels.team, 'data');
  const text = (await gcloud(['run', 'jobs', 'describe', 'report'])).stdout;
  assert.match(text, /Tasks:\s+4/);
  assert.match(text, /Max Retries:\s+1/);
  const listed = (await gcloud(['run', 'jobs', 'list'])).stdout;
  assert.match(listed, /report\s+us-central1/);
  const updated = await gcloud(['run', 'jobs', 'update', 'report', '--tasks', '3', '--update-env-vars', 'GREETING=hello']);
  assert.match(updated.stderr, /Job \[report\] has successfully been updated\./);
  const after = await gcloud.json<Job>(['run', 'jobs', 'describe', 'report']);
  assert.equal(after.metadata.generation, job.metadata.generation + 1);
  assert.equal(after.spec.template.spec.taskCount, 3);
  // --max-retries 0 is kept (a oneof member in v2: its zero is a value, not the default of 3).
  await gcloud(['run', 'jobs', 'update', 'report', '--max-retries', '0']);
  assert.equal((await gcloud.json<Job>(['run', 'jobs', 'describe', 'report'])).spec.template.spec.template.spec.maxRetries, 0);
  await gcloud(['run', 'jobs', 'update', 'report', '--max-retries', '1']);
});

test('jobs execute --wait runs every task; executions and tasks list and describe', async () => {
  const run = await gcloud(['run', 'jobs', 'execute', 'report', '--wait']);
  const name = /Execution \[(report-[a-z0-9]{5})\] has successfully completed\./.exec(run.stderr)?.[1];
  assert.ok(name, run.stderr);
  const ex = await gcloud.json<Execution>(['run', 'jobs', 'executions', 'describe', name]);
  assert.equal(ex.status.succeededCount, 3);
  assert.match((await gcloud(['run', 'jobs', 'executions', 'describe', name])).stdout, /3 tasks completed successfully/);
  const executions = (await gcloud(['run', 'jobs', 'executions', 'list', '--job', 'report'])).stdout;
  assert.match(executions, new RegExp(`${name}\\s+us-central1\\s+0\\s+3 / 3`));
  const tasks = await gcloud.json<{ metadata: { name: string }; status: { index: number } }[]>(['run', 'jobs', 'executions', 'tasks', 'list', '--execution', name]);
  assert.deepEqual(tasks.map(t => t.status.index).sort(), [0, 1, 2]);
  const table = (await gcloud(['run', 'jobs', 'executions', 'tasks', 'list', '--execution', name])).stdout;
  assert.match(table, new RegExp(`0\\s+Succeeded\\s+${name}-task0`));
  const task = await gcloud.json<{ status: { lastAttemptResult: { exitCode: number } } }>(['run', 'jobs', 'executions', 'tasks', 'describe', `${name}-task1`]);
  assert.equal(task.status.lastAttemptResult.exitCode, 0);
  const job = await gcloud.json<Job>(['run', 'jobs', 'describe', 'report']);
  assert.equal(job.status.latestCreatedExecution?.name, name);
  assert.equal(job.status.latestCreatedExecution?.completionStatus, 'EXECUTION_SUCCEEDED');
});

test('execute with overrides; a failing execution reports Cloud Run\'s messages and a non-zero exit', async () => {
  const ok = await gcloud(['run', 'jobs', 'execute', 'report', '--wait', '--tasks', '1', '--args=-c,test "$GREETING" = override', '--update-env-vars', 'GREETING=override']);
  assert.match(ok.stderr, /has successfully completed/);
  const err = await gcloud.fails(['run', 'jobs', 'execute', 'report', '--wait', '--tasks', '2', '--args=-c,exit 7']);
  assert.match(err, /The execution failed\./);
  const [latest] = await gcloud.json<Execution[]>(['run', 'jobs', 'executions', 'list', '--job', 'report', '--limit', '1']);
  assert.equal(latest.spec.taskCount, 2);
  assert.equal(latest.status.failedCount, 2);
  const completed = latest.status.conditions.find(c => c.type === 'Completed')!;
  assert.equal(completed.status, 'False');
  assert.match(completed.message!, new RegExp(`^Task ${latest.metadata.name}-task[01] failed with message: The container exited with an error\\.`));
});

test('executions cancel and delete; jobs delete', async () => {
  await gcloud(['run', 'jobs', 'create', 'sleeper', '--image', 'busybox', '--command', 'sleep', '--args', '60', '--tasks', '2', '--parallelism', '1']);
  const started = await gcloud(['run', 'jobs', 'execute', 'sleeper']);
  const name = /Execution \[(sleeper-[a-z0-9]{5})\] has successfully started running\./.exec(started.stderr)?.[1];
  assert.ok(name, started.stderr);
  await gcloud(['run', 'jobs', 'executions', 'cancel', name, '--quiet']);
  const ex = await gcloud.json<Execution>(['run', 'jobs', 'executions', 'describe', name]);
  assert.equal(ex.status.cancelledCount, 2);
  await gcloud(['run', 'jobs', 'executions', 'delete', name, '--quiet']);
  assert.match(await gcloud.fails(['run', 'jobs', 'executions', 'describe', name]), /Cannot find execution \[sleeper-[a-z0-9]{5}\]/);
  await gcloud(['run', 'jobs', 'delete', 'sleeper', '--quiet']);
  assert.match(await gcloud.fails(['run', 'jobs', 'describe', 'sleeper']), /Cannot find job \[sleeper\]|could not be found|does not exist/);
  assert.match(await gcloud.fails(['run', 'jobs', 'create', 'report', '--image', 'busybox']), /already exists/);
});

test('jobs replace from a YAML file (gcloud asks Resource Manager for the project number first)', async () => {
  const file = join(tempDir(), 'job.yaml');
  const yaml = (tasks: number, team: string) => `apiVersion: run.googleapis.com/v1
kind: Job
metadata:
  name: from-yaml
  labels: {team: ${team}}
spec:
  template:
    spec:
      taskCount: ${tasks}
      template:
        spec:
          maxRetries: 0
          containers:
          - image: busybox
            command: [sh, -c, 'echo replaced']
`;
  writeFileSync(file, yaml(2, 'platform'));
  await gcloud(['run', 'jobs', 'replace', file]);
  assert.equal((await gcloud.json<Job>(['run', 'jobs', 'describe', 'from-yaml'])).spec.template.spec.taskCount, 2);
  writeFileSync(file, yaml(3, 'data'));
  await gcloud(['run', 'jobs', 'replace', file]);
  const now = await gcloud.json<Job>(['run', 'jobs', 'describe', 'from-yaml']);
  assert.equal(now.spec.template.spec.taskCount, 3);
  assert.equal(now.metadata.labels.team, 'data');
  await gcloud(['run', 'jobs', 'delete', 'from-yaml', '--quiet']);
});

test('jobs add-iam-policy-binding, get-iam-policy and remove-iam-policy-binding keep a job\'s policy; v2 reads the same', async () => {
  await gcloud(['run', 'jobs', 'create', 'guarded', '--image', 'busybox', '--command', 'true']);
  await gcloud(['run', 'jobs', 'add-iam-policy-binding', 'guarded', '--member=serviceAccount:scheduler@gc-proj.iam.gserviceaccount.com', '--role=roles/run.invoker']);
  const policy = await gcloud.json<{ bindings?: { role: string; members: string[] }[]; etag?: string }>(['run', 'jobs', 'get-iam-policy', 'guarded']);
  assert.deepEqual(policy.bindings, [{ role: 'roles/run.invoker', members: ['serviceAccount:scheduler@gc-proj.iam.gserviceaccount.com'] }]);
  const v2 = await (await fetch(`${g.url}/v2/projects/gc-proj/locations/us-central1/jobs/guarded:getIamPolicy`)).json() as { bindings?: unknown[] };
  assert.deepEqual(v2.bindings, policy.bindings, 'one policy per job, whichever API version reads it');
  await gcloud(['run', 'jobs', 'remove-iam-policy-binding', 'guarded', '--member=serviceAccount:scheduler@gc-proj.iam.gserviceaccount.com', '--role=roles/run.invoker']);
  assert.equal((await gcloud.json<{ bindings?: unknown[] }>(['run', 'jobs', 'get-iam-policy', 'guarded'])).bindings, undefined);
  assert.match(await gcloud.fails(['run', 'jobs', 'get-iam-policy', 'no-such-job']), /not found|NOT_FOUND/i);
});

test('a job that relies on its image\'s entrypoint fails under the process executor saying which executor would run it', async () => {
  await gcloud(['run', 'jobs', 'create', 'entrypoint-only', '--image', 'us-docker.pkg.dev/cloudrun/container/job', '--max-retries=0']);
  const failed = await gcloud.fails(['run', 'jobs', 'execute', 'entrypoint-only', '--wait']);
  assert.match(failed, /failed/i);
  const executions = await gcloud.json<Execution[]>(['run', 'jobs', 'executions', 'list', '--job', 'entrypoint-only']);
  const message = executions[0].status.conditions.find(c => c.type === 'Completed')?.message ?? '';
  assert.match(message, /no command, so it runs its image's entrypoint, which the process executor cannot/);
  assert.match(message, /gantry --executor container, or the annotation gantry\.dev\/executor: container/);
});
