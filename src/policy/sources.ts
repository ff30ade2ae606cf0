// Where work may read sources from the host: `file://` release (and later build) sources are read only
// under directories the operator named (`--source-dirs`), none by default. Errors quote the URI the
// client sent, never the host paths it resolved to.
import { realpathSync } from 'node:fs';
import { isAbsolute, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';
import { errors } from '../google/errors.js';

/** Host directories the operator named: whether an absolute path lies in one of them. */
export class HostDirs {
  private roots: string[];

  constructor(dirs: readonly string[] = []) {
    // Each root as written and as resolved (symlinks followed): a path is checked as written first, so a
    // path outside every root is refused before the file system is asked anything about it.
    this.roots = [...new Set(dirs.flatMap(d => {
      const abs = resolve(d);
      try { return [abs, realpathSync(abs)]; } catch { return [abs]; }
    }))];
  }

  contains(path: string): boolean {
    return this.roots.some(root => path === root || path.startsWith(root.endsWith(sep) ? root : root + sep));
  }

  get empty(): boolean { return this.roots.length === 0; }
}

export class SourcePolicy {
  private dirs: HostDirs;

  constructor(dirs: readonly string[] = []) { this.dirs = new HostDirs(dirs); }

  private inside(path: string): boolean { return this.dirs.contains(path); }

  get enabled(): boolean { return !this.dirs.empty; }

  /** The host path of an allowed `file://` source; INVALID_ARGUMENT or FAILED_PRECONDITION otherwise. */
  localPath(uri: string, field = 'skaffold_config_uri'): string {
    const shown = uri.length > 200 ? uri.slice(0, 200) + '…' : uri;
    if (!this.enabled) {
      throw errors.invalidArgument(`${field} "${shown}": file:// sources are not enabled on this Gantry (the operator allows directories with --source-dirs); upload the source to Cloud Storage instead.`, field);
    }
    let path: string;
    try {
      path = fileURLToPath(uri);
    } catch {
      throw errors.invalidArgument(`${field} "${shown}" is not a valid file:// URI.`, field);
    }
    if (!isAbsolute(path)) throw errors.invalidArgument(`${field} "${shown}" is not a valid file:// URI.`, field);
    const outside = () => errors.invalidArgument(`${field} "${shown}" is not under a directory this Gantry reads sources from (--source-dirs).`, field);
    if (!this.inside(resolve(path))) throw outside();
    let real: string;
    try {
      real = realpathSync(path);
    } catch {
      throw errors.failedPrecondition(`${field} "${shown}" cannot be read.`, field);
    }
    // A symlink inside a root may point out of it.
    if (!this.inside(real)) throw outside();
    return real;
  }
}
