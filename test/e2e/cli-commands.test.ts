// The subcommands beside serving: `gantry status | reset | snapshot | clock` drive a running Gantry's control API from
// the shell (found through its data directory's lock, as `gantry env` finds it), and `gantry exec -- CMD` runs a
// command against a Gantry started for it, exiting with the command's status.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { spawnGantry, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

async function gantry(args: string[], opts: { env?: NodeJS.ProcessEnv; cwd?: string } = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, ...opts.env }, cwd: opts.cwd, timeout: 60_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

const TOKEN = 'cli-token';
const auth = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' };
const target = (url: string, project: string) => `${url}/v1/projects/${project}/locations/us-central1/targets`;

test('status, snapshot, clock advance and reset act on the Gantry holding the data directory', async () => {
  const dataDir = tempDir();
  const g = await spawnGantry(['--data-dir', dataDir, '--log-level', 'silent', '--clock', 'virtual', '--auth-token', TOKEN]);
  const env = { GANTRY_AUTH_TOKEN: TOKEN };
  const at = ['--data-dir', dataDir];
  try {
    for (const p of ['keep', 'drop']) assert.equal((await fetch(`${target(g.url, p)}?targetId=dev`, { method: 'POST', headers: auth, body: '{}' })).status, 200);

    const status = await gantry(['status', ...at], { env });
    assert.equal(status.code, 0, status.stderr);
    assert.match(status.stdout, new RegExp(`^Gantry \\S+ at ${g.url} \\(pid ${g.proc.pid}, since `));
    assert.match(status.stdout, new RegExp(`^State: +${dataDir}$`, 'm'));
    assert.match(status.stdout, /^Clock: +virtual, /m);
    assert.match(status.stdout, /^Executor: +simulated;/m);
    assert.match(status.stdout, /^Projects: +drop, keep$/m);
    // Without the token the server refuses, and the command says what to give.
    const refused = await gantry(['status', ...at]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /^gantry: status: refused \(give --auth-token or GANTRY_AUTH_TOKEN\): /);

    // A snapshot to stdout (redirected by the shell) and to -o FILE, whole or one project's.
    const file = join(dataDir, 'state.ndjson');
    await run('sh', ['-c', `"$0" "$1" snapshot --data-dir "$2" > "$3"`, process.execPath, MAIN, dataDir, file], { env: { ...process.env, ...env } });
    const names = (text: string) => text.trim().split('\n').map(l => JSON.parse(l) as { resource?: { name: string } }).flatMap(l => l.resource ? [l.resource.name] : []);
    assert.deepEqual(names(readFileSync(file, 'utf8')).filter(n => n.includes('/targets/')).sort(), ['projects/drop/locations/us-central1/targets/dev', 'projects/keep/locations/us-central1/targets/dev']);
    assert.equal((await gantry(['snapshot', ...at, '--project', 'keep', '-o', file], { env })).code, 0);
    assert.deepEqual(names(readFileSync(file, 'utf8')).filter(n => n.includes('/targets/')), ['projects/keep/locations/us-central1/targets/dev']);

    const before = Date.parse(((await (await fetch(`${g.url}/gantry/v1/clock`, { headers: auth })).json()) as { now: string }).now);
    const advanced = await gantry(['clock', 'advance', '10m', ...at], { env });
    assert.equal(advanced.code, 0, advanced.stderr);
    const after = ((await (await fetch(`${g.url}/gantry/v1/clock`, { headers: auth })).json()) as { now: string }).now;
    assert.equal(Date.parse(after) - before, 600_000);
    assert.equal(advanced.stdout, `${after} (virtual clock)\n`);
    assert.equal((await gantry(['clock', ...at], { env })).stdout, `${after} (virtual clock)\n`);
    const bad = await gantry(['clock', 'advance', 'soon', ...at], { env });
    assert.deepEqual([bad.code, bad.stderr], [2, 'gantry: clock: invalid duration "soon": use e.g. 90s, 10m, 1h30m\nRun gantry clock --help for the options.\n']);
    const verb = await gantry(['clock', 'advence', '1m', ...at], { env });
    assert.equal(verb.stderr.split('\n')[0], 'gantry: clock: invalid clock action "advence": use advance, freeze or unfreeze (did you mean advance?)');

    const reset = await gantry(['reset', '--project', 'drop', ...at], { env });
    assert.equal(reset.code, 0, reset.stderr);
    assert.match(reset.stdout, /^Reset project drop: \d+ resources forgotten/);
    assert.equal((await fetch(`${target(g.url, 'drop')}/dev`, { headers: auth })).status, 404);
    assert.equal((await fetch(`${target(g.url, 'keep')}/dev`, { headers: auth })).status, 200);
    // The server's refusal is the command's one line.
    const badProject = await gantry(['reset', '--project', 'Not_A_Project', ...at], { env });
    assert.deepEqual([badProject.code, badProject.stderr], [1, 'gantry: reset: project must be a project id, not "Not_A_Project".\n']);
  } finally {
    await g.kill('SIGTERM');
  }
  const gone = await gantry(['status', '--data-dir', dataDir]);
  assert.deepEqual([gone.code, gone.stderr], [1, `gantry: status: no Gantry is running on ${dataDir} (start one, or pass --data-dir or --url)\n`]);
});

test('clock advance on a real clock says why it cannot, from the server', async () => {
  const g = await spawnGantry(['--ephemeral', '--log-level', 'silent']);
  try {
    const r = await gantry(['clock', 'advance', '1m', '--url', g.url]);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /^gantry: clock: The clock runs in real time: freeze it first/);
  } finally {
    await g.kill('SIGTERM');
  }
});

test('gantry exec runs the command against a Gantry of its own (gcloud and curl see it), stops it, and exits with the command\'s status', async () => {
  const cwd = tempDir();
  const script = `set -e
    curl -sf -X POST -H 'content-type: application/json' -d '{}' "$GANTRY_URL/v1/projects/exec-proj/locations/us-central1/targets?targetId=ci" > /dev/null
    gcloud deploy targets list --region us-central1 --project exec-proj --format=json > targets.json
    echo "$GANTRY_URL" > url.txt
    exit 3`;
  const r = await gantry(['exec', '--', 'sh', '-c', script], { cwd, env: { CLOUDSDK_CONFIG: tempDir('gcloud-'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1', CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1' } });
  assert.equal(r.code, 3, r.stderr);
  assert.deepEqual((JSON.parse(readFileSync(join(cwd, 'targets.json'), 'utf8')) as { targets: { name: string }[] }).targets.map(t => t.name), ['projects/exec-proj/locations/us-central1/targets/ci']);
  const url = readFileSync(join(cwd, 'url.txt'), 'utf8').trim();
  assert.match(r.stderr, new RegExp(`^gantry exec: Gantry listening on ${url} \\(state in memory\\); running sh -c `));
  // Gantry is gone with the command, and kept its state in memory: nothing written where it ran.
  await assert.rejects(fetch(`${url}/gantry/v1/healthz`));
  assert.equal(existsSync(join(cwd, '.gantry')), false);

  const missing = await gantry(['exec', '--', 'no-such-command-here'], { cwd });
  assert.equal(missing.code, 127);
  assert.match(missing.stderr, /gantry exec: cannot run no-such-command-here: no such command/);
  const noCommand = await gantry(['exec', '--port', '0'], { cwd });
  assert.deepEqual([noCommand.code, noCommand.stderr], [2, 'gantry: exec: give the command after --, e.g. gantry exec -- npm test\nRun gantry exec --help for the options.\n']);
});
