// With --clock=virtual, simulated work moves only when the clock is advanced through Gantry's API.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/p/locations/us-central1';
let g: Gantry;
before(async () => { g = await startTestGantry({ clock: 'virtual', renderMs: 60_000 }); });
after(() => g.close());

const post = async (path: string, body: unknown) => {
  const r = await fetch(g.url + path, { method: 'POST', body: JSON.stringify(body) });
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
    const r = await fetch(`${real.url}/gantry/v1/clock:advance`, { method: 'POST', body: '{"duration":"1s"}' });
    assert.equal(r.status, 400);
    assert.equal(((await r.json()) as { error: { status: string } }).error.status, 'FAILED_PRECONDITION');
  } finally {
    await real.close();
  }
});
