// What a newcomer sees: the start-up banner says what runs work, where state lives and the next step (a command that
// works from any directory); a browser opening Gantry's address lands on the console; a refused request's log line
// says why.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

interface Started { proc: ChildProcess; url: string; out: () => string; err: () => string }

async function start(args: string[]): Promise<Started> {
  const proc = spawn(process.execPath, [MAIN, '--port', '0', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '', err = '';
  proc.stdout!.on('data', (d: Buffer) => { out += d.toString(); });
  proc.stderr!.on('data', (d: Buffer) => { err += d.toString(); });
  await eventually(() => /^Next: /m.test(out), 20_000).catch(e => { proc.kill('SIGKILL'); throw e; });
  return { proc, url: /listening on (http:\/\/\S+)/.exec(out)![1], out: () => out, err: () => err };
}

const stop = (g: Started) => new Promise(r => { g.proc.once('exit', r); g.proc.kill('SIGTERM'); });

test('the banner says what runs work, where state lives, and a next step that works from another directory', async () => {
  const dataDir = tempDir();
  const g = await start(['--data-dir', dataDir, '--log-level', 'silent']);
  try {
    assert.match(g.out(), /^Executor: simulated: nothing runs; job runs, tasks and builds succeed after a delay unless scripted \(--executor process or container runs them\)$/m);
    assert.match(g.out(), new RegExp(`^State: ${dataDir}$`, 'm'));
    assert.match(g.out(), new RegExp(`^Console: ${g.url}/console$`, 'm'));
    const next = /^Next: eval "\$\((.*)\)" in any shell/m.exec(g.out());
    assert.ok(next, g.out());
    // The printed step, in a shell in another directory: the environment it sets names this Gantry.
    const r = await run('bash', ['-c', `eval "$(${next[1]})" && echo "$GANTRY_URL" && echo "$CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE"`], { cwd: tempDir() });
    assert.deepEqual(r.stdout.trim().split('\n'), [g.url, `${dataDir}/tls/cert.pem`]);
  } finally {
    await stop(g);
  }
  const eph = await start(['--ephemeral', '--log-level', 'silent', '--allow-executors', 'process']);
  try {
    assert.match(eph.out(), /^Executor: simulated: .*; targets may also choose process$/m);
    assert.match(eph.out(), /^State: in memory, gone when Gantry stops$/m);
    assert.match(eph.out(), new RegExp(`^Next: eval "\\$\\(node .*main\\.js env --url ${eph.url}\\)"`, 'm'));
  } finally {
    await stop(eph);
  }
});

test('GET / sends a browser to the console; an API client gets the 404 of an unknown path; a refusal is logged with its reason', async () => {
  const g = await start(['--ephemeral', '--log-level', 'info']);
  try {
    const browser = await fetch(`${g.url}/`, { headers: { accept: 'text/html,application/xhtml+xml,*/*;q=0.8' }, redirect: 'manual' });
    assert.deepEqual([browser.status, browser.headers.get('location')], [302, '/console']);
    const api = await fetch(`${g.url}/`);
    assert.equal(api.status, 404);
    assert.equal(((await api.json()) as { error: { status: string } }).error.status, 'NOT_FOUND');
    // Only the exact root: other paths are not redirected.
    assert.equal((await fetch(`${g.url}//`, { headers: { accept: 'text/html' }, redirect: 'manual' })).status, 404);

    const bad = await fetch(`${g.url}/v1/projects/p/locations/us-central1/targets`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    assert.equal(bad.status, 400);
    const message = ((await bad.json()) as { error: { message: string } }).error.message;
    await eventually(() => g.err().includes(`POST /v1/projects/p/locations/us-central1/targets 400 `));
    assert.match(g.err(), new RegExp(`POST /v1/projects/p/locations/us-central1/targets 400 [\\d.]+ms INVALID_ARGUMENT: ${message.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}$`, 'm'));
  } finally {
    await stop(g);
  }
});
