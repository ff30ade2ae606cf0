// The web console in a real browser (playwright-core driving Debian's chromium, headless): it shows every API's
// pages, approves a pending rollout with a click and follows it live as the clock moves, follows executions and
// rollouts live on a real clock while they run, runs a Cloud Run job from its page, works with the keyboard, on a
// phone's screen and in dark mode, passes axe-core's WCAG checks, runs under its CSP without an error,
// and takes the screenshots the README shows (written to docs/console/ with GANTRY_UPDATE_SCREENSHOTS=1).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createRequire } from 'node:module';
import { chromium, type Browser, type Page } from 'playwright-core';
import { eventually, startTestGantry, tempDir } from '../helpers/server.js';
import { caller, DEMO_LOC, DEMO_PROJECT, seedDemo } from '../helpers/console-demo.js';
import type { Gantry } from '../../src/gantry.js';

const CHROMIUM = process.env.GANTRY_CHROMIUM ?? '/usr/bin/chromium';
const SHOTS = process.env.GANTRY_UPDATE_SCREENSHOTS ? fileURLToPath(new URL('../../../docs/console/', import.meta.url)) : tempDir('gantry-shots-');
const P = DEMO_PROJECT;

let g: Gantry;
let browser: Browser;
/** Every error the pages logged or threw: a console that breaks its CSP or its own code fails the test. */
const pageErrors: string[] = [];

before(async () => {
  assert.ok(existsSync(CHROMIUM), `the browser tests need Chromium at ${CHROMIUM} (Debian's chromium package; .ci/run installs it)`);
  g = await startTestGantry({ clock: 'virtual', renderMs: 30_000, jobMs: 60_000, taskMs: 120_000, buildMs: 2_000 });
  await seedDemo(g.url);
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    // As root in CI, without a GPU, and with nothing reaching beyond loopback.
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
  });
});
after(async () => {
  await browser?.close();
  await g?.close();
});

async function open(path: string, viewport = { width: 1280, height: 800 }, base = g.url): Promise<Page> {
  const page = await browser.newPage({ viewport });
  page.on('pageerror', e => pageErrors.push(`${path}: ${e.message}`));
  // An API's 4xx answer is logged by the browser too; the console shows it, so only other errors count.
  page.on('console', m => { if (m.type() === 'error' && !/Failed to load resource: the server responded with a status of 4\d\d/.test(m.text())) pageErrors.push(`${path}: ${m.text()}`); });
  await page.goto(`${base}/console${path}`);
  await page.getByRole('main').waitFor();
  return page;
}

/** A screenshot of the whole page, checked to be a PNG of the viewport's width with something on it. */
async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  const file = join(SHOTS, `${name}.png`);
  // From the top, so the sticky header sits where it belongs in a whole-page picture.
  await page.evaluate(() => window.scrollTo(0, 0));
  await page.screenshot({ path: file, fullPage: true });
  const png = readFileSync(file);
  assert.equal(png.subarray(1, 4).toString(), 'PNG', name);
  assert.equal(png.readUInt32BE(16), page.viewportSize()!.width, `${name} is as wide as the screen`);
  assert.ok(statSync(file).size > 10_000, `${name} has something on it (${statSync(file).size} bytes)`);
}

const advance = (duration: string) => caller(g.url)('POST', '/gantry/v1/clock:advance', { duration });

test('the console is served with a strict CSP, offline (no other origin), and the API guard still applies', async () => {
  const r = await fetch(`${g.url}/console`);
  assert.equal(r.status, 200);
  const csp = r.headers.get('content-security-policy')!;
  assert.match(csp, /default-src 'none'/);
  assert.match(csp, /script-src 'self' 'sha256-/);
  const html = await r.text();
  assert.doesNotMatch(html, /https?:\/\//, 'nothing is loaded from elsewhere');
  assert.equal((await fetch(`${g.url}/console/vendor/preact.js`)).headers.get('content-type'), 'text/javascript; charset=utf-8');
  assert.equal((await fetch(`${g.url}/console/nothing.js`)).status, 404);
  const cross = await fetch(`${g.url}/console`, { headers: { 'sec-fetch-site': 'cross-site' } });
  assert.equal(cross.status, 403, 'a page on another site cannot load it either');
});

test('pipelines show their stages and what each target runs; a release lists its rollouts', async () => {
  const page = await open(`#/p/${P}/deploy`);
  const stages = page.getByRole('list', { name: 'Stages of web-app' });
  await stages.getByText('runs v2').waitFor();
  assert.match(await stages.innerText(), /dev[\s\S]*runs v2[\s\S]*staging[\s\S]*runs v1[\s\S]*v2-to-staging-0001[\s\S]*failed[\s\S]*prod[\s\S]*canary 25% → 50% → 100%[\s\S]*pending approval/);
  await shot(page, 'deploy-pipelines');
  await page.getByRole('link', { name: 'Releases' }).click();
  await page.getByRole('heading', { name: 'web-app', level: 1 }).waitFor();
  await page.getByRole('region', { name: 'Releases' }).getByRole('link', { name: 'v2', exact: true }).click();
  await page.getByRole('heading', { name: 'Release v2' }).waitFor();
  const rollouts = page.getByRole('region', { name: 'Rollouts' });
  await rollouts.getByRole('link', { name: 'v2-to-dev-0001' }).waitFor();
  assert.match(await rollouts.innerText(), /v2-to-staging-0001\s+staging\s+failed/);
  await page.close();
});

test('a release links each target\'s rendered manifest and render log, and shows what changed since the release before there', async () => {
  const page = await open(`#/p/${P}/deploy/us-central1/web-app/releases/v2`);
  const renders = page.getByRole('region', { name: 'Target renders' });
  const manifest = renders.getByRole('link', { name: 'Manifest for dev' });
  await manifest.waitFor();
  // The links are Cloud Storage's own media URLs for the objects targetArtifacts names.
  const fetched = async (name: string) => {
    const href = (await renders.getByRole('link', { name }).getAttribute('href'))!;
    assert.match(href, /^\/download\/storage\/v1\/b\/us-central1\.deploy-artifacts\.demo-shop\.appspot\.com\/o\/v2-[0-9a-f]+%2Fdev%2F/);
    const r = await fetch(g.url + href);
    assert.equal(r.status, 200, href);
    return r.text();
  };
  assert.match(await fetched('Manifest for dev'), /image: us-docker\.pkg\.dev\/demo\/web-app:1\.1\.0/);
  assert.match(await fetched('Render log for dev'), /Rendered 1 manifest\(s\) for target "dev"/);
  // dev ran v1 before v2; staging still runs v1 (v2 failed there); prod has run nothing, so it has nothing to compare.
  await renders.locator('summary', { hasText: 'Changes on staging since v1' }).waitFor();
  assert.equal(await renders.locator('summary', { hasText: 'Changes on prod' }).count(), 0);
  await renders.locator('summary', { hasText: 'Changes on dev since v1' }).click();
  const diff = page.getByLabel('Manifest changes on dev since v1');
  await diff.waitFor();
  const lines = (await diff.innerText()).split('\n');
  assert.ok(lines.some(l => /^- +- image: us-docker\.pkg\.dev\/demo\/web-app:1\.0\.0$/.test(l)), lines.join('\n'));
  assert.ok(lines.some(l => /^\+ +- image: us-docker\.pkg\.dev\/demo\/web-app:1\.1\.0$/.test(l)), lines.join('\n'));
  // The release-id label Cloud Deploy adds differs too.
  assert.ok(lines.some(l => /^- +release-id: v1$/.test(l)) && lines.some(l => /^\+ +release-id: v2$/.test(l)), lines.join('\n'));
  assert.ok(lines.some(l => /^- +value: classic/.test(l)) && lines.some(l => /^\+ +value: express/.test(l)), lines.join('\n'));
  assert.ok(lines.every(l => /^[-+ ] |^⋯ \d+ unchanged lines?$/.test(l)), 'every line says how it changed');
  await shot(page, 'deploy-release');
  await page.close();
});

test('a rollout\'s timeline shows each attempt with its failure and its log', async () => {
  const page = await open(`#/p/${P}/deploy/us-central1/web-app/releases/v2/rollouts/v2-to-dev-0001`);
  await page.getByText('2 attempts').waitFor();
  await page.getByText('EXECUTION_FAILED smoke test: 3 of 40 checks failed').waitFor();
  // Expanding the failed attempt shows its job run's log (Cloud Build's lines in Cloud Logging).
  await page.locator('summary', { hasText: 'Attempt 1' }).last().click();
  const log = page.getByRole('figure').locator('pre');
  await log.filter({ hasText: 'FAILED: EXECUTION_FAILED: smoke test: 3 of 40 checks failed' }).waitFor();
  assert.match(await log.innerText(), /Step #0 - "verify": Simulated verify job of rollout v2-to-dev-0001, phase stable/);
  await shot(page, 'deploy-rollout');
  await page.close();
});

test('approving a pending rollout with a click starts it, and the page follows it live to SUCCEEDED', async () => {
  const page = await open(`#/p/${P}/deploy/us-central1/web-app/releases/v1/rollouts/v1-to-prod-0001`);
  const fields = page.locator('dl.fields');
  await fields.getByText('pending approval').waitFor();
  await shot(page, 'deploy-approval');
  await page.getByRole('button', { name: 'Approve' }).click();
  await fields.getByText('in progress').waitFor();
  const rollout = `/v1/${DEMO_LOC}/deliveryPipelines/web-app/releases/v1/rollouts/v1-to-prod-0001`;
  assert.equal((await caller(g.url)('GET', rollout)).approvalState, 'APPROVED');
  assert.equal(await page.getByRole('button', { name: 'Approve' }).count(), 0, 'nothing left to approve');
  // The clock moves through the API (as a test suite would move it); the open page follows without a reload.
  await advance('1m');
  // A first deployment skips the canaries; stable waits to be advanced (Google's canary quickstart: "Advance to stable").
  await page.getByRole('button', { name: 'Advance to stable' }).click();
  // The click's request has reached the server (the stable phase runs) before the clock moves: otherwise its deploy
  // job would start after the minute passed, and wait for a minute no one advances.
  await eventually(async () => ((await caller(g.url)('GET', rollout)).phases as { id: string; state: string }[]).some(p => p.id === 'stable' && p.state === 'IN_PROGRESS'), 10_000);
  await advance('1m');
  const stableDeploy = page.locator('.phase', { hasText: 'Phase stable' }).locator('.job-head').first();
  await stableDeploy.locator('.state', { hasText: 'succeeded' }).waitFor();
  await advance('1h');
  await fields.getByText('succeeded').first().waitFor();
  assert.equal((await caller(g.url)('GET', rollout)).state, 'SUCCEEDED');
  await page.close();
});

test('a Cloud Run job runs from its page; the execution appears and its tasks finish live', async () => {
  const page = await open(`#/p/${P}/run/us-central1/db-migrate`);
  const executions = page.getByRole('region', { name: 'Executions' });
  await executions.locator('.state.bad').first().waitFor();
  const before = await executions.getByRole('row').count();
  // With the keyboard: focus the button and press Enter.
  await page.getByRole('button', { name: 'Run' }).focus();
  await page.keyboard.press('Enter');
  const started = page.getByRole('status').filter({ hasText: 'Started execution' });
  await started.waitFor();
  await executions.getByRole('row').nth(before).waitFor();
  await executions.locator('.state', { hasText: 'running' }).waitFor();
  await advance('10m');
  await page.waitForFunction(() => document.querySelectorAll('section[aria-labelledby="h-executions"] .state.bad').length >= 2);
  await started.getByRole('link').click();
  await page.getByRole('heading', { name: /^Execution db-migrate-/ }).waitFor();
  const tasks = page.getByRole('region', { name: 'Tasks' });
  await tasks.locator('.state.bad').waitFor();
  assert.match(await tasks.innerText(), /0\s+failed\s+1\s+0/, 'task 0 exited 1 and was not retried (maxRetries 0)');
  await page.getByRole('button', { name: 'Show log' }).click();
  await page.getByRole('figure').locator('pre').filter({ hasText: 'relation "orders" already exists' }).waitFor();
  await shot(page, 'run-execution');
  const job = await open(`#/p/${P}/run/us-central1/nightly-report`);
  await job.getByRole('region', { name: 'Executions' }).getByText('4/4 succeeded').first().waitFor();
  await shot(job, 'run-job');
  await job.close();
  await page.close();
});

test('on a real clock, an execution page and its job page follow the tasks live to the end, with no reload', async () => {
  // Work takes real time here: each task 4 s, one at a time, so the pages are open while it runs.
  const live = await startTestGantry({ taskMs: 4_000, jobMs: 30, renderMs: 30 });
  try {
    const L = 'projects/live/locations/us-central1';
    await caller(live.url)('POST', `/v2/${L}/jobs?jobId=batch`, { template: { taskCount: 2, parallelism: 1, template: { containers: [{ image: 'us-docker.pkg.dev/live/batch:1' }] } } });
    const job = await open('#/p/live/run/us-central1/batch', undefined, live.url);
    await job.evaluate(() => { (window as unknown as { mark: number }).mark = 1; });
    await job.getByRole('button', { name: 'Run' }).click();
    const started = job.getByRole('status').filter({ hasText: 'Started execution' }).getByRole('link');
    const eid = (await started.innerText()).trim();
    const ex = await open(`#/p/live/run/us-central1/batch/executions/${eid}`, undefined, live.url);
    await ex.evaluate(() => { (window as unknown as { mark: number }).mark = 1; });
    const fields = ex.locator('dl.fields');
    await fields.getByText('0/2 succeeded, 1 running').waitFor();
    const executions = job.getByRole('region', { name: 'Executions' });
    // Each task's progress reaches both pages as it happens: the job page sees the first task finish on its own.
    await Promise.all([
      executions.getByText('1/2 succeeded, 1 running').waitFor({ timeout: 10_000 }),
      fields.getByText('1/2 succeeded, 1 running').waitFor({ timeout: 10_000 }),
    ]);
    await Promise.all([
      executions.getByText('2/2 succeeded').waitFor({ timeout: 10_000 }),
      fields.locator('.state', { hasText: /^succeeded$/ }).waitFor({ timeout: 10_000 }),
      ex.getByRole('region', { name: 'Tasks' }).locator('.state.good').nth(1).waitFor({ timeout: 10_000 }),
    ]);
    for (const page of [job, ex]) {
      assert.equal(await page.evaluate(() => (window as unknown as { mark?: number }).mark), 1, 'the page was never reloaded');
      await page.close();
    }
  } finally {
    await live.close();
  }
});

test('on a real clock, a rollout page follows its deploy live to SUCCEEDED', async () => {
  const live = await startTestGantry({ jobMs: 2_500, renderMs: 30 });
  try {
    const c = caller(live.url);
    const L = 'projects/live/locations/us-central1';
    await c('POST', `/v1/${L}/targets?targetId=dev`, { run: { location: L } });
    await c('POST', `/v1/${L}/deliveryPipelines?deliveryPipelineId=web`, { serialPipeline: { stages: [{ targetId: 'dev', strategy: { standard: { verify: true } } }] } });
    await c('POST', `/v1/${L}/deliveryPipelines/web/releases?releaseId=r1`, {});
    for (let i = 0; i < 100 && (await c('GET', `/v1/${L}/deliveryPipelines/web/releases/r1`)).renderState !== 'SUCCEEDED'; i++) await new Promise(r => setTimeout(r, 50));
    await c('POST', `/v1/${L}/deliveryPipelines/web/releases/r1/rollouts?rolloutId=r1-to-dev-0001`, { targetId: 'dev' });
    const page = await open('#/p/live/deploy/us-central1/web/releases/r1/rollouts/r1-to-dev-0001', undefined, live.url);
    await page.evaluate(() => { (window as unknown as { mark: number }).mark = 1; });
    const fields = page.locator('dl.fields');
    await fields.locator('.state').first().filter({ hasText: /^in progress$/ }).waitFor();
    const stable = page.locator('.phase', { hasText: 'Phase stable' });
    // The deploy job finishes, then verify, then the rollout: each seen as it happens.
    await stable.locator('.job', { hasText: 'verify' }).locator('.job-head .state', { hasText: /^in progress$/ }).waitFor({ timeout: 10_000 });
    await fields.locator('.state').first().filter({ hasText: /^succeeded$/ }).waitFor({ timeout: 10_000 });
    assert.equal(await page.evaluate(() => (window as unknown as { mark?: number }).mark), 1, 'the page was never reloaded');
    await page.close();
  } finally {
    await live.close();
  }
});

test('App Hosting: a backend\'s traffic, builds with their errors and sources (an archive linked), rollouts, the build log and the app\'s local URL', async () => {
  const page = await open(`#/p/${P}/apphosting/us-central1/storefront`);
  await page.getByRole('list', { name: 'Traffic split' }).getByText('build-1 100%').waitFor();
  await page.getByText('npm ERR! Missing script: "build"').waitFor();
  const app = page.getByRole('link', { name: 'storefront--demo-shop.us-central1.hosted.app' });
  const href = (await app.getAttribute('href'))!;
  assert.match(href, /^http:\/\/storefront--demo-shop\.us-central1\.hosted\.app\.localhost:\d+\/$/);
  // The local URL is written out (firebase-tools prints the hosted.app one, which does not resolve here).
  assert.equal(await app.innerText(), href);
  // The link's host reaches the app through Gantry (browsers resolve *.localhost here).
  const served = await page.request.get(`${g.url}/`, { headers: { host: new URL(href).host } });
  assert.equal(served.status(), 200);
  assert.match(await served.text(), /build-1/);
  await shot(page, 'apphosting-backend');
  await page.getByRole('link', { name: 'build-2' }).click();
  await page.getByRole('heading', { name: 'Build build-2' }).waitFor();
  await page.getByRole('figure').locator('pre').filter({ hasText: /\S/ }).waitFor();
  // A build deployed from an archive (as `firebase deploy` uploads one) shows that archive, linked.
  const bucket = 'firebaseapphosting-sources-demo-shop-us-central1';
  const call = caller(g.url);
  await call('POST', `/storage/v1/b?project=${P}`, { name: bucket });
  const up = await fetch(`${g.url}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=storefront-1.zip`, { method: 'POST', body: Buffer.from('PK\x05\x06' + '\0'.repeat(18), 'binary'), headers: { 'content-type': 'application/zip' } });
  assert.equal(up.status, 200);
  await call('POST', `/v1beta/${DEMO_LOC}/backends/storefront/builds?buildId=build-3`, { source: { archive: { userStorageUri: `gs://${bucket}/storefront-1.zip`, rootDirectory: 'web' } } });
  await page.goto(`${g.url}/console#/p/${P}/apphosting/us-central1/storefront/builds/build-3`);
  const source = page.locator('dl.fields > div', { hasText: 'Source' });
  await source.getByText(`gs://${bucket}/storefront-1.zip`).waitFor();
  assert.match(await source.innerText(), /archive gs:\/\/firebaseapphosting-sources-demo-shop-us-central1\/storefront-1\.zip in web/);
  const archive = await fetch(g.url + (await source.getByRole('link').getAttribute('href'))!);
  assert.equal(archive.status, 200, 'the link reaches the archive');
  await page.goto(`${g.url}/console#/p/${P}/apphosting/us-central1/storefront`);
  await page.getByRole('region', { name: 'Builds' }).getByRole('row', { name: /build-3/ }).getByText(`gs://${bucket}/storefront-1.zip`).waitFor();
  await page.close();
});

test('Cloud Run services: a service\'s traffic bar, its tags\' .localhost URLs and its revisions', async () => {
  const page = await open(`#/p/${P}/services`);
  await page.getByRole('link', { name: 'orders-api', exact: true }).click();
  const bar = page.getByRole('list', { name: 'Traffic of orders-api' });
  await bar.getByRole('listitem').nth(1).waitFor();
  assert.deepEqual((await bar.getByRole('listitem').allInnerTexts()).map(t => t.replace(/^orders-api-\d{5}-[a-z0-9]+ /, '')), ['75%', '25%']);
  const tags = page.getByRole('group', { name: 'Tags' });
  assert.match((await tags.getByRole('link').first().getAttribute('href'))!, /^http:\/\/stable---orders-api-\d+\.us-central1\.run\.app\.localhost:\d+\/$/);
  await shot(page, 'run-service');
  await page.close();
});

test('Secret Manager: secrets and versions, and a value only when the user reveals it', async () => {
  const accessed: string[] = [];
  const page = await open(`#/p/${P}/secrets`);
  page.on('request', r => { if (r.url().includes(':access')) accessed.push(r.url()); });
  await page.getByRole('link', { name: 'stripe-key' }).click();
  await page.getByRole('heading', { level: 1, name: 'Secret stripe-key' }).waitFor();
  const versions = page.getByRole('region', { name: 'Versions' });
  await versions.getByText('disabled').waitFor();
  assert.doesNotMatch(await page.content(), /sk_test/, 'no value is on the page');
  assert.deepEqual(accessed, [], 'no value was read');
  assert.equal(await versions.getByRole('button', { name: 'Reveal version 1' }).count(), 0, 'a disabled version cannot be read');
  await versions.getByRole('button', { name: 'Reveal version 2' }).click();
  assert.equal(await page.getByLabel('Value of version 2').innerText(), 'sk_test_second');
  assert.equal(accessed.length, 1);
  assert.match(accessed[0], /\/secrets\/stripe-key\/versions\/2:access$/);
  await versions.getByRole('button', { name: 'Hide version 2' }).click();
  assert.doesNotMatch(await page.content(), /sk_test/);
  await page.close();
});

test('the logs page queries Cloud Logging with a filter, and follows new entries live', async () => {
  const page = await open(`#/p/${P}/logs`);
  const entries = page.getByRole('region', { name: 'Entries' });
  await entries.getByText('order 1001 paid').waitFor();
  await entries.getByText('payment declined for order 1002').waitFor();
  await page.getByLabel(/^Filter/).fill('logName:"checkout" AND severity>=ERROR');
  await page.getByRole('button', { name: 'Run query' }).click();
  await entries.getByText('order 1001 paid').waitFor({ state: 'detached' });
  await entries.getByText('payment declined for order 1002').waitFor();
  // A bad filter is the API's 400, shown.
  await page.getByLabel(/^Filter/).fill('severity>>');
  await page.getByRole('button', { name: 'Run query' }).click();
  await page.getByRole('alert').filter({ hasText: 'INVALID_ARGUMENT' }).waitFor();
  await page.getByLabel(/^Filter/).fill('logName:"checkout"');
  await page.getByRole('button', { name: 'Run query' }).click();
  await entries.getByText('order 1001 paid').waitFor();
  await page.getByLabel('Follow new entries').check();
  await caller(g.url)('POST', '/v2/entries:write', { entries: [{ logName: `projects/${P}/logs/checkout`, resource: { type: 'global' }, severity: 'WARNING', textPayload: 'order 1003 is slow' }] });
  await entries.getByText('order 1003 is slow').waitFor({ timeout: 10_000 });
  assert.equal(await entries.getByText('order 1001 paid').count(), 1, 'nothing shown twice');
  await page.close();
});

test('the state buttons download a snapshot and reset a project after confirming', async () => {
  const call = caller(g.url);
  await call('POST', '/v1/projects/scratch/secrets?secretId=temp', { replication: { automatic: {} } });
  const page = await open('#/p/scratch/clock');
  const state = page.getByRole('region', { name: 'State' });
  const downloaded = page.waitForEvent('download');
  await state.getByRole('button', { name: 'Download snapshot of scratch' }).click();
  const file = await (await downloaded).path();
  const lines = readFileSync(file, 'utf8').trim().split('\n').map(l => JSON.parse(l) as Record<string, unknown>);
  assert.ok(lines.some(l => JSON.stringify(l).includes('secrets/temp')), 'the snapshot holds the project\'s secret');
  assert.ok(!lines.some(l => JSON.stringify(l).includes(P)), 'and nothing of another project');
  const asked: string[] = [];
  page.once('dialog', d => { asked.push(d.message()); void d.dismiss(); });
  await state.getByRole('button', { name: 'Reset scratch' }).click();
  await page.waitForFunction(() => !document.querySelector('button[aria-busy="true"]'));
  assert.match(asked[0] ?? '', /Delete everything stored in project scratch\?/);
  assert.equal(((await call('GET', '/v1/projects/scratch/secrets')).secrets as unknown[]).length, 1, 'saying no deletes nothing');
  page.once('dialog', d => void d.accept());
  await state.getByRole('button', { name: 'Reset scratch' }).click();
  await state.getByRole('status').filter({ hasText: 'Reset scratch' }).waitFor();
  assert.equal((await call('GET', '/v1/projects/scratch/secrets')).secrets, undefined);
  assert.ok(((await call('GET', `/v1/projects/${P}/secrets`)).secrets as unknown[]).length > 0, 'other projects are left alone');
  await page.close();
});

test('the clock page advances the clock and adds and removes outcome rules', async () => {
  const page = await open(`#/p/${P}/clock`);
  const now = async () => Date.parse((await caller(g.url)('GET', '/gantry/v1/clock')).now);
  const t0 = await now();
  await page.getByRole('button', { name: 'Advance 10m' }).click();
  await page.waitForFunction(() => !document.querySelector('button[aria-busy="true"]'));
  assert.equal(await now(), t0 + 600_000);
  await page.getByLabel('Advance by').fill('1h30m');
  await page.getByRole('button', { name: 'Advance', exact: true }).click();
  await page.waitForFunction(() => !document.querySelector('button[aria-busy="true"]'));
  assert.equal(await now(), t0 + 600_000 + 5_400_000);
  const target = new Date(t0 + 600_000 + 5_400_000 + 86_400_000).toISOString();
  await page.getByLabel('Advance to', { exact: true }).fill(target);
  await page.getByRole('button', { name: 'Advance to', exact: true }).click();
  await page.waitForFunction(() => !document.querySelector('button[aria-busy="true"]'));
  assert.equal(await now(), Date.parse(target));
  await page.getByLabel(/^Scope/).fill(`${DEMO_LOC}/jobs/nightly-report`);
  await page.getByLabel(/^Rules/).fill('2=fail:137"killed: out of memory"@1');
  await page.getByRole('button', { name: 'Add' }).click();
  const rules = page.getByRole('table', { name: 'Outcome rules' });
  await rules.getByText('2=fail:137"killed: out of memory"@1').waitFor();
  assert.ok(((await caller(g.url)('GET', '/gantry/v1/outcomes')).outcomes as { rules: string }[]).some(o => o.rules.startsWith('2=fail:137')));
  // A bad rule is refused with the API's message, shown where the user typed it.
  await page.getByLabel(/^Rules/).fill('nonsense');
  await page.getByRole('button', { name: 'Add' }).click();
  await page.getByRole('alert').filter({ hasText: 'INVALID_ARGUMENT' }).waitFor();
  await shot(page, 'clock');
  page.on('dialog', d => void d.accept());
  const row = rules.getByRole('row').filter({ hasText: '2=fail:137' });
  await row.getByRole('button', { name: 'Remove' }).click();
  await row.waitFor({ state: 'detached' });
  await page.close();
});

test('on a phone\'s screen the pages fit their width, and the rollout page still offers its actions', async () => {
  const page = await open(`#/p/${P}/deploy/us-central1/web-app/releases/v2/rollouts/v2-to-staging-0001`, { width: 390, height: 844 });
  await page.getByRole('button', { name: 'Retry' }).waitFor();
  const overflow = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
  assert.ok(overflow <= 0, `nothing sticks out sideways (${overflow}px)`);
  await shot(page, 'phone-rollout');
  for (const path of [`#/p/${P}/deploy/us-central1/web-app/releases/v2`, `#/p/${P}/secrets/stripe-key`, `#/p/${P}/logs`, `#/p/${P}/clock`]) {
    await page.goto(`${g.url}/console${path}`);
    await page.waitForFunction(() => !document.querySelector('.loading'));
    const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
    assert.ok(wide <= 0, `${path}: nothing sticks out sideways (${wide}px)`);
  }
  await page.close();
});

test('page titles name the page once; keyboard navigation moves focus to the page with no ring around it', async () => {
  const page = await open('');
  await page.getByRole('heading', { level: 1, name: 'Projects' }).waitFor();
  // The title follows the page's render (an effect), so it is waited for, then checked.
  await page.waitForFunction(t => document.title === t, 'Projects · Gantry', { timeout: 5000 }).catch(() => undefined);
  assert.equal(await page.title(), 'Projects · Gantry');
  await page.getByRole('link', { name: P, exact: true }).first().focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Delivery pipelines' }).waitFor();
  // The title follows the page's render (an effect), so it is waited for, then checked.
  await page.waitForFunction(t => document.title === t, 'Delivery pipelines · Gantry', { timeout: 5000 }).catch(() => undefined);
  assert.equal(await page.title(), 'Delivery pipelines · Gantry');
  await page.getByRole('link', { name: 'Cloud Run jobs' }).focus();
  await page.keyboard.press('Enter');
  await page.getByRole('heading', { level: 1, name: 'Cloud Run jobs' }).waitFor();
  await page.waitForFunction(() => document.activeElement?.tagName === 'MAIN');
  // Focus is where a screen reader expects it, but the whole page is not wrapped in the focus ring.
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'none');
  // A keyboard user tabbing on still sees the ring on what they reach.
  await page.keyboard.press('Tab');
  assert.equal(await page.evaluate(() => getComputedStyle(document.activeElement!).outlineStyle), 'solid');
  await page.close();
});

test('the clock page keeps the project chosen, in its address too', async () => {
  const page = await open(`#/p/${P}/run`);
  await page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name: 'Clock & scenarios' }).click();
  await page.getByRole('heading', { level: 1, name: 'Clock & scenarios' }).waitFor();
  assert.equal(new URL(page.url()).hash, `#/p/${P}/clock`);
  const check = async () => {
    assert.equal(await page.getByRole('combobox', { name: 'Project' }).inputValue(), P);
    assert.equal(await page.getByRole('link', { name: 'Cloud Deploy' }).getAttribute('href'), `#/p/${P}/deploy`);
  };
  await check();
  // In a new tab (no session yet) the address alone brings the project back.
  const fresh = await browser.newContext();
  const other = await fresh.newPage();
  await other.goto(page.url());
  await other.getByRole('heading', { level: 1, name: 'Clock & scenarios' }).waitFor();
  assert.equal(await other.getByRole('combobox', { name: 'Project' }).inputValue(), P);
  await fresh.close();
  await page.close();
});

test('dark mode follows the system setting', async () => {
  const context = await browser.newContext({ colorScheme: 'dark' });
  try {
    const page = await context.newPage();
    page.on('pageerror', e => pageErrors.push(`dark: ${e.message}`));
    await page.goto(`${g.url}/console#/p/${P}/deploy/us-central1/web-app/releases/v2/rollouts/v2-to-dev-0001`);
    await page.getByRole('heading', { level: 1 }).waitFor();
    const luminance = (rgb: string) => { const [r, gr, b] = rgb.match(/\d+/g)!.map(Number); return (0.2126 * r + 0.7152 * gr + 0.0722 * b) / 255; };
    const colours = await page.evaluate(() => ({ bg: getComputedStyle(document.body).backgroundColor || getComputedStyle(document.documentElement).backgroundColor,
      root: getComputedStyle(document.documentElement).backgroundColor, text: getComputedStyle(document.querySelector('h1')!).color,
      panel: getComputedStyle(document.querySelector('section')!).backgroundColor, select: getComputedStyle(document.querySelector('select')!).backgroundColor }));
    assert.ok(luminance(colours.root) < 0.15, `a dark background (${colours.root})`);
    assert.ok(luminance(colours.panel) < 0.2, `dark panels (${colours.panel})`);
    assert.ok(luminance(colours.select) < 0.25, `dark form controls (${colours.select})`);
    assert.ok(luminance(colours.text) > 0.8, `light text (${colours.text})`);
    await shot(page, 'dark-rollout');
  } finally {
    await context.close();
  }
});

test('off loopback with a token: the console loads without it, and calls the APIs with the token from its URL', async () => {
  const t = await startTestGantry({ authToken: 'console-secret' });
  try {
    assert.equal((await fetch(`${t.url}/console`)).status, 200);
    assert.equal((await fetch(`${t.url}/gantry/v1/projects`)).status, 401);
    await fetch(`${t.url}/v1/projects/tok/locations/us-central1/targets?targetId=t`, { method: 'POST', body: JSON.stringify({ run: { location: 'projects/tok/locations/us-central1' } }), headers: { 'content-type': 'application/json', authorization: 'Bearer console-secret' } });
    const page = await browser.newPage();
    page.on('pageerror', e => pageErrors.push(`token: ${e.message}`));
    await page.goto(`${t.url}/console#token=console-secret`);
    await page.getByRole('link', { name: 'tok' }).first().waitFor();
    assert.equal(new URL(page.url()).hash, '#/', 'the token leaves the address bar');
    await page.close();
  } finally {
    await t.close();
  }
});

test('Promote asks first, naming the rollout that already waits on the target', async () => {
  const call = caller(g.url);
  const base = `/v1/${DEMO_LOC}/deliveryPipelines/web-app/releases`;
  await call('POST', `${base}/v1/rollouts?rolloutId=v1-to-prod-0002`, { targetId: 'prod' });
  const page = await open(`#/p/${P}/deploy/us-central1/web-app/releases/v1/rollouts/v1-to-staging-0001`);
  // The dialog blocks the page until answered: answered (no) as it opens.
  const asked = new Promise<{ type: string; message: string }>(resolve => page.once('dialog', d => { resolve({ type: d.type(), message: d.message() }); void d.dismiss(); }));
  await page.getByRole('button', { name: 'Promote to prod' }).click();
  const dialog = await Promise.race([asked, new Promise<undefined>(r => setTimeout(r, 5_000))]);
  assert.ok(dialog, 'Promote asks before it creates a rollout');
  assert.equal(dialog.type, 'confirm');
  assert.match(dialog.message, /^Promote release v1 to prod\? This creates rollout v1-to-prod-0003\. Rollout v1-to-prod-0002 \(release v1\) is already pending approval on prod\.$/);
  await page.waitForFunction(() => !document.querySelector('button[aria-busy="true"]'));
  const prod = ((await call('GET', `${base}/v1/rollouts`)).rollouts as { name: string }[]).map(r => r.name.split('/').pop()).filter(n => n!.includes('prod'));
  assert.deepEqual(prod.sort(), ['v1-to-prod-0001', 'v1-to-prod-0002'], 'saying no creates nothing');
  await call('POST', `${base}/v1/rollouts/v1-to-prod-0002:approve`, { approved: false });
  await page.close();
});

test('every rollout verb from its button: retry, promote, approve, advance, terminate, ignore, cancel, reject', async () => {
  const call = caller(g.url);
  const base = `/v1/${DEMO_LOC}/deliveryPipelines/web-app/releases`;
  const state = async (rollout: string) => String((await call('GET', `${base}/${rollout}`)).state);
  const page = await open(`#/p/${P}/deploy/us-central1/web-app/releases/v2/rollouts/v2-to-staging-0001`);
  page.on('dialog', d => void d.accept());
  const fields = page.locator('dl.fields');
  const shows = (s: string) => fields.locator('.state').first().filter({ hasText: new RegExp(`^${s}$`) }).waitFor();
  // Retry the failed verify (the outcome rule fails only its first attempt).
  await page.getByRole('button', { name: 'Retry' }).click();
  await shows('in progress');
  await advance('2m');
  await shows('succeeded');
  assert.equal(await state('v2/rollouts/v2-to-staging-0001'), 'SUCCEEDED');

  // Promote v2 to prod (confirmed), named as gcloud names it; then approval, and a canary phase that waits to be advanced.
  await page.getByRole('button', { name: 'Promote to prod' }).click();
  await page.getByRole('status').filter({ hasText: 'Created rollout' }).getByRole('link', { name: 'v2-to-prod-0001' }).click();
  await page.getByRole('heading', { name: 'Rollout v2-to-prod-0001' }).waitFor();
  assert.equal((await call('GET', `${base}/v2/rollouts/v2-to-prod-0001`)).targetId, 'prod');
  await page.getByRole('button', { name: 'Approve' }).click();
  await shows('in progress');
  await advance('3m');
  await page.getByRole('button', { name: 'Advance to canary-50' }).click();
  const canary50 = page.locator('.phase', { hasText: 'Phase canary-50' });
  await canary50.locator('.phase-head .state', { hasText: 'in progress' }).waitFor();
  // Terminate the running deploy job run; the rollout fails; ignoring the job lets it go on.
  await canary50.getByRole('button', { name: 'Terminate' }).click();
  await shows('failed');
  const runs = (await call('GET', `${base}/v2/rollouts/v2-to-prod-0001/jobRuns`)).jobRuns as { phaseId: string; jobId: string; state: string }[];
  assert.equal(runs.find(j => j.phaseId === 'canary-50' && j.jobId === 'deploy')!.state, 'TERMINATED');
  await canary50.getByRole('button', { name: 'Ignore' }).click();
  await shows('in progress');
  await canary50.locator('.job-head .state', { hasText: 'ignored' }).waitFor();
  // Cancel it.
  await page.getByRole('button', { name: 'Cancel' }).click();
  await advance('1m');
  await shows('cancelled');
  assert.equal(await state('v2/rollouts/v2-to-prod-0001'), 'CANCELLED');

  // A rollout that needs approval, rejected.
  await call('POST', `${base}/v2/rollouts?rolloutId=v2-to-prod-0002`, { targetId: 'prod' });
  await page.goto(`${g.url}/console#/p/${P}/deploy/us-central1/web-app/releases/v2/rollouts/v2-to-prod-0002`);
  await page.getByRole('button', { name: 'Reject' }).click();
  await shows('approval rejected');
  assert.equal(await state('v2/rollouts/v2-to-prod-0002'), 'APPROVAL_REJECTED');
  await page.close();
});

test('every page passes axe-core\'s WCAG 2 A and AA checks, at 1280×800 and on a phone', async () => {
  const axe = createRequire(import.meta.url).resolve('axe-core/axe.min.js');
  const pages = [
    '', `#/p/${P}/deploy`, `#/p/${P}/deploy/us-central1/web-app`, `#/p/${P}/deploy/us-central1/web-app/releases/v2`,
    `#/p/${P}/deploy/us-central1/web-app/releases/v2/rollouts/v2-to-dev-0001`, `#/p/${P}/run`, `#/p/${P}/run/us-central1/nightly-report`,
    `#/p/${P}/services`, `#/p/${P}/services/us-central1/orders-api`,
    `#/p/${P}/apphosting`, `#/p/${P}/apphosting/us-central1/storefront`, `#/p/${P}/apphosting/us-central1/storefront/builds/build-2`, '#/clock',
    `#/p/${P}/secrets`, `#/p/${P}/secrets/stripe-key`, `#/p/${P}/logs`,
  ];
  for (const [viewport, colorScheme] of [[{ width: 1280, height: 800 }, 'light'], [{ width: 390, height: 844 }, 'light'], [{ width: 1280, height: 800 }, 'dark']] as const) {
    // axe is injected as a script of its own, which the console's CSP would refuse: this context lets it in.
    const context = await browser.newContext({ viewport, colorScheme, bypassCSP: true });
    try {
      const page = await context.newPage();
      for (const path of pages) {
        await page.goto(`${g.url}/console${path}`);
        await page.getByRole('main').waitFor();
        await page.waitForFunction(() => !document.querySelector('.loading'));
        await page.addScriptTag({ path: axe });
        const violations = await page.evaluate(async () => {
          const w = window as unknown as { axe: { run(ctx: Document, o: object): Promise<{ violations: { id: string; impact: string; nodes: { target: string[] }[] }[] }> } };
          const r = await w.axe.run(document, { runOnly: { type: 'tag', values: ['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'] } });
          return r.violations.map(v => `${v.id} (${v.impact}): ${v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(', ')}`);
        });
        assert.deepEqual(violations, [], `${path || '/'} at ${viewport.width}px, ${colorScheme}`);
      }
    } finally {
      await context.close();
    }
  }
});

test('no page logged an error or broke its Content-Security-Policy', () => {
  assert.deepEqual(pageErrors, []);
});
