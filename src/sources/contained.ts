// Containment of paths in a directory of user-controlled files (a release source, an App Hosting source): a path
// stays inside when it does lexically (`..`, absolute paths) and after every symlink on its way is resolved.
import { realpathSync } from 'node:fs';
import { isAbsolute, relative } from 'node:path';

/** Whether `p` is `root` or below it (both absolute; lexical only). */
export function inside(root: string, p: string): boolean {
  const rel = relative(root, p);
  return rel === '' || (!rel.startsWith('..') && !isAbsolute(rel));
}

export class OutsideError extends Error {}

/**
 * The real path of `p`, which must lie inside `root` (a real, symlink-free directory) as written and once resolved;
 * undefined when nothing is there. Throws OutsideError when `p`, or a symlink on its way, leads out of `root`.
 */
export function realInside(root: string, p: string): string | undefined {
  if (!inside(root, p)) throw new OutsideError('it is outside the source');
  let real: string;
  try {
    real = realpathSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    if (code === 'ELOOP') throw new OutsideError('it is a symbolic link loop');
    throw e;
  }
  if (!inside(root, real)) throw new OutsideError('it is a symbolic link that leads outside the source');
  return real;
}
