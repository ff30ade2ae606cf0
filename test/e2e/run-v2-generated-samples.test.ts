// The @google-cloud/run v2 samples generated for jobs, executions and tasks (googleapis/google-cloud-node,
// packages/google-cloud-run/samples/generated/v2: jobs.{create,get,list,update,run,delete}_job, executions.{get,list,
// cancel,delete}_execution, tasks.{get,list}_task) run as scripts, `node SAMPLE.js ARGS` as their main() takes them,
// with the library installed and only the environment `gantry env` prints: the samples construct `new JobsClient()`
// with no options, and GOOGLE_CLOUD_UNIVERSE_DOMAIN, grpc_proxy, the CA file and the credentials file bring them to
// Gantry over gRPC.
//
// The samples' files are not kept in this repository: with GANTRY_SAMPLES_DIR naming a directory holding a checkout of
// google-cloud-node, the test runs them; otherwise it runs test/fixtures/run-v2-generated-shape/sample.js, a script of ours with their shape (client without options,
// fields from argv, console.log of the answer, exit 1 with the message on error).
//
// create_job and update_job take a Job message as a command-line string, which the library refuses before sending
// anything (`.google.cloud.run.v2.CreateJobRequest.job: object expected`), against Google as here: "It will require
// modifications to work", their header says. The test checks exactly that, and creates its jobs over REST instead.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually, spawnGantry, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const SAMPLES = 'google-cloud-node/packages/google-cloud-run/samples/generated/v2';

type Shape = 'get' | 'lro' | 'list';
/** Each sample: its client, method, how it calls, and the request fields main() takes, in order. */
const TABLE: Record<string, [client: string, method: string, shape: Shape, fields: string[]]> = {
  'jobs.create_job': ['JobsClient', 'createJob', 'lro', ['parent', 'job', 'jobId']],
  'jobs.get_job': ['JobsClient', 'getJob', 'get', ['name']],
  'jobs.list_jobs': ['JobsClient', 'listJobs', 'list', ['parent']],
  'jobs.update_job': ['JobsClient', 'updateJob', 'lro', ['job']],
  'jobs.run_job': ['JobsClient', 'runJob', 'lro', ['name']],
  'jobs.delete_job': ['JobsClient', 'deleteJob', 'lro', ['name']],
  'executions.get_execution': ['ExecutionsClient', 'getExecution', 'get', ['name']],
  'executions.list_executions': ['ExecutionsClient', 'listExecutions', 'list', ['parent']],
  'executions.cancel_execution': ['ExecutionsClient', 'cancelExecution', 'lro', ['name']],
  'executions.delete_execution': ['ExecutionsClient', 'deleteExecution', 'lro', ['name']],
  'tasks.get_task': ['TasksClient', 'getTask', 'get', ['name']],
  'tasks.list_tasks': ['TasksClient', 'listTasks', 'list', ['parent']],
};

/** Where Google's samples are, if given; they are copied to `dir` (beside a node_modules with the library). */
function stageSamples(dir: string): boolean {
  const from = [
    ...(process.env.GANTRY_SAMPLES_DIR ? [join(process.env.GANTRY_SAMPLES_DIR, SAMPLES)] : []),
  ].find(d => Object.keys(TABLE).every(s => existsSync(join(d, `${s}.js`))));
  if (from) for (const f of readdirSync(from).filter(f => f.endsWith('.js'))) copyFileSync(join(from, f), join(dir, f));
  else copyFileSync(join(ROOT, 'test/fixtures/run-v2-generated-shape/sample.js'), join(dir, 'sample.js'));
  symlinkSync(join(ROOT, 'node_modules'), join(dir, 'node_modules'));
  return from !== undefined;
}

test('the generated @google-cloud/run v2 samples for jobs, executions and tasks reach Gantry through gantry env alone', { timeout: 120_000 }, async () => {
  const dir = tempDir('run-v2-samples-');
  const real = stageSamples(dir);
  const dataDir = tempDir();
  const g = await spawnGantry(['--data-dir', dataDir, '--task-duration', '0.2s']);
  try {
    const home = tempDir('run-v2-home-');
    const bare = { PATH: process.env.PATH, HOME: home, TZ: 'UTC' };
    const { stdout } = await run('bash', ['-c', `eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} env --data-dir ${JSON.stringify(dataDir)})" && env -0`], { env: bare, cwd: home });
    const env = Object.fromEntries(stdout.split('\0').filter(Boolean).map(kv => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]));
    const P = `projects/${env.GANTRY_PROJECT}/locations/${env.GANTRY_REGION}`;
    /** `node SAMPLE.js ARGS`: stdout, stderr and the exit code. */
    const sample = async (name: string, ...args: string[]) => {
      const [client, method, shape, fields] = TABLE[name];
      const argv = real ? [`${name}.js`, ...args] : ['sample.js', client, method, shape, ...fields.map((f, i) => `${f}=${args[i]}`)];
      return run(process.execPath, argv, { env, cwd: dir, timeout: 60_000 }).then(r => ({ ...r, code: 0 }), (e: { stdout: string; stderr: string; code: number }) => e);
    };
    const ok = async (name: string, ...args: string[]) => {
      const r = await sample(name, ...args);
      assert.equal(r.code, 0, `${name}: ${r.stderr}`);
      return r.stdout;
    };
    // The jobs, made over REST (see the header); `slow` runs long enough to be cancelled.
    const rest = async (path: string, body: unknown) => {
      const res = await fetch(`${g.url}/v2/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
      assert.equal(res.status, 200, await res.clone().text());
      return res.json() as Promise<{ name: string; done?: boolean }>;
    };
    const template = { template: { containers: [{ image: 'us-docker.pkg.dev/cloudrun/container/job' }] }, taskCount: 2 };
    await rest(`${P}/jobs?jobId=report`, { template });
    await rest(`${P}/jobs?jobId=slow`, { annotations: { 'gantry.dev/outcomes': '*=succeed~60s' }, template });

    // create_job and update_job: the library refuses a string where the Job message goes, before any request.
    for (const [name, args] of [['jobs.create_job', [P, '{}', 'x']], ['jobs.update_job', ['{}']]] as const) {
      const r = await sample(name, ...args);
      assert.equal(r.code, 1, name);
      assert.match(r.stderr, /Request message serialization failure: .*job: object expected/, name);
    }

    assert.match(await ok('jobs.list_jobs', P), new RegExp(`name: '${P}/jobs/report'[^]*name: '${P}/jobs/slow'|name: '${P}/jobs/slow'[^]*name: '${P}/jobs/report'`));
    const job = await ok('jobs.get_job', `${P}/jobs/report`);
    assert.match(job, new RegExp(`name: '${P}/jobs/report'`));
    assert.match(job, /taskCount: 2/);

    // run_job waits for the execution's operation: it prints the finished execution.
    const ran = await ok('jobs.run_job', `${P}/jobs/report`);
    const execution = new RegExp(`name: '(${P}/jobs/report/executions/report-[a-z0-9]{5})'`).exec(ran)?.[1];
    assert.ok(execution, ran);
    assert.match(ran, /succeededCount: 2/);
    assert.match(await ok('executions.list_executions', `${P}/jobs/report`), new RegExp(`name: '${execution}'`));
    assert.match(await ok('executions.get_execution', execution), /succeededCount: 2/);
    const tasks = await ok('tasks.list_tasks', execution);
    for (const i of [0, 1]) assert.match(tasks, new RegExp(`name: '${execution}/tasks/report-[a-z0-9]{5}-task${i}'`));
    assert.equal([...(await ok('tasks.list_tasks', `${P}/jobs/-/executions/-`)).matchAll(/name: '[^']*\/tasks\/[^']*'/g)].length, 2);
    const task = await ok('tasks.get_task', `${execution}/tasks/${execution.split('/').pop()}-task1`);
    assert.match(task, /index: 1/);
    assert.match(task, /completionTime: \{ seconds/);

    // cancel_execution on a running execution, then delete_execution.
    const op = await rest(`${P}/jobs/slow:run`, {});
    const slow = await eventually(async () => {
      const list = await (await fetch(`${g.url}/v2/${P}/jobs/slow/executions`)).json() as { executions?: { name: string; runningCount?: number }[] };
      return list.executions?.find(e => e.runningCount)?.name;
    }, 10_000);
    assert.ok(op.name);
    const cancelled = await ok('executions.cancel_execution', slow);
    assert.match(cancelled, new RegExp(`name: '${slow}'`));
    assert.match(cancelled, /cancelledCount: 2/);
    assert.match(await ok('executions.delete_execution', slow), new RegExp(`name: '${slow}'`));
    assert.doesNotMatch(await ok('executions.list_executions', `${P}/jobs/slow`), /name:/);

    // delete_job prints the deleted job; list_jobs no longer has it.
    assert.match(await ok('jobs.delete_job', `${P}/jobs/report`), new RegExp(`name: '${P}/jobs/report'`));
    assert.doesNotMatch(await ok('jobs.list_jobs', P), /jobs\/report'/);
  } finally {
    await g.kill('SIGTERM');
  }
});
