// A Gantry killed (SIGKILL) while App Hosting apps serve and a build runs: on restart the app the previous Gantry
// left is stopped, the serving build is started again and answers, and the interrupted build runs to READY. The log
// says where each app answers, and what the restart found.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { tmpdir } from 'node:os';
import { spawnGantry, tempDir, eventually } from '../helpers/server.js';
import { appFiles, appHostingV1beta, commit, developerConnect, getApp, makeRepo, waitOp } from '../helpers/apphosting.js';

const P = 'projects/dur-app/locations/us-central1';

test('serving apps and an interrupted build come back after SIGKILL', { timeout: 180_000 }, async () => {
  const marks = tempDir('gantry-ah-marks-');
  const serverWithPid = (body: string) => appFiles(body, {
    'server.js': `require('fs').writeFileSync(${JSON.stringify(marks)} + '/pid-' + process.env.K_REVISION + '-' + process.pid, '');
require('http').createServer((req, res) => res.end(${JSON.stringify(body)})).listen(Number(process.env.PORT), '127.0.0.1');
`,
  });
  const repo = makeRepo(serverWithPid('first'));
  const args = ['--data-dir', tempDir(), '--log-level', 'debug', '--executor', 'process', '--git-dirs', tmpdir()];
  const g = await spawnGantry(args);
  const host = 'web--dur-app.us-central1.hosted.app';
  let again: Awaited<ReturnType<typeof spawnGantry>> | undefined;
  try {
    const dc = developerConnect(g.url);
    const ah = appHostingV1beta(g.url);
    await dc.projects.locations.connections.create({ parent: P, connectionId: 'c', requestBody: {} });
    await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: 'r', requestBody: { cloneUri: repo } });
    await waitOp(ah, (await ah.projects.locations.backends.create({ parent: P, backendId: 'web', requestBody: { servingLocality: 'GLOBAL_ACCESS', serviceAccount: 'runner@dur-app.iam.gserviceaccount.com', codebase: { repository: `${P}/connections/c/gitRepositoryLinks/r` } } })).data.name!);
    await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/web`, buildId: 'one', requestBody: { source: { codebase: { branch: 'main' } } } });
    const r1 = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/web`, rolloutId: 'one', requestBody: { build: `${P}/backends/web/builds/one` } });
    assert.equal(((await waitOp<Record<string, unknown>>(ah, r1.data.name!)).response!).state, 'SUCCEEDED');
    assert.equal((await getApp(g.url, host)).body, 'first');
    assert.match(g.output(), /INFO Cloud Run: revision web-one answers on 127\.0\.0\.1:\d+\n/);
    assert.match(g.output(), new RegExp(`INFO App Hosting: backend web serves build one at http://${host.replace(/\./g, '\\.')}\\.localhost:${new URL(g.url).port}/\n`));
    // At debug, each build step's start and end, and the build's states.
    for (const line of ['App Hosting: build web/one step #1 "install" started on the process executor: npm ci', 'App Hosting: build web/one step #1 "install" ended: it exited with code 0',
      'App Hosting: build web/one step #2 "build" started on the process executor: npm run build', 'App Hosting: build web/one step #2 "build" ended: it exited with code 0',
      'App Hosting: build web/one is BUILT', 'App Hosting: build web/one is READY']) assert.ok(g.output().includes(`DEBUG ${line}\n`), line);
    const firstPid = Number(readdir(marks).find(f => f.startsWith('pid-web-one-'))!.split('-').pop());

    // A build whose build step takes a while, killed mid-way.
    commit(repo, { ...serverWithPid('second'), 'build.js': `require('fs').writeFileSync(${JSON.stringify(marks)} + '/building', ''); setTimeout(() => require('fs').writeFileSync('built.txt', 'ok'), 1500);\n` }, 'Slow build');
    const b2 = await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/web`, buildId: 'two', requestBody: { source: { codebase: { branch: 'main' } } } });
    await eventually(() => existsSync(join(marks, 'building')), 60_000);
    await g.kill('SIGKILL');
    // The app outlives the killed Gantry (its own process group) until the next Gantry stops it.
    assert.doesNotThrow(() => process.kill(firstPid, 0));

    again = await spawnGantry(args);
    const ah2 = appHostingV1beta(again.url);
    const served = await eventually(async () => { const r = await getApp(again!.url, host); return r.status === 200 ? r : undefined; }, 60_000);
    assert.equal(served.body, 'first');
    assert.match(await eventually(() => /INFO Restart: (.*)/.exec(again!.output())?.[1], 10_000), /^resumed 1 build; reaped 1 revision left by the previous Gantry$/);
    await eventually(() => { try { process.kill(firstPid, 0); return false; } catch { return true; } }, 20_000);
    const built = (await waitOp<Record<string, unknown>>(ah2, b2.data.name!, 120_000)).response!;
    assert.equal(built.state, 'READY', JSON.stringify(built.errors));
    const r2 = await ah2.projects.locations.backends.rollouts.create({ parent: `${P}/backends/web`, rolloutId: 'two', requestBody: { build: `${P}/backends/web/builds/two` } });
    assert.equal(((await waitOp<Record<string, unknown>>(ah2, r2.data.name!)).response!).state, 'SUCCEEDED');
    assert.equal((await getApp(again.url, host)).body, 'second');
    // The superseded build's app is stopped.
    const restartedPid = Number(readdir(marks).filter(f => f.startsWith('pid-web-one-')).map(f => f.split('-').pop()).find(p => Number(p) !== firstPid));
    await eventually(() => { try { process.kill(restartedPid, 0); return false; } catch { return true; } }, 20_000);
  } finally {
    await again?.kill('SIGTERM');
    if (!again) await g.kill('SIGKILL').catch(() => undefined);
  }
});

function readdir(dir: string): string[] {
  return existsSync(dir) ? readdirSync(dir) : [];
}
