// Rollout verbs through the real gcloud CLI: promote, approve/reject, advance, retry-job, ignore-job,
// cancel, job-runs list/describe/terminate. Releases are created through the API (source upload aside).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { fileURLToPath } from 'node:url';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';
import { google } from 'googleapis';

function fakeAuthApis() {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3600_000 });
  return auth;
}

const FIXTURE = fileURLToPath(new URL('../../../test/fixtures/clouddeploy.yaml', import.meta.url));
const APP = fileURLToPath(new URL('../../../test/fixtures/app', import.meta.url));
const PIPE = 'projects/my-proj/locations/us-central1/deliveryPipelines/web';
const P = ['--delivery-pipeline=web', '--region=us-central1', '--quiet'];
let g: Gantry;
let gcloud: Gcloud;

interface Rollout { name: string; state: string; approvalState: string; deployFailureCause?: string; failureReason?: string; phases: { id: string; state: string }[] }

const describe = (rollout: string, release: string) => gcloud.json<Rollout>(['deploy', 'rollouts', 'describe', rollout, `--release=${release}`, ...P]);
const until = (rollout: string, release: string, pred: (r: Rollout) => boolean) => eventually(async () => { const r = await describe(rollout, release); return pred(r) ? r : undefined; }, 20_000);

async function createRelease(id: string, annotations: Record<string, string> = {}) {
  const r = await fetch(`${g.url}/v1/${PIPE}/releases?releaseId=${id}`, { method: 'POST', body: JSON.stringify({ annotations }), headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200);
  await eventually(async () => ((await (await fetch(`${g.url}/v1/${PIPE}/releases/${id}`)).json()) as { renderState: string }).renderState === 'SUCCEEDED');
}

before(async () => {
  g = await startTestGantry({ jobMs: 100 });
  gcloud = await gcloudFor(g.url);
  await gcloud(['deploy', 'apply', `--file=${FIXTURE}`, '--region=us-central1']);
});
after(() => g.close());

test('releases create uploads the source to Gantry\'s Cloud Storage and its first rollout deploys', async () => {
  const { stderr } = await gcloud(['deploy', 'releases', 'create', 'rel-src', `--source=${APP}`, ...P]);
  assert.match(stderr, /Uploading tarball of .* to \[gs:\/\/[0-9a-f]{32}_clouddeploy\/source\/.*\.tgz\]/);
  assert.match(stderr, /Created Cloud Deploy release rel-src/);
  assert.match(stderr, /Creating rollout .*rel-src-to-dev-0001 in target dev/);
  await until('rel-src-to-dev-0001', 'rel-src', r => r.state === 'SUCCEEDED');
  const release = (await (await fetch(`${g.url}/v1/${PIPE}/releases/rel-src`)).json()) as { skaffoldConfigUri: string };
  const [, bucket, object] = /^gs:\/\/([^/]+)\/(.+)$/.exec(release.skaffoldConfigUri)!;
  const storage = google.storage({ version: 'v1', rootUrl: g.url + '/', auth: fakeAuthApis() });
  const meta = (await storage.objects.get({ bucket, object })).data;
  assert.equal(meta.name, object);
  const media = await storage.objects.get({ bucket, object, alt: 'media' }, { responseType: 'arraybuffer' });
  const tgz = Buffer.from(media.data as unknown as ArrayBuffer);
  assert.equal(String(tgz.length), meta.size);
  assert.deepEqual([...tgz.subarray(0, 2)], [0x1f, 0x8b]);
});

test('releases promote walks the stages; approve gates prod; canary phases skipped on a first deployment', async () => {
  await createRelease('rel-1');
  // A release deployed nowhere needs --to-target; after that, promote picks the next stage.
  const missing = await gcloud.fails(['deploy', 'releases', 'promote', '--release=rel-1', ...P]);
  assert.match(missing, /Include the --to-target parameter/);
  for (const target of ['dev', 'staging']) {
    const { stderr } = await gcloud(['deploy', 'releases', 'promote', '--release=rel-1', ...(target === 'dev' ? ['--to-target=dev'] : []), ...P]);
    assert.match(stderr, new RegExp(`Creating rollout ${PIPE}/releases/rel-1/rollouts/rel-1-to-${target}-0001 in target ${target}`));
    await until(`rel-1-to-${target}-0001`, 'rel-1', r => r.state === 'SUCCEEDED');
  }
  const { stderr } = await gcloud(['deploy', 'releases', 'promote', '--release=rel-1', ...P]);
  assert.match(stderr, /The rollout is pending approval/);
  const list = await gcloud.json<Rollout[]>(['deploy', 'rollouts', 'list', '--release=rel-1', ...P]);
  assert.deepEqual(list.map(r => [r.name.split('/').pop(), r.state]), [['rel-1-to-dev-0001', 'SUCCEEDED'], ['rel-1-to-staging-0001', 'SUCCEEDED'], ['rel-1-to-prod-0001', 'PENDING_APPROVAL']]);
  await gcloud(['deploy', 'rollouts', 'approve', 'rel-1-to-prod-0001', '--release=rel-1', ...P]);
  // A first deployment skips the canary phases; stable then waits for an advance (Google's canary quickstart).
  await until('rel-1-to-prod-0001', 'rel-1', x => x.state === 'IN_PROGRESS' && x.phases[2].state === 'PENDING');
  await gcloud(['deploy', 'rollouts', 'advance', 'rel-1-to-prod-0001', '--release=rel-1', ...P]);
  const r = await until('rel-1-to-prod-0001', 'rel-1', x => x.state === 'SUCCEEDED');
  assert.equal(r.approvalState, 'APPROVED');
  assert.deepEqual(r.phases.map(p => p.state), ['SKIPPED', 'SKIPPED', 'SUCCEEDED']);
  const last = await gcloud(['deploy', 'releases', 'promote', '--release=rel-1', ...P]);
  assert.match(last.stderr + last.stdout, /last target|already/i);
});

test('reject, then advance through canary phases after retrying a failed verify', async () => {
  await createRelease('rel-2', { 'gantry.dev/outcomes': 'canary-25/verify=fail@1' });
  await gcloud(['deploy', 'releases', 'promote', '--release=rel-2', '--to-target=prod', ...P]);
  await gcloud(['deploy', 'rollouts', 'reject', 'rel-2-to-prod-0001', '--release=rel-2', ...P]);
  assert.equal((await describe('rel-2-to-prod-0001', 'rel-2')).state, 'APPROVAL_REJECTED');
  await gcloud(['deploy', 'releases', 'promote', '--release=rel-2', '--to-target=prod', ...P]);
  await gcloud(['deploy', 'rollouts', 'approve', 'rel-2-to-prod-0002', '--release=rel-2', ...P]);
  let r = await until('rel-2-to-prod-0002', 'rel-2', x => x.state === 'FAILED');
  assert.equal(r.deployFailureCause, 'EXECUTION_FAILED');
  await gcloud(['deploy', 'rollouts', 'retry-job', 'rel-2-to-prod-0002', '--release=rel-2', '--phase-id=canary-25', '--job-id=verify', ...P]);
  r = await until('rel-2-to-prod-0002', 'rel-2', x => x.phases[0].state === 'SUCCEEDED');
  assert.equal(r.state, 'IN_PROGRESS');
  for (const next of ['canary-50', 'stable']) {
    const { stderr } = await gcloud(['deploy', 'rollouts', 'advance', 'rel-2-to-prod-0002', '--release=rel-2', ...P]);
    assert.match(stderr, new RegExp(`to phase ${next}`));
    await until('rel-2-to-prod-0002', 'rel-2', x => x.phases.find(p => p.id === next)!.state === 'SUCCEEDED');
  }
  assert.equal((await until('rel-2-to-prod-0002', 'rel-2', x => x.state === 'SUCCEEDED')).state, 'SUCCEEDED');
});

test('job-runs list/describe/terminate, ignore-job, cancel and its precondition error', async () => {
  await createRelease('rel-3', { 'gantry.dev/outcomes': 'stable/deploy=succeed~30s@1' });
  await gcloud(['deploy', 'releases', 'promote', '--release=rel-3', '--to-target=staging', ...P]);
  const ro = ['--rollout=rel-3-to-staging-0001', '--release=rel-3', ...P];
  const runs = await eventually(async () => {
    const l = await gcloud.json<{ name: string; state: string; jobId: string }[]>(['deploy', 'job-runs', 'list', ...ro]);
    return l.length ? l : undefined;
  });
  const id = runs[0].name.split('/').pop()!;
  const one = await gcloud.json<{ state: string; jobId: string }>(['deploy', 'job-runs', 'describe', id, ...ro]);
  assert.deepEqual([one.state, one.jobId], ['IN_PROGRESS', 'deploy']);
  await gcloud(['deploy', 'job-runs', 'terminate', id, ...ro]);
  let r = await until('rel-3-to-staging-0001', 'rel-3', x => x.state === 'FAILED');
  assert.match(r.failureReason!, /terminated/);
  assert.equal((await gcloud.json<{ state: string }>(['deploy', 'job-runs', 'describe', id, ...ro])).state, 'TERMINATED');
  await gcloud(['deploy', 'rollouts', 'ignore-job', 'rel-3-to-staging-0001', '--release=rel-3', '--phase-id=stable', '--job-id=deploy', ...P]);
  r = await until('rel-3-to-staging-0001', 'rel-3', x => x.state === 'SUCCEEDED');
  await createRelease('rel-4', { 'gantry.dev/outcomes': '*/deploy=succeed~30s' });
  await gcloud(['deploy', 'releases', 'promote', '--release=rel-4', '--to-target=dev', ...P]);
  await until('rel-4-to-dev-0001', 'rel-4', x => x.state === 'IN_PROGRESS');
  await gcloud(['deploy', 'rollouts', 'cancel', 'rel-4-to-dev-0001', '--release=rel-4', ...P]);
  r = await until('rel-4-to-dev-0001', 'rel-4', x => x.state === 'CANCELLED');
  const err = await gcloud.fails(['deploy', 'rollouts', 'cancel', 'rel-4-to-dev-0001', '--release=rel-4', ...P]);
  assert.match(err, /Status code: 400.*CANCELLED/);
});

test('targets rollback (GA creates a rollout of the earlier release; alpha calls RollbackTarget)', async () => {
  for (const rel of ['rb-1', 'rb-2']) await createRelease(rel);
  for (const rel of ['rb-1', 'rb-2']) {
    await gcloud(['deploy', 'releases', 'promote', `--release=${rel}`, '--to-target=staging', ...P]);
    await until(`${rel}-to-staging-0001`, rel, r => r.state === 'SUCCEEDED');
  }
  const ga = await gcloud(['deploy', 'targets', 'rollback', 'staging', ...P]);
  assert.match(ga.stderr, /Creating rollout .*releases\/rb-1\/rollouts\/rb-1-to-staging-0002 in target staging/);
  const back = await until('rb-1-to-staging-0002', 'rb-1', r => r.state === 'SUCCEEDED');
  assert.equal((back as Rollout & { description?: string }).description, 'Rollback from rb-2');
  const alpha = await gcloud(['alpha', 'deploy', 'targets', 'rollback', 'staging', ...P]);
  assert.match(alpha.stderr + alpha.stdout, /Rolling back target staging to release rb-2/);
  const r = await until('rb-2-to-staging-0002', 'rb-2', x => x.state === 'SUCCEEDED') as Rollout & { rollbackOfRollout?: string };
  assert.equal(r.rollbackOfRollout, `${PIPE}/releases/rb-1/rollouts/rb-1-to-staging-0002`);
  const previous = await describe('rb-1-to-staging-0002', 'rb-1') as Rollout & { rolledBackByRollouts?: string[] };
  assert.deepEqual(previous.rolledBackByRollouts, [`${PIPE}/releases/rb-2/rollouts/rb-2-to-staging-0002`]);
});
