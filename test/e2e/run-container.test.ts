// Cloud Run jobs on the container executor: tasks run as containers of a locally made image (no registry is
// reachable), through gcloud; an image the engine lacks makes the job not Ready, as Cloud Run's ContainerMissing.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { dockerUnavailable, startDocker, TEST_IMAGE, type TestDocker } from '../helpers/docker.js';
import type { Gantry } from '../../src/gantry.js';

const skip = process.env.CI ? undefined : dockerUnavailable();
let g: Gantry;
let docker: TestDocker;
let gcloud: Gcloud;

before(async () => {
  if (skip) return;
  docker = await startDocker();
  g = await startTestGantry({ executor: 'container', dockerSocket: docker.socket });
  gcloud = await gcloudFor(g.url, 'ctr-proj', { run: true });
});
after(async () => { await g?.close(); await docker?.stop(); });

test('tasks run as containers with the task environment; failures and retries as Cloud Run reports them', { skip }, async () => {
  await gcloud(['run', 'jobs', 'create', 'boxed', '--image', TEST_IMAGE, '--command', 'sh',
    '--args=-c,echo in a container $CLOUD_RUN_TASK_INDEX/$CLOUD_RUN_TASK_COUNT; test -f /bin/busybox; test "$CLOUD_RUN_TASK_ATTEMPT" = 1 -o "$CLOUD_RUN_TASK_INDEX" != 1',
    '--tasks', '3', '--max-retries', '1']);
  const run = await gcloud(['run', 'jobs', 'execute', 'boxed', '--wait']);
  const name = /Execution \[(boxed-[a-z0-9]{5})\] has successfully completed\./.exec(run.stderr)?.[1];
  assert.ok(name, run.stderr);
  const ex = await gcloud.json<{ status: { succeededCount: number; retriedCount: number } }>(['run', 'jobs', 'executions', 'describe', name]);
  assert.equal(ex.status.succeededCount, 3);
  assert.equal(ex.status.retriedCount, 1, 'task 1 failed its first attempt in the container and was retried');
  const err = await gcloud.fails(['run', 'jobs', 'execute', 'boxed', '--wait', '--args=-c,exit 4', '--tasks', '1']);
  assert.match(err, /The execution failed\./);
});

test('an image the engine does not hold: the job is not Ready (ContainerMissing) and gcloud says so', { skip }, async () => {
  const err = await gcloud.fails(['run', 'jobs', 'create', 'ghost', '--image', 'example.com/nowhere/ghost:1']);
  assert.match(err, /Image 'example.com\/nowhere\/ghost:1' not found\./);
  const job = await gcloud.json<{ status: { conditions: { type: string; status: string; reason: string }[] } }>(['run', 'jobs', 'describe', 'ghost']);
  assert.deepEqual(job.status.conditions.map(c => [c.type, c.status, c.reason]), [['Ready', 'False', 'ContainerMissing']]);
  assert.match(await gcloud.fails(['run', 'jobs', 'execute', 'ghost']), /not ready/);
});
