// Model-based test of Cloud Run services: random deploys (ready, pending or failing), traffic splits and tags over the
// revisions that exist, readiness verdicts arriving later, revision deletes and stale replaces, in any order. After
// every step the invariants hold: traffic that resolved names only ready revisions and sums to 100, the serving plan
// is that traffic, revision numbers only grow, a serving or tagged revision is never deleted, and a refused action
// changed nothing.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SqliteStore } from '../../../src/store/sqlite.js';
import { VirtualClock } from '../../../src/engine/clock.js';
import { Projects } from '../../../src/google/projects.js';
import { RunServices } from '../../../src/apis/run/services.js';
import type { Readiness, RevisionSubject } from '../../../src/apis/run/revisions.js';
import { servingPlan } from '../../../src/apis/run/serving-plan.js';
import { ApiError } from '../../../src/google/errors.js';
import { rng, runModel } from '../../helpers/model.js';

type Obj = Record<string, any>;
const S = { project: 'traffic-model', region: 'us-central1', asNamed: 'traffic-model' };
const ID = 'web';

for (const seed of [1, 2, 3, 4]) {
  test(`services, revisions and traffic keep their invariants under random operations (seed ${seed})`, async () => {
    const random = rng(seed);
    const pick = <T>(xs: T[]): T => xs[Math.floor(random() * xs.length)];
    const store = new SqliteStore(':memory:');
    const projects = new Projects(store);
    /** What the next revision's readiness will be, and the revisions still waiting for a verdict. */
    let next: Readiness['state'] = 'ready';
    const waiting: string[] = [];
    const services = new RunServices({ store, clock: new VirtualClock(0), projects, readiness: {
      assess: (r: RevisionSubject): Readiness => {
        if (next === 'pending') waiting.push(r.key);
        return next === 'failed' ? { state: 'failed', reason: 'HealthCheckContainerError', message: 'the container exited' } : { state: next } as Readiness;
      },
    } }) as unknown as { [K in 'create' | 'replace' | 'get' | 'deleteRevision']: (...a: any[]) => Obj } & { revisions(...a: any[]): Obj[]; settleRevision(k: string, v: Readiness): void };
    let image = 0;
    let highest = 0;
    const revisionNames = () => services.revisions(S, ID).map(r => String(r.metadata.name));
    const current = () => { try { return services.get(S, ID); } catch { return undefined; } };
    const attempt = (what: string, fn: () => void) => {
      try { fn(); return { what }; } catch (e) {
        if (!(e instanceof ApiError) || !['INVALID_ARGUMENT', 'FAILED_PRECONDITION', 'ABORTED', 'ALREADY_EXISTS', 'NOT_FOUND'].includes(e.code)) throw e;
        return { what: `${what} → ${e.code}`, refused: true };
      }
    };
    const spec = (svc: Obj | undefined, traffic?: Obj[]) => ({
      apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: ID },
      spec: { template: structuredClone(svc?.spec.template ?? { spec: { containers: [{ image: 'img:0' }] } }), ...(traffic ? { traffic } : {}) },
    });

    await runModel({
      seed, steps: 300, random,
      actions: [
        [4, async () => {
          next = pick(['ready', 'ready', 'pending', 'failed'] as const);
          const svc = current();
          const body = spec(svc);
          body.spec.template = { spec: { containers: [{ image: `img:${++image}` }] } };
          return attempt(`deploy img:${image} (${next})`, () => { if (svc) services.replace(S, ID, body, false); else services.create(S, body, false); });
        }],
        [3, async () => {
          const svc = current();
          const names = revisionNames();
          if (!svc || !names.length) return { what: 'split: nothing yet' };
          const a = pick(names), b = pick(names);
          const p = pick([0, 10, 25, 50, 75, 100, 60]);
          const traffic = a === b ? [{ revisionName: a, percent: 100 }] : [{ revisionName: a, percent: p }, { revisionName: b, percent: 100 - p, ...(random() < 0.5 ? { tag: pick(['blue', 'green']) } : {}) }];
          if (random() < 0.2) traffic.push({ latestRevision: true, percent: 0, tag: 'latest' } as never);
          if (random() < 0.1) traffic[0].percent += 5; // sums to 105: refused
          return attempt(`split ${JSON.stringify(traffic)}`, () => services.replace(S, ID, spec(svc, traffic), false));
        }],
        [2, async () => {
          if (!waiting.length) return { what: 'settle: none waiting' };
          const key = waiting.splice(Math.floor(random() * waiting.length), 1)[0];
          const verdict: Readiness = random() < 0.7 ? { state: 'ready' } : { state: 'failed', reason: 'HealthCheckContainerError', message: 'exited' };
          services.settleRevision(key, verdict);
          return { what: `settle ${key.split('/').pop()} ${verdict.state}` };
        }],
        [1, async () => {
          const names = revisionNames();
          if (!names.length) return { what: 'delete revision: none' };
          const name = pick(names);
          return attempt(`delete ${name}`, () => services.deleteRevision(S, name, false));
        }],
        [1, async () => {
          const svc = current();
          if (!svc) return { what: 'stale replace: no service' };
          const body = spec(svc);
          (body.metadata as Obj).resourceVersion = 'stale-version';
          body.spec.template = { spec: { containers: [{ image: 'never' }] } };
          return attempt('stale replace', () => services.replace(S, ID, body, false));
        }],
      ],
      settle: async () => {},
      check: async (step, what) => {
        const at = `seed ${seed}, step ${step} (${what})`;
        const svc = current();
        const revs = new Map(services.revisions(S, ID).map(r => [String(r.metadata.name), r]));
        if (!svc) return { svc: undefined, revs: [...revs.keys()] };
        const ready = (name: string) => revs.get(name)?.status?.conditions?.find((c: Obj) => c.type === 'Ready')?.status;
        const traffic = (svc.status.traffic ?? []) as Obj[];
        if (traffic.length) {
          assert.equal(traffic.reduce((s, t) => s + (t.percent ?? 0), 0), 100, `${at}: resolved traffic sums to 100`);
          for (const t of traffic) {
            assert.ok(revs.has(t.revisionName), `${at}: traffic names ${t.revisionName}, which exists`);
            assert.equal(ready(t.revisionName), 'True', `${at}: traffic names ${t.revisionName}, which is ready`);
          }
          const tags = traffic.filter(t => t.tag).map(t => t.tag);
          assert.equal(new Set(tags).size, tags.length, `${at}: tags are unique`);
        }
        const plan = servingPlan(svc);
        assert.deepEqual(plan.split.reduce((s, x) => s + x.percent, 0), traffic.length ? 100 : 0, `${at}: the plan splits what resolved`);
        for (const x of plan.split) assert.equal(ready(x.revision), 'True', `${at}: the plan serves only ready revisions`);
        const latestReady = svc.status.latestReadyRevisionName;
        if (latestReady) assert.equal(ready(latestReady), 'True', `${at}: latestReadyRevisionName is ready`);
        for (const name of revs.keys()) {
          const n = Number(/-(\d{5})-/.exec(name)?.[1]);
          highest = Math.max(highest, n);
        }
        const created = svc.status.latestCreatedRevisionName;
        if (created) assert.equal(Number(/-(\d{5})-/.exec(created)?.[1]), highest, `${at}: the latest created revision has the highest number`);
        return { svc: { spec: svc.spec, traffic: svc.status.traffic, rv: svc.metadata.resourceVersion }, revs: [...revs.keys()].sort() };
      },
    });
  });
}
