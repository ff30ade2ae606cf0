// Containment: the source is user-controlled, so every path a config names (requires, rawYaml globs and their
// matches, kustomize directories, helm charts and values files) must stay inside the directory it came from
// (the release source, or a remote checkout) — lexically (`..`, absolute paths) and after resolving symlinks.
// Messages name paths relative to that root, never Gantry's own directories.
import { readdir, readFile, realpath, stat } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { shown, SkaffoldError } from './errors.js';
import { inside } from '../sources/contained.js';

export interface Root {
  /** Real (symlink-free) absolute path of the directory nothing may escape. */
  dir: string;
  /** How the root is named in messages: '' for the source itself, else e.g. `git https://…@main`. */
  label: string;
}

export { inside };

/** A path for messages: relative to its root (never absolute), prefixed by the root's label when it is remote. */
export function display(root: Root, p: string): string {
  const rel = relative(root.dir, p) || '.';
  return root.label ? `${root.label}:${rel}` : rel;
}

/**
 * Resolves `p` (as written in a config whose relative paths resolve against `base`) and refuses it when it
 * leaves `root`. Does not require the path to exist: see `checkReal` for symlinks.
 */
export function resolveInside(root: Root, base: string, p: string, what: string): string {
  const abs = resolve(base, p);
  if (!inside(root.dir, abs)) {
    throw new SkaffoldError(`${what} "${shown(p)}" points outside the ${root.label ? 'remote config\'s directory' : 'source'}`, 'INVALID_CONFIG');
  }
  return abs;
}

/** The real path of an existing `abs`, refused when a symlink takes it outside `root`; undefined if missing. */
export async function checkReal(root: Root, abs: string, what: string, shownPath: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
  if (!inside(root.dir, real)) {
    const how = inside(root.dir, abs) ? 'resolves through a symlink to' : 'points';
    throw new SkaffoldError(`${what} "${shown(shownPath)}" ${how} outside the ${root.label ? 'remote config\'s directory' : 'source'}`, 'INVALID_CONFIG');
  }
  return real;
}

export async function makeRoot(dir: string, label: string): Promise<Root> {
  return { dir: await realpath(dir), label };
}

/** What `checkTree` calls share: directories already walked, entries seen. */
export interface TreeWalk { walked: Set<string>; seen: number }

/**
 * Refuses any symlink below `dir` that leads outside `root`: tools such as helm follow symlinks when they load
 * a directory, and would otherwise copy host files into the rendered output. Bounded to `max` entries (over
 * every call sharing `walk`, whose directories are not walked twice).
 */
export async function checkTree(root: Root, dir: string, what: string, max = 20_000, walk: TreeWalk = { walked: new Set(), seen: 0 }): Promise<void> {
  const visit = async (d: string): Promise<void> => {
    if (walk.walked.has(d)) return;
    walk.walked.add(d);
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (++walk.seen > max) throw new SkaffoldError(`${what} "${display(root, dir)}" has more than ${max} files`, 'INVALID_CONFIG');
      const p = join(d, e.name);
      if (e.isSymbolicLink()) await checkReal(root, p, what, display(root, p));
      else if (e.isDirectory()) await visit(p);
    }
  };
  await visit(dir);
}

/** A URL of any scheme (`http://`, `https://`, `ssh://`, `file://`, `oci://`, `git://`, `s3://`…). */
export function hasScheme(s: string): boolean {
  return /^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(s.trim());
}

/**
 * Whether a reference would make kustomize (or git, or helm) fetch something: any URL, and every scheme-less
 * form kustomize's repospec.go takes for a git repository (`git::…`, `gh:…`, `user@host:path`,
 * `github.com/org/repo//dir?ref=v1`, Azure's `…/_git/repo`), and anything carrying a `?ref=`-style query.
 * kustomize tries such a string as a git repository *before* it looks for a local directory of that name,
 * so these are refused even when a directory so named exists in the source.
 */
export function isRemoteRef(ref: string): boolean {
  const s = ref.trim();
  return hasScheme(s)
    || /^git::/i.test(s) || /^gh:/i.test(s)
    || /^[A-Za-z][A-Za-z0-9-]*@/.test(s)
    || /^github\.com[/:]/i.test(s)
    || /(^|\/)_git\//.test(s)
    || /\?(.*&)?(ref|version|timeout|submodules|cache)=/.test(s);
}

/** Reads a regular file of at most `max` bytes (never a FIFO, device or directory). */
export async function readSmall(real: string, what: string, shownPath: string, max: number): Promise<string> {
  const st = await stat(real);
  if (!st.isFile()) throw new SkaffoldError(`${what} "${shownPath}" is not a regular file`, 'INVALID_CONFIG');
  if (st.size > max) throw new SkaffoldError(`${what} "${shownPath}" is larger than ${max >> 10} KiB`, 'INVALID_CONFIG');
  return readFile(real, 'utf8');
}
