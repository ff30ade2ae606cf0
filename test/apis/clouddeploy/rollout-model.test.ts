// Model-based test of the rollout state machine: random (seeded) sequences of what users and time do —
// releases (some failing to render, some with scripted job outcomes), rollouts, every verb, abandon,
// force-deleting pipelines, the virtual clock, server restarts — over pipelines that share targets
// (canary, custom canary, standard, a multi-target, a target requiring approval), all through HTTP.
// After every step, once the controllers have settled, invariants hold:
//  (a) per (location, target id) at most one rollout is IN_PROGRESS or CANCELLING (idle ones awaiting
//      :advance included: the rollout that starts next halts them in the same transaction);
//  (b) every unfinished rollout waits on something that will happen: its release's render, a user
//      (approval, :advance), a running job run, or — queued — a rollout deploying to its target; after
//      time moves far enough only users are waited on;
//  (c) a restart changes nothing (every release, rollout and job run reads the same);
//  (d) a request refused with a 4xx changes nothing.
// GANTRY_MODEL_SEED reproduces a run (the seed is printed on failure); GANTRY_MODEL_STEPS sets its length.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';
import { startTestGantry, tempDir } from '../../helpers/server.js';
import { rng as prng } from '../../helpers/model.js';
import type { Gantry } from '../../../src/gantry.js';

const SEED = Number(process.env.GANTRY_MODEL_SEED ?? Math.floor(Math.random() * 2 ** 31));
const STEPS = Number(process.env.GANTRY_MODEL_STEPS ?? 500);
const LOC = 'projects/model/locations/us-central1';
const CANARY_RUN = { runtimeConfig: { cloudRun: { automaticTrafficControl: true } } };
const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'APPROVAL_REJECTED', 'HALTED']);

const TARGETS: Record<string, object> = {
  ta: { run: { location: LOC } },
  tb: { run: { location: LOC }, requireApproval: true },
  tc: { run: { location: LOC } },
  td: { run: { location: LOC } },
  fleet: { multiTarget: { targetIds: ['tc', 'td'] } },
};
// Every target is a stage of two or three pipelines; tc and td also take the fleet's children.
const PIPELINES: Record<string, { stages: object[] }> = {
  can: { stages: [
    { targetId: 'ta', strategy: { canary: { ...CANARY_RUN, canaryDeployment: { percentages: [50], verify: true } } } },
    { targetId: 'tb', strategy: { canary: { customCanaryDeployment: { phaseConfigs: [{ phaseId: 'small', percentage: 25, verify: true }, { phaseId: 'stable', percentage: 100 }] } } } },
  ] },
  std: { stages: [
    { targetId: 'ta', strategy: { standard: { verify: true, predeploy: { actions: ['pre'] }, postdeploy: { actions: ['post'] } } } },
    { targetId: 'tb' }, { targetId: 'tc' },
  ] },
  mix: { stages: [
    { targetId: 'tc', strategy: { canary: { ...CANARY_RUN, canaryDeployment: { percentages: [30, 60] } } } },
    { targetId: 'td', strategy: { standard: { verify: true } } },
  ] },
  fl: { stages: [{ targetId: 'fleet', strategy: { canary: { ...CANARY_RUN, canaryDeployment: { percentages: [50] } } } }] },
};
const RULES = ['*/verify=fail@1', '*/deploy=fail@1', '*/deploy=fail:DEADLINE_EXCEEDED', '*/deploy=succeed~90s', 'stable/deploy=fail@2',
  'canary-50/verify=fail@1', 'small/deploy=fail@1', '*/predeploy=fail@1', '*/postdeploy=fail@1', '*/deploy=skip', '*/*=succeed~3s'];

type Obj = Record<string, unknown>;
interface Job { id: string; state: string; jobRun?: string }
interface Phase { id: string; state: string; deploymentJobs?: Record<string, Job>; childRolloutJobs?: { createRolloutJobs?: Job[]; advanceRolloutJobs?: Job[] } }
interface Rollout { name: string; targetId: string; state: string; etag: string; phases?: Phase[]; controllerRollout?: string }
interface JobRun { name: string; state: string; jobId: string; createChildRolloutJobRun?: { rollout: string }; advanceChildRolloutJobRun?: { rollout: string } }
interface Release { name: string; renderState: string; abandoned?: boolean }
interface World { pipelines: string[]; releases: Release[]; rollouts: Rollout[]; jobRuns: JobRun[] }

const jobsOf = (p: Phase): Job[] => p.childRolloutJobs
  ? [...p.childRolloutJobs.createRolloutJobs ?? [], ...p.childRolloutJobs.advanceRolloutJobs ?? []]
  : Object.values(p.deploymentJobs ?? {});
const done = (p: Phase) => p.state === 'SUCCEEDED' || p.state === 'SKIPPED';
/** IN_PROGRESS with its next phase waiting for :advance (the model's own reading of the API view). */
function idle(r: Rollout): boolean {
  const phases = r.phases ?? [];
  const next = phases.findIndex(p => !done(p));
  // Past the first phase that ran, or behind a canary skipped on the target's first deployment: waits for :advance.
  const behindSkippedCanary = phases.slice(0, next).some(p => p.state === 'SKIPPED' && /first deployment/.test(String((p as { skipMessage?: string }).skipMessage)));
  return r.state === 'IN_PROGRESS' && next >= 0 && phases[next].state === 'PENDING' && (next > phases.findIndex(p => p.state !== 'SKIPPED') || behindSkippedCanary);
}
const deploying = (r: Rollout) => r.state === 'CANCELLING' || (r.state === 'IN_PROGRESS' && !idle(r));
const releaseOf = (rollout: string) => rollout.slice(0, rollout.indexOf('/rollouts/'));
const pipelineOf = (name: string) => name.slice(0, name.indexOf('/releases/'));

test(`rollout state machine model: ${STEPS} random steps keep the invariants (seed ${SEED})`, { timeout: Math.max(120_000, STEPS * 2_000) }, async t => {
  t.diagnostic(`GANTRY_MODEL_SEED=${SEED} GANTRY_MODEL_STEPS=${STEPS}`);
  const rand = prng(SEED);
  const pick = <T>(xs: T[]): T | undefined => xs.length ? xs[Math.floor(rand() * xs.length)] : undefined;
  /** Mostly an element satisfying `pred` (a likely-allowed request), sometimes any (a likely-refused one). */
  const pickMostly = <T>(xs: T[], pred: (x: T) => boolean, p = 0.85): T | undefined => (rand() < p && xs.some(pred) ? pick(xs.filter(pred)) : pick(xs));
  const dataDir = tempDir('gantry-model-');
  const options = { dataDir, clock: 'virtual' as const, renderMs: 5_000, jobMs: 20_000 };
  let g: Gantry = await startTestGantry(options);
  const history: string[] = [];
  let step = 0;
  let counter = 0;

  const fail = (what: string, detail?: unknown): never => {
    throw new Error(`${what}\nseed ${SEED}, step ${step}: rerun with GANTRY_MODEL_SEED=${SEED} GANTRY_MODEL_STEPS=${STEPS}\n` +
      `last steps:\n  ${history.slice(-25).join('\n  ')}` + (detail === undefined ? '' : `\n${JSON.stringify(detail, null, 1).slice(0, 20_000)}`));
  };
  const call = async (method: string, path: string, body?: unknown): Promise<{ status: number; json: Obj }> => {
    const r = await fetch(`${g.url}/v1/${path}`, { method, ...(body === undefined ? {} : { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }) });
    const json = (await r.json()) as Obj;
    if (r.status >= 500) fail(`${method} ${path} answered ${r.status}`, json);
    return { status: r.status, json };
  };
  const listAll = async <T>(path: string, field: string): Promise<T[]> => {
    const out: T[] = [];
    let token = '';
    do {
      const { status, json } = await call('GET', `${path}?pageSize=1000${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
      if (status !== 200) fail(`GET ${path} answered ${status}`, json);
      out.push(...((json[field] as T[] | undefined) ?? []));
      token = String(json.nextPageToken ?? '');
    } while (token);
    return out;
  };
  /** Lets every controller (and the render's asynchronous source checks) finish what the last step started. */
  const settle = async () => { for (let i = 0; i < 3; i++) { await g.runtime.idle(); await new Promise(r => setImmediate(r)); } };
  const clock = async (duration: string) => {
    const r = await fetch(`${g.url}/gantry/v1/clock:advance`, { method: 'POST', body: JSON.stringify({ duration }), headers: { 'content-type': 'application/json' } });
    if (r.status !== 200) fail(`clock:advance ${duration} answered ${r.status}`);
  };
  const world = async (): Promise<World> => {
    const pipelines = (await listAll<{ name: string }>(`${LOC}/deliveryPipelines`, 'deliveryPipelines')).map(p => p.name);
    const w: World = { pipelines, releases: [], rollouts: [], jobRuns: [] };
    for (const p of pipelines) {
      w.releases.push(...await listAll<Release>(`${p}/releases`, 'releases'));
      w.rollouts.push(...await listAll<Rollout>(`${p}/releases/-/rollouts`, 'rollouts'));
      w.jobRuns.push(...await listAll<JobRun>(`${p}/releases/-/rollouts/-/jobRuns`, 'jobRuns'));
    }
    return w;
  };

  /** A controller rollout's children and what else is on their targets, for failure reports. */
  const childrenOf = (w: World, r: Rollout) => w.rollouts.filter(c => c.controllerRollout === r.name)
    .map(c => ({ child: c, onTarget: w.rollouts.filter(o => o.targetId === c.targetId && o.name !== c.name && !TERMINAL.has(o.state)) }));

  /** (a) and (b); with `drained` (time moved far), only users may be waited on. */
  const check = (w: World, drained: boolean) => {
    const releases = new Map(w.releases.map(r => [r.name, r]));
    const rollouts = new Map(w.rollouts.map(r => [r.name, r]));
    const jobRuns = new Map(w.jobRuns.map(j => [j.name, j]));
    const byTarget = new Map<string, Rollout[]>();
    for (const r of w.rollouts) byTarget.set(r.targetId, [...byTarget.get(r.targetId) ?? [], r]);
    for (const [target, rs] of byTarget) {
      const active = rs.filter(r => r.state === 'IN_PROGRESS' || r.state === 'CANCELLING');
      if (active.length > 1) fail(`(a) ${active.length} rollouts are active on target ${target}`, active);
    }
    /** A rollout that deploys has a job run running now (or a child rollout that itself moves on). */
    const running = (r: Rollout): boolean => {
      const phase = (r.phases ?? []).find(p => !done(p));
      return !!phase && jobsOf(phase).some(j => {
        const jr = j.state === 'IN_PROGRESS' && j.jobRun ? jobRuns.get(j.jobRun) : undefined;
        if (jr?.state !== 'IN_PROGRESS') return false;
        const child = jr.createChildRolloutJobRun ?? jr.advanceChildRolloutJobRun;
        return !child || (rollouts.has(child.rollout) && !TERMINAL.has(rollouts.get(child.rollout)!.state));
      });
    };
    for (const r of w.rollouts) {
      if (TERMINAL.has(r.state)) continue;
      const release = releases.get(releaseOf(r.name));
      if (!release) fail(`(b) rollout ${r.name} outlived its release`, r);
      if (release!.abandoned && ['PENDING_RELEASE', 'PENDING_APPROVAL', 'PENDING'].includes(r.state)) fail(`(b) rollout ${r.name} still waits on abandoned release`, r);
      const ok = (() => {
        switch (r.state) {
          case 'PENDING_RELEASE': return !drained && release!.renderState === 'IN_PROGRESS';
          case 'PENDING_APPROVAL': return true;
          case 'PENDING': return !drained && (byTarget.get(r.targetId) ?? []).some(o => o.name !== r.name && deploying(o));
          case 'IN_PROGRESS': return idle(r) || (!drained && running(r));
          default: return !drained && running(r); // CANCELLING
        }
      })();
      if (!ok) fail(`(b) rollout ${r.name} is ${r.state}${idle(r) ? ' (idle)' : ''} and waits on nothing that will happen${drained ? ' (after time moved far)' : ''}`, { rollout: r, onTarget: byTarget.get(r.targetId)!.filter(o => !TERMINAL.has(o.state)), children: childrenOf(w, r) });
    }
    for (const jr of w.jobRuns) {
      if (jr.state !== 'IN_PROGRESS' && jr.state !== 'TERMINATING') continue;
      const owner = rollouts.get(jr.name.slice(0, jr.name.indexOf('/jobRuns/')));
      if (drained || !owner || !deploying(owner)) fail(`(b) job run ${jr.name} is ${jr.state} for a rollout that is ${owner?.state ?? 'gone'}`, { jr, owner });
    }
    if (drained) for (const rel of w.releases) if (rel.renderState === 'IN_PROGRESS') fail(`(b) release ${rel.name} still renders after time moved far`, rel);
  };

  const createPipeline = async (id: string) => {
    const { status, json } = await call('POST', `${LOC}/deliveryPipelines?deliveryPipelineId=${id}`, { serialPipeline: PIPELINES[id] });
    if (status !== 200) fail(`creating pipeline ${id} answered ${status}`, json);
  };
  const stageTargets = (pipeline: string) => PIPELINES[pipeline.slice(pipeline.lastIndexOf('/') + 1)].stages.map(s => (s as { targetId: string }).targetId);

  /** One random step; returns its description and, for a request, the HTTP status. */
  const act = async (w: World): Promise<{ what: string; status?: number }> => {
    const missing = Object.keys(PIPELINES).filter(id => !w.pipelines.includes(`${LOC}/deliveryPipelines/${id}`));
    const live = w.rollouts.filter(r => !TERMINAL.has(r.state));
    // Pipelines deploying to a target where another pipeline's rollouts wait: deleting one must free them.
    const blockers = w.pipelines.filter(p => w.rollouts.some(r => r.name.startsWith(p + '/') && deploying(r) &&
      w.rollouts.some(o => o.state === 'PENDING' && o.targetId === r.targetId && !o.name.startsWith(p + '/'))));
    const ops: [number, () => Promise<{ what: string; status?: number }>][] = [
      [missing.length ? 3 : 0, async () => { const id = pick(missing)!; await createPipeline(id); return { what: `create pipeline ${id}` }; }],
      [12, async () => {
        const p = pick(w.pipelines);
        if (!p) return { what: 'no pipeline' };
        const annotations: Record<string, string> = {};
        if (rand() < 0.12) annotations['gantry.dev/render-failure'] = rand() < 0.5 ? 'EXECUTION_FAILED' : `${pick(stageTargets(p))}=CLOUD_BUILD_UNAVAILABLE`;
        if (rand() < 0.45) annotations['gantry.dev/outcomes'] = Array.from({ length: 1 + Math.floor(rand() * 2) }, () => pick(RULES)!).join('; ');
        const id = `r${++counter}`;
        const { status } = await call('POST', `${p}/releases?releaseId=${id}`, { annotations });
        return { what: `release ${p}/releases/${id} ${JSON.stringify(annotations)}`, status };
      }],
      [18, async () => {
        const rel = pickMostly(w.releases, r => r.renderState !== 'FAILED' && !r.abandoned);
        if (!rel) return { what: 'no release' };
        const target = pick(stageTargets(pipelineOf(rel.name)))!;
        const id = `ro${++counter}`;
        const { status } = await call('POST', `${rel.name}/rollouts?rolloutId=${id}`, { targetId: target });
        return { what: `rollout ${rel.name}/rollouts/${id} to ${target}`, status };
      }],
      [8, async () => {
        const r = pickMostly(w.rollouts, x => x.state === 'PENDING_APPROVAL');
        if (!r) return { what: 'no rollout' };
        const approved = rand() < 0.8;
        return { what: `${approved ? 'approve' : 'reject'} ${r.name}`, status: (await call('POST', `${r.name}:approve`, { approved })).status };
      }],
      [12, async () => {
        const r = pickMostly(w.rollouts, idle, 0.9);
        if (!r) return { what: 'no rollout' };
        const next = (r.phases ?? []).find(p => !done(p));
        const phaseId = (rand() < 0.85 && next ? next : pick(r.phases ?? []))?.id ?? 'stable';
        return { what: `advance ${r.name} to ${phaseId}`, status: (await call('POST', `${r.name}:advance`, { phaseId })).status };
      }],
      [4, async () => {
        const r = pickMostly(w.rollouts, x => !TERMINAL.has(x.state) && x.state !== 'CANCELLING');
        if (!r) return { what: 'no rollout' };
        return { what: `cancel ${r.name} (${r.state})`, status: (await call('POST', `${r.name}:cancel`, {})).status };
      }],
      [12, async () => {
        const r = pickMostly(w.rollouts, x => x.state === 'FAILED');
        if (!r) return { what: 'no rollout' };
        const jobs = (r.phases ?? []).flatMap(p => jobsOf(p).map(j => ({ phase: p.id, job: j })));
        const j = pickMostly(jobs, x => x.job.state === 'FAILED');
        if (!j) return { what: `no job in ${r.name}` };
        const verb = rand() < 0.7 ? 'retryJob' : 'ignoreJob';
        return { what: `${verb} ${r.name} ${j.phase}/${j.job.id}`, status: (await call('POST', `${r.name}:${verb}`, { phaseId: j.phase, jobId: j.job.id })).status };
      }],
      [5, async () => {
        const jr = pickMostly(w.jobRuns, x => x.state === 'IN_PROGRESS' && !x.createChildRolloutJobRun && !x.advanceChildRolloutJobRun);
        if (!jr) return { what: 'no job run' };
        return { what: `terminate ${jr.name} (${jr.jobId}, ${jr.state})`, status: (await call('POST', `${jr.name}:terminate`, {})).status };
      }],
      [2, async () => {
        const rel = pickMostly(w.releases, x => !x.abandoned);
        if (!rel) return { what: 'no release' };
        return { what: `abandon ${rel.name}`, status: (await call('POST', `${rel.name}:abandon`, {})).status };
      }],
      [blockers.length ? 3 : live.length ? 0.7 : 0.2, async () => {
        const p = pickMostly(w.pipelines, x => blockers.includes(x)) ?? pick(w.pipelines);
        if (!p) return { what: 'no pipeline' };
        const { status, json } = await call('DELETE', `${p}?force=true`);
        if (status !== 200) fail(`force-deleting ${p} answered ${status}`, json);
        return { what: `force-delete ${p}` };
      }],
      [22, async () => {
        const d = rand() < 0.08 ? '86400s' : `${1 + Math.floor(rand() * 60)}s`;
        await clock(d);
        return { what: `clock +${d}` };
      }],
      [1.5, async () => {
        await settle();
        const before = await world();
        await g.close();
        g = await startTestGantry(options);
        await settle();
        const after = await world();
        if (!isDeepStrictEqual(before, after)) {
          const changed = after.rollouts.filter(r => !isDeepStrictEqual(r, before.rollouts.find(b => b.name === r.name)));
          fail('(c) a restart changed the API view', { changedRollouts: changed.slice(0, 3), before: changed.slice(0, 3).map(c => before.rollouts.find(b => b.name === c.name)) });
        }
        return { what: 'restart' };
      }],
    ];
    let x = rand() * ops.reduce((s, [wt]) => s + wt, 0);
    for (const [wt, op] of ops) { if ((x -= wt) < 0) return op(); }
    return ops[ops.length - 1][1]();
  };

  try {
    await clock('0s'); // saves the virtual time, so a restart resumes at the same instant
    for (const [id, body] of Object.entries(TARGETS)) {
      const { status } = await call('POST', `${LOC}/targets?targetId=${id}`, body);
      assert.equal(status, 200);
    }
    for (const id of Object.keys(PIPELINES)) await createPipeline(id);
    let w = await world();
    for (step = 1; step <= STEPS; step++) {
      const { what, status } = await act(w);
      history.push(`${step}: ${what}${status === undefined ? '' : ` → ${status}`}`);
      await settle();
      const next = await world();
      if (status !== undefined && status >= 400 && !isDeepStrictEqual(w, next)) fail(`(d) a request refused with ${status} changed something: ${what}`);
      check(next, what === 'clock +86400s');
      w = next;
    }
    // Finally let time run out: only users may be waited on.
    await clock('86400s');
    await settle();
    check(await world(), true);
    const states = new Map<string, number>();
    for (const r of w.rollouts) states.set(r.state, (states.get(r.state) ?? 0) + 1);
    t.diagnostic(`rollouts by state at the end: ${JSON.stringify(Object.fromEntries(states))}`);
  } finally {
    await g.close();
  }
});
