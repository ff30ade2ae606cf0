// `eval "$(gantry env)"` is all a client needs: evaluated in a fresh shell in another directory, with nothing else
// configured, one command of each client reaches Gantry (gcloud deploy, run jobs, secrets, logging read and tail,
// storage; firebase-tools App Hosting; a @google-cloud/* library over gRPC). gcloud's gRPC commands and the Node
// libraries open proxy tunnels (CONNECT) that Gantry serves itself; tunnels to any other host are refused, and the
// guard applies to the CONNECT and to every request inside.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { realpathSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { firebaseBin } from '../helpers/firebase.js';
import { eventually, spawnGantry, startTestGantry, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const PACKAGE_JSON = fileURLToPath(new URL('../../../package.json', import.meta.url));

/**
 * A shell with nothing but a PATH, a private HOME and gcloud's private config (never the user's). Python writes to a
 * pipe in blocks: unbuffered, so the tail's lines arrive as a terminal would show them.
 */
function bareEnvironment(home: string): NodeJS.ProcessEnv {
  return { PATH: process.env.PATH, HOME: home, XDG_CONFIG_HOME: join(home, '.config'), CLOUDSDK_CONFIG: join(home, 'gcloud'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1', TZ: 'UTC', PYTHONUNBUFFERED: '1' };
}

test('gantry env, evaluated in a fresh shell elsewhere, is all gcloud, firebase-tools and @google-cloud/deploy over gRPC need', { timeout: 300_000 }, async () => {
  const firebase = await firebaseBin();
  const dataDir = tempDir();
  const g = await spawnGantry(['--data-dir', dataDir, '--log-level', 'info', '--task-duration', '0.2s']);
  let log = '';
  for (const s of [g.proc.stdout!, g.proc.stderr!]) s.on('data', (d: Buffer) => { log += d.toString(); });
  const home = tempDir('gantry-env-home-');
  const env = bareEnvironment(home);
  const evalEnv = `set -euo pipefail; cd ${JSON.stringify(home)}; eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} env --data-dir ${JSON.stringify(dataDir)})"`;
  const shell = (script: string) => run('bash', ['-c', `${evalEnv}\n${script}`], { env, cwd: home, timeout: 200_000, maxBuffer: 16 << 20 });
  try {
    // The project and region are printed, and every path is absolute.
    const printed = (await run(process.execPath, [MAIN, 'env', '--data-dir', dataDir], { cwd: home })).stdout;
    assert.match(printed, /^export CLOUDSDK_CORE_PROJECT='my-project'$/m);
    assert.match(printed, /^export CLOUDSDK_RUN_REGION='us-central1'$/m);
    for (const [, name, path] of printed.matchAll(/^export (\w*(?:FILE|CREDENTIALS|PATH))='(.*)'$/gm)) {
      if (name !== 'PATH') assert.ok(path.startsWith('/'), `${name}=${path}`);
    }

    // gcloud follows the tail through the CONNECT tunnel (gRPC over TLS through its HTTP proxy, which is Gantry).
    const tail = spawn('bash', ['-c', `${evalEnv}\nexec gcloud beta logging tail 'logName="projects/my-project/logs/env-tail"' --buffer-window=0s --format='value(textPayload)'`], { env, cwd: home });
    let tailed = '', tailErr = '';
    tail.stdout.on('data', (d: Buffer) => { tailed += d.toString(); });
    tail.stderr.on('data', (d: Buffer) => { tailErr += d.toString(); });
    try {
      writeFileSync(join(home, 'pipeline.yaml'), 'apiVersion: deploy.cloud.google.com/v1\nkind: DeliveryPipeline\nmetadata:\n  name: env-pipe\nserialPipeline:\n  stages:\n  - targetId: dev\n');
      writeFileSync(join(home, 'deploy.mjs'), `import { createRequire } from 'node:module';
const { CloudDeployClient } = createRequire(${JSON.stringify(PACKAGE_JSON)})('@google-cloud/deploy');
const client = new CloudDeployClient();
const [pipelines] = await client.listDeliveryPipelines({ parent: 'projects/' + process.env.GOOGLE_CLOUD_PROJECT + '/locations/us-central1' });
console.log('node:', pipelines.map(p => p.name).join());
await client.close();
`);
      const r = await shell(`
        gcloud deploy apply --file pipeline.yaml >/dev/null 2>&1
        echo "deploy: $(gcloud deploy delivery-pipelines list --format='value(name)')"
        gcloud run jobs deploy env-job --image busybox >/dev/null 2>&1
        echo "execution: $(gcloud run jobs execute env-job --wait --format='value(status.succeededCount)')"
        printf s3cret | gcloud secrets create env-secret --data-file=- >/dev/null 2>&1
        echo "secret: $(gcloud secrets versions access latest --secret env-secret)"
        gcloud logging write env-read 'read back' >/dev/null 2>&1
        echo "logging: $(gcloud logging read 'logName="projects/my-project/logs/env-read"' --format='value(textPayload)')"
        gcloud storage buckets create gs://env-bucket-1 >/dev/null 2>&1
        echo "storage: $(gcloud storage ls)"
        node deploy.mjs
        printf v1 | ${JSON.stringify(firebase)} apphosting:secrets:set fb-secret --data-file=- --force --non-interactive --project "$GANTRY_PROJECT" >/dev/null 2>&1
        echo "firebase secret: $(${JSON.stringify(firebase)} apphosting:secrets:access fb-secret --non-interactive --project "$GANTRY_PROJECT" 2>/dev/null | tail -n1)"
        ${JSON.stringify(firebase)} apphosting:backends:list --non-interactive --json --project "$GANTRY_PROJECT" | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log("firebase backends:",JSON.parse(s).status))'
      `).catch((e: { stdout?: string; stderr?: string; message: string }) => { throw new Error(`${e.message}\nstdout: ${e.stdout}\nstderr: ${e.stderr?.slice(-3000)}`); });
      const lines = r.stdout.trim().split('\n');
      assert.deepEqual(lines, [
        'deploy: projects/my-project/locations/us-central1/deliveryPipelines/env-pipe',
        'execution: 1',
        'secret: s3cret',
        'logging: read back',
        'storage: gs://env-bucket-1/',
        'node: projects/my-project/locations/us-central1/deliveryPipelines/env-pipe',
        'firebase secret: v1',
        'firebase backends: success',
      ]);
      // The tail sees an entry written after it started (gcloud starts slowly: write until it has).
      let n = 0;
      await eventually(async () => {
        await shell(`gcloud logging write env-tail 'tailed ${n++}' >/dev/null 2>&1`);
        return tailed.includes('tailed');
      }, 60_000).catch(e => { throw new Error(`${(e as Error).message}; tail printed ${JSON.stringify(tailed)} and ${JSON.stringify(tailErr.slice(-2000))}`); });
    } finally {
      tail.kill('SIGKILL');
    }
    // Both gRPC clients came through tunnels Gantry served itself.
    assert.match(log, new RegExp(`CONNECT ${new URL(g.url).host} 200`));
    assert.match(log, /CONNECT clouddeploy\.localhost:443 200/);
  } finally {
    await g.kill('SIGTERM');
  }
});

test('gantry env: --project and --region are printed, the default project is one Gantry holds, zsh is bash\'s form', async () => {
  const dataDir = tempDir();
  const g = await spawnGantry(['--data-dir', dataDir, '--log-level', 'silent']);
  const gantryEnv = async (...args: string[]) => (await run(process.execPath, [MAIN, 'env', '--data-dir', dataDir, ...args])).stdout;
  try {
    assert.match(await gantryEnv(), /^export GOOGLE_CLOUD_PROJECT='my-project'$/m);
    const created = await fetch(`${g.url}/v1/projects/held-proj/secrets?secretId=s1`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"replication":{"automatic":{}}}' });
    assert.equal(created.status, 200);
    assert.match(await gantryEnv(), /^export CLOUDSDK_CORE_PROJECT='held-proj'$/m);
    const given = await gantryEnv('--project', 'other-proj', '--region', 'europe-west1', '--shell', 'zsh');
    assert.match(given, /^export CLOUDSDK_CORE_PROJECT='other-proj'$/m);
    assert.match(given, /^export CLOUDSDK_DEPLOY_REGION='europe-west1'$/m);
    assert.match(await gantryEnv('--shell', 'fish'), /^set -gx GANTRY_REGION 'us-central1';$/m);
    // Bad values are a bad command line: test/e2e/cli.test.ts.
  } finally {
    await g.kill('SIGTERM');
  }
});

test('gantry env keeps Cloud Build on this machine: gcloud builds list answers from Gantry, its unserved methods and firebase-tools\' Cloud Build origin get Gantry\'s 501 naming the call', { timeout: 120_000 }, async () => {
  const dataDir = tempDir();
  const g = await spawnGantry(['--data-dir', dataDir, '--log-level', 'silent']);
  const home = tempDir('gantry-env-home-');
  const env = bareEnvironment(home);
  const evalEnv = `set -euo pipefail; cd ${JSON.stringify(home)}; eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} env --data-dir ${JSON.stringify(dataDir)})"`;
  try {
    // firebase-tools resolves its Cloud Build origin (lib/api.js) to Gantry.
    const api = join(dirname(dirname(realpathSync(await firebaseBin()))), 'api.js');
    const origin = await run('bash', ['-c', `${evalEnv}\nexec ${JSON.stringify(process.execPath)} -e 'console.log(require(process.argv[1]).cloudbuildOrigin())' ${JSON.stringify(api)}`], { env, cwd: home });
    assert.equal(origin.stdout.trim(), g.url);
    // Builds are Gantry's own (those its job runs, renders and App Hosting builds name): an empty list here.
    const listed = await run('bash', ['-c', `${evalEnv}\ngcloud builds list --region us-central1 --format=json`], { env, cwd: home, timeout: 100_000 });
    assert.deepEqual(JSON.parse(listed.stdout), []);
    // A Cloud Build method Gantry does not serve is its 501 UNIMPLEMENTED naming the call: no connection error, no
    // call to Google. (gcloud retries a 5xx five times with backoff, as it would Google's own 501: about 30 s.)
    const triggers = await run('bash', ['-c', `${evalEnv}\ngcloud builds triggers list --region us-central1 --format=json`], { env, cwd: home, timeout: 100_000 })
      .then(() => assert.fail('gcloud builds triggers list succeeded'), (e: { code: number; stderr: string }) => e);
    assert.equal(triggers.code, 1);
    assert.match(triggers.stderr, new RegExp(`HttpError accessing <${g.url}/v1/projects/my-project/locations/us-central1/triggers`));
    assert.match(triggers.stderr, /"code":501,"message":"GET \/v1\/projects\/my-project\/locations\/us-central1\/triggers is not a method of an API Gantry implements/);
    // The global (location-less) form is Gantry's 501 too.
    const global = await fetch(`${g.url}/v1/projects/my-project/triggers`, { headers: { authorization: 'Bearer gantry' } });
    assert.equal(global.status, 501);
    assert.equal(((await global.json()) as { error: { status: string } }).error.status, 'UNIMPLEMENTED');
  } finally {
    await g.kill('SIGTERM');
  }
});

/** Opens a CONNECT tunnel through Gantry; resolves with the socket (tunnel open) or the refusal's whole text. */
function connectThrough(port: number, target: string, headers: Record<string, string> = { host: target }): Promise<{ socket?: Socket; refusal?: string }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let got = '';
    socket.on('error', reject);
    socket.write(`CONNECT ${target} HTTP/1.1\r\n${Object.entries(headers).map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`);
    const onData = (d: Buffer) => {
      got += d.toString('latin1');
      if (got.startsWith('HTTP/1.1 200') && got.includes('\r\n\r\n')) { socket.off('data', onData); resolve({ socket }); }
    };
    socket.on('data', onData);
    socket.on('end', () => resolve({ refusal: got }));
  });
}

/** One HTTP/1.1 request on an open socket; the whole response. */
function requestOn(socket: Socket, head: string): Promise<string> {
  return new Promise(resolve => {
    let got = '';
    socket.on('data', (d: Buffer) => { got += d.toString('latin1'); });
    socket.on('close', () => resolve(got));
    socket.write(`${head}\r\nconnection: close\r\n\r\n`);
  });
}

test('CONNECT: a tunnel to Gantry itself is served by Gantry (the guard applies inside); any other target is refused, never connected to', async () => {
  const g = await startTestGantry();
  const secured = await startTestGantry({ authToken: 'tok' });
  try {
    const port = g.port;
    // To itself: the tunnel speaks HTTP/1.1 (or TLS, or gRPC) to Gantry.
    const open = await connectThrough(port, `127.0.0.1:${port}`);
    assert.ok(open.socket, open.refusal);
    assert.match(await requestOn(open.socket, `GET /gantry/v1/healthz HTTP/1.1\r\nhost: 127.0.0.1:${port}`), /^HTTP\/1\.1 200 [\s\S]*"SERVING"/);
    // Inside the tunnel the guard still holds: a foreign Host is refused.
    const inside = await connectThrough(port, `localhost:${port}`);
    assert.match(await requestOn(inside.socket!, 'GET /gantry/v1/healthz HTTP/1.1\r\nhost: evil.test'), /^HTTP\/1\.1 403 [\s\S]*Host \\"evil\.test\\" is not allowed/);
    // Elsewhere: refused in Google's shape; a target Gantry does not answer is never connected to.
    for (const [target, headers, status, reason] of [
      ['example.com:443', { host: 'example.com:443' }, 403, /Gantry is no proxy to other hosts|is not allowed/],
      ['169.254.169.254:80', { host: `127.0.0.1:${port}` }, 403, /CONNECT to \\"169\.254\.169\.254:80\\" is refused/],
      ['localhost', { host: 'localhost' }, 400, /Invalid CONNECT target/],
      [`127.0.0.1:${port}`, { host: `127.0.0.1:${port}`, origin: 'http://evil.test' }, 403, /Origin/],
    ] as const) {
      const r = await connectThrough(port, target, headers);
      assert.equal(r.socket, undefined, target);
      assert.match(r.refusal!, new RegExp(`^HTTP/1\\.1 ${status} `), target);
      const body = JSON.parse(r.refusal!.slice(r.refusal!.indexOf('\r\n\r\n') + 4)) as { error: { code: number; message: string } };
      assert.equal(body.error.code, status);
      assert.match(JSON.stringify(body.error.message), reason, target);
    }
    // With a token, the CONNECT itself must carry it, and so must each request inside.
    const sp = secured.port;
    assert.match((await connectThrough(sp, `127.0.0.1:${sp}`)).refusal!, /^HTTP\/1\.1 401 /);
    const authed = await connectThrough(sp, `127.0.0.1:${sp}`, { host: `127.0.0.1:${sp}`, authorization: 'Bearer tok' });
    assert.match(await requestOn(authed.socket!, `GET /gantry/v1/projects HTTP/1.1\r\nhost: 127.0.0.1:${sp}`), /^HTTP\/1\.1 401 /);
    // A client that resets its refused CONNECT does not take Gantry down.
    const rude = connect(port, '127.0.0.1');
    rude.on('error', () => undefined);
    rude.write('CONNECT example.com:443 HTTP/1.1\r\nhost: example.com:443\r\n\r\n');
    rude.resetAndDestroy();
    await new Promise(r => setTimeout(r, 100));
    assert.equal((await fetch(`${g.url}/gantry/v1/healthz`)).status, 200);
  } finally {
    await g.close();
    await secured.close();
  }
});
