// `gcloud beta logging tail`: gcloud speaks gRPC only over TLS, so it reaches Gantry's TLS (same port, the data
// directory's certificate as its CA) and streams TailLogEntries; the entries it prints are written meanwhile with
// `gcloud logging write` over REST.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { startTestGantry, eventually } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let gcloud: Gcloud;

before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url, 'tail-proj');
  for (const [k, v] of [
    ['api_endpoint_overrides/logging', g.url + '/'],
    ['core/custom_ca_certs_file', g.tlsCertFile],
    // gcloud's gRPC clients need credentials: an access token from the environment, which Gantry accepts.
    ['auth/disable_credentials', 'false'],
  ]) await gcloud(['config', 'set', k, v]);
  gcloud.env.CLOUDSDK_AUTH_ACCESS_TOKEN = 'test-token';
  // The environment wins over the config file, and machines may set it (to the system's bundle).
  gcloud.env.CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE = g.tlsCertFile;
});
after(async () => { await g.close(); });

test('gcloud beta logging tail streams entries written after it starts, matching its filter', async () => {
  const tail = spawn('gcloud', ['beta', 'logging', 'tail', 'logName="projects/tail-proj/logs/app" AND severity>=WARNING', '--buffer-window=0s', '--format=value(textPayload)'], { env: gcloud.env });
  let out = '', err = '';
  tail.stdout.on('data', (d: Buffer) => { out += d.toString(); });
  tail.stderr.on('data', (d: Buffer) => { err += d.toString(); });
  try {
    // gcloud starts slowly (Python, protos): write until the tail has seen the first line.
    let n = 0;
    await eventually(async () => {
      await gcloud(['logging', 'write', 'app', `first line ${n++}`, '--severity=WARNING']);
      return out.includes('first line');
    }, 60_000).catch(e => { throw new Error(`${(e as Error).message}; tail printed ${JSON.stringify(out)} and ${JSON.stringify(err.slice(-2000))}`); });
    await gcloud(['logging', 'write', 'app', 'too quiet', '--severity=INFO']);
    await gcloud(['logging', 'write', 'other', 'another log', '--severity=ERROR']);
    await gcloud(['logging', 'write', 'app', 'second line', '--severity=ERROR']);
    await eventually(() => out.includes('second line'), 20_000);
    assert.ok(!out.includes('too quiet') && !out.includes('another log'), out);
    assert.match(err, /Initializing tail session/);
  } finally {
    tail.kill('SIGINT');
  }
});
