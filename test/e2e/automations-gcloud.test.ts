// Automations and deploy policies as a team's clouddeploy.yaml holds them, through gcloud: `deploy apply` creates
// them with the pipeline and targets, `automations list/describe`, `automation-runs list` and `deploy-policies
// list/describe` show them, a changed file updates them, and Cloud Deploy's rules refuse bad ones.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let gcloud: Gcloud;
before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url, 'auto-proj');
});
after(() => g.close());

const CONFIG = `apiVersion: deploy.cloud.google.com/v1
kind: DeliveryPipeline
metadata:
  name: shop
serialPipeline:
  stages:
  - targetId: dev
  - targetId: staging
    strategy:
      standard:
        verify: true
  - targetId: prod
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata: {name: dev}
run: {location: projects/auto-proj/locations/us-central1}
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata: {name: staging}
run: {location: projects/auto-proj/locations/us-central1}
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata: {name: prod}
requireApproval: true
run: {location: projects/auto-proj/locations/us-central1}
---
apiVersion: deploy.cloud.google.com/v1
kind: Automation
metadata:
  name: shop/promote
description: promotes from dev onwards
suspended: false
serviceAccount: deployer@auto-proj.iam.gserviceaccount.com
selector:
  targets:
  - id: dev
  - id: staging
rules:
- promoteReleaseRule:
    name: promote-release
    wait: 5m
    toTargetId: "@next"
- advanceRolloutRule:
    name: advance-rollout
    sourcePhases: [canary]
    wait: 1m
---
apiVersion: deploy.cloud.google.com/v1
kind: Automation
metadata:
  name: shop/repair
serviceAccount: deployer@auto-proj.iam.gserviceaccount.com
selector:
  targets:
  - id: "*"
rules:
- repairRolloutRule:
    name: repair-verify
    jobs: [verify]
    repairPhases:
    - retry: {attempts: 2, wait: 1m, backoffMode: BACKOFF_MODE_EXPONENTIAL}
    - rollback: {destinationPhase: stable}
- timedPromoteReleaseRule:
    name: nightly
    schedule: "0 2 * * 1-5"
    timeZone: America/New_York
    destinationTargetId: "@next"
---
apiVersion: deploy.cloud.google.com/v1
kind: DeployPolicy
metadata:
  name: weekend-freeze
description: no prod changes at weekends
selectors:
- target: {id: prod}
rules:
- rolloutRestriction:
    id: weekends
    actions: [CREATE, APPROVE]
    invokers: [USER, DEPLOY_AUTOMATION]
    timeWindows:
      timeZone: America/New_York
      weeklyWindows:
      - daysOfWeek: [SATURDAY, SUNDAY]
        startTime: "00:00"
        endTime: "24:00"
      oneTimeWindows:
      - start: "2026-12-24 17:00"
        end: "2027-01-02 09:00"
`;

test('gcloud deploy apply of pipeline, targets, automations and a deploy policy; list and describe show them', async () => {
  const dir = tempDir();
  const file = join(dir, 'clouddeploy.yaml');
  writeFileSync(file, CONFIG);
  const applied = await gcloud(['deploy', 'apply', `--file=${file}`, '--region=us-central1']);
  assert.match(applied.stderr, /Created Cloud Deploy resource: projects\/auto-proj\/locations\/us-central1\/deliveryPipelines\/shop\/automations\/promote/);
  assert.match(applied.stderr, /Created Cloud Deploy resource: projects\/auto-proj\/locations\/us-central1\/deployPolicies\/weekend-freeze/);

  const autos = await gcloud.json<{ name: string }[]>(['deploy', 'automations', 'list', '--delivery-pipeline=shop', '--region=us-central1']);
  assert.deepEqual(autos.map(a => a.name.split('/').pop()).sort(), ['promote', 'repair']);
  const repair = await gcloud.json<{ rules: { repairRolloutRule?: { id: string; repairPhases: { retry?: { attempts: string; backoffMode: string } }[] }; timedPromoteReleaseRule?: { schedule: string } }[]; serviceAccount: string }>(
    ['deploy', 'automations', 'describe', 'repair', '--delivery-pipeline=shop', '--region=us-central1']);
  assert.equal(repair.serviceAccount, 'deployer@auto-proj.iam.gserviceaccount.com');
  assert.equal(repair.rules[0].repairRolloutRule!.id, 'repair-verify');
  assert.equal(repair.rules[0].repairRolloutRule!.repairPhases[0].retry!.attempts, '2');
  assert.equal(repair.rules[1].timedPromoteReleaseRule!.schedule, '0 2 * * 1-5');
  // Each rule's output-only condition: every target present; the timed rule's next tick and its promotions.
  const conditions = await gcloud.json<{ rules: { repairRolloutRule?: { condition: { targetsPresentCondition: { status: boolean } } }; timedPromoteReleaseRule?: { condition: { timedPromoteReleaseCondition: { nextPromotionTime: string; targetsList: { sourceTargetId: string; destinationTargetId: string }[] } } } }[] }>(
    ['deploy', 'automations', 'describe', 'repair', '--delivery-pipeline=shop', '--region=us-central1']);
  assert.equal(conditions.rules[0].repairRolloutRule!.condition.targetsPresentCondition.status, true);
  const timed = conditions.rules[1].timedPromoteReleaseRule!.condition.timedPromoteReleaseCondition;
  assert.ok(Date.parse(timed.nextPromotionTime) > Date.now() - 60_000);
  assert.deepEqual(timed.targetsList, [{ sourceTargetId: 'dev', destinationTargetId: 'staging' }, { sourceTargetId: 'staging', destinationTargetId: 'prod' }]);
  const runs = await gcloud.json<unknown[]>(['deploy', 'automation-runs', 'list', '--delivery-pipeline=shop', '--region=us-central1']);
  assert.deepEqual(runs, []);

  const policies = await gcloud.json<{ name: string }[]>(['deploy', 'deploy-policies', 'list', '--region=us-central1']);
  assert.deepEqual(policies.map(p => p.name.split('/').pop()), ['weekend-freeze']);
  const policy = await gcloud.json<{ rules: { rolloutRestriction: { timeWindows: { weeklyWindows: { daysOfWeek: string[] }[] } } }[] }>(['deploy', 'deploy-policies', 'describe', 'weekend-freeze', '--region=us-central1']);
  assert.deepEqual(policy.rules[0].rolloutRestriction.timeWindows.weeklyWindows[0].daysOfWeek, ['SATURDAY', 'SUNDAY']);

  // A changed file updates in place; a bad automation or policy is refused with Cloud Deploy's checks.
  writeFileSync(file, CONFIG.replace('description: promotes from dev onwards', 'description: changed'));
  const again = await gcloud(['deploy', 'apply', `--file=${file}`, '--region=us-central1']);
  assert.match(again.stderr, /Created Cloud Deploy resource: projects\/auto-proj\/locations\/us-central1\/deliveryPipelines\/shop\/automations\/promote/);
  assert.equal((await gcloud.json<{ description: string }>(['deploy', 'automations', 'describe', 'promote', '--delivery-pipeline=shop', '--region=us-central1'])).description, 'changed');
  const bad = (yaml: string) => { writeFileSync(file, yaml); return gcloud.fails(['deploy', 'apply', `--file=${file}`, '--region=us-central1']); };
  const automation = (rules: string) => `apiVersion: deploy.cloud.google.com/v1
kind: Automation
metadata: {name: shop/broken}
serviceAccount: deployer@auto-proj.iam.gserviceaccount.com
selector: {targets: [{id: dev}]}
rules:
${rules}`;
  assert.match(await bad(automation('- repairRolloutRule: {name: r, repairPhases: [{retry: {attempts: 11}}]}')), /attempts must be from 0 to 10/);
  assert.match(await bad(automation('- timedPromoteReleaseRule: {name: t, schedule: "not cron", timeZone: UTC}')), /not a cron expression/);
  assert.match(await bad(automation('- timedPromoteReleaseRule: {name: t, schedule: "0 9 * * 1", timeZone: Mars/Olympus}')), /IANA time zone/);
  assert.match(await bad(automation('- promoteReleaseRule: {name: p}\n- advanceRolloutRule: {name: p}')), /used by another rule/);
  assert.match(await bad(`apiVersion: deploy.cloud.google.com/v1
kind: DeployPolicy
metadata: {name: empty-window}
selectors: [{target: {id: prod}}]
rules:
- rolloutRestriction: {id: r, timeWindows: {timeZone: UTC}}
`), /at least one one-time or weekly window/);

  // Deleting the pipeline with --force takes its automations.
  await gcloud(['deploy', 'delivery-pipelines', 'delete', 'shop', '--force', '--region=us-central1', '--quiet']);
  const gone = await gcloud.fails(['deploy', 'automations', 'describe', 'promote', '--delivery-pipeline=shop', '--region=us-central1']);
  assert.match(gone, /NOT_FOUND|not found/i);
  await gcloud(['deploy', 'deploy-policies', 'delete', 'weekend-freeze', '--region=us-central1', '--quiet']);
});

test('a deploy policy window blocks a user\'s approve (FAILED_PRECONDITION naming it); the override lets it through', async () => {
  const dir = tempDir();
  const file = join(dir, 'policy.yaml');
  const everyDay = '[MONDAY, TUESDAY, WEDNESDAY, THURSDAY, FRIDAY, SATURDAY, SUNDAY]';
  writeFileSync(file, `apiVersion: deploy.cloud.google.com/v1
kind: DeliveryPipeline
metadata: {name: fenced}
serialPipeline:
  stages:
  - targetId: gate
---
apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata: {name: gate, labels: {tier: prod}}
requireApproval: true
run: {location: projects/auto-proj/locations/us-central1}
---
apiVersion: deploy.cloud.google.com/v1
kind: DeployPolicy
metadata: {name: freeze}
selectors:
- target: {labels: {tier: prod}}
rules:
- rolloutRestriction:
    id: always
    actions: [APPROVE]
    invokers: [USER]
    timeWindows:
      timeZone: Europe/Paris
      weeklyWindows:
      - daysOfWeek: ${everyDay}
        startTime: "00:00"
        endTime: "24:00"
---
apiVersion: deploy.cloud.google.com/v1
kind: DeployPolicy
metadata: {name: long-ago}
selectors:
- deliveryPipeline: {id: "*"}
rules:
- rolloutRestriction:
    id: past
    timeWindows:
      timeZone: UTC
      oneTimeWindows:
      - start: "2001-01-01 00:00"
        end: "2001-01-02 00:00"
`);
  await gcloud(['deploy', 'apply', `--file=${file}`, '--region=us-central1']);
  const src = tempDir();
  writeFileSync(join(src, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [k8s.yaml]\ndeploy:\n  cloudrun: {}\n');
  writeFileSync(join(src, 'k8s.yaml'), 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata: {name: app}\nspec:\n  template:\n    spec:\n      containers: [{image: app}]\n');
  // CREATE is not restricted (the one-time window is long past): the release's first rollout is made.
  await gcloud(['deploy', 'releases', 'create', 'r1', '--delivery-pipeline=fenced', '--region=us-central1', `--source=${src}`, '--images=app=us-docker.pkg.dev/p/r/app:1']);
  const rollouts = await gcloud.json<{ name: string; approvalState: string }[]>(['deploy', 'rollouts', 'list', '--release=r1', '--delivery-pipeline=fenced', '--region=us-central1']);
  assert.equal(rollouts[0].approvalState, 'NEEDS_APPROVAL');
  const id = rollouts[0].name.split('/').pop()!;
  const blocked = await gcloud.fails(['deploy', 'rollouts', 'approve', id, '--release=r1', '--delivery-pipeline=fenced', '--region=us-central1', '--quiet']);
  // Google's words, which users grep for.
  assert.match(blocked, /An approve-rollout attempt was blocked by the "freeze" policy\. Target: "gate", Delivery pipeline: "fenced", policy rule: "always"/);
  await gcloud(['deploy', 'rollouts', 'approve', id, '--release=r1', '--delivery-pipeline=fenced', '--region=us-central1', '--quiet', '--override-deploy-policies=freeze']);
  const approved = await gcloud.json<{ approvalState: string }>(['deploy', 'rollouts', 'describe', id, '--release=r1', '--delivery-pipeline=fenced', '--region=us-central1']);
  assert.equal(approved.approvalState, 'APPROVED');

  // A restriction of CREATE refuses the rollout a new release would make, in the words Google documents.
  writeFileSync(file, `apiVersion: deploy.cloud.google.com/v1
kind: DeployPolicy
metadata: {name: no-new-rollouts}
selectors:
- deliveryPipeline: {id: fenced}
rules:
- rolloutRestriction:
    id: weekdays
    actions: [CREATE]
    timeWindows:
      timeZone: UTC
      weeklyWindows:
      - daysOfWeek: ${everyDay}
        startTime: "00:00"
        endTime: "24:00"
`);
  await gcloud(['deploy', 'apply', `--file=${file}`, '--region=us-central1']);
  const refused = await gcloud.fails(['deploy', 'releases', 'promote', '--release=r1', '--delivery-pipeline=fenced', '--region=us-central1', '--to-target=gate', '--quiet']);
  assert.match(refused, /A create-rollout attempt was blocked by the "no-new-rollouts" policy\. Target: "gate", Delivery pipeline: "fenced", policy rule: "weekdays"/);
});
