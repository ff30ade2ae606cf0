// Automations running unattended on the virtual clock: a promote rule carries a release from the first target to
// the last, each step after its wait, with AutomationRuns recording it and rollouts linking back to them; an advance
// rule advances a waiting rollout; a deploy policy that blocks the automation fails its run with a policyViolation.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { gcloudFor } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/auto/locations/us-central1';
const DP = `${LOC}/deliveryPipelines/shop`;
type Obj = Record<string, any>;

/** JSON calls that must succeed, and the virtual clock moved by a duration ("60s") or to an instant ({ to }). */
function client(g: Gantry) {
  const call = async (method: string, path: string, body?: unknown) => {
    const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    const j = await r.json() as Obj;
    assert.equal(r.status, 200, `${method} ${path}: ${JSON.stringify(j)}`);
    return j;
  };
  const advance = (by: string | Obj) => call('POST', '/gantry/v1/clock:advance', typeof by === 'string' ? { duration: by } : by);
  return { call, advance };
}

test('promote and advance rules run on the clock; a policy blocking the automation fails its run', async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 1000, jobMs: 10_000 });
  const { call, advance } = client(g);
  const runs = async () => ((await call('GET', `/v1/${DP}/automationRuns`)).automationRuns ?? []) as Obj[];
  const rollouts = async () => ((await call('GET', `/v1/${DP}/releases/-/rollouts?orderBy=createTime`)).rollouts ?? []) as Obj[];
  try {
    for (const t of ['dev', 'staging', 'prod']) await call('POST', `/v1/${LOC}/targets?targetId=${t}`, { run: { location: LOC }, labels: { tier: t } });
    await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=shop`, { serialPipeline: { stages: [{ targetId: 'dev' }, { targetId: 'staging' }, { targetId: 'prod' }] } });
    await call('POST', `/v1/${DP}/automations?automationId=promote`, {
      serviceAccount: 'deployer@auto.iam.gserviceaccount.com', selector: { targets: [{ id: '*' }] },
      rules: [{ promoteReleaseRule: { id: 'promote-release', wait: '300s', destinationTargetId: '@next' } }],
    });
    // Automations may not promote into prod on Saturdays... or ever, here: CREATE by DEPLOY_AUTOMATION is fenced.
    await call('POST', `/v1/${LOC}/deployPolicies?deployPolicyId=no-robots-in-prod`, {
      selectors: [{ target: { id: 'prod' } }],
      rules: [{ rolloutRestriction: { id: 'humans-only', actions: ['CREATE'], invokers: ['DEPLOY_AUTOMATION'], timeWindows: { timeZone: 'UTC', weeklyWindows: [{}] } } }],
    });
    await call('POST', `/v1/${DP}/releases?releaseId=r1`, {});
    await advance('1s');
    await call('POST', `/v1/${DP}/releases/r1/rollouts?rolloutId=r1-to-dev-0001`, { targetId: 'dev' });
    await advance('10s');
    assert.equal((await rollouts())[0].state, 'SUCCEEDED');
    let [run] = await runs();
    assert.equal(run.state, 'PENDING');
    assert.equal(run.ruleId, 'promote-release');
    assert.equal(run.automationId, 'promote');
    assert.equal(run.targetId, 'dev');
    assert.equal(run.promoteReleaseOperation.targetId, 'staging');
    assert.equal(Date.parse(run.waitUntilTime) - Date.parse(run.createTime), 300_000);
    // At the createTime's precision (nanoseconds), as every timestamp Gantry writes.
    const fraction = (t: string) => /\.(\d+)Z$/.exec(t)?.[1];
    assert.equal(fraction(run.waitUntilTime), fraction(run.createTime));
    assert.equal(fraction(run.expireTime), fraction(run.createTime));
    await advance('299s');
    assert.equal((await runs())[0].state, 'PENDING');
    await advance('1s');
    run = (await runs()).find(r => r.promoteReleaseOperation.targetId === 'staging')!;
    assert.equal(run.state, 'SUCCEEDED', JSON.stringify(run));
    const toStaging = (await rollouts()).find(r => r.targetId === 'staging')!;
    assert.equal(toStaging.name, `${DP}/releases/r1/rollouts/r1-to-staging-0001`);
    assert.equal(toStaging.metadata.automation.promoteAutomationRun, run.name);
    assert.equal(run.promoteReleaseOperation.rollout, toStaging.name);
    await advance('10s');
    assert.equal((await rollouts()).find(r => r.targetId === 'staging')!.state, 'SUCCEEDED');
    await advance('300s');
    const blocked = (await runs()).find(r => r.promoteReleaseOperation.targetId === 'prod')!;
    assert.equal(blocked.state, 'FAILED');
    assert.deepEqual(blocked.policyViolation.policyViolationDetails.map((v: Obj) => [v.policy, v.ruleId]), [[`${LOC}/deployPolicies/no-robots-in-prod`, 'humans-only']]);
    assert.equal((await rollouts()).filter(r => r.targetId === 'prod').length, 0);
    // A person may still promote to prod (the policy fences only the automation).
    await call('POST', `/v1/${DP}/releases/r1/rollouts?rolloutId=r1-to-prod-0001`, { targetId: 'prod' });

    // Advance: a canary rollout waiting after canary-50 is advanced after the rule's wait.
    const CP = `${LOC}/deliveryPipelines/canary`;
    await call('POST', `/v1/${LOC}/targets?targetId=edge`, { run: { location: LOC } });
    await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=canary`, { serialPipeline: { stages: [{ targetId: 'edge', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50] } } } }] } });
    await call('POST', `/v1/${CP}/automations?automationId=advance`, {
      serviceAccount: 'deployer@auto.iam.gserviceaccount.com', selector: { targets: [{ id: 'edge' }] },
      rules: [{ advanceRolloutRule: { id: 'advance-canary', sourcePhases: ['canary-50'], wait: '60s' } }],
    });
    for (const rel of ['c1', 'c2']) {
      await call('POST', `/v1/${CP}/releases?releaseId=${rel}`, {});
      await advance('1s');
      await call('POST', `/v1/${CP}/releases/${rel}/rollouts?rolloutId=${rel}-to-edge-0001`, { targetId: 'edge' });
      await advance('30s');
      if (rel !== 'c1') continue;
      // The first deployment skips canary-50 and waits at stable; the rule advances it from the skipped phase too
      // (Google's automation quickstart: the skipped canary-25 is advanced to stable).
      const first = await call('GET', `/v1/${CP}/releases/c1/rollouts/c1-to-edge-0001`);
      assert.deepEqual([first.state, ...first.phases.map((p: Obj) => p.state)], ['IN_PROGRESS', 'SKIPPED', 'PENDING']);
      await advance('60s');
      await advance('30s');
      assert.equal((await call('GET', `/v1/${CP}/releases/c1/rollouts/c1-to-edge-0001`)).state, 'SUCCEEDED');
    }
    const waiting = await call('GET', `/v1/${CP}/releases/c2/rollouts/c2-to-edge-0001`);
    assert.equal(waiting.state, 'IN_PROGRESS');
    assert.deepEqual(waiting.phases.map((p: Obj) => [p.id, p.state]), [['canary-50', 'SUCCEEDED'], ['stable', 'PENDING']], 'waiting for :advance');
    const advanceRun = ((await call('GET', `/v1/${CP}/automationRuns`)).automationRuns as Obj[])
      .find(r => r.ruleId === 'advance-canary' && String(r.advanceRolloutOperation.rollout).endsWith('/c2-to-edge-0001'))!;
    assert.equal(advanceRun.advanceRolloutOperation.sourcePhase, 'canary-50');
    assert.equal(advanceRun.advanceRolloutOperation.destinationPhase, 'stable');
    await advance('60s');
    await advance('30s');
    const advanced = await call('GET', `/v1/${CP}/releases/c2/rollouts/c2-to-edge-0001`);
    assert.equal(advanced.state, 'SUCCEEDED');
    assert.deepEqual(advanced.metadata.automation.advanceAutomationRuns, [advanceRun.name]);
    assert.equal((await call('GET', `/v1/${advanceRun.name}`)).state, 'SUCCEEDED');

    // Cancel: a pending run is CANCELLED; a finished one cannot be.
    await call('POST', `/v1/${DP}/releases?releaseId=r2`, {});
    await advance('1s');
    await call('POST', `/v1/${DP}/releases/r2/rollouts?rolloutId=r2-to-dev-0001`, { targetId: 'dev' });
    await advance('10s');
    const pending = (await runs()).find(r => r.state === 'PENDING')!;
    await call('POST', `/v1/${pending.name}:cancel`, {});
    assert.equal((await call('GET', `/v1/${pending.name}`)).state, 'CANCELLED');
    await advance('600s');
    assert.equal((await rollouts()).filter(r => r.name.includes('/releases/r2/') && r.targetId === 'staging').length, 0);
    const again = await fetch(`${g.url}/v1/${pending.name}:cancel`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    assert.equal(again.status, 400);
  } finally {
    await g.close();
  }
});

test('a repair rule retries a failed verify with growing waits, then rolls back; a flaky verify is repaired by a retry', async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 1000, jobMs: 10_000 });
  const EP = `${LOC}/deliveryPipelines/edge-app`;
  const { call, advance } = client(g);
  const rollout = (rel: string, id: string) => call('GET', `/v1/${EP}/releases/${rel}/rollouts/${id}`);
  const run = async (name: string) => call('GET', `/v1/${name}`);
  try {
    await call('POST', `/v1/${LOC}/targets?targetId=edge`, { run: { location: LOC } });
    await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=edge-app`, { serialPipeline: { stages: [{ targetId: 'edge', strategy: { standard: { verify: true } } }] } });
    await call('POST', `/v1/${EP}/automations?automationId=repair`, {
      serviceAccount: 'deployer@auto.iam.gserviceaccount.com', selector: { targets: [{ id: 'edge' }] },
      rules: [{ repairRolloutRule: { id: 'repair-verify', jobs: ['verify'], repairPhases: [{ retry: { attempts: '2', wait: '60s', backoffMode: 'BACKOFF_MODE_LINEAR' } }, { rollback: {} }] } }],
    });
    const release = async (id: string, outcomes?: string) => {
      await call('POST', `/v1/${EP}/releases?releaseId=${id}`, outcomes ? { annotations: { 'gantry.dev/outcomes': outcomes } } : {});
      await advance('1s');
      await call('POST', `/v1/${EP}/releases/${id}/rollouts?rolloutId=${id}-to-edge-0001`, { targetId: 'edge' });
    };
    await release('good');
    await advance('20s');
    assert.equal((await rollout('good', 'good-to-edge-0001')).state, 'SUCCEEDED');

    // Always failing: two retries (60 s, then 120 s later), then the target goes back to `good`.
    await release('broken', '*/verify=fail');
    await advance('20s');
    let failed = await rollout('broken', 'broken-to-edge-0001');
    assert.equal(failed.state, 'FAILED');
    const repairName = failed.activeRepairAutomationRun as string;
    assert.ok(repairName, JSON.stringify(failed));
    assert.deepEqual(failed.metadata.automation.repairAutomationRuns, [repairName]);
    let r = await run(repairName);
    assert.equal(r.state, 'IN_PROGRESS');
    assert.deepEqual([r.repairRolloutOperation.phaseId, r.repairRolloutOperation.jobId], ['stable', 'verify']);
    assert.deepEqual(r.repairRolloutOperation.repairPhases[0].retry.attempts.map((a: Obj) => [a.attempt, a.wait, a.state]), [['1', '60s', 'PENDING']]);
    await advance('60s');
    assert.equal((await rollout('broken', 'broken-to-edge-0001')).state, 'IN_PROGRESS', 'retried after 60 s');
    await advance('10s');
    r = await run(repairName);
    assert.deepEqual(r.repairRolloutOperation.repairPhases[0].retry.attempts.map((a: Obj) => [a.attempt, a.wait, a.state]), [['1', '60s', 'FAILED'], ['2', '120s', 'PENDING']]);
    await advance('119s');
    assert.equal((await rollout('broken', 'broken-to-edge-0001')).state, 'FAILED');
    await advance('1s');
    await advance('10s');
    await advance('1s');
    r = await run(repairName);
    assert.equal(r.state, 'SUCCEEDED', JSON.stringify(r));
    const rollback = r.repairRolloutOperation.repairPhases[1].rollback;
    assert.equal(rollback.state, 'SUCCEEDED');
    assert.equal(r.repairRolloutOperation.currentRepairPhaseIndex, '1');
    const back = await rollout('good', rollback.rolloutId);
    assert.equal(back.rollbackOfRollout, `${EP}/releases/broken/rollouts/broken-to-edge-0001`);
    failed = await rollout('broken', 'broken-to-edge-0001');
    assert.equal(failed.activeRepairAutomationRun, undefined);
    assert.deepEqual(failed.rolledBackByRollouts, [back.name]);
    await advance('20s');
    assert.equal((await rollout('good', rollback.rolloutId)).state, 'SUCCEEDED');

    // Flaky: the verify fails once; the first retry succeeds and the repair ends there.
    await release('flaky', '*/verify=fail@1');
    await advance('20s');
    const flaky = await rollout('flaky', 'flaky-to-edge-0001');
    assert.equal(flaky.state, 'FAILED');
    await advance('60s');
    await advance('10s');
    await advance('1s');
    const healed = await rollout('flaky', 'flaky-to-edge-0001');
    assert.equal(healed.state, 'SUCCEEDED');
    assert.equal(healed.activeRepairAutomationRun, undefined);
    const fr = await run(String(healed.metadata.automation.repairAutomationRuns[0]));
    assert.equal(fr.state, 'SUCCEEDED');
    assert.deepEqual(fr.repairRolloutOperation.repairPhases[0].retry.attempts.map((a: Obj) => a.state), ['SUCCEEDED']);
  } finally {
    await g.close();
  }
});

test('a timed promote rule promotes what is deployed on its source targets at each tick of its schedule, in its zone', async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 1000, jobMs: 10_000 });
  const TP = `${LOC}/deliveryPipelines/nightly`;
  const { call, advance } = client(g);
  try {
    // Start at 01:00 in New York, winter time (06:00 UTC).
    await advance({ to: '2027-01-05T06:00:00Z' });
    for (const t of ['qa', 'live']) await call('POST', `/v1/${LOC}/targets?targetId=${t}`, { run: { location: LOC } });
    await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=nightly`, { serialPipeline: { stages: [{ targetId: 'qa' }, { targetId: 'live' }] } });
    await call('POST', `/v1/${TP}/automations?automationId=at-two`, {
      serviceAccount: 'deployer@auto.iam.gserviceaccount.com', selector: { targets: [{ id: 'qa' }] },
      rules: [{ timedPromoteReleaseRule: { id: 'two-am', schedule: '0 2 * * *', timeZone: 'America/New_York', destinationTargetId: '@next' } }],
    });
    await call('POST', `/v1/${TP}/releases?releaseId=n1`, {});
    await advance({ duration: '1s' });
    await call('POST', `/v1/${TP}/releases/n1/rollouts?rolloutId=n1-to-qa-0001`, { targetId: 'qa' });
    await advance({ duration: '30s' });
    const list = async () => ((await call('GET', `/v1/${TP}/automationRuns`)).automationRuns ?? []) as Obj[];
    assert.deepEqual(await list(), []);
    // 02:00 New York = 07:00 UTC.
    await advance({ to: '2027-01-05T06:59:59Z' });
    assert.deepEqual(await list(), []);
    await advance({ to: '2027-01-05T07:00:00Z' });
    const [run] = await list();
    assert.equal(run.state, 'SUCCEEDED', JSON.stringify(run));
    assert.deepEqual(run.timedPromoteReleaseOperation, { targetId: 'live', release: `${TP}/releases/n1` });
    assert.equal(run.targetId, 'qa');
    const live = await call('GET', `/v1/${TP}/releases/n1/rollouts/n1-to-live-0001`);
    assert.equal(live.metadata.automation.promoteAutomationRun, run.name);
    await advance({ duration: '30s' });
    assert.equal((await call('GET', `/v1/${TP}/releases/n1/rollouts/n1-to-live-0001`)).state, 'SUCCEEDED');
    // The next night: n1 is already live, nothing to promote.
    await advance({ to: '2027-01-06T07:00:01Z' });
    assert.equal((await list()).length, 1);
  } finally {
    await g.close();
  }
});

test('a three-stage pipeline runs unattended: promote, advance and repair (retry twice, then roll back), with gcloud reading the runs', { timeout: 120_000 }, async () => {
  const g = await startTestGantry({ clock: 'virtual', renderMs: 1000, jobMs: 10_000 });
  const P3 = `${LOC}/deliveryPipelines/three`;
  const { call, advance } = client(g);
  const runs = async () => ((await call('GET', `/v1/${P3}/automationRuns`)).automationRuns ?? []) as Obj[];
  const onTarget = async (rel: string, target: string) => ((await call('GET', `/v1/${P3}/releases/${rel}/rollouts`)).rollouts ?? []).filter((r: Obj) => r.targetId === target) as Obj[];
  try {
    for (const t of ['dev', 'staging', 'prod']) await call('POST', `/v1/${LOC}/targets?targetId=${t}`, { run: { location: LOC } });
    await call('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=three`, { serialPipeline: { stages: [
      { targetId: 'dev' },
      { targetId: 'staging', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [50] } } } },
      { targetId: 'prod', strategy: { standard: { verify: true } } },
    ] } });
    await call('POST', `/v1/${P3}/automations?automationId=flow`, {
      serviceAccount: 'deployer@auto.iam.gserviceaccount.com', selector: { targets: [{ id: '*' }] },
      rules: [
        { promoteReleaseRule: { id: 'promote', wait: '60s', destinationTargetId: '@next' } },
        { advanceRolloutRule: { id: 'advance', sourcePhases: ['canary-50'], wait: '60s' } },
        { repairRolloutRule: { id: 'repair', jobs: ['verify'], repairPhases: [{ retry: { attempts: '2', wait: '60s', backoffMode: 'BACKOFF_MODE_EXPONENTIAL' } }, { rollback: {} }] } },
      ],
    });
    const ship = async (rel: string, outcomes?: string) => {
      await call('POST', `/v1/${P3}/releases?releaseId=${rel}`, outcomes ? { annotations: { 'gantry.dev/outcomes': outcomes } } : {});
      await advance('1s');
      await call('POST', `/v1/${P3}/releases/${rel}/rollouts?rolloutId=${rel}-to-dev-0001`, { targetId: 'dev' });
      // Unattended: time alone moves it through staging and prod.
      for (let i = 0; i < 30; i++) await advance('30s');
    };
    // The first release: dev → staging (first deployment there: no canary) → prod.
    await ship('v1');
    assert.equal((await onTarget('v1', 'prod'))[0]?.state, 'SUCCEEDED', 'v1 reached the last target');
    // The second: staging runs its canary and the advance rule finishes it; prod's verify fails every time:
    // two retries (after 60 s, then 120 s), then prod is rolled back to v1.
    await ship('v2', 'stable/verify=fail');
    const staging = (await onTarget('v2', 'staging'))[0];
    assert.equal(staging.state, 'SUCCEEDED');
    assert.equal(staging.metadata.automation.advanceAutomationRuns.length, 1);
    const prod = (await onTarget('v2', 'prod'))[0];
    assert.equal(prod.state, 'FAILED');
    assert.equal(prod.metadata.automation.promoteAutomationRun !== undefined, true);
    const repair = (await runs()).find(r => r.ruleId === 'repair')!;
    assert.equal(repair.state, 'SUCCEEDED');
    assert.deepEqual(repair.repairRolloutOperation.repairPhases[0].retry.attempts.map((a: Obj) => [a.attempt, a.wait, a.state]), [['1', '60s', 'FAILED'], ['2', '120s', 'FAILED']]);
    const rollbackId = repair.repairRolloutOperation.repairPhases[1].rollback.rolloutId;
    assert.equal((await call('GET', `/v1/${P3}/releases/v1/rollouts/${rollbackId}`)).state, 'SUCCEEDED', 'prod runs v1 again');
    // Every run ended, in the state its work came to.
    const all = await runs();
    assert.ok(all.every(r => ['SUCCEEDED', 'FAILED', 'ABORTED', 'CANCELLED'].includes(r.state)), JSON.stringify(all.map(r => [r.ruleId, r.state])));
    assert.deepEqual([...new Set(all.map(r => r.ruleId))].sort(), ['advance', 'promote', 'repair']);

    // gcloud reads them.
    const gcloud = await gcloudFor(g.url, 'auto');
    const listed = await gcloud.json<{ name: string; state: string }[]>(['deploy', 'automation-runs', 'list', '--delivery-pipeline=three', '--region=us-central1']);
    assert.equal(listed.length, all.length);
    const described = await gcloud.json<{ ruleId: string; state: string }>(['deploy', 'automation-runs', 'describe', repair.name.split('/').pop(), '--delivery-pipeline=three', '--region=us-central1']);
    assert.deepEqual([described.ruleId, described.state], ['repair', 'SUCCEEDED']);
    const err = await gcloud.fails(['deploy', 'automation-runs', 'cancel', repair.name.split('/').pop(), '--delivery-pipeline=three', '--region=us-central1']);
    assert.match(err, /already SUCCEEDED/);
  } finally {
    await g.close();
  }
});
