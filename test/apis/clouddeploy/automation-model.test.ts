// Model-based test of automations and their runs: random (seeded) sequences of releases, rollouts to the first target,
// scripted job failures, cancels of runs, suspending the automation, the virtual clock and restarts, through HTTP on
// simulated rollouts with promote and repair rules. After every step, once the controllers have settled:
//  (a) a finished run never changes state again; (b) a PENDING run waits for a time still ahead;
//  (c) a rollout's activeRepairAutomationRun names an unfinished repair run of that very rollout;
//  (d) a succeeded promotion's rollout exists and links back to its run; (e) a refused cancel changes nothing;
//  (f) once time moves on, every run has finished.
// GANTRY_MODEL_SEED reproduces a run (printed on failure); GANTRY_MODEL_STEPS sets its length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { startTestGantry, tempDir } from '../../helpers/server.js';
import { rng, runModel, type Action } from '../../helpers/model.js';
import type { Gantry } from '../../../src/gantry.js';

const SEED = Number(process.env.GANTRY_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STEPS = Number(process.env.GANTRY_MODEL_STEPS ?? 120);
const LOC = 'projects/amodel/locations/us-central1';
const DP = `${LOC}/deliveryPipelines/flow`;
const OUTCOMES = ['', '', 'stable/verify=fail', 'stable/verify=fail@1', '*/deploy=fail@1'];
const DONE = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'ABORTED']);

type Obj = Record<string, any>;


test(`automation run invariants hold under random operation sequences (seed ${SEED})`, { timeout: 300_000 }, async () => {
  const random = rng(SEED);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const opts = { dataDir: tempDir(), clock: 'virtual' as const, renderMs: 1000, jobMs: 10_000 };
  let g: Gantry = await startTestGantry(opts);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: r.status, body: await r.json() as Obj };
  };
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body);
    assert.equal(r.status, 200, `seed ${SEED}: ${method} ${path}: ${JSON.stringify(r.body)}`);
    return r.body;
  };
  for (const t of ['dev', 'stage', 'prod']) await ok('POST', `/v1/${LOC}/targets?targetId=${t}`, { run: { location: LOC } });
  await ok('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=flow`, { serialPipeline: { stages: [
    { targetId: 'dev' }, { targetId: 'stage', strategy: { standard: { verify: true } } }, { targetId: 'prod', strategy: { standard: { verify: true } } },
  ] } });
  await ok('POST', `/v1/${DP}/automations?automationId=auto`, {
    serviceAccount: 'deployer@amodel.iam.gserviceaccount.com', selector: { targets: [{ id: '*' }] },
    rules: [
      { promoteReleaseRule: { id: 'promote', wait: '120s' } },
      { repairRolloutRule: { id: 'repair', repairPhases: [{ retry: { attempts: '2', wait: '60s', backoffMode: 'BACKOFF_MODE_EXPONENTIAL' } }, { rollback: {} }] } },
    ],
  });
  const listAll = async (path: string, key: string) => {
    const out: Obj[] = [];
    let token = '';
    do {
      const r = await ok('GET', `/v1/${path}?pageSize=1000${token ? `&pageToken=${token}` : ''}`);
      out.push(...(r[key] ?? []));
      token = r.nextPageToken ?? '';
    } while (token);
    return out;
  };
  const world = async () => ({ runs: await listAll(`${DP}/automationRuns`, 'automationRuns'), rollouts: await listAll(`${DP}/releases/-/rollouts`, 'rollouts') });
  const finished = new Map<string, string>();
  let n = 0;

  const check = async (step: number, what: string) => {
    const w = await world();
    const ctx = `seed ${SEED}, step ${step} (${what})`;
    const now = Date.parse(((await ok('GET', '/gantry/v1/clock')) as { now: string }).now);
    const byName = new Map(w.runs.map(r => [r.name, r]));
    for (const r of w.runs) {
      const was = finished.get(r.name);
      if (was) assert.equal(r.state, was, `${ctx}: finished run ${r.ruleId} ${r.name} went from ${was} to ${r.state}`);
      else if (DONE.has(r.state)) finished.set(r.name, r.state);
      if (r.state === 'PENDING') assert.ok(Date.parse(r.waitUntilTime) > now, `${ctx}: PENDING run ${r.name} waits for ${r.waitUntilTime}, already past`);
      if (r.ruleId === 'promote' && r.state === 'SUCCEEDED') {
        const ro = w.rollouts.find(x => x.name === r.promoteReleaseOperation.rollout);
        assert.ok(ro, `${ctx}: promotion ${r.name} names a missing rollout`);
        assert.equal(ro.metadata?.automation?.promoteAutomationRun, r.name, `${ctx}: ${ro.name} does not link back`);
      }
    }
    for (const ro of w.rollouts) {
      const active = ro.activeRepairAutomationRun;
      if (!active) continue;
      const run = byName.get(active);
      assert.ok(run && !DONE.has(run.state) && run.repairRolloutOperation?.rollout === ro.name, `${ctx}: ${ro.name} names ${active} (${run?.state}) as its active repair`);
    }
    return w;
  };

  const actions: Action[] = [
    [3, async () => {
      const id = `r${++n}`;
      const outcomes = pick(OUTCOMES);
      await ok('POST', `/v1/${DP}/releases?releaseId=${id}`, outcomes ? { annotations: { 'gantry.dev/outcomes': outcomes } } : {});
      await ok('POST', '/gantry/v1/clock:advance', { duration: '1s' });
      const r = await call('POST', `/v1/${DP}/releases/${id}/rollouts?rolloutId=${id}-to-dev-0001`, { targetId: 'dev' });
      return { what: `release ${id} ${outcomes} (${r.status})` };
    }],
    [2, async () => {
      const runs = (await world()).runs;
      if (!runs.length) return { what: 'no run to cancel' };
      const run = pick(runs);
      const r = await call('POST', `/v1/${run.name}:cancel`, {});
      return { what: `cancel ${run.ruleId} run in ${run.state} (${r.status})`, refused: r.status !== 200 };
    }],
    [6, async () => {
      const d = pick(['5s', '30s', '60s', '120s', '300s']);
      await ok('POST', '/gantry/v1/clock:advance', { duration: d });
      return { what: `advance ${d}` };
    }],
    [1, async () => {
      const suspended = random() < 0.5;
      await ok('PATCH', `/v1/${DP}/automations/auto?updateMask=suspended`, { suspended });
      return { what: `suspended ${suspended}` };
    }],
    [1, async () => {
      await g.close();
      g = await startTestGantry(opts);
      return { what: 'restart' };
    }],
  ];
  await runModel({
    seed: SEED, steps: STEPS, random, actions, settle: () => g.runtime.idle(), check,
    same: (a, b) => isDeepStrictEqual(a.runs, b.runs),
  });
  // (f) Liveness.
  for (let i = 0; i < 20; i++) await ok('POST', '/gantry/v1/clock:advance', { duration: '600s' });
  const end = await check(STEPS + 1, 'the end');
  for (const r of end.runs) assert.ok(DONE.has(r.state), `seed ${SEED}: run ${r.ruleId} ${r.name} left ${r.state}: ${r.stateDescription ?? ''}`);
  await g.close();
});
