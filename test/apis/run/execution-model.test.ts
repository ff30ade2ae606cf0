// Model-based test of the Cloud Run execution state machine: random (seeded) sequences of what users and time do —
// jobs with random task counts, parallelism, retries and scripted task outcomes (failures on some attempts, hangs
// into the timeout), runs with overrides, cancels, deletes of executions and jobs, replaced jobs, the virtual clock,
// restarts — through HTTP on the simulated executor. After every step, once the controllers have settled:
//  (a) an execution never runs more tasks than its parallelism, and its counts match its tasks' states;
//  (b) a finished execution has every task finished, Completed True exactly when all succeeded, and its job's
//      latestCreatedExecution (when it names it) says the same;
//  (c) every unfinished execution ends once time moves past its tasks' timeouts (nothing waits forever);
//  (d) a restart changes nothing; (e) a refused request changes nothing.
// GANTRY_MODEL_SEED reproduces a run (printed on failure); GANTRY_MODEL_STEPS sets its length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { startTestGantry, tempDir } from '../../helpers/server.js';
import { rng } from '../../helpers/model.js';
import type { Gantry } from '../../../src/gantry.js';

const SEED = Number(process.env.GANTRY_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STEPS = Number(process.env.GANTRY_MODEL_STEPS ?? 300);
const NS = '/apis/run.googleapis.com/v1/namespaces/model';
const RULES = ['', '*=fail@1', '0=fail:3', '1=hang@1', '*=succeed~40s', '2=fail@2;*=succeed~5s', '*=hang'];
const COUNT: Record<string, string> = { Succeeded: 'succeededCount', Failed: 'failedCount', Cancelled: 'cancelledCount', Abandoned: 'cancelledCount' };

type Obj = Record<string, any>;

test(`Cloud Run execution invariants hold under random operation sequences (seed ${SEED})`, async () => {
  const random = rng(SEED);
  const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
  const dir = tempDir();
  const opts = { dataDir: dir, clock: 'virtual' as const, taskMs: 10_000 };
  let g: Gantry = await startTestGantry(opts);
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    return { status: r.status, body: await r.json() as Obj };
  };
  const settle = () => g.runtime.idle();
  const list = async (what: string) => {
    const out: Obj[] = [];
    let token = '';
    do {
      const r = await call('GET', `${NS}/${what}?limit=1000${token ? `&continue=${token}` : ''}`);
      assert.equal(r.status, 200);
      out.push(...r.body.items);
      token = r.body.metadata.continue ?? '';
    } while (token);
    return out;
  };
  const world = async () => ({ jobs: await list('jobs'), executions: await list('executions'), tasks: await list('tasks') });
  const jobNames: string[] = [];

  const check = async (step: number, what: string) => {
    const w = await world();
    const ctx = `seed ${SEED}, step ${step} (${what})`;
    for (const ex of w.executions) {
      const name = ex.metadata.name;
      const tasks = w.tasks.filter(t => t.metadata.labels['run.googleapis.com/execution'] === name);
      assert.equal(tasks.length, ex.spec.taskCount, `${ctx}: ${name} has all its tasks`);
      const states = tasks.map(t => t.metadata.labels['run.googleapis.com/runningState']);
      const running = states.filter(s => s === 'Running').length;
      const parallelism = ex.spec.parallelism || ex.spec.taskCount;
      assert.ok(running <= parallelism, `${ctx}: ${name} runs ${running} > ${parallelism}`);
      assert.equal(ex.status.runningCount ?? 0, running, `${ctx}: ${name} runningCount`);
      for (const key of ['succeededCount', 'failedCount', 'cancelledCount']) {
        assert.equal(ex.status[key] ?? 0, states.filter(s => COUNT[s] === key).length, `${ctx}: ${name} ${key}`);
      }
      const completed = ex.status.conditions.find((c: Obj) => c.type === 'Completed');
      if (completed.status !== 'Unknown') {
        assert.ok(states.every(s => COUNT[s]), `${ctx}: finished ${name} has unfinished tasks ${states}`);
        assert.equal(completed.status === 'True', states.every(s => s === 'Succeeded'), `${ctx}: ${name} Completed ${completed.status}`);
        assert.ok(ex.status.completionTime, `${ctx}: ${name} completionTime`);
        const job = w.jobs.find(j => j.metadata.name === ex.metadata.labels['run.googleapis.com/job']);
        if (job && job.status.latestCreatedExecution?.name === name) {
          const want = completed.status === 'True' ? 'EXECUTION_SUCCEEDED' : completed.reason === 'Cancelled' ? 'EXECUTION_CANCELLED' : 'EXECUTION_FAILED';
          assert.equal(job.status.latestCreatedExecution.completionStatus, want, `${ctx}: ${name} on its job`);
        }
      }
    }
    for (const t of w.tasks) assert.ok(w.executions.some(e => e.metadata.name === t.metadata.labels['run.googleapis.com/execution']), `${ctx}: task ${t.metadata.name} outlived its execution`);
    return w;
  };

  try {
    for (let step = 0; step < STEPS; step++) {
      const r = random();
      let what: string;
      if (r < 0.15 || !jobNames.length) {
        const name = `j${jobNames.length}`;
        const taskCount = 1 + Math.floor(random() * 6);
        const rules = pick(RULES);
        what = `create ${name} tasks=${taskCount} rules=${rules}`;
        const res = await call('POST', `${NS}/jobs`, {
          metadata: { name, ...(rules ? { annotations: { 'gantry.dev/outcomes': rules } } : {}) },
          spec: { template: { spec: { taskCount, parallelism: Math.floor(random() * (taskCount + 1)), template: { spec: { maxRetries: Math.floor(random() * 3), timeoutSeconds: String(30 + Math.floor(random() * 90)), containers: [{ image: 'busybox' }] } } } } },
        });
        assert.equal(res.status, 200, `${what}: ${JSON.stringify(res.body)}`);
        jobNames.push(name);
      } else if (r < 0.45) {
        const job = pick(jobNames);
        const overrides = random() < 0.3 ? { taskCount: 1 + Math.floor(random() * 8) } : {};
        what = `run ${job} ${JSON.stringify(overrides)}`;
        const res = await call('POST', `${NS}/jobs/${job}:run`, { overrides });
        assert.ok(res.status === 200 || res.status === 404, `${what}: ${res.status} ${JSON.stringify(res.body)}`);
      } else if (r < 0.6) {
        const ex = pick([...(await list('executions')), undefined]);
        what = `cancel ${ex?.metadata.name}`;
        if (ex) {
          const before = await world();
          const res = await call('POST', `${NS}/executions/${ex.metadata.name}:cancel`, {});
          if (res.status !== 200) {
            assert.equal(res.body.error.status, 'FAILED_PRECONDITION', what);
            await settle();
            const after = await world();
            const was = before.executions.find(e => e.metadata.name === ex.metadata.name);
            assert.ok(isDeepStrictEqual(was, after.executions.find(e => e.metadata.name === ex.metadata.name)), `${what}: a refused cancel changed the execution`);
          }
        }
      } else if (r < 0.65) {
        const ex = pick([...(await list('executions')), undefined]);
        what = `delete execution ${ex?.metadata.name}`;
        if (ex) assert.equal((await call('DELETE', `${NS}/executions/${ex.metadata.name}`)).status, 200, what);
      } else if (r < 0.68) {
        const job = pick(jobNames);
        what = `delete job ${job}`;
        const res = await call('DELETE', `${NS}/jobs/${job}`);
        assert.ok(res.status === 200 || res.status === 404, what);
      } else if (r < 0.72) {
        what = 'a refused request changes nothing';
        const before = await world();
        const res = await call('POST', `${NS}/jobs/${pick(jobNames)}:run`, { overrides: { taskCount: 10001 } });
        assert.ok(res.status === 400 || res.status === 404, what);
        await settle();
        assert.deepEqual((await world()).executions.length, before.executions.length, what);
      } else if (r < 0.75) {
        what = 'restart';
        await settle();
        const before = await world();
        await g.close();
        g = await startTestGantry(opts);
        await settle();
        const after = await world();
        assert.deepEqual(after, before, `seed ${SEED}, step ${step}: a restart changed state`);
      } else {
        const s = pick([1, 5, 15, 60]);
        what = `advance ${s}s`;
        assert.equal((await call('POST', '/gantry/v1/clock:advance', { duration: `${s}s` })).status, 200);
      }
      await settle();
      await check(step, what);
    }
    // (c) Nothing waits forever: past every timeout and retry, every execution has finished.
    for (let i = 0; i < 10; i++) await call('POST', '/gantry/v1/clock:advance', { duration: '10m' });
    const end = await check(STEPS, 'the end');
    for (const ex of end.executions) {
      assert.notEqual(ex.status.conditions.find((c: Obj) => c.type === 'Completed').status, 'Unknown', `seed ${SEED}: ${ex.metadata.name} never finished`);
    }
  } finally {
    await g.close();
  }
});
