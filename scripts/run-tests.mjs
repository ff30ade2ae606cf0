// Runs every compiled test file (dist/**/*.test.js) with node's test runner; exit code is the runner's.
// The tests' temporary files (data directories, sources, private Docker engines, PostgreSQL clusters) go under one
// directory of this run (TMPDIR), removed when every test passed and kept, with its path said, when one failed.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { spawnSync } from 'node:child_process';

function find(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) find(p, out);
    else if (name.endsWith('.test.js')) out.push(p);
  }
  return out;
}

/** Removes `dir`, first unmounting what a test's dockerd left mounted under it (its network namespace). */
function remove(dir) {
  let mounts = [];
  try { mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map(l => l.split(' ')[1]).filter(m => m && m.startsWith(dir + '/')); } catch { /* not Linux */ }
  for (const m of mounts.sort().reverse()) spawnSync('umount', ['-l', m], { stdio: 'ignore' });
  try { rmSync(dir, { recursive: true, force: true, maxRetries: 3 }); } catch (e) { console.error(`could not remove the tests' temporary files in ${dir}: ${e.message}`); }
}

const only = process.argv.slice(2);
const files = find('dist').filter(f => !only.length || only.some(o => f.includes(o))).sort();
if (!files.length) { console.error('no test files found'); process.exit(1); }
const temp = mkdtempSync(join(tmpdir(), 'gantry-tests-'));
// Traversable by the other users tests run things as (PostgreSQL's clusters as `postgres`, tasks as an unprivileged user).
chmodSync(temp, 0o711);
const r = spawnSync(process.execPath, ['--test', '--test-concurrency=2', ...files], { stdio: 'inherit', env: { ...process.env, METADATA_SERVER_DETECTION: 'none', TMPDIR: temp } });
if (r.status === 0) remove(temp);
else console.error(`the tests' temporary files are kept in ${temp}`);
process.exit(r.status ?? 1);
