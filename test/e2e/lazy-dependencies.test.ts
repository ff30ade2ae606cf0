// Dependencies only optional features need load only when used: a Gantry serving REST has not loaded the Pub/Sub
// client, dockerode, grpc-js, the proto loaders or the protos; the first gRPC connection loads grpc-js (so this test
// sees a static import that would pull them in at start-up). These packages are CommonJS: an ESM import of one lands
// in the CommonJS module cache, which a child process prints.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';

const run = promisify(execFile);
const GANTRY = fileURLToPath(new URL('../../src/gantry.js', import.meta.url));

const ON_FIRST_USE = ['fastify', 'yaml', 'cron-parser'];
const OPTIONAL = ['@google-cloud/pubsub', 'dockerode', '@grpc/grpc-js', '@grpc/proto-loader', 'protobufjs', 'proto3-json-serializer', 'google-proto-files'];

/** Starts Gantry in-process from dist, serves REST, then opens one HTTP/2 (gRPC) connection; prints the packages
 *  loaded after each. */
const CHILD = `
import { createRequire } from 'node:module';
import { connect } from 'node:http2';
import { pathToFileURL } from 'node:url';
const gantryJs = process.argv[1];
const { startGantry } = await import(pathToFileURL(gantryJs).href);
const cache = createRequire(gantryJs).cache;
const loaded = () => [...new Set(Object.keys(cache).flatMap(k => {
  const m = /.*node_modules\\/((?:@[^/]+\\/)?[^/]+)\\//.exec(k);
  return m ? [m[1]] : [];
}))].sort();
const g = await startGantry({ port: 0, dataDir: ':memory:', logLevel: 'silent', executor: 'simulated' });
const start = loaded();
const expect = async (path, init, status) => {
  const r = await fetch(g.url + path, init);
  if (r.status !== status) throw new Error(path + ': ' + r.status + ' ' + await r.text());
};
const json = { 'content-type': 'application/json' };
await expect('/gantry/v1/healthz', {}, 200);
await expect('/v1/projects/lazy-proj/locations/us-central1/targets?targetId=dev', { method: 'POST', headers: json, body: '{}' }, 200);
await expect('/v1/projects/lazy-proj/locations/us-central1/targets/dev', {}, 200);
await expect('/v2/projects/lazy-proj/locations/us-central1/jobs?jobId=j', { method: 'POST', headers: json, body: JSON.stringify({ template: { template: { containers: [{ image: 'busybox' }] } } }) }, 200);
await expect('/v2/entries:list', { method: 'POST', headers: json, body: JSON.stringify({ resourceNames: ['projects/lazy-proj'] }) }, 200);
const rest = loaded();
const session = connect(g.url);
await new Promise((resolve, reject) => {
  const req = session.request({ ':method': 'POST', ':path': '/google.cloud.deploy.v1.CloudDeploy/GetTarget', 'content-type': 'application/grpc', te: 'trailers' });
  req.on('response', resolve);
  req.on('error', reject);
  req.end(Buffer.alloc(5));
});
session.close();
const grpc = loaded();
await g.close();
console.log(JSON.stringify({ start, rest, grpc }));
`;

test('a started Gantry has loaded neither Fastify, yaml nor cron-parser; one serving REST none of the optional features\' dependencies; the first gRPC connection loads grpc-js', async () => {
  const { stdout } = await run(process.execPath, ['--input-type=module', '-e', CHILD, GANTRY], { timeout: 60_000 });
  const { start, rest, grpc } = JSON.parse(stdout) as { start: string[]; rest: string[]; grpc: string[] };
  // Loaded on first use, not at start-up: Fastify with the first request that has a body, the others with their
  // first render, manifest or timed rule.
  assert.deepEqual(start.filter(p => [...OPTIONAL, ...ON_FIRST_USE].includes(p)), [], 'loaded at start-up');
  assert.ok(rest.includes('fastify'), `the cache is read: ${rest.join(', ')}`);
  assert.deepEqual(rest.filter(p => OPTIONAL.includes(p)), [], 'loaded while serving REST');
  assert.ok(grpc.includes('@grpc/grpc-js'), `after a gRPC connection: ${grpc.join(', ')}`);
});
