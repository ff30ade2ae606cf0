// Ctrl-C stops the tasks Gantry started (their whole process groups) and records no result for them: the store keeps
// the attempts running, as after a kill, so the next start finds them lost, fails them into their retry rules, and
// says so in its log.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, writeFileSync, existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { spawnGantry, startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { DeployKit } from '../helpers/deploy.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/hooks', import.meta.url));
const NS = '/apis/run.googleapis.com/v1/namespaces/shut';

async function call(url: string, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await fetch(url + NS + path, { method, body: body ? JSON.stringify(body) : undefined, headers: { 'content-type': 'application/json' } });
  const j = await r.json() as Record<string, any>;
  if (r.status !== 200) throw new Error(`${method} ${path}: ${r.status} ${JSON.stringify(j)}`);
  return j;
}

/** A job whose first attempt records its pid in `marks` and sleeps (as a child of its shell), and whose retry succeeds. */
const job = (name: string, marks: string, maxRetries: number) => ({
  metadata: { name },
  spec: { template: { spec: { template: { spec: { maxRetries, containers: [{ image: 'busybox', command: ['sh', '-c',
    `echo $$ > ${marks}/${name}-$CLOUD_RUN_TASK_ATTEMPT; [ "$CLOUD_RUN_TASK_ATTEMPT" = 1 ] || { sleep 60 & echo $! > ${marks}/${name}-child; wait; }`] }] } } } } },
});

const gone = (pid: number) => { try { process.kill(pid, 0); return false; } catch { return true; } };

async function completed(url: string, ex: string) {
  return eventually(async () => {
    const e = await call(url, 'GET', `/executions/${ex}`);
    return e.status.conditions.find((c: { type: string; status: string }) => c.type === 'Completed' && c.status !== 'Unknown') ? e : undefined;
  }, 20_000);
}

test('SIGINT stops process tasks with their children, records nothing, and the restart fails the lost attempts into their retries', async () => {
  const dir = tempDir();
  const marks = tempDir('gantry-shutdown-marks-');
  const args = ['--data-dir', dir, '--executor', 'process', '--log-level', 'info'];
  const g = await spawnGantry(args);
  const pids: number[] = [];
  let again: Awaited<ReturnType<typeof spawnGantry>> | undefined;
  try {
    await call(g.url, 'POST', '/jobs', job('retried', marks, 1));
    await call(g.url, 'POST', '/jobs', job('final', marks, 0));
    for (const j of ['retried', 'final']) await eventually(async () => (await call(g.url, 'GET', `/jobs/${j}`)).status?.conditions?.[0]?.status === 'True');
    const retried = (await call(g.url, 'POST', '/jobs/retried:run', {})).metadata.name as string;
    const final = (await call(g.url, 'POST', '/jobs/final:run', {})).metadata.name as string;
    for (const f of ['retried-0', 'retried-child', 'final-0', 'final-child']) {
      await eventually(() => existsSync(join(marks, f)) && readFileSync(join(marks, f), 'utf8').trim() !== '');
      pids.push(Number(readFileSync(join(marks, f), 'utf8')));
    }

    const t0 = Date.now();
    assert.equal(await g.kill('SIGINT'), 0);
    assert.ok(Date.now() - t0 < 5000, `Gantry took ${Date.now() - t0} ms to stop`);
    // Each task's shell and the sleep it started (same process group) are gone.
    await eventually(() => pids.every(gone), 2000);
    assert.doesNotMatch(g.output(), /Restart:/);

    again = await spawnGantry(args);
    const r = await completed(again.url, retried);
    assert.equal(r.status.succeededCount, 1, 'the lost attempt was retried and its retry succeeded');
    assert.equal(r.status.retriedCount, 1);
    const f = await completed(again.url, final);
    assert.equal(f.status.failedCount, 1, 'with no retries left, the lost attempt failed its task');
    const task = await call(again.url, 'GET', `/tasks/${final}-task0`);
    // Not "Cancelled by user.": the shutdown wrote no result; the restart found the attempt lost.
    assert.match(JSON.stringify(task.status.lastAttemptResult), /lost when Gantry stopped/);
    const line = await eventually(() => /INFO Restart: (.*)/.exec(again!.output())?.[1]);
    assert.equal(line, 'resumed 2 executions; failed 1 task attempt lost when it stopped, into its retry; failed 1 task attempt lost when it stopped, with no retries left');
  } finally {
    for (const pid of pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    if (g.proc.exitCode === null && g.proc.signalCode === null) await g.kill('SIGKILL');
    await again?.kill('SIGTERM');
  }
});

test('SIGINT during a Cloud Deploy job run stops its process and leaves the job run running, so the restart runs it again', async () => {
  const dir = tempDir();
  const marks = tempDir('gantry-shutdown-deploy-');
  const source = join(tempDir('gantry-shutdown-src-'), 'src');
  cpSync(FIXTURE, source, { recursive: true });
  // The deployed service itself is simulated: this test is about the predeploy process.
  writeFileSync(join(source, 'service.yaml'), readFileSync(join(source, 'service.yaml'), 'utf8').replace('  name: hooks\n', '  name: hooks\n  annotations:\n    gantry.dev/executor: simulated\n'));
  const args = ['--data-dir', dir, '--executor', 'process', '--log-level', 'info', '--render-duration', '0s', '--source-dirs', dirname(source)];
  const LOC = 'projects/shut/locations/us-central1';
  // The first run records its pid and sleeps; the run after the restart finds the marker and succeeds.
  const script = `[ -e ${marks}/ran ] && exit 0; touch ${marks}/ran; echo $$ > ${marks}/pid; sleep 60 & echo $! > ${marks}/child; wait`;
  const g = await spawnGantry(args);
  const pids: number[] = [];
  let again: Awaited<ReturnType<typeof spawnGantry>> | undefined;
  try {
    const k = new DeployKit().attach(g.url);
    await k.opDone(k.api.targets.create({ parent: LOC, targetId: 'dev', requestBody: { run: { location: LOC } } }));
    await k.opDone(k.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'p', requestBody: { serialPipeline: { stages: [
      { targetId: 'dev', strategy: { standard: { predeploy: { tasks: [{ container: { image: 'busybox', command: ['sh', '-c', script] } }] } } } as never },
    ] } } }));
    const release = await k.renderedRelease(`${LOC}/deliveryPipelines/p`, 'r1', { skaffoldConfigUri: pathToFileURL(source).href });
    assert.equal(release.renderState, 'SUCCEEDED');
    await k.opDone(k.rollouts.create({ parent: release.name!, rolloutId: 'ro', requestBody: { targetId: 'dev' } }));
    for (const f of ['pid', 'child']) {
      await eventually(() => existsSync(join(marks, f)) && readFileSync(join(marks, f), 'utf8').trim() !== '', 15_000);
      pids.push(Number(readFileSync(join(marks, f), 'utf8')));
    }
    const rollout = `${release.name}/rollouts/ro`;
    const jobRun = (await k.rollout(rollout)).phases![0].deploymentJobs!.predeployJob!.jobRun!;

    assert.equal(await g.kill('SIGINT'), 0);
    await eventually(() => pids.every(gone), 2000);

    again = await spawnGantry(args);
    const k2 = new DeployKit().attach(again.url);
    // Not TERMINATED by the shutdown (which would fail the rollout): the same job run runs again and succeeds.
    const done = await k2.until(rollout, r => r.state !== 'IN_PROGRESS', 20_000);
    assert.equal(done.state, 'SUCCEEDED', done.failureReason ?? '');
    assert.equal(done.phases![0].deploymentJobs!.predeployJob!.jobRun, jobRun);
    assert.equal((await k2.rollouts.jobRuns.get({ name: jobRun })).data.state, 'SUCCEEDED');
    assert.match(await eventually(() => /INFO Restart: (.*)/.exec(again!.output())?.[1]), /^resumed 1 rollout, 1 job run$/);
  } finally {
    for (const pid of pids) try { process.kill(pid, 'SIGKILL'); } catch { /* gone */ }
    if (g.proc.exitCode === null && g.proc.signalCode === null) await g.kill('SIGKILL');
    await again?.kill('SIGTERM');
  }
});

test('close() ends promptly while a clock advance waits for a real task, and the advance is answered', { timeout: 20_000 }, async () => {
  const marks = tempDir('gantry-shutdown-advance-');
  const g = await startTestGantry({ clock: 'virtual', executor: 'process' });
  await call(g.url, 'POST', '/jobs', job('slow', marks, 0));
  await eventually(async () => (await call(g.url, 'GET', '/jobs/slow')).status?.conditions?.[0]?.status === 'True');
  await call(g.url, 'POST', '/jobs/slow:run', {});
  await eventually(() => existsSync(join(marks, 'slow-child')) && readFileSync(join(marks, 'slow-child'), 'utf8').trim() !== '');
  const child = Number(readFileSync(join(marks, 'slow-child'), 'utf8'));
  // The advance settles the controllers first, which waits for the running attempt.
  const advance = fetch(`${g.url}/gantry/v1/clock:advance`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ duration: '1s' }) });
  await new Promise(r => setTimeout(r, 200));
  const t0 = Date.now();
  await g.close();
  assert.ok(Date.now() - t0 < 5000, `close() took ${Date.now() - t0} ms`);
  assert.equal((await advance).status, 200);
  await eventually(() => gone(child), 2000);
});
