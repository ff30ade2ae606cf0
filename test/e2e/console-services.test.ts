// The console's Cloud Run services pages in a real browser (playwright-core driving Debian's chromium, headless): a
// service deployed through the v2 API with two revisions split 25/75 and a tag shows its traffic as a bar (each share
// as wide as its percent), its URL and tag URL as `.localhost` links a browser here opens (and they reach the service
// and the tagged revision), each revision's readiness with Cloud Run's message, and a revision's log; a Cloud Deploy
// rollout page links to the service its manifest deploys. The pages pass axe-core's WCAG checks.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { pathToFileURL } from 'node:url';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { startTestGantry, tempDir, writeTree, eventually } from '../helpers/server.js';
import { caller } from '../helpers/console-demo.js';
import { projectNumber } from '../../src/google/project-number.js';
import type { Gantry } from '../../src/gantry.js';

const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium';
const P = 'svc-console';
const L = `projects/${P}/locations/us-central1`;
const HOST = `web-${projectNumber(P)}.us-central1.run.app`;

let g: Gantry;
let browser: Browser;
let r1 = '', r2 = '';
const pageErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `the browser tests need Chromium at ${CHROMIUM}`);
  g = await startTestGantry();
  const c = caller(g.url);
  const done = async (op: Record<string, any>) => { for (let i = 0; i < 100 && !op.done; i++) op = await c('GET', `/v2/${op.name}`); assert.ok(op.done, 'the operation finishes'); };
  await done(await c('POST', `/v2/${L}/services?serviceId=web`, { template: { containers: [{ image: 'us-docker.pkg.dev/cloudrun/container/hello:1', env: [{ name: 'A', value: '1' }] }] } }));
  await done(await c('PATCH', `/v2/${L}/services/web`, { template: { containers: [{ image: 'us-docker.pkg.dev/cloudrun/container/hello:2' }] } }));
  const revs = ((await c('GET', `/v2/${L}/services/web/revisions`)).revisions as { name: string; createTime: string }[])
    .sort((a, b) => a.createTime.localeCompare(b.createTime) || a.name.localeCompare(b.name)).map(r => r.name.split('/').pop()!);
  [r1, r2] = revs;
  await done(await c('PATCH', `/v2/${L}/services/web?updateMask=traffic`, { traffic: [
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r1, percent: 25 },
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r2, percent: 75 },
    { type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r1, tag: 'old' },
  ] }));
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'] });
});
after(async () => {
  await browser?.close();
  await g?.close();
});

async function open(path: string): Promise<Page> {
  const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
  page.on('pageerror', e => pageErrors.push(`${path}: ${e.message}`));
  page.on('console', m => { if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) pageErrors.push(`${path}: ${m.text()}`); });
  await page.goto(`${g.url}/console${path}`);
  await page.getByRole('main').waitFor();
  return page;
}

test('the services list shows each service\'s .localhost URL, linked, and what serves it', async () => {
  const page = await open(`#/p/${P}/services`);
  const row = page.getByRole('row', { name: /web/ });
  const url = row.getByRole('link', { name: /run\.app\.localhost/ });
  await url.waitFor();
  assert.equal(await url.getAttribute('href'), `http://${HOST}.localhost:${new URL(g.url).port}/`);
  assert.match(await row.innerText(), new RegExp(`ready[\\s\\S]*${r1} 25%, ${r2} 75%`));
  await page.getByRole('link', { name: 'web', exact: true }).click();
  await page.getByRole('heading', { level: 1, name: 'web' }).waitFor();
  await page.close();
});

test('a service\'s page: a 25/75 traffic bar, the tag and its URL, revisions with readiness, and the links reach the service', async () => {
  const page = await open(`#/p/${P}/services/us-central1/web`);
  const bar = page.getByRole('list', { name: 'Traffic of web' });
  await bar.getByText(`${r2} 75%`).waitFor();
  const shares = bar.getByRole('listitem');
  assert.deepEqual(await shares.allInnerTexts(), [`${r1} 25%`, `${r2} 75%`]);
  const [a, b] = [(await shares.nth(0).boundingBox())!, (await shares.nth(1).boundingBox())!];
  assert.ok(Math.abs(a.width / (a.width + b.width) - 0.25) < 0.02, `the first share is a quarter of the bar (${a.width} of ${a.width + b.width} px)`);

  const revisions = page.getByRole('region', { name: 'Revisions' });
  assert.match(await revisions.getByRole('row', { name: new RegExp(r1) }).innerText(), /ready\s+25%\s+old/);
  assert.match(await revisions.getByRole('row', { name: new RegExp(r2) }).innerText(), /ready\s+75%/);
  const tags = page.getByRole('group', { name: 'Tags' });
  const tagLink = tags.getByRole('link');
  assert.equal(await tagLink.getAttribute('href'), `http://old---${HOST}.localhost:${new URL(g.url).port}/`);
  assert.match(await tags.innerText(), new RegExp(`old\\s+${r1}`));

  // The links open in a browser here: the service answers from one of its revisions, the tag from its own alone.
  const url = (await page.locator('dl.fields').getByRole('link').getAttribute('href'))!;
  const app = await browser.newPage();
  await app.goto(url);
  const served = JSON.parse(await app.locator('body').innerText()) as { service: string; revision: string };
  assert.equal(served.service, 'web');
  assert.ok([r1, r2].includes(served.revision), served.revision);
  for (let i = 0; i < 3; i++) {
    await app.goto((await tagLink.getAttribute('href'))!);
    assert.equal((JSON.parse(await app.locator('body').innerText()) as { revision: string }).revision, r1);
  }
  await app.close();

  // The revision's log: its cloud_run_revision entries (here, the requests the tag URL sent it).
  await revisions.getByRole('button', { name: `Show log of ${r1}` }).click();
  const log = page.getByLabel(`Log of revision ${r1}`);
  await eventually(async () => {
    await log.filter({ hasNotText: 'Loading…' }).waitFor();
    if (/GET 200 https:\/\/old---web-/.test(await log.innerText())) return true;
    await page.getByRole('button', { name: 'Reload' }).click();
    return undefined;
  }, 10_000);
  await page.close();
});

test('a revision whose container exits at start shows failed with Cloud Run\'s message (process executor)', async () => {
  const pg = await startTestGantry({ executor: 'process' });
  try {
    const c = caller(pg.url);
    await c('POST', `/v2/${L}/services?serviceId=broken`, { template: { containers: [{ image: 'us-docker.pkg.dev/cloudrun/container/hello', command: ['sh'], args: ['-c', 'echo cannot start >&2; exit 3'] }] } });
    const page = await browser.newPage();
    page.on('pageerror', e => pageErrors.push(`broken: ${e.message}`));
    await page.goto(`${pg.url}/console#/p/${P}/services/us-central1/broken`);
    const revisions = page.getByRole('region', { name: 'Revisions' });
    const row = revisions.getByRole('row', { name: /broken-00001-/ });
    await row.locator('.state', { hasText: /^failed$/ }).waitFor({ timeout: 15_000 });
    assert.match(await row.locator('.error-text').innerText(), /failed to start and listen on the port[\s\S]*exit code 3/);
    assert.match(await page.locator('dl.fields > div').filter({ has: page.locator('dt', { hasText: /^Ready$/ }) }).innerText(), /failed/);
    await page.close();
  } finally {
    await pg.close();
  }
});

test('a Cloud Deploy rollout to a Cloud Run target links to the service its manifest deploys', async () => {
  const c = caller(g.url);
  await c('POST', `/v1/${L}/targets?targetId=dev`, { run: { location: L } });
  await c('POST', `/v1/${L}/deliveryPipelines?deliveryPipelineId=shop`, { serialPipeline: { stages: [{ targetId: 'dev' }] } });
  const source = pathToFileURL(writeTree(tempDir('svc-console-source-'), {
    'skaffold.yaml': 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [service.yaml]\ndeploy:\n  cloudrun: {}\n',
    'service.yaml': 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: shop\nspec:\n  template:\n    spec:\n      containers:\n      - image: shop\n',
  })).href;
  const R = `/v1/${L}/deliveryPipelines/shop/releases/r1`;
  await c('POST', `/v1/${L}/deliveryPipelines/shop/releases?releaseId=r1`, { skaffoldConfigUri: source, buildArtifacts: [{ image: 'shop', tag: 'us-docker.pkg.dev/demo/shop:1' }] });
  await eventually(async () => (await c('GET', R)).renderState === 'SUCCEEDED' || undefined);
  await c('POST', `${R}/rollouts?rolloutId=r1-to-dev-0001`, { targetId: 'dev' });
  const rollout = await eventually(async () => { const r = await c('GET', `${R}/rollouts/r1-to-dev-0001`); return r.metadata?.cloudRun?.service ? r : undefined; }, 10_000);
  assert.equal(rollout.metadata.cloudRun.service, `${L}/services/shop`);
  const page = await open(`#/p/${P}/deploy/us-central1/shop/releases/r1/rollouts/r1-to-dev-0001`);
  const field = page.locator('dl.fields > div', { hasText: 'Cloud Run service' });
  const link = field.getByRole('link', { name: 'shop' });
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), `#/p/${P}/services/us-central1/shop`);
  await link.click();
  await page.getByRole('heading', { level: 1, name: 'shop' }).waitFor();
  await page.close();
});

test('an App Hosting backend links to its Cloud Run service, whose revisions are its builds', async () => {
  const c = caller(g.url);
  await c('POST', `/v1beta/${L}/backends?backendId=site`, { servingLocality: 'GLOBAL_ACCESS', serviceAccount: `runner@${P}.iam.gserviceaccount.com` });
  await c('POST', `/v1beta/${L}/backends/site/builds?buildId=b1`, { source: { container: { image: 'us-docker.pkg.dev/demo/site:1' } } });
  await c('POST', `/v1beta/${L}/backends/site/rollouts?rolloutId=b1`, { build: `${L}/backends/site/builds/b1` });
  await eventually(async () => (await c('GET', `/v1beta/${L}/backends/site/rollouts/b1`)).state === 'SUCCEEDED' || undefined, 15_000);
  const page = await open(`#/p/${P}/apphosting/us-central1/site`);
  const link = page.locator('dl.fields > div', { hasText: 'Cloud Run service' }).getByRole('link', { name: 'site' });
  await link.waitFor();
  assert.equal(await link.getAttribute('href'), `#/p/${P}/services/us-central1/site`);
  await link.click();
  await page.getByRole('heading', { level: 1, name: 'site' }).waitFor();
  await page.getByRole('region', { name: 'Revisions' }).getByRole('row', { name: /site-b1/ }).waitFor();
  await page.close();
});

test('the services pages pass axe-core\'s WCAG 2 A and AA checks, light and dark, and no page logged an error', async () => {
  const axe = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  for (const colorScheme of ['light', 'dark'] as const) {
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 }, colorScheme, bypassCSP: true });
    try {
      const page = await context.newPage();
      for (const path of [`#/p/${P}/services`, `#/p/${P}/services/us-central1/web`]) {
        await page.goto(`${g.url}/console${path}`);
        await page.getByRole('main').waitFor();
        await page.waitForFunction(() => !document.querySelector('.loading'));
        await page.addScriptTag({ path: axe });
        const violations = await page.evaluate(async () => {
          const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } };
          const r = await w.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
          return r.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
        });
        assert.deepEqual(violations, [], `${path} ${colorScheme}`);
      }
    } finally {
      await context.close();
    }
  }
  assert.deepEqual(pageErrors, []);
});
