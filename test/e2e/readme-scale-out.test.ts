// The README's recipe for several instances on PostgreSQL, run as written: its shell block, in a project that has
// Gantry installed (so `npx gantry` finds it), with the database URL pointed at a throwaway cluster and the ports at
// free ones. The three instances answer over one state and split the work; when one dies the others take its share.
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { google } from 'googleapis';
import { eventually, freePort, tempDir } from '../helpers/server.js';
import { splitEvenly, startPostgres, workOf, type TestPostgres } from '../helpers/postgres.js';

const ROOT = fileURLToPath(new URL('../../..', import.meta.url));

let pg: TestPostgres;
before(async () => { pg = await startPostgres(); });
after(async () => { await pg?.stop(); });

test('the README\'s three instances on one PostgreSQL: the recipe as written starts them, they share one state, and the work moves when one dies', { timeout: 180_000 }, async () => {
  const readme = readFileSync(join(ROOT, 'README.md'), 'utf8');
  const start = readme.indexOf('\n### Several instances on PostgreSQL\n');
  assert.ok(start >= 0, 'the README has the recipe');
  const block = /```sh\n([\s\S]*?)```/.exec(readme.slice(start))![1];
  const store = pg.database();
  const ports = [8081, 8082, 8083];
  const free = await Promise.all(ports.map(() => freePort()));
  // The database and the ports are this machine's; every other character is the README's.
  let script = block.replace(/^export GANTRY_STORE=\S+/m, m => { assert.match(m, /postgres:\/\//); return `export GANTRY_STORE=${store}`; });
  ports.forEach((p, i) => { assert.ok(script.includes(`--port ${p}`), `the recipe starts an instance on ${p}`); script = script.replaceAll(`--port ${p}`, `--port ${free[i]}`); });

  // A project with Gantry installed: `npx gantry` runs its bin.
  const project = tempDir('gantry-scale-out-');
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'ci-tools', private: true, dependencies: { gantry: '*' } }));
  mkdirSync(join(project, 'node_modules', '.bin'), { recursive: true });
  symlinkSync(ROOT, join(project, 'node_modules', 'gantry'));
  // The bin as npm links it, made executable as npm does (the build's own output carries no mode bits).
  writeFileSync(join(project, 'node_modules', '.bin', 'gantry'), `#!/bin/sh\nexec node "${join(ROOT, 'dist', 'src', 'main.js')}" "$@"\n`, { mode: 0o755 });

  let out = '';
  const sh = spawn('bash', ['-c', `set -e\n${script}\nwait`], { cwd: project, detached: true, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_UPDATE_NOTIFIER: '1', npm_config_update_notifier: 'false' } });
  for (const s of [sh.stdout!, sh.stderr!]) s.on('data', (d: Buffer) => { out += d.toString(); });
  const urls = free.map(p => `http://127.0.0.1:${p}`);
  try {
    await eventually(async () => { try { await Promise.all(urls.map(workOf)); return true; } catch { return false; } }, 60_000).catch(() => assert.fail(`the instances did not start:\n${out}`));
    assert.match(out, /schema migrated from version 0 to \d+/, 'gantry migrate ran first');
    // The work is split: each instance holds a share of the slots (the first took all, and handed some on).
    await eventually(() => splitEvenly(urls), 15_000);

    // One state: a target made on the first is read on the third.
    const auth = new google.auth.OAuth2();
    auth.setCredentials({ access_token: 'x', expiry_date: Date.now() + 3600_000 });
    const loc = 'projects/recipe/locations/us-central1';
    await google.clouddeploy({ version: 'v1', rootUrl: urls[0] + '/', auth }).projects.locations.targets.create({ parent: loc, targetId: 'dev', requestBody: { run: { location: loc } } });
    const read = await google.clouddeploy({ version: 'v1', rootUrl: urls[2] + '/', auth }).projects.locations.targets.get({ name: `${loc}/targets/dev` });
    assert.equal(read.data.name, `${loc}/targets/dev`);

    // One dies: the other two take its slots within the default --lease-interval (1 s) and some slack.
    const { pid } = await workOf(urls[1]);
    process.kill(pid, 'SIGKILL');
    await eventually(() => splitEvenly([urls[0], urls[2]]), 15_000);
  } finally {
    try { process.kill(-sh.pid!, 'SIGTERM'); } catch { /* ended */ }
    await eventually(() => { try { process.kill(-sh.pid!, 0); return false; } catch { return true; } }, 15_000).catch(() => { try { process.kill(-sh.pid!, 'SIGKILL'); } catch { /* ended */ } });
  }
});
