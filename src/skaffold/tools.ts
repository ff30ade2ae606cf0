// Running kubectl/kustomize/helm: found on the caller's PATH (like Go's exec.LookPath), started directly with
// execFile (never a shell, so nothing in a config is ever interpreted as shell syntax), bounded in time and
// output, killed with SIGKILL on timeout.
import { execFile } from 'node:child_process';
import { access, stat } from 'node:fs/promises';
import { constants } from 'node:fs';
import { delimiter, isAbsolute, join } from 'node:path';
import { SkaffoldError } from './errors.js';

/** Absolute path of `name` on env.PATH, or undefined. */
export async function lookPath(name: string, env: NodeJS.ProcessEnv): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (!dir || !isAbsolute(dir)) continue; // a relative PATH entry would resolve against the user's source
    const p = join(dir, name);
    try {
      if (!(await stat(p)).isFile()) continue;
      await access(p, constants.X_OK);
      return p;
    } catch { /* next */ }
  }
  return undefined;
}

export interface RunOptions {
  cwd: string;
  env: NodeJS.ProcessEnv;
  timeoutMs: number;
  /** Most bytes of stdout accepted. */
  maxBuffer: number;
}

export interface RunResult { stdout: string; stderr: string }

/** Runs `bin args…`; a non-zero exit, timeout or oversized output is TOOL_FAILED naming `what`. */
export function runTool(bin: string, args: string[], o: RunOptions, what: string): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    execFile(bin, args, {
      cwd: o.cwd, env: o.env, timeout: o.timeoutMs, killSignal: 'SIGKILL', maxBuffer: o.maxBuffer,
      encoding: 'utf8', windowsHide: true, shell: false,
    }, (err, stdout, stderr) => {
      if (!err) { resolve({ stdout, stderr }); return; }
      const e = err as NodeJS.ErrnoException & { killed?: boolean; code?: number | string; signal?: string };
      let why: string;
      if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') why = `its output exceeded ${o.maxBuffer} bytes`;
      else if (e.killed || e.signal === 'SIGKILL') why = `it did not finish within ${Math.round(o.timeoutMs / 1000)}s`;
      else why = `${String(stderr || stdout).trim() || e.message}`;
      reject(new SkaffoldError(`${what}: ${why}`, 'TOOL_FAILED'));
    });
  });
}
