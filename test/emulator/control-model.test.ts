// Model-based test of Gantry's control operations interleaved with the work they act on: random (seeded) sequences
// over two projects of releases, rollouts (first target, promotions), approvals, Cloud Run job runs, outcome rules,
// clock advances, resets (one project or everything) and snapshot round trips (everything, or one project), all
// through HTTP. After every step, once the controllers have settled, invariants hold:
//  (a) no request is ever answered 5xx;
//  (b) nothing dangles: every job run's rollout, every rollout's release, every release's pipeline, every task's
//      execution and every execution's job exists;
//  (c) per project and target at most one rollout is IN_PROGRESS or CANCELLING;
//  (d) an execution's task counts never exceed its task count, and a finished one accounts for every task;
//  (e) a project's reset empties that project and leaves the other exactly as it was;
//  (f) export, reset and import (of everything, or of one project) give back exactly what was there;
//  (g) a refused verb (approve, advance, retry, a promotion) changes nothing.
// GANTRY_MODEL_SEED reproduces a run (the seed is printed on failure); GANTRY_MODEL_STEPS sets its length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { rng, runModel, type Action } from '../helpers/model.js';
import type { Gantry } from '../../src/gantry.js';

const SEED = Number(process.env.GANTRY_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STEPS = Number(process.env.GANTRY_MODEL_STEPS ?? 80);
const PROJECTS = ['cm-a', 'cm-b'];
const loc = (p: string) => `projects/${p}/locations/us-central1`;
const RULES = ['*/verify=fail@1', '*/deploy=fail@1', '*/deploy=succeed~2m', '*/*=succeed~5s', 'stable/verify=fail:EXECUTION_FAILED"smoke"'];
const TASK_RULES = ['0=fail:1@1', '*=succeed~30s', '1=fail:2'];

type Obj = Record<string, any>;

test(`control operations interleaved with work keep every invariant (seed ${SEED}, ${STEPS} steps)`, async () => {
  const random = rng(SEED);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const g: Gantry = await startTestGantry({ clock: 'virtual', renderMs: 5_000, jobMs: 20_000, taskMs: 10_000 });
  const log: string[] = [];
  /** Whether the current step had a request refused (4xx). */
  let refusedNow = false;
  const call = async (method: string, path: string, body?: unknown, type = 'application/json'): Promise<{ status: number; json: Obj; text: string }> => {
    const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: body === undefined ? {} : { 'content-type': type } });
    const text = await r.text();
    assert.ok(r.status < 500, `(a) ${method} ${path} answered ${r.status}: ${text.slice(0, 300)}`);
    if (r.status >= 400) refusedNow = true;
    let json: Obj = {};
    try { json = JSON.parse(text) as Obj; } catch { /* NDJSON or empty */ }
    return { status: r.status, json, text };
  };
  const ok = async (method: string, path: string, body?: unknown) => {
    const r = await call(method, path, body);
    assert.equal(r.status, 200, `${method} ${path}: ${r.text.slice(0, 300)}`);
    return r.json;
  };
  const all = async (path: string, field: string): Promise<Obj[]> => {
    const out: Obj[] = [];
    for (let token = ''; ;) {
      const page = await ok('GET', `${path}${path.includes('?') ? '&' : '?'}pageSize=1000${token ? `&pageToken=${token}` : ''}`);
      out.push(...((page[field] ?? []) as Obj[]));
      if (!page.nextPageToken) return out;
      token = page.nextPageToken;
    }
  };
  /** A project as its clients see it. */
  const view = async (p: string) => {
    const L = loc(p);
    return {
      targets: await all(`/v1/${L}/targets`, 'targets'),
      pipelines: await all(`/v1/${L}/deliveryPipelines`, 'deliveryPipelines'),
      releases: await all(`/v1/${L}/deliveryPipelines/-/releases`, 'releases'),
      rollouts: await all(`/v1/${L}/deliveryPipelines/-/releases/-/rollouts`, 'rollouts'),
      jobRuns: await all(`/v1/${L}/deliveryPipelines/-/releases/-/rollouts/-/jobRuns`, 'jobRuns'),
      jobs: await all(`/v2/${L}/jobs`, 'jobs'),
      executions: await all(`/v2/${L}/jobs/-/executions`, 'executions'),
      tasks: await all(`/v2/${L}/jobs/-/executions/-/tasks`, 'tasks'),
      outcomes: ((await ok('GET', '/gantry/v1/outcomes')).outcomes as Obj[] ?? []).filter(o => String(o.scope).startsWith(`projects/${p}/`)),
    };
  };
  const settle = () => ok('POST', '/gantry/v1/clock:advance', { duration: '0s' });
  const parentOf = (name: string, depth: number) => name.split('/').slice(0, depth).join('/');
  let releaseSeq = 0;

  const setUp = async (p: string) => {
    const L = loc(p);
    await ok('POST', `/v1/${L}/targets?targetId=t1`, { run: { location: L } });
    await ok('POST', `/v1/${L}/targets?targetId=t2`, { run: { location: L }, requireApproval: true });
    await ok('POST', `/v1/${L}/deliveryPipelines?deliveryPipelineId=app`, { serialPipeline: { stages: [
      { targetId: 't1', strategy: { standard: { verify: true } } },
      { targetId: 't2', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50], verify: true } } } },
    ] } });
    await ok('POST', `/v2/${L}/jobs?jobId=batch`, { template: { taskCount: 2, template: { maxRetries: 1, containers: [{ image: 'busybox' }] } } });
    await settle();
  };
  const isSetUp = async (p: string) => (await call('GET', `/v1/${loc(p)}/deliveryPipelines/app`)).status === 200;

  const actions: [string, (p: string) => Promise<void>][] = [
    ['release', async p => {
      const id = `r${++releaseSeq}`;
      const L = loc(p);
      await ok('POST', `/v1/${L}/deliveryPipelines/app/releases?releaseId=${id}`, {});
      await ok('POST', `/v1/${L}/deliveryPipelines/app/releases/${id}/rollouts?rolloutId=${id}-to-t1-0001`, { targetId: 't1' });
    }],
    ['promote', async p => {
      const done = (await all(`/v1/${loc(p)}/deliveryPipelines/app/releases/-/rollouts?filter=${encodeURIComponent('targetId="t1" AND state="SUCCEEDED"')}`, 'rollouts'));
      if (!done.length) return;
      const release = parentOf(pick(done).name, 8);
      await call('POST', `/v1/${release}/rollouts?rolloutId=promo-${Math.floor(random() * 1e9)}`, { targetId: 't2' });
    }],
    ['approve', async p => {
      const waiting = await all(`/v1/${loc(p)}/deliveryPipelines/app/releases/-/rollouts?filter=${encodeURIComponent('state="PENDING_APPROVAL"')}`, 'rollouts');
      if (waiting.length) await call('POST', `/v1/${pick(waiting).name}:approve`, { approved: random() < 0.85 });
    }],
    ['advance-phase', async p => {
      const running = await all(`/v1/${loc(p)}/deliveryPipelines/app/releases/-/rollouts?filter=${encodeURIComponent('state="IN_PROGRESS"')}`, 'rollouts');
      if (running.length) await call('POST', `/v1/${pick(running).name}:advance`, { phaseId: 'stable' });
    }],
    ['retry', async p => {
      const failed = await all(`/v1/${loc(p)}/deliveryPipelines/app/releases/-/rollouts?filter=${encodeURIComponent('state="FAILED"')}`, 'rollouts');
      if (!failed.length) return;
      const r = pick(failed);
      const phase = (r.phases as Obj[]).find(ph => ph.state === 'FAILED');
      const job = phase && Object.values((phase.deploymentJobs ?? {}) as Record<string, Obj>).find(j => j.state === 'FAILED');
      if (job) await call('POST', `/v1/${r.name}:retryJob`, { phaseId: phase.id, jobId: job.id });
    }],
    ['run job', async p => { await ok('POST', `/v2/${loc(p)}/jobs/batch:run`, {}); }],
    ['rules', async p => {
      await ok('POST', '/gantry/v1/outcomes', { scope: `${loc(p)}/deliveryPipelines/app`, rules: pick(RULES) });
      await ok('POST', '/gantry/v1/outcomes', { scope: `${loc(p)}/jobs/batch`, rules: pick(TASK_RULES) });
    }],
    ['advance clock', async () => { await ok('POST', '/gantry/v1/clock:advance', { duration: pick(['1s', '5s', '30s', '2m', '10m', '1h']) }); }],
    ['reset project', async p => {
      const other = PROJECTS.find(x => x !== p)!;
      await settle();
      const before = await view(other);
      await ok('POST', '/gantry/v1/reset', { project: p });
      const emptied = await view(p);
      for (const [k, v] of Object.entries(emptied)) assert.deepEqual(v, [], `(e) after reset of ${p}, its ${k} are gone`);
      assert.deepEqual(await view(other), before, `(e) the reset of ${p} left ${other} as it was`);
    }],
    ['reset everything', async () => { await ok('POST', '/gantry/v1/reset', {}); }],
    ['snapshot everything', async () => {
      await settle();
      const before = await Promise.all(PROJECTS.map(view));
      const snapshot = (await call('GET', '/gantry/v1/snapshot')).text;
      await ok('POST', '/gantry/v1/reset', {});
      const r = await call('POST', '/gantry/v1/snapshot:import', snapshot, 'application/x-ndjson');
      assert.equal(r.status, 200, r.text);
      await settle();
      assert.deepEqual(await Promise.all(PROJECTS.map(view)), before, '(f) a snapshot of everything gives back everything');
    }],
    ['snapshot project', async p => {
      await settle();
      const before = await Promise.all(PROJECTS.map(view));
      const snapshot = (await call('GET', `/gantry/v1/snapshot?project=${p}`)).text;
      await ok('POST', '/gantry/v1/reset', { project: p });
      const r = await call('POST', `/gantry/v1/snapshot:import?project=${p}`, snapshot, 'application/x-ndjson');
      assert.equal(r.status, 200, r.text);
      await settle();
      assert.deepEqual(await Promise.all(PROJECTS.map(view)), before, `(f) a snapshot of ${p} gives back ${p}, and ${PROJECTS.find(x => x !== p)} is untouched`);
    }],
  ];
  const weights = [6, 3, 3, 2, 2, 3, 2, 6, 1, 0.3, 1, 1];

  const invariants = async () => {
    for (const p of PROJECTS) {
      const v = await view(p);
      const names = (xs: Obj[]) => new Set(xs.map(x => String(x.name)));
      const pipelines = names(v.pipelines), releases = names(v.releases), rollouts = names(v.rollouts), jobs = names(v.jobs), executions = names(v.executions);
      for (const r of v.releases) assert.ok(pipelines.has(parentOf(r.name, 6)), `(b) release ${r.name} has its pipeline`);
      for (const r of v.rollouts) assert.ok(releases.has(parentOf(r.name, 8)), `(b) rollout ${r.name} has its release`);
      for (const j of v.jobRuns) assert.ok(rollouts.has(parentOf(j.name, 10)), `(b) job run ${j.name} has its rollout`);
      for (const e of v.executions) assert.ok(jobs.has(parentOf(e.name, 6)), `(b) execution ${e.name} has its job`);
      for (const t of v.tasks) assert.ok(executions.has(parentOf(t.name, 8)), `(b) task ${t.name} has its execution`);
      for (const target of ['t1', 't2']) {
        const busy = v.rollouts.filter(r => r.targetId === target && (r.state === 'IN_PROGRESS' || r.state === 'CANCELLING'));
        assert.ok(busy.length <= 1, `(c) ${p}/${target} has ${busy.length} rollouts deploying: ${busy.map(r => r.name).join(', ')}`);
      }
      for (const e of v.executions) {
        const counted = ['succeededCount', 'failedCount', 'cancelledCount', 'runningCount'].reduce((n, k) => n + Number(e[k] ?? 0), 0);
        assert.ok(counted <= e.taskCount, `(d) ${e.name} counts ${counted} of ${e.taskCount} tasks`);
        if (e.completionTime) assert.equal(Number(e.succeededCount ?? 0) + Number(e.failedCount ?? 0) + Number(e.cancelledCount ?? 0), e.taskCount, `(d) finished ${e.name} accounts for every task`);
      }
    }
  };

  try {
    for (const p of PROJECTS) await setUp(p);
    const steps: Action[] = actions.map(([name, act], i) => [weights[i], async () => {
      const p = pick(PROJECTS);
      if (!(await isSetUp(p))) await setUp(p);
      log.push(`${name} ${p}`);
      refusedNow = false;
      await act(p);
      // A step is refused when its one call was: then nothing may have changed.
      return { what: `${name} ${p}`, refused: refusedNow && ['promote', 'approve', 'advance-phase', 'retry'].includes(name) };
    }]);
    await runModel({
      seed: SEED, steps: STEPS, random, actions: steps,
      settle: async () => { await settle(); },
      check: async () => { await invariants(); return Promise.all(PROJECTS.map(view)); },
    });
    if (process.env.GANTRY_MODEL_DEBUG) for (const p of PROJECTS) { const v = await view(p); console.log(p, Object.fromEntries(Object.entries(v).map(([k, x]) => [k, x.length])), v.rollouts.map(r => r.state).join(',')); }
  } catch (e) {
    (e as Error).message += `\n(seed ${SEED}; replay with GANTRY_MODEL_SEED=${SEED}; last steps: ${log.slice(-8).join(' | ')})`;
    throw e;
  } finally {
    await g.close();
  }
});
