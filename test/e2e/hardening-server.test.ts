// Issue 23 (second hardening pass), the HTTP front and the control API: slow connections cannot lock clients out, the clock stops at the end of Google's
// timestamp range, stored media never runs as a page of Gantry's origin, a refused HEAD carries no body, and outcome
// rules are listed a page at a time.
import { test } from 'node:test';
import { connect, type Socket } from 'node:net';
import assert from 'node:assert/strict';
import { Storage } from '@google-cloud/storage';
import type { run_v2 } from 'googleapis';
import { eventually, startTestGantry } from '../helpers/server.js';
import { googleapisRun } from '../helpers/clients.js';
import { rawExchange } from '../helpers/raw-http.js';

type Obj = Record<string, unknown>;

function caller(url: string) {
  return async (method: string, path: string, body?: unknown): Promise<{ status: number; body: Obj }> => {
    const res = await fetch(url + path, { method, headers: body === undefined ? {} : { 'content-type': 'application/json' }, body: body === undefined ? undefined : JSON.stringify(body) });
    const text = await res.text();
    return { status: res.status, body: text ? JSON.parse(text) as Obj : {} };
  };
}

const errorOf = (b: Obj) => b.error as { code: number; status: string; message: string; details?: { fieldViolations?: { field: string }[] }[] };

test('the clock cannot pass 9999-12-31T23:59:59Z: an advance beyond is 400 naming the limit, and time written stays well-formed', async () => {
  const g = await startTestGantry({ clock: 'virtual' });
  try {
    const call = caller(g.url);
    const end = await call('POST', '/gantry/v1/clock:advance', { to: '9999-12-31T23:59:59Z' });
    assert.equal(end.status, 200, JSON.stringify(end.body));
    assert.equal(end.body.now, '9999-12-31T23:59:59.000Z');
    for (const [body, field] of [[{ duration: '1s' }, 'duration'], [{ to: '9999-12-31T23:59:59.5Z' }, 'to']] as const) {
      const r = await call('POST', '/gantry/v1/clock:advance', body);
      assert.equal(r.status, 400, JSON.stringify(r.body));
      assert.equal(errorOf(r.body).status, 'INVALID_ARGUMENT');
      assert.match(errorOf(r.body).message, /9999-12-31T23:59:59Z/);
      assert.equal(errorOf(r.body).details?.find(d => d.fieldViolations)?.fieldViolations?.[0].field, field);
    }
    assert.equal((await call('GET', '/gantry/v1/clock')).body.now, '9999-12-31T23:59:59.000Z');
    // A resource made at the end of time carries a timestamp Google's format holds.
    const job = await call('POST', '/v2/projects/p/locations/us-central1/jobs?jobId=last', { template: { template: { containers: [{ image: 'busybox' }] } } });
    assert.ok(job.status < 500, JSON.stringify(job.body));
    const got = await call('GET', '/v2/projects/p/locations/us-central1/jobs/last');
    assert.match(String(got.body.createTime), /^9999-12-31T23:59:59(\.\d{1,9})?Z$/);
  } finally {
    await g.close();
  }
});

test('Cloud Storage media is served sandboxed and unsniffed, active types as attachments; the log viewer is unsniffed too', async () => {
  const g = await startTestGantry();
  try {
    const gcs = new Storage({ apiEndpoint: g.url, projectId: 'media-proj', useAuthWithCustomEndpoint: false });
    const [bucket] = await gcs.createBucket('gantry-media-headers');
    await bucket.file('page.html').save('<script>fetch("/v1/projects/p/locations")</script>', { resumable: false, contentType: 'text/html' });
    await bucket.file('image.svg').save('<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>', { resumable: false, contentType: 'image/svg+xml' });
    await bucket.file('notes.txt').save('<script>alert(1)</script>', { resumable: false, contentType: 'text/plain' });
    for (const [name, attachment] of [['page.html', true], ['image.svg', true], ['notes.txt', false]] as const) {
      for (const url of [`${g.url}/storage/v1/b/gantry-media-headers/o/${name}?alt=media`, `${g.url}/download/storage/v1/b/gantry-media-headers/o/${name}?alt=media`]) {
        const res = await fetch(url);
        assert.equal(res.status, 200);
        assert.equal(res.headers.get('content-security-policy'), 'sandbox', url);
        assert.equal(res.headers.get('x-content-type-options'), 'nosniff', url);
        assert.equal(res.headers.get('content-disposition'), attachment ? 'attachment' : null, url);
        await res.arrayBuffer();
      }
    }
    // The client still downloads the bytes as stored.
    assert.match((await bucket.file('page.html').download())[0].toString(), /^<script>/);
    const viewer = await fetch(`${g.url}/gantry/v1/logs/viewer?project=p`);
    assert.equal(viewer.status, 200);
    assert.equal(viewer.headers.get('x-content-type-options'), 'nosniff');
    assert.equal(viewer.headers.get('content-security-policy'), 'sandbox');
    await viewer.arrayBuffer();
  } finally {
    await g.close();
  }
});

test('a HEAD whose request line is too long gets its 400 without a body; a GET gets the google.rpc.Status', async () => {
  const g = await startTestGantry();
  try {
    const port = Number(new URL(g.url).port);
    for (const method of ['HEAD', 'GET']) {
      const r = await rawExchange({ port, chunks: [Buffer.from(`${method} /${'a'.repeat(20_000)} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`)], heads: [method === 'HEAD'], timeoutMs: 5000 });
      assert.equal(r.responses.length, 1, method);
      assert.equal(r.responses[0].status, 400, method);
      // Bytes after a HEAD response's headers are no response at all.
      assert.equal(r.garbage, undefined, `${method}: ${r.garbage?.slice(0, 80)}`);
      if (method === 'GET') assert.equal((JSON.parse(r.responses[0].body.toString()) as { error: { status: string } }).error.status, 'INVALID_ARGUMENT');
    }
  } finally {
    await g.close();
  }
});

test('GET /gantry/v1/outcomes is paged (AIP-158): pageSize, pageToken and nextPageToken, bounded, tokens bound to the query', async () => {
  const g = await startTestGantry();
  try {
    const call = caller(g.url);
    const made: string[] = [];
    for (let i = 0; i < 7; i++) {
      const r = await call('POST', '/gantry/v1/outcomes', { scope: `projects/p/locations/us-central1/jobs/j${i}`, rules: '0=fail:1' });
      assert.equal(r.status, 200, JSON.stringify(r.body));
      made.push(String(r.body.name));
    }
    const seen: string[] = [];
    let token: string | undefined;
    let pages = 0;
    do {
      const r = await call('GET', `/gantry/v1/outcomes?pageSize=3${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
      assert.equal(r.status, 200, JSON.stringify(r.body));
      const outcomes = r.body.outcomes as Obj[];
      assert.ok(outcomes.length <= 3);
      seen.push(...outcomes.map(o => String(o.name)));
      token = r.body.nextPageToken as string | undefined;
      pages++;
    } while (token);
    assert.deepEqual(seen, made);
    assert.equal(pages, 3);
    // Without pageSize, everything (up to the bound) in one page.
    assert.deepEqual(((await call('GET', '/gantry/v1/outcomes')).body.outcomes as Obj[]).map(o => o.name), made);
    assert.equal((await call('GET', '/gantry/v1/outcomes?pageSize=-1')).status, 400);
    assert.equal((await call('GET', '/gantry/v1/outcomes?pageToken=bogus')).status, 400);
  } finally {
    await g.close();
  }
});

test('a flood of slow connections does not lock other clients out: at the cap, the idlest connection makes room', { timeout: 60_000 }, async () => {
  const g = await startTestGantry({ maxConnections: 1000 });
  const flood: Socket[] = [];
  try {
    const port = Number(new URL(g.url).port);
    // 1,100 connections that start a request head and never finish it (slowloris), opened 100 at a time.
    for (let batch = 0; batch < 11; batch++) {
      flood.push(...await Promise.all(Array.from({ length: 100 }, () => new Promise<Socket>(resolve => {
        const s = connect(port, '127.0.0.1', () => { s.write('GET /gantry/v1/healthz HTTP/1.1\r\nHost: localhost\r\nX-Slow: '); resolve(s); });
        s.on('error', () => resolve(s));
      }))));
    }
    // Each health check is a new connection, as a client arriving during the flood opens one.
    for (let i = 0; i < 5; i++) {
      const started = performance.now();
      const r = await rawExchange({ port, chunks: [Buffer.from('GET /gantry/v1/healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n')], heads: [false], timeoutMs: 5000 });
      assert.equal(r.responses[0]?.status, 200, `health check ${i}: ${JSON.stringify({ closed: r.closed, timedOut: r.timedOut })}`);
      assert.ok(performance.now() - started < 2000, `health check ${i} took ${performance.now() - started} ms`);
    }
    // The cap still holds, and the flood paid for the room: its 100 over the cap, and the first health check's (the
    // others found the slot that one left).
    assert.ok(g.connections().size <= 1000, `${g.connections().size} connections`);
    assert.ok(g.connections().evicted >= 101, `${g.connections().evicted} evicted`);
  } finally {
    for (const s of flood) s.destroy();
    await g.close();
  }
});

test('a connection that moves no byte for the silence bound is closed; one making requests is not', { timeout: 60_000 }, async () => {
  const g = await startTestGantry({ silentSocketMs: 400 });
  const sockets: Socket[] = [];
  try {
    const port = Number(new URL(g.url).port);
    await fetch(`${g.url}/storage/v1/b?project=p`, { method: 'POST', body: JSON.stringify({ name: 'big' }), headers: { 'content-type': 'application/json' } });
    const size = 16 * 1024 * 1024;
    const up = await fetch(`${g.url}/upload/storage/v1/b/big/o?uploadType=media&name=o`, { method: 'POST', body: Buffer.alloc(size, 7), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 200);
    const open = (first: string) => new Promise<Socket>(resolve => {
      const s = connect(port, '127.0.0.1', () => { s.write(first); resolve(s); });
      s.on('error', () => undefined);
      sockets.push(s);
    });
    // A client asks for the 16 MiB object and reads none of it: the answer stops moving once the socket's buffers are full.
    const stuck = await open('GET /storage/v1/b/big/o/o?alt=media HTTP/1.1\r\nHost: localhost\r\n\r\n');
    stuck.pause();
    // Another asks for a small resource every 150 ms on one connection: it moves bytes well within every bound.
    const ping = 'GET /gantry/v1/healthz HTTP/1.1\r\nHost: localhost\r\n\r\n';
    const busy = await open(ping);
    let answers = 0;
    busy.on('data', d => { answers += (d.toString('latin1').match(/HTTP\/1\.1 200/g) ?? []).length; });
    const pings = setInterval(() => busy.write(ping), 150);
    let busyClosed = false;
    busy.once('close', () => { busyClosed = true; });
    await new Promise(r => setTimeout(r, 1600));
    clearInterval(pings);
    assert.ok(!busyClosed, 'a connection making requests was closed');
    assert.ok(answers >= 8, `${answers} answers`);
    // The silent one was closed meanwhile: reading now, it gets what its socket held and then the end, not the object.
    let got = 0;
    const ended = new Promise<void>(resolve => stuck.once('close', () => resolve()));
    stuck.on('data', d => { got += d.length; });
    stuck.resume();
    await Promise.race([ended, new Promise((_, reject) => setTimeout(() => reject(new Error(`the silent connection is still open (${got} bytes read)`)), 10_000))]);
    assert.ok(got < size, `${got} bytes read of ${size}`);
  } finally {
    for (const s of sockets) s.destroy();
    await g.close();
  }
});

test('shutting down does not wait out a client that reads nothing of its answer', { timeout: 60_000 }, async () => {
  const g = await startTestGantry({ silentSocketMs: 400 });
  let closed = false;
  let stuck: Socket | undefined;
  try {
    await fetch(`${g.url}/storage/v1/b?project=p`, { method: 'POST', body: JSON.stringify({ name: 'big' }), headers: { 'content-type': 'application/json' } });
    const up = await fetch(`${g.url}/upload/storage/v1/b/big/o?uploadType=media&name=o`, { method: 'POST', body: Buffer.alloc(16 * 1024 * 1024, 7), headers: { 'content-type': 'application/octet-stream' } });
    assert.equal(up.status, 200);
    // A client asks for the 16 MiB object and reads none of it: its answer never finishes, and nothing else ends it.
    stuck = await new Promise<Socket>(resolve => {
      const s = connect(Number(new URL(g.url).port), '127.0.0.1', () => { s.write('GET /storage/v1/b/big/o/o?alt=media HTTP/1.1\r\nHost: localhost\r\n\r\n'); resolve(s); });
      s.on('error', () => undefined);
    });
    stuck.pause();
    await new Promise(r => setTimeout(r, 300));
    const t0 = performance.now();
    await Promise.race([g.close(), new Promise((_, reject) => setTimeout(() => reject(new Error('close() waited on a client reading nothing for 10 s')), 10_000))]);
    closed = true;
    assert.ok(performance.now() - t0 < 5000, `close() took ${performance.now() - t0} ms`);
  } finally {
    stuck?.destroy();
    if (!closed) await g.close();
  }
});

/** A Run v2 job whose execution runs for ten minutes, and the running execution's operation. */
async function slowExecution(g: Awaited<ReturnType<typeof startTestGantry>>): Promise<{ run: run_v2.Run; op: string }> {
  const run = googleapisRun(g.url, 'v2');
  const parent = 'projects/p/locations/us-central1';
  await run.projects.locations.jobs.create({ parent, jobId: 'slow', requestBody: { template: { template: { containers: [{ image: 'busybox' }] } } } });
  await g.runtime.idle();
  const op = (await run.projects.locations.jobs.run({ name: `${parent}/jobs/slow`, requestBody: {} })).data;
  assert.notEqual(op.done, true);
  return { run, op: op.name! };
}

test('a :wait whose client went away stops waiting at once (clients opening and dropping waits pile up nothing)', { timeout: 60_000 }, async () => {
  const g = await startTestGantry({ taskMs: 600_000 });
  try {
    const { run, op } = await slowExecution(g);
    const aborts = Array.from({ length: 20 }, () => new AbortController());
    const waits = aborts.map(a => run.projects.locations.operations.wait({ name: op, requestBody: { timeout: '100s' } }, { signal: a.signal, retry: false }).then(() => 'answered', () => 'aborted'));
    await eventually(() => g.waiting() === 20, 5000);
    for (const a of aborts) a.abort();
    assert.deepEqual(new Set(await Promise.all(waits)), new Set(['aborted']));
    // Each wait heard its client go and stopped listening, long before its 100 s.
    await eventually(() => g.waiting() === 0, 5000);
  } finally {
    await g.close();
  }
});

test('shutting down answers a waiting client with the operation as it is, without waiting out its timeout', { timeout: 60_000 }, async () => {
  const g = await startTestGantry({ taskMs: 600_000 });
  let closed = false;
  try {
    const { run, op } = await slowExecution(g);
    const wait = run.projects.locations.operations.wait({ name: op, requestBody: { timeout: '100s' } }, { retry: false });
    await eventually(() => g.waiting() === 1, 5000);
    const t0 = performance.now();
    await g.close();
    closed = true;
    assert.ok(performance.now() - t0 < 5000, `close() took ${performance.now() - t0} ms`);
    const answer = await wait;
    assert.equal(answer.status, 200);
    assert.equal(answer.data.name, op);
    assert.notEqual(answer.data.done, true);
  } finally {
    if (!closed) await g.close();
  }
});
