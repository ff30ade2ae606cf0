// Which git repositories a Developer Connect link may name (its `cloneUri`): local repositories only under the
// directories the operator allows (`--git-dirs`, by default `--source-dirs`'s), never inside Gantry's own data
// directory; network remotes (http(s), ssh, git, `host:path`) only when the operator allows them
// (`--allow-git-remotes`). Messages quote the URI the client sent, never a host path it resolved to.
import { existsSync, readFileSync, realpathSync, statSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HostDirs } from './sources.js';

export class GitRefused extends Error {}

/** Where a clone URI leads: a local git directory (checked, real) or a network remote (as given). */
export type GitLocation = { kind: 'local'; gitDir: string } | { kind: 'remote'; url: string };

export interface GitPolicyOptions {
  /** Directories local repositories may be read from. */
  dirs: readonly string[];
  /** Whether network remotes may be named (git then connects out, as the operator). */
  allowRemotes: boolean;
  /** Gantry's own directories (mirrors, unpacked sources, artifacts): never a repository, whatever `dirs` says. */
  own: readonly string[];
}

const REMOTE_SCHEMES = ['http', 'https', 'ssh', 'git'];

export class GitPolicy {
  private dirs: HostDirs;
  private own: HostDirs;

  constructor(private opts: GitPolicyOptions) {
    this.dirs = new HostDirs(opts.dirs);
    this.own = new HostDirs(opts.own);
  }

  /**
   * Where `uri` leads, or GitRefused saying why it may not be used. With `mustExist` false (a link being created), a
   * local path that does not exist yet is checked as written only; it is checked in full whenever git is to read it.
   */
  locate(uri: string, mustExist = true): GitLocation | undefined {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(uri)?.[1]?.toLowerCase();
    // git reads `host:path` (a colon before any slash) as ssh.
    const remote = scheme ? REMOTE_SCHEMES.includes(scheme) : /^[^/]*:/.test(uri);
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
    return { kind: 'local', gitDir: this.gitDir(written, outside) };
  }

  private real(p: string, outside: () => GitRefused): string {
    let real: string;
    try { real = realpathSync(p); } catch { throw new GitRefused('cannot be read'); }
    if (!this.dirs.contains(real) || this.own.contains(real)) throw outside();
    return real;
  }

  /**
   * The git directory of the repository at `path` (a working tree's `.git`, or a bare repository), after checking
   * every place git would read objects from — the directory itself, a `.git` file's target, `commondir`, alternates —
   * lies inside the allowed directories once symlinks are resolved.
   */
  private gitDir(path: string, outside: () => GitRefused): string {
    const top = this.real(path, outside);
    let dir = top;
    const dotGit = join(top, '.git');
    if (existsSync(dotGit)) {
      if (statSync(dotGit).isFile()) {
        const target = /^gitdir: (.+)$/m.exec(readSmall(dotGit))?.[1]?.trim();
        if (!target) throw new GitRefused('is not a git repository');
        dir = this.real(resolve(top, target), outside);
      } else {
        dir = this.real(dotGit, outside);
      }
    }
    // git tries `<dir>.git/.git`, `<dir>/.git` and `<dir>.git` before `<dir>` itself: none may be there to be found instead.
    for (const probe of [`${dir}.git/.git`, `${dir}.git`]) if (existsSync(probe)) throw new GitRefused('is ambiguous: git would read a repository next to it');
    let common = dir;
    const commondir = join(dir, 'commondir');
    if (existsSync(commondir)) common = this.real(resolve(dir, readSmall(commondir).trim()), outside);
    const alternates = join(common, 'objects', 'info', 'alternates');
    if (existsSync(alternates)) {
      for (const line of readSmall(alternates).split('\n').map(l => l.trim()).filter(l => l && !l.startsWith('#'))) {
        this.real(resolve(dirname(alternates), '..', line), outside);
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
