// `manifests.rawYaml` globbing exactly as Skaffold does it: Go's path/filepath.Glob (not a globstar library —
// `**` is just `*`, matching one path segment; `*` also matches dot-files; `[...]` classes with `^` negation;
// `\` escapes), then util.ExpandPathsGlob: an existing path is taken as is, a matched directory contributes every
// file below it (sorted, symlinks not followed), duplicates keep their first position.
import { lstat, readdir, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';

/** Go's filepath.ErrBadPattern. */
export class BadPatternError extends Error {
  constructor() { super('syntax error in pattern'); }
}

/** Thrown when globbing looks at more directory entries than its budget allows (a source is not a disk). */
export class TooManyFilesError extends Error {
  constructor(readonly max: number) { super(`more than ${max} files`); }
}

/** How many directory entries globbing may still look at; shared by every call it is passed to. */
export interface GlobBudget { left: number; readonly max: number }
export const globBudget = (max = 20_000): GlobBudget => ({ left: max, max });

function spend(b: GlobBudget | undefined, n: number) {
  if (!b) return;
  b.left -= n;
  if (b.left < 0) throw new TooManyFilesError(b.max);
}

/** Compiles one path segment pattern (no `/`) to a RegExp with Go's filepath.Match semantics. */
export function segmentRegExp(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '\\') {
      if (i + 1 >= pattern.length) throw new BadPatternError();
      re += escape(pattern[++i]);
    } else if (c === '[') {
      let j = i + 1, cls = '';
      if (pattern[j] === '^') { cls += '^'; j++; }
      let first = true;
      for (;;) {
        if (j >= pattern.length) throw new BadPatternError();
        if (pattern[j] === ']' && !first) break;
        let lo = pattern[j];
        if (lo === '\\') { j++; if (j >= pattern.length) throw new BadPatternError(); lo = pattern[j]; }
        else if (lo === '-' || lo === ']') throw new BadPatternError();
        j++;
        let hi = lo;
        if (pattern[j] === '-') {
          j++;
          if (j >= pattern.length) throw new BadPatternError();
          hi = pattern[j];
          if (hi === '\\') { j++; if (j >= pattern.length) throw new BadPatternError(); hi = pattern[j]; }
          else if (hi === ']' || hi === '-') throw new BadPatternError();
          j++;
          if (hi < lo) throw new BadPatternError();
        }
        cls += lo === hi ? escape(lo) : `${escape(lo)}-${escape(hi)}`;
        first = false;
      }
      // A class never matches the separator, even a negated one.
      re += `(?!/)[${cls}]`;
      i = j;
    } else re += escape(c);
  }
  return new RegExp(re + '$', 's');
}

const escape = (c: string) => c.replace(/[\\^$.*+?()[\]{}|/-]/g, m => `\\${m}`);
const hasMeta = (p: string) => /[*?[\\]/.test(p);

/** Go's filepath.Glob for an absolute pattern: matches in lexical order, `[]` when nothing matches. */
export async function goGlob(pattern: string, budget?: GlobBudget): Promise<string[]> {
  if (!hasMeta(pattern)) {
    try { await lstat(pattern); return [pattern]; } catch { return []; }
  }
  const dir = dirname(pattern), file = pattern.slice(dir.length).replace(/^\/+/, '');
  const re = segmentRegExp(file);
  const dirs = hasMeta(dir) && dir !== pattern ? await goGlob(dir, budget) : [dir];
  const out: string[] = [];
  for (const d of dirs) {
    let names: string[];
    try {
      if (!(await stat(d)).isDirectory()) continue;
      names = (await readdir(d)).sort();
    } catch { continue; }
    spend(budget, names.length);
    for (const n of names) if (re.test(n)) out.push(join(d, n));
  }
  return out;
}

/** Every file at or below `path` (a file is itself), depth-first in sorted order; symlinks count as files. */
export async function walkFiles(path: string, out: string[] = [], budget?: GlobBudget): Promise<string[]> {
  const st = await lstat(path);
  if (!st.isDirectory()) { out.push(path); return out; }
  const names = (await readdir(path)).sort();
  spend(budget, names.length);
  for (const n of names) await walkFiles(join(path, n), out, budget);
  return out;
}

export interface Expanded {
  files: string[];
  /** Patterns (as written) that matched nothing: Skaffold logs "<p> did not match any file". */
  unmatched: string[];
}

/** util.ExpandPathsGlob: `resolve` turns a pattern as written into an absolute one. */
export async function expandPathsGlob(patterns: string[], resolve: (p: string) => string, budget?: GlobBudget): Promise<Expanded> {
  const seen = new Set<string>(), files: string[] = [], unmatched: string[] = [];
  const add = (f: string) => { if (!seen.has(f)) { seen.add(f); files.push(f); } };
  for (const p of patterns) {
    const abs = resolve(p);
    try { await stat(abs); add(abs); continue; } catch { /* not a plain path: glob it */ }
    const matches = await goGlob(abs, budget);
    if (matches.length === 0) unmatched.push(p);
    for (const m of matches) for (const f of await walkFiles(m, [], budget)) add(f);
  }
  return { files, unmatched };
}
