// `npm start`'s build: compiles the server and the console only when a source is newer than the last build, so a start
// with nothing changed costs a directory walk (milliseconds) instead of a full tsc run. A fresh clone (no dist/) builds.
import { existsSync, mkdirSync, readdirSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const STAMP = join(ROOT, 'dist', '.build-stamp');
// Everything the build reads; directories count too (a deleted or renamed file changes its directory's mtime).
const INPUTS = ['src', 'console', 'tsconfig.json', 'tsconfig.build.json', 'package.json', 'package-lock.json'];

function newest(path) {
  let st;
  try { st = statSync(path); } catch { return 0; }
  let t = st.mtimeMs;
  if (st.isDirectory()) for (const name of readdirSync(path)) t = Math.max(t, newest(join(path, name)));
  return t;
}

const stampTime = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
const sourceTime = Math.max(...INPUTS.map(p => newest(join(ROOT, p))));
if (stampTime > sourceTime && !process.argv.includes('--force')) process.exit(0);

// The stamp takes the time the build started: a file saved during the build makes the next start build again.
const started = new Date();
const tsc = createRequire(import.meta.url).resolve('typescript/bin/tsc');
process.stderr.write(stampTime ? 'gantry: sources changed since the last build, compiling…\n' : 'gantry: first start, compiling (once)…\n');
for (const project of ['tsconfig.build.json', 'console']) {
  const r = spawnSync(process.execPath, [tsc, '-p', project], { cwd: ROOT, stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}
mkdirSync(join(ROOT, 'dist'), { recursive: true });
writeFileSync(STAMP, `${started.toISOString()}\n`);
utimesSync(STAMP, started, started);
