// The npm package: `npm pack` gives a tarball of the prebuilt server and console, their assets and schemas (no tests,
// sources, maps or fixtures), and the installed `gantry` starts from any directory and serves its API and console.
// The installation is laid out as npm lays it out (the package under node_modules/gantry, its bin linked in
// node_modules/.bin) with the dependencies this clone already holds, so the test needs no network and no native build.
// GANTRY_PACK_INSTALL=1 installs the tarball with npm itself instead (registry access; minutes, for better-sqlite3).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFile, spawn } from 'node:child_process';
import { chmodSync, mkdirSync, readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { eventually, tempDir } from '../helpers/server.js';

const run = promisify(execFile);
const ROOT = fileURLToPath(new URL('../../..', import.meta.url));
const PKG = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { name: string; version: string; dependencies: Record<string, string>; private?: boolean; bin: Record<string, string> };

test('npm pack gives an installable tarball of the built server whose gantry starts from any directory', { timeout: 600_000 }, async () => {
  assert.equal(PKG.private, undefined, 'the package can be packed and installed');
  const out = tempDir('gantry-pack-');
  // dist/ is built already (npm test compiles first): --ignore-scripts skips prepack's rebuild.
  const packed = await run('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', out], { cwd: ROOT, maxBuffer: 16 << 20 });
  const [info] = JSON.parse(packed.stdout) as { filename: string; size: number; files: { path: string }[] }[];
  const files = info.files.map(f => f.path);
  for (const need of ['dist/src/main.js', 'dist/src/gantry.js', 'dist/console/main.js', 'console/index.html', 'console/style.css', 'console/icon.svg', 'schemas/clouddeploy-v1.json', 'README.md', 'package.json']) {
    assert.ok(files.includes(need), `${need} is packed`);
  }
  const stray = files.filter(f => /(^|\/)(test|bench|scripts|fixtures)\/|\.ts$|\.map$|\.png$|^src\/|^console\/src\//.test(f));
  assert.deepEqual(stray, [], 'no tests, sources, maps or fixtures');
  assert.ok(info.size < 1_000_000, `the tarball is small (${info.size} B)`);

  const project = tempDir('gantry-install-');
  if (process.env.GANTRY_PACK_INSTALL === '1') {
    await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', join(out, info.filename)], { cwd: project, maxBuffer: 16 << 20 });
  } else {
    const modules = join(project, 'node_modules');
    mkdirSync(join(modules, '.bin'), { recursive: true });
    await run('tar', ['xzf', join(out, info.filename), '-C', modules]);
    await run('mv', [join(modules, 'package'), join(modules, PKG.name)]);
    // Only the runtime dependencies, beside the package: an import of anything else fails here.
    for (const dep of Object.keys(PKG.dependencies)) {
      mkdirSync(join(modules, dep, '..'), { recursive: true });
      symlinkSync(join(ROOT, 'node_modules', dep), join(modules, dep));
    }
    // As npm links a bin: executable, its #! line picks node.
    chmodSync(join(modules, PKG.name, PKG.bin.gantry), 0o755);
    symlinkSync(join('..', PKG.name, PKG.bin.gantry), join(modules, '.bin', 'gantry'));
  }

  // Started through its bin link from an unrelated directory, as `gantry` on the PATH is.
  const elsewhere = tempDir('gantry-cwd-');
  const proc = spawn(join(project, 'node_modules', '.bin', 'gantry'), ['--port', '0', '--ephemeral', '--log-level', 'warn'], { cwd: elsewhere, stdio: ['ignore', 'pipe', 'pipe'] });
  let text = '';
  proc.stdout.on('data', (d: Buffer) => { text += d.toString(); });
  proc.stderr.on('data', (d: Buffer) => { text += d.toString(); });
  try {
    await eventually(() => /^Next: /m.test(text), 30_000);
    const url = /listening on (http:\/\/\S+)/.exec(text)![1];
    assert.match(text, new RegExp(`^Next: eval "\\$\\(gantry env --url ${url}\\)"`, 'm'), 'the installed command names itself');
    const health = (await (await fetch(`${url}/gantry/v1/healthz`)).json()) as { version: string };
    assert.equal(health.version, PKG.version);
    // The schemas (request validation) and the console's files are read from the installed package.
    const loc = 'projects/pack/locations/us-central1';
    const created = await fetch(`${url}/v1/${loc}/targets?targetId=dev`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"run":{"location":"projects/pack/locations/us-central1"}}' });
    assert.equal(created.status, 200, await created.clone().text());
    const bad = await fetch(`${url}/v1/${loc}/targets?targetId=dev2`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"nonsense":1}' });
    assert.equal(bad.status, 400);
    assert.equal((await fetch(`${url}/console`)).status, 200);
    assert.equal((await fetch(`${url}/console/app/main.js`)).status, 200);
    assert.equal((await fetch(`${url}/console/vendor/preact.js`)).status, 200);
  } finally {
    proc.kill('SIGTERM');
  }
});
