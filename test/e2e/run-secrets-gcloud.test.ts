// Secrets feed Cloud Run tasks: `gcloud secrets create` then `gcloud run jobs create --set-secrets` (an env var and a
// file), on the process executor (env) and the container executor (env and a mounted file); a job naming a missing
// secret is not Ready, with Cloud Run's message.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { dockerUnavailable, startDocker, TEST_IMAGE, type TestDocker } from '../helpers/docker.js';
import type { Gantry } from '../../src/gantry.js';

const noDocker = process.env.CI ? undefined : dockerUnavailable();
let g: Gantry;
let gcloud: Gcloud;
let docker: TestDocker | undefined;

before(async () => {
  if (!noDocker) docker = await startDocker();
  g = await startTestGantry({ executor: 'process', ...(docker ? { allowExecutors: ['container'], dockerSocket: docker.socket } : {}) });
  gcloud = await gcloudFor(g.url, 'sec-proj', { run: true });
  const file = join(tempDir(), 'token.txt');
  writeFileSync(file, 's3cr3t-v1');
  await gcloud(['secrets', 'create', 'api-token', `--data-file=${file}`]);
  writeFileSync(file, 's3cr3t-v2');
  await gcloud(['secrets', 'versions', 'add', 'api-token', `--data-file=${file}`]);
});
after(async () => { await g.close(); await docker?.stop(); });

test('--set-secrets feeds a task an env var from Secret Manager (process executor)', async () => {
  const out = join(tempDir(), 'seen');
  await gcloud(['run', 'jobs', 'create', 'uses-secret', '--image', 'busybox', '--command', 'sh', `--args=-c,echo "$TOKEN/$OLD" > ${out}`,
    '--set-secrets', 'TOKEN=api-token:latest,OLD=api-token:1']);
  await gcloud(['run', 'jobs', 'execute', 'uses-secret', '--wait']);
  assert.equal(readFileSync(out, 'utf8').trim(), 's3cr3t-v2/s3cr3t-v1');
  const job = await gcloud.json<{ spec: { template: { spec: { template: { spec: { containers: { env: { name: string; valueFrom?: { secretKeyRef: { name: string; key: string } } }[] }[] } } } } } }>(['run', 'jobs', 'describe', 'uses-secret']);
  const env = job.spec.template.spec.template.spec.containers[0].env;
  assert.deepEqual(env.find(e => e.name === 'TOKEN')?.valueFrom?.secretKeyRef, { name: 'api-token', key: 'latest' });
});

test('a job naming a missing secret is not Ready, as Cloud Run reports it', async () => {
  const err = await gcloud.fails(['run', 'jobs', 'create', 'no-secret', '--image', 'busybox', '--command', 'true', '--set-secrets', 'X=nowhere:latest']);
  assert.match(err, /Secret projects\/\d+\/secrets\/nowhere\/versions\/latest was not found/);
});

test('secret env and volume in a container', { skip: noDocker }, async () => {
  await gcloud(['run', 'jobs', 'create', 'boxed-secret', '--image', TEST_IMAGE, '--command', 'sh',
    '--args=-c,test "$TOKEN" = s3cr3t-v2 && test "$(cat /secrets/token)" = s3cr3t-v1',
    '--set-secrets', 'TOKEN=api-token:latest,/secrets/token=api-token:1', '--labels', 'x=y']);
  // The job runs on the container executor by its annotation (set over v1 directly: `gcloud run jobs replace` first
  // asks Resource Manager about the project).
  const url = `${g.url}/apis/run.googleapis.com/v1/namespaces/sec-proj/jobs/boxed-secret`;
  const job = await (await fetch(url)).json() as Record<string, any>;
  job.metadata.annotations = { ...job.metadata.annotations, 'gantry.dev/executor': 'container' };
  const put = await fetch(url, { method: 'PUT', body: JSON.stringify(job), headers: { 'content-type': 'application/json' } });
  assert.equal(put.status, 200, await put.text());
  const run = await gcloud(['run', 'jobs', 'execute', 'boxed-secret', '--wait']);
  assert.match(run.stderr, /has successfully completed/);
});
