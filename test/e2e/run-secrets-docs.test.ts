// Cloud Run's "Configure secrets for jobs" doc, with its gcloud commands: `gcloud run jobs deploy --set-secrets`
// (an env var from `latest` and one pinned to a version), `gcloud run jobs update --update-secrets` (a secret named
// by its long form `projects/PROJECT_NUMBER/secrets/SECRET:VERSION`, which gcloud turns into an alias and the
// `run.googleapis.com/secrets` annotation), `--remove-secrets`, and a secret mounted as a volume
// (`--update-secrets=/PATH/FILE=SECRET:VERSION`, container executor only: the process executor mounts nothing).
// Each execution's task writes what it saw to a file the test reads.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { gcloudWithGantryEnv, type Gcloud } from '../helpers/gcloud.js';
import { googleapisRun } from '../helpers/clients.js';
import { dockerUnavailable, startDocker, TEST_IMAGE, type TestDocker } from '../helpers/docker.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'run-sec-docs';
const noDocker = process.env.CI ? undefined : dockerUnavailable();
let g: Gantry;
let gcloud: Gcloud;
let docker: TestDocker | undefined;
let number: string;

before(async () => {
  if (!noDocker) docker = await startDocker();
  g = await startTestGantry({ executor: 'process', ...(docker ? { allowExecutors: ['container'], dockerSocket: docker.socket } : {}) });
  gcloud = gcloudWithGantryEnv(g.url, PROJECT);
  const file = join(tempDir(), 'value');
  for (const v of ['db-pass-v1', 'db-pass-v2']) {
    writeFileSync(file, v);
    await gcloud(v.endsWith('1') ? ['secrets', 'create', 'db-pass', `--data-file=${file}`] : ['secrets', 'versions', 'add', 'db-pass', `--data-file=${file}`]);
  }
  number = (await gcloud.json<{ name: string }>(['secrets', 'describe', 'db-pass'])).name.split('/')[1];
  assert.match(number, /^\d+$/);
});
after(async () => { await g.close(); await docker?.stop(); });

test('jobs deploy --set-secrets (latest and pinned), update --update-secrets with the projects/NUMBER/secrets/S:V form, --remove-secrets', async () => {
  const out = join(tempDir(), 'seen');
  const script = `echo "$DB_PASS|$PINNED|\${REMOTE-unset}" > ${out}`;
  await gcloud(['run', 'jobs', 'deploy', 'doc-job', '--image', 'busybox', '--command', 'sh', `--args=-c,${script}`,
    '--set-secrets', 'DB_PASS=db-pass:latest,PINNED=db-pass:1']);
  await gcloud(['run', 'jobs', 'execute', 'doc-job', '--wait']);
  assert.equal(readFileSync(out, 'utf8').trim(), 'db-pass-v2|db-pass-v1|unset');

  await gcloud(['run', 'jobs', 'update', 'doc-job', `--update-secrets=REMOTE=projects/${number}/secrets/db-pass:1`]);
  const job = await gcloud.json<{ spec: { template: { metadata: { annotations: Record<string, string> } } } }>(['run', 'jobs', 'describe', 'doc-job']);
  assert.match(job.spec.template.metadata.annotations['run.googleapis.com/secrets'] ?? '', new RegExp(`^db-pa-[0-9a-f-]+:projects/${number}/secrets/db-pass$`));
  await gcloud(['run', 'jobs', 'execute', 'doc-job', '--wait']);
  assert.equal(readFileSync(out, 'utf8').trim(), 'db-pass-v2|db-pass-v1|db-pass-v1');
  // Cloud Run v2 has no aliases: it names the secret itself (googleapis' run v2).
  const v2 = await googleapisRun(g.url, 'v2').projects.locations.jobs.get({ name: `projects/${PROJECT}/locations/us-central1/jobs/doc-job` });
  const env = v2.data.template?.template?.containers?.[0].env ?? [];
  assert.deepEqual(env.find(e => e.name === 'REMOTE')?.valueSource?.secretKeyRef, { secret: `projects/${number}/secrets/db-pass`, version: '1' });
  assert.deepEqual(env.find(e => e.name === 'PINNED')?.valueSource?.secretKeyRef, { secret: 'db-pass', version: '1' });
  // So do the execution's tasks, read one by one and listed (under the execution and across executions/-).
  const run2 = googleapisRun(g.url, 'v2').projects.locations.jobs.executions;
  const latest = String(v2.data.latestCreatedExecution?.name);
  const remoteOf = (t: { containers?: { env?: { name?: string | null; valueSource?: { secretKeyRef?: unknown } }[] }[] }) => t.containers?.[0].env?.find(e => e.name === 'REMOTE')?.valueSource?.secretKeyRef;
  const wanted = { secret: `projects/${number}/secrets/db-pass`, version: '1' };
  const listed = (await run2.tasks.list({ parent: latest })).data.tasks ?? [];
  assert.deepEqual(remoteOf(listed[0]), wanted);
  assert.deepEqual(remoteOf((await run2.tasks.get({ name: String(listed[0].name) })).data), wanted);
  const across = (await run2.tasks.list({ parent: `projects/${PROJECT}/locations/us-central1/jobs/doc-job/executions/-` })).data.tasks ?? [];
  assert.deepEqual(remoteOf(across.find(t => t.name === listed[0].name)!), wanted);

  await gcloud(['run', 'jobs', 'update', 'doc-job', '--remove-secrets=REMOTE,PINNED']);
  await gcloud(['run', 'jobs', 'execute', 'doc-job', '--wait']);
  assert.equal(readFileSync(out, 'utf8').trim(), 'db-pass-v2||unset');
});

test('a projects/NUMBER/secrets/S alias naming a missing secret is not Ready, naming the secret', async () => {
  const err = await gcloud.fails(['run', 'jobs', 'deploy', 'doc-missing', '--image', 'busybox', '--command', 'true',
    `--set-secrets=X=projects/${number}/secrets/nowhere:1`]);
  assert.match(err, new RegExp(`Secret projects/${number}/secrets/nowhere/versions/1 was not found`));
});

test('a secret mounted as a volume (--update-secrets=/PATH/FILE=SECRET:VERSION) is a file the task reads', { skip: noDocker }, async () => {
  await gcloud(['run', 'jobs', 'create', 'doc-volume', '--image', TEST_IMAGE, '--command', 'sh',
    '--args=-c,test "$(cat /mnt/secrets/db)" = db-pass-v1 && test "$(cat /mnt/remote/db)" = db-pass-v2']);
  // The container executor by the job's annotation (set over v1: `gcloud run jobs replace` asks Resource Manager first).
  const url = `${g.url}/apis/run.googleapis.com/v1/namespaces/${PROJECT}/jobs/doc-volume`;
  const job = await (await fetch(url)).json() as { metadata: { annotations?: Record<string, string> } };
  job.metadata.annotations = { ...job.metadata.annotations, 'gantry.dev/executor': 'container' };
  const put = await fetch(url, { method: 'PUT', body: JSON.stringify(job), headers: { 'content-type': 'application/json' } });
  assert.equal(put.status, 200, await put.text());
  await gcloud(['run', 'jobs', 'update', 'doc-volume', '--update-secrets=/mnt/secrets/db=db-pass:1', `--update-secrets=/mnt/remote/db=projects/${number}/secrets/db-pass:latest`]);
  const run = await gcloud(['run', 'jobs', 'execute', 'doc-volume', '--wait']);
  assert.match(run.stderr, /has successfully completed/);
});
