// Model-based test of several Gantry instances on one PostgreSQL database, with random SIGKILLs: random (seeded)
// sequences of releases, rollouts, approvals, cancels, Cloud Run executions (process tasks that record each attempt
// they run), each request sent to a random live instance, and instances killed (the project's worker most often) and
// started again between steps. Two projects whose work falls in different slots, so that the instances split it and a
// kill moves one project's work while the other's runs on. After every step, once the work has settled, invariants
// hold (in each project):
//  (a) no request is ever answered 5xx, on any instance;
//  (b) every acknowledged write is there: each release, rollout and execution created is read back, on every instance;
//  (c) per target at most one rollout is IN_PROGRESS or CANCELLING, and every unfinished rollout finishes;
//  (d) each task attempt ran once: no (execution, task, attempt) ran twice, whatever instance ran it;
//  (e) the work slots are split among the live instances: no slot is held by two, every slot is held (within the
//      bound below of a death), and the project's slot, when its worker is killed, is taken over within the lease
//      interval plus a bound (here 5 s);
//  (f) a rollout that SUCCEEDED ran each of its jobs to one SUCCEEDED job run (no job ran twice to success).
// The control operations are among the steps: a project's snapshot exported through one instance and imported through
// another, and a reset of the project through any (after which nothing of it is read anywhere).
// GANTRY_MODEL_SEED reproduces a run (the seed is in the test's name); GANTRY_MODEL_STEPS sets its length.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnGantry, tempDir, type ChildGantry } from '../helpers/server.js';
import { rng, runModel, type Action } from '../helpers/model.js';
import { startPostgres, type TestPostgres } from '../helpers/postgres.js';
import { slotOfProject } from '../../src/engine/work-lease.js';

const SEED = Number(process.env.GANTRY_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STEPS = Number(process.env.GANTRY_MODEL_STEPS ?? 40);
/** Two projects in different work slots. */
const PROJECTS = ['pm', [...Array(100).keys()].map(i => `pn${i}`).find(p => slotOfProject(p) !== slotOfProject('pm'))!];
const L = (p: string) => `projects/${p}/locations/us-central1`;
const NS = (p: string) => `/apis/run.googleapis.com/v1/namespaces/${p}`;
/** Whether an acknowledged path is of project `p`. */
const inProject = (path: string, p: string) => path.includes(`/projects/${p}/`) || path.includes(`/namespaces/${p}/`);
const TARGETS = ['t1', 't2'];
const LEASE_MS = 200;
/** How long after a worker's death another instance must hold its slots. */
const TAKEOVER_BOUND_MS = LEASE_MS + 5_000;

type Obj = Record<string, any>;

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

test(`instances sharing a database, killed at random, keep every invariant (seed ${SEED}, ${STEPS} steps)`, { timeout: 600_000 }, async () => {
  const random = rng(SEED);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const store = pg.database();
  const marks = tempDir('pm-attempts-');
  const args = () => ['--store', store, '--data-dir', tempDir(), '--log-level', 'silent', '--lease-interval', `${LEASE_MS}ms`,
    '--render-duration', '50ms', '--job-duration', '150ms', '--task-duration', '100ms', '--allow-executors', 'process'];
  const live: ChildGantry[] = [];
  const call = async (g: ChildGantry, method: string, path: string, body?: unknown): Promise<{ status: number; json: Obj }> => {
    const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': 'application/json' } });
    const text = await r.text();
    assert.ok(r.status < 500, `(a) seed ${SEED}: ${method} ${path} answered ${r.status}: ${text.slice(0, 300)}`);
    let json: Obj = {};
    try { json = JSON.parse(text) as Obj; } catch { /* empty */ }
    return { status: r.status, json };
  };
  const any = () => pick(live);
  const ok = async (method: string, path: string, body?: unknown, g = any()) => {
    const r = await call(g, method, path, body);
    assert.equal(r.status, 200, `seed ${SEED}: ${method} ${path}: ${JSON.stringify(r.json).slice(0, 300)}`);
    return r.json;
  };
  const all = async (path: string, field: string, g = any()): Promise<Obj[]> => ((await ok('GET', `${path}${path.includes('?') ? '&' : '?'}pageSize=1000`, undefined, g))[field] ?? []) as Obj[];
  const info = async (g: ChildGantry) => (await ok('GET', '/gantry/v1/info', undefined, g)).work as { lease: string; slots: number[]; slotCount: number };
  /** The live instance doing the project's work. */
  const worker = async (p: string) => {
    for (const g of live) if ((await info(g)).slots.includes(slotOfProject(p))) return g;
    return undefined;
  };

  try {
    for (let i = 0; i < 3; i++) live.push(await spawnGantry(args()));
    const attempt = `echo "$PROJECT/$CLOUD_RUN_EXECUTION/$CLOUD_RUN_TASK_INDEX/$CLOUD_RUN_TASK_ATTEMPT" >> ${join(marks, 'attempts')}; sleep 0.2`;
    const setUp = async (p: string) => {
      for (const t of TARGETS) await ok('POST', `/v1/${L(p)}/targets?targetId=${t}`, { run: { location: L(p) }, requireApproval: t === 't2' });
      await ok('POST', `/v1/${L(p)}/deliveryPipelines?deliveryPipelineId=p`, { serialPipeline: { stages: TARGETS.map(targetId => ({ targetId })) } });
      await ok('POST', `${NS(p)}/jobs`, { metadata: { name: 'j', annotations: { 'gantry.dev/executor': 'process' } },
        spec: { template: { spec: { taskCount: 3, parallelism: 2, template: { spec: { maxRetries: 3, containers: [{ image: 'busybox', command: ['sh', '-c', attempt], env: [{ name: 'PROJECT', value: p }] }] } } } } } });
    };
    for (const p of PROJECTS) await setUp(p);

    const acknowledged: string[] = [];
    const releases: Record<string, number> = Object.fromEntries(PROJECTS.map(p => [p, 0]));
    let rollouts = 0;
    /** Writes acknowledged over the whole run, and rollouts created since the project's last reset (for the final checks). */
    let acknowledgedEver = 0;
    const rolloutsSinceReset: Record<string, number> = Object.fromEntries(PROJECTS.map(p => [p, 0]));
    const release = (p: string) => `${L(p)}/deliveryPipelines/p/releases/r${Math.max(1, Math.ceil(random() * releases[p]))}`;

    const actions: Action[] = [
      [3, async () => {
        const p = pick(PROJECTS);
        const id = `r${++releases[p]}`;
        await ok('POST', `/v1/${L(p)}/deliveryPipelines/p/releases?releaseId=${id}`, {});
        acknowledged.push(`/v1/${L(p)}/deliveryPipelines/p/releases/${id}`);
        acknowledgedEver++;
        return { what: `release ${p}/${id}` };
      }],
      [5, async () => {
        const p = pick(PROJECTS);
        if (!releases[p]) return { what: `no release yet in ${p}` };
        const rel = release(p);
        const id = `ro${++rollouts}`;
        const r = await call(any(), 'POST', `/v1/${rel}/rollouts?rolloutId=${id}`, { targetId: pick(TARGETS) });
        if (r.status === 200) { acknowledged.push(`/v1/${rel}/rollouts/${id}`); acknowledgedEver++; rolloutsSinceReset[p]++; }
        return { what: `rollout ${p}/${id} (${r.status})` };
      }],
      [2, async () => {
        const pending = (await all(`/v1/${L(pick(PROJECTS))}/deliveryPipelines/-/releases/-/rollouts`, 'rollouts')).filter(r => r.approvalState === 'NEEDS_APPROVAL');
        if (!pending.length) return { what: 'nothing to approve' };
        const r = pick(pending);
        await call(any(), 'POST', `/v1/${r.name}:approve`, { approved: random() < 0.7 });
        return { what: `approve ${r.name.split('/').pop()}` };
      }],
      [1, async () => {
        const running = (await all(`/v1/${L(pick(PROJECTS))}/deliveryPipelines/-/releases/-/rollouts`, 'rollouts')).filter(r => r.state === 'IN_PROGRESS');
        if (!running.length) return { what: 'nothing to cancel' };
        const r = pick(running);
        await call(any(), 'POST', `/v1/${r.name}:cancel`, {});
        return { what: `cancel ${r.name.split('/').pop()}` };
      }],
      [3, async () => {
        const p = pick(PROJECTS);
        const ex = await ok('POST', `${NS(p)}/jobs/j:run`, {});
        acknowledged.push(`${NS(p)}/executions/${ex.metadata.name as string}`);
        acknowledgedEver++;
        return { what: `execution ${p}/${ex.metadata.name as string}` };
      }],
      [1, async () => {
        // Control operations through different instances: the project's snapshot exported through one and imported
        // through another (every acknowledged write is still read everywhere, and work goes on from it)…
        const from = any(), to = any(), p = pick(PROJECTS);
        const exported = await fetch(`${from.url}/gantry/v1/snapshot?project=${p}`);
        assert.equal(exported.status, 200, `seed ${SEED}: snapshot export`);
        const text = await exported.text();
        const r = await fetch(`${to.url}/gantry/v1/snapshot:import?project=${p}`, { method: 'POST', body: text, headers: { 'content-type': 'application/x-ndjson' } });
        assert.equal(r.status, 200, `seed ${SEED}: snapshot import: ${(await r.text()).slice(0, 300)}`);
        return { what: `snapshot of ${p} (${text.split('\n').length} lines) round trip` };
      }],
      [1, async () => {
        // …and a reset of the project through any: nothing of it is left on any instance, and it is set up again.
        const p = pick(PROJECTS);
        await ok('POST', '/gantry/v1/reset', { project: p });
        const gone = acknowledged.filter(path => inProject(path, p));
        for (const g of live) for (const path of gone) assert.equal((await call(g, 'GET', path)).status, 404, `seed ${SEED}: ${path} outlived the reset`);
        acknowledged.splice(0, acknowledged.length, ...acknowledged.filter(path => !inProject(path, p)));
        releases[p] = 0;
        rolloutsSinceReset[p] = 0;
        await setUp(p);
        return { what: `reset ${p}` };
      }],
      [3, async () => {
        // Kill an instance, a project's worker most often, then start another (there is always at least one).
        const h = await worker(pick(PROJECTS));
        const victim = h && random() < 0.7 ? h : any();
        const wasHolder = victim === h;
        live.splice(live.indexOf(victim), 1);
        await victim.kill('SIGKILL');
        const killedAt = Date.now();
        if (!live.length || random() < 0.8) live.push(await spawnGantry(args()));
        if (wasHolder) {
          // (e) others take its slots within the bound.
          for (;;) {
            if ((await Promise.all(PROJECTS.map(worker))).every(Boolean)) break;
            assert.ok(Date.now() - killedAt < TAKEOVER_BOUND_MS, `(e) seed ${SEED}: no instance took the project's slot within ${TAKEOVER_BOUND_MS} ms of its worker's death`);
            await new Promise(r => setTimeout(r, 50));
          }
        }
        return { what: `SIGKILL ${wasHolder ? 'a project\'s worker' : 'an instance'} (${live.length} live)` };
      }],
    ];

    const settle = async () => {
      // (c) Unfinished work finishes: no rollout in progress, no execution running, every release rendered.
      const until = Date.now() + 60_000;
      for (;;) {
        let busy = 0;
        for (const p of PROJECTS) {
          const rs = await all(`/v1/${L(p)}/deliveryPipelines/-/releases/-/rollouts`, 'rollouts');
          busy += rs.filter(r => ['IN_PROGRESS', 'CANCELLING', 'PENDING'].includes(r.state)).length
            + (await all(`/v1/${L(p)}/deliveryPipelines/-/releases`, 'releases')).filter(r => r.renderState === 'IN_PROGRESS').length
            + ((await ok('GET', `${NS(p)}/executions`)).items as Obj[] ?? []).filter(e => !(e.status?.conditions as Obj[] | undefined)?.some(c => c.type === 'Completed' && c.status !== 'Unknown')).length;
          for (const t of TARGETS) {
            const active = rs.filter(r => r.targetId === t && ['IN_PROGRESS', 'CANCELLING'].includes(r.state));
            assert.ok(active.length <= 1, `(c) seed ${SEED}: ${active.length} rollouts active on ${p}'s ${t}`);
          }
        }
        if (!busy) return;
        assert.ok(Date.now() < until, `(c) seed ${SEED}: work did not settle within 60 s`);
        await new Promise(r => setTimeout(r, 100));
      }
    };

    const check = async (step: number, what: string) => {
      // (b) on every live instance.
      for (const g of live) for (const path of acknowledged) {
        const r = await call(g, 'GET', path);
        assert.equal(r.status, 200, `(b) seed ${SEED}, step ${step} (${what}): ${path} is gone (${r.status})`);
      }
      // (d)
      const lines = existsSync(join(marks, 'attempts')) ? readFileSync(join(marks, 'attempts'), 'utf8').split('\n').filter(Boolean) : [];
      const twice = lines.filter((l, i) => lines.indexOf(l) !== i);
      assert.deepEqual(twice, [], `(d) seed ${SEED}, step ${step} (${what}): attempts that ran twice`);
      // (e) no slot held by two instances; every slot held (soon after a death).
      for (const until = Date.now() + TAKEOVER_BOUND_MS; ;) {
        const held = (await Promise.all(live.map(info))).flatMap(w => w.slots);
        assert.equal(new Set(held).size, held.length, `(e) seed ${SEED}, step ${step}: a slot is held by two instances: ${held.join(',')}`);
        const count = (await info(live[0])).slotCount;
        if (held.length === count) break;
        assert.ok(Date.now() < until, `(e) seed ${SEED}, step ${step}: only ${held.length} of ${count} slots held`);
        await new Promise(r => setTimeout(r, 50));
      }
      // (f)
      const rs = (await Promise.all(PROJECTS.map(p => all(`/v1/${L(p)}/deliveryPipelines/-/releases/-/rollouts`, 'rollouts')))).flat();
      for (const r of rs.filter(x => x.state === 'SUCCEEDED')) {
        const runs = await all(`/v1/${r.name}/jobRuns`, 'jobRuns');
        const won = runs.filter(j => j.state === 'SUCCEEDED').map(j => `${j.phaseId}/${j.jobId}`);
        assert.equal(new Set(won).size, won.length, `(f) seed ${SEED}, step ${step}: ${r.name} ran a job to success twice: ${won.join(', ')}`);
      }
      return rs.map(r => [r.name, r.state]);
    };

    await runModel({ seed: SEED, steps: STEPS, random, actions, settle, check });
    assert.ok(acknowledgedEver > 5, 'the run did some work');
    // The invariants had something to bite on: tasks ran as processes, and rollouts succeeded.
    if (acknowledged.some(p => p.includes('/executions/'))) assert.ok(readFileSync(join(marks, 'attempts'), 'utf8').trim().split('\n').length >= 3);
    for (const p of PROJECTS) {
      const done = (await all(`/v1/${L(p)}/deliveryPipelines/-/releases/-/rollouts`, 'rollouts')).filter(r => r.state === 'SUCCEEDED');
      if (rolloutsSinceReset[p] > 3) assert.ok(done.length > 0, `some rollout of ${p} succeeded`);
    }
  } finally {
    for (const g of live) await g.kill('SIGKILL');
  }
});
