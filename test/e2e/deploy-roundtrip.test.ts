// Read-modify-write round trips, as deploy tooling does them: `gcloud deploy delivery-pipelines export` then
// `gcloud deploy apply` of the exported file; every Cloud Deploy kind read and PATCHed back as read (updateMask `*`,
// output-only fields included); an unchanged apply is no change (updateTime and etag stay); a multi-target of GKE
// targets beside GKE stages is one type (colors-e2e's layout).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'rt-proj';
const LOC = `projects/${PROJECT}/locations/us-central1`;
let g: Gantry;
let gcloud: Gcloud;
let dir: string;

before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url, PROJECT);
  dir = tempDir('rt-');
});
after(async () => { await g.close(); });

const get = async (name: string) => {
  const r = await fetch(`${g.url}/v1/${name}`);
  assert.equal(r.status, 200, await r.clone().text());
  return await r.json() as Record<string, unknown>;
};

test('a multi-target of GKE targets beside GKE stages is one type; export then apply round-trips; an unchanged apply changes nothing', async () => {
  const gke = (name: string) => `apiVersion: deploy.cloud.google.com/v1\nkind: Target\nmetadata:\n  name: ${name}\ngke:\n  cluster: ${LOC}/clusters/${name}\n`;
  writeFileSync(join(dir, 'clouddeploy.yaml'), [
    'apiVersion: deploy.cloud.google.com/v1\nkind: DeliveryPipeline\nmetadata:\n  name: colors\nserialPipeline:\n  stages:\n  - targetId: test\n  - targetId: prod\n  - targetId: prod-multi\n',
    gke('test'), gke('prod'), gke('prod-east'), gke('prod-west'),
    'apiVersion: deploy.cloud.google.com/v1\nkind: Target\nmetadata:\n  name: prod-multi\nmultiTarget:\n  targetIds: [prod-east, prod-west]\n',
  ].join('---\n'));
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'clouddeploy.yaml')}`, '--region=us-central1']);
  const pipeline = await get(`${LOC}/deliveryPipelines/colors`);
  const condition = pipeline.condition as Record<string, Record<string, unknown>>;
  assert.deepEqual(condition.targetsTypeCondition, { status: true }, 'TargetsTypeCondition has no updateTime, and a multi-target is its children\'s type');
  assert.equal(condition.pipelineReadyCondition.status, true);

  // Re-applying the same file: nothing changes, so the etag and updateTime stay.
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'clouddeploy.yaml')}`, '--region=us-central1']);
  const again = await get(`${LOC}/deliveryPipelines/colors`);
  assert.equal(again.etag, pipeline.etag);
  assert.equal(again.updateTime, pipeline.updateTime);

  // export → apply: what Gantry answered is accepted back.
  const exported = join(dir, 'exported.yaml');
  await gcloud(['deploy', 'delivery-pipelines', 'export', 'colors', '--region=us-central1', `--destination=${exported}`]);
  assert.match(readFileSync(exported, 'utf8'), /targetsTypeCondition/);
  await gcloud(['deploy', 'apply', `--file=${exported}`, '--region=us-central1']);
  assert.equal((await get(`${LOC}/deliveryPipelines/colors`)).etag, pipeline.etag, 'the exported pipeline is the same pipeline');

  // A changed file is a change.
  writeFileSync(join(dir, 'changed.yaml'), 'apiVersion: deploy.cloud.google.com/v1\nkind: DeliveryPipeline\nmetadata:\n  name: colors\ndescription: now described\nserialPipeline:\n  stages:\n  - targetId: test\n  - targetId: prod\n  - targetId: prod-multi\n');
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'changed.yaml')}`, '--region=us-central1']);
  const changed = await get(`${LOC}/deliveryPipelines/colors`);
  assert.notEqual(changed.etag, pipeline.etag);
  assert.equal(changed.description, 'now described');

  // Mixed kinds are still told apart: a Cloud Run stage beside GKE ones.
  writeFileSync(join(dir, 'mixed.yaml'), ['apiVersion: deploy.cloud.google.com/v1\nkind: Target\nmetadata:\n  name: run-one\nrun:\n  location: ' + LOC + '\n',
    'apiVersion: deploy.cloud.google.com/v1\nkind: DeliveryPipeline\nmetadata:\n  name: mixed\nserialPipeline:\n  stages:\n  - targetId: prod-multi\n  - targetId: run-one\n'].join('---\n'));
  await gcloud(['deploy', 'apply', `--file=${join(dir, 'mixed.yaml')}`, '--region=us-central1']);
  const mixed = (await get(`${LOC}/deliveryPipelines/mixed`)).condition as Record<string, Record<string, unknown>>;
  assert.equal(mixed.targetsTypeCondition.errorDetails, 'Targets are of different types: gke, run.');
});

test('every Cloud Deploy kind PATCHed back exactly as read (updateMask *) is accepted and unchanged', async () => {
  const post = async (path: string, body: unknown) => {
    const r = await fetch(`${g.url}/v1/${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, await r.clone().text());
  };
  await post(`${LOC}/targets?targetId=rt-target`, { run: { location: LOC }, requireApproval: true, labels: { a: 'b' } });
  await post(`${LOC}/deliveryPipelines?deliveryPipelineId=rt-pipe`, { serialPipeline: { stages: [{ targetId: 'rt-target', strategy: { canary: { runtimeConfig: { cloudRun: { automaticTrafficControl: true } }, canaryDeployment: { percentages: [25, 50] } } } }] } });
  await post(`${LOC}/customTargetTypes?customTargetTypeId=rt-ctt`, { customActions: { deployAction: 'deploy' } });
  await post(`${LOC}/deliveryPipelines/rt-pipe/automations?automationId=rt-auto`, {
    serviceAccount: `sa@${PROJECT}.iam.gserviceaccount.com`, selector: { targets: [{ id: 'rt-target' }] },
    rules: [{ promoteReleaseRule: { id: 'promote', wait: '60s' } }, { repairRolloutRule: { id: 'repair', repairPhases: [{ retry: { attempts: '2' } }] } }],
  });
  await post(`${LOC}/deployPolicies?deployPolicyId=rt-policy`, { selectors: [{ target: { id: 'rt-target' } }], rules: [{ rolloutRestriction: { id: 'freeze', timeWindows: { timeZone: 'UTC', weeklyWindows: [{ daysOfWeek: ['SATURDAY'] }] } } }] });
  await new Promise(r => setTimeout(r, 300)); // controllers settle (pipeline and automation conditions)
  for (const name of [`${LOC}/targets/rt-target`, `${LOC}/deliveryPipelines/rt-pipe`, `${LOC}/customTargetTypes/rt-ctt`, `${LOC}/deliveryPipelines/rt-pipe/automations/rt-auto`, `${LOC}/deployPolicies/rt-policy`]) {
    const read = await get(name);
    const r = await fetch(`${g.url}/v1/${name}?updateMask=*`, { method: 'PATCH', body: JSON.stringify(read), headers: { 'content-type': 'application/json' } });
    assert.equal(r.status, 200, `${name}: ${await r.clone().text()}`);
    const after = await get(name);
    assert.equal(after.etag, read.etag, `${name} is unchanged`);
    assert.equal(after.updateTime, read.updateTime, `${name} keeps its updateTime`);
    // Reads are stable: nothing changes between two reads of an idle resource.
    assert.deepEqual(await get(name), after, `${name} reads the same twice`);
  }
});
