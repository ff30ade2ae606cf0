// Containment: the source is user-controlled, so every path a config names (requires, rawYaml globs and their
// matches, kustomize directories, helm charts and values files) must stay inside the directory it came from
// (the release source, or a remote checkout) — lexically (`..`, absolute paths) and after resolving symlinks.
// Messages name paths relative to that root, never Gantry's own directories.
import { readdir, realpath } from 'node:fs/promises';
import { isAbsolute, join, relative, resolve } from 'node:path';
import { SkaffoldError } from './errors.js';

export interface Root {
  /** Real (symlink-free) absolute path of the directory nothing may escape. */
  dir: string;
  /** How the root is named in messages: '' for the source itself, else e.g. `git https://…@main`. */
  label: string;
}

export function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

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
    throw new SkaffoldError(`${what} "${p}" points outside the ${root.label ? 'remote config\'s directory' : 'source'}`, 'INVALID_CONFIG');
  }
  return abs;
}

/** The real path of an existing `abs`, refused when a symlink takes it outside `root`; undefined if missing. */
export async function checkReal(root: Root, abs: string, what: string, shown: string): Promise<string | undefined> {
  let real: string;
  try {
    real = await realpath(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT' || (e as NodeJS.ErrnoException).code === 'ENOTDIR') return undefined;
    throw e;
  }
  if (!inside(root.dir, real)) {
    const how = inside(root.dir, abs) ? 'resolves through a symlink to' : 'points';
    throw new SkaffoldError(`${what} "${shown}" ${how} outside the ${root.label ? 'remote config\'s directory' : 'source'}`, 'INVALID_CONFIG');
  }
  return real;
}

export async function makeRoot(dir: string, label: string): Promise<Root> {
  return { dir: await realpath(dir), label };
}

/**
 * Refuses any symlink below `dir` that leads outside `root`: tools such as helm follow symlinks when they load
 * a directory, and would otherwise copy host files into the rendered output. Bounded to `max` entries.
 */
export async function checkTree(root: Root, dir: string, what: string, max = 20_000): Promise<void> {
  let seen = 0;
  const walk = async (d: string): Promise<void> => {
    for (const e of await readdir(d, { withFileTypes: true })) {
      if (++seen > max) throw new SkaffoldError(`${what} "${display(root, dir)}" has more than ${max} files`, 'INVALID_CONFIG');
      const p = join(d, e.name);
      if (e.isSymbolicLink()) await checkReal(root, p, what, display(root, p));
      else if (e.isDirectory()) await walk(p);
    }
  };
  await walk(dir);
}
