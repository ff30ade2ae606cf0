// Issue 23, Cloud Logging: one query must not hold the server. A filter of 2,000 OR'd bare words over thousands of
// entries is answered within a bound (partial pages with a token, as Cloud Logging does for slow searches) while the
// event loop keeps serving others; every page together gives exactly the matching entries. And 1,000
// TailLogEntries streams under a write burst leave the server responsive, its memory bounded and every reply under
// the 4 MiB a gRPC client accepts; past Cloud Logging's 10 tails per project, a tail is refused RESOURCE_EXHAUSTED.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import * as grpc from '@grpc/grpc-js';
import { eventually, spawnGantry, startTestGantry, tempDir } from '../helpers/server.js';
import { protoRoot } from '../../src/grpc/protos.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
const P = 'projects/stall-proj';
const ENTRIES = 4_000;
/** Entries whose text holds one of the filter's words. */
const NEEDLES = [7, 1234, 2999, 3998];

const post = async (path: string, body: unknown) => {
  const r = await fetch(g.url + path, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify(body) });
  return { status: r.status, body: await r.json() as Record<string, unknown> };
};

before(async () => {
  g = await startTestGantry();
  const base = Date.parse('2026-01-01T00:00:00Z');
  for (let b = 0; b < ENTRIES; b += 1000) {
    const r = await post('/v2/entries:write', {
      logName: `${P}/logs/app`, resource: { type: 'global' },
      entries: Array.from({ length: 1000 }, (_, k) => {
        const i = b + k;
        return { timestamp: new Date(base + i).toISOString(), textPayload: `line ${i} ${NEEDLES.includes(i) ? `needle${i}` : 'hay '.repeat(40)}`, labels: { n: String(i) } };
      }),
    });
    assert.equal(r.status, 200, JSON.stringify(r.body));
  }
});
after(async () => { await g.close(); });

test('a filter of 2,000 OR\'d words is answered in bounded pages while the server keeps serving', async () => {
  const words = Array.from({ length: 2000 }, (_, i) => `w${i.toString(36)}x`);
  NEEDLES.forEach((n, k) => { words[k * 600] = `needle${n}`; });
  const filter = words.join(' OR ');
  assert.ok(filter.length < 20_000);
  const delay = monitorEventLoopDelay({ resolution: 10 });
  delay.enable();
  const found: string[] = [];
  let pageToken: string | undefined;
  let pages = 0, healthMax = 0;
  const started = performance.now();
  try {
    do {
      const t0 = performance.now();
      // A request made while the scan runs is answered meanwhile.
      const health = (async () => { const h0 = performance.now(); const r = await fetch(g.url + '/gantry/v1/healthz'); await r.arrayBuffer(); return performance.now() - h0; })();
      const r = await post('/v2/entries:list', { resourceNames: [P], filter, pageSize: 1000, ...(pageToken ? { pageToken } : {}) });
      assert.equal(r.status, 200, JSON.stringify(r.body).slice(0, 500));
      assert.ok(performance.now() - t0 < 15_000, `one page took ${performance.now() - t0} ms`);
      healthMax = Math.max(healthMax, await health);
      for (const e of (r.body.entries ?? []) as { labels: { n: string } }[]) found.push(e.labels.n);
      pageToken = r.body.nextPageToken as string | undefined;
      pages++;
    } while (pageToken && pages < 200);
  } finally {
    delay.disable();
  }
  assert.deepEqual(found, NEEDLES.map(String), 'every page together holds exactly the matching entries');
  // The event loop was never held for long: the scan yields every few milliseconds (today's main held it for the
  // whole scan, tens of seconds).
  const maxMs = delay.max / 1e6;
  assert.ok(maxMs < 1_000, `the event loop was blocked for ${maxMs.toFixed(0)} ms`);
  assert.ok(healthMax < 2_000, `healthz took ${healthMax.toFixed(0)} ms during the scan`);
  assert.ok(performance.now() - started < 60_000);
});

test('a filter over the term cap is refused with INVALID_ARGUMENT naming the cap', async () => {
  const filter = Array.from({ length: 2001 }, (_, i) => `a${i}`).join(' ');
  const r = await post('/v2/entries:list', { resourceNames: [P], filter });
  assert.equal(r.status, 400);
  const err = r.body.error as { status: string; message: string };
  assert.equal(err.status, 'INVALID_ARGUMENT');
  assert.match(err.message, /at most 2000 terms/);
});

const rssMb = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

test('1,000 tails under a write burst: the server stays responsive, its RSS bounded, every reply under 4 MiB; an 11th tail of a project is refused', { skip: process.platform !== 'linux' && 'reads /proc', timeout: 180_000 }, async t0 => {
  const child = await spawnGantry(['--data-dir', tempDir(), '--log-level', 'silent']);
  const port = new URL(child.url).port;
  const root = protoRoot();
  const Req = root.lookupType('google.logging.v2.TailLogEntriesRequest');
  const Res = root.lookupType('google.logging.v2.TailLogEntriesResponse');
  // A server takes 100 streams per connection: separate connections (no shared subchannel) for 1,000.
  const clients = Array.from({ length: 12 }, () => new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 }));
  interface Tail { project: number; messages: number; big: number; maxMessage: number; code?: number; details?: string; call: grpc.ClientDuplexStream<Buffer, Buffer> }
  const tails: Tail[] = [];
  const open = (project: number) => {
    const md = new grpc.Metadata();
    md.set('authorization', 'Bearer t');
    const call = clients[tails.length % clients.length].makeBidiStreamRequest('/google.logging.v2.LoggingServiceV2/TailLogEntries', (b: Buffer) => b, (b: Buffer) => b, md, {});
    const t: Tail = { project, messages: 0, big: 0, maxMessage: 0, call };
    call.on('data', (b: Buffer) => {
      t.messages++;
      t.maxMessage = Math.max(t.maxMessage, b.length);
      const r = Res.toObject(Res.decode(b)) as { entries?: { textPayload?: string }[] };
      t.big += (r.entries ?? []).filter(e => (e.textPayload?.length ?? 0) > 200_000).length;
    });
    call.on('error', (e: grpc.ServiceError) => { t.code = e.code; t.details = e.details; });
    call.write(Buffer.from(Req.encode(Req.fromObject({ resourceNames: [`projects/tp${project}`], bufferWindow: { nanos: 500_000_000 } })).finish()));
    tails.push(t);
    return t;
  };
  const write = async (entries: object[]) => {
    const r = await fetch(`${child.url}/v2/entries:write`, { method: 'POST', headers: { 'content-type': 'application/json', authorization: 'Bearer t' }, body: JSON.stringify({ resource: { type: 'global' }, entries }) });
    assert.equal(r.status, 200, await r.text());
  };
  const PROJECTS = 100;
  let sampling = true;
  try {
    for (let p = 0; p < PROJECTS; p++) for (let k = 0; k < 10; k++) open(p);
    // Every tail is open once it has seen a probe (tails opened after a probe see the next one).
    await eventually(async () => {
      await write(Array.from({ length: PROJECTS }, (_, p) => ({ logName: `projects/tp${p}/logs/probe`, textPayload: 'probe' })));
      await new Promise(r => setTimeout(r, 700));
      const failed = tails.find(t => t.code !== undefined);
      if (failed) throw new Error(`a tail failed: ${failed.code} ${failed.details}`);
      return tails.every(t => t.messages > 0);
    }, 60_000);
    const held = tails.length;
    assert.equal(held, 1000);

    const rss0 = rssMb(child.proc.pid!);
    let rssPeak = rss0, healthMax = 0;
    const sampler = (async () => {
      while (sampling) {
        rssPeak = Math.max(rssPeak, rssMb(child.proc.pid!));
        const h0 = performance.now();
        const r = await fetch(`${child.url}/gantry/v1/healthz`);
        await r.arrayBuffer();
        healthMax = Math.max(healthMax, performance.now() - h0);
        await new Promise(res => setTimeout(res, 50));
      }
    })();
    // The burst: 20 entries of ~250 KB for project 0's ten tails (5 MB, more than one 4 MiB reply), one for each
    // of ten other projects, and small lines for every project.
    const big = (p: number, i: number) => ({ logName: `projects/tp${p}/logs/big`, textPayload: `${i} ` + 'x'.repeat(250_000) });
    await Promise.all([
      write(Array.from({ length: 20 }, (_, i) => big(0, i))),
      write(Array.from({ length: 10 }, (_, i) => big(i + 1, i))),
      ...Array.from({ length: 4 }, () => write(Array.from({ length: 1000 }, (_, i) => ({ logName: `projects/tp${i % PROJECTS}/logs/small`, textPayload: `small ${i} ` + 'y'.repeat(500) })))),
    ]);
    await eventually(() => {
      const failed = tails.find(t => t.code !== undefined);
      if (failed) throw new Error(`a tail failed: ${failed.code} ${failed.details}`);
      return tails.filter(t => t.project === 0).every(t => t.big === 20) && tails.filter(t => t.project >= 1 && t.project <= 10).every(t => t.big === 1);
    }, 60_000);
    sampling = false;
    await sampler;
    t0.diagnostic(`RSS ${rss0.toFixed(0)} → peak ${rssPeak.toFixed(0)} MB, healthz at most ${healthMax.toFixed(0)} ms`);
    const largest = Math.max(...tails.map(t => t.maxMessage));
    assert.ok(largest < 4 * 1024 * 1024, `a reply of ${largest} bytes`);
    assert.ok(tails.filter(t => t.project === 0).every(t => t.messages >= 3), 'project 0\'s 5 MB came in more than one reply');
    assert.ok(healthMax < 3_000, `healthz took ${healthMax.toFixed(0)} ms during the burst`);
    assert.ok(rssPeak - rss0 < 300, `RSS grew ${rss0.toFixed(0)} → ${rssPeak.toFixed(0)} MB`);
    // Past 10 open tails a project's next one is refused, as Cloud Logging's quota does.
    const extra = open(0);
    await eventually(() => extra.code !== undefined, 10_000);
    assert.equal(extra.code, grpc.status.RESOURCE_EXHAUSTED, extra.details);
    assert.match(extra.details!, /10 open live-tailing sessions/);
  } finally {
    sampling = false;
    for (const t of tails) t.call.cancel();
    for (const c of clients) c.close();
    await child.kill();
  }
});
