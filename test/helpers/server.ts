// Starts Gantry for a test: in-process (fast), or as a child process (for kill/restart tests).
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { fileURLToPath } from 'node:url';
import { startGantry, type Gantry, type GantryOptions } from '../../src/gantry.js';

export function tempDir(prefix = 'gantry-test-'): string {
  return mkdtempSync(join(tmpdir(), prefix));
}

/** Writes `files` (path → text) under `root`, creating folders; returns `root`. */
export function writeTree(root: string, files: Record<string, string | Buffer>): string {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(root, p)), { recursive: true });
    writeFileSync(join(root, p), text);
  }
  return root;
}

/**
 * Tests stage file:// release sources under the temp directory, so that is where the test server reads them;
 * tests of the source policy itself pass their own `sourceDirs`.
 */
export async function startTestGantry(opts: Partial<GantryOptions> = {}): Promise<Gantry> {
  return startGantry({ port: 0, dataDir: tempDir(), logLevel: 'silent', renderMs: 50, jobMs: 30, taskMs: 30, sourceDirs: [tmpdir()], ...opts });
}

const MAIN = fileURLToPath(new URL('../../src/main.js', import.meta.url));

export interface ChildGantry {
  url: string;
  proc: ChildProcess;
  kill(signal?: NodeJS.Signals): Promise<number | null>;
  /** Everything it has written so far (its log on stderr, its banner on stdout). */
  output(): string;
}

/** Spawns `gantry` and resolves once it logs that it listens. */
export function spawnGantry(args: string[], env: Record<string, string> = {}): Promise<ChildGantry> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, [MAIN, '--port', '0', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    proc.stderr!.on('data', (d: Buffer) => { out += d.toString(); });
    const onData = (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        proc.stdout!.off('data', onData);
        proc.stdout!.resume();
        resolve({
          url: m[1], proc,
          kill: (signal = 'SIGKILL') => new Promise(r => { if (proc.exitCode !== null || proc.signalCode !== null) { r(proc.exitCode); return; } proc.once('exit', code => r(code)); proc.kill(signal); }),
          output: () => out,
        });
      }
    };
    proc.stdout!.on('data', onData);
    proc.once('exit', code => reject(new Error(`gantry exited with ${code} before listening:\n${out}`)));
  });
}

/** Polls `fn` until it returns a truthy value or the deadline passes. */
export async function eventually<T>(fn: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await fn();
      if (v) return v;
    } catch (e) { last = e; }
    if (Date.now() > end) throw new Error(`condition not met within ${timeoutMs}ms${last ? `: ${String(last)}` : ''}`);
    await new Promise(r => setTimeout(r, 20));
  }
}

/** A loopback port nothing listens on now (for a server a test starts by its own command line). */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => { const a = s.address(); s.close(() => resolve(typeof a === 'object' && a ? a.port : 0)); });
  });
}
