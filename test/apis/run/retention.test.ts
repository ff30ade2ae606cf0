// A job keeps its newest 1,000 executions and every one of the last 7 days, as Cloud Run documents; older finished
// executions go with their tasks.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../../helpers/server.js';

const NS = '/apis/run.googleapis.com/v1/namespaces/keep';

test('execution history is bounded: the newest 1,000 and the last 7 days', async () => {
  const g = await startTestGantry({ clock: 'virtual', taskMs: 0 });
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: r.status, body: await r.json() as Record<string, any> };
  };
  try {
    assert.equal((await call('POST', `${NS}/jobs`, { metadata: { name: 'often' }, spec: { template: { spec: { template: { spec: { containers: [{ image: 'i' }] } } } } } })).status, 200);
    await g.runtime.idle();
    const names: string[] = [];
    const run = async () => {
      const r = await call('POST', `${NS}/jobs/often:run`, {});
      assert.equal(r.status, 200, JSON.stringify(r.body));
      names.push(r.body.metadata.name);
      await g.runtime.idle();
    };
    for (let i = 0; i < 30; i++) await run();
    await call('POST', '/gantry/v1/clock:advance', { duration: '192h' });
    for (let i = 0; i < 1000; i++) await run();
    let listed = 0, token = '';
    do {
      const page = await call('GET', `${NS}/executions?labelSelector=run.googleapis.com/job%3Doften&limit=1000${token ? `&continue=${token}` : ''}`);
      listed += page.body.items.length;
      token = page.body.metadata.continue ?? '';
    } while (token);
    // Pruned when the 1,025th finished: the 25 oldest (older than 7 days) went; 5 more ran since.
    assert.equal(listed, 1005);
    assert.equal((await call('GET', `${NS}/executions/${names[0]}`)).status, 404);
    assert.equal((await call('GET', `${NS}/tasks/${names[0]}-task0`)).status, 404);
    assert.equal((await call('GET', `${NS}/executions/${names[25]}`)).status, 200);
  } finally {
    await g.close();
  }
});
