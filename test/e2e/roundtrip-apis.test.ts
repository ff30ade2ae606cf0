// Read-modify-write beyond Cloud Deploy (deploy-roundtrip.test.ts has its kinds): every other API's updatable kind,
// read and sent back exactly as read, is accepted and comes back the same (output-only fields are ignored, as
// AIP-203 says, so tools that GET, edit and PATCH work).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, eventually } from '../helpers/server.js';
import type { Gantry } from '../../src/gantry.js';

const P = 'rt-apis';
const LOC = `projects/${P}/locations/us-central1`;
let g: Gantry;

before(async () => { g = await startTestGantry({ buildMs: 50, taskMs: 50 }); });
after(async () => { await g.close(); });

async function call(method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await fetch(`${g.url}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await r.text();
  assert.equal(r.status, 200, `${method} ${path}: ${text}`);
  return JSON.parse(text) as Record<string, any>;
}
const settle = async (op: Record<string, any>, version: string) => {
  if (op.done === undefined || !op.name?.includes('/operations/')) return;
  await eventually(async () => (await call('GET', `/${version}/${op.name}`)).done, 10_000);
};
/** GET, then PATCH (or PUT) the very body read; the resource reads the same afterwards, stamps aside. */
async function roundTrip(label: string, get: string, write: (body: Record<string, any>) => Promise<unknown>, stamps: string[] = ['updateTime', 'etag']) {
  const read = await call('GET', get);
  await write(read);
  const again = await call('GET', get);
  const strip = (o: Record<string, any>) => Object.fromEntries(Object.entries(o).filter(([k]) => !stamps.includes(k)));
  assert.deepEqual(strip(again), strip(read), `${label} reads the same after writing back what was read`);
}

test('Cloud Run v2 job, Secret Manager secret, Developer Connect connection, App Hosting backend and traffic, a Cloud Storage bucket: PATCHed back as read', async () => {
  // Cloud Run v2
  await settle(await call('POST', `/v2/${LOC}/jobs?jobId=rt-job`, { labels: { a: 'b' }, template: { taskCount: 2, template: { maxRetries: 1, containers: [{ image: 'busybox', command: ['true'], env: [{ name: 'X', value: '1' }] }] } } }), 'v2');
  await roundTrip('run job', `/v2/${LOC}/jobs/rt-job`, async body => settle(await call('PATCH', `/v2/${LOC}/jobs/rt-job`, body), 'v2'), ['updateTime', 'etag', 'generation', 'observedGeneration', 'conditions', 'terminalCondition', 'reconciling']);
  // Secret Manager (update_mask required: every updatable field)
  await call('POST', `/v1/projects/${P}/secrets?secretId=rt-secret`, { replication: { automatic: {} }, labels: { a: 'b' }, annotations: { note: 'x' } });
  await roundTrip('secret', `/v1/projects/${P}/secrets/rt-secret`, body => call('PATCH', `/v1/projects/${P}/secrets/rt-secret?updateMask=labels,annotations`, body));
  // Developer Connect
  await settle(await call('POST', `/v1/${LOC}/connections?connectionId=rt-conn`, { githubConfig: { githubApp: 'FIREBASE' }, labels: { a: 'b' } }), 'v1');
  await roundTrip('connection', `/v1/${LOC}/connections/rt-conn`, async body => settle(await call('PATCH', `/v1/${LOC}/connections/rt-conn?updateMask=*`, body), 'v1'));
  // App Hosting
  await settle(await call('POST', `/v1beta/${LOC}/backends?backendId=rt-be`, { appId: '1:1:web:1', servingLocality: 'GLOBAL_ACCESS', serviceAccount: `app-hosting@${P}.iam.gserviceaccount.com`, labels: { a: 'b' } }), 'v1beta');
  await roundTrip('backend', `/v1beta/${LOC}/backends/rt-be`, async body => settle(await call('PATCH', `/v1beta/${LOC}/backends/rt-be?updateMask=*`, body), 'v1beta'));
  await roundTrip('traffic', `/v1beta/${LOC}/backends/rt-be/traffic`, async body => settle(await call('PATCH', `/v1beta/${LOC}/backends/rt-be/traffic?updateMask=*`, body), 'v1beta'), ['updateTime', 'etag', 'reconciling']);
  // Cloud Storage
  await call('POST', `/storage/v1/b?project=${P}`, { name: 'rt-apis-bucket', labels: { a: 'b' } });
  await roundTrip('bucket', '/storage/v1/b/rt-apis-bucket', body => call('PATCH', '/storage/v1/b/rt-apis-bucket', body), ['updated', 'etag', 'metageneration']);
  await roundTrip('bucket (PUT)', '/storage/v1/b/rt-apis-bucket', body => call('PUT', '/storage/v1/b/rt-apis-bucket', body), ['updated', 'etag', 'metageneration']);
});
