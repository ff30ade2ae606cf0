// Google's Cloud Run jobs quickstart for Node.js (GoogleCloudPlatform/nodejs-docs-samples, run/jobs) against Gantry,
// with its README's commands, through the environment `gantry env` prints and nothing else.
//
// Replaced steps: the README builds the image with `gcloud builds submit --pack image=gcr.io/$PROJECT/logger-job`
// (Cloud Build and buildpacks, which Gantry does not serve, and no container engine here): instead the operator maps
// that image to the sample's source directory (`--image-dir gcr.io/my-project/logger-job=DIR`), and the process
// executor runs what the buildpack would make the image's entrypoint, the Procfile's `web` process. The README's
// `gcloud run jobs run` is `gcloud run jobs execute` in today's gcloud (`run` is no longer a command). `--tasks 50`,
// `SLEEP_MS=10000` and the random `FAIL_RATE=0.5` become 3 tasks, 100 ms and FAIL_RATE 0 (every task succeeds) then 1
// (every attempt fails, so each task fails after its 10 retries): the same program, with outcomes a test can know.
//
// The sample's files are not kept in this repository: with GANTRY_SAMPLES_DIR naming a directory that holds a checkout
// of nodejs-docs-samples (`$GANTRY_SAMPLES_DIR/nodejs-docs-samples/run/jobs`), the test runs them; otherwise it runs
// test/fixtures/run-jobs-procfile, a program of ours with the quickstart's contract (its log lines, SLEEP_MS, FAIL_RATE, exit 1 on failure) and a Procfile.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { cpSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnGantry, tempDir } from '../helpers/server.js';
import { sampleDir } from '../helpers/samples.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const IMAGE = 'gcr.io/my-project/logger-job';

/** The quickstart's directory: a checkout's, or our stand-in with the same contract. */
function quickstartDir(): { dir: string; real: boolean } {
  const { dir, google } = sampleDir('nodejs-docs-samples/run/jobs', 'index.js', 'run-jobs-procfile');
  return { dir, real: google };
}

/** The environment of a fresh shell after `eval "$(gantry env)"`: a PATH, a private HOME and gcloud config, and Gantry's. */
async function gantryEnv(dataDir: string, home: string): Promise<NodeJS.ProcessEnv> {
  const bare = { PATH: process.env.PATH, HOME: home, CLOUDSDK_CONFIG: join(home, 'gcloud'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1', TZ: 'UTC' };
  const { stdout } = await run('bash', ['-c', `eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} env --data-dir ${JSON.stringify(dataDir)})" && env -0`], { env: bare, cwd: home });
  return Object.fromEntries(stdout.split('\0').filter(Boolean).map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
}

interface V1Task { metadata: { name: string }; status: { retried?: number; failed?: number; succeeded?: number; conditions: { type: string; status: string; message?: string }[] } }

test('the Cloud Run jobs quickstart runs from its source directory mapped to its image: tasks, retries and its own log lines', { timeout: 120_000 }, async () => {
  const sample = quickstartDir();
  const src = tempDir('logger-job-');
  cpSync(sample.dir, src, { recursive: true });
  const dataDir = tempDir();
  const g = await spawnGantry(['--data-dir', dataDir, '--executor', 'process', '--image-dir', `${IMAGE}=${src}`]);
  try {
    const home = tempDir('quickstart-home-');
    const env = { ...await gantryEnv(dataDir, home), GOOGLE_CLOUD_PROJECT: 'my-project', PROJECT_ID: 'my-project' };
    const gcloud = async (args: string[]) => run('gcloud', args, { env, cwd: home, timeout: 60_000, maxBuffer: 16 << 20 });
    const json = async <T>(args: string[]) => JSON.parse((await gcloud([...args, '--format=json'])).stdout) as T;

    await gcloud(['run', 'jobs', 'create', 'job-quickstart', `--image=${IMAGE}`, '--tasks', '3',
      '--set-env-vars=SLEEP_MS=100', '--set-env-vars=FAIL_RATE=0', '--max-retries', '10']);
    const execute = async (args: string[]) => {
      const r = await gcloud(['run', 'jobs', 'execute', ...args, '--wait']).then(x => ({ ...x, failed: false }), (e: { stderr: string }) => ({ stderr: e.stderr, failed: true }));
      return { failed: r.failed, stderr: r.stderr, execution: /Execution \[([a-z0-9-]+)\]|executions describe ([a-z0-9-]+)/.exec(r.stderr)?.slice(1).find(Boolean) ?? '' };
    };
    const first = await execute(['job-quickstart']);
    assert.equal(first.failed, false, first.stderr);
    const ok = await json<V1Task[]>(['run', 'jobs', 'executions', 'tasks', 'list', '--execution', first.execution]);
    assert.equal(ok.length, 3);
    for (const t of ok) {
      assert.equal(t.status.retried ?? 0, 0, t.metadata.name);
      assert.equal(t.status.conditions.find(c => c.type === 'Completed')?.status, 'True', t.metadata.name);
    }

    // The sample's own lines, as the README's reader finds them: gcloud's job logs and Cloud Logging.
    const logs = (await gcloud(['beta', 'run', 'jobs', 'logs', 'read', 'job-quickstart', '--limit', '100'])).stdout;
    const read = (await gcloud(['logging', 'read', 'resource.type="cloud_run_job" AND resource.labels.job_name="job-quickstart"', '--format=value(textPayload)'])).stdout;
    for (const i of [0, 1, 2]) {
      for (const out of [logs, read]) {
        assert.ok(out.includes(`Starting Task #${i}, Attempt #0...`), out);
        assert.ok(out.includes(`Completed Task #${i}.`), out);
      }
    }

    // FAIL_RATE=1: every attempt fails, each task is retried 10 times (attempts 0 to 10) and the execution fails.
    const second = await execute(['job-quickstart', '--update-env-vars', 'FAIL_RATE=1']);
    assert.equal(second.failed, true, second.stderr);
    assert.match(second.stderr, /The execution failed/);
    const failed = await json<V1Task[]>(['run', 'jobs', 'executions', 'tasks', 'list', '--execution', second.execution]);
    for (const t of failed) {
      assert.equal(t.status.retried, 10, t.metadata.name);
      assert.match(t.status.conditions.find(c => c.type === 'Completed')?.message ?? '', /The container exited with an error/);
    }
    const failedLogs = (await gcloud(['beta', 'run', 'jobs', 'executions', 'logs', 'read', second.execution, '--limit', '1000'])).stdout;
    for (const i of [0, 1, 2]) {
      assert.ok(failedLogs.includes(`Starting Task #${i}, Attempt #10...`), failedLogs);
      assert.ok(failedLogs.includes(`Task #${i}, Attempt #10 failed.`), failedLogs);
      assert.ok(!failedLogs.includes(`Attempt #11`), failedLogs);
      assert.ok(!failedLogs.includes(`Completed Task #${i}.`), failedLogs);
    }

    // An image nobody mapped, with no command: the task fails saying how the process executor could run it.
    await gcloud(['run', 'jobs', 'create', 'unmapped', '--image=gcr.io/my-project/other-job', '--max-retries', '0']);
    const unmapped = await execute(['unmapped']);
    assert.equal(unmapped.failed, true, unmapped.stderr);
    const ex = await json<{ status: { conditions: { type: string; message?: string }[] } }>(['run', 'jobs', 'executions', 'describe', unmapped.execution]);
    const why = ex.status.conditions.find(c => c.type === 'Completed')?.message ?? '';
    assert.match(why, /--image-dir IMAGE=DIR/);
    assert.match(why, /--executor container/);
  } finally {
    await g.kill('SIGTERM');
  }
});
