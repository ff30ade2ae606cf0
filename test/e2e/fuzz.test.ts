// Acceptance: 20,000 mutated requests (bodies, paths, query strings, methods, headers, framing) get
// 0 5xx (but 501 UNIMPLEMENTED for a path naming a method or API Gantry does not serve), 0 non-Google error bodies,
// 0 hangs, and the server's RSS stays bounded.
//
// Gantry runs as a child process (its RSS read from /proc, a crash seen, its inspector used to force a GC
// before memory is compared). Requests are generated from a corpus of valid requests against seeded
// resources, each case from its own PRNG (seed, case index), and sent over raw sockets
// (test/helpers/raw-http.ts) because fetch refuses most of the malformed ones. Distinct failures are
// replayed alone, shrunk, and written with their exact bytes to $TMPDIR/gantry-fuzz-<seed>-<pid>/.
// GANTRY_FUZZ_SEED, _COUNT, _CONCURRENCY, _TIMEOUT_MS, _BUDGET_MS and _STALL_MS override the defaults; the
// seed is printed so any run can be replayed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { freePort, spawnGantry, startTestGantry, tempDir, type ChildGantry } from '../helpers/server.js';
import { header, rawExchange, type RawResponse, type RawResult } from '../helpers/raw-http.js';
import { openInspector } from '../helpers/inspector.js';
import { projectNumber } from '../../src/google/project-number.js';

const env = process.env;
const SEED = env.GANTRY_FUZZ_SEED ? Number(env.GANTRY_FUZZ_SEED) >>> 0 : (Math.random() * 2 ** 32) >>> 0;
const COUNT = Number(env.GANTRY_FUZZ_COUNT ?? 20_000);
const CONCURRENCY = Number(env.GANTRY_FUZZ_CONCURRENCY ?? 24);
const TIMEOUT_MS = Number(env.GANTRY_FUZZ_TIMEOUT_MS ?? 10_000);
/** Stop issuing new requests after this long: a server that got slow must not stall CI for ever. */
const BUDGET_MS = Number(env.GANTRY_FUZZ_BUDGET_MS ?? 150_000);
/** A health probe slower than this means one request blocked the event loop (loaded 2-core runs answer it within ~0.5 s). */
const STALL_MS = Number(env.GANTRY_FUZZ_STALL_MS ?? 5_000);
/**
 * Memory bounds, from measurement. Sampled RSS is a poor leak signal over 20,000 requests: V8 lets the heap
 * swell to 300–540 MB between major GCs after big bodies, then drops back to ~220 MB. So Gantry runs with its
 * inspector on and the test forces a full GC before reading memory at the start, at 25% of the run and at its
 * end. Measured (20,000 and 60,000 requests): heap used after GC 15 MB at the start, 17–20 MB at the end;
 * RSS after GC 70 → 100–135 → 125–160 MB (freed pages are not all returned to the OS); high-water 290–545 MB.
 */
const RSS_PEAK_LIMIT_MB = 700;
const RSS_END_LIMIT_MB = 256;
/**
 * Growth allowed from 25% of the run to its end, after GC. The resources the run creates live in SQLite, whose
 * page caches (native, 16 + 8 MB) fill as the databases grow; glibc keeps freed pages. Measured on 2 cores: RSS
 * anon 58 → 75 MB with the V8 heap flat at 21–23 MB; a CI run went 92 → 153 MB with its heap flat too. The heap
 * check below is the JS leak signal; this one catches native growth well past those caches.
 */
const RSS_GROWTH_FACTOR = 1.25;
const RSS_GROWTH_SLACK_MB = 56;
const HEAP_GROWTH_SLACK_MB = 32;

const LOC = 'projects/p/locations/us-central1';
/** Seeded objects and resumable sessions, so deletes and session uploads can succeed (once each). */
const DELETABLE = 100;
const SESSIONS = 50;
const DP = `${LOC}/deliveryPipelines/app`;
const REL = `${DP}/releases/r1`;

// ---------------------------------------------------------------------------------------------------
// PRNG: mulberry32; each case gets its own stream so cases do not depend on the order they ran in.

class Rng {
  private s: number;
  constructor(seed: number) { this.s = seed >>> 0; }
  next(): number {
    let t = (this.s = (this.s + 0x6d2b79f5) >>> 0);
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  }
  int(n: number): number { return Math.floor(this.next() * n); }
  range(lo: number, hi: number): number { return lo + this.int(hi - lo + 1); }
  chance(p: number): boolean { return this.next() < p; }
  pick<T>(a: readonly T[]): T { return a[this.int(a.length)]; }
  weighted<T>(a: readonly (readonly [T, number])[]): T {
    let x = this.next() * a.reduce((s, [, w]) => s + w, 0);
    for (const [v, w] of a) if ((x -= w) < 0) return v;
    return a[a.length - 1][0];
  }
  bytes(n: number): Buffer { return Buffer.from(Array.from({ length: n }, () => this.int(256))); }
}

function caseSeed(seed: number, i: number): number {
  let h = Math.imul(seed ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(i + 1, 0xc2b2ae35);
  h ^= h >>> 16; h = Math.imul(h, 0x7feb352d); h ^= h >>> 15;
  return h >>> 0;
}

// ---------------------------------------------------------------------------------------------------
// Requests: a structured form the mutators edit, rendered to bytes at the end.

interface Req {
  method: string;
  path: string;
  /** Raw `k=v` pieces, already encoded (or deliberately not). */
  query: string[];
  headers: [string, string][];
  body?: Buffer;
  json: boolean;
  version: string;
  /** Add Content-Length for the body unless a Content-Length or Transfer-Encoding header is there. */
  autoLength: boolean;
}

interface Seeds { port: number; pageToken: string; opName: string; jobRun: string; uploadIds: string[]; runExecution: string }

function req(method: string, path: string, query: Record<string, string> = {}, body?: unknown, contentType = 'application/json'): Req {
  const r: Req = {
    method, path, query: Object.entries(query).map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`),
    headers: [['Host', 'HOST'], ['User-Agent', 'gantry-fuzz'], ['Connection', 'close']], json: false, version: 'HTTP/1.1', autoLength: true,
  };
  if (body !== undefined) {
    r.json = !Buffer.isBuffer(body);
    r.body = Buffer.isBuffer(body) ? body : Buffer.from(JSON.stringify(body));
    r.headers.push(['Content-Type', contentType]);
  }
  return r;
}

const hasHeader = (r: Req, name: string) => r.headers.some(h => h[0].toLowerCase() === name.toLowerCase());
const setHeader = (r: Req, name: string, value: string) => { removeHeader(r, name); r.headers.push([name, value]); };
const removeHeader = (r: Req, name: string) => { r.headers = r.headers.filter(h => h[0].toLowerCase() !== name.toLowerCase()); };

function target(r: Req): string { return r.path + (r.query.length ? '?' + r.query.join('&') : ''); }

function render(r: Req, port: number, connection?: 'keep-alive'): Buffer {
  const lines = [`${r.method} ${target(r)}${r.version ? ' ' + r.version : ''}`];
  for (const [k, v] of r.headers) {
    if (connection && k.toLowerCase() === 'connection') continue;
    lines.push(k === '' && v.startsWith('\0RAW') ? v.slice(4) : `${k}: ${v === 'HOST' ? `127.0.0.1:${port}` : v}`);
  }
  if (connection) lines.push(`Connection: ${connection}`);
  const body = r.body ?? Buffer.alloc(0);
  if (r.autoLength && !hasHeader(r, 'content-length') && !hasHeader(r, 'transfer-encoding') && (body.length || ['POST', 'PUT', 'PATCH'].includes(r.method))) {
    lines.push(`Content-Length: ${body.length}`);
  }
  return Buffer.concat([Buffer.from(lines.join('\r\n') + '\r\n\r\n'), body]);
}

// ---------------------------------------------------------------------------------------------------
// The corpus: valid requests, most against resources seeded in before().

interface Entry { name: string; make: (r: Rng, id: string, s: Seeds) => Req }

const FILTERS = [
  `name="${LOC}/targets/t1"`, 'labels.a="b"', 'targetId:t*', 'createTime>"2020-01-01T00:00:00Z"', 'requireApproval=false',
  'NOT description="x" AND -targetId=t2', '(targetId=t1 OR targetId=t2)', 'description:*', 'uid!="x"', 'labels:a',
];
const ORDERS = ['name desc', 'createTime', 'targetId desc, name', 'updateTime desc', 'NAME'];

const RUN_NS = '/apis/run.googleapis.com/v1/namespaces/fz';
const KN_NS = '/apis/serving.knative.dev/v1/namespaces/fz';
const RUN_LOC = 'projects/fz/locations/us-central1';
const AH = `${LOC}/backends/fzb`;

const CORPUS: Entry[] = [
  { name: 'targets.list', make: r => req('GET', `/v1/${LOC}/targets`, { pageSize: String(r.range(1, 5)), ...(r.chance(0.5) ? { filter: r.pick(FILTERS) } : {}), ...(r.chance(0.3) ? { orderBy: r.pick(ORDERS) } : {}) }) },
  { name: 'targets.get', make: () => req('GET', `/v1/${LOC}/targets/t1`) },
  { name: 'targets.create', make: (r, id) => req('POST', `/v1/${LOC}/targets`, { targetId: id }, { description: 'fuzz', run: { location: LOC }, labels: { a: 'b' }, requireApproval: r.chance(0.5), ...(r.chance(0.3) ? { executionConfigs: [{ usages: ['RENDER', 'DEPLOY'], executionTimeout: '3600s' }] } : {}), ...(r.chance(0.3) ? { annotations: { k: 'v' }, deployParameters: { p: 'v' } } : {}) }) },
  { name: 'targets.patch', make: () => req('PATCH', `/v1/${LOC}/targets/t1`, { updateMask: 'description,labels' }, { description: 'patched', labels: { a: 'b' } }) },
  { name: 'targets.delete', make: (r, id) => req('DELETE', `/v1/${LOC}/targets/${id}`, { allowMissing: 'true', ...(r.chance(0.3) ? { validateOnly: 'true' } : {}) }) },
  { name: 'targets.getIamPolicy', make: () => req('GET', `/v1/${LOC}/targets/t1:getIamPolicy`, { 'options.requestedPolicyVersion': '3' }) },
  { name: 'pipelines.list', make: r => req('GET', `/v1/${LOC}/deliveryPipelines`, { pageSize: '3', ...(r.chance(0.5) ? { filter: r.pick(['serialPipeline.stages.targetId="t1"', 'suspended=false', 'condition.pipelineReadyCondition.status=true', 'name:*app*']) } : {}) }) },
  { name: 'pipelines.get', make: () => req('GET', `/v1/${DP}`) },
  { name: 'pipelines.create', make: (r, id) => req('POST', `/v1/${LOC}/deliveryPipelines`, { deliveryPipelineId: id, ...(r.chance(0.2) ? { validateOnly: 'true' } : {}) }, { description: 'fuzz', serialPipeline: { stages: [{ targetId: 't1', profiles: ['p'] }, { targetId: 't2', strategy: { standard: { verify: r.chance(0.5) } } }] } }) },
  { name: 'pipelines.patch', make: () => req('PATCH', `/v1/${DP}`, { updateMask: 'description' }, { description: 'patched' }) },
  { name: 'pipelines.delete', make: (_r, id) => req('DELETE', `/v1/${LOC}/deliveryPipelines/${id}`, { force: 'true', allowMissing: 'true' }) },
  { name: 'pipelines.rollbackTarget', make: (_r, id) => req('POST', `/v1/${DP}:rollbackTarget`, {}, { targetId: 't1', rolloutId: `rb-${id}`, validateOnly: true }) },
  { name: 'pipelines.setIamPolicy', make: () => req('POST', `/v1/${DP}:setIamPolicy`, {}, { policy: { bindings: [{ role: 'roles/viewer', members: ['user:a@example.com'] }] } }) },
  { name: 'pipelines.testIamPermissions', make: () => req('POST', `/v1/${DP}:testIamPermissions`, {}, { permissions: ['clouddeploy.deliveryPipelines.get'] }) },
  { name: 'customTargetTypes.create', make: (_r, id) => req('POST', `/v1/${LOC}/customTargetTypes`, { customTargetTypeId: id }, { customActions: { deployAction: 'deploy', renderAction: 'render' } }) },
  { name: 'customTargetTypes.list', make: () => req('GET', `/v1/${LOC}/customTargetTypes`) },
  { name: 'releases.list', make: r => req('GET', `/v1/${DP}/releases`, r.chance(0.5) ? { filter: r.pick(['renderState=SUCCEEDED', 'abandoned=false', 'targetSnapshots.name:*t1']), orderBy: 'createTime desc' } : {}) },
  { name: 'releases.get', make: () => req('GET', `/v1/${REL}`) },
  { name: 'releases.create', make: (r, id) => req('POST', `/v1/${DP}/releases`, { releaseId: id }, r.chance(0.5) ? {} : { description: 'fuzz', annotations: { 'gantry.dev/outcomes': '*/*=succeed' }, buildArtifacts: [{ image: 'app', tag: 'app:1' }] }) },
  { name: 'releases.abandon', make: () => req('POST', `/v1/${DP}/releases/r2:abandon`, {}, {}) },
  { name: 'rollouts.list', make: r => req('GET', `/v1/${DP}/releases/-/rollouts`, r.chance(0.5) ? { filter: r.pick(['state=SUCCEEDED', 'targetId=t1', 'approvalState!=APPROVED', 'deployEndTime>"2000-01-01T00:00:00Z"']), orderBy: r.pick(['DeployEndTime desc', 'createTime']) } : {}) },
  { name: 'rollouts.get', make: () => req('GET', `/v1/${REL}/rollouts/ro1`) },
  { name: 'rollouts.create', make: (r, id) => req('POST', `/v1/${REL}/rollouts`, { rolloutId: id, ...(r.chance(0.3) ? { startingPhaseId: 'stable' } : {}), ...(r.chance(0.3) ? { requestId: '5b6c4a52-6f1a-4f3e-9a4d-1f2e3d4c5b6a' } : {}) }, { targetId: r.pick(['t1', 't2']) }) },
  { name: 'rollouts.approve', make: r => req('POST', `/v1/${REL}/rollouts/ro2:approve`, {}, { approved: r.chance(0.5) }) },
  { name: 'rollouts.advance', make: () => req('POST', `/v1/${REL}/rollouts/ro1:advance`, {}, { phaseId: 'stable' }) },
  { name: 'rollouts.cancel', make: () => req('POST', `/v1/${REL}/rollouts/ro3:cancel`, {}, {}) },
  { name: 'rollouts.retryJob', make: () => req('POST', `/v1/${REL}/rollouts/ro1:retryJob`, {}, { phaseId: 'stable', jobId: 'deploy' }) },
  { name: 'rollouts.ignoreJob', make: () => req('POST', `/v1/${REL}/rollouts/ro1:ignoreJob`, {}, { phaseId: 'stable', jobId: 'verify' }) },
  { name: 'jobRuns.list', make: () => req('GET', `/v1/${REL}/rollouts/ro1/jobRuns`, { pageSize: '2' }) },
  { name: 'jobRuns.get', make: (_r, _id, s) => req('GET', `/v1/${s.jobRun}`) },
  { name: 'jobRuns.terminate', make: (_r, _id, s) => req('POST', `/v1/${s.jobRun}:terminate`, {}, {}) },
  { name: 'config.get', make: () => req('GET', `/v1/${LOC}/config`) },
  { name: 'locations.list', make: () => req('GET', '/v1/projects/p/locations') },
  { name: 'operations.list', make: () => req('GET', `/v1/${LOC}/operations`, { pageSize: '5' }) },
  { name: 'operations.get', make: (_r, _id, s) => req('GET', `/v1/${s.opName}`) },
  { name: 'operations.wait', make: (_r, _id, s) => req('POST', `/v1/${s.opName}:wait`, {}, { timeout: '0.05s' }) },
  { name: 'operations.cancel', make: (_r, _id, s) => req('POST', `/v1/${s.opName}:cancel`, {}, {}) },
  { name: 'storage.buckets.list', make: () => req('GET', '/storage/v1/b', { project: 'p' }) },
  { name: 'storage.buckets.get', make: () => req('GET', '/storage/v1/b/bkt') },
  { name: 'storage.buckets.insert', make: (_r, id) => req('POST', '/storage/v1/b', { project: 'p' }, { name: `b${id}` }) },
  { name: 'storage.objects.list', make: () => req('GET', '/storage/v1/b/bkt/o', { prefix: 'o' }) },
  { name: 'storage.objects.get', make: r => req('GET', r.pick(['/storage/v1/b/bkt/o/obj.txt', '/storage/v1/b/bkt/o/dir%2Fnested.txt'])) },
  { name: 'storage.objects.media', make: r => req('GET', r.pick(['/storage/v1/b/bkt/o/obj.txt', '/download/storage/v1/b/bkt/o/obj.txt']), { alt: 'media' }) },
  { name: 'storage.objects.delete', make: r => req('DELETE', `/storage/v1/b/bkt/o/del-${r.int(DELETABLE)}.txt`) },
  { name: 'storage.upload.media', make: (r, id) => req('POST', '/upload/storage/v1/b/bkt/o', { uploadType: 'media', name: `${id}.txt` }, r.bytes(r.range(0, 64)), 'application/octet-stream') },
  { name: 'storage.upload.multipart', make: (_r, id) => multipart(id) },
  { name: 'storage.upload.resumableInit', make: (_r, id) => req('POST', '/upload/storage/v1/b/bkt/o', { uploadType: 'resumable' }, Buffer.from(JSON.stringify({ name: `${id}.bin`, contentType: 'text/plain' })), 'application/json; charset=UTF-8') },
  { name: 'storage.upload.resumablePut', make: (r, _id, s) => req('PUT', '/upload/storage/v1/b/bkt/o', { uploadType: 'resumable', upload_id: r.pick(s.uploadIds) }, Buffer.from('resumable bytes'), 'text/plain') },
  { name: 'gantry.healthz', make: () => req('GET', '/gantry/v1/healthz') },
  { name: 'gantry.clock', make: () => req('GET', '/gantry/v1/clock') },
  { name: 'gantry.clockAdvance', make: () => req('POST', '/gantry/v1/clock:advance', {}, { duration: '1s' }) },
  { name: 'gantry.outcomes.add', make: () => req('POST', '/gantry/v1/outcomes', {}, { scope: `${LOC}/deliveryPipelines/nothing`, rules: '*/verify=fail@1' }) },
  { name: 'gantry.outcomes.list', make: () => req('GET', '/gantry/v1/outcomes') },
  // Cloud Run jobs: v1 (gcloud's) and v2.
  { name: 'run.v1.jobs.list', make: r => req('GET', `${RUN_NS}/jobs`, { ...(r.chance(0.5) ? { labelSelector: r.pick(['team=a', 'team in (a,b)', '!team', 'run.googleapis.com/job = rj1']) } : {}), ...(r.chance(0.3) ? { limit: '1' } : {}) }) },
  { name: 'run.v1.jobs.get', make: () => req('GET', `${RUN_NS}/jobs/rj1`) },
  { name: 'run.v1.jobs.create', make: (r, id) => req('POST', `${RUN_NS}/jobs`, r.chance(0.2) ? { dryRun: 'all' } : {}, runJob(`j${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 40), r.chance(0.5))) },
  { name: 'run.v1.jobs.replace', make: r => req('PUT', `${RUN_NS}/jobs/rj1`, {}, runJob('rj1', r.chance(0.5))) },
  { name: 'run.v1.jobs.delete', make: (_r, id) => req('DELETE', `${RUN_NS}/jobs/j${id}`.toLowerCase()) },
  { name: 'run.v1.jobs.run', make: r => req('POST', `${RUN_NS}/jobs/rj1:run`, {}, r.chance(0.5) ? {} : { overrides: { taskCount: r.range(1, 3), timeoutSeconds: 30, containerOverrides: [{ args: ['x'], env: [{ name: 'A', value: 'b' }] }] } }) },
  { name: 'run.v1.executions.list', make: () => req('GET', `${RUN_NS}/executions`, { labelSelector: 'run.googleapis.com/job=rj1', limit: '2' }) },
  { name: 'run.v1.executions.get', make: (_r, _id, s) => req('GET', `${RUN_NS}/executions/${s.runExecution}`) },
  { name: 'run.v1.executions.cancel', make: (_r, _id, s) => req('POST', `${RUN_NS}/executions/${s.runExecution}:cancel`, {}, {}) },
  { name: 'run.v1.tasks.list', make: (_r, _id, s) => req('GET', `${RUN_NS}/tasks`, { labelSelector: `run.googleapis.com/execution=${s.runExecution}` }) },
  { name: 'run.v1.tasks.get', make: (_r, _id, s) => req('GET', `${RUN_NS}/tasks/${s.runExecution}-task0`) },
  { name: 'run.v2.jobs.list', make: () => req('GET', `/v2/${RUN_LOC}/jobs`, { pageSize: '2' }) },
  { name: 'run.v2.jobs.get', make: () => req('GET', `/v2/${RUN_LOC}/jobs/rj1`) },
  { name: 'run.v2.jobs.create', make: (r, id) => req('POST', `/v2/${RUN_LOC}/jobs`, { jobId: `v${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 40), ...(r.chance(0.3) ? { validateOnly: 'true' } : {}) }, { labels: { a: 'b' }, template: { taskCount: 2, template: { timeout: '60s', maxRetries: 1, containers: [{ image: 'busybox', env: [{ name: 'X', value: 'y' }] }] } } }) },
  { name: 'run.v2.jobs.run', make: () => req('POST', `/v2/${RUN_LOC}/jobs/rj1:run`, {}, { overrides: { taskCount: 1, timeout: '30s' } }) },
  { name: 'run.v2.executions.list', make: () => req('GET', `/v2/${RUN_LOC}/jobs/-/executions`) },
  { name: 'run.v2.tasks.list', make: () => req('GET', `/v2/${RUN_LOC}/jobs/rj1/executions/-/tasks`) },
  { name: 'run.v2.operations.list', make: () => req('GET', `/v2/${RUN_LOC}/operations`) },
  // Firebase App Hosting (v1beta and v1), Developer Connect, and the platform calls firebase-tools makes.
  { name: 'apphosting.backends.list', make: r => req('GET', `/${r.pick(['v1beta', 'v1'])}/${r.pick([LOC, 'projects/p/locations/-'])}/backends`, { ...(r.chance(0.5) ? { filter: r.pick(['labels.team=web', 'servingLocality=GLOBAL_ACCESS', 'uri:*hosted*']) } : {}), ...(r.chance(0.3) ? { orderBy: r.pick(['name', 'createTime desc']) } : {}), ...(r.chance(0.2) ? { showDeleted: 'true' } : {}) }) },
  { name: 'apphosting.backends.get', make: () => req('GET', `/v1beta/${AH}`) },
  { name: 'apphosting.backends.create', make: (r, id) => req('POST', `/v1beta/${LOC}/backends`, { backendId: `be${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 28), ...(r.chance(0.2) ? { validateOnly: 'true' } : {}) }, { servingLocality: r.pick(['GLOBAL_ACCESS', 'REGIONAL_STRICT']), serviceAccount: 'runner@p.iam.gserviceaccount.com', labels: { team: 'web' }, ...(r.chance(0.3) ? { codebase: { repository: `${LOC}/connections/c/gitRepositoryLinks/l`, rootDirectory: 'app' } } : {}) }) },
  { name: 'apphosting.backends.patch', make: () => req('PATCH', `/v1beta/${AH}`, { updateMask: 'displayName,labels' }, { displayName: 'Fuzzed', labels: { team: 'web' } }) },
  { name: 'apphosting.backends.delete', make: (r, id) => req('DELETE', `/v1beta/${LOC}/backends/be${id}`.toLowerCase(), r.chance(0.5) ? { force: 'true' } : {}) },
  { name: 'apphosting.builds.create', make: (r, id) => req('POST', `/v1beta/${AH}/builds`, { buildId: `b${id}`.toLowerCase().replace(/[^a-z0-9-]/g, ''), ...(r.chance(0.2) ? { requestId: '2b6c4a52-6f1a-4f3e-9a4d-1f2e3d4c5b6a' } : {}) }, { source: r.chance(0.8) ? { container: { image: 'us-docker.pkg.dev/p/app/web:1' } } : { archive: { userStorageUri: 'gs://bkt/obj.txt', rootDirectory: 'app' } }, labels: { a: 'b' }, ...(r.chance(0.4) ? { config: { runConfig: { cpu: r.pick([1, 2, 0.5, 4]), memoryMib: r.pick([512, 2048, 8192]), concurrency: r.pick([1, 80]) } } } : {}) }) },
  { name: 'apphosting.builds.list', make: r => req('GET', `/v1beta/${AH}/builds`, { pageSize: '2', ...(r.chance(0.5) ? { filter: r.pick(['state=READY', 'state!=FAILED AND labels.a=b', 'createTime>"2000-01-01T00:00:00Z"']) } : {}) }) },
  { name: 'apphosting.builds.get', make: () => req('GET', `/v1/${AH}/builds/fb1`) },
  { name: 'apphosting.builds.delete', make: (_r, id) => req('DELETE', `/v1beta/${AH}/builds/b${id}`.toLowerCase()) },
  { name: 'apphosting.rollouts.create', make: (r, id) => req('POST', `/v1beta/${AH}/rollouts`, { rolloutId: `r${id}`.toLowerCase().replace(/[^a-z0-9-]/g, ''), ...(r.chance(0.3) ? { validateOnly: 'true' } : {}) }, { build: `${AH}/builds/${r.pick(['fb1', 'ghost'])}` }) },
  { name: 'apphosting.rollouts.list', make: () => req('GET', `/v1beta/projects/p/locations/-/backends/fzb/rollouts`, { orderBy: 'createTime desc' }) },
  { name: 'apphosting.traffic.get', make: () => req('GET', `/v1beta/${AH}/traffic`) },
  { name: 'apphosting.traffic.patch', make: r => req('PATCH', `/v1beta/${AH}/traffic`, { updateMask: r.pick(['target', 'rolloutPolicy']) }, r.chance(0.5) ? { target: { splits: [{ build: `${AH}/builds/fb1`, percent: 100 }] } } : { rolloutPolicy: { codebaseBranch: 'main', disabled: r.chance(0.5) } }) },
  { name: 'apphosting.domains.list', make: () => req('GET', `/v1beta/${AH}/domains`) },
  { name: 'apphosting.operations.list', make: () => req('GET', `/v1beta/${LOC}/operations`, { pageSize: '3' }) },
  { name: 'apphosting.supportedRuntimes', make: () => req('GET', `/v1beta/${LOC}/supportedRuntimes`) },
  { name: 'devconnect.connections.create', make: (_r, id) => req('POST', `/v1/${LOC}/connections`, { connectionId: `c${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '') }, { githubConfig: { githubApp: 'FIREBASE' } }) },
  { name: 'devconnect.links.create', make: (r, id) => req('POST', `/v1/${LOC}/connections/c/gitRepositoryLinks`, { gitRepositoryLinkId: `l${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '') }, { cloneUri: r.pick(['/nonexistent/repo', 'https://github.com/acme/app.git', 'ext::sh -c id', '--upload-pack=x']) }) },
  { name: 'devconnect.links.list', make: () => req('GET', `/v1/${LOC}/connections/c/gitRepositoryLinks`) },
  { name: 'devconnect.links.fetchGitRefs', make: () => req('GET', `/v1/${LOC}/connections/c/gitRepositoryLinks/l:fetchGitRefs`, { refType: 'BRANCH' }) },
  { name: 'platform.services.get', make: () => req('GET', '/v1/projects/p/services/firebaseapphosting.googleapis.com') },
  { name: 'platform.projects.get', make: () => req('GET', '/v1/projects/p') },
  { name: 'platform.projects.setIamPolicy', make: () => req('POST', '/v1/projects/p:setIamPolicy', {}, { policy: { bindings: [{ role: 'roles/viewer', members: ['user:a@example.com'] }] } }) },
  { name: 'platform.serviceAccounts.create', make: (_r, id) => req('POST', '/v1/projects/p/serviceAccounts', {}, { accountId: `sa-${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 30), serviceAccount: { displayName: 'x' } }) },
  { name: 'platform.webApps.create', make: () => req('POST', '/v1beta1/projects/p/webApps', {}, { displayName: 'web' }) },
  { name: 'github.branches.get', make: () => req('GET', '/repos/acme/app/branches/main') },
  { name: 'storage.pathStyleUpload', make: (r, id) => req('PUT', `/bkt/up-${id}.zip`, {}, r.bytes(r.range(0, 64)), 'application/zip') },
  // Automations and deploy policies; then methods and APIs Gantry does not serve (501 UNIMPLEMENTED): mutations of
  // them must not make any other 5xx.
  { name: 'deployPolicies.list', make: () => req('GET', `/v1/${LOC}/deployPolicies`, { pageSize: '5' }) },
  { name: 'automations.create', make: (_r, id) => req('POST', `/v1/${DP}/automations`, { automationId: id }, { serviceAccount: 'sa@p.iam.gserviceaccount.com' }) },
  { name: 'run.v2.services.list', make: () => req('GET', `/v2/${LOC}/services`) },
  // Secret Manager, IAM on secrets and jobs, Cloud Build's read of the builds Gantry names, tool versions.
  { name: 'secrets.create', make: (r, id) => req('POST', '/v1/projects/p/secrets', { secretId: `s${id}`.replace(/[^A-Za-z0-9_-]/g, '').slice(0, 60) }, { replication: r.chance(0.7) ? { automatic: {} } : { userManaged: { replicas: [{ location: 'us-central1' }] } }, labels: { a: 'b' } }) },
  { name: 'secrets.get', make: () => req('GET', '/v1/projects/p/secrets/s1') },
  { name: 'secrets.addVersion', make: r => req('POST', '/v1/projects/p/secrets/s1:addVersion', {}, { payload: { data: Buffer.from(r.bytes(r.range(0, 32))).toString('base64') } }) },
  { name: 'secrets.access', make: r => req('GET', `/v1/projects/p/secrets/s1/versions/${r.pick(['latest', '1', '0', '-1', '99'])}:access`) },
  { name: 'secrets.getIamPolicy', make: r => req('GET', '/v1/projects/p/secrets/s1:getIamPolicy', { 'options.requestedPolicyVersion': r.pick(['1', '3', '0', '4']) }) },
  { name: 'secrets.setIamPolicy', make: r => req('POST', '/v1/projects/p/secrets/s1:setIamPolicy', {}, { policy: { bindings: [{ role: 'roles/secretmanager.secretAccessor', members: [r.pick(['user:a@example.com', 'serviceAccount:x@p.iam.gserviceaccount.com', 'allUsers'])] }], ...(r.chance(0.3) ? { etag: 'BwX=' } : {}) }, ...(r.chance(0.3) ? { updateMask: 'bindings,etag' } : {}) }) },
  { name: 'secrets.testIamPermissions', make: () => req('POST', '/v1/projects/p/secrets/s1:testIamPermissions', {}, { permissions: ['secretmanager.versions.access', 'secretmanager.secrets.get'] }) },
  { name: 'run.jobs.getIamPolicy', make: r => req('GET', r.pick([`/v1/${RUN_LOC}/jobs/rj1:getIamPolicy`, `/v2/${RUN_LOC}/jobs/rj1:getIamPolicy`])) },
  { name: 'run.jobs.setIamPolicy', make: r => req('POST', r.pick([`/v1/${RUN_LOC}/jobs/rj1:setIamPolicy`, `/v2/${RUN_LOC}/jobs/rj1:setIamPolicy`]), {}, { policy: { bindings: [{ role: 'roles/run.invoker', members: ['user:a@example.com'] }] } }) },
  { name: 'cloudbuild.builds.list', make: r => req('GET', r.pick(['/v1/projects/p/locations/us-central1/builds', '/v1/projects/p/builds']), { pageSize: String(r.range(1, 5)) }) },
  { name: 'cloudbuild.builds.get', make: r => req('GET', r.pick(['/v1/projects/p/locations/us-central1/builds/00000000-0000-4000-8000-000000000000', '/v1/projects/p/builds/nope'])) },
  // Cloud Run services (v1 Knative and v2), and requests to their hosts (answered by the service, never the API).
  { name: 'run.v1.services.create', make: (r, id) => req('POST', `${KN_NS}/services`, r.chance(0.3) ? { dryRun: 'all' } : {}, runService(`s${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 40), r)) },
  { name: 'run.v1.services.replace', make: r => req('PUT', `${KN_NS}/services/rs1`, {}, runService('rs1', r)) },
  { name: 'run.v1.services.list', make: r => req('GET', `${KN_NS}/services`, { limit: String(r.range(1, 5)), ...(r.chance(0.5) ? { labelSelector: r.pick(['team=a', 'team in (a,b)', 'team!=b', '!team', 'team']) } : {}) }) },
  { name: 'run.v1.revisions.list', make: r => req('GET', `${KN_NS}/revisions`, r.chance(0.5) ? { labelSelector: 'serving.knative.dev/service=rs1' } : {}) },
  { name: 'run.v1.routes.get', make: r => req('GET', `${KN_NS}/${r.pick(['routes', 'configurations'])}/rs1`) },
  { name: 'run.v2.services.create', make: (r, id) => req('POST', `/v2/${RUN_LOC}/services`, { serviceId: `v${id}`.toLowerCase().replace(/[^a-z0-9-]/g, '').slice(0, 40) }, { template: { containers: [{ image: 'us-docker.pkg.dev/p/app:1', ports: [{ containerPort: r.pick([8080, 0, 65536, 80]) }], env: [{ name: r.pick(['A', 'PORT', 'K_SERVICE', '1x']), value: 'v' }] }], ...(r.chance(0.3) ? { revision: r.pick(['rs1-custom', 'Bad_Name', 'x']) } : {}) }, ...(r.chance(0.5) ? { traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: r.pick([100, 50, 101, -1]) }] } : {}) }) },
  { name: 'run.v2.services.patch', make: r => req('PATCH', `/v2/${RUN_LOC}/services/rs1`, r.chance(0.5) ? { updateMask: r.pick(['traffic', 'template', 'labels', 'bogus']) } : { allowMissing: 'true' }, { labels: { team: 'a' }, traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_REVISION', revision: r.pick(['rs1-00001-abc', 'nope']), percent: 100, tag: r.pick(['blue', 'Bad_Tag', '']) }] }) },
  { name: 'run.v2.revisions.list', make: () => req('GET', `/v2/${RUN_LOC}/services/rs1/revisions`, { pageSize: '2' }) },
  { name: 'run.app.request', make: r => { const q = req(r.pick(['GET', 'POST', 'HEAD', 'PUT']), r.pick(['/', '/x/y?z=1', '/..%2f..%2fetc/passwd', `/${'a'.repeat(300)}`]), {}, r.chance(0.3) ? { a: 1 } : undefined); setHeader(q, 'Host', r.pick([RS1_HOST, `blue---${RS1_HOST}`, `nope-${RUN_NUMBER}.us-central1.run.app`, `${RS1_HOST}.localhost`])); return q; } },
  { name: 'releases.createWithTools', make: (r, id) => req('POST', `/v1/${DP}/releases`, { releaseId: `t${id}` }, { toolVersions: { kubectl: r.pick(['1.33', 'latest', '1.2.3', 'x']), skaffold: r.pick(['2.16', 'latest', '']) } }) },
];

const RUN_NUMBER = projectNumber('fz');
const RS1_HOST = `rs1-${RUN_NUMBER}.us-central1.run.app`;

/** A Knative Service as gcloud sends it: a simulated revision, sometimes a traffic split or tag to check. */
function runService(name: string, r?: Rng): unknown {
  const traffic = r?.chance(0.4) ? [{ latestRevision: true, percent: r.pick([100, 60, 0]) }, ...(r.chance(0.5) ? [{ revisionName: r.pick(['rs1-00001-abc', 'nope']), percent: 40, tag: r.pick(['blue', 'UPPER', '']) }] : [])] : undefined;
  return {
    apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name, labels: { team: 'a' }, annotations: { 'gantry.dev/executor': 'simulated' } },
    // Sometimes naming an App Hosting build, as only App Hosting should: a plain client's is ignored or fails readiness.
    spec: { template: { metadata: { annotations: { 'autoscaling.knative.dev/maxScale': String(r?.range(1, 5) ?? 3),
      ...(r?.chance(0.2) ? { 'gantry.dev/apphosting-build': r.pick([`projects/fz/locations/us-central1/backends/${name}/builds/nope`, '../../etc/passwd', 'x'.repeat(2000)]) } : {}) } }, spec: { containers: [{ image: 'us-docker.pkg.dev/p/app:1', env: [{ name: 'A', value: 'b' }] }] } }, ...(traffic ? { traffic } : {}) },
  };
}

function runJob(name: string, secret: boolean): unknown {
  return {
    apiVersion: 'run.googleapis.com/v1', kind: 'Job', metadata: { name, labels: { team: 'a' }, annotations: { 'gantry.dev/outcomes': '0=fail@1' } },
    spec: { template: { spec: { taskCount: 2, parallelism: 1, template: { spec: { maxRetries: 1, timeoutSeconds: '60', containers: [{ image: 'busybox', command: ['true'],
      env: [{ name: 'A', value: 'b' }, ...(secret ? [{ name: 'S', valueFrom: { secretKeyRef: { name: 'nope', key: 'latest' } } }] : [])] }] } } } } },
  };
}

function multipart(id: string): Req {
  const b = 'fuzz_boundary';
  const body = `--${b}\r\nContent-Type: application/json; charset=UTF-8\r\n\r\n${JSON.stringify({ name: `${id}.txt`, metadata: { k: 'v' } })}\r\n--${b}\r\nContent-Type: text/plain\r\n\r\nhello\r\n--${b}--\r\n`;
  return req('POST', '/upload/storage/v1/b/bkt/o', { uploadType: 'multipart' }, Buffer.from(body), `multipart/related; boundary=${b}`);
}

// ---------------------------------------------------------------------------------------------------
// Mutators. Each edits the request and returns a description; `reject` marks requests Node's HTTP
// parser must refuse, for which a close without an answer is acceptable.

interface Mutated { desc: string; reject?: boolean }
type Mutator = (r: Rng, q: Req, s: Seeds) => Mutated;

const WEIRD_VALUES: unknown[] = [null, true, false, 0, -1, 1.5, 1e308, -1e308, 2 ** 53 + 1, '', 'x', 'A'.repeat(300), [], [null], [[]], {}, { a: {} }, '2020-13-45T99:99:99Z', '-5s', 'NaN', '\u0000', '🙂'];
const ODD_KEYS = ['bogus', '__proto__', 'constructor', 'prototype', 'toString', 'hasOwnProperty', 'name.with.dots', '', '🙂', 'a'.repeat(1000), '@type', 'NAME', 'create_time', 'uid', 'etag'];

/** The body as JSON to edit, or {} when it is not JSON or too deep for JSON.stringify to write back. */
function jsonOf(q: Req): unknown {
  const text = (q.body ?? Buffer.from('{}')).toString();
  let depth = 0;
  for (let i = 0, inStr = false; i < text.length; i++) {
    const c = text[i];
    if (inStr) { if (c === '\\') i++; else if (c === '"') inStr = false; }
    else if (c === '"') inStr = true;
    else if (c === '{' || c === '[') { if (++depth > 500) return {}; }
    else if (c === '}' || c === ']') depth--;
  }
  try { return JSON.parse(text); } catch { return {}; }
}
/** Every (container, key) inside a JSON value, down to a depth (deeply nested bodies are a mutation of their own). */
function slots(v: unknown, out: [Record<string, unknown> | unknown[], string | number][] = [], depth = 0): typeof out {
  if (depth > 40 || out.length > 5000) return out;
  if (Array.isArray(v)) v.forEach((x, i) => { out.push([v, i]); slots(x, out, depth + 1); });
  else if (v && typeof v === 'object') for (const [k, x] of Object.entries(v)) { out.push([v as Record<string, unknown>, k]); slots(x, out, depth + 1); }
  return out;
}
function setOwn(o: Record<string, unknown>, k: string, v: unknown) { Object.defineProperty(o, k, { value: v, enumerable: true, writable: true, configurable: true }); }
function setJson(q: Req, v: unknown) { try { q.body = Buffer.from(JSON.stringify(v)); } catch { /* too deep to re-serialise: keep the body */ } }
function ensureBody(q: Req) { if (!q.body) { q.body = Buffer.from('{}'); q.json = true; setHeader(q, 'Content-Type', 'application/json'); } }

function nest(n: number, kind: 'array' | 'object' | 'mixed'): string {
  if (kind === 'array') return '['.repeat(n) + '1' + ']'.repeat(n);
  if (kind === 'object') return '{"a":'.repeat(n) + '1' + '}'.repeat(n);
  return '[{"a":'.repeat(n >> 1) + '1' + '}]'.repeat(n >> 1);
}

const DURATIONS = ['1e400s', '-1s', '999999999999999s', 'NaNs', '1.5.5s', '0s', '0.000000001s', 's', '1', '1m', '3600s ', ' 1s', '1s1s', '315576000001s', '-315576000001s', '0x10s', '١s'];
const TIMESTAMPS = ['2020-13-01T00:00:00Z', '0000-01-01T00:00:00Z', '9999-12-31T23:59:59.999999999Z', '10000-01-01T00:00:00Z', '2020-01-01T00:00:00', '2020-01-01T00:00:60Z', '2020-01-01T00:00:00+25:00', 'yesterday', '', '1e10'];
const RULES = ['*/*=fail:NOPE', '*/*=succeed@-1', '*/*=succeed@99999999999999999999', '*/*=succeed~1e400s', '*/*=succeed~-5s', '=', ';;;;', '*/*=fail:EXECUTION_FAILED@0', 'a/b/c=succeed', '*/*=skip~0s', `${'x/'.repeat(500)}*=succeed`, '*/*=fail:' + 'A'.repeat(5000), '\u0000/*=succeed', Array.from({ length: 2000 }, () => '*/*=succeed').join(';')];
const SEMANTIC: [string, unknown[]][] = [
  ['duration', DURATIONS], ['timeout', DURATIONS], ['executionConfigs', DURATIONS.map(d => [{ usages: ['RENDER', 'DEPLOY'], executionTimeout: d }])],
  ['to', TIMESTAMPS], ['createTime', TIMESTAMPS], ['rules', RULES], ['scope', ['', '-', 'projects/p', 'projects/*', `${LOC}/deliveryPipelines/app/releases/r1/rollouts/ro1/x/y/z`, 'gantry/outcomes/x', 'a'.repeat(5000)]],
  ['annotations', [{ 'gantry.dev/outcomes': RULES[0] }, { 'gantry.dev/outcomes': RULES[5] }, { 'gantry.dev/render-failure': 'NOPE' }, { 'gantry.dev/render-failure': 't1=EXECUTION_FAILED,=,x' }, { 'gantry.dev/render-failure': '' }, { '': 'x' }, { ['a'.repeat(300)]: 'v' }]],
  ['targetId', ['', '-', 'T1', 't1 ', 'a'.repeat(64), 't3', 'nope', '../t1', 'projects/p/locations/us-central1/targets/t1']],
  ['phaseId', ['', 'stable', 'canary-0', 'canary-100', 'canary--1', 'a'.repeat(1000), 'STABLE']], ['jobId', ['', 'deploy', 'verify', 'predeploy', 'postdeploy', 'render', 'x']],
  ['rolloutId', ['', 'ro1', 'RB', 'a'.repeat(64), '-']], ['approved', [true, false, 'true', 1, null]],
  ['skaffoldConfigUri', ['gs://bkt/obj.txt', 'gs://bkt/../x', 'gs://', 'gs://nope/x', 'http://127.0.0.1:1/x', 'file:///nonexistent', 'file:///etc', 'gs://bkt/' + 'a'.repeat(2000), 'gs://bkt/dir%2Fnested.txt']],
  ['serialPipeline.stages', [[{ targetId: 't1', strategy: { canary: { canaryDeployment: { percentages: [0] } } } }], [{ targetId: 't1', strategy: { canary: { canaryDeployment: { percentages: [100] } } } }], [{ targetId: 't1', strategy: { canary: { canaryDeployment: { percentages: [-1, 50.5] } } } }], [{ targetId: 't1', strategy: { canary: { customCanaryDeployment: { phaseConfigs: [{ phaseId: 'stable', percentage: 100 }, { phaseId: 'stable', percentage: 100 }] } } } }], Array.from({ length: 100 }, (_, i) => ({ targetId: `t${i}` })), [{ targetId: 't1', deployParameters: [{ values: { a: 'b' }, matchTargetLabels: { x: 'y' } }] }]]],
  ['multiTarget', [{ targetIds: [] }, { targetIds: ['t1', 't1'] }, { targetIds: ['t1', 'missing'] }, { targetIds: Array.from({ length: 500 }, (_, i) => `m${i}`) }]],
  ['name', ['', 'x', `${LOC}/targets/t1`, 'projects/other/locations/x/targets/t1', 'a'.repeat(2000)]],
  ['policy', [{ bindings: Array.from({ length: 2000 }, () => ({ role: 'roles/viewer', members: ['user:a@b'] })) }, { bindings: [{ role: '', members: [] }] }, { etag: '!!!' }, { version: 99 }]],
  ['permissions', [[], Array.from({ length: 5000 }, () => 'x'), ['', '*']]],
  ['labels', [{ Bad: 'x' }, { a: 'A'.repeat(64) }, { ['k'.repeat(64)]: 'v' }, { 'é': 'é' }]],
];

const BODY: Record<string, Mutator> = {
  truncate: (r, q) => { ensureBody(q); const n = r.int(q.body!.length); const len = q.body!.length; q.body = q.body!.subarray(0, n); return { desc: `body cut to ${n} of ${len} bytes` }; },
  flipBytes: (r, q) => { ensureBody(q); const b = Buffer.from(q.body!); const k = r.range(1, 4); for (let i = 0; i < k && b.length; i++) b[r.int(b.length)] ^= 1 << r.int(8); q.body = b; return { desc: `${k} bit flips in the body` }; },
  insertBytes: (r, q) => {
    ensureBody(q);
    const ins = r.pick(['\0', '\xff', '"', '{', '}', '[', ']', ',', ':', '\\', '\\u', '\\ud800', '\n', 'null', '1e999', '/*', '\u2028', '\r\n\r\n']);
    const at = r.int(q.body!.length + 1);
    q.body = Buffer.concat([q.body!.subarray(0, at), Buffer.from(ins, 'latin1'), q.body!.subarray(at)]);
    return { desc: `inserted ${JSON.stringify(ins)} at byte ${at}` };
  },
  wrongType: (r, q) => {
    const v = jsonOf(q);
    const all = slots(v);
    const val = r.pick(WEIRD_VALUES);
    if (!all.length || r.chance(0.15)) { setJson(q, val); return { desc: `body replaced by ${JSON.stringify(val)}` }; }
    const [c, k] = r.pick(all);
    (c as Record<string, unknown>)[k as string] = val;
    setJson(q, v);
    return { desc: `field ${String(k)} set to ${JSON.stringify(val).slice(0, 40)}` };
  },
  deepNest: (r, q) => {
    const n = r.weighted([[64, 2], [99, 2], [100, 2], [101, 2], [500, 1], [5000, 1], [100_000, 1], [1_000_000, 0.3]] as const);
    const kind = r.pick(['array', 'object', 'mixed'] as const);
    const field = r.pick(['labels', 'serialPipeline', 'run', 'description', 'bogus', 'metadata']);
    q.body = Buffer.from(r.chance(0.2) ? nest(n, kind) : `{"${field}":${nest(n, kind)}}`);
    q.json = true;
    setHeader(q, 'Content-Type', 'application/json');
    return { desc: `${kind} nesting ${n} deep in ${field}` };
  },
  hugeString: (r, q) => {
    const n = r.weighted([[10_000, 4], [100_000, 3], [300_000, 2], [1_000_000, 1], [4_000_000, 0.3], [11 * 1024 * 1024, 0.05]] as const);
    const v = jsonOf(q) as Record<string, unknown>;
    const o = v && typeof v === 'object' && !Array.isArray(v) ? v : {};
    const asKey = r.chance(0.2);
    if (asKey) setOwn(o, 'k'.repeat(n), 'v'); else o[r.pick(['description', 'name', 'targetId', 'phaseId', 'rules', 'scope', 'bogus'])] = r.pick(['x', 'é', '\u0000', '"']).repeat(n);
    setJson(q, o);
    return { desc: `${n}-character string as a ${asKey ? 'key' : 'value'}` };
  },
  unknownField: (r, q) => {
    const v = jsonOf(q);
    const objs = [v, ...slots(v).map(([c, k]) => (c as Record<string, unknown>)[k as string])].filter(x => x && typeof x === 'object' && !Array.isArray(x)) as Record<string, unknown>[];
    const key = r.pick(ODD_KEYS);
    const val = r.pick(WEIRD_VALUES);
    if (objs.length) setOwn(r.pick(objs), key, val); else return { desc: 'no object to add a field to' };
    setJson(q, v);
    return { desc: `unknown field ${JSON.stringify(key.slice(0, 30))}=${JSON.stringify(val).slice(0, 30)}` };
  },
  nonObject: (r, q) => { const t = r.pick(['null', '[]', '[{}]', '[null]', '"x"', '0', 'true', '""', '-1', '1e999', `[${(q.body ?? Buffer.from('{}')).toString()}]`]); q.body = Buffer.from(t); ensureBody(q); return { desc: `body ${t.slice(0, 40)}` }; },
  invalidUtf8: (r, q) => {
    ensureBody(q);
    const seq = r.pick([[0xc3, 0x28], [0xa0, 0xa1], [0xe2, 0x28, 0xa1], [0xf0, 0x28, 0x8c, 0xbc], [0xf8, 0xa1, 0xa1, 0xa1, 0xa1], [0xfe], [0xff], [0xed, 0xa0, 0x80], [0xc0, 0xaf]]);
    const text = q.body!.toString('latin1');
    const quote = text.indexOf('"', r.int(Math.max(1, text.length)));
    const at = quote >= 0 ? quote + 1 : r.int(q.body!.length + 1);
    q.body = Buffer.concat([q.body!.subarray(0, at), Buffer.from(seq), q.body!.subarray(at)]);
    return { desc: `invalid UTF-8 ${Buffer.from(seq).toString('hex')} at byte ${at}` };
  },
  escapes: (r, q) => {
    const e = r.pick(['\\ud800', '\\udfff', '\\u0000', '\\q', '\\x41', '\\u12', '\\uD83D\\uDE00', '\\/', '\\']);
    q.body = Buffer.from(`{"${r.pick(['description', 'targetId', 'name', 'phaseId', 'rules'])}":"a${e}b"}`);
    ensureBody(q);
    return { desc: `string escape ${e}` };
  },
  duplicateKeys: (r, q) => {
    const v = jsonOf(q);
    const text = JSON.stringify(v);
    const keys = v && typeof v === 'object' && !Array.isArray(v) ? Object.keys(v) : [];
    const k = keys.length ? r.pick(keys) : 'description';
    const dup = JSON.stringify(r.pick(WEIRD_VALUES));
    q.body = Buffer.from(text.length > 2 ? `{"${k}":${dup},${text.slice(1)}` : `{"${k}":${dup},"${k}":"x"}`);
    ensureBody(q);
    return { desc: `duplicate key ${k}` };
  },
  framingText: (r, q) => {
    const b = (q.body ?? Buffer.from('{}')).toString();
    const t = r.pick([`\ufeff${b}`, `${b} ${b}`, `${b}garbage`, '{"a":1,}', '{/*c*/}', '  \n\t ', '', 'a=b&c=d', '<xml/>', '{"a":NaN}', '{"a":Infinity}', '{"a":01}', '{"a":0x10}', '{"a":.5}', "{'a':1}", '{a:1}']);
    q.body = Buffer.from(t);
    ensureBody(q);
    return { desc: `body ${JSON.stringify(t.slice(0, 40))}` };
  },
  manyFields: (r, q) => {
    const n = r.weighted([[65, 4], [1000, 4], [10_000, 2], [100_000, 1]] as const);
    const where = r.pick(['labels', 'annotations', 'root', 'deployParameters']);
    const fields = Array.from({ length: n }, (_, i) => `"k${i}":"v"`).join(',');
    const rest = (q.json && q.body ? q.body.toString() : '{}').trim();
    const inner = rest.startsWith('{') && rest.length > 2 ? rest.slice(1, -1) + ',' : '';
    q.body = Buffer.from(where === 'root' ? `{${inner}${fields}}` : `{${inner}"${where}":{${fields}}}`);
    ensureBody(q);
    return { desc: `${n} fields in ${where}` };
  },
  bigArray: (r, q) => {
    const n = r.weighted([[100, 4], [10_000, 2], [200_000, 0.5]] as const);
    const field = r.pick(['stages', 'executionConfigs', 'percentages', 'permissions', 'buildArtifacts', 'targetIds']);
    const elem = r.pick(['{}', '{"targetId":"t1"}', '1', '"x"', 'null']);
    const arr = `[${Array.from({ length: n }, () => elem).join(',')}]`;
    const json = field === 'stages' ? `{"serialPipeline":{"stages":${arr}}}` : field === 'percentages' ? `{"serialPipeline":{"stages":[{"targetId":"t1","strategy":{"canary":{"canaryDeployment":{"percentages":${arr}}}}}]}}` : `{"${field}":${arr}}`;
    q.body = Buffer.from(json);
    ensureBody(q);
    return { desc: `${n}-element ${field} of ${elem}` };
  },
  // Values that pass the schema but test the handlers' own parsing: durations, timestamps, ids, rules, URIs.
  semantic: (r, q) => {
    const [field, values] = r.pick(SEMANTIC);
    const v = r.pick(values);
    const o = jsonOf(q);
    const obj = o && typeof o === 'object' && !Array.isArray(o) ? o as Record<string, unknown> : {};
    const path = field.split('.');
    let at = obj;
    for (const k of path.slice(0, -1)) { const next = at[k]; at = (at[k] = next && typeof next === 'object' && !Array.isArray(next) ? next : {}) as Record<string, unknown>; }
    at[path[path.length - 1]] = v;
    setJson(q, obj);
    ensureBody(q);
    return { desc: `${field} = ${JSON.stringify(v).slice(0, 40)}` };
  },
  multipart: (r, q) => {
    const b = 'xb';
    const meta = r.pick(['{"name":"m.txt"}', '{"name":5}', '{"name":{}}', '{"name":""}', `{"name":"${'n'.repeat(2000)}"}`, '{"name":"../../etc/passwd"}', '{"name":"a%2Fb"}', '{"name":"\u0000"}', 'not json', '{"metadata":"x","name":"q"}', '{"contentType":5,"name":"c"}', '[]', 'null']);
    const shape = r.pick(['ok', 'noBoundaryParam', 'wrongBoundary', 'onePart', 'noHeaderSep', 'endOnly', 'noClose', 'lf']);
    let body = `--${b}\r\nContent-Type: application/json\r\n\r\n${meta}\r\n--${b}\r\nContent-Type: text/plain\r\n\r\nhi\r\n--${b}--\r\n`;
    let ctype = `multipart/related; boundary=${b}`;
    if (shape === 'noBoundaryParam') ctype = 'multipart/related';
    if (shape === 'wrongBoundary') ctype = 'multipart/related; boundary=other';
    if (shape === 'onePart') body = `--${b}\r\nContent-Type: application/json\r\n\r\n${meta}\r\n--${b}--\r\n`;
    if (shape === 'noHeaderSep') body = `--${b}\r\n${meta}\r\n--${b}\r\nhi\r\n--${b}--\r\n`;
    if (shape === 'endOnly') body = `--${b}--`;
    if (shape === 'noClose') body = body.replace(`--${b}--\r\n`, '');
    if (shape === 'lf') body = body.replace(/\r\n/g, '\n');
    Object.assign(q, { method: 'POST', path: '/upload/storage/v1/b/bkt/o', query: ['uploadType=multipart'], body: Buffer.from(body), json: false });
    setHeader(q, 'Content-Type', ctype);
    return { desc: `multipart ${shape} with metadata ${meta.slice(0, 30)}` };
  },
};

const PCT_BAD = ['%', '%z', '%zz', '%g0', '%0', '%%', '%E0%A4%A', '%C0%AF', '%FF', '%ED%A0%80', '%00', '%u0041', '%2', '%%32%65'];
const ODD_CHARS: [string, boolean][] = [[' ', true], ['\t', true], ['é', false], ['🙂', false], ['"', false], ['<', false], ['>', false], ['{', false], ['}', false], ['|', false], ['\\', false], ['^', false], ['`', false], [';', false], [',', false], ['@', false], ['!', false], ['$', false], ['&', false], ["'", false], ['(', false], ['*', false], ['+', false], ['=', false], ['~', false], ['#frag', false], ['\x00', true], ['\x7f', true], ['\x01', true], ['?', false]];

function segIndex(r: Rng, q: Req): number { const n = q.path.split('/').length; return r.range(1, Math.max(1, n - 1)); }
function editSeg(q: Req, i: number, f: (s: string) => string) { const p = q.path.split('/'); p[i] = f(p[i] ?? ''); q.path = p.join('/'); }

const PATH: Record<string, Mutator> = {
  pctEncode: (r, q) => { const p = q.path; if (p.length < 2) return { desc: 'path too short to encode' }; const i = r.range(1, p.length - 1); q.path = p.slice(0, i) + '%' + p.charCodeAt(i).toString(16).padStart(2, '0')[r.chance(0.5) ? 'toUpperCase' : 'toLowerCase']() + p.slice(i + 1); return { desc: `percent-encoded ${JSON.stringify(p[i])} at ${i}` }; },
  invalidPct: (r, q) => { const e = r.pick(PCT_BAD); const i = r.range(1, q.path.length); q.path = q.path.slice(0, i) + e + q.path.slice(i); return { desc: `${e} inserted at ${i}` }; },
  encodedSlash: (r, q) => {
    const e = r.pick(['%2F', '%2f', '%2F..%2F', '%2F%2F', '%5C']);
    const i = segIndex(r, q);
    if (r.chance(0.5)) editSeg(q, i, s => s + e + 'x'); else { const p = q.path.split('/'); q.path = p.slice(0, i).join('/') + e + p.slice(i).join('/'); }
    return { desc: `${e} in segment ${i}` };
  },
  dotSegments: (r, q) => { const d = r.pick(['..', '.', '%2e%2e', '%2E', '.%2e', '...']); const i = segIndex(r, q); const p = q.path.split('/'); p.splice(i, r.chance(0.5) ? 1 : 0, d); q.path = p.join('/'); return { desc: `dot segment ${d} at ${i}` }; },
  longPath: (r, q) => {
    const n = r.pick([1000, 4000, 4097, 8000, 15000, 20_000]);
    const i = segIndex(r, q);
    if (r.chance(0.5)) editSeg(q, i, () => 'a'.repeat(n)); else q.path += '/x'.repeat(n / 2);
    return { desc: `path lengthened by ${n}`, reject: n >= 15000 };
  },
  oddChar: (r, q) => { const [c, reject] = r.pick(ODD_CHARS); const i = r.range(1, q.path.length); q.path = q.path.slice(0, i) + c + q.path.slice(i); return { desc: `${JSON.stringify(c)} at ${i}`, reject }; },
  projectSegment: (r, q) => {
    // The project a path names: ids Google never takes, domain-scoped ones it does, numbers, and a verb on the segment.
    const v = r.pick(['My_Project', 'P', '-', '1p', 'p_q', 'a'.repeat(64), 'example.com:legacy', 'example.com:Bad', ':p', 'p:', '0', '123456789012', '12345678901234567890', 'p%00', 'p%3AgetIamPolicy', 'p:getIamPolicy', '%E2%80%AE']);
    const p = q.path.split('/');
    const i = p.indexOf('projects') >= 0 ? p.indexOf('projects') + 1 : p.indexOf('namespaces') + 1;
    if (i > 0 && i < p.length) p[i] = v;
    q.path = p.join('/');
    return { desc: `project ${v}` };
  },
  unknownVerb: (r, q) => {
    const v = r.pick(['explode', '', 'approve:approve', 'APPROVE', ':approve', 'get', 'list', 'delete', 'a'.repeat(1000), 'cancel', 'wait', 'getIamPolicy', 'setIamPolicy', 'terminate', 'abandon', 'rollbackTarget', '%3Aapprove', 'advance', 'retryJob', 'ignoreJob', 'testIamPermissions', 'advance%00']);
    if (r.chance(0.8)) q.path += ':' + v; else editSeg(q, segIndex(r, q), s => `${s}:${v}`);
    return { desc: `verb :${v.slice(0, 30)}` };
  },
  segments: (r, q) => {
    const p = q.path.split('/');
    const i = r.range(1, Math.max(1, p.length - 1));
    const op = r.pick(['drop', 'dup', 'swap', 'empty', 'trailing', 'case', 'double-slash-start']);
    if (op === 'drop') p.splice(i, 1);
    if (op === 'dup') p.splice(i, 0, p[i]);
    if (op === 'swap') { const j = r.range(1, Math.max(1, p.length - 1)); [p[i], p[j]] = [p[j], p[i]]; }
    if (op === 'empty') p.splice(i, 0, '');
    if (op === 'trailing') p.push('');
    if (op === 'case') p[i] = r.chance(0.5) ? (p[i] ?? '').toUpperCase() : (p[i] ?? '').slice(0, 1).toUpperCase() + (p[i] ?? '').slice(1);
    q.path = op === 'double-slash-start' ? '/' + p.join('/') : p.join('/');
    return { desc: `segment ${op} at ${i}` };
  },
  requestTarget: (r, q) => {
    const t = r.pick(['absolute', 'absoluteOther', 'asterisk', 'relative', 'empty', 'authority']);
    if (t === 'absolute') q.path = `http://127.0.0.1${q.path}`;
    if (t === 'absoluteOther') q.path = `http://evil.example:1${q.path}`;
    if (t === 'asterisk') { q.path = '*'; q.query = []; }
    if (t === 'relative') q.path = q.path.slice(1);
    if (t === 'empty') { q.path = ''; q.query = []; }
    if (t === 'authority') { q.path = '127.0.0.1:1'; q.query = []; }
    return { desc: `request-target ${t}`, reject: t === 'empty' || t === 'relative' || t === 'authority' };
  },
  ids: (r, q) => {
    const id = r.pick(['-', '*', '~', '_', '0', 'A', 'a'.repeat(64), 'a'.repeat(64000 / 16), 'é', '%F0%9F%99%82', '%20', '%0A', 'con', 'ro1%00', '.', 'null', 'undefined', '__proto__', 'constructor', 'hasOwnProperty']);
    const p = q.path.split('/');
    const i = p.length > 2 ? 2 * r.range(1, Math.floor((p.length - 1) / 2)) : 1;
    p[Math.min(i, p.length - 1)] = id;
    q.path = p.join('/');
    return { desc: `segment ${i} = ${id.slice(0, 20)}` };
  },
  collections: (r, q) => {
    const [a, b] = r.pick([['targets', 'deliveryPipelines'], ['deliveryPipelines', 'targets'], ['v1', 'v1beta1'], ['v1', 'v2'], ['projects', 'project'], ['us-central1', 'global'], ['us-central1', '-'], ['releases', 'rollouts'], ['rollouts', 'jobRuns'], ['storage/v1', 'storage/v2'], ['/o', '/b'], ['gantry/v1', 'gantry/v2'], ['locations', 'zones']]);
    q.path = q.path.replace(a, b);
    return { desc: `${a} → ${b}` };
  },
};

const BAD_INTS = ['abc', '-1', '0', '1.5', '1e3', '0x10', ' 5', '5 ', '+5', '99999999999999999999', '2147483648', '-2147483649', '', 'NaN', 'Infinity', '١٢', '%00'];
const BAD_BOOLS = ['yes', '2', 'TRUE', 'True', '', 'null', 't', '%00', 'true,false', 'on'];

function pathologicalFilter(r: Rng): string {
  const k = r.pick(['parens', 'wildcards', 'or', 'not', 'unterminated', 'ops', 'deepField', 'junk', 'long', 'has', 'timestamps', 'numbers']);
  switch (k) {
    case 'parens': { const d = r.pick([30, 32, 33, 100, 1000, 5000]); return '('.repeat(d) + 'targetId=t1' + ')'.repeat(r.chance(0.8) ? d : d - 1); }
    case 'wildcards': return `${r.pick(['name', 'targetId', 'description', 'labels.a', 'uid'])}="${'*a'.repeat(r.pick([10, 25, 50, 200, 1000]))}${r.pick(['b', '', '*'])}"`;
    case 'or': return Array.from({ length: r.pick([100, 500, 2000]) }, (_, i) => `targetId=t${i}`).join(' OR ');
    case 'not': return 'NOT '.repeat(r.pick([10, 100, 2000])) + 'targetId=t1';
    case 'unterminated': return r.pick(['targetId="t1', "targetId='", 'labels.a="\\', '"', '(', ')', '()', ')(', '((((']);
    case 'ops': return r.pick(['targetId<=>t1', 'targetId==t1', 'targetId!t1', 'targetId:', ':t1', '=', 'targetId=', 'labels:*', 'labels.a:*', 'a=(b)', 'targetId = = t1', 'targetId>=<t1', '--targetId=t1', 'AND', 'OR OR', 'NOT', '- -x=1']);
    case 'deepField': return Array.from({ length: r.pick([10, 100, 1000]) }, () => 'a').join('.') + '=1';
    case 'junk': return r.pick(['\u0000', '\\', '🙂=🙂', 'é="é"', '\u2028', '\x7f', "'\"'", '*', '**', '.*', '$where', '__proto__.x=1', 'constructor.prototype.x=1', 'toString=1']);
    case 'long': return `description="${'x'.repeat(r.pick([1000, 4096, 5000, 12_000]))}"`;
    case 'has': return r.pick(['serialPipeline.stages:*', 'serialPipeline.stages.targetId:t1', 'executionConfigs.usages:RENDER', 'labels.a:b', 'annotations:*', 'targetSnapshots:*']);
    case 'timestamps': return `createTime${r.pick(['>', '<', '=', '>='])}"${r.pick(['2020-13-01T00:00:00Z', 'yesterday', '9999999999-01-01T00:00:00Z', '2020-01-01T00:00:00.123456789123Z', '', '0', '-1', '1e309'])}"`;
    default: return `${r.pick(['requireApproval', 'state', 'approvalState', 'renderState', 'etag', 'createTime', 'labels'])}=${r.pick(['1e309', '-0', 'NaN', 'true', '99999999999999999999', 'UNKNOWN_ENUM', '3', '-1', '0x1'])}`;
  }
}

function setParam(q: Req, k: string, v: string, encode = true) {
  q.query = q.query.filter(p => p.split('=')[0] !== k);
  q.query.push(`${k}=${encode ? encodeURIComponent(v) : v}`);
}

const QUERY: Record<string, Mutator> = {
  unknownParam: (r, q) => {
    const k = r.pick(['bogus', 'a', '', 'view', 'readMask', 'showDeleted', 'force', 'etag', '__proto__', 'constructor', 'toString', 'hasOwnProperty', 'valueOf', 'filter.x', 'pageSize[]', 'a[b]', 'key', 'access_token', 'uploadType', 'upload_id', 'name', 'project', 'generation', 'options.requestedPolicyVersion', 'requestId', 'validateOnly', 'allowMissing', 'updateMask', 'startingPhaseId']);
    const v = r.pick(['1', '', 'x', 'true', '%zz', '[]', '{}']);
    q.query.push(`${encodeURIComponent(k)}=${v}`);
    return { desc: `param ${k}=${v}` };
  },
  repeatParam: (r, q) => {
    const existing = q.query.map(p => p.split('=')[0]).filter(Boolean);
    const k = existing.length && r.chance(0.7) ? r.pick(existing) : r.pick(['pageSize', 'filter', 'orderBy', 'pageToken', 'alt', 'uploadType', 'name']);
    const n = r.pick([2, 3, 100, 1000]);
    for (let i = 0; i < n; i++) q.query.push(`${k}=${r.chance(0.5) ? '1' : 'x'}`);
    return { desc: `${k} repeated ${n}×` };
  },
  badInt: (r, q) => { const k = r.pick(['pageSize', 'maxResults', 'options.requestedPolicyVersion', 'generation', 'ifGenerationMatch']); const v = r.pick(BAD_INTS); setParam(q, k, v, false); return { desc: `${k}=${v}` }; },
  badBool: (r, q) => { const k = r.pick(['validateOnly', 'allowMissing', 'force', 'returnPartialSuccess', 'prettyPrint', 'includeTrailingDelimiter', 'versions']); const v = r.pick(BAD_BOOLS); setParam(q, k, v, false); return { desc: `${k}=${v}` }; },
  hugeValue: (r, q) => {
    const n = r.pick([1000, 4000, 5000, 10_000, 15_000, 30_000]);
    const k = r.pick(['filter', 'orderBy', 'pageToken', 'name', 'prefix', 'requestId', 'updateMask', 'bogus', 'targetId', 'releaseId']);
    setParam(q, k, 'a'.repeat(n));
    return { desc: `${k} of ${n} characters`, reject: n >= 15_000 };
  },
  filter: (r, q) => { const f = pathologicalFilter(r); setParam(q, 'filter', f); return { desc: `filter ${JSON.stringify(f.slice(0, 60))}${f.length > 60 ? `… (${f.length} chars)` : ''}`, reject: encodeURIComponent(f).length > 15_000 }; },
  orderBy: (r, q) => { const o = r.pick([',', 'name desc desc', 'name asc', 'NAME DESC', 'labels.a', 'name,'.repeat(500), 'a'.repeat(5000), '-name', 'name desc, name', '\u0000', 'createTime desc,', ' ', 'desc', 'serialPipeline.stages', 'labels', '🙂']); setParam(q, 'orderBy', o); return { desc: `orderBy ${JSON.stringify(o.slice(0, 40))}` }; },
  pageToken: (r, q, s) => {
    const t = r.pick(['random', 'flip', 'truncate', 'empty', 'long', 'base64json', 'real']);
    let v = s.pageToken;
    if (t === 'random') v = r.bytes(r.range(1, 60)).toString('base64');
    if (t === 'flip' && v) { const i = r.int(v.length); v = v.slice(0, i) + (v[i] === 'A' ? 'B' : 'A') + v.slice(i + 1); }
    if (t === 'truncate') v = v.slice(0, r.int(v.length));
    if (t === 'empty') v = '';
    if (t === 'long') v = 'A'.repeat(r.pick([1000, 10_000]));
    if (t === 'base64json') v = Buffer.from(JSON.stringify(r.pick([{}, [], null, { offset: -1 }, { o: 1e308, q: 'x' }, 'x', 1]))).toString(r.pick(['base64', 'base64url'] as const));
    setParam(q, 'pageToken', v);
    if (r.chance(0.5)) setParam(q, 'pageSize', String(r.pick([1, 2, 1000, 1001])));
    return { desc: `pageToken ${t}` };
  },
  encoding: (r, q) => {
    const e = r.pick(['%zz=1', 'filter=%zz', 'filter=%', 'a%00b=1', '=1', '&', '&&&', 'filter', '?filter=x', 'filter=a+b', 'pageSize=%31', 'filter=%E0%A4%A', 'filter=é', 'filter=#x', '%3D=%3D', 'pageSize', 'pageSize=', 'alt=json&alt=media', ';', 'a;b=c']);
    q.query.push(e);
    return { desc: `query piece ${e}` };
  },
  systemParams: (r, q) => { const p = r.pick(['$alt=json;enum-encoding=int', 'alt=media', 'alt=proto', 'alt=sse', '$alt=garbage', 'alt=json', 'fields=name', 'fields=((', 'prettyPrint=false', 'callback=cb', '$.xgafv=2', '$.xgafv=9', 'key=x', 'uploadType=weird', 'uploadType=resumable', 'uploadType=media', 'uploadType=multipart', 'upload_protocol=x', 'quotaUser=🙂', '$callback=<script>']); q.query.push(p); return { desc: p }; },
  updateMask: (r, q) => { const m = r.pick(['', '*', 'a..b', 'description,description', 'labels.%00', 'name', 'uid', 'serialPipeline.stages', 'a'.repeat(5000), 'labels.x.y', ',', 'DESCRIPTION', 'requireApproval', 'serialPipeline.stages.targetId', 'labels.*', 'etag,createTime']); setParam(q, 'updateMask', m); return { desc: `updateMask=${m.slice(0, 30)}` }; },
  objectName: (r, q) => { const n = r.pick(['', '..', '../../x', 'a'.repeat(1100), '%00', '%2F', 'dir/', '/', '%C3%A9', '.', 'a%0Ab', '%FF', 'obj.txt', 'del-1.txt']); setParam(q, 'name', n, false); if (r.chance(0.3)) setParam(q, 'uploadType', r.pick(['media', 'multipart', 'resumable', 'MEDIA', ''])); return { desc: `name=${n.slice(0, 30)}` }; },
  requestId: (r, q) => { const v = r.pick(['not-a-uuid', '', '00000000-0000-0000-0000-000000000000', '5b6c4a52-6f1a-4f3e-9a4d-1f2e3d4c5b6a', 'a'.repeat(1000), '5B6C4A52-6F1A-4F3E-9A4D-1F2E3D4C5B6A']); setParam(q, 'requestId', v); return { desc: `requestId=${v.slice(0, 40)}` }; },
};

const METHODS: [string, boolean][] = [['GET', false], ['POST', false], ['PATCH', false], ['DELETE', false], ['PUT', false], ['HEAD', false], ['OPTIONS', false], ['TRACE', false], ['PROPFIND', false], ['CONNECT', false], ['MKCOL', false], ['COPY', false], ['MOVE', false], ['LOCK', false], ['SEARCH', false], ['PURGE', false], ['REPORT', false], ['QUERY', false], ['get', true], ['FOO', true], ['G3T', true], ['GET\x00', true], ['', true], ['A'.repeat(100), true], ['POST\t', true], ['PRI', true], ['DÉLÉTE', true]];

const METHOD: Record<string, Mutator> = {
  method: (r, q) => { const [m, reject] = r.pick(METHODS); q.method = m; return { desc: `method ${JSON.stringify(m.slice(0, 20))}`, reject }; },
  methodOverride: (r, q) => { const m = r.pick(['DELETE', 'GET', 'PATCH', 'garbage', '']); q.headers.push([r.pick(['X-HTTP-Method-Override', 'X-HTTP-Method', 'X-Method-Override']), m]); return { desc: `method override ${m}` }; },
};

const CONTENT_TYPES = [undefined, 'text/plain', 'text/plain; charset=utf-8', 'application/json; charset=latin1', 'application/json; charset=utf-16', 'application/json;charset=UTF-8', 'APPLICATION/JSON', 'application/json;;', 'application/json; boundary=x', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'multipart/related', 'application/x-protobuf', 'application/json+protobuf', 'application/grpc', 'application/grpc-web+proto', '*/*', '', ';', 'a'.repeat(5000), 'application/octet-stream', 'image/png', 'json', ' application/json', 'application/json\t', 'application/json, text/plain', 'application/merge-patch+json'];

const HEADER: Record<string, Mutator> = {
  contentType: (r, q) => {
    const ct = r.pick(CONTENT_TYPES);
    if (r.chance(0.15)) { q.headers.push(['Content-Type', ct ?? 'text/plain']); return { desc: `second Content-Type ${ct}` }; }
    if (ct === undefined) removeHeader(q, 'Content-Type'); else setHeader(q, 'Content-Type', ct);
    return { desc: ct === undefined ? 'no Content-Type' : `Content-Type ${JSON.stringify(ct.slice(0, 40))}` };
  },
  hugeHeader: (r, q) => { const n = r.pick([1000, 8000, 15_000, 17_000, 64_000]); q.headers.push([r.pick(['X-Fuzz', 'Cookie', 'Authorization', 'User-Agent', 'Accept']), 'x'.repeat(n)]); return { desc: `${n}-byte header`, reject: n >= 15_000 }; },
  manyHeaders: (r, q) => { const n = r.pick([100, 1000, 2100, 5000]); for (let i = 0; i < n; i++) q.headers.push([`X-H${i}`, 'v']); return { desc: `${n} extra headers`, reject: n * 10 > 15_000 }; },
  badContentLength: (r, q) => {
    const v = r.pick(['abc', '-1', '1.5', '+5', '0x10', '99999999999999999999', '', 'NaN', '1 2', `${q.body?.length ?? 0}, ${q.body?.length ?? 0}`, 'dup-same', 'dup-diff']);
    if (v === 'dup-same' || v === 'dup-diff') { const n = q.body?.length ?? 0; q.headers.push(['Content-Length', String(n)], ['Content-Length', String(v === 'dup-same' ? n : n + 1)]); }
    else q.headers.push(['Content-Length', v]);
    return { desc: `Content-Length ${v}`, reject: true };
  },
  host: (r, q) => {
    const h = r.pick([undefined, '', 'evil.com', '[::1]', 'a:b:c', 'x'.repeat(1000), 'dup', 'localhost:99999', 'é', '127.0.0.1:8080/../', 'localhost', '0.0.0.0', '[::1]:1']);
    if (h === undefined) removeHeader(q, 'Host'); else if (h === 'dup') q.headers.push(['Host', 'other.example']); else setHeader(q, 'Host', h);
    return { desc: h === undefined ? 'no Host' : `Host ${JSON.stringify(h.slice(0, 30))}` };
  },
  origin: (r, q) => {
    q.headers.push(['Origin', r.pick(['null', 'http://evil.com', 'garbage', 'x'.repeat(8000), 'http://127.0.0.1', 'file://'])]);
    if (r.chance(0.3)) { q.method = 'OPTIONS'; q.headers.push(['Access-Control-Request-Method', 'POST']); }
    return { desc: 'Origin header' };
  },
  authorization: (r, q) => { const a = r.pick(['garbage', 'Bearer', 'Bearer ', 'Bearer ' + 'x'.repeat(8000), 'Basic Og==', 'Bearer \xff\xfe', 'Negotiate x', 'dup']); if (a === 'dup') q.headers.push(['Authorization', 'Bearer a'], ['Authorization', 'Bearer b']); else q.headers.push(['Authorization', a]); return { desc: `Authorization ${JSON.stringify(a.slice(0, 20))}` }; },
  chunkedValid: (r, q) => {
    const body = q.body ?? Buffer.from('{}');
    const parts: Buffer[] = [];
    for (let at = 0; at < body.length;) { const piece = body.subarray(at, at + r.range(1, 64)); parts.push(Buffer.from(piece.length.toString(16) + '\r\n'), piece, Buffer.from('\r\n')); at += piece.length; }
    parts.push(Buffer.from('0\r\n\r\n'));
    q.body = Buffer.concat(parts);
    q.headers.push(['Transfer-Encoding', 'chunked']);
    return { desc: 'valid chunked body' };
  },
  transferEncoding: (r, q) => { const te = r.pick(['gzip', 'chunked, chunked', 'identity', 'CHUNKED', ' chunked', 'gzip, chunked', 'x']); q.headers.push(['Transfer-Encoding', te]); if (/chunked/i.test(te)) q.body = Buffer.concat([Buffer.from(`${(q.body ?? Buffer.alloc(0)).length.toString(16)}\r\n`), q.body ?? Buffer.alloc(0), Buffer.from('\r\n0\r\n\r\n')]); return { desc: `Transfer-Encoding ${te}`, reject: true }; },
  expect: (r, q) => { const e = r.pick(['100-continue', 'foo', '100-Continue', '']); q.headers.push(['Expect', e]); return { desc: `Expect ${e}` }; },
  googHeaders: (r, q) => { const [k, v] = r.pick([['X-Goog-User-Project', 'p'], ['X-Goog-Api-Client', 'gl-node/0 x'.repeat(100)], ['X-Goog-Request-Params', 'name=%zz'], ['X-Goog-Api-Key', ''], ['X-Server-Timeout', '-1'], ['X-Goog-FieldMask', 'name,((('], ['X-Goog-Upload-Protocol', 'resumable'], ['X-Upload-Content-Type', '\x01'], ['X-Upload-Content-Length', '-5'], ['Content-Range', 'bytes */*'], ['Content-Range', 'bytes 0-9/5'], ['Range', 'bytes=999999-'], ['Range', 'bytes=abc']]); q.headers.push([k, v]); return { desc: `${k}: ${v.slice(0, 20)}` }; },
  encodingHeaders: (r, q) => { const [k, v] = r.pick([['Content-Encoding', 'gzip'], ['Content-Encoding', 'br'], ['Accept-Encoding', 'gzip'], ['Accept', 'application/x-protobuf'], ['Accept', 'text/html'], ['Accept', '*/*;q=0'], ['Accept-Charset', 'utf-16'], ['Content-Language', 'x']]); q.headers.push([k, v]); return { desc: `${k}: ${v}` }; },
  connection: (r, q) => {
    const c = r.pick(['upgrade-ws', 'upgrade-h2c', 'close, TE', 'keep-alive', 'x']);
    if (c === 'upgrade-ws') { setHeader(q, 'Connection', 'Upgrade'); q.headers.push(['Upgrade', 'websocket'], ['Sec-WebSocket-Key', 'dGhlIHNhbXBsZSBub25jZQ=='], ['Sec-WebSocket-Version', '13']); }
    else if (c === 'upgrade-h2c') { setHeader(q, 'Connection', 'Upgrade, HTTP2-Settings'); q.headers.push(['Upgrade', 'h2c'], ['HTTP2-Settings', 'AAMAAABkAARAAAAAAAIAAAAA']); }
    else setHeader(q, 'Connection', c);
    return { desc: `Connection ${c}` };
  },
  oddHeader: (r, q) => {
    const [line, reject] = r.pick([['X-Fuzz\x7f: a', true], ['X Fuzz: a', true], [': value', true], ['X-É: a', true], ['X-Fuzz: a\x00b', true], ['X-Fuzz: a\x01b', true], ['X-Fuzz: \xe9t\xe9', false], ['X-Fuzz:    ', false], ['X-Fuzz:', false], ['x-fuzz: a\rb', true]] as [string, boolean][]);
    q.headers.push(['', '\0RAW' + line]);
    return { desc: `header line ${JSON.stringify(line)}`, reject };
  },
};

const KINDS = [['valid', 5], ['body', 24], ['path', 14], ['query', 20], ['method', 7], ['header', 15], ['framing', 15]] as const;
type Kind = (typeof KINDS)[number][0];

interface Case {
  index: number;
  kind: Kind;
  mutation: string;
  corpus: string;
  desc: string;
  chunks: Buffer[];
  gapMs?: number;
  /** Per request whose answer is expected: whether it is a HEAD. */
  heads: boolean[];
  halfClose?: boolean;
  /** Node's HTTP parser must reject the request: closing without an answer is acceptable. */
  mayDrop: boolean;
  /** Another protocol on the port (gRPC's HTTP/2, TLS): the answer is its frames or records, not HTTP/1 responses. */
  other?: 'http2' | 'tls';
  /** Single requests keep their structured form, for shrinking the reproducer. */
  req?: Req;
}

function makeCase(index: number, s: Seeds): Case {
  const r = new Rng(caseSeed(SEED, index));
  const kind = r.weighted(KINDS);
  const entry = r.pick(CORPUS);
  const id = `z${index}`;
  const q = entry.make(r, id, s);
  const base = { index, kind, corpus: entry.name };
  if (kind === 'framing') return { ...base, ...framing(r, q, s) };
  const table = kind === 'body' ? BODY : kind === 'path' ? PATH : kind === 'query' ? QUERY : kind === 'method' ? METHOD : kind === 'header' ? HEADER : {};
  const names = Object.keys(table);
  const descs: string[] = [];
  const muts: string[] = [];
  let reject = false;
  // Usually one mutation; sometimes a few stacked of the same kind.
  const n = kind === 'valid' ? 0 : r.weighted([[1, 80], [2, 15], [3, 5]] as const);
  for (let i = 0; i < n; i++) {
    let name = r.pick(names);
    if (name === 'multipart' && !entry.name.startsWith('storage.upload') && r.chance(0.7)) name = 'wrongType';
    const m = table[name](r, q, s);
    descs.push(m.desc);
    muts.push(name);
    reject ||= !!m.reject;
  }
  return { ...base, mutation: kind === 'valid' ? 'valid' : `${kind}.${muts.join('+')}`, desc: descs.join('; ') || 'unmutated', chunks: [render(q, s.port)], heads: [q.method === 'HEAD'], mayDrop: reject, req: q };
}

/** Raw framing: what only a byte-level client can send. */
function framing(r: Rng, q: Req, s: Seeds): Omit<Case, 'index' | 'kind' | 'corpus'> {
  if (q.method === 'HEAD') q.method = 'GET'; // framing cases read every body; pipelined ones track HEADs themselves
  const m = r.pick(['chunkedBadHex', 'chunkedShort', 'chunkedNoEnd', 'chunkedExt', 'chunkedHuge', 'chunkedNoCRLF', 'chunkedTrailers', 'chunkedLF', 'clTooLarge', 'clTooSmall', 'clAndTe', 'pipelined', 'pipelinedGarbage', 'headerNoColon', 'longRequestLine', 'lfOnly', 'bareCR', 'http10', 'http09', 'badVersion', 'h2Preface', 'tlsHello', 'extraSpaces', 'missingVersion', 'partialHead', 'emptyConnection', 'garbage', 'leadingCRLF', 'spaceBeforeColon', 'obsFold', 'splitWrites', 'nulInHead', 'teObfuscated']);
  const out = (desc: string, chunks: Buffer[], o: Partial<Case> = {}) => ({ mutation: `framing.${m}`, desc, chunks, heads: [q.method === 'HEAD'], mayDrop: true, ...o });
  const body = q.body ?? Buffer.from('{}');
  // A body-carrying head whose framing headers are exactly `extra` (plus Content-Length when asked).
  const head = (extra: string[], withLength = false) => {
    const lines = [...extra, ...(withLength ? [`Content-Length: ${body.length}`] : [])];
    const c: Req = { ...q, method: q.method === 'GET' ? 'POST' : q.method, headers: [...q.headers.filter(h => !/^content-length$/i.test(h[0])), ...lines.map(e => ['', '\0RAW' + e] as [string, string])], autoLength: false, body: undefined };
    return render(c, s.port);
  };
  const text = render(q, s.port);
  switch (m) {
    case 'chunkedBadHex': return out('chunk size zz', [head(['Transfer-Encoding: chunked']), Buffer.from('zz\r\nabc\r\n0\r\n\r\n')]);
    case 'chunkedShort': return out('chunk declares more bytes than sent, then EOF', [head(['Transfer-Encoding: chunked']), Buffer.from(`ff\r\n${body.toString()}`)], { halfClose: true });
    case 'chunkedNoEnd': return out('chunks without the final 0 chunk, then EOF', [head(['Transfer-Encoding: chunked']), Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n')], { halfClose: true });
    case 'chunkedExt': return out('chunk extensions', [head(['Transfer-Encoding: chunked']), Buffer.from(`${body.length.toString(16)};ext="v";x\r\n`), body, Buffer.from('\r\n0\r\n\r\n')], { mayDrop: false });
    case 'chunkedHuge': return out('chunk size ffffffffffffffffff', [head(['Transfer-Encoding: chunked']), Buffer.from('ffffffffffffffffff\r\nab\r\n0\r\n\r\n')], { halfClose: true });
    case 'chunkedNoCRLF': return out('chunk data without its CRLF', [head(['Transfer-Encoding: chunked']), Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('0\r\n\r\n')], { halfClose: true });
    case 'chunkedTrailers': return out('chunked with trailers', [head(['Transfer-Encoding: chunked']), Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\nX-Trailer: 1\r\n\r\n')], { mayDrop: false });
    case 'chunkedLF': return out('chunk lines end in LF', [head(['Transfer-Encoding: chunked']), Buffer.from(`${body.length.toString(16)}\n`), body, Buffer.from('\n0\n\n')], { halfClose: true });
    case 'clTooLarge': { const extra = r.pick([1, 10, 100_000]); return out(`Content-Length ${extra} more than the body, then EOF`, [head([`Content-Length: ${body.length + extra}`]), body], { halfClose: true }); }
    case 'clTooSmall': { const n = r.int(body.length); return out(`Content-Length ${n} of a ${body.length}-byte body`, [head([`Content-Length: ${n}`]), body], { halfClose: true }); }
    case 'clAndTe': return out('Content-Length and Transfer-Encoding: chunked', [head([`Content-Length: ${body.length + 5}`, 'Transfer-Encoding: chunked']), Buffer.from(`${body.length.toString(16)}\r\n`), body, Buffer.from('\r\n0\r\n\r\n')], { halfClose: true });
    case 'pipelined': {
      const n = r.pick([2, 3, 6, 50]);
      const reqs = Array.from({ length: n }, (_, i) => (i === 0 ? q : r.pick(CORPUS.filter(e => !e.name.includes('create'))).make(r, `p${i}`, s)));
      return out(`${n} pipelined requests`, [Buffer.concat(reqs.map((x, i) => render(x, s.port, i < n - 1 ? 'keep-alive' : undefined)))], { heads: reqs.map(x => x.method === 'HEAD'), mayDrop: false });
    }
    case 'pipelinedGarbage': return out('request, garbage line, request', [Buffer.concat([render(q, s.port, 'keep-alive'), Buffer.from('GARBAGE\r\n\r\n'), render(req('GET', '/gantry/v1/healthz'), s.port)])], { heads: [q.method === 'HEAD', false, false] });
    case 'headerNoColon': return out('header line without a colon', [head(['X-Fuzz value'], true), body]);
    case 'longRequestLine': return out('20,000-byte request line', [Buffer.from(`GET /v1/${'a'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`)], { heads: [false] });
    case 'lfOnly': return out('LF line endings', [Buffer.from(text.toString('latin1').replace(/\r\n/g, '\n'), 'latin1')], { halfClose: true });
    case 'bareCR': return out('bare CR in a header value', [head(['X-Fuzz: a\rb'], true), body]);
    case 'http10': return out('HTTP/1.0 without Host', [render({ ...q, version: 'HTTP/1.0', headers: q.headers.filter(h => !/^(host|connection)$/i.test(h[0])) }, s.port)], { mayDrop: false });
    case 'http09': return out('HTTP/0.9 request line', [Buffer.from(`GET ${target(q)}\r\n\r\n`)], { halfClose: true });
    case 'badVersion': { const v = r.pick(['HTTP/1.2', 'HTTP/2.0', 'HTTP/9.9', 'HTTP/1', 'http/1.1', 'HTTP/1.1x', 'HTTP/1.1 ', 'HTTPS/1.1', 'HTTP/0.9']); return out(`version ${v}`, [render({ ...q, version: v }, s.port)], { halfClose: true }); }
    // The port serves gRPC too: the preface opens an HTTP/2 session (the server's SETTINGS), and EOF closes it.
    case 'h2Preface': return out('HTTP/2 connection preface', [Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n')], { halfClose: true, heads: [], other: 'http2' });
    // TLS shares the port too: a handshake record starts one; a broken or cut one ends it (an alert, or a close).
    case 'tlsHello': return out('a TLS ClientHello record cut short', [Buffer.concat([Buffer.from([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03]), r.bytes(r.range(0, 200))])], { halfClose: true, heads: [], other: 'tls' });
    case 'extraSpaces': { const t = r.pick(['  ', '\t']); return out(`request line separated by ${JSON.stringify(t)}`, [Buffer.from(text.toString('latin1').replace(' ', t), 'latin1')], { halfClose: true }); }
    case 'missingVersion': return out('request line without a version', [render({ ...q, version: '' }, s.port)], { halfClose: true });
    case 'partialHead': { const cut = r.range(1, text.indexOf('\r\n\r\n')); return out(`only ${cut} bytes of the head, then EOF`, [text.subarray(0, cut)], { halfClose: true }); }
    case 'emptyConnection': return out('connect and close without a byte', [], { heads: [], halfClose: true });
    case 'garbage': { const g = r.bytes(r.range(1, 500)); if (g[0] === 0x16) g[0] = 0x17; return out(`${g.length} random bytes`, [g], { halfClose: true }); }
    case 'leadingCRLF': return out('CRLFs before the request line', [Buffer.concat([Buffer.from('\r\n\r\n'), text])]);
    case 'spaceBeforeColon': return out('"Host : x"', [head(['X-Fuzz : a'], true), body]);
    case 'obsFold': return out('folded header line', [head(['X-Fuzz: a', ' continued'], true), body]);
    case 'splitWrites': {
      const cuts = Array.from({ length: r.range(1, 7) }, () => r.int(text.length)).sort((a, b) => a - b);
      const chunks = [0, ...cuts].map((c, i, a) => text.subarray(c, a[i + 1] ?? text.length)).filter(c => c.length);
      return out(`request written in ${chunks.length} pieces`, chunks, { gapMs: r.range(0, 15), mayDrop: false, req: q });
    }
    case 'nulInHead': { const at = r.range(1, text.indexOf('\r\n\r\n')); return out(`NUL at byte ${at} of the head`, [Buffer.concat([text.subarray(0, at), Buffer.from([0]), text.subarray(at)])], { halfClose: true }); }
    default: { const te = r.pick(['Transfer-Encoding : chunked', 'Transfer-Encoding: xchunked', 'Transfer-Encoding:\tchunked', 'Transfer-encoding: chunked\r\nTransfer-Encoding: identity']); return out(`obfuscated ${JSON.stringify(te)}`, [head([te, `Content-Length: ${body.length}`]), body], { halfClose: true }); }
  }
}

// ---------------------------------------------------------------------------------------------------
// Checks.

const CODES: Record<string, number> = {
  CANCELLED: 499, UNKNOWN: 500, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504, NOT_FOUND: 404, ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403, RESOURCE_EXHAUSTED: 429, FAILED_PRECONDITION: 400, ABORTED: 409, OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501, INTERNAL: 500, UNAVAILABLE: 503, DATA_LOSS: 500, UNAUTHENTICATED: 401,
};

type FailureClass = '5xx' | 'non-google-error' | 'hang' | 'no-response' | 'bad-response' | 'bad-success-body' | 'crash' | 'stuck';
interface Failure { cls: FailureClass; sig: string; detail: string; response?: RawResponse; stack?: string }

/** A body's shape with the request's own text (ids, paths, long messages) washed out, for grouping. */
function shape(body: Buffer): string {
  const t = body.toString('utf8');
  if (!t.length) return 'empty body';
  let j: unknown;
  try { j = JSON.parse(t); } catch { return `not JSON: ${JSON.stringify(t.slice(0, 60).replace(/\d+/g, '#'))}`; }
  // Messages quote the request; other short strings (error names, codes) say what kind of answer it is.
  const wash = (v: unknown, key = ''): unknown => typeof v === 'string' ? (key !== 'message' && v.length <= 40 && !/[/:%]/.test(v) ? v.replace(/\d+/g, '#') : '…')
    : Array.isArray(v) ? v.slice(0, 2).map(x => wash(x)) : v && typeof v === 'object' ? Object.fromEntries(Object.entries(v).map(([k, x]) => [k, wash(x, k)])) : v;
  return JSON.stringify(wash(j)).slice(0, 160);
}

function googleProblem(res: RawResponse): string | undefined {
  const ct = header(res, 'content-type') ?? '';
  let j: unknown;
  try { j = JSON.parse(res.body.toString('utf8')); } catch { return `body is not JSON (${shape(res.body)})`; }
  const e = (j as { error?: Record<string, unknown> } | null)?.error;
  if (!e || typeof e !== 'object' || Array.isArray(j)) return `no "error" object: ${shape(res.body)}`;
  if (e.code !== res.status) return `error.code ${JSON.stringify(e.code)} ≠ HTTP ${res.status}`;
  if (typeof e.message !== 'string') return 'error.message is not a string';
  if (typeof e.status !== 'string' || !(e.status in CODES)) return `error.status ${JSON.stringify(e.status)} is not a google.rpc.Code`;
  // Cloud Storage answers a failed precondition (`ifGenerationMatch`…) with HTTP 412, not the 400 of AIP-193, and an
  // unsatisfiable Range with 416.
  const storageHttp = (res.status === 412 && e.status === 'FAILED_PRECONDITION') || (res.status === 416 && e.status === 'OUT_OF_RANGE');
  if (CODES[e.status] !== res.status && res.status !== 413 && !storageHttp) return `${e.status} answered with HTTP ${res.status} (Google maps it to ${CODES[e.status]})`;
  if (!/^application\/json/i.test(ct)) return `Content-Type ${JSON.stringify(ct)}`;
  return undefined;
}

/**
 * The one 5xx bad input may get: 501 UNIMPLEMENTED, a google.rpc.Status naming a method or API Gantry does not serve
 * (a mutated path can name one). Any other 5xx, or a 501 with another body, is a failure.
 */
function unimplemented(res: RawResponse): boolean {
  if (googleProblem(res)) return false;
  const e = (JSON.parse(res.body.toString('utf8')) as { error: { status: string; message: string } }).error;
  return e.status === 'UNIMPLEMENTED' && /is not (implemented by Gantry|a method of an API Gantry implements)/.test(e.message);
}

/** Whether a case's request names a Cloud Run service's host. */
function appHost(c: Case): boolean {
  return /\r\nhost:[^\r\n]*\.run\.app/i.test(Buffer.concat(c.chunks).subarray(0, 16_384).toString('latin1'));
}

/** Method and path of a case's first request, ids washed out: hangs are grouped by where they happen. */
function routeOf(c: Case): string {
  const [method = '', url = ''] = Buffer.concat(c.chunks).subarray(0, 4096).toString('latin1').split('\r\n')[0].split(' ');
  const path = url.split('?')[0].split('/').map(seg => /^z\d+$|^[0-9a-f-]{36}$|^operation-|^[A-Za-z0-9_-]{41,}$/.test(seg) ? '*' : seg).join('/');
  return `${method.slice(0, 20)} ${path.slice(0, 100)}`;
}

function evaluate(c: Case, res: RawResult): Failure[] {
  const out: Failure[] = [];
  if (c.other) {
    // An HTTP/2 server speaks first with a SETTINGS frame (type 4 in the fourth byte of the frame header); a TLS
    // server answers a broken handshake with an alert record (type 21) or a handshake record (22), or just closes.
    const b = res.firstBytes;
    const fits = !b?.length || (c.other === 'http2' ? b[3] === 4 : b[0] === 0x15 || b[0] === 0x16);
    if (res.timedOut) out.push({ cls: 'hang', sig: `hang: ${c.other} session not closed after EOF`, detail: `no close within ${TIMEOUT_MS} ms` });
    else if (!fits) out.push({ cls: 'bad-response', sig: `bad-response: not ${c.other === 'http2' ? 'an HTTP/2 SETTINGS frame' : 'a TLS record'}`, detail: b!.toString('hex') });
    return out;
  }
  const size = c.chunks.reduce((n, b) => n + b.length, 0);
  const lost = !res.timedOut && !c.mayDrop && res.responses.length < c.heads.length;
  // A server that answers before reading a large body and then closes makes the kernel send RST, which
  // discards the answer (or its tail) at the client: one cause, however it shows.
  if (size > 128 * 1024 && (lost || res.garbage)) {
    out.push({ cls: 'no-response', sig: 'no-response: answer lost or cut short after a large (>128 KB) request: the server closed with request bytes unread (TCP RST)', detail: `${size}-byte request; ${res.reset ? 'connection reset' : 'connection closed'} after ${res.responses.length} of ${c.heads.length} responses${res.garbage ? `; ${res.garbage}` : ''}` });
  } else {
    if (res.garbage) out.push({ cls: 'bad-response', sig: `bad-response: ${res.garbage.replace(/\d+/g, '#').slice(0, 60)}`, detail: res.garbage });
    if (lost) {
      const cause = c.kind === 'method' ? `method ${JSON.stringify(Buffer.concat(c.chunks).toString('latin1').split(' ')[0].slice(0, 20))}` : c.mutation.split('+')[0];
      out.push({ cls: 'no-response', sig: `no-response: ${res.reset ? 'connection reset' : 'connection closed'} after ${cause}`, detail: `${res.reset ? 'reset' : 'closed'} after ${res.responses.length} of ${c.heads.length} responses` });
    }
  }
  if (res.timedOut) out.push({ cls: 'hang', sig: `hang: ${routeOf(c)}`, detail: `no answer and no close within ${TIMEOUT_MS} ms (${res.responses.length} of ${c.heads.length} responses)` });
  res.responses.forEach((resp, i) => {
    const isHead = c.heads[i] ?? false;
    if (resp.status >= 500 && !(resp.status === 501 && (isHead || unimplemented(resp)))) out.push({ cls: '5xx', sig: `5xx: HTTP ${resp.status} ${shape(resp.body)}`, detail: `HTTP ${resp.status}`, response: resp });
    // A request to a served host is answered by the service (or Cloud Run's 404 page), not by the API.
    else if (resp.status >= 400 && !isHead && !appHost(c)) {
      const p = googleProblem(resp);
      if (p) out.push({ cls: 'non-google-error', sig: `non-google-error: HTTP ${resp.status} ${p.replace(/\d{4,}/g, '#')}`, detail: p, response: resp });
    } else if (resp.status < 300 && !isHead && /json/i.test(header(resp, 'content-type') ?? '') && resp.body.length) {
      try { JSON.parse(resp.body.toString('utf8')); } catch { out.push({ cls: 'bad-success-body', sig: `bad-success-body: HTTP ${resp.status} on ${c.corpus}`, detail: 'JSON content type, body does not parse', response: resp }); }
    }
  });
  return out;
}

// ---------------------------------------------------------------------------------------------------
// Reproducers.

/** A portable `printf … | nc` line (octal escapes work in every printf). */
function printfLine(bytes: Buffer, port: number): string {
  let s = '';
  for (const b of bytes) {
    if (b === 0x0d) s += '\\r';
    else if (b === 0x0a) s += '\\n';
    else if (b === 0x25) s += '%%';
    else if (b === 0x5c) s += '\\\\';
    else if (b === 0x27) s += "'\\''";
    else if (b >= 0x20 && b < 0x7f) s += String.fromCharCode(b);
    else s += '\\' + b.toString(8).padStart(3, '0');
  }
  return `printf '${s}' | nc 127.0.0.1 ${port}`;
}

function reproText(c: Case, port: number, file: string): string {
  const all = Buffer.concat(c.chunks);
  const shown = Buffer.from(all.toString('latin1').split(`127.0.0.1:${port}`).join('127.0.0.1:8080'), 'latin1');
  const notes = [c.halfClose ? ' (then half-close: nc -N / -q1)' : '', c.gapMs ? ` (written in ${c.chunks.length} pieces ${c.gapMs} ms apart)` : ''].join('');
  if (shown.length <= 1500) return printfLine(shown, 8080) + notes;
  return `${printfLine(shown.subarray(0, 400), 8080)}…  [${shown.length} bytes; exact bytes: nc 127.0.0.1 8080 < ${file}]${notes}`;
}

function describeResponse(res: RawResult, f: Failure): string {
  if (f.response) {
    const r = f.response;
    return `HTTP ${r.status} ${r.reason} | ${r.headers.filter(h => /content-type|content-length|connection/i.test(h[0])).map(h => h.join(': ')).join(' | ')} | ${JSON.stringify(r.body.toString('utf8').slice(0, 300))}`;
  }
  return `${res.responses.length} responses (${res.responses.map(r => r.status).join(', ') || 'none'}), ${res.timedOut ? 'timed out' : res.reset ? 'connection reset' : res.closed ? 'connection closed' : 'open'}${res.garbage ? `, ${res.garbage}` : ''} after ${Math.round(res.ms)} ms — ${f.detail}`;
}

// ---------------------------------------------------------------------------------------------------
// The run.

interface Group {
  sig: string; cls: FailureClass; count: number; mutations: Map<string, number>;
  /** The smallest request that failed this way, what came back, and its size. */
  example: Case; result: RawResult; failure: Failure; size: number;
  /** Whether the example fails the same way when sent alone after the run; the example with needless headers and parameters dropped. */
  replayed?: boolean; shrunk?: Case;
}

interface RunReport {
  seed: number; count: number; sent: number; durationMs: number;
  byClass: Record<string, number>; byKind: Record<string, Record<string, number>>; byMutation: Record<string, Record<string, number>>;
  latency: Record<string, { n: number; totalMs: number; maxMs: number }>;
  /** Unmutated requests by corpus entry: one that never succeeds would leave its handler unfuzzed. */
  validByCorpus: Record<string, Record<string, number>>;
  /** Sampled from /proc: `samples` are [requests done, MB]. */
  rss: { startMB: number; secondQuarterMedianMB: number; lastQuarterMedianMB: number; peakMB: number; endMB: number; hwmMB: number; samples: [number, number][] };
  /** After a forced full GC, at the start, at 25% and at the end of the run. */
  gc: { start?: Memory; quarter?: Memory; end?: Memory };
  groups: Group[]; crashed: boolean; stuck: boolean; budgetExceeded: boolean; healthyAtEnd: boolean; stderr: string;
}

let gantry: ChildGantry;
let dataDir: string;
let port: number;
let stderr = '';
/** Gantry's exit code or signal, once it has exited. */
let exited: number | string | null | undefined;
let report: RunReport;
const reportDir = join(tmpdir(), `gantry-fuzz-${SEED}-${process.pid}`);

/** Replays each request that was in flight when Gantry died against a fresh Gantry on the same data; the first that kills it. */
async function findCrasher(suspects: Case[], oldPort: number): Promise<Case | undefined> {
  for (const c of suspects.slice(0, 40)) {
    const g = await spawnGantry(['--data-dir', dataDir, '--log-level', 'silent', '--git-dirs', tmpdir()]);
    const p = Number(new URL(g.url).port);
    let died = false;
    g.proc.once('exit', () => { died = true; });
    // The requests name the old port in Host; the new Gantry's guard must see its own.
    const retarget = (b: Buffer) => Buffer.from(b.toString('latin1').split(`127.0.0.1:${oldPort}`).join(`127.0.0.1:${p}`), 'latin1');
    const moved: Case = { ...c, chunks: c.chunks.map(retarget) };
    await rawExchange({ port: p, chunks: moved.chunks, gapMs: c.gapMs, heads: c.heads, halfClose: c.halfClose, timeoutMs: 5000 });
    await new Promise(r => setTimeout(r, 200));
    if (died) return c;
    await g.kill('SIGKILL');
  }
  return undefined;
}

interface Memory { rssMB: number; heapUsedMB: number; heapTotalMB: number; externalMB: number; anonMB?: number; fileMB?: number }

/** Gantry's memory after a forced full GC, through its inspector; undefined when that is not reachable. */
async function memoryAfterGc(inspectPort: number, pid?: number): Promise<Memory | undefined> {
  try {
    const list = (await (await fetch(`http://127.0.0.1:${inspectPort}/json/list`, { signal: AbortSignal.timeout(5000) })).json()) as { webSocketDebuggerUrl: string }[];
    const insp = await openInspector(list[0].webSocketDebuggerUrl);
    try {
      const m = await insp.memoryAfterGc();
      const mb = (n: number) => Math.round(n / 104857.6) / 10;
      const kb = (f: string) => { const v = pid === undefined ? undefined : rssKB(pid, f); return v === undefined ? undefined : Math.round(v / 102.4) / 10; };
      return { rssMB: mb(m.rss), heapUsedMB: mb(m.heapUsed), heapTotalMB: mb(m.heapTotal), externalMB: mb(m.external), anonMB: kb('RssAnon'), fileMB: kb('RssFile') };
    } finally { insp.close(); }
  } catch (e) {
    console.log(`fuzz: could not read memory through the inspector: ${(e as Error).message}`);
    return undefined;
  }
}

function rssKB(pid: number, field = 'VmRSS'): number | undefined {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) : undefined;
  } catch { return undefined; }
}

async function json(method: string, path: string, body?: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(`http://127.0.0.1:${port}${path}`, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const out = (await res.json()) as Record<string, unknown>;
  if (res.status >= 400) throw new Error(`seeding ${method} ${path}: ${res.status} ${JSON.stringify(out)}`);
  return out;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>): Promise<T> {
  const end = Date.now() + 20_000;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`seeding: ${what} did not happen`);
    await new Promise(r => setTimeout(r, 50));
  }
}

/** Real resources for the mutations to hit: targets, pipeline, releases, rollouts, job runs, bucket, objects. */
async function seed(): Promise<Seeds> {
  await json('POST', `/v1/${LOC}/targets?targetId=t1`, { run: { location: LOC }, labels: { a: 'b' } });
  await json('POST', `/v1/${LOC}/targets?targetId=t2`, { run: { location: LOC }, requireApproval: true });
  const op = await json('POST', `/v1/${LOC}/targets?targetId=t3`, { run: { location: LOC }, description: 'spare' });
  await json('POST', `/v1/${LOC}/deliveryPipelines?deliveryPipelineId=app`, { serialPipeline: { stages: [{ targetId: 't1' }, { targetId: 't2' }] } });
  await json('POST', `/v1/${LOC}/customTargetTypes?customTargetTypeId=ctt1`, { customActions: { deployAction: 'deploy' } });
  for (const r of ['r1', 'r2']) await json('POST', `/v1/${DP}/releases?releaseId=${r}`, {});
  await until('render', async () => ((await json('GET', `/v1/${REL}`)).renderState === 'SUCCEEDED' ? true : undefined));
  await json('POST', `/v1/${REL}/rollouts?rolloutId=ro1`, { targetId: 't1' });
  await until('ro1 job runs', async () => ((await json('GET', `/v1/${REL}/rollouts/ro1`)).state === 'SUCCEEDED' ? true : undefined));
  await json('POST', `/v1/${REL}/rollouts?rolloutId=ro2`, { targetId: 't2' });
  await json('POST', `/v1/${REL}/rollouts?rolloutId=ro3`, { targetId: 't2' });
  const jobRuns = await json('GET', `/v1/${REL}/rollouts/ro1/jobRuns`);
  const jobRun = String((jobRuns.jobRuns as { name: string }[])[0].name);
  const page = await json('GET', `/v1/${LOC}/targets?pageSize=1`);
  await json('POST', '/storage/v1/b?project=p', { name: 'bkt' });
  for (const name of ['obj.txt', 'dir/nested.txt', ...Array.from({ length: DELETABLE }, (_, i) => `del-${i}.txt`)]) {
    const up = await fetch(`http://127.0.0.1:${port}/upload/storage/v1/b/bkt/o?uploadType=media&name=${encodeURIComponent(name)}`, { method: 'POST', body: 'hello', headers: { 'content-type': 'text/plain' } });
    assert.equal(up.status, 200, await up.text());
  }
  const uploadIds: string[] = [];
  for (let i = 0; i < SESSIONS; i++) {
    const init = await fetch(`http://127.0.0.1:${port}/upload/storage/v1/b/bkt/o?uploadType=resumable`, { method: 'POST', body: JSON.stringify({ name: `res-${i}.txt` }), headers: { 'content-type': 'application/json' } });
    uploadIds.push(new URL(init.headers.get('location') ?? 'http://x/?upload_id=none').searchParams.get('upload_id') ?? 'none');
  }
  await json('POST', `${RUN_NS}/jobs`, runJob('rj1', false));
  await json('POST', '/v1/projects/p/secrets?secretId=s1', { replication: { automatic: {} } });
  await json('POST', `${KN_NS}/services`, runService('rs1'));
  await until('run job ready', async () => ((await json('GET', `${RUN_NS}/jobs/rj1`)).status as { conditions?: { status: string }[] }).conditions?.[0]?.status === 'True' ? true : undefined);
  const runExecution = String(((await json('POST', `${RUN_NS}/jobs/rj1:run`, {})).metadata as { name: string }).name);
  await json('POST', `/v1/${LOC}/connections?connectionId=c`, { githubConfig: {} });
  // A local repository path under --git-dirs (it need not exist to be linked).
  await json('POST', `/v1/${LOC}/connections/c/gitRepositoryLinks?gitRepositoryLinkId=l`, { cloneUri: join(tmpdir(), 'gantry-fuzz-no-repo') });
  await json('POST', `/v1beta/${LOC}/backends?backendId=fzb`, { servingLocality: 'GLOBAL_ACCESS', serviceAccount: 'runner@p.iam.gserviceaccount.com', codebase: { repository: `${LOC}/connections/c/gitRepositoryLinks/l` } });
  await json('POST', `/v1beta/${AH}/builds?buildId=fb1`, { source: { container: { image: 'us-docker.pkg.dev/p/app/web:1' } } });
  await json('POST', `/v1beta/${AH}/rollouts?rolloutId=fb1`, { build: `${AH}/builds/fb1` });
  return { port, pageToken: String(page.nextPageToken ?? ''), opName: String(op.name), jobRun, uploadIds, runExecution };
}

function send(c: Case, timeoutMs = TIMEOUT_MS): Promise<RawResult> {
  // Single well-formed requests resolve on their answer (a keep-alive mutation must not look like a hang);
  // framing cases wait for the server to close, to see everything it says.
  const single = c.kind !== 'framing' || c.mutation === 'framing.splitWrites';
  return rawExchange({ port, chunks: c.chunks, gapMs: c.gapMs, heads: c.heads, halfClose: c.halfClose, resolveAfter: single ? 1 : undefined, timeoutMs, raw: c.other !== undefined });
}

/** Drops headers and query parameters one at a time while the failure stays the same. */
async function shrink(g: Group, s: Seeds): Promise<Case | undefined> {
  const c = g.example;
  if (!c.req || c.kind === 'framing') return undefined;
  const same = async (q: Req) => {
    const cand: Case = { ...c, chunks: [render(q, s.port)], heads: [q.method === 'HEAD'], req: q };
    const fs = evaluate(cand, await send(cand, 5000));
    return fs.some(f => f.cls === g.cls && (g.cls !== 'non-google-error' || f.sig === g.sig)) ? cand : undefined;
  };
  let best = c.req;
  let found: Case | undefined;
  for (let i = best.headers.length - 1; i >= 0; i--) {
    if (/^(host|connection)$/i.test(best.headers[i][0])) continue;
    const q = { ...best, headers: best.headers.filter((_, j) => j !== i) };
    const hit = await same(q);
    if (hit) { best = q; found = hit; }
  }
  for (let i = best.query.length - 1; i >= 0; i--) {
    const q = { ...best, query: best.query.filter((_, j) => j !== i) };
    const hit = await same(q);
    if (hit) { best = q; found = hit; }
  }
  return found ?? (await same(best));
}

before(async () => {
  dataDir = tempDir('gantry-fuzz-');
  const inspectPort = await freePort();
  gantry = await spawnGantry(['--data-dir', dataDir, '--log-level', 'error', '--render-duration', '0.1s', '--job-duration', '0.1s', '--git-dirs', tmpdir()],
    { NODE_OPTIONS: `${env.NODE_OPTIONS ?? ''} --inspect=127.0.0.1:${inspectPort}`.trim() });
  port = Number(new URL(gantry.url).port);
  gantry.proc.stderr!.on('data', (d: Buffer) => { if (stderr.length < 4_000_000) stderr += d.toString(); });
  // What was in flight when Gantry died may have killed it; its exit is seen after the sockets close, so the
  // requests that just ended (without an answer first) are suspects too.
  const inFlight = new Set<Case>();
  const recent: { c: Case; res: RawResult }[] = [];
  let suspects: Case[] = [];
  gantry.proc.once('exit', (code, signal) => {
    exited = code ?? signal;
    const answered = recent.filter(x => x.res.responses.length).map(x => x.c);
    suspects = [...new Set([...recent.filter(x => !x.res.responses.length).reverse().map(x => x.c), ...inFlight, ...answered.reverse()])];
  });
  const pid = gantry.proc.pid!;
  const seeds = await seed();
  console.log(`fuzz: seed ${SEED} (GANTRY_FUZZ_SEED=${SEED} replays this run), ${COUNT} requests, ${CONCURRENCY} in flight, Gantry pid ${pid} on port ${port}`);

  const t0 = performance.now();
  const samples: [number, number][] = [];
  const startKB = rssKB(pid) ?? 0;
  const gcStart = await memoryAfterGc(inspectPort, pid);
  let gcQuarter: Memory | undefined;
  let done = 0;
  const sampler = setInterval(() => { const kb = rssKB(pid); if (kb) samples.push([done, kb]); }, 200).unref();

  // Health probe, one at a time: a server whose event loop is stuck makes every in-flight request a hang; the
  // run stops after two probes of 15 s went unanswered.
  // The request that blocks it was in flight when the probes began to fail, most likely the oldest.
  let stuck = false;
  let probeFails = 0;
  let stuckSuspects: Case[] = [];
  // A probe answered late means one request blocked the event loop for that long: a partial hang for everyone.
  const stalls: { ms: number; suspects: Case[] }[] = [];
  let probing = true;
  const prober = (async () => {
    while (probing) {
      const inFlightThen = [...inFlight];
      const r = await rawExchange({ port, chunks: [render(req('GET', '/gantry/v1/healthz'), port)], heads: [false], resolveAfter: 1, timeoutMs: 15_000 });
      probeFails = r.responses[0]?.status === 200 ? 0 : probeFails + 1;
      if (probeFails === 1) stuckSuspects = inFlightThen.sort((a, b) => a.index - b.index);
      if (probeFails >= 2) stuck = true;
      if (r.ms > STALL_MS) stalls.push({ ms: r.ms, suspects: inFlightThen });
      await new Promise(res => setTimeout(res, 1000));
    }
  })();

  const groups = new Map<string, Group>();
  const fiveHundreds: { c: Case; res: RawResult; f: Failure }[] = [];
  const byClass: Record<string, number> = {};
  const byKind: Record<string, Record<string, number>> = {};
  const byMutation: Record<string, Record<string, number>> = {};
  const latency: Record<string, { n: number; totalMs: number; maxMs: number }> = {};
  const validByCorpus: Record<string, Record<string, number>> = {};
  const bump = (o: Record<string, number>, k: string) => { o[k] = (o[k] ?? 0) + 1; };
  let next = 0;
  let budgetExceeded = false;
  const worker = async () => {
    for (;;) {
      if (exited !== undefined || stuck) return;
      if (performance.now() - t0 > BUDGET_MS) { budgetExceeded = true; return; }
      const i = next++;
      if (i >= COUNT) return;
      const c = makeCase(i, seeds);
      inFlight.add(c);
      const res = await send(c);
      inFlight.delete(c);
      if (!res.refused) { recent.push({ c, res }); if (recent.length > 64) recent.shift(); }
      done++;
      if (done === Math.floor(COUNT / 4)) gcQuarter = await memoryAfterGc(inspectPort, pid);
      const classes = res.responses.length ? res.responses.map(r => `${Math.floor(r.status / 100)}xx`) : [res.timedOut ? 'timeout' : 'none'];
      const mut = c.mutation.split('+')[0];
      for (const cl of classes) { bump(byClass, cl); bump((byKind[c.kind] ??= {}), cl); bump((byMutation[mut] ??= {}), cl); }
      if (c.kind === 'valid') for (const cl of classes) bump((validByCorpus[c.corpus] ??= {}), cl);
      const l = (latency[mut] ??= { n: 0, totalMs: 0, maxMs: 0 });
      l.n++; l.totalMs += res.ms; l.maxMs = Math.max(l.maxMs, res.ms);
      for (const f of evaluate(c, res)) {
        // 5xx bodies all read "Internal error": they are grouped by the server's logged stack once the run is over.
        if (f.cls === '5xx') { if (fiveHundreds.length < 5000) fiveHundreds.push({ c, res, f }); } else addFailure(groups, c, res, f);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  } finally {
    clearInterval(sampler);
    probing = false;
  }
  await prober;
  const durationMs = performance.now() - t0;
  await new Promise(r => setTimeout(r, 300)); // the last log lines
  // Measured before the replays below, which resend the largest requests.
  const endKB = rssKB(pid) ?? 0;
  const hwmKB = rssKB(pid, 'VmHWM') ?? 0;
  const gcEnd = exited === undefined ? await memoryAfterGc(inspectPort, pid) : undefined;
  const stacks = parseServerLog(stderr);
  for (const x of fiveHundreds) {
    const stack = stackFor(stacks, x.c);
    addFailure(groups, x.c, x.res, { ...x.f, sig: stack ? `5xx: ${stackSignature(stack)}` : x.f.sig, stack });
  }

  if (exited !== undefined) {
    const culprit = await findCrasher(suspects, port);
    const tail = stderr.split('\n').filter(l => !/^(Debugger |For help, see)/.test(l)).join('\n').slice(-1500);
    const detail = `${culprit ? `case ${culprit.index} alone crashes a fresh Gantry too` : 'no single recent request crashes a fresh Gantry alone'}; requests in flight or just ended: ${suspects.slice(0, 30).map(c => `case ${c.index} (${c.corpus}: ${c.mutation}: ${c.desc.slice(0, 60)})`).join('; ')}\nstderr tail: ${tail}`;
    groups.set('crash', { sig: `crash: Gantry exited with ${exited}`, cls: 'crash', count: 1, mutations: new Map(), example: culprit ?? suspects[0] ?? makeCase(Math.max(0, next - 1), seeds), result: { responses: [], closed: true, reset: false, timedOut: false, ms: 0 }, failure: { cls: 'crash', sig: 'crash', detail }, size: 0 });
  }

  for (const st of stalls) {
    const size = (c: Case) => c.chunks.reduce((n, b) => n + b.length, 0);
    const list = st.suspects.sort((a, b) => size(b) - size(a)).slice(0, 12).map(c => `case ${c.index} (${size(c)} bytes, ${c.corpus}: ${c.mutation}: ${c.desc.slice(0, 60)})`).join('; ');
    addFailure(groups, st.suspects[0] ?? makeCase(0, seeds), { responses: [], closed: false, reset: false, timedOut: false, ms: st.ms },
      { cls: 'hang', sig: `hang: the event loop was blocked for more than ${STALL_MS / 1000} s`, detail: `GET /gantry/v1/healthz took ${Math.round(st.ms)} ms${st.ms >= 15_000 ? ' (gave up)' : ''}; in flight, largest first: ${list}` });
  }

  if (stuck) {
    const detail = `requests in flight when the health probe first failed, oldest first: ${stuckSuspects.slice(0, 30).map(c => `case ${c.index} (${c.corpus}: ${c.mutation}: ${c.desc.slice(0, 60)})`).join('; ')}`;
    groups.set('stuck', { sig: 'stuck: Gantry did not answer GET /gantry/v1/healthz for 30 s', cls: 'stuck', count: 1, mutations: new Map(), example: stuckSuspects[0] ?? makeCase(Math.max(0, next - 1), seeds), result: { responses: [], closed: false, reset: false, timedOut: true, ms: 0 }, failure: { cls: 'stuck', sig: 'stuck', detail }, size: 0 });
  }

  // Replays: confirm each distinct failure alone (hangs are often collateral of another request), and shrink;
  // pointless against a server that is dead or busy.
  const ordered = [...groups.values()].sort((a, b) => order(a.cls) - order(b.cls) || b.count - a.count);
  mkdirSync(reportDir, { recursive: true });
  const replayUntil = performance.now() + 60_000;
  for (const [n, g] of ordered.entries()) {
    writeFileSync(join(reportDir, `repro-${n + 1}.bin`), Buffer.concat(g.example.chunks));
    if (n >= 25 || exited !== undefined || stuck || performance.now() > replayUntil) continue;
    const again = evaluate(g.example, await send(g.example, g.cls === 'hang' ? TIMEOUT_MS : 5000));
    g.replayed = again.some(f => f.cls === g.cls);
    if (g.cls !== 'hang') g.shrunk = await shrink(g, seeds);
  }

  await new Promise(r => setTimeout(r, 500));
  let healthyAtEnd = false;
  try { healthyAtEnd = exited === undefined && (await fetch(`http://127.0.0.1:${port}/gantry/v1/healthz`, { signal: AbortSignal.timeout(5000) })).status === 200; } catch { /* stays false */ }
  const mb = (kb: number) => Math.round(kb / 102.4) / 10;
  report = {
    seed: SEED, count: COUNT, sent: done, durationMs, byClass, byKind, byMutation, latency, validByCorpus,
    rss: { startMB: mb(startKB), secondQuarterMedianMB: mb(median(samples, 0.25, 0.5)), lastQuarterMedianMB: mb(median(samples, 0.75, 1.01)), peakMB: mb(Math.max(0, ...samples.map(x => x[1]))), endMB: mb(endKB), hwmMB: mb(hwmKB), samples: samples.map(([d, kb]) => [d, mb(kb)]) },
    gc: { start: gcStart, quarter: gcQuarter, end: gcEnd },
    groups: ordered, crashed: exited !== undefined, stuck, budgetExceeded, healthyAtEnd, stderr,
  };
  printSummary(report);
  writeFileSync(join(reportDir, 'report.json'), JSON.stringify({ ...report, groups: ordered.map(g => ({ sig: g.sig, count: g.count, mutations: Object.fromEntries(g.mutations), example: g.example.desc, corpus: g.example.corpus, response: describeResponse(g.result, g.failure) })), stderr: stderr.slice(0, 200_000) }, null, 1));
});

after(async () => {
  if (gantry && exited === undefined) await gantry.kill('SIGKILL');
  if (dataDir) rmSync(dataDir, { recursive: true, force: true });
  // The reproducers are only worth keeping when something failed.
  if (report && !report.groups.length) rmSync(reportDir, { recursive: true, force: true });
});

/** Median RSS (kB) over the samples taken while the run was between two fractions of its requests. */
function median(samples: [number, number][], from: number, to: number): number {
  const xs = samples.filter(([d]) => d >= from * COUNT && d < to * COUNT).map(x => x[1]).sort((a, b) => a - b);
  return xs.length ? xs[xs.length >> 1] : 0;
}

function order(c: FailureClass): number { return ['crash', 'stuck', 'hang', '5xx', 'no-response', 'bad-response', 'non-google-error', 'bad-success-body'].indexOf(c); }

function addFailure(groups: Map<string, Group>, c: Case, res: RawResult, f: Failure): void {
  const size = c.chunks.reduce((n, b) => n + b.length, 0);
  const mut = c.mutation.split('+')[0];
  const g = groups.get(f.sig);
  if (!g) { groups.set(f.sig, { sig: f.sig, cls: f.cls, count: 1, mutations: new Map([[mut, 1]]), example: c, result: res, failure: f, size }); return; }
  g.count++;
  g.mutations.set(mut, (g.mutations.get(mut) ?? 0) + 1);
  if (size < g.size) Object.assign(g, { example: c, result: res, failure: f, size });
}

/** Gantry's error log: `<time> ERROR <METHOD> <url, maybe clipped>: <stack>` per unexpected exception. */
function parseServerLog(text: string): { byKey: Map<string, string>; clipped: { method: string; prefix: string; stack: string }[] } {
  const byKey = new Map<string, string>();
  const clipped: { method: string; prefix: string; stack: string }[] = [];
  for (const block of text.split(/\n(?=\S+ ERROR )/)) {
    const m = /^\S+ ERROR (\S+) (.*?): ([\s\S]*)$/.exec(block);
    if (!m) continue;
    const stack = m[3].split('\n').slice(0, 8).join('\n');
    byKey.set(`${m[1]} ${m[2]}`, stack);
    if (/(…|\.\.\.)$/.test(m[2])) clipped.push({ method: m[1], prefix: m[2].replace(/(…|\.\.\.)$/, ''), stack });
  }
  return { byKey, clipped };
}

/** The logged stack of a 5xx, found by its request line's method and URL. */
function stackFor(log: ReturnType<typeof parseServerLog>, c: Case): string | undefined {
  const [method, url = ''] = Buffer.concat(c.chunks).subarray(0, 70_000).toString('latin1').split('\r\n')[0].split(' ');
  return log.byKey.get(`${method} ${url}`) ?? log.clipped.find(x => x.method === method && x.prefix.length > 20 && url.startsWith(x.prefix))?.stack;
}

/** An exception's message (ids and quoted text washed out) and the first frame inside Gantry's own code. */
function stackSignature(stack: string): string {
  const [msg, ...frames] = stack.split('\n');
  const frame = frames.find(f => /\/src\//.test(f)) ?? frames[0] ?? '';
  const where = /\/(src\/[^:)]+:\d+)/.exec(frame)?.[1] ?? frame.trim();
  return `${msg.replace(/"[^"]*"|'[^']*'/g, '…').replace(/\d+/g, '#').slice(0, 120)} at ${where}`;
}

function formatGroups(r: RunReport, limit = 20): string {
  const lines: string[] = [];
  r.groups.slice(0, limit).forEach((g, n) => {
    const c = g.shrunk ?? g.example;
    const muts = [...g.mutations.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([k, v]) => `${k}×${v}`).join(', ');
    lines.push(`#${n + 1} [${g.cls}] ${g.sig}`);
    lines.push(`   ${g.count} hits${muts ? ` via ${muts}` : ''}; example case ${g.example.index} (${g.example.corpus}: ${g.example.desc.slice(0, 120)})${g.replayed === undefined ? '' : g.replayed ? '; reproduces alone' : '; did NOT reproduce alone'}`);
    lines.push(`   repro: ${reproText(c, port, join(reportDir, `repro-${n + 1}.bin`))}`);
    lines.push(`   got:   ${describeResponse(g.result, g.failure)}`);
    if (g.failure.stack) lines.push(`   server: ${g.failure.stack.split('\n').slice(0, 6).join('\n           ')}`);
    if (g.cls === 'crash' || g.cls === 'stuck') lines.push(`   ${g.failure.detail}`);
  });
  if (r.groups.length > limit) lines.push(`… and ${r.groups.length - limit} more distinct failures in ${join(reportDir, 'report.json')}`);
  return lines.join('\n');
}

function printSummary(r: RunReport): void {
  const fmt = (o: Record<string, number>) => Object.entries(o).sort().map(([k, v]) => `${k} ${v}`).join(', ');
  const lines = [
    `fuzz summary: seed ${r.seed}, ${r.sent}/${r.count} requests in ${(r.durationMs / 1000).toFixed(1)} s (${Math.round(r.sent / (r.durationMs / 1000))}/s)`,
    `  responses: ${fmt(r.byClass)}`,
    ...Object.entries(r.byKind).sort().map(([k, v]) => `  ${k.padEnd(8)} ${fmt(v)}`),
    `  RSS MB (sampled): start ${r.rss.startMB}, median 25–50% ${r.rss.secondQuarterMedianMB}, median 75–100% ${r.rss.lastQuarterMedianMB}, peak ${r.rss.peakMB}, end ${r.rss.endMB}, high-water ${r.rss.hwmMB}`,
    `  after full GC (RSS / heap used / external MB): ${(['start', 'quarter', 'end'] as const).map(k => { const m = r.gc[k]; return `${k} ${m ? `${m.rssMB} / ${m.heapUsedMB} / ${m.externalMB} (heap total ${m.heapTotalMB}, RSS anon ${m.anonMB ?? '?'}, file ${m.fileMB ?? '?'})` : 'n/a'}`; }).join(', ')}`,
    `  server ${r.crashed ? 'CRASHED' : r.stuck ? 'STUCK' : 'alive'}${r.budgetExceeded ? ', time budget exceeded' : ''}, healthz at end ${r.healthyAtEnd ? 'ok' : 'FAILED'}`,
    `  slowest mutations (total ms / max ms): ${Object.entries(r.latency).sort((a, b) => b[1].totalMs - a[1].totalMs).slice(0, 8).map(([k, v]) => `${k} ${Math.round(v.totalMs)}/${Math.round(v.maxMs)}`).join(', ')}`,
    `  unmutated corpus entries that never got a 2xx: ${Object.entries(r.validByCorpus).filter(([, v]) => !v['2xx']).map(([k, v]) => `${k} [${fmt(v)}]`).join('; ') || 'none'}`,
    `  per mutation: ${Object.entries(r.byMutation).sort().map(([k, v]) => `${k} [${fmt(v)}]`).join('; ')}`,
    // Reproducers go to the failing tests' messages and report.txt: TAP comments would escape their backslashes.
    r.groups.length ? `  ${r.groups.length} distinct failures (details: ${join(reportDir, 'report.txt')}):\n${r.groups.map((g, n) => `   #${n + 1} ${g.count}× ${g.sig}`).join('\n')}` : '  no failures',
  ];
  console.log(lines.join('\n'));
  if (r.groups.length) writeFileSync(join(reportDir, 'report.txt'), `${lines.slice(0, -1).join('\n')}\n\n${formatGroups(r, Infinity)}\n`);
}

function failuresOf(...classes: FailureClass[]): string {
  const sub = { ...report, groups: report.groups.filter(g => classes.includes(g.cls)) };
  const n = sub.groups.reduce((s, g) => s + g.count, 0);
  return n ? `${n} failing responses in ${sub.groups.length} groups (seed ${report.seed}):\n${formatGroups(sub)}` : '';
}

test('the fuzz run completes: the server neither crashes nor gets stuck, and answers healthz at the end', () => {
  assert.ok(!report.crashed, `Gantry exited during the run:\n${failuresOf('crash')}`);
  assert.ok(!report.stuck, `Gantry stopped answering its health probe during the run:\n${failuresOf('stuck', 'hang')}`);
  assert.ok(!report.budgetExceeded, `only ${report.sent} of ${report.count} requests in ${BUDGET_MS} ms`);
  assert.equal(report.sent, report.count);
  assert.ok(report.healthyAtEnd, 'GET /gantry/v1/healthz failed after the run');
});

test('no request hangs', () => { const f = failuresOf('hang'); assert.ok(!f, f); });

test('no 5xx other than 501 UNIMPLEMENTED for a method or API Gantry does not serve', () => { const f = failuresOf('5xx'); assert.ok(!f, f); });

test('every error is a google.rpc.Status body, every request gets an answer unless the HTTP parser must refuse it', () => {
  const f = failuresOf('non-google-error', 'no-response', 'bad-response', 'bad-success-body');
  assert.ok(!f, f);
});

test('RSS stays bounded', { skip: process.platform !== 'linux' && 'reads /proc' }, t => {
  if (report.crashed || report.stuck) { t.skip(`Gantry ${report.crashed ? 'crashed' : 'got stuck'}`); return; }
  const { hwmMB } = report.rss;
  const { quarter, end } = report.gc;
  assert.ok(hwmMB < RSS_PEAK_LIMIT_MB, `RSS high-water mark ${hwmMB} MB ≥ ${RSS_PEAK_LIMIT_MB} MB`);
  assert.ok(quarter && end, 'memory after GC could not be read through the inspector');
  assert.ok(end.rssMB < RSS_END_LIMIT_MB, `RSS after GC at the end ${end.rssMB} MB ≥ ${RSS_END_LIMIT_MB} MB`);
  assert.ok(end.rssMB <= quarter.rssMB * RSS_GROWTH_FACTOR + RSS_GROWTH_SLACK_MB, `RSS after GC grew from ${quarter.rssMB} MB at 25% of the run to ${end.rssMB} MB at its end`);
  assert.ok(end.heapUsedMB <= quarter.heapUsedMB + HEAP_GROWTH_SLACK_MB, `heap after GC grew from ${quarter.heapUsedMB} MB at 25% of the run to ${end.heapUsedMB} MB at its end`);
});

// ---------------------------------------------------------------------------------------------------
// Logging filters (issue 23), apart from the run above: filters generated from the Logging query language's grammar
// (fields, operators, value groups, log_id, NOT/-, OR/AND, nesting, bare words, thousands of OR'd words) and then
// mutated, against an in-process Gantry holding a few thousand entries. Each answer is a 200 or a 400
// google.rpc.Status within a bound, and the event loop is never held for long: one query must not stall the server.
// GANTRY_FUZZ_FILTERS overrides the count; the seed is the run's.

const FILTER_COUNT = Number(env.GANTRY_FUZZ_FILTERS ?? 400);
const FILTER_ENTRIES = 3_000;
const FILTER_FIELDS = ['resource.type', 'resource.labels.project_id', 'severity', 'timestamp', 'receiveTimestamp', 'textPayload', 'jsonPayload',
  'jsonPayload.user.name', 'jsonPayload.n', 'jsonPayload.tags', 'labels.k', 'labels."run.googleapis.com/task_index"', 'logName', 'insertId',
  'httpRequest.status', 'no.such.field', 'resource', '"quoted".path', 'labels.'];
const FILTER_OPS = ['=', '!=', '<', '>', '<=', '>=', ':', '=~', '!~'];
const FILTER_WORDS = ['ERROR', 'INFO', 'warning', 'ada', 'line', '42', '-7', '3.5e2', '2026-01-01T00:00:01Z', '*', 'true', 'null', 'global', 'héllo', '日本', 'a\\"b', ''];

function filterValue(rng: Rng): string {
  const w = rng.weighted<() => string>([
    [() => rng.pick(FILTER_WORDS), 6],
    [() => `"${rng.pick(FILTER_WORDS)} ${rng.pick(FILTER_WORDS)}"`, 2],
    [() => String(rng.range(-1000, 100000)), 2],
    [() => 'x'.repeat(rng.range(100, 3000)), 1],
    [() => `"${String.fromCharCode(...Array.from({ length: rng.range(1, 20) }, () => rng.range(0, 0xffff)))}"`, 1],
  ]);
  return w();
}

function filterTerm(rng: Rng, depth: number): string {
  const pick = rng.weighted<() => string>([
    [() => `${rng.pick(FILTER_FIELDS)}${rng.pick(FILTER_OPS)}${filterValue(rng)}`, 8],
    [() => `${rng.pick(FILTER_FIELDS)} ${rng.pick(FILTER_OPS)} (${Array.from({ length: rng.range(1, 5) }, () => filterValue(rng)).join(rng.chance(0.7) ? ' OR ' : ' ')})`, 2],
    [() => filterValue(rng), 3],
    [() => `log_id("${rng.pick(['app', 'run.googleapis.com/stdout', 'x y'])}")`, 1],
    [() => `${rng.pick(['NOT ', '-', 'NOT -'])}${filterTerm(rng, depth + 1)}`, 2],
    [() => (depth > 90 ? filterValue(rng) : `(${filterExpr(rng, depth + 1)})`), 2],
  ]);
  return pick();
}

function filterExpr(rng: Rng, depth = 0): string {
  const n = rng.range(1, depth > 4 ? 2 : 4);
  return Array.from({ length: n }, () => filterTerm(rng, depth)).reduce((a, b) => `${a}${rng.pick([' ', ' AND ', ' OR ', '\n', ' AND\n'])}${b}`);
}

function logFilter(rng: Rng): string {
  let f = rng.weighted<() => string>([
    [() => filterExpr(rng), 12],
    // Many terms (words no entry holds, so every one is tried): up to past the term cap and the length limit.
    [() => Array.from({ length: rng.range(500, 3500) }, (_, i) => `zq${i.toString(36)}`).join(rng.pick([' OR ', ' OR ', ' '])), 2],
    [() => Array.from({ length: rng.range(100, 800) }, () => `textPayload:${rng.pick(FILTER_WORDS) || 'z'}`).join(' OR '), 1],
    // Deep nesting: around the depth cap.
    [() => { const d = rng.range(40, 120); return '('.repeat(d) + 'line' + ')'.repeat(d); }, 1],
    [() => { const d = rng.range(20, 80); return 'NOT '.repeat(d) + 'ada'; }, 1],
  ])();
  // Mutations: delete, insert or duplicate a slice, cut.
  for (let m = rng.weighted([[0, 5], [1, 3], [3, 1]] as const); m > 0; m--) {
    const at = rng.int(f.length + 1);
    f = rng.weighted<() => string>([
      [() => f.slice(0, at) + f.slice(at + rng.range(1, 5)), 2],
      [() => f.slice(0, at) + rng.pick(['(', ')', '"', '\\', ':', '=', '<', '>', '!', '~', '-', '*', ' ', '\n', '.', 'OR', 'AND', 'NOT', '\u0000']) + f.slice(at), 3],
      [() => f.slice(0, at) + f.slice(Math.max(0, at - 50), at) + f.slice(at), 1],
      [() => f.slice(0, at), 1],
    ])();
  }
  return f;
}

test('Logging filters: generated and mutated filters get a 200 or a 400 google.rpc.Status, in bounded time, never holding the server', async t => {
  const g = await startTestGantry();
  const post = async (path: string, body: unknown) => {
    const r = await fetch(g.url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify(body) });
    return { status: r.status, text: await r.text() };
  };
  const delay = monitorEventLoopDelay({ resolution: 10 });
  try {
    const seed = new Rng(SEED ^ 0x10661ab);
    const base = Date.parse('2026-01-01T00:00:00Z');
    for (let b = 0; b < FILTER_ENTRIES; b += 1000) {
      const r = await post('/v2/entries:write', { resource: { type: 'global' }, entries: Array.from({ length: 1000 }, (_, k) => {
        const i = b + k;
        return {
          logName: `projects/fz/logs/${seed.pick(['app', 'run.googleapis.com%2Fstdout', 'x%20y'])}`, timestamp: new Date(base + i * 10).toISOString(),
          severity: seed.pick(['DEBUG', 'INFO', 'WARNING', 'ERROR']), labels: { k: seed.pick(FILTER_WORDS), 'run.googleapis.com/task_index': String(i % 3) },
          ...(seed.chance(0.5) ? { textPayload: `line ${i} ${seed.pick(FILTER_WORDS)} ${'hay '.repeat(seed.range(0, 60))}` }
            : { jsonPayload: { user: { name: seed.pick(FILTER_WORDS) }, n: seed.range(-50, 50), tags: [seed.pick(FILTER_WORDS), seed.pick(FILTER_WORDS)] } }),
          ...(seed.chance(0.2) ? { httpRequest: { status: seed.pick([200, 404, 500]) } } : {}),
        };
      }) });
      assert.equal(r.status, 200, r.text);
    }
    delay.enable();
    const failures: string[] = [];
    let next = 0, ok = 0, refused = 0, slowest = 0;
    const worker = async () => {
      while (next < FILTER_COUNT && failures.length < 10) {
        const i = next++;
        const rng = new Rng((SEED ^ Math.imul(i + 1, 0x9e3779b1)) >>> 0);
        const filter = logFilter(rng);
        const t0 = performance.now();
        const where = `case ${i} (seed ${SEED}), filter ${JSON.stringify(filter.slice(0, 300))}${filter.length > 300 ? `… (${filter.length} chars)` : ''}`;
        let r: { status: number; text: string };
        try {
          r = await post('/v2/entries:list', { resourceNames: ['projects/fz'], filter, pageSize: rng.pick([1, 10, 1000]), orderBy: rng.pick(['timestamp asc', 'timestamp desc']) });
        } catch (e) {
          failures.push(`${where}: no answer after ${(performance.now() - t0).toFixed(0)} ms (${(e as Error).message})`);
          continue;
        }
        const ms = performance.now() - t0;
        slowest = Math.max(slowest, ms);
        let body: { entries?: unknown[]; error?: { status?: string; message?: string; code?: number } } | undefined;
        try { body = JSON.parse(r.text); } catch { /* below */ }
        if (ms > 15_000) failures.push(`${where}: took ${ms.toFixed(0)} ms`);
        else if (r.status === 200 && body && !body.error && (body.entries === undefined || Array.isArray(body.entries))) ok++;
        else if (r.status === 400 && body?.error?.status === 'INVALID_ARGUMENT' && body.error.code === 400 && typeof body.error.message === 'string') refused++;
        else failures.push(`${where}: ${r.status} ${r.text.slice(0, 300)}`);
      }
    };
    await Promise.all(Array.from({ length: 6 }, worker));
    delay.disable();
    const maxDelay = delay.max / 1e6;
    t.diagnostic(`logging filters: ${ok} answered, ${refused} refused, slowest ${slowest.toFixed(0)} ms, event loop held at most ${maxDelay.toFixed(0)} ms (seed ${SEED})`);
    assert.deepEqual(failures, []);
    assert.ok(ok > FILTER_COUNT / 10 && refused > FILTER_COUNT / 20, `the generator reaches both answers: ${ok} answered, ${refused} refused`);
    assert.ok(maxDelay < 1_000, `a query held the event loop for ${maxDelay.toFixed(0)} ms`);
  } finally {
    delay.disable();
    await g.close();
  }
});

// ---------------------------------------------------------------------------------------------------
// Snapshot import: a snapshot is untrusted input. Mutated snapshots (lines dropped, duplicated, replaced by junk,
// values anywhere swapped for hostile ones) get 200 or 400, never a 5xx, and afterwards every read answers without
// a 5xx. Its own Gantry (a child, so a crash shows), its own PRNG stream of the run's seed.

const SNAPSHOT_CASES = Number(env.GANTRY_FUZZ_SNAPSHOT_COUNT ?? 300);

test('snapshot import: mutated snapshots get 200 or 400, never a 5xx, and later reads never 5xx', async () => {
  const g = await spawnGantry(['--ephemeral', '--clock', 'virtual', '--log-level', 'error', '--render-duration', '1s', '--job-duration', '1s']);
  let serverLog = '';
  g.proc.stderr!.on('data', (d: Buffer) => { serverLog += d.toString(); if (serverLog.length > 100_000) serverLog = serverLog.slice(-50_000); });
  const ask = async (method: string, path: string, body?: string, type = 'application/json') => {
    const r = await fetch(g.url + path, { method, ...(body === undefined ? {} : { body, headers: { 'content-type': type } }) });
    return { status: r.status, text: await r.text() };
  };
  const loc = 'projects/snapfuzz/locations/us-central1';
  try {
    // A state with most kinds: Cloud Deploy (a rendered release, a rollout and its job runs), Cloud Run (a job, an
    // execution, its tasks), Secret Manager, Cloud Storage (objects and their bytes), logs and an outcome script.
    const setup: [string, string, unknown][] = [
      ['POST', `/v1/${loc}/targets?targetId=dev`, { run: { location: loc } }],
      ['POST', `/v1/${loc}/deliveryPipelines?deliveryPipelineId=app`, { serialPipeline: { stages: [{ targetId: 'dev', strategy: { standard: { verify: true } } }] } }],
      ['POST', `/v1/${loc}/deliveryPipelines/app/releases?releaseId=r1`, {}],
      ['POST', '/gantry/v1/clock:advance', { duration: '1m' }],
      ['POST', `/v1/${loc}/deliveryPipelines/app/releases/r1/rollouts?rolloutId=ro`, { targetId: 'dev' }],
      ['POST', `/v2/${loc}/jobs?jobId=batch`, { template: { taskCount: 2, template: { containers: [{ image: 'busybox' }] } } }],
      ['POST', `/v2/${loc}/jobs/batch:run`, {}],
      ['POST', '/v1/projects/snapfuzz/secrets?secretId=token', { replication: { automatic: {} } }],
      ['POST', '/v1/projects/snapfuzz/secrets/token:addVersion', { payload: { data: 'czNjcjN0' } }],
      ['POST', '/v2/entries:write', { entries: [{ logName: 'projects/snapfuzz/logs/app', resource: { type: 'global' }, textPayload: 'hello' }] }],
      ['POST', '/gantry/v1/outcomes', { scope: `${loc}/deliveryPipelines/app`, rules: '*/verify=succeed~5s' }],
      ['POST', '/gantry/v1/clock:advance', { duration: '2s' }],
    ];
    for (const [m, p, b] of setup) assert.equal((await ask(m, p, JSON.stringify(b))).status, 200, `${m} ${p}`);
    const base = (await ask('GET', '/gantry/v1/snapshot')).text.split('\n').filter(Boolean);
    assert.ok(base.length > 10);
    const bucket = 'us-central1.deploy-artifacts.snapfuzz.appspot.com';
    const reads = [
      `/v1/${loc}/targets`, `/v1/${loc}/targets/dev`, `/v1/${loc}/deliveryPipelines`, `/v1/${loc}/deliveryPipelines/app/releases`,
      `/v1/${loc}/deliveryPipelines/app/releases/r1`, `/v1/${loc}/deliveryPipelines/app/releases/r1/rollouts`,
      `/v1/${loc}/deliveryPipelines/app/releases/r1/rollouts/ro/jobRuns`, `/v1/${loc}/deliveryPipelines/app/releases/-/rollouts?filter=state%3DSUCCEEDED`,
      `/v1/${loc}/operations`, `/v2/${loc}/jobs`, `/v2/${loc}/jobs/batch/executions`, `/v2/${loc}/operations`,
      `/apis/run.googleapis.com/v1/namespaces/snapfuzz/jobs`, `/apis/run.googleapis.com/v1/namespaces/snapfuzz/executions`, `/apis/run.googleapis.com/v1/namespaces/snapfuzz/tasks`,
      '/v1/projects/snapfuzz/secrets', '/v1/projects/snapfuzz/secrets/token/versions/latest:access',
      `/storage/v1/b?project=snapfuzz`, `/storage/v1/b/${bucket}`, `/storage/v1/b/${bucket}/o`,
      '/gantry/v1/outcomes', '/gantry/v1/projects', '/gantry/v1/snapshot', '/gantry/v1/snapshot?project=snapfuzz',
    ];
    const objectNames = base.filter(l => l.includes('"kind":"storageObject"')).map(l => (JSON.parse(l) as { resource: { data: { name: string } } }).resource.data.name);
    for (const o of objectNames) reads.push(`/storage/v1/b/${bucket}/o/${encodeURIComponent(o)}?alt=media`);

    const failures: string[] = [];
    const hostileValues = (r: Rng): unknown => r.pick<() => unknown>([
      () => null, () => r.int(2) === 0, () => r.range(-5, 5), () => 1e308, () => -0.5, () => '', () => '..', () => '../../../../etc/passwd',
      () => '/etc/passwd', () => 'a\u0000b', () => 'x'.repeat(r.pick([300, 70_000])), () => [], () => [null], () => ({}), () => ({ name: null }),
      () => '0'.repeat(64), () => 'f'.repeat(64), () => '2024-13-45T99:99:99Z', () => 'projects/other/locations/us-central1',
      () => JSON.parse('['.repeat(150) + ']'.repeat(150)) as unknown, () => 'storageObject', () => 'run.execution', () => 'ghost', () => '\u202e\ud800',
    ])();
    /**
     * The places a mutation replaces or deletes: a line's envelope (its field, the payload's fields: names, kinds,
     * parents, times, data as a whole, log and meta fields, blob ids and bytes) and a stored object's pointer to its
     * bytes. Fields inside a resource's data are each API's own and are not fuzzed here.
     */
    const slots = (l: unknown): [Record<string, unknown>, string][] => {
      if (l === null || typeof l !== 'object' || Array.isArray(l)) return [];
      const out: [Record<string, unknown>, string][] = [];
      for (const [k, payload] of Object.entries(l as Record<string, unknown>)) {
        out.push([l as Record<string, unknown>, k]);
        if (payload === null || typeof payload !== 'object' || Array.isArray(payload)) continue;
        for (const f of Object.keys(payload)) out.push([payload as Record<string, unknown>, f]);
        // An earlier mutation of this case may have made data a scalar; only an object has fields to mutate.
        const data = (payload as { kind?: unknown; data?: unknown }).kind === 'storageObject' ? (payload as { data: unknown }).data : undefined;
        if (data !== null && typeof data === 'object' && !Array.isArray(data)) for (const f of ['gantryBlob', 'size', 'name', 'bucket']) out.push([data as Record<string, unknown>, f]);
      }
      return out;
    };
    const junkLines = ['null', '42', '"x"', '[]', '{}', 'true', '{"resource":null}', '{"log":null}', '{"meta":null}', '{"blob":null}', '{"snapshot":null}',
      '['.repeat(100_000) + ']'.repeat(100_000), '{"a":'.repeat(50_000) + '1' + '}'.repeat(50_000), '{"resource":{}}', '{"blob":{"id":"../x","data":"AA=="}}', '\u0000', '{"resource":'];
    const mutate = (r: Rng): { lines: string[]; desc: string } => {
      const lines = [...base];
      const n = r.range(1, 3);
      const desc: string[] = [];
      for (let k = 0; k < n; k++) {
        const i = r.int(lines.length);
        switch (r.weighted([['value', 6], ['delete', 2], ['junk', 2], ['drop', 1], ['dup', 1], ['swap', 1], ['truncate', 1]] as const)) {
          case 'value': case 'delete': {
            let l: unknown;
            try { l = JSON.parse(lines[i]); } catch { break; }
            const s = slots(l);
            if (!s.length) break;
            const [c, key] = r.pick(s);
            if (r.chance(0.25)) { delete c[key]; desc.push(`line ${i + 1}: delete ${key}`); } else { c[key] = hostileValues(r); desc.push(`line ${i + 1}: ${key} = …`); }
            lines[i] = JSON.stringify(l);
            break;
          }
          case 'junk': lines[i] = r.pick(junkLines); desc.push(`line ${i + 1}: junk`); break;
          case 'drop': lines.splice(i, 1); desc.push(`line ${i + 1}: dropped`); break;
          case 'dup': lines.splice(i, 0, lines[i]); desc.push(`line ${i + 1}: twice`); break;
          case 'swap': { const j = r.int(lines.length); [lines[i], lines[j]] = [lines[j], lines[i]]; desc.push(`lines ${i + 1}, ${j + 1}: swapped`); break; }
          case 'truncate': lines[i] = lines[i].slice(0, r.int(lines[i].length)); desc.push(`line ${i + 1}: truncated`); break;
        }
      }
      return { lines, desc: desc.join('; ') };
    };
    const counts: Record<number, number> = {};
    for (let i = 0; i < SNAPSHOT_CASES && failures.length < 10; i++) {
      const r = new Rng((SEED ^ 0x5eed5) + i * 0x9e3779b1);
      const { lines, desc } = i === 0 ? { lines: base, desc: 'the snapshot as exported' } : mutate(r);
      const project = r.chance(0.2) ? '?project=snapfuzz' : '';
      const res = await ask('POST', `/gantry/v1/snapshot:import${project}`, lines.join('\n'), 'application/x-ndjson');
      counts[res.status] = (counts[res.status] ?? 0) + 1;
      if (i === 0 && res.status !== 200) failures.push(`the exported snapshot did not import: ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status !== 200 && res.status !== 400) failures.push(`case ${i} (${desc}${project}): import answered ${res.status} ${res.text.slice(0, 300)}`);
      if (res.status === 400 && !/"status":"INVALID_ARGUMENT"/.test(res.text)) failures.push(`case ${i} (${desc}): a 400 that is not a google.rpc.Status: ${res.text.slice(0, 200)}`);
      if (res.status !== 200) continue;
      for (const path of reads) {
        const rr = await ask('GET', path);
        if (rr.status >= 500) failures.push(`case ${i} (${desc}${project}): then GET ${path} answered ${rr.status} ${rr.text.slice(0, 200)}`);
      }
      // Whatever was imported exports again and imports back.
      const again = await ask('POST', '/gantry/v1/snapshot:import', (await ask('GET', '/gantry/v1/snapshot')).text, 'application/x-ndjson');
      if (again.status !== 200) failures.push(`case ${i} (${desc}${project}): its re-export did not import: ${again.status} ${again.text.slice(0, 300)}`);
    }
    assert.ok(g.proc.exitCode === null, `Gantry exited:\n${serverLog.slice(-3000)}`);
    assert.equal((await ask('GET', '/gantry/v1/healthz')).status, 200);
    assert.deepEqual(failures, [], `seed ${SEED}; answers ${JSON.stringify(counts)}\n${serverLog.slice(-3000)}`);
    assert.ok((counts[200] ?? 0) > 0 && (counts[400] ?? 0) > 0, `both valid and refused snapshots were tried: ${JSON.stringify(counts)}`);
  } finally {
    await g.kill();
  }
});
