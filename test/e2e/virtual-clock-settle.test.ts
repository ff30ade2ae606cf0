// An advance of the virtual clock returns only once every consequence has happened, each at the virtual
// instant it was due: asynchronous work a controller starts on the way (reading a release's source,
// a rollout that starts when the render ends) is part of the settle.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startTestGantry } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/clouddeploy.yaml', import.meta.url));
const APP = fileURLToPath(new URL('../../../test/fixtures/app', import.meta.url));
const PIPE = 'projects/my-proj/locations/us-central1/deliveryPipelines/web';
let g: Gantry;
let gcloud: Gcloud;

before(async () => {
  g = await startTestGantry({ clock: 'virtual', renderMs: 1000, jobMs: 1000 });
  gcloud = await gcloudFor(g.url);
  await gcloud(['deploy', 'apply', `--file=${FIXTURE}`, '--region=us-central1']);
});
after(() => g.close());

const advance = async (body: unknown) => {
  const r = await fetch(`${g.url}/gantry/v1/clock:advance`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200, await r.clone().text());
  return (await r.json()) as { now: string };
};
const get = async <T>(path: string) => (await (await fetch(`${g.url}/v1/${path}`)).json()) as T;

test('one advance after `releases create --source` settles render and rollout at their due instants', async () => {
  await gcloud(['deploy', 'releases', 'create', 'rel-1', `--source=${APP}`, '--delivery-pipeline=web', '--region=us-central1', '--quiet']);
  const start = Date.parse((await (await fetch(`${g.url}/gantry/v1/clock`)).json() as { now: string }).now);
  await advance({ duration: '100s' });
  const rel = await get<{ renderState: string; renderStartTime: string; renderEndTime: string }>(`${PIPE}/releases/rel-1`);
  assert.equal(rel.renderState, 'SUCCEEDED');
  assert.equal(Date.parse(rel.renderEndTime) - Date.parse(rel.renderStartTime), 1000);
  const ro = await get<{ state: string; deployStartTime: string; deployEndTime: string }>(`${PIPE}/releases/rel-1/rollouts/rel-1-to-dev-0001`);
  assert.equal(ro.state, 'SUCCEEDED');
  assert.equal(Date.parse(ro.deployStartTime), Date.parse(rel.renderEndTime));
  assert.equal(Date.parse(ro.deployEndTime) - Date.parse(ro.deployStartTime), 1000);
  assert.ok(Date.parse(ro.deployEndTime) < start + 100_000);
});

test('durations are accepted as Google writes them and as people do', async () => {
  for (const [duration, ms] of [['90s', 90_000], ['10m', 600_000], ['1h30m', 5_400_000], ['1.5s', 1500], ['2h', 7_200_000], ['1m30.5s', 90_500]] as const) {
    const before = Date.parse((await (await fetch(`${g.url}/gantry/v1/clock`)).json() as { now: string }).now);
    const after = Date.parse((await advance({ duration })).now);
    assert.equal(after - before, ms, duration);
  }
  for (const bad of ['10', 'm', '1x', '-5s', '1h-30m', '99999999999999h']) {
    const r = await fetch(`${g.url}/gantry/v1/clock:advance`, { method: 'POST', body: JSON.stringify({ duration: bad }), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 400, bad);
  }
});

test('outcome rules take durations as people write them: a 10m deploy ends exactly 10 minutes in', async () => {
  const rel = `${PIPE}/releases/rel-slow`;
  const post = (path: string, body: unknown) => fetch(`${g.url}/v1/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  assert.equal((await post(`${PIPE}/releases?releaseId=rel-slow`, { annotations: { 'gantry.dev/outcomes': '*/deploy=succeed~10m' } })).status, 200);
  await advance({ duration: '1s' });
  assert.equal((await post(`${rel}/rollouts?rolloutId=slow`, { targetId: 'staging' })).status, 200);
  await advance({ duration: '1s' });
  const started = await get<{ state: string; deployStartTime: string }>(`${rel}/rollouts/slow`);
  assert.equal(started.state, 'IN_PROGRESS');
  await advance({ duration: '9m58s' });
  assert.equal((await get<{ state: string }>(`${rel}/rollouts/slow`)).state, 'IN_PROGRESS');
  await advance({ duration: '1h' });
  const done = await get<{ state: string; deployStartTime: string; deployEndTime: string }>(`${rel}/rollouts/slow`);
  assert.equal(done.state, 'SUCCEEDED');
  // staging verifies (1 s simulated job) after its 10-minute deploy.
  assert.equal(Date.parse(done.deployEndTime) - Date.parse(done.deployStartTime), 601_000);
  const bad = await post(`${PIPE}/releases?releaseId=rel-bad`, { annotations: { 'gantry.dev/outcomes': '*/deploy=succeed~10x' } });
  assert.equal(bad.status, 400);
});
