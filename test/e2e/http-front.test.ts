// The HTTP front under hostile input: framing Node itself rejects, slow clients, oversized requests and echoed
// values. Every refusal is a google.rpc.Status whose code is the HTTP status, and nothing is held for long.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { connect, type Socket } from 'node:net';
import { startTestGantry } from '../helpers/server.js';
import { googleError } from '../helpers/clients.js';
import { DeployKit } from '../helpers/deploy.js';
import { rawExchange, type RawResponse } from '../helpers/raw-http.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/front/locations/us-central1';
let g: Gantry;
const k = new DeployKit();
before(async () => { g = await startTestGantry(); k.attach(g.url); });
after(() => g.close());

/** Sends bytes as they are and returns the one response, checked to be a google.rpc.Status. */
async function send(raw: string | Buffer, port = g.port): Promise<{ status: number; error: { code: number; status: string; message: string }; size: number }> {
  const res = await rawExchange({ port, chunks: [Buffer.isBuffer(raw) ? raw : Buffer.from(raw)], heads: [false], resolveAfter: 1, timeoutMs: 10_000 });
  const r: RawResponse | undefined = res.responses[0];
  assert.ok(r, `no response: ${JSON.stringify({ ...res, responses: undefined })}`);
  const body = JSON.parse(r.body.toString()) as { error: { code: number; status: string; message: string } };
  assert.equal(body.error.code, r.status, 'the body code is the HTTP status');
  assert.equal(typeof body.error.status, 'string');
  return { status: r.status, error: body.error, size: r.body.length };
}

const req = (line: string, headers = '', body = '') => `${line}\r\nHost: localhost\r\nConnection: close\r\n${headers}${body ? `Content-Length: ${Buffer.byteLength(body)}\r\n` : ''}\r\n${body}`;

test('framing and URLs Node or Fastify reject still answer in Google\'s shape', async () => {
  const badEscape = await send(req('GET /v1/projects/%zz/locations/x/targets HTTP/1.1'));
  assert.equal(badEscape.status, 400);
  assert.equal(badEscape.error.status, 'INVALID_ARGUMENT');
  assert.doesNotMatch(badEscape.error.message, /FST_/);
  const longUrl = await send(req(`GET /v1/${'a'.repeat(20_000)} HTTP/1.1`));
  assert.equal(longUrl.status, 400);
  assert.ok(longUrl.size < 1024, 'the over-long URL is not echoed back');
  const chunked = await send(`POST /v1/${LOC}/targets?targetId=c HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`);
  assert.equal(chunked.status, 400);
  const noColon = await send('GET / HTTP/1.1\r\nHost: localhost\r\nthis is not a header\r\n\r\n');
  assert.equal(noColon.status, 400);
  const method = await send(req('BREW /gantry/v1/healthz HTTP/1.1'));
  assert.equal(method.status, 400);
});

test('a JSON body over 10 MiB is INVALID_ARGUMENT with code 400, as Google\'s front end answers', async () => {
  const big = JSON.stringify({ description: 'x'.repeat(11 * 1024 * 1024) });
  const r = await send(req(`POST /v1/${LOC}/targets?targetId=big HTTP/1.1`, 'Content-Type: application/json\r\n', big));
  assert.equal(r.status, 400);
  assert.equal(r.error.status, 'INVALID_ARGUMENT');
  assert.match(r.error.message, /Request payload size exceeds the limit: 10485760 bytes/);
});

test('one oversized field cannot multiply into every release: resources have a size limit', async () => {
  const e = await googleError(k.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'huge', requestBody: { serialPipeline: { stages: [{ targetId: 'dev', profiles: ['p'.repeat(1024 * 1024)] }] } } }));
  assert.equal(e.status, 'INVALID_ARGUMENT');
  assert.match(e.message, /at most 524288 bytes/);
});

test('errors quote what was sent only in part: a large bad body gives a small error', async () => {
  const fields: Record<string, number> = {};
  for (let i = 0; i < 10_000; i++) fields[`unknownField${i}`] = i;
  const body = JSON.stringify(fields);
  assert.ok(body.length > 200_000);
  const r = await send(req(`POST /v1/${LOC}/targets?targetId=t HTTP/1.1`, 'Content-Type: application/json\r\n', body));
  assert.equal(r.status, 400);
  assert.ok(r.size < 16 * 1024, `error of ${r.size} bytes for a ${body.length}-byte body`);
  const key = await send(req(`GET /v1/${LOC}/targets?${'k'.repeat(8000)}=1 HTTP/1.1`));
  assert.ok(key.size < 2048, `error of ${key.size} bytes`);
});

test('resource names with encoded slashes or dot segments are refused, not stored out of reach', async () => {
  for (const path of [`/v1/projects/a%2Fb/locations/us-central1/targets?targetId=t`, `/v1/projects/..%2F../locations/us-central1/targets?targetId=t`, `/v1/projects/p/locations/%2E%2E/targets?targetId=t`]) {
    const r = await send(req(`POST ${path} HTTP/1.1`, 'Content-Type: application/json\r\n', '{}'));
    assert.equal(r.status, 400, path);
    assert.equal(r.error.status, 'INVALID_ARGUMENT', path);
  }
  const list = await send(req('GET /v1/projects/a%2Fb/locations/us-central1/targets HTTP/1.1'));
  assert.equal(list.status, 400);
});

/** Opens `n` connections that send headers and part of a body, then stall. */
async function stalled(port: number, n: number): Promise<Socket[]> {
  const sockets = await Promise.all(Array.from({ length: n }, () => new Promise<Socket>((resolve, reject) => {
    const s = connect(port, '127.0.0.1', () => {
      s.write(`POST /v1/${LOC}/targets?targetId=slow HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{"desc`);
      resolve(s);
    });
    s.on('error', reject);
  })));
  for (const s of sockets) { s.removeAllListeners('error'); s.on('error', () => undefined); }
  return sockets;
}

const closed = (s: Socket) => new Promise<string>(resolve => {
  let data = '';
  s.on('data', d => { data += d.toString(); });
  if (s.destroyed || s.readableEnded) resolve(data);
  s.once('close', () => resolve(data));
});

test('slow clients are cut off: a request must arrive whole within the request timeout', { timeout: 30_000 }, async () => {
  const slow = await startTestGantry({ requestTimeoutMs: 500 });
  try {
    const sockets = await stalled(slow.port, 300);
    const started = Date.now();
    const answers = await Promise.all(sockets.map(closed));
    const took = Date.now() - started;
    assert.ok(took < 10_000, `held for ${took} ms`);
    const timeouts = answers.filter(a => a.startsWith('HTTP/1.1 408'));
    assert.ok(timeouts.length > 0, 'stalled requests are answered 408');
    for (const a of timeouts) {
      const body = JSON.parse(a.slice(a.indexOf('\r\n\r\n') + 4)) as { error: { code: number; status: string } };
      assert.deepEqual([body.error.code, body.error.status], [408, 'DEADLINE_EXCEEDED']);
    }
    assert.equal((await fetch(`${slow.url}/gantry/v1/healthz`)).status, 200);
  } finally {
    await slow.close();
  }
});

test('connections are capped: past the cap new ones are refused, and the server serves again once they go', { timeout: 30_000 }, async () => {
  const capped = await startTestGantry({ maxConnections: 20, requestTimeoutMs: 500 });
  try {
    const sockets = await stalled(capped.port, 20);
    const extra = connect(capped.port, '127.0.0.1');
    extra.on('error', () => undefined);
    const refused = await closed(extra);
    assert.equal(refused, '', 'the connection over the cap is closed unanswered');
    await Promise.all(sockets.map(closed));
    assert.equal((await fetch(`${capped.url}/gantry/v1/healthz`)).status, 200);
  } finally {
    await capped.close();
  }
});
