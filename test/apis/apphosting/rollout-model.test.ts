// Model-based test of App Hosting's build, rollout and traffic state machines: random (seeded) sequences of what
// users and time do — builds with scripted outcomes (failing at the build or the deploy step, slow steps), rollouts
// of any build (or of one that does not exist), deletes, pinned traffic, the virtual clock, restarts — through HTTP on
// simulated builds. After every step, once the controllers have settled:
//  (a) traffic serves only READY builds that exist; (b) a backend has at most one rollout under way;
//  (c) `reconciling` is true exactly while a build or rollout is unfinished; (d) a build's create operation is done
//      exactly when the build is finished (or deleted), and its response says the build's state;
//  (e) finished builds and rollouts never change state again; (f) a SUCCEEDED rollout's build is READY;
//  (g) a refused request changes nothing; (h) once time moves on, nothing stays unfinished;
//  (i) each READY build is a ready revision `{backend}-{build}` of the backend's Cloud Run service, and, with no
//      rollout under way and no pinned target pending, that service's traffic is exactly `traffic.current`.
// GANTRY_MODEL_SEED reproduces a run (printed on failure); GANTRY_MODEL_STEPS sets its length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, tempDir } from '../../helpers/server.js';
import { rng, runModel, type Action } from '../../helpers/model.js';
import type { Gantry } from '../../../src/gantry.js';

const SEED = Number(process.env.GANTRY_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STEPS = Number(process.env.GANTRY_MODEL_STEPS ?? 200);
const P = 'projects/model/locations/us-central1';
const BACKENDS = ['alpha', 'beta'];
const RULES = ['', '', 'build=fail', 'deploy=fail', 'build=succeed~30s', 'deploy=succeed~20s;build=succeed~5s'];
const BUILD_DONE = new Set(['READY', 'FAILED']);
const ROLLOUT_DONE = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

type Obj = Record<string, any>;


test(`App Hosting build, rollout and traffic invariants hold under random operation sequences (seed ${SEED})`, { timeout: 300_000 }, async () => {
  const random = rng(SEED);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const opts = { dataDir: tempDir(), clock: 'virtual' as const, buildMs: 1000 };
  let g: Gantry = await startTestGantry(opts);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: r.status, body: await r.json() as Obj };
  };
  const listAll = async (path: string, key: string) => {
    const out: Obj[] = [];
    let token = '';
    do {
      const r = await call('GET', `/v1beta/${path}?pageSize=1000&showDeleted=true${token ? `&pageToken=${token}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      out.push(...(r.body[key] ?? []));
      token = r.body.nextPageToken ?? '';
    } while (token);
    return out;
  };
  const world = async () => {
    const out: Obj = {};
    for (const b of BACKENDS) {
      out[b] = {
        builds: await listAll(`${P}/backends/${b}/builds`, 'builds'),
        rollouts: await listAll(`${P}/backends/${b}/rollouts`, 'rollouts'),
        traffic: (await call('GET', `/v1beta/${P}/backends/${b}/traffic`)).body,
        service: await call('GET', `/v2/${P}/services/${b}`),
        revisions: (await call('GET', `/v2/${P}/services/${b}/revisions?pageSize=1000`)).body.revisions ?? [],
      };
    }
    return out;
  };
  const ops = new Map<string, string>();
  const finished = new Map<string, string>();
  let n = 0;

  for (const b of BACKENDS) {
    const r = await call('POST', `/v1beta/${P}/backends?backendId=${b}`, { servingLocality: 'GLOBAL_ACCESS', serviceAccount: 'runner@model.iam.gserviceaccount.com' });
    assert.equal(r.status, 200);
  }

  const check = async (step: number, what: string) => {
    const w = await world();
    const ctx = `seed ${SEED}, step ${step} (${what})`;
    for (const b of BACKENDS) {
      const { builds, rollouts, traffic, service, revisions } = w[b];
      const byName = new Map<string, Obj>(builds.map((x: Obj) => [x.name, x]));
      for (const s of traffic.current?.splits ?? []) {
        const served = byName.get(s.build);
        assert.ok(served && served.state === 'READY' && !served.deleteTime, `${ctx}: traffic of ${b} serves ${s.build} (${served?.state}, deleted ${served?.deleteTime})`);
      }
      const underway = rollouts.filter((r: Obj) => r.state === 'PENDING_BUILD' || r.state === 'PROGRESSING');
      assert.ok(underway.length <= 1, `${ctx}: ${b} has ${underway.length} rollouts under way`);
      // (i) The backend serves through its Cloud Run service.
      const revs = new Map<string, Obj>(revisions.map((r: Obj) => [String(r.name).split('/').pop(), r]));
      for (const x of builds) {
        if (x.state !== 'READY' || x.deleteTime) continue;
        const rev = revs.get(`${b}-${String(x.name).split('/').pop()}`);
        assert.ok(rev && rev.conditions?.find((c: Obj) => c.type === 'Ready')?.state !== 'CONDITION_FAILED', `${ctx}: READY ${x.name} has no ready revision (${JSON.stringify(rev?.conditions)})`);
      }
      if (!underway.some((r: Obj) => r.state === 'PROGRESSING') && (!traffic.target || JSON.stringify(traffic.target.splits) === JSON.stringify(traffic.current?.splits)) && (traffic.current?.splits ?? []).length) {
        assert.equal(service.status, 200, `${ctx}: ${b} serves with no Cloud Run service`);
        const want = (traffic.current.splits as Obj[]).map(s => `${b}-${String(s.build).split('/').pop()}=${s.percent}`).sort();
        const have = ((service.body.trafficStatuses ?? []) as Obj[]).filter(t => t.percent).map(t => `${t.revision}=${t.percent}`).sort();
        assert.deepEqual(have, want, `${ctx}: ${b}'s Cloud Run traffic is not its current traffic`);
      }
      for (const x of builds) {
        if (!x.deleteTime) assert.equal(!!x.reconciling, !BUILD_DONE.has(x.state), `${ctx}: ${x.name} reconciling ${x.reconciling} in ${x.state}`);
        const op = ops.get(x.name);
        if (op) {
          const o = (await call('GET', `/v1beta/${op}`)).body;
          assert.equal(!!o.done, BUILD_DONE.has(x.state) || !!x.deleteTime, `${ctx}: ${x.name} (${x.state}) operation done ${o.done}`);
          if (o.done && o.response) assert.equal(o.response.state, x.state, `${ctx}: ${x.name} operation response`);
        }
        const was = finished.get(x.name);
        if (was) assert.equal(x.state, was, `${ctx}: finished ${x.name} changed from ${was} to ${x.state}`);
        else if (BUILD_DONE.has(x.state)) finished.set(x.name, x.state);
      }
      for (const r of rollouts) {
        assert.equal(!!r.reconciling, !ROLLOUT_DONE.has(r.state), `${ctx}: ${r.name} reconciling in ${r.state}`);
        if (r.state === 'SUCCEEDED') assert.equal(byName.get(r.build)?.state, 'READY', `${ctx}: ${r.name} succeeded with build ${r.build}`);
        if (r.state === 'FAILED') assert.ok(r.error?.message, `${ctx}: ${r.name} failed without an error`);
        const was = finished.get(r.name);
        if (was) assert.equal(r.state, was, `${ctx}: finished ${r.name} changed from ${was} to ${r.state}`);
        else if (ROLLOUT_DONE.has(r.state)) finished.set(r.name, r.state);
      }
    }
    return w;
  };

  const actions: Action[] = [
    [5, async () => {
      const b = pick(BACKENDS);
      const id = `b${++n}`;
      const rules = pick(RULES);
      if (rules) assert.equal((await call('POST', '/gantry/v1/outcomes', { scope: `${P}/backends/${b}/builds/${id}`, rules })).status, 200);
      const r = await call('POST', `/v1beta/${P}/backends/${b}/builds?buildId=${id}`, { source: { container: { image: 'us-docker.pkg.dev/model/app/web:1' } } });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      ops.set(`${P}/backends/${b}/builds/${id}`, r.body.name);
      return { what: `build ${b}/${id} ${rules}` };
    }],
    [4, async () => {
      const b = pick(BACKENDS);
      const target = random() < 0.15 ? 'ghost' : `b${1 + Math.floor(random() * Math.max(n, 1))}`;
      const r = await call('POST', `/v1beta/${P}/backends/${b}/rollouts?rolloutId=r${++n}`, { build: `${P}/backends/${b}/builds/${target}` });
      return { what: `rollout ${b} → ${target} (${r.status})`, refused: r.status !== 200 };
    }],
    [2, async () => {
      const b = pick(BACKENDS);
      const target = `b${1 + Math.floor(random() * Math.max(n, 1))}`;
      const r = await call('DELETE', `/v1beta/${P}/backends/${b}/builds/${target}`);
      return { what: `delete ${b}/${target} (${r.status})`, refused: r.status !== 200 };
    }],
    [2, async () => {
      const b = pick(BACKENDS);
      const target = `b${1 + Math.floor(random() * Math.max(n, 1))}`;
      const r = await call('PATCH', `/v1beta/${P}/backends/${b}/traffic?updateMask=target`, { target: { splits: [{ build: `${P}/backends/${b}/builds/${target}`, percent: 100 }] } });
      return { what: `pin ${b} → ${target} (${r.status})`, refused: r.status !== 200 };
    }],
    [5, async () => {
      const d = pick(['0s', '1s', '2s', '5s', '25s']);
      assert.equal((await call('POST', '/gantry/v1/clock:advance', { duration: d })).status, 200);
      return { what: `advance ${d}` };
    }],
    [1, async () => {
      await g.close();
      g = await startTestGantry(opts);
      return { what: 'restart' };
    }],
  ];
  await runModel({
    seed: SEED, steps: STEPS, random, actions, settle: () => g.runtime.idle(), check,
  });
  // (h) Liveness: time moves on, nothing is left unfinished.
  for (let i = 0; i < 4; i++) assert.equal((await call('POST', '/gantry/v1/clock:advance', { duration: '60s' })).status, 200);
  await g.runtime.idle();
  const end = await check(STEPS + 1, 'the end');
  for (const b of BACKENDS) {
    for (const x of end[b].builds) assert.ok(BUILD_DONE.has(x.state) || x.deleteTime, `seed ${SEED}: ${x.name} left ${x.state}`);
    for (const r of end[b].rollouts) assert.ok(ROLLOUT_DONE.has(r.state), `seed ${SEED}: ${r.name} left ${r.state}`);
  }
  await g.close();
});
