// firebase-framework-tools' Next.js starter (starters/nextjs/basic), unchanged, deployed with firebase-tools as App
// Hosting's docs say: `firebase apphosting:backends:create`, an `apphosting` section in firebase.json (what
// `firebase init apphosting` writes) and `firebase deploy --only apphosting`. Gantry builds it for real with the
// process executor (`npm ci` from the npm registry, `next build` as App Hosting's Next.js adapter runs it: standalone
// output) and serves `.next/standalone/server.js`; its pages answer through the backend's `*.hosted.app.localhost` name.
// Replaced: the README's "push to GitHub" step (a source deploy uploads the directory instead) and Google's
// buildpack image (the host's node and npm).
//
// The starter's files are not kept in this repository: with GANTRY_SAMPLES_DIR naming a directory that holds a
// checkout of firebase-framework-tools (`$GANTRY_SAMPLES_DIR/firebase-framework-tools/starters/nextjs/basic`) the test
// deploys it; otherwise it deploys test/fixtures/nextjs-app-sample, an app of ours on the starter's major versions of
// next, react and react-dom with what the test looks at: a home page prerendered with apphosting.yaml's MESSAGE,
// `/ssr` rendered per request, `/ssg` rendered at build time, a page revalidated every 10 s, a stylesheet and public/.
// Slow: about 30 s of `npm ci` with a cold cache and 40–100 s of `next build` on a small machine. npm's cache is kept
// in .cache/apphosting-npm-home (the process executor gives builds the operator's HOME), which .ci/run warms.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { sampleDir } from '../helpers/samples.js';
import { getApp } from '../helpers/apphosting.js';
import { firebase, firebaseBin } from '../helpers/firebase.js';

const NPM_HOME = fileURLToPath(new URL('../../../.cache/apphosting-npm-home', import.meta.url));
const PROJECT = 'demo-next';
const HOST = `starter--${PROJECT}.us-central1.hosted.app.localhost`;

/** The app to deploy, the starter's (from a checkout) or our stand-in, and its page revalidated every 10 s. */
function sampleApp(): { dir: string; real: boolean; isrPage: string } {
  const { dir, google } = sampleDir('firebase-framework-tools/starters/nextjs/basic', 'package.json', 'nextjs-app-sample');
  return { dir, real: google, isrPage: google ? '/isr/time' : '/isr' };
}

/** The TCP sockets listening on this machine, as `address:port` (hex, as /proc/net/tcp{,6} give them). */
function listeners(): Set<string> {
  const out = new Set<string>();
  for (const f of ['/proc/net/tcp', '/proc/net/tcp6']) {
    let text = '';
    try { text = readFileSync(f, 'utf8'); } catch { continue; }
    for (const line of text.split('\n').slice(1)) {
      const cols = line.trim().split(/\s+/);
      if (cols[3] === '0A') out.add(cols[1]);
    }
  }
  return out;
}
const LOOPBACK = /^(0100007F|00000000000000000000000001000000|0000000000000000FFFF00000100007F):/;

test('firebase-framework-tools Next.js starter (or our stand-in): firebase deploy --only apphosting builds it as the Next.js adapter does and serves its static, per-request and revalidated pages', { timeout: 900_000 }, async () => {
  const sample = sampleApp();
  console.log(`# deploying ${sample.real ? "the starter's checkout" : 'the stand-in'}: ${sample.dir}`);
  // The value apphosting.yaml gives MESSAGE (availability BUILD and RUNTIME).
  const message = /variable:\s*MESSAGE\s*\n\s*value:\s*(.+)/.exec(readFileSync(join(sample.dir, 'apphosting.yaml'), 'utf8'))?.[1]?.trim();
  assert.ok(message, 'apphosting.yaml sets MESSAGE');
  const publicFile = readdirSync(join(sample.dir, 'public')).find(f => f.endsWith('.svg'));
  assert.ok(publicFile, 'the app has an SVG under public/');

  await firebaseBin();
  mkdirSync(NPM_HOME, { recursive: true });
  process.env.HOME = NPM_HOME;
  const g = await startTestGantry({ executor: 'process' });
  try {
    // The app as a user has it after cloning, with the firebase.json `firebase init apphosting` writes.
    const project = tempDir('gantry-nextjs-starter-');
    cpSync(sample.dir, project, { recursive: true });
    writeFileSync(join(project, 'firebase.json'), JSON.stringify({
      apphosting: [{ backendId: 'starter', rootDir: '/', ignore: ['node_modules', '.git', 'firebase-debug.log', 'firebase-debug.*.log', 'functions'] }],
    }, null, 2));
    const fb = (...args: string[]) => firebase(g.url, project, [...args, '--project', PROJECT], 840_000);

    const created = await fb('apphosting:backends:create', '--backend', 'starter', '--primary-region', 'us-central1');
    assert.equal(created.code, 0, created.stdout + created.stderr);

    const before = listeners();
    const started = Date.now();
    const deployed = await fb('deploy', '--only', 'apphosting');
    assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
    assert.match(deployed.stdout, /Rollout for backend starter complete!/);
    // The app listens on loopback only (the standalone server binds HOSTNAME; `next start` binds every interface).
    const opened = [...listeners()].filter(l => !before.has(l));
    assert.ok(opened.length > 0, 'the app listens');
    assert.deepEqual(opened.filter(l => !LOOPBACK.test(l)), [], 'listeners opened by the deploy that are not on loopback');
    console.log(`# npm ci + next build + first answer: ${Math.round((Date.now() - started) / 1000)} s`);

    // "/" is prerendered at build time with MESSAGE, so the build had it.
    const home = await getApp(g.url, HOST, '/');
    assert.equal(home.status, 200, home.body.slice(0, 500));
    assert.ok(home.body.includes(`<p${sample.real ? '' : ' class="message"'}>${message}</p>`), `the home page shows MESSAGE (${message})`);
    // The page's assets are served by the standalone server (copied in from .next/static).
    const asset = /\/_next\/static\/[^"]+\.css/.exec(home.body)?.[0];
    assert.ok(asset, 'the page links its stylesheet');
    assert.equal((await getApp(g.url, HOST, asset)).status, 200);
    // public/ is copied in too.
    const served = await getApp(g.url, HOST, `/${publicFile}`);
    assert.equal(served.status, 200);
    assert.equal(served.body, readFileSync(join(sample.dir, 'public', publicFile), 'utf8'));

    const uuid = /[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}/;
    const rendering = async (path: string) => {
      const r = await getApp(g.url, HOST, path);
      assert.equal(r.status, 200, `${path}: ${r.body.slice(0, 300)}`);
      const id = uuid.exec(r.body)?.[0];
      assert.ok(id, `${path} shows a UUID`);
      return { id, cacheControl: String(r.headers['cache-control']) };
    };
    // /ssr is rendered per request (force-dynamic): two answers carry different UUIDs, and neither may be cached.
    const ssr1 = await rendering('/ssr');
    const ssr2 = await rendering('/ssr');
    assert.notEqual(ssr1.id, ssr2.id);
    assert.match(ssr1.cacheControl, /no-store/);
    // /ssg is rendered once, at build time: the same UUID every time, cacheable for good.
    const ssg1 = await rendering('/ssg');
    assert.equal((await rendering('/ssg')).id, ssg1.id);
    assert.match(ssg1.cacheControl, /s-maxage=31536000/);
    // The revalidated page is cached for 10 s (and a CDN is told so), then rendered again in the background: once
    // 10 s have passed, a request still gets the old rendering and starts the new one, which later requests get.
    const isr1 = await rendering(sample.isrPage);
    assert.match(isr1.cacheControl, /s-maxage=10\b/);
    await delay(10_500);
    let regenerated = false;
    for (let i = 0; i < 40 && !regenerated; i++) {
      regenerated = (await rendering(sample.isrPage)).id !== isr1.id;
      if (!regenerated) await delay(250);
    }
    assert.ok(regenerated, `${sample.isrPage} is rendered again after its 10 s`);
    assert.equal((await getApp(g.url, HOST, '/isr')).status, 200);
    // An unknown page is the app's not-found page.
    assert.equal((await getApp(g.url, HOST, '/no-such-page')).status, 404);
  } finally {
    await g.close();
  }
});
