// Cloud Deploy through the real gcloud CLI: `deploy apply` upserts, describe and list show the result.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/clouddeploy.yaml', import.meta.url));
let g: Gantry;
let gcloud: Gcloud;

before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url);
});
after(() => g.close());

interface Pipeline { name: string; description?: string; labels?: Record<string, string>; serialPipeline: { stages: { targetId: string; strategy?: { canary?: { canaryDeployment?: { percentages: number[] } } } }[] }; condition: { pipelineReadyCondition: { status?: boolean } } }
interface Target { name: string; targetId: string; requireApproval?: boolean; run?: { location: string } }

test('gcloud deploy apply creates a three-stage pipeline (one canary) and its targets', async () => {
  const { stderr } = await gcloud(['deploy', 'apply', `--file=${FIXTURE}`, '--region=us-central1']);
  assert.match(stderr, /Created Cloud Deploy resource: projects\/my-proj\/locations\/us-central1\/deliveryPipelines\/web/);
  assert.match(stderr, /Created Cloud Deploy resource: projects\/my-proj\/locations\/us-central1\/targets\/prod/);
});

test('gcloud deploy delivery-pipelines describe and list show it', async () => {
  const described = await gcloud(['deploy', 'delivery-pipelines', 'describe', 'web', '--region=us-central1']);
  assert.match(described.stdout, /Delivery Pipeline:/);
  assert.match(described.stdout, /percentages:\n\s+- 25\n\s+- 50/);
  const list = await gcloud.json<Pipeline[]>(['deploy', 'delivery-pipelines', 'list', '--region=us-central1']);
  assert.equal(list.length, 1);
  const p = list[0];
  assert.equal(p.name, 'projects/my-proj/locations/us-central1/deliveryPipelines/web');
  assert.deepEqual(p.serialPipeline.stages.map(s => s.targetId), ['dev', 'staging', 'prod']);
  assert.deepEqual(p.serialPipeline.stages[2].strategy!.canary!.canaryDeployment!.percentages, [25, 50]);
  assert.deepEqual(p.labels, { team: 'platform' });
  assert.equal(p.condition.pipelineReadyCondition.status, true);
});

test('gcloud deploy targets describe and list show them', async () => {
  // gcloud's `targets list` prints the raw ListTargetsResponse, not a flattened list.
  const { targets } = await gcloud.json<{ targets: Target[] }>(['deploy', 'targets', 'list', '--region=us-central1']);
  assert.deepEqual(targets.map(t => t.targetId).sort(), ['dev', 'prod', 'staging']);
  const prod = await gcloud.json<{ Target: Target } | Target>(['deploy', 'targets', 'describe', 'prod', '--region=us-central1']);
  const t = 'Target' in prod ? prod.Target : prod;
  assert.equal(t.requireApproval, true);
  assert.equal(t.run!.location, 'projects/my-proj/locations/us-central1');
});

test('re-applying a changed file updates in place', async () => {
  const dir = tempDir();
  const yaml = `apiVersion: deploy.cloud.google.com/v1
kind: Target
metadata:
  name: dev
  labels:
    env: dev
description: changed by apply
run:
  location: projects/my-proj/locations/us-central1
`;
  writeFileSync(join(dir, 'dev.yaml'), yaml);
  const before = await gcloud.json<{ Target: Target & { uid: string; createTime: string } }>(['deploy', 'targets', 'describe', 'dev', '--region=us-central1']);
  const { stderr } = await gcloud(['deploy', 'apply', `--file=${join(dir, 'dev.yaml')}`, '--region=us-central1']);
  assert.match(stderr, /Created Cloud Deploy resource|Updated Cloud Deploy resource/);
  const after = await gcloud.json<{ Target: Target & { uid: string; createTime: string; description: string; labels: Record<string, string> } }>(['deploy', 'targets', 'describe', 'dev', '--region=us-central1']);
  assert.equal(after.Target.description, 'changed by apply');
  assert.deepEqual(after.Target.labels, { env: 'dev' });
  assert.equal(after.Target.uid, before.Target.uid);
  assert.equal(after.Target.createTime, before.Target.createTime);
});

test('errors print as gcloud prints Google errors', async () => {
  const err = await gcloud.fails(['deploy', 'targets', 'describe', 'nope', '--region=us-central1']);
  assert.match(err, /NOT_FOUND|not found/i);
});

test('gcloud deploy delete removes what apply made', async () => {
  await gcloud(['deploy', 'delete', `--file=${FIXTURE}`, '--region=us-central1', '--force']);
  const list = await gcloud.json<Pipeline[]>(['deploy', 'delivery-pipelines', 'list', '--region=us-central1']);
  assert.deepEqual(list, []);
  const targets = await gcloud.json<{ targets?: Target[] }>(['deploy', 'targets', 'list', '--region=us-central1']);
  assert.deepEqual(targets, {});
});
