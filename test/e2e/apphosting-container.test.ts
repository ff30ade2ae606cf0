// App Hosting on the container executor: install, build and the app itself run in containers of a locally made Node
// image (no registry is reachable), through googleapis; a restarted Gantry serves the same build again.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, tempDir, eventually } from '../helpers/server.js';
import { appFiles, appHostingV1beta, developerConnect, getApp, makeRepo, waitOp } from '../helpers/apphosting.js';
import { dockerUnavailable, importNodeImage, importWebImage, startDocker } from '../helpers/docker.js';

const skip = process.env.CI ? undefined : dockerUnavailable();
const P = 'projects/ctr-app/locations/europe-west1';

test('a codebase build runs in containers, and its app serves from a container; a restart serves it again', { skip, timeout: 300_000 }, async () => {
  const docker = await startDocker();
  const dataDir = tempDir();
  const opts = { executor: 'container' as const, dockerSocket: docker.socket, nodeImage: importNodeImage(docker.socket), dataDir };
  let g = await startTestGantry(opts);
  try {
    const repo = makeRepo(appFiles('served from a container'));
    const dc = developerConnect(g.url);
    let ah = appHostingV1beta(g.url);
    await dc.projects.locations.connections.create({ parent: P, connectionId: 'c', requestBody: {} });
    await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: 'app', requestBody: { cloneUri: `file://${repo}` } });
    await waitOp(ah, (await ah.projects.locations.backends.create({
      parent: P, backendId: 'boxed', requestBody: { servingLocality: 'REGIONAL_STRICT', serviceAccount: 'runner@ctr-app.iam.gserviceaccount.com', codebase: { repository: `${P}/connections/c/gitRepositoryLinks/app` } },
    })).data.name!);
    const b = await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/boxed`, buildId: 'b1', requestBody: { source: { codebase: { branch: 'main' } } } });
    const r = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/boxed`, rolloutId: 'b1', requestBody: { build: `${P}/backends/boxed/builds/b1` } });
    const built = (await waitOp<Record<string, unknown>>(ah, b.data.name!, 180_000)).response!;
    assert.equal(built.state, 'READY', JSON.stringify(built.errors));
    assert.equal(((await waitOp<Record<string, unknown>>(ah, r.data.name!)).response!).state, 'SUCCEEDED');
    const host = 'boxed--ctr-app.europe-west1.hosted.app';
    assert.match((await getApp(g.url, host)).body, /^served from a container \| hello from apphosting.yaml \| built at build-time/);

    // A ready image (source.container): nothing to build; the image's own command serves on PORT.
    const web = importWebImage(docker.socket);
    const cb = await ah.projects.locations.backends.builds.create({ parent: `${P}/backends/boxed`, buildId: 'img', requestBody: { source: { container: { image: web } } } });
    const cr = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/boxed`, rolloutId: 'img', requestBody: { build: `${P}/backends/boxed/builds/img` } });
    const fromImage = (await waitOp<Record<string, unknown>>(ah, cb.data.name!, 60_000)).response!;
    assert.equal(fromImage.state, 'READY', JSON.stringify(fromImage.errors));
    assert.equal(fromImage.image, web);
    assert.equal(((await waitOp<Record<string, unknown>>(ah, cr.data.name!)).response!).state, 'SUCCEEDED');
    assert.match((await getApp(g.url, host)).body, /hello from an image/);
    const back = await ah.projects.locations.backends.rollouts.create({ parent: `${P}/backends/boxed`, rolloutId: 'back', requestBody: { build: `${P}/backends/boxed/builds/b1` } });
    assert.equal(((await waitOp<Record<string, unknown>>(ah, back.data.name!)).response!).state, 'SUCCEEDED');

    // Killed and restarted on the same data: the serving build is started again.
    await g.close();
    g = await startTestGantry({ ...opts, port: 0 });
    ah = appHostingV1beta(g.url);
    const again = await eventually(async () => { const res = await getApp(g.url, host); return res.status === 200 ? res : undefined; }, 60_000);
    assert.match(again.body, /^served from a container \|/);
  } finally {
    await g.close();
    await docker.stop();
  }
});
