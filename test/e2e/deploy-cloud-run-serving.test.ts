// Cloud Deploy deploys for real to Gantry's Cloud Run, driven by gcloud unchanged: a canary pipeline (25 → 50 →
// stable) whose service URL serves each phase's split, a release whose container exits at start failing its deploy
// job with Cloud Run's reason while the old revision keeps serving, a verify container that curls the service and
// fails on a 500 failing the rollout, and `targets rollback` bringing the earlier release back to 100%.
// The "images" are directories (--image-dir), run by the process executor as a buildpack image would run them.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { getApp } from '../helpers/apphosting.js';
import type { Gantry } from '../../src/gantry.js';
import { projectNumber } from '../../src/google/project-number.js';

const P = 'dp-run';
const HOST = `shop-${projectNumber(P)}.us-central1.run.app`;
const REPO = 'us-docker.pkg.dev/dp-run/apps/shop';
const PIPE = ['--delivery-pipeline=shop', '--region=us-central1'];

/** Each "image" is a directory holding a Procfile app: v1 and v2 answer their version, bad exits, v500 fails. */
const APPS: Record<string, string> = {
  v1: "require('http').createServer((q, s) => s.end('v1')).listen(process.env.PORT);",
  v2: "require('http').createServer((q, s) => s.end('v2')).listen(process.env.PORT);",
  bad: "console.error('missing DATABASE_URL'); process.exit(3);",
  v500: "require('http').createServer((q, s) => { s.statusCode = 500; s.end('boom'); }).listen(process.env.PORT);",
};

let g: Gantry;
let gcloud: Gcloud;
let source: string;

before(async () => {
  const images = tempDir('images-');
  for (const [tag, code] of Object.entries(APPS)) {
    mkdirSync(join(images, tag));
    writeFileSync(join(images, tag, 'server.js'), code + '\n');
    writeFileSync(join(images, tag, 'Procfile'), 'web: node server.js\n');
  }
  g = await startTestGantry({
    executor: 'process', jobMs: 50, logLevel: 'silent',
    imageDirs: Object.keys(APPS).map(tag => ({ image: `${REPO}:${tag}`, path: join(images, tag) })),
  });
  gcloud = await gcloudFor(g.url, P, { run: true });
  source = tempDir('shop-src-');
  writeFileSync(join(source, 'skaffold.yaml'), [
    'apiVersion: skaffold/v4beta7', 'kind: Config', 'metadata: {name: shop}',
    'manifests: {rawYaml: [service.yaml]}', 'deploy: {cloudrun: {}}',
    // The verify container fails unless 40 requests to each URL of the service all answer 2xx (a canary's 25% is
    // missed by all 80 with a chance of 1e-10; curl resolves *.localhost itself).
    'verify:', '- name: smoke', '  container:', '    name: smoke', '    image: curlimages/curl',
    '    command: ["/bin/sh"]', '    args: ["-c", "for u in $(echo $GANTRY_SERVICE_URLS | tr , \' \'); do for i in $(seq 40); do curl -fsS -o /dev/null $u/ || exit 1; done; done"]', '',
  ].join('\n'));
  writeFileSync(join(source, 'service.yaml'), [
    'apiVersion: serving.knative.dev/v1', 'kind: Service', 'metadata:', '  name: shop', 'spec:', '  template:', '    spec:',
    '      containers:', '      - image: shop', '',
  ].join('\n'));
  const pipeline = join(tempDir(), 'clouddeploy.yaml');
  writeFileSync(pipeline, [
    'apiVersion: deploy.cloud.google.com/v1', 'kind: DeliveryPipeline', 'metadata: {name: shop}', 'serialPipeline:', '  stages:',
    '  - targetId: prod', '    strategy:', '      canary:', '        runtimeConfig: {cloudRun: {automaticTrafficControl: true}}',
    '        canaryDeployment: {percentages: [25, 50], verify: true}',
    '---', 'apiVersion: deploy.cloud.google.com/v1', 'kind: Target', 'metadata: {name: prod}', `run: {location: projects/${P}/locations/us-central1}`, '',
  ].join('\n'));
  await gcloud(['deploy', 'apply', `--file=${pipeline}`, '--region=us-central1']);
});
after(async () => { await g.close(); });

interface Rollout { state: string; failureReason?: string; phases: { id: string; state: string }[]; metadata?: { cloudRun?: { service: string; revision: string; previousRevision?: string; serviceUrls: string[] } } }
const describe = (release: string, rollout: string) => gcloud.json<Rollout>(['deploy', 'rollouts', 'describe', rollout, `--release=${release}`, ...PIPE]);
const until = async (release: string, rollout: string, pred: (r: Rollout) => boolean) => {
  let last: Rollout | undefined;
  return eventually(async () => { last = await describe(release, rollout); return pred(last) ? last : undefined; }, 60_000)
    .catch((e: Error) => { throw new Error(`${e.message}; ${rollout} is ${JSON.stringify(last).slice(0, 2000)}`); });
};
const release = (id: string, tag: string) => gcloud(['deploy', 'releases', 'create', id, ...PIPE, `--images=shop=${REPO}:${tag}`, `--source=${source}`]);
const advance = (release: string, rollout: string, phase: string) => gcloud(['deploy', 'rollouts', 'advance', rollout, `--release=${release}`, `--phase-id=${phase}`, ...PIPE]);

/** The share of `n` requests each answer takes. */
async function shares(n: number): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (let i = 0; i < n; i++) { const b = (await getApp(g.url, HOST)).body; counts[b] = (counts[b] ?? 0) + 1; }
  return Object.fromEntries(Object.entries(counts).map(([k, v]) => [k, v / n]));
}

test('a canary serves each phase\'s split; a container that exits fails the deploy and the old revision keeps serving; a failing verify fails the rollout; rollback serves the old release again', async () => {
  // The first release: the canaries are skipped on a first deployment, stable waits for advance.
  await release('r1', 'v1');
  await until('r1', 'r1-to-prod-0001', r => r.state === 'IN_PROGRESS');
  await advance('r1', 'r1-to-prod-0001', 'stable');
  const first = await until('r1', 'r1-to-prod-0001', r => r.state === 'SUCCEEDED');
  assert.equal((await getApp(g.url, HOST)).body, 'v1');
  assert.equal(first.metadata!.cloudRun!.service, `projects/${P}/locations/us-central1/services/shop`);
  const described = await gcloud.json<{ status: { latestReadyRevisionName: string } }>(['run', 'services', 'describe', 'shop']);
  assert.equal(first.metadata!.cloudRun!.revision, described.status.latestReadyRevisionName);

  // The second: canary-25 deploys and verifies by itself, then each advance moves the split.
  await release('r2', 'v2');
  let r = await until('r2', 'r2-to-prod-0001', x => x.phases[0].state === 'SUCCEEDED');
  let s = await shares(400);
  assert.ok(Math.abs(s.v2 - 0.25) < 0.08 && Math.abs(s.v1 - 0.75) < 0.08, `canary-25 serves ${JSON.stringify(s)}`);
  assert.equal(r.metadata!.cloudRun!.previousRevision, `projects/${P}/locations/us-central1/services/shop/revisions/${first.metadata!.cloudRun!.revision}`);
  await advance('r2', 'r2-to-prod-0001', 'canary-50');
  await until('r2', 'r2-to-prod-0001', x => x.phases[1].state === 'SUCCEEDED');
  s = await shares(400);
  assert.ok(Math.abs(s.v2 - 0.5) < 0.08, `canary-50 serves ${JSON.stringify(s)}`);
  await advance('r2', 'r2-to-prod-0001', 'stable');
  r = await until('r2', 'r2-to-prod-0001', x => x.state === 'SUCCEEDED');
  assert.deepEqual(await shares(50), { v2: 1 });

  // A container that exits at start: the deploy job fails with Cloud Run's reason; v2 keeps all traffic.
  await release('r3', 'bad');
  r = await until('r3', 'r3-to-prod-0001', x => x.state === 'FAILED');
  assert.match(r.failureReason!, /did not become ready/);
  assert.match(r.failureReason!, /The user-provided container failed to start and listen on the port/);
  assert.deepEqual(await shares(50), { v2: 1 });

  // A release whose app answers 500: its canary deploys, and verify (curl -f) fails the rollout.
  await release('r4', 'v500');
  r = await until('r4', 'r4-to-prod-0001', x => x.state === 'FAILED');
  assert.equal(r.phases[0].state, 'FAILED');
  assert.match(r.failureReason!, /verify/);

  // Rollback: r2 is what the target runs (r3 and r4 failed), so the release before it, r1, deploys again and takes all
  // the traffic (the failed canary's 25% included).
  await gcloud(['deploy', 'targets', 'rollback', 'prod', ...PIPE]);
  let seen: unknown;
  await eventually(async () => {
    const list = await gcloud.json<{ name: string; state: string; description?: string }[]>(['deploy', 'rollouts', 'list', '--release=r1', ...PIPE]);
    seen = list;
    return list.find(x => x.name.endsWith('/r1-to-prod-0002') && x.description === 'Rollback from r2' && x.state === 'SUCCEEDED');
  }, 60_000).catch(e => { throw new Error(`${(e as Error).message}: ${JSON.stringify(seen).slice(0, 3000)}`); });
  assert.deepEqual(await shares(50), { v1: 1 });
});
