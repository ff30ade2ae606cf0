// Running kubectl/kustomize/helm/git: found on the caller's PATH (like Go's exec.LookPath), started directly with
// execFile (never a shell, so nothing in a config is ever interpreted as shell syntax), bounded in time and
// output, killed with SIGKILL on timeout, and always in an offline sandbox environment (`offlineEnv`): none of
// Gantry's own environment but PATH, a private HOME, proxies pointing at a dead loopback port, git limited to
// file://, helm's repositories, registries, caches and plugins private and empty, no kubeconfig.
import { execFile } from 'node:child_process';
import { access, mkdir, mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { constants } from 'node:fs';
import { devNull, tmpdir } from 'node:os';
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
  if (o.env.HTTP_PROXY !== DEAD_PROXY || o.env.GIT_ALLOW_PROTOCOL !== 'file') {
    return Promise.reject(new Error(`internal error: ${what}: render tools run only in the offline environment`));
  }
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

/** Where every proxy variable of a tool points: the discard port on loopback, where nothing listens. */
export const DEAD_PROXY = 'http://127.0.0.1:9';

/**
 * The environment kubectl, kustomize, helm and git run with during a render, built from nothing: the caller's
 * PATH (to find the tools) and no other variable of Gantry's environment (so no credentials, proxies, kube
 * contexts, git or helm configuration of the operator reach a tool a user's config drives).
 *   - HOME, XDG dirs, TMPDIR → `home` (a per-render temporary directory): no ~/.gitconfig, ~/.kube, ~/.docker,
 *     ~/.config/helm, ~/.config/kustomize/plugin of the operator is read;
 *   - HTTP(S)_PROXY / ALL_PROXY, both cases → a dead loopback port; NO_PROXY unset: whatever a tool would fetch
 *     fails to connect, locally (Go's and curl's clients both honour these);
 *   - GIT_ALLOW_PROTOCOL=file, GIT_TERMINAL_PROMPT=0, no system or global git config (no `insteadOf`, credential
 *     helpers, LFS filters, templates), GIT_SSH_COMMAND=false;
 *   - HELM_* config, cache, data, plugins, repositories and registry config → empty directories in `home`: helm
 *     never sees the operator's repositories, registry logins or plugins (so `helm dep build` cannot refresh them);
 *   - KUBECONFIG → a kubeconfig in `home` (written by `makeSandbox`) whose only cluster is the dead loopback port:
 *     not the operator's clusters and credentials, and not /dev/null either, whose default server
 *     (localhost:8080, Gantry's own default port) gcloud's kubectl dispatcher queries for its version.
 */
export function offlineEnv(path: string | undefined, home: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {
    HOME: home, USERPROFILE: home, TMPDIR: join(home, 'tmp'),
    XDG_CONFIG_HOME: join(home, 'config'), XDG_CACHE_HOME: join(home, 'cache'), XDG_DATA_HOME: join(home, 'data'),
    HTTP_PROXY: DEAD_PROXY, HTTPS_PROXY: DEAD_PROXY, ALL_PROXY: DEAD_PROXY, FTP_PROXY: DEAD_PROXY,
    http_proxy: DEAD_PROXY, https_proxy: DEAD_PROXY, all_proxy: DEAD_PROXY, ftp_proxy: DEAD_PROXY,
    GIT_ALLOW_PROTOCOL: 'file', GIT_TERMINAL_PROMPT: '0', GIT_CONFIG_NOSYSTEM: '1', GIT_CONFIG_GLOBAL: devNull,
    GIT_SSH_COMMAND: 'false', GIT_ASKPASS: 'false', SSH_ASKPASS: 'false',
    HELM_CONFIG_HOME: join(home, 'helm/config'), HELM_CACHE_HOME: join(home, 'helm/cache'), HELM_DATA_HOME: join(home, 'helm/data'),
    HELM_PLUGINS: join(home, 'helm/plugins'), HELM_REPOSITORY_CONFIG: join(home, 'helm/config/repositories.yaml'),
    HELM_REPOSITORY_CACHE: join(home, 'helm/cache/repository'), HELM_REGISTRY_CONFIG: join(home, 'helm/config/registry/config.json'),
    KUSTOMIZE_PLUGIN_HOME: join(home, 'kustomize/plugin'), DOCKER_CONFIG: join(home, 'docker'),
    KUBECONFIG: join(home, 'kubeconfig'),
  };
  if (path !== undefined) env.PATH = path;
  return env;
}

/** The only cluster a tool can see: the discard port on loopback, where nothing listens. */
const DEAD_KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- name: offline
  cluster:
    server: https://127.0.0.1:9
contexts:
- name: offline
  context:
    cluster: offline
current-context: offline
`;

/** A per-render temporary home for the tools, with the environment that points into it. */
export interface Sandbox { dir: string; env: NodeJS.ProcessEnv; dispose(): Promise<void> }

export async function makeSandbox(path: string | undefined): Promise<Sandbox> {
  const dir = await mkdtemp(join(tmpdir(), 'gantry-render-'));
  const env = offlineEnv(path, dir);
  for (const d of [env.TMPDIR, env.XDG_CONFIG_HOME, env.XDG_CACHE_HOME, env.XDG_DATA_HOME, env.HELM_CONFIG_HOME, env.HELM_CACHE_HOME,
    env.HELM_DATA_HOME, env.HELM_PLUGINS, env.KUSTOMIZE_PLUGIN_HOME, env.DOCKER_CONFIG]) await mkdir(d!, { recursive: true });
  await writeFile(env.KUBECONFIG!, DEAD_KUBECONFIG);
  return { dir, env, dispose: () => rm(dir, { recursive: true, force: true }) };
}
