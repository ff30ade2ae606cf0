// Which git repositories a Developer Connect link may name (its `cloneUri`): local repositories only under the
// directories the operator allows (`--git-dirs`, by default `--source-dirs`'s), never inside Gantry's own data
// directory; a network URL the operator mapped to a local repository (`--git-mirror URL=PATH`), read from there
// under the same rules; other network remotes (http(s), ssh, git, `host:path`) only when the operator allows them
// (`--allow-git-remotes`). Messages quote the URI the client sent, never a host path it resolved to.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostDirs } from './sources.js';

export class GitRefused extends Error {}

/** Where a clone URI leads: a local git directory (checked, real) or a network remote (as given). */
export type GitLocation = { kind: 'local'; gitDir: string } | { kind: 'remote'; url: string };

/** A network repository URL the operator maps to a local repository (`--git-mirror URL=PATH`). */
export interface GitMirror { url: string; path: string }

export interface GitPolicyOptions {
  /** Directories local repositories may be read from. */
  dirs: readonly string[];
  /** Network URLs read from local repositories instead (offline, without --allow-git-remotes). */
  mirrors?: readonly GitMirror[];
  /** Whether network remotes may be named (git then connects out, as the operator). */
  allowRemotes: boolean;
  /** Gantry's own directories (mirrors, unpacked sources, artifacts): never a repository, whatever `dirs` says. */
  own: readonly string[];
}

const REMOTE_SCHEMES = ['http', 'https', 'ssh', 'git'];

/**
 * The repository a network git URL names, as `host/path` in lower case without `.git` or a trailing slash (GitHub's
 * names ignore case), so `https://github.com/Acme/App.git`, `ssh://git@github.com/acme/app` and
 * `git@github.com:acme/app.git` are one repository; undefined for anything that is not a network URL.
 */
export function repositoryKey(uri: string): string | undefined {
  let host: string, path: string;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
  if (scheme) {
    if (!REMOTE_SCHEMES.includes(scheme)) return undefined;
    let u: URL;
    try { u = new URL(uri); } catch { return undefined; }
    if (u.search || u.hash) return undefined;
    host = u.hostname;
    path = decodeURIComponent(u.pathname);
  } else {
    // scp-like `[user@]host:path` (never `transport::address`, which git hands to a helper).
    const m = /^(?:[^@/:\s]+@)?([a-z0-9][a-z0-9.-]*):([^:\s][^\s]*)$/i.exec(uri);
    if (!m) return undefined;
    [, host, path] = m;
  }
  path = path.replace(/^\/+/, '').replace(/\/+$/, '').replace(/\.git$/i, '');
  if (!host || !path || path.split('/').some(p => p === '' || p === '.' || p === '..')) return undefined;
  return `${host}/${path}`.toLowerCase();
}

/**
 * `--git-mirror` entries (`URL=PATH`, several per value when comma-separated) as mirrors; throws an Error naming the
 * bad entry. The URL is a network git URL, the path absolute.
 */
export function parseGitMirrors(values: readonly string[]): GitMirror[] {
  return values.flatMap(v => v.split(',')).map(x => x.trim()).filter(Boolean).map(entry => {
    const at = entry.indexOf('=');
    const url = at > 0 ? entry.slice(0, at).trim() : '';
    const path = at > 0 ? entry.slice(at + 1).trim() : '';
    if (!url || !path) throw new Error(`"${entry}" is not URL=PATH (e.g. https://github.com/acme/app.git=/home/me/app)`);
    if (!repositoryKey(url)) throw new Error(`"${url}" is not a network git URL (https://, ssh://, git:// or host:path)`);
    if (!isAbsolute(path)) throw new Error(`"${path}" is not an absolute path`);
    return { url, path: resolve(path) };
  });
}

/** Throws unless `path` lies outside `own` (Gantry's data directory), which is never a repository. */
export function checkOutside(path: string, own: string): void {
  if (new HostDirs([own]).contains(resolve(path))) throw new Error(`"${path}" is inside Gantry's data directory, which is never a repository`);
}

export class GitPolicy {
  private dirs: HostDirs;
  private own: HostDirs;
  /** By repository key: the local repository and where git may read its objects (its own tree, or --git-dirs). */
  private mirrors = new Map<string, { path: string; dirs: HostDirs }>();

  constructor(private opts: GitPolicyOptions) {
    this.dirs = new HostDirs(opts.dirs);
    this.own = new HostDirs(opts.own);
    for (const m of opts.mirrors ?? []) this.addMirror(m);
  }

  private addMirror(m: GitMirror): void {
    try {
      const key = repositoryKey(m.url);
      if (!key) throw new Error(`"${m.url}" is not a network git URL`);
      if (!isAbsolute(m.path)) throw new Error(`"${m.path}" is not an absolute path`);
      const path = resolve(m.path);
      for (const own of this.opts.own) checkOutside(path, own);
      if (this.mirrors.has(key)) throw new Error(`${m.url} is mapped twice`);
      this.mirrors.set(key, { path, dirs: new HostDirs([path, ...this.opts.dirs]) });
    } catch (e) {
      throw new Error(`--git-mirror: ${(e as Error).message}`);
    }
  }

  /** Whether a network URL is one the operator mapped to a local repository. */
  mirrored(uri: string): boolean {
    const key = repositoryKey(uri);
    return key !== undefined && this.mirrors.has(key);
  }

  /** The URLs the operator mapped, as given. */
  get mirrorUrls(): string[] { return (this.opts.mirrors ?? []).map(m => m.url); }

  /**
   * Where `uri` leads, or GitRefused saying why it may not be used. With `mustExist` false (a link being created), a
   * local path that does not exist yet is checked as written only; it is checked in full whenever git is to read it.
   */
  locate(uri: string, mustExist = true): GitLocation | undefined {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
    // git reads `host:path` (a colon before any slash) as ssh.
    const remote = scheme ? REMOTE_SCHEMES.includes(scheme) : /^[^/]*:/.test(uri);
    const key = remote ? repositoryKey(uri) : undefined;
    const mirror = key === undefined ? undefined : this.mirrors.get(key);
    if (mirror) {
      // The operator's mapping: read offline from the local repository, checked as any local one (within its own
      // tree or --git-dirs, never Gantry's data directory). A repository not there yet is checked when git reads it.
      const outside = () => new GitRefused('is mapped (--git-mirror) to a repository that reads objects from outside its directory or from Gantry\'s data directory');
      if (!existsSync(mirror.path)) {
        if (mustExist) throw new GitRefused('is mapped (--git-mirror) to a repository that does not exist');
        return undefined;
      }
      return { kind: 'local', gitDir: this.gitDir(mirror.path, mirror.dirs, outside) };
    }
    if (remote) {
      if (!this.opts.allowRemotes) throw new GitRefused('is a network remote: this Gantry reads only local repositories (the operator allows remotes with --allow-git-remotes)');
      return { kind: 'remote', url: uri };
    }
    let path: string;
    if (scheme === 'file') {
      try { path = fileURLToPath(uri); } catch { throw new GitRefused('is not a valid file:// URI'); }
    } else {
      path = uri;
    }
    if (!isAbsolute(path)) throw new GitRefused('must be an absolute path, a file:// URI or (when the operator allows remotes) a network URL');
    const written = resolve(path);
    const outside = () => new GitRefused('is not under a directory this Gantry reads git repositories from (--git-dirs, by default --source-dirs)');
    if (this.dirs.empty) throw new GitRefused('is a local repository, and this Gantry reads none (the operator allows directories with --git-dirs or --source-dirs)');
    if (!this.dirs.contains(written) || this.own.contains(written)) throw outside();
    if (!existsSync(written)) {
      if (mustExist) throw new GitRefused('does not exist');
      return undefined;
    }
    return { kind: 'local', gitDir: this.gitDir(written, this.dirs, outside) };
  }

  private real(p: string, dirs: HostDirs, outside: () => GitRefused): string {
    let real: string;
    try { real = realpathSync(p); } catch { throw new GitRefused('cannot be read'); }
    if (!dirs.contains(real) || this.own.contains(real)) throw outside();
    return real;
  }

  /**
   * The git directory of the repository at `path` (a working tree's `.git`, or a bare repository), after checking
   * every place git would read objects from — the directory itself, a `.git` file's target, `commondir`, alternates —
   * lies inside the allowed directories (`dirs`) once symlinks are resolved.
   */
  private gitDir(path: string, dirs: HostDirs, outside: () => GitRefused): string {
    const top = this.real(path, dirs, outside);
    let dir = top;
    const dotGit = join(top, '.git');
    if (existsSync(dotGit)) {
      if (statSync(dotGit).isFile()) {
        const target = /^gitdir: (.+)$/m.exec(readSmall(dotGit))?.[1]?.trim();
        if (!target) throw new GitRefused('is not a git repository');
        dir = this.real(resolve(top, target), dirs, outside);
      } else {
        dir = this.real(dotGit, dirs, outside);
      }
    }
    // git tries `<dir>.git/.git`, `<dir>/.git` and `<dir>.git` before `<dir>` itself: none may be there to be found instead.
    for (const probe of [`${dir}.git/.git`, `${dir}.git`]) if (existsSync(probe)) throw new GitRefused('is ambiguous: git would read a repository next to it');
    let common = dir;
    const commondir = join(dir, 'commondir');
    if (existsSync(commondir)) common = this.real(resolve(dir, readSmall(commondir).trim()), dirs, outside);
    const alternates = join(common, 'objects', 'info', 'alternates');
    if (existsSync(alternates)) {
      for (const line of readSmall(alternates).split('\n').map(l => l.trim()).filter(l => l && !l.startsWith('#'))) {
        this.real(resolve(dirname(alternates), '..', line), dirs, outside);
      }
    }
    return dir;
  }
}

/** A small git metadata file (`.git`, `commondir`, `alternates`): at most 64 KiB read. */
function readSmall(p: string): string {
  if (!statSync(p).isFile() || statSync(p).size > 65536) throw new GitRefused('is not a git repository Gantry reads');
  return readFileSync(p, 'utf8');
}
