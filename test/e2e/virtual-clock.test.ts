// With --clock=virtual, simulated work moves only when the clock is advanced through Gantry's API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { eventually, startTestGantry, tempDir } from '../helpers/server.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/p/locations/us-central1';
let g: Gantry;
before(async () => { g = await startTestGantry({ clock: 'virtual', renderMs: 60_000 }); });
after(() => g.close());

const post = async (path: string, body: unknown) => {
  const r = await fetch(g.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: r.status, json: (await r.json()) as Record<string, unknown> };
};
const state = async () => ((await (await fetch(`${g.url}/v1/${LOC}/deliveryPipelines/p/releases/r`)).json()) as { renderState: string; renderStartTime: string; renderEndTime?: string });

test('a 60 s render completes exactly when the clock passes 60 s', async () => {
  await post(`/v1/${LOC}/targets?targetId=dev`, { run: { location: LOC } });
  await post(`/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, { serialPipeline: { stages: [{ targetId: 'dev' }] } });
  await post(`/v1/${LOC}/deliveryPipelines/p/releases?releaseId=r`, {});
  await new Promise(r => setTimeout(r, 100));
  assert.equal((await state()).renderState, 'IN_PROGRESS');
  assert.equal((await post('/gantry/v1/clock:advance', { duration: '59s' })).status, 200);
  assert.equal((await state()).renderState, 'IN_PROGRESS');
  await post('/gantry/v1/clock:advance', { duration: '1s' });
  const s = await state();
  assert.equal(s.renderState, 'SUCCEEDED');
  assert.equal(Date.parse(s.renderEndTime!) - Date.parse(s.renderStartTime), 60_000);
});

test('the clock API validates its input and reports the mode', async () => {
  const c = (await (await fetch(`${g.url}/gantry/v1/clock`)).json()) as { mode: string };
  assert.equal(c.mode, 'virtual');
  assert.equal((await post('/gantry/v1/clock:advance', { duration: 'soon' })).status, 400);
  assert.equal((await post('/gantry/v1/clock:advance', { to: '2000-01-01T00:00:00Z' })).status, 400);
  const real = await startTestGantry();
  try {
    const r = await fetch(`${real.url}/gantry/v1/clock:advance`, { method: 'POST', body: '{"duration":"1s"}', headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { error: { status: string } }).error.status, 'FAILED_PRECONDITION');
  } finally {
    await real.close();
  }
});

test('a canary rollout with 10-minute jobs runs in virtual time, exactly', async () => {
  const v = await startTestGantry({ clock: 'virtual', renderMs: 30_000, jobMs: 600_000 });
  const call = async (path: string, body: unknown) => (await fetch(v.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })).status;
  const read = async () => (await (await fetch(`${v.url}/v1/${LOC}/deliveryPipelines/c/releases/r/rollouts/ro`)).json()) as { state: string; deployStartTime?: string; deployEndTime?: string; phases: { state: string }[] };
  try {
    await call(`/v1/${LOC}/targets?targetId=t`, { run: { location: LOC } });
    await call(`/v1/${LOC}/deliveryPipelines?deliveryPipelineId=c`, { serialPipeline: { stages: [{ targetId: 't', strategy: { standard: { verify: true } } }] } });
    await call(`/v1/${LOC}/deliveryPipelines/c/releases?releaseId=r`, {});
    assert.equal(await call(`/v1/${LOC}/deliveryPipelines/c/releases/r/rollouts?rolloutId=ro`, { targetId: 't' }), 200);
    await new Promise(r => setTimeout(r, 50));
    assert.equal((await read()).state, 'PENDING_RELEASE');
    await call('/gantry/v1/clock:advance', { duration: '30s' });
    assert.equal((await read()).state, 'IN_PROGRESS');
    await call('/gantry/v1/clock:advance', { duration: '599s' });
    assert.equal((await read()).state, 'IN_PROGRESS');
    await call('/gantry/v1/clock:advance', { duration: '601s' });
    const r = await read();
    assert.equal(r.state, 'SUCCEEDED');
    assert.equal(Date.parse(r.deployEndTime!) - Date.parse(r.deployStartTime!), 1_200_000);
  } finally {
    await v.close();
  }
});

test('one long advance carries a release through its render and its rollout through every job, in order', async () => {
  const v = await startTestGantry({ clock: 'virtual', renderMs: 5_000, jobMs: 20_000 });
  try {
    const call = async (path: string, body: unknown) => (await fetch(v.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } })).status;
    assert.equal(await call(`/v1/${LOC}/targets?targetId=dev`, { run: { location: LOC } }), 200);
    assert.equal(await call(`/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, { serialPipeline: { stages: [{ targetId: 'dev', strategy: { standard: { verify: true } } }] } }), 200);
    assert.equal(await call(`/v1/${LOC}/deliveryPipelines/p/releases?releaseId=r`, {}), 200);
    assert.equal(await call(`/v1/${LOC}/deliveryPipelines/p/releases/r/rollouts?rolloutId=ro`, { targetId: 'dev' }), 200);
    // The render finishes asynchronously; the advance must wait for it before moving past the jobs it starts.
    assert.equal(await call('/gantry/v1/clock:advance', { duration: '86400s' }), 200);
    const ro = (await (await fetch(`${v.url}/v1/${LOC}/deliveryPipelines/p/releases/r/rollouts/ro`)).json()) as { state: string; deployStartTime: string; deployEndTime: string };
    assert.equal(ro.state, 'SUCCEEDED');
    assert.equal(Date.parse(ro.deployEndTime) - Date.parse(ro.deployStartTime), 40_000, 'deploy and verify, 20 s each');
  } finally {
    await v.close();
  }
});

test('a running clock is frozen mid-render, advanced exactly, and unfrozen to run on from there; a restart keeps the lead', async () => {
  const dataDir = tempDir();
  const v = await startTestGantry({ renderMs: 3_600_000, dataDir });
  const call = async (path: string, body: unknown) => {
    const r = await fetch(v.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, await r.clone().text());
    return r.json() as Promise<{ mode: string; now: string }>;
  };
  const release = async () => (await (await fetch(`${v.url}/v1/${LOC}/deliveryPipelines/f/releases/r`)).json()) as { renderState: string; renderStartTime: string; renderEndTime?: string };
  let lead: number;
  try {
    await call(`/v1/${LOC}/targets?targetId=t`, { run: { location: LOC } });
    await call(`/v1/${LOC}/deliveryPipelines?deliveryPipelineId=f`, { serialPipeline: { stages: [{ targetId: 't' }] } });
    await call(`/v1/${LOC}/deliveryPipelines/f/releases?releaseId=r`, {});
    await eventually(async () => (await release()).renderState === 'IN_PROGRESS');
    const frozen = await call('/gantry/v1/clock:freeze', {});
    assert.equal(frozen.mode, 'virtual');
    await new Promise(r => setTimeout(r, 50));
    assert.equal((await (await fetch(`${v.url}/gantry/v1/clock`)).json() as { now: string }).now, frozen.now, 'frozen time stands still');
    await call('/gantry/v1/clock:advance', { duration: '1h' });
    const r = await release();
    assert.equal(r.renderState, 'SUCCEEDED');
    assert.equal(Date.parse(r.renderEndTime!) - Date.parse(r.renderStartTime), 3_600_000);
    const running = await call('/gantry/v1/clock:unfreeze', {});
    assert.equal(running.mode, 'real');
    lead = Date.parse(running.now) - Date.now();
    assert.ok(lead > 3_500_000, `time runs on from the frozen instant, ${lead} ms ahead of the wall clock`);
  } finally {
    await v.close();
  }
  const again = await startTestGantry({ dataDir });
  try {
    const c = (await (await fetch(`${again.url}/gantry/v1/clock`)).json()) as { mode: string; now: string };
    assert.equal(c.mode, 'real');
    assert.ok(Date.parse(c.now) - Date.now() > lead - 5_000, 'a restart does not take time back');
  } finally {
    await again.close();
  }
});

test('a single advance of an hour after releases create puts the render and every job exactly where the durations say', async () => {
  const v = await startTestGantry({ clock: 'virtual', renderMs: 90_000, jobMs: 600_000 });
  const base = `${v.url}/v1/${LOC}/deliveryPipelines/h`;
  const call = async (path: string, body: unknown) => {
    const r = await fetch(v.url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, await r.clone().text());
  };
  const get = async <T>(url: string) => (await (await fetch(url)).json()) as T;
  const at = (t: string | undefined) => Date.parse(t!);
  try {
    await call(`/v1/${LOC}/targets?targetId=stage`, { run: { location: LOC } });
    await call(`/v1/${LOC}/deliveryPipelines?deliveryPipelineId=h`, { serialPipeline: { stages: [{ targetId: 'stage', strategy: { standard: { predeploy: { actions: ['a'] }, verify: true, postdeploy: { actions: ['b'] } } } }] } });
    const t0 = Date.parse((await get<{ now: string }>(`${v.url}/gantry/v1/clock`)).now);
    // What `gcloud deploy releases create` does: create the release, then a rollout to the first target at once.
    await call(`/v1/${LOC}/deliveryPipelines/h/releases?releaseId=r`, {});
    await call(`/v1/${LOC}/deliveryPipelines/h/releases/r/rollouts?rolloutId=r-to-stage-0001`, { targetId: 'stage' });
    await call('/gantry/v1/clock:advance', { duration: '1h' });

    const rel = await get<{ renderState: string; createTime: string; renderStartTime: string; renderEndTime: string }>(`${base}/releases/r`);
    assert.equal(rel.renderState, 'SUCCEEDED');
    assert.equal(at(rel.createTime), t0);
    assert.equal(at(rel.renderStartTime), t0);
    assert.equal(at(rel.renderEndTime), t0 + 90_000);

    const ro = await get<{ state: string; deployStartTime: string; deployEndTime: string; enqueueTime: string }>(`${base}/releases/r/rollouts/r-to-stage-0001`);
    assert.equal(ro.state, 'SUCCEEDED');
    const deployStart = t0 + 90_000;
    assert.equal(at(ro.deployStartTime), deployStart);
    const { jobRuns } = await get<{ jobRuns: { jobId: string; state: string; createTime: string; startTime: string; endTime: string }[] }>(`${base}/releases/r/rollouts/r-to-stage-0001/jobRuns`);
    const byJob = new Map(jobRuns.map(j => [j.jobId, j]));
    let t = deployStart;
    for (const job of ['predeploy', 'deploy', 'verify', 'postdeploy']) {
      const jr = byJob.get(job);
      assert.ok(jr, `a ${job} job run`);
      assert.equal(jr.state, 'SUCCEEDED', job);
      assert.equal(at(jr.startTime), t, `${job} starts when the job before it ends`);
      assert.equal(at(jr.endTime), t + 600_000, `${job} takes its ten minutes`);
      t += 600_000;
    }
    assert.equal(at(ro.deployEndTime), t);
    assert.equal(jobRuns.length, 4);
    assert.equal(Date.parse((await get<{ now: string }>(`${v.url}/gantry/v1/clock`)).now), t0 + 3_600_000, 'the clock stands at the end of the advance');
  } finally {
    await v.close();
  }
});
