// firebase-tools for the tests: installed from npm on first use into .cache/firebase-tools (about two minutes: it
// compiles re2), then run with every origin it touches pointed at one Gantry, a private HOME and a fake token.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './server.js';

const ROOT = fileURLToPath(new URL('../../../.cache/firebase-tools', import.meta.url));
const BIN = join(ROOT, 'node_modules', '.bin', 'firebase');

/** The firebase CLI's path, installing it when missing (one installer at a time across test processes). */
export async function firebaseBin(): Promise<string> {
  if (process.env.FIREBASE_TOOLS_BIN) return process.env.FIREBASE_TOOLS_BIN;
  if (existsSync(BIN)) return BIN;
  mkdirSync(ROOT, { recursive: true });
  const lock = join(ROOT, '.installing');
  for (;;) {
    try { mkdirSync(lock); break; } catch { /* another process installs */ }
    await new Promise(r => setTimeout(r, 1000));
    if (existsSync(BIN)) return BIN;
  }
  try {
    if (!existsSync(join(ROOT, 'package.json'))) writeFileSync(join(ROOT, 'package.json'), '{"private":true}\n');
    execFileSync('npm', ['install', '--no-audit', '--no-fund', '--loglevel=error', 'firebase-tools@^15'], { cwd: ROOT, stdio: 'inherit', timeout: 900_000 });
  } finally {
    rmSync(lock, { recursive: true, force: true });
  }
  return BIN;
}

/** The environment that sends every call firebase-tools makes to `url` (and nothing off the machine). */
export function firebaseEnv(url: string): Record<string, string> {
  const home = tempDir('gantry-firebase-home-');
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: home, XDG_CONFIG_HOME: join(home, '.config'), TZ: 'UTC',
    FIREBASE_TOKEN: 'fake', CI: '1', NO_UPDATE_NOTIFIER: '1', FIREBASE_CLI_EXPERIMENTS: 'internaltesting',
  };
  for (const v of ['FIREBASE_APPHOSTING_URL', 'FIREBASE_SERVICE_USAGE_URL', 'FIREBASE_RESOURCEMANAGER_URL', 'FIREBASE_IAM_URL', 'FIREBASE_STORAGE_URL',
    'FIREBASE_API_URL', 'DEVELOPERCONNECT_URL', 'GITHUB_API_URL', 'FIREBASE_TOKEN_URL', 'FIREBASE_FIREDATA_URL', 'CLOUD_RUN_API_URL', 'FIREBASE_CLOUDBILLING_URL',
    'CLOUD_SECRET_MANAGER_URL', 'FIREBASE_CLOUDLOGGING_URL']) env[v] = url;
  return env;
}

/** Runs `firebase args…` in `cwd`; resolves with its exit code and both streams (never rejects on a non-zero exit). */
export async function firebase(url: string, cwd: string, args: string[], timeoutMs = 240_000): Promise<{ code: number; stdout: string; stderr: string }> {
  const bin = await firebaseBin();
  return new Promise(resolve => {
    execFile(bin, [...args, '--non-interactive'], { cwd, env: firebaseEnv(url), timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/**
 * Runs `firebase args…` at a terminal (util-linux `script` gives it a pty, as a person's shell would), answering its
 * prompts: each `[pattern, keys]` is typed once, in order, when the output so far (colours removed) ends with text
 * matching `pattern`. Resolves with the exit code and the output; undefined when `script` is not installed.
 */
export async function firebaseAtTerminal(url: string, cwd: string, args: string[], answers: [RegExp, string[]][], timeoutMs = 120_000): Promise<{ code: number; output: string } | undefined> {
  const bin = await firebaseBin();
  try { execFileSync('script', ['--version'], { stdio: 'ignore' }); } catch { return undefined; }
  const quote = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
  const env = { ...firebaseEnv(url), TERM: 'dumb' };
  delete (env as Record<string, string | undefined>).CI;
  const child = spawn('script', ['-qfec', [bin, ...args].map(quote).join(' '), '/dev/null'], { cwd, env, stdio: ['pipe', 'pipe', 'pipe'] });
  let output = '';
  let next = 0;
  let typing = false;
  const plain = () => output.replace(/\x1b\[[0-9;?]*[a-zA-Z]/g, '');
  const type = async (keys: string[]) => {
    typing = true;
    for (const k of keys) { await new Promise(r => setTimeout(r, 300)); child.stdin.write(k); }
    typing = false;
  };
  child.stdout.on('data', (d: Buffer) => {
    output += d.toString();
    if (typing || next >= answers.length) return;
    if (answers[next][0].test(plain().slice(-600))) void type(answers[next++][1]);
  });
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  const code = await new Promise<number>(r => child.on('exit', c => r(c ?? 1)));
  clearTimeout(timer);
  return { code, output: plain() };
}
