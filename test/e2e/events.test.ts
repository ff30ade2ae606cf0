// The live event feed (/gantry/v1/events): every state change as a server-sent event, filtered by project, kind and
// name prefix; the debug log shows the same changes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnGantry, startTestGantry, tempDir, eventually } from '../helpers/server.js';

interface Event { id: number; type: string; kind: string; name: string; time: string; state?: string }

/** Follows the feed; `events` fills as they arrive. */
function follow(url: string): { events: Event[]; stop(): void; opened: Promise<void> } {
  const events: Event[] = [];
  const ac = new AbortController();
  const opened = (async () => {
    const res = await fetch(url, { signal: ac.signal });
    assert.equal(res.status, 200);
    assert.match(res.headers.get('content-type') ?? '', /^text\/event-stream/);
    const reader = res.body!.getReader();
    const decoder = new TextDecoder();
    let buf = '';
    void (async () => {
      try {
        for (;;) {
          const { value, done } = await reader.read();
          if (done) return;
          buf += decoder.decode(value, { stream: true });
          let end;
          while ((end = buf.indexOf('\n\n')) >= 0) {
            const block = buf.slice(0, end);
            buf = buf.slice(end + 2);
            const data = block.split('\n').find(l => l.startsWith('data: '));
            if (data) events.push(JSON.parse(data.slice(6)) as Event);
          }
        }
      } catch { /* aborted */ }
    })();
  })();
  return { events, stop: () => ac.abort(), opened };
}

const post = async (base: string, path: string, body: unknown) => {
  const r = await fetch(base + path, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200, await r.clone().text());
  return r.json() as Promise<Record<string, unknown>>;
};

test('a project\'s rollout states arrive live, in order; other projects and kinds are filtered out', async () => {
  const g = await startTestGantry({ clock: 'virtual' });
  const rollouts = follow(`${g.url}/gantry/v1/events?project=ev-a&kind=rollout`);
  const all = follow(`${g.url}/gantry/v1/events?prefix=projects/ev-b/`);
  try {
    await Promise.all([rollouts.opened, all.opened]);
    for (const p of ['ev-a', 'ev-b']) {
      const loc = `/v1/projects/${p}/locations/us-central1`;
      await post(g.url, `${loc}/targets?targetId=dev`, { run: { location: `projects/${p}/locations/us-central1` } });
      await post(g.url, `${loc}/deliveryPipelines?deliveryPipelineId=app`, { serialPipeline: { stages: [{ targetId: 'dev' }] } });
      await post(g.url, `${loc}/deliveryPipelines/app/releases?releaseId=r1`, {});
    }
    await post(g.url, '/gantry/v1/clock:advance', { duration: '1h' });
    // Rendered; the first rollout is the client's to make (gcloud makes it as part of `releases create`).
    await post(g.url, '/v1/projects/ev-a/locations/us-central1/deliveryPipelines/app/releases/r1/rollouts?rolloutId=r1-to-dev-0001', { targetId: 'dev' });
    await post(g.url, '/gantry/v1/clock:advance', { duration: '1h' });
    await eventually(() => rollouts.events.some(e => e.state === 'SUCCEEDED'), 10_000);
    assert.ok(rollouts.events.every(e => e.kind === 'rollout' && e.name.startsWith('projects/ev-a/')), JSON.stringify(rollouts.events));
    const states = rollouts.events.map(e => e.state);
    assert.ok(states.indexOf('IN_PROGRESS') < states.indexOf('SUCCEEDED') && states.includes('IN_PROGRESS'), states.join(' '));
    const ids = rollouts.events.map(e => e.id);
    assert.deepEqual(ids, [...ids].sort((a, b) => a - b));
    assert.ok(all.events.length > 3 && all.events.every(e => e.name.startsWith('projects/ev-b/')));
    assert.ok(new Set(all.events.map(e => e.kind)).has('release'));
    assert.ok(!all.events.some(e => e.name.includes('~')), 'private records stay private');
    const bad = await fetch(`${g.url}/gantry/v1/events?project=Not_A_Project`);
    assert.equal(bad.status, 400);
  } finally {
    rollouts.stop();
    all.stop();
    await g.close();
  }
});

test('--log-level debug logs each state change', async () => {
  const g = await spawnGantry(['--data-dir', tempDir(), '--log-level', 'debug']);
  let log = '';
  g.proc.stderr!.on('data', (d: Buffer) => { log += d.toString(); });
  try {
    await post(g.url, '/v1/projects/dbg/locations/us-central1/targets?targetId=dev', { run: { location: 'projects/dbg/locations/us-central1' } });
    await eventually(() => /DEBUG put target projects\/dbg\/locations\/us-central1\/targets\/dev/.test(log), 5_000);
  } finally {
    await g.kill('SIGTERM');
  }
});
