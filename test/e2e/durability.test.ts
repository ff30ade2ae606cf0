// A SIGKILLed Gantry loses no acknowledged write and resumes unfinished work after restart.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnGantry, tempDir, eventually } from '../helpers/server.js';

const LOC = 'projects/p/locations/us-central1';

async function post(url: string, path: string, body: unknown): Promise<number> {
  const r = await fetch(url + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  await r.arrayBuffer();
  return r.status;
}

test('every acknowledged write survives SIGKILL, even with writes in flight', async () => {
  const dir = tempDir();
  const g = await spawnGantry(['--data-dir', dir, '--log-level', 'silent']);
  const acked: string[] = [];
  let stop = false;
  const writers = Array.from({ length: 4 }, async (_, w) => {
    for (let i = 0; !stop; i++) {
      const id = `t-${w}-${i}`;
      try {
        if (await post(g.url, `/v1/${LOC}/targets?targetId=${id}`, { run: { location: LOC } }) === 200) acked.push(id);
      } catch {
        return; // the server died mid-request: that write was never acknowledged
      }
    }
  });
  await eventually(() => acked.length >= 200, 20_000);
  await g.kill('SIGKILL');
  stop = true;
  await Promise.all(writers);
  const again = await spawnGantry(['--data-dir', dir, '--log-level', 'silent']);
  try {
    const names = new Set<string>();
    let pageToken = '';
    do {
      const r = (await (await fetch(`${again.url}/v1/${LOC}/targets?pageSize=1000&pageToken=${pageToken}`)).json()) as { targets?: { targetId: string }[]; nextPageToken?: string };
      for (const t of r.targets ?? []) names.add(t.targetId);
      pageToken = r.nextPageToken ?? '';
    } while (pageToken);
    const lost = acked.filter(id => !names.has(id));
    assert.deepEqual(lost, [], `${lost.length} of ${acked.length} acknowledged writes were lost`);
  } finally {
    await again.kill('SIGTERM');
  }
});

test('a render interrupted by SIGKILL finishes after restart', async () => {
  const dir = tempDir();
  const args = ['--data-dir', dir, '--log-level', 'silent', '--render-duration', '1.5s'];
  const g = await spawnGantry(args);
  assert.equal(await post(g.url, `/v1/${LOC}/targets?targetId=dev`, { run: { location: LOC } }), 200);
  assert.equal(await post(g.url, `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, { serialPipeline: { stages: [{ targetId: 'dev' }] } }), 200);
  assert.equal(await post(g.url, `/v1/${LOC}/deliveryPipelines/p/releases?releaseId=r1`, {}), 200);
  const release = `/v1/${LOC}/deliveryPipelines/p/releases/r1`;
  const mid = (await (await fetch(g.url + release)).json()) as { renderState: string };
  assert.equal(mid.renderState, 'IN_PROGRESS');
  await g.kill('SIGKILL');
  const again = await spawnGantry(args);
  try {
    const done = await eventually(async () => {
      const r = (await (await fetch(again.url + release)).json()) as { renderState: string; targetRenders: Record<string, { renderingState: string }> };
      return r.renderState === 'SUCCEEDED' ? r : undefined;
    }, 10_000);
    assert.equal(done.targetRenders.dev.renderingState, 'SUCCEEDED');
  } finally {
    await again.kill('SIGTERM');
  }
});

test('a rollout interrupted by SIGKILL mid-job resumes and reaches the state it would have reached', async () => {
  const dir = tempDir();
  const args = ['--data-dir', dir, '--log-level', 'silent', '--render-duration', '0.1s', '--job-duration', '0.8s'];
  const g = await spawnGantry(args);
  assert.equal(await post(g.url, `/v1/${LOC}/targets?targetId=dev`, { run: { location: LOC } }), 200);
  assert.equal(await post(g.url, `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=p`, { serialPipeline: { stages: [{ targetId: 'dev', strategy: { standard: { verify: true } } }] } }), 200);
  assert.equal(await post(g.url, `/v1/${LOC}/deliveryPipelines/p/releases?releaseId=r1`, { annotations: { 'gantry.dev/outcomes': 'stable/verify=fail:DEADLINE_EXCEEDED' } }), 200);
  assert.equal(await post(g.url, `/v1/${LOC}/deliveryPipelines/p/releases/r1/rollouts?rolloutId=ro1`, { targetId: 'dev' }), 200);
  const rollout = `/v1/${LOC}/deliveryPipelines/p/releases/r1/rollouts/ro1`;
  type R = { state: string; deployFailureCause?: string; phases: { deploymentJobs: { deployJob: { state: string }; verifyJob: { state: string } } }[] };
  await eventually(async () => ((await (await fetch(g.url + rollout)).json()) as R).phases[0].deploymentJobs.deployJob.state === 'IN_PROGRESS', 5000);
  await g.kill('SIGKILL');
  const again = await spawnGantry(args);
  try {
    const r = await eventually(async () => {
      const x = (await (await fetch(again.url + rollout)).json()) as R;
      return x.state === 'FAILED' ? x : undefined;
    }, 10_000);
    assert.equal(r.deployFailureCause, 'DEADLINE_EXCEEDED');
    assert.equal(r.phases[0].deploymentJobs.deployJob.state, 'SUCCEEDED');
    assert.equal(r.phases[0].deploymentJobs.verifyJob.state, 'FAILED');
  } finally {
    await again.kill('SIGTERM');
  }
});

test('SIGTERM shuts down cleanly with exit code 0', async () => {
  const g = await spawnGantry(['--data-dir', tempDir(), '--log-level', 'silent']);
  assert.equal(await g.kill('SIGTERM'), 0);
});

test('refuses to listen beyond loopback without a token', async () => {
  await assert.rejects(spawnGantry(['--host', '0.0.0.0', '--data-dir', tempDir()]), /needs --auth-token/);
});
