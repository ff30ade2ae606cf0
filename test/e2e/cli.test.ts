// The command line as a new user meets it: --version, --help, clear one-line errors with the usage, one Gantry per
// data directory, `gantry env` pointing gcloud at the running server, and what healthz and info say.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually, spawnGantry, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));
const VERSION = (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

async function gantry(args: string[], env: NodeJS.ProcessEnv = {}): Promise<{ code: number; stdout: string; stderr: string }> {
  try {
    const r = await run(process.execPath, [MAIN, ...args], { env: { ...process.env, ...env }, timeout: 30_000 });
    return { code: 0, stdout: r.stdout, stderr: r.stderr };
  } catch (e) {
    const x = e as { code: number; stdout: string; stderr: string };
    return { code: x.code, stdout: x.stdout, stderr: x.stderr };
  }
}

test('--version and --help', async () => {
  const v = await gantry(['--version']);
  assert.deepEqual([v.code, v.stdout.trim()], [0, `gantry ${VERSION}`]);
  const h = await gantry(['--help']);
  assert.equal(h.code, 0);
  assert.match(h.stdout, /Usage: gantry \[options\]/);
  assert.match(h.stdout, /gantry env/);
  assert.match(h.stdout, /--data-dir DIR/);
});

test('a bad command line gets one line saying what is wrong and a pointer to --help, never the usage or a stack trace', async () => {
  const cases: Promise<void>[] = [];
  for (const [args, line] of [
    [['--bogus'], 'gantry: unknown option --bogus'],
    [['--prot', '1'], 'gantry: unknown option --prot: did you mean --port?'],
    [['--data-dri', 'x'], 'gantry: unknown option --data-dri: did you mean --data-dir?'],
    [['--port', 'abc'], 'gantry: invalid --port "abc": a port is a whole number from 1 to 65535, or 0 for any free one'],
    [['--port', '-1'], 'gantry: invalid --port "-1": a port is a whole number from 1 to 65535, or 0 for any free one'],
    [['--port'], 'gantry: --port needs a value'],
    [['--clock', 'sideways'], 'gantry: invalid --clock "sideways": use real or virtual'],
    [['--log-level', 'loud'], 'gantry: invalid --log-level "loud": use debug, info, warn, error or silent'],
    [['--executor', 'proces'], 'gantry: invalid --executor "proces": use simulated, process or container (did you mean process?)'],
    [['--container-network', 'bridge'], 'gantry: invalid --container-network "bridge": use none or host'],
    [['--durability', 'extra'], 'gantry: invalid --durability "EXTRA": use NORMAL or FULL'],
    [['serve'], 'gantry: unknown command "serve" (commands: env, exec, migrate, status, reset, snapshot, clock)'],
    [['statsu'], 'gantry: unknown command "statsu": did you mean gantry status?'],
    [['--render-duration', 'soon'], 'gantry: invalid --render-duration soon (use e.g. 1s, 0.5s, 2m)'],
    [['--ephemeral', '--data-dir', '/tmp/x'], 'gantry: --ephemeral keeps no data directory: give one or the other'],
    [['--store', 'mysql://db/x'], 'gantry: invalid --store "mysql://db/x": a store is a PostgreSQL URL, postgres://USER@HOST:PORT/DATABASE'],
    [['--advertise-url', 'somewhere'], 'gantry: invalid --advertise-url somewhere: a URL of this instance, e.g. http://10.0.0.5:8080'],
    [['--lease-interval', '1ms'], 'gantry: invalid --lease-interval 1ms (use e.g. 1s; at least 50ms)'],
    [['--git-mirror', 'https://github.com/a/b.git'], 'gantry: --git-mirror: "https://github.com/a/b.git" is not URL=PATH (e.g. https://github.com/acme/app.git=/home/me/app)'],
    [['--git-mirror', 'https://github.com/a/b.git=app'], 'gantry: --git-mirror: "app" is not an absolute path'],
    [['--image-dir', 'gcr.io/p/job'], 'gantry: --image-dir: "gcr.io/p/job" is not IMAGE=DIR (e.g. gcr.io/my-project/logger-job=/home/me/logger-job)'],
    [['--image-dir', 'gcr.io/p/job=job'], 'gantry: --image-dir: "job" is not an absolute path'],
    [['--image-dir', 'gcr.io/p/job=/no/such/gantry-dir'], 'gantry: --image-dir: /no/such/gantry-dir (for gcr.io/p/job) is not a directory'],
    [['--data-dir', '/tmp/gantry-cli-mirror-data', '--git-mirror', 'https://github.com/a/b.git=/tmp/gantry-cli-mirror-data/repo'], 'gantry: --git-mirror: "/tmp/gantry-cli-mirror-data/repo" is inside Gantry\'s data directory, which is never a repository'],
  ] as const) cases.push(gantry([...args]).then(r => {
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, `${line}\nRun gantry --help for the options.\n`, args.join(' '));
  }));
  await Promise.all(cases);
  const env = await gantry([], { GANTRY_PORT: '99999' });
  assert.equal(env.stderr.split('\n')[0], 'gantry: invalid GANTRY_PORT "99999": a port is a whole number from 1 to 65535, or 0 for any free one');
});

test('gantry env and gantry exec parse as gantry does: the nearest flag, the valid values, one line and a pointer to their --help', async () => {
  const cases: Promise<void>[] = [];
  for (const [args, line, command] of [
    [['env', '--projct', 'x'], 'gantry: env: unknown option --projct: did you mean --project?', 'env'],
    [['env', '--shell', 'tcsh'], 'gantry: env: invalid --shell "tcsh": use bash, zsh, fish or powershell', 'env'],
    [['env', '--shell', 'pwershell'], 'gantry: env: invalid --shell "pwershell": use bash, zsh, fish or powershell (did you mean powershell?)', 'env'],
    [['env', '--region'], 'gantry: env: --region needs a value', 'env'],
    [['migrate'], 'gantry: migrate: no store to migrate: give --store postgres://… (or GANTRY_STORE)', 'migrate'],
    [['migrate', '--stor', 'x'], 'gantry: migrate: unknown option --stor: did you mean --store?', 'migrate'],
    [['env', '--region', 'mars'], 'gantry: env: invalid --region "mars": a region id, e.g. us-central1', 'env'],
    [['env', '--project', 'Bad_Project'], 'gantry: env: invalid --project "Bad_Project": a project id is 6 to 30 lowercase letters, digits and hyphens, starting with a letter', 'env'],
    [['env', '--url', 'ftp://x'], 'gantry: env: invalid --url "ftp://x": Gantry\'s address, e.g. http://127.0.0.1:8080', 'env'],
    [['env', 'bash'], 'gantry: env: unexpected argument "bash"', 'env'],
    [['exec', '--prot', '0', '--', 'true'], 'gantry: exec: unknown option --prot: did you mean --port?', 'exec'],
    [['exec', '--clock', 'sideways', '--', 'true'], 'gantry: exec: invalid --clock "sideways": use real or virtual', 'exec'],
  ] as const) cases.push(gantry([...args]).then(r => {
    assert.equal(r.code, 2, args.join(' '));
    assert.equal(r.stderr, `${line}\nRun gantry ${command} --help for the options.\n`, args.join(' '));
  }));
  await Promise.all(cases);
  // Its help lists every option it takes, with the valid shells.
  const help = await gantry(['env', '--help']);
  assert.equal(help.code, 0);
  for (const flag of ['--shell', '--project', '--region', '--data-dir', '--url', '--auth-token', '--help']) assert.match(help.stdout, new RegExp(`^  (-h, )?${flag} `, 'm'), flag);
  assert.match(help.stdout, /bash, zsh, fish, powershell/);
  // Not a bad command line but no server: exit 1, the reason alone.
  const none = await gantry(['env', '--data-dir', tempDir()]);
  assert.equal(none.code, 1);
  assert.match(none.stderr, /^gantry: env: no Gantry is running on .* \(start one, or pass --url\)\n$/);
});

test('one Gantry per data directory: a second is refused naming the first; a dead one\'s lock is taken over', async () => {
  const dataDir = tempDir();
  const first = await spawnGantry(['--data-dir', dataDir, '--log-level', 'silent']);
  try {
    const second = await gantry(['--data-dir', dataDir, '--port', '0']);
    assert.equal(second.code, 1);
    assert.equal(second.stderr.trim(), `gantry: the data directory ${dataDir} is in use by another Gantry (pid ${first.proc.pid}, ${first.url}): stop it, or give this one another --data-dir`);
  } finally {
    await first.kill('SIGKILL');
  }
  const third = await spawnGantry(['--data-dir', dataDir, '--log-level', 'silent']);
  assert.equal((await fetch(`${third.url}/gantry/v1/healthz`)).status, 200);
  await third.kill('SIGTERM');
  // A clean stop leaves no lock behind.
  assert.match((await gantry(['env', '--data-dir', dataDir])).stderr, /no Gantry is running on/);
});

test('gantry env points gcloud at the running Gantry (REST, Cloud Run through the proxy) in bash; fish and PowerShell forms', async () => {
  const dataDir = tempDir();
  const g = await spawnGantry(['--data-dir', dataDir, '--log-level', 'silent']);
  try {
    const bash = await gantry(['env', '--data-dir', dataDir]);
    assert.equal(bash.code, 0, bash.stderr);
    assert.match(bash.stdout, new RegExp(`^export CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDDEPLOY='${g.url}/'$`, 'm'));
    assert.match(bash.stdout, /^export CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE='.*tls\/cert\.pem'$/m);
    assert.match(bash.stdout, /^export FIREBASE_APPHOSTING_URL=/m);
    const script = `eval "$(${JSON.stringify(process.execPath)} ${JSON.stringify(MAIN)} env --data-dir ${JSON.stringify(dataDir)})"
      gcloud deploy delivery-pipelines list --region us-central1 --project env-proj --format=json
      gcloud run jobs list --region us-central1 --project env-proj --format=json`;
    const r = await run('bash', ['-c', script], { env: { ...process.env, CLOUDSDK_CONFIG: tempDir('gcloud-'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1' }, timeout: 120_000 });
    assert.deepEqual(r.stdout.trim().split(/\n(?=\[)/).map(x => JSON.parse(x)), [[], []]);
    const fish = await gantry(['env', '--data-dir', dataDir, '--shell', 'fish']);
    assert.match(fish.stdout, new RegExp(`^set -gx GANTRY_URL '${g.url}';$`, 'm'));
    const ps = await gantry(['env', '--data-dir', dataDir, '--shell', 'powershell']);
    assert.match(ps.stdout, new RegExp(`^\\$env:GANTRY_URL = '${g.url}'$`, 'm'));
  } finally {
    await g.kill('SIGTERM');
  }
});

test('healthz and info: version, APIs on each transport, executors and the container engine, clock, data directory', async () => {
  const dataDir = tempDir();
  const g = await spawnGantry(['--data-dir', dataDir, '--log-level', 'silent', '--clock', 'virtual', '--executor', 'process', '--docker-socket', '/nonexistent.sock']);
  try {
    const h = (await (await fetch(`${g.url}/gantry/v1/healthz`)).json()) as Record<string, any>;
    assert.equal(h.status, 'SERVING');
    assert.equal(h.version, VERSION);
    assert.deepEqual(h.executors, { enabled: ['simulated', 'process'], default: 'process', containerEngine: 'UNREACHABLE' });
    assert.equal(h.clock.mode, 'virtual');
    const deploy = h.apis.find((a: { name: string }) => a.name === 'clouddeploy.googleapis.com');
    assert.deepEqual(deploy, { name: 'clouddeploy.googleapis.com', versions: ['v1'], grpcServices: ['google.cloud.deploy.v1.CloudDeploy'] });
    const info = (await (await fetch(`${g.url}/gantry/v1/info`)).json()) as Record<string, any>;
    assert.equal(info.dataDir, dataDir);
    assert.equal(info.url, g.url);
    assert.equal(info.pid, g.proc.pid);
    assert.match(info.tlsCertFile, /tls\/cert\.pem$/);
  } finally {
    await g.kill('SIGTERM');
  }
});

test('--ephemeral keeps state in memory and leaves no files behind', async () => {
  const g = await spawnGantry(['--ephemeral', '--log-level', 'silent']);
  const info = (await (await fetch(`${g.url}/gantry/v1/info`)).json()) as { ephemeral: boolean; dataDir?: string; tlsCertFile: string };
  assert.equal(info.ephemeral, true);
  assert.equal(info.dataDir, undefined);
  const r = await fetch(`${g.url}/v1/projects/eph/locations/us-central1/targets?targetId=dev`, { method: 'POST', body: '{"run":{"location":"projects/eph/locations/us-central1"}}', headers: { 'content-type': 'application/json' } });
  assert.equal(r.status, 200);
  const work = dirname(dirname(info.tlsCertFile));
  await eventually(() => existsSync(info.tlsCertFile));
  await g.kill('SIGTERM');
  assert.equal(existsSync(work), false, `${work} is removed`);
});

test('start-up says where the console is, and with a token how to hand it over', async () => {
  for (const [args, want] of [[[], /^Console: http:\/\/127\.0\.0\.1:\d+\/console$/m], [['--auth-token', 's3cret'], /^Console: http:\/\/127\.0\.0\.1:\d+\/console#token=<your --auth-token>$/m]] as const) {
    const proc = spawn(process.execPath, [MAIN, '--port', '0', '--data-dir', tempDir(), '--log-level', 'silent', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stdout.on('data', (d: Buffer) => { out += d.toString(); });
    try {
      await eventually(() => /^Console: /m.test(out));
      assert.match(out, want);
      assert.doesNotMatch(out, /s3cret/, 'the token itself is never printed');
    } finally {
      proc.kill('SIGKILL');
    }
  }
});
