// Git repositories named by URL (Developer Connect links' cloneUri): a bare mirror per URL, fetched on demand,
// from which refs are resolved, commits described and trees exported. Which URLs may be read is the git policy's
// (`src/policy/git.ts`): local repositories under the allowed directories, network remotes only when the operator
// allows them. Git runs with execFile (no shell), with `--` before every URL, the `ext::` and other command-running
// transports refused, no hooks, no templates, no terminal prompts, and — for everything but fetching an allowed
// network remote — in the render's offline environment (`offlineEnv`): none of the operator's HOME, git
// configuration, credentials or proxies, `GIT_ALLOW_PROTOCOL=file`.
import { execFile, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, rmSync, statSync, utimesSync } from 'node:fs';
import { join } from 'node:path';
import { extract } from 'tar';
import { GitRefused, type GitLocation, type GitPolicy } from '../policy/git.js';
import { offlineEnv } from '../skaffold/tools.js';

export interface CommitInfo {
  hash: string;
  author: { name: string; email: string };
  commitTime: string;
  message: string;
}

export class GitError extends Error {}

/** Transports git may use for an allowed network remote: the network ones and local paths, never `ext::` or `fd::`. */
const PROTOCOLS = 'file:git:http:https:ssh';
const MAX_MIRRORS = 64;

function git(args: string[], env: NodeJS.ProcessEnv, opts: { cwd?: string; timeoutMs?: number; maxBuffer?: number } = {}): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('git', ['-c', 'core.hooksPath=/dev/null', '-c', 'protocol.ext.allow=never', ...args], {
      cwd: opts.cwd, timeout: opts.timeoutMs ?? 120_000, killSignal: 'SIGKILL', maxBuffer: opts.maxBuffer ?? 4 << 20,
      env, encoding: 'utf8', shell: false,
    }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      if (e.code === 'ENOENT') return reject(new GitError('git is not installed on the machine running Gantry'));
      reject(new GitError(e.killed ? 'git did not finish in time' : String(stderr || e.message).trim().split('\n').slice(-3).join(' ').slice(0, 500)));
    });
  });
}

/**
 * The operator's PATH and HOME (their credentials reach their repositories), and nothing that prompts: only for
 * fetching a network remote the operator allowed with --allow-git-remotes.
 */
function operatorEnv(): NodeJS.ProcessEnv {
  return {
    PATH: process.env.PATH ?? '/usr/bin:/bin', HOME: process.env.HOME ?? '/', GIT_TERMINAL_PROMPT: '0', GIT_ALLOW_PROTOCOL: PROTOCOLS,
    GIT_CONFIG_NOSYSTEM: '1', GIT_SSH_COMMAND: 'ssh -o BatchMode=yes', LANG: 'C',
    ...(process.env.GIT_CONFIG_GLOBAL ? { GIT_CONFIG_GLOBAL: process.env.GIT_CONFIG_GLOBAL } : {}),
  };
}

/** A URL git may be given: a path, file://, http(s)://, ssh:// or scp-like `user@host:path`; never an option. */
export function checkCloneUri(uri: string): string | undefined {
  if (!uri || uri.length > 2048 || /[\0-\x1f\x7f]/.test(uri)) return 'is not a git URL';
  if (uri.startsWith('-')) return 'must not start with "-"';
  if (/^[a-z][a-z0-9+.-]*::/i.test(uri)) return 'names a transport helper, which Gantry does not run';
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (scheme && !['file', 'http', 'https', 'ssh', 'git'].includes(scheme)) return `uses the "${scheme}" scheme; git URLs are file, http(s), ssh or git`;
  return undefined;
}

export class GitRepos {
  private inflight = new Map<string, Promise<string>>();
  /** Everything git does but fetch an allowed remote: offline, with a HOME of Gantry's own. */
  private offline: NodeJS.ProcessEnv;

  constructor(private root: string, readonly policy: GitPolicy) {
    const home = join(root, 'home');
    this.offline = { ...offlineEnv(process.env.PATH, home), LANG: 'C' };
  }

  private mirrorDir(url: string): string {
    return join(this.root, createHash('sha256').update(url).digest('hex').slice(0, 32) + '.git');
  }

  /** Where `url` leads, checked now (the policy may have changed, or the files under a local path); GitError if refused. */
  private locate(url: string): GitLocation {
    const bad = checkCloneUri(url);
    if (bad) throw new GitError(`the repository URL ${bad}`);
    try {
      return this.policy.locate(url)!;
    } catch (e) {
      if (e instanceof GitRefused) throw new GitError(`the repository URL ${e.message}`);
      throw e;
    }
  }

  /** The mirror of `url`, fetched now (one fetch at a time per URL; callers at the same moment share it). */
  fetch(url: string): Promise<string> {
    let where: GitLocation;
    try { where = this.locate(url); } catch (e) { return Promise.reject(e); }
    let p = this.inflight.get(url);
    if (!p) {
      p = this.update(url, where).finally(() => this.inflight.delete(url));
      this.inflight.set(url, p);
    }
    return p;
  }

  private async update(url: string, where: GitLocation): Promise<string> {
    const dir = this.mirrorDir(url);
    // A local repository is read by the git directory the policy checked, in the offline environment; only an
    // allowed network remote is fetched as the operator.
    const source = where.kind === 'local' ? where.gitDir : where.url;
    const env = where.kind === 'local' ? this.offline : operatorEnv();
    mkdirSync(join(this.root, 'home', 'tmp'), { recursive: true });
    let exists = false;
    try { exists = statSync(join(dir, 'HEAD')).isFile(); } catch { /* first use */ }
    if (exists) {
      await git(['--git-dir', dir, 'fetch', '--quiet', '--prune', '--no-recurse-submodules', '--', source, '+refs/*:refs/*'], env);
      const now = new Date();
      utimesSync(dir, now, now);
    } else {
      this.evict();
      rmSync(dir, { recursive: true, force: true });
      await git(['clone', '--quiet', '--mirror', '--no-local', '--template=', '--', source, dir], env).catch(e => {
        rmSync(dir, { recursive: true, force: true });
        throw e;
      });
    }
    return dir;
  }

  /** Keeps the mirror cache bounded: the least recently fetched go first. */
  private evict(): void {
    let entries: { dir: string; at: number }[];
    try {
      entries = readdirSync(this.root).filter(n => n.endsWith('.git')).map(n => ({ dir: join(this.root, n), at: statSync(join(this.root, n)).mtimeMs }));
    } catch { return; }
    entries.sort((a, b) => a.at - b.at);
    for (const e of entries.slice(0, Math.max(0, entries.length - MAX_MIRRORS + 1))) rmSync(e.dir, { recursive: true, force: true });
  }

  /** The commit a branch points at, or the commit a (possibly abbreviated) hash names; undefined when none. */
  async resolve(url: string, ref: { branch?: string; commit?: string }): Promise<CommitInfo | undefined> {
    const dir = await this.fetch(url);
    const spec = ref.branch !== undefined ? `refs/heads/${ref.branch}` : String(ref.commit);
    if (spec.startsWith('-')) return undefined;
    const hash = (await git(['--git-dir', dir, 'rev-parse', '--verify', '--quiet', '--end-of-options', `${spec}^{commit}`], this.offline).catch(() => '')).trim();
    if (!/^[0-9a-f]{40}$/.test(hash)) return undefined;
    return this.describe(dir, hash);
  }

  private async describe(dir: string, hash: string): Promise<CommitInfo> {
    const out = await git(['--git-dir', dir, 'log', '-1', '--format=%H%x00%an%x00%ae%x00%cI%x00%B', hash], this.offline);
    const [h, name, email, time, ...message] = out.split('\0');
    return { hash: h, author: { name, email }, commitTime: new Date(time).toISOString(), message: message.join('\0').trim() };
  }

  /** The branches of a repository, sorted. */
  async branches(url: string): Promise<string[]> {
    const dir = await this.fetch(url);
    const out = await git(['--git-dir', dir, 'for-each-ref', '--format=%(refname)', 'refs/heads'], this.offline);
    return out.split('\n').filter(Boolean).map(r => r.slice('refs/heads/'.length)).sort();
  }

  /** Writes the tree of `hash` into `dest` (no .git: what is built is the commit's files). */
  async export(url: string, hash: string, dest: string): Promise<void> {
    const dir = await this.fetch(url);
    mkdirSync(dest, { recursive: true });
    await new Promise<void>((resolve, reject) => {
      const child = spawn('git', ['--git-dir', dir, 'archive', '--format=tar', hash], { env: this.offline, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '';
      child.stderr.on('data', (d: Buffer) => { if (stderr.length < 2000) stderr += d.toString(); });
      const unpack = extract({ cwd: dest });
      child.stdout.pipe(unpack);
      let exited: number | null | undefined;
      let unpacked = false;
      const settle = () => {
        if (exited === undefined || !unpacked) return;
        if (exited === 0) resolve(); else reject(new GitError(stderr.trim().slice(0, 500) || `git archive exited with ${exited}`));
      };
      unpack.on('finish', () => { unpacked = true; settle(); });
      unpack.on('error', (e: Error) => reject(new GitError(`the commit's files could not be written: ${e.message}`)));
      child.on('error', e => reject(new GitError(e.message)));
      child.on('close', code => { exited = code; if (code !== 0) unpacked = true; settle(); });
    });
  }
}

/** A link to a commit on its host's site, as Google's `CodebaseSource.uri`. */
export function commitUri(cloneUri: string, hash: string): string {
  if (/^https?:\/\//.test(cloneUri)) return `${cloneUri.replace(/\.git$/, '').replace(/\/$/, '')}/commit/${hash}`;
  return `${cloneUri}#${hash}`;
}
