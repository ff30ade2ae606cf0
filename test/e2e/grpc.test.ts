// The official libraries on their default transport (gRPC over cleartext HTTP/2, on the same port as REST):
// @google-cloud/secret-manager, @google-cloud/logging (reads and a streaming tail) and @google-cloud/run, plus what a
// raw gRPC client can throw at the port: unknown methods, malformed and oversize messages, the wrong content type,
// missing tokens, deadlines and clients that go away mid-call.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, constants } from 'node:http2';
import * as grpc from '@grpc/grpc-js';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { Logging, type Entry } from '@google-cloud/logging';
import { ExecutionsClient, JobsClient } from '@google-cloud/run';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gapicDeploy, gapicOptions } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'grpc-proj';
const LOC = `projects/${PROJECT}/locations/us-central1`;
let g: Gantry;
let address: string;

before(async () => {
  g = await startTestGantry({ executor: 'process' });
  address = `127.0.0.1:${g.port}`;
});
after(async () => { await g.close(); });

/** Timers and other handles the process holds: a call that left work behind leaves one more. */
const timers = () => process.getActiveResourcesInfo().filter(r => r === 'Timeout').length;

/** A raw unary call: bytes in, the status (and bytes) out. */
function rawCall(client: grpc.Client, path: string, body: Buffer, opts: grpc.CallOptions = {}, md = new grpc.Metadata()): Promise<{ code: number; details: string; bytes?: Buffer; metadata?: grpc.Metadata }> {
  return new Promise(resolve => {
    client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, body, md, opts, (err, bytes) => {
      resolve(err ? { code: err.code, details: err.details, metadata: err.metadata } : { code: 0, details: '', bytes });
    });
  });
}

test('@google-cloud/secret-manager: create a secret, add versions, access the latest; errors with their gRPC codes', async () => {
  const sm = new SecretManagerServiceClient(gapicOptions(g.url) as ConstructorParameters<typeof SecretManagerServiceClient>[0]);
  try {
    const [secret] = await sm.createSecret({ parent: `projects/${PROJECT}`, secretId: 'db-password', secret: { replication: { automatic: {} }, labels: { app: 'shop' } } });
    // Secret Manager names its resources by project number.
    assert.match(secret.name!, /^projects\/\d{12}\/secrets\/db-password$/);
    assert.ok(secret.createTime?.seconds);
    await sm.addSecretVersion({ parent: secret.name, payload: { data: Buffer.from('first') } });
    const [v2] = await sm.addSecretVersion({ parent: secret.name, payload: { data: Buffer.from('s3cr3t') } });
    assert.match(v2.name!, /\/versions\/2$/);
    assert.equal(v2.state, 'ENABLED');
    const [access] = await sm.accessSecretVersion({ name: `${secret.name}/versions/latest` });
    assert.equal(Buffer.from(access.payload!.data as Uint8Array).toString(), 's3cr3t');
    assert.ok(access.payload!.dataCrc32c, 'the checksum rides along');
    const [versions] = await sm.listSecretVersions({ parent: secret.name });
    assert.equal(versions.length, 2);
    await assert.rejects(sm.createSecret({ parent: `projects/${PROJECT}`, secretId: 'db-password', secret: { replication: { automatic: {} } } }), (e: { code: number }) => e.code === 6);
    await assert.rejects(sm.accessSecretVersion({ name: `projects/${PROJECT}/secrets/none/versions/latest` }), (e: { code: number }) => e.code === 5);
    await assert.rejects(sm.getSecret({ name: 'secrets/x' }), (e: { code: number; message: string }) => e.code === 3 && /name/.test(e.message));
    // A name too long for any trailer: the error still arrives (its detail quoting the name clipped), at once.
    const t0 = performance.now();
    await assert.rejects(sm.getSecret({ name: `projects/${PROJECT}/secrets/${'x'.repeat(70_000)}` }, { timeout: 10_000 }),
      (e: { code: number; statusDetails?: unknown[] }) => (e.code === 5 || e.code === 3) && Array.isArray(e.statusDetails));
    assert.ok(performance.now() - t0 < 5000, `answered after ${performance.now() - t0} ms`);
  } finally {
    await sm.close();
  }
});

test('@google-cloud/logging: a job\'s task lines read with getEntries, and a tail streams the lines of the next run', async () => {
  const jobs = new JobsClient(gapicOptions(g.url) as ConstructorParameters<typeof JobsClient>[0]);
  const logging = new Logging({ projectId: PROJECT, ...gapicOptions(g.url) });
  try {
    const [op] = await jobs.createJob({ parent: LOC, jobId: 'printer', job: { template: { taskCount: 2, template: { maxRetries: 0, containers: [{ image: 'busybox', command: ['sh', '-c', 'echo "line from task $CLOUD_RUN_TASK_INDEX of $RUN_ID"'] }] } } } });
    await op.promise();
    const run = async (id: string) => (await (await jobs.runJob({ name: `${LOC}/jobs/printer`, overrides: { containerOverrides: [{ env: [{ name: 'RUN_ID', value: id }] }] } }))[0].promise())[0];
    await run('first');
    const filter = 'resource.type="cloud_run_job" AND resource.labels.job_name="printer"';
    const [entries] = await logging.getEntries({ filter, orderBy: 'timestamp asc' });
    const lines = entries.map(e => String(e.data)).filter(l => l.includes('of first')).sort();
    assert.deepEqual(lines, ['line from task 0 of first', 'line from task 1 of first']);
    assert.equal(entries[0].metadata.resource?.type, 'cloud_run_job');

    const before = timers();
    const tail = logging.tailEntries({ filter, bufferWindow: 100 } as never);
    const seen: string[] = [];
    tail.on('data', (chunk: { entries: Entry[] }) => { for (const e of chunk.entries) seen.push(String(e.data)); });
    const ended = new Promise<number | undefined>(resolve => { tail.on('error', (e: { code?: number }) => resolve(e.code)); tail.on('end', () => resolve(undefined)); });
    // The tail starts once the client resolved its project: wait until the stream is open before writing.
    await eventually(() => timers() > before, 5_000);
    await run('second');
    await eventually(() => seen.filter(l => l.includes('of second')).length === 2, 10_000);
    assert.ok(!seen.some(l => l.includes('of first')), 'a tail shows only what is written after it starts');
    (tail as unknown as { abort(): void }).abort();
    assert.equal(await ended, grpc.status.CANCELLED);
    await eventually(() => timers() <= before, 5_000);
  } finally {
    await jobs.close();
  }
});

test('raw gRPC: unknown methods, malformed and oversize messages, wrong names get proper statuses; the port still serves REST', async () => {
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const unknown = await rawCall(client, '/google.cloud.deploy.v1.CloudDeploy/Nope', Buffer.alloc(0));
    assert.equal(unknown.code, grpc.status.UNIMPLEMENTED);
    const unknownService = await rawCall(client, '/google.example.Nothing/Get', Buffer.alloc(0));
    assert.equal(unknownService.code, grpc.status.UNIMPLEMENTED);
    for (const bytes of [[0x0a, 0x05, 0x61], [0xff, 0xff], [0x0b]]) {
      const malformed = await rawCall(client, '/google.cloud.deploy.v1.CloudDeploy/GetTarget', Buffer.from(bytes));
      assert.equal(malformed.code, grpc.status.INVALID_ARGUMENT, `${bytes}: ${malformed.details}`);
      assert.match(malformed.details, /GetTargetRequest/);
    }
    const huge = await rawCall(client, '/google.cloud.deploy.v1.CloudDeploy/GetTarget', Buffer.alloc(11 * 1024 * 1024, 0x41));
    assert.equal(huge.code, grpc.status.RESOURCE_EXHAUSTED);
    // An empty GetTargetRequest has no name: INVALID_ARGUMENT naming the field, with a BadRequest in the details.
    const empty = await rawCall(client, '/google.cloud.deploy.v1.CloudDeploy/GetTarget', Buffer.alloc(0));
    assert.equal(empty.code, grpc.status.INVALID_ARGUMENT);
    assert.match(empty.details, /name/);
    assert.ok(empty.metadata?.get('grpc-status-details-bin').length, 'grpc-status-details-bin');
    // HTTP/1.1 on the same port, while a gRPC connection is open.
    assert.equal((await fetch(`${g.url}/gantry/v1/healthz`)).status, 200);
  } finally {
    client.close();
  }
  // Not gRPC at all on an HTTP/2 connection: refused by the gRPC server, not a crash.
  const session = connect(g.url);
  try {
    const status = await new Promise<number>((resolve, reject) => {
      const req = session.request({ [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: '/google.cloud.deploy.v1.CloudDeploy/GetTarget', 'content-type': 'application/json' });
      req.on('response', h => resolve(Number(h[constants.HTTP2_HEADER_STATUS])));
      req.on('error', reject);
      req.end('{}');
    });
    assert.equal(status, 415);
  } finally {
    session.close();
  }
  assert.equal((await fetch(`${g.url}/gantry/v1/healthz`)).status, 200);
});

test('fuzz: 3,000 random and mutated messages to random methods get a gRPC status, never INTERNAL; Gantry keeps serving', async () => {
  const { protoRoot, SERVICE_FILES } = await import('../../src/grpc/protos.js');
  const root = protoRoot();
  const methods = Object.keys(SERVICE_FILES).flatMap(s => root.lookupService(s).methodsArray.filter(m => !m.requestStream && !m.responseStream).map(m => ({ path: `/${s}/${m.name}`, type: m.resolvedRequestType! })));
  let seed = 0x9e3779b9;
  const rnd = () => { seed = (seed + 0x6d2b79f5) >>> 0; let t = Math.imul(seed ^ (seed >>> 15), seed | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32; };
  const names = [`${LOC}/deliveryPipelines/x`, `${LOC}/targets/x`, 'projects/p', `${LOC}/jobs/x`, `${LOC}/operations/x`, '', '../..', 'projects/%2F/x', 'a'.repeat(5000)];
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  const codes = new Map<number, number>();
  try {
    for (let i = 0; i < 3000; i += 50) {
      await Promise.all(Array.from({ length: 50 }, async () => {
        const m = methods[Math.floor(rnd() * methods.length)];
        let bytes: Buffer;
        const kind = rnd();
        if (kind < 0.3) {
          bytes = Buffer.from(Array.from({ length: Math.floor(rnd() * 64) }, () => Math.floor(rnd() * 256)));
        } else {
          const fields: Record<string, unknown> = {};
          for (const f of m.type.fieldsArray) if (f.type === 'string' && !f.repeated && !f.map && rnd() < 0.7) fields[f.name] = names[Math.floor(rnd() * names.length)];
          bytes = Buffer.from(m.type.encode(m.type.fromObject(fields)).finish());
          if (kind > 0.8 && bytes.length) for (let k = 0; k < 3; k++) bytes[Math.floor(rnd() * bytes.length)] = Math.floor(rnd() * 256);
        }
        const r = await rawCall(client, m.path, bytes, { deadline: Date.now() + 10_000 });
        codes.set(r.code, (codes.get(r.code) ?? 0) + 1);
        assert.ok(r.code !== grpc.status.INTERNAL && r.code !== grpc.status.UNKNOWN && r.code !== grpc.status.DEADLINE_EXCEEDED, `${m.path} ${bytes.toString('hex').slice(0, 200)}: ${r.code} ${r.details}`);
      }));
    }
  } finally {
    client.close();
  }
  assert.ok((codes.get(grpc.status.INVALID_ARGUMENT) ?? 0) > 100, JSON.stringify([...codes]));
  assert.equal((await fetch(`${g.url}/gantry/v1/healthz`)).status, 200);
});

test('deadlines and cancelled calls: the server stops waiting for them, and keeps nothing', async () => {
  // An operation that does not finish soon: the run of a job whose task sleeps.
  const jobs = new JobsClient(gapicOptions(g.url) as ConstructorParameters<typeof JobsClient>[0]);
  const client = new grpc.Client(address, grpc.credentials.createInsecure());
  try {
    const [op] = await jobs.createJob({ parent: LOC, jobId: 'sleeper', job: { template: { template: { maxRetries: 0, containers: [{ image: 'busybox', command: ['sleep', '30'] }] } } } });
    await op.promise();
    const [runOp] = await jobs.runJob({ name: `${LOC}/jobs/sleeper` });
    const before = timers();
    const root = (await import('../../src/grpc/protos.js')).protoRoot();
    const Wait = root.lookupType('google.longrunning.WaitOperationRequest');
    const request = Buffer.from(Wait.encode(Wait.fromObject({ name: runOp.name, timeout: { seconds: 60 } })).finish());
    const waits = await Promise.all(Array.from({ length: 5 }, () => rawCall(client, '/google.longrunning.Operations/WaitOperation', request, { deadline: Date.now() + 300 })));
    assert.deepEqual(waits.map(w => w.code), Array(5).fill(grpc.status.DEADLINE_EXCEEDED));
    // Each wait held a timer and a store listener until its deadline cancelled it.
    await eventually(() => timers() <= before, 5_000);
    // A client whose connection drops mid-call: the call is cancelled with it.
    const session = connect(g.url);
    const framed = Buffer.concat([Buffer.from([0, 0, 0, 0, 0]), request]);
    framed.writeUInt32BE(request.length, 1);
    const stream = session.request({ [constants.HTTP2_HEADER_METHOD]: 'POST', [constants.HTTP2_HEADER_PATH]: '/google.longrunning.Operations/WaitOperation', 'content-type': 'application/grpc', te: 'trailers' });
    stream.on('error', () => {});
    stream.end(framed);
    await eventually(() => timers() > before, 5_000);
    session.destroy();
    await eventually(() => timers() <= before, 5_000);
    const Get = root.lookupType('google.longrunning.GetOperationRequest');
    const got = await rawCall(client, '/google.longrunning.Operations/GetOperation', Buffer.from(Get.encode(Get.fromObject({ name: runOp.name })).finish()));
    assert.equal(got.code, 0, got.details);
    const Operation = root.lookupType('google.longrunning.Operation');
    const decoded = Operation.decode(got.bytes!) as unknown as { name: string; done: boolean; metadata: { type_url: string } };
    assert.equal(decoded.name, runOp.name);
    assert.equal(decoded.done, false);
    assert.equal(decoded.metadata.type_url, 'type.googleapis.com/google.cloud.run.v2.Execution');
    const executions = new ExecutionsClient(gapicOptions(g.url) as ConstructorParameters<typeof ExecutionsClient>[0]);
    await (await executions.cancelExecution({ name: (runOp.metadata as { name: string }).name }))[0].promise();
    await executions.close();
  } finally {
    client.close();
    await jobs.close();
  }
});

test('with --auth-token, gRPC calls need the token in their metadata', async () => {
  const guarded = await startTestGantry({ authToken: 'sekret' });
  const client = new grpc.Client(`127.0.0.1:${guarded.port}`, grpc.credentials.createInsecure());
  try {
    const none = await rawCall(client, '/google.cloud.deploy.v1.CloudDeploy/GetConfig', Buffer.alloc(0));
    assert.equal(none.code, grpc.status.UNAUTHENTICATED);
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer sekret');
    const root = await import('../../src/grpc/protos.js').then(m => m.protoRoot());
    const Req = root.lookupType('google.cloud.deploy.v1.GetConfigRequest');
    const ok = await rawCall(client, '/google.cloud.deploy.v1.CloudDeploy/GetConfig', Buffer.from(Req.encode(Req.fromObject({ name: `${LOC}/config` })).finish()), {}, md);
    assert.equal(ok.code, 0, ok.details);
    const Config = root.lookupType('google.cloud.deploy.v1.Config');
    assert.equal((Config.decode(ok.bytes!) as unknown as { name: string }).name, `${LOC}/config`);
    // The library passes the token as a header of each call.
    const deploy = gapicDeploy(guarded.url);
    const [config] = await deploy.getConfig({ name: `${LOC}/config` }, { otherArgs: { headers: { authorization: 'Bearer sekret' } } });
    assert.equal(config.name, `${LOC}/config`);
    await deploy.close();
  } finally {
    client.close();
    await guarded.close();
  }
});
