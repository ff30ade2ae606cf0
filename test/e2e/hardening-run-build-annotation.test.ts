// The template annotation `gantry.dev/apphosting-build` is how App Hosting tells Cloud Run which build a revision runs.
// A plain Cloud Run client can set it too: it acts only on a build of the backend that owns that very service (so it
// never runs another backend's artifact, nor reads a path), and a build that does not exist fails the revision's
// readiness with Cloud Run's reason instead of running anything.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { eventually, startTestGantry, tempDir } from '../helpers/server.js';
import { googleapisRun } from '../helpers/clients.js';
import { getApp } from '../helpers/apphosting.js';
import { projectNumber } from '../../src/google/project-number.js';
import type { Gantry } from '../../src/gantry.js';

const P = 'build-annot';
const PARENT = `projects/${P}/locations/us-central1`;
let g: Gantry;
let app: string;

before(async () => {
  g = await startTestGantry({ allowExecutors: ['process'] });
  app = tempDir('annot-app-');
  writeFileSync(join(app, 'server.js'), "require('http').createServer((q, s) => s.end('own app ' + process.env.K_REVISION)).listen(process.env.PORT);");
});
after(() => g.close());

const template = (build: string) => ({
  annotations: { 'gantry.dev/executor': 'process', 'gantry.dev/apphosting-build': build },
  containers: [{ image: 'app:1', command: ['node', join(app, 'server.js')] }],
});

interface Condition { type?: string | null; state?: string | null; reason?: string | null; message?: string | null }

test('a build named by a plain Cloud Run client: another backend\'s, a path, nonsense; the revision runs its own container', async () => {
  const run = googleapisRun(g.url, 'v2');
  const names = [
    `${PARENT}/backends/other/builds/b1`, // another backend's build: not this service's
    '../../../../etc/passwd',
    `${PARENT}/backends/x/builds/../../../../etc`,
    '/builds/',
    'x'.repeat(4000),
  ];
  for (const [i, build] of names.entries()) {
    const id = `svc-${i}`;
    await run.projects.locations.services.create({ parent: PARENT, serviceId: id, requestBody: { template: template(build) } });
    const host = `${id}-${projectNumber(P)}.us-central1.run.app`;
    const body = await eventually(async () => { const r = await getApp(g.url, host); return r.status === 200 ? r.body : undefined; }, 20_000);
    assert.match(body, /^own app svc-\d-/, `${build.slice(0, 60)}: the revision ran its own container`);
  }
});

test('a build of the backend owning the service that does not exist fails the revision\'s readiness, and nothing runs', async () => {
  const run = googleapisRun(g.url, 'v2');
  // The service has a backend's name (as a backend's managed service would); its build is made up.
  await run.projects.locations.services.create({ parent: PARENT, serviceId: 'web', requestBody: { template: template(`${PARENT}/backends/web/builds/nope`) } });
  const ready = await eventually(async () => {
    const revs = (await run.projects.locations.services.revisions.list({ parent: `${PARENT}/services/web` })).data.revisions ?? [];
    const c = (revs[0]?.conditions as Condition[] | undefined)?.find(x => x.type === 'Ready');
    return c && c.state !== 'CONDITION_PENDING' && c.state !== 'CONDITION_RECONCILING' ? c : undefined;
  }, 20_000);
  assert.equal(ready.state, 'CONDITION_FAILED');
  assert.match(String(ready.message), /App Hosting build .*builds\/nope no longer exists/);
  const host = `web-${projectNumber(P)}.us-central1.run.app`;
  assert.notEqual((await getApp(g.url, host)).body.startsWith('own app'), true, 'the container did not run in its place');
});
