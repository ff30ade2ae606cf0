// Cloud Run services through gcloud, unchanged (Gantry as its proxy for the regional v1 hosts, as for jobs): deploy,
// a second deploy making revision 2, describe/list, update --update-env-vars, update-traffic (--to-revisions,
// --set-tags, --to-tags), revisions list/describe, services replace service.yaml, delete.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { gcloudFor, gcloudWithGantryEnv, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';
import { projectNumber } from '../../src/google/project-number.js';

let g: Gantry;
let gcloud: Gcloud;
const NUM = projectNumber('gcs-proj');
const IMAGE = 'us-docker.pkg.dev/cloudrun/container/hello';

interface Traffic { revisionName: string; percent?: number; tag?: string; latestRevision?: boolean; url?: string }
interface Service { metadata: { name: string; generation: number; annotations: Record<string, string> }; spec: { template: { spec: { containers: { image: string; env?: { name: string; value: string }[] }[] } } }; status: { url: string; latestCreatedRevisionName: string; latestReadyRevisionName: string; traffic: Traffic[] } }

before(async () => {
  g = await startTestGantry({ logLevel: 'silent' });
  gcloud = await gcloudFor(g.url, 'gcs-proj', { run: true });
});
after(async () => { await g.close(); });

const describe = () => gcloud.json<Service>(['run', 'services', 'describe', 'web']);
const split = (s: Service) => Object.fromEntries(s.status.traffic.filter(t => t.percent).map(t => [t.revisionName, t.percent]));

test('deploy twice: revision 2 takes 100%; describe, list and revisions show both', async () => {
  const first = await gcloud(['run', 'deploy', 'web', '--image', IMAGE, '--region', 'us-central1', '--allow-unauthenticated']);
  assert.match(first.stderr, /Service \[web\] revision \[web-00001-[a-z0-9]{3}\] has been deployed and is serving 100 percent of traffic\./);
  assert.match(first.stderr, new RegExp(`Service URL: https://web-${NUM}\\.us-central1\\.run\\.app`));
  const policy = await gcloud.json<{ bindings: { role: string; members: string[] }[] }>(['run', 'services', 'get-iam-policy', 'web']);
  assert.deepEqual(policy.bindings, [{ role: 'roles/run.invoker', members: ['allUsers'] }]);
  const second = await gcloud(['run', 'deploy', 'web', '--image', `${IMAGE}:v2`, '--region', 'us-central1', '--no-allow-unauthenticated']);
  assert.match(second.stderr, /revision \[web-00002-[a-z0-9]{3}\] has been deployed and is serving 100 percent of traffic/);
  const svc = await describe();
  assert.match(svc.status.latestReadyRevisionName, /^web-00002-/);
  assert.deepEqual(split(svc), { [svc.status.latestReadyRevisionName]: 100 });
  // gcloud shows the first of the `run.googleapis.com/urls`: the deterministic one.
  assert.match((await gcloud(['run', 'services', 'list'])).stdout, new RegExp(`web\\s+us-central1\\s+https://web-${NUM}\\.us-central1\\.run\\.app\\s+gantry@localhost`));
  const revs = await gcloud.json<{ metadata: { name: string } }[]>(['run', 'revisions', 'list', '--service', 'web']);
  assert.deepEqual(revs.map(r => r.metadata.name.slice(0, 9)), ['web-00002', 'web-00001']);
  const text = (await gcloud(['run', 'revisions', 'describe', revs[1].metadata.name])).stdout;
  assert.match(text, new RegExp(`Image:\\s+${IMAGE.replace(/\./g, '\\.')}`));
});

test('update --update-env-vars makes a revision; update-traffic splits 25/75, tags and moves tags', async () => {
  await gcloud(['run', 'services', 'update', 'web', '--update-env-vars', 'GREETING=hello']);
  let svc = await describe();
  assert.match(svc.status.latestCreatedRevisionName, /^web-00003-/);
  assert.deepEqual(svc.spec.template.spec.containers[0].env, [{ name: 'GREETING', value: 'hello' }]);
  const [r3, r2] = (await gcloud.json<{ metadata: { name: string } }[]>(['run', 'revisions', 'list', '--service', 'web'])).map(r => r.metadata.name);
  await gcloud(['run', 'services', 'update-traffic', 'web', `--to-revisions=${r2}=25,${r3}=75`]);
  svc = await describe();
  assert.deepEqual(split(svc), { [r2]: 25, [r3]: 75 });
  assert.equal(svc.status.latestCreatedRevisionName, r3, 'a traffic change makes no revision');
  await gcloud(['run', 'services', 'update-traffic', 'web', `--set-tags=canary=${r2}`]);
  svc = await describe();
  const tagged = svc.status.traffic.find(t => t.tag === 'canary')!;
  assert.equal(tagged.revisionName, r2);
  assert.equal(tagged.url, `https://canary---web-${NUM}.us-central1.run.app`);
  // gcloud's own printer reads the split and the tag URL.
  const text = (await gcloud(['run', 'services', 'describe', 'web'])).stdout;
  assert.match(text, new RegExp(`25%\\s+${r2}\\s+canary: https://canary---web-${NUM}\\.us-central1\\.run\\.app`));
  assert.match(text, new RegExp(`75%\\s+${r3}`));
  await gcloud(['run', 'services', 'update-traffic', 'web', '--to-tags=canary=50']);
  assert.deepEqual(split(await describe()), { [r2]: 50, [r3]: 50 });
  await gcloud(['run', 'services', 'update-traffic', 'web', '--to-latest']);
  assert.deepEqual(split(await describe()), { [r3]: 100 });
});

test('services replace service.yaml, then delete', async () => {
  const dir = tempDir();
  const file = join(dir, 'service.yaml');
  writeFileSync(file, [
    'apiVersion: serving.knative.dev/v1', 'kind: Service', 'metadata:', '  name: from-yaml', '  labels:', '    team: web', 'spec:', '  template:',
    '    metadata:', '      name: from-yaml-v1', '    spec:', '      containers:', `      - image: ${IMAGE}`, '        ports:', '        - containerPort: 9000', '',
  ].join('\n'));
  const out = await gcloud(['run', 'services', 'replace', file]);
  assert.match(out.stderr, /New configuration has been applied to service \[from-yaml\]/);
  const svc = await gcloud.json<Service>(['run', 'services', 'describe', 'from-yaml']);
  assert.equal(svc.status.latestReadyRevisionName, 'from-yaml-v1');
  await gcloud(['run', 'services', 'delete', 'from-yaml']);
  assert.match(await gcloud.fails(['run', 'services', 'describe', 'from-yaml']), /Cannot find service \[from-yaml\]/);
});

test('with exactly what `gantry env` sets, gcloud run deploy and services describe work', async () => {
  const env = gcloudWithGantryEnv(g.url, 'env-proj');
  const out = await env(['run', 'deploy', 'envsvc', '--image', IMAGE, '--region', 'us-central1', '--no-allow-unauthenticated']);
  assert.match(out.stderr, /Service \[envsvc\] revision \[envsvc-00001-[a-z0-9]{3}\] has been deployed/);
  const svc = await env.json<Service>(['run', 'services', 'describe', 'envsvc']);
  assert.equal(svc.metadata.annotations['run.googleapis.com/urls'], JSON.stringify([`https://envsvc-${projectNumber('env-proj')}.us-central1.run.app`, svc.status.url]));
});
