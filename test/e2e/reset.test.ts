// POST /gantry/v1/reset: one project's state (or all of it) gone, its running tasks stopped before the answer, and
// every other project's work running on untouched.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import type { Gantry } from '../../src/gantry.js';

async function call(g: Gantry, method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, any> }> {
  const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: r.status, json: (await r.json()) as Record<string, any> };
}
const ok = async (g: Gantry, method: string, path: string, body?: unknown) => {
  const r = await call(g, method, path, body);
  assert.equal(r.status, 200, JSON.stringify(r.json));
  return r.json;
};

async function pipelineWithRollout(g: Gantry, project: string): Promise<string> {
  const loc = `projects/${project}/locations/us-central1`;
  await ok(g, 'POST', `/v1/${loc}/targets?targetId=dev`, { run: { location: loc } });
  await ok(g, 'POST', `/v1/${loc}/deliveryPipelines?deliveryPipelineId=app`, { serialPipeline: { stages: [{ targetId: 'dev' }] } });
  await ok(g, 'POST', `/v1/${loc}/deliveryPipelines/app/releases?releaseId=r1`, {});
  await ok(g, 'POST', '/gantry/v1/clock:advance', { duration: '10s' });
  await ok(g, 'POST', `/v1/${loc}/deliveryPipelines/app/releases/r1/rollouts?rolloutId=ro`, { targetId: 'dev' });
  await ok(g, 'POST', '/gantry/v1/outcomes', { scope: `${loc}/deliveryPipelines/app`, rules: '*/deploy=succeed~10m' });
  await ok(g, 'POST', '/v2/entries:write', { entries: [{ logName: `projects/${project}/logs/app`, resource: { type: 'global' }, textPayload: `hello from ${project}` }] });
  return `${loc}/deliveryPipelines/app/releases/r1/rollouts/ro`;
}

test('a project reset forgets that project only; the other project\'s rollout runs on; then a full reset forgets everything', async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 5_000, jobMs: 600_000 });
  try {
    const a = await pipelineWithRollout(g, 'reset-a');
    const b = await pipelineWithRollout(g, 'reset-b');
    await ok(g, 'POST', '/gantry/v1/clock:advance', { duration: '1m' });
    assert.equal((await ok(g, 'GET', `/v1/${b}`)).state, 'IN_PROGRESS');

    const r = await ok(g, 'POST', '/gantry/v1/reset', { project: 'reset-a' });
    assert.equal(r.project, 'reset-a');
    assert.ok(r.resources > 5, JSON.stringify(r));
    assert.equal((await call(g, 'GET', `/v1/${a}`)).status, 404);
    assert.deepEqual(await ok(g, 'GET', '/v1/projects/reset-a/locations/us-central1/targets'), {});
    const logsA = await ok(g, 'POST', '/v2/entries:list', { resourceNames: ['projects/reset-a'] });
    assert.equal(logsA.entries, undefined);
    const outcomes = (await ok(g, 'GET', '/gantry/v1/outcomes')).outcomes as { scope: string }[];
    assert.deepEqual(outcomes.map(o => o.scope), ['projects/reset-b/locations/us-central1/deliveryPipelines/app']);

    await ok(g, 'POST', '/gantry/v1/clock:advance', { duration: '1h' });
    assert.equal((await ok(g, 'GET', `/v1/${b}`)).state, 'SUCCEEDED', 'the other project ran on');
    assert.equal((await ok(g, 'POST', '/v2/entries:list', { resourceNames: ['projects/reset-b'], filter: 'logName="projects/reset-b/logs/app"' })).entries.length, 1);
    assert.ok((await ok(g, 'POST', '/v2/entries:list', { resourceNames: ['projects/reset-b'], filter: 'resource.type="build"' })).entries.length >= 2, 'and its job run wrote its log');
    // The same names can be made again, from nothing.
    await pipelineWithRollout(g, 'reset-a');

    const all = await ok(g, 'POST', '/gantry/v1/reset', {});
    assert.ok(all.resources > 10);
    for (const p of ['reset-a', 'reset-b']) assert.deepEqual(await ok(g, 'GET', `/v1/projects/${p}/locations/us-central1/deliveryPipelines`), {});
    assert.equal((await ok(g, 'GET', '/gantry/v1/outcomes')).outcomes.length, 0);
    assert.equal((await call(g, 'POST', '/gantry/v1/reset', { project: 'Not A Project' })).status, 400);
    assert.equal((await call(g, 'POST', '/gantry/v1/reset', { everything: true })).status, 400);
  } finally {
    await g.close();
  }
});

test('a reset answers only once the project\'s running tasks have exited; another project\'s task runs on', async () => {
  const g = await startTestGantry({ executor: 'process' });
  const dir = tempDir();
  try {
    for (const p of ['run-a', 'run-b']) {
      const loc = `projects/${p}/locations/us-central1`;
      const script = `echo $$ > ${join(dir, p)}.pid; exec sleep 30`;
      await ok(g, 'POST', `/v2/${loc}/jobs?jobId=sleeper`, { template: { template: { maxRetries: 0, containers: [{ image: 'busybox', command: ['sh', '-c', script] }] } } });
      await eventually(async () => !(await ok(g, 'GET', `/v2/${loc}/jobs/sleeper`)).reconciling);
      await ok(g, 'POST', `/v2/${loc}/jobs/sleeper:run`, {});
    }
    const pid = async (p: string) => { await eventually(() => existsSync(join(dir, `${p}.pid`)), 10_000); return Number(readFileSync(join(dir, `${p}.pid`), 'utf8').trim()); };
    const alive = (n: number) => { try { process.kill(n, 0); return true; } catch { return false; } };
    const [pa, pb] = [await pid('run-a'), await pid('run-b')];
    assert.ok(alive(pa) && alive(pb));
    const r = await ok(g, 'POST', '/gantry/v1/reset', { project: 'run-a' });
    assert.equal(r.tasksStopped, 1);
    assert.equal(alive(pa), false, 'the project\'s task has exited by the time reset answers');
    assert.equal(alive(pb), true, 'the other project\'s task runs on');
    assert.equal((await call(g, 'GET', '/v2/projects/run-a/locations/us-central1/jobs/sleeper')).status, 404);
    const executions = await ok(g, 'GET', '/v2/projects/run-b/locations/us-central1/jobs/sleeper/executions');
    assert.equal(executions.executions[0].runningCount, 1);
    await ok(g, 'POST', '/gantry/v1/reset', {});
    assert.equal(alive(pb), false);
  } finally {
    await g.close();
  }
});
