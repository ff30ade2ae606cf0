// Command-line parsing shared by every gantry command: node's parseArgs, with its errors turned into one line that
// names the nearest known flag ("did you mean --port?"), and helpers that list the valid values of a bad one.
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** A bad command line: the message is one line; the caller adds the pointer to --help. */
export class UsageError extends Error {}

type Options = NonNullable<ParseArgsConfig['options']>;

/** Edit distance (insertions, deletions, substitutions, adjacent swaps), for suggestions only. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
    }
  }
  return d[a.length][b.length];
}

/** The known word closest to `word`, if it is close enough to be a typo (or `word` is a prefix of just one). */
export function nearest(word: string, known: readonly string[]): string | undefined {
  const prefixed = known.filter(k => word.length >= 3 && k.startsWith(word));
  if (prefixed.length === 1) return prefixed[0];
  let best: string | undefined;
  let bestD = Infinity;
  for (const k of known) {
    const dist = distance(word, k);
    if (dist < bestD) { best = k; bestD = dist; }
  }
  return best !== undefined && bestD <= Math.max(1, Math.floor(best.length / 3)) ? best : undefined;
}

/** Parses flags; throws a UsageError of one line for an unknown flag (with the nearest known one), a missing value or
 *  a stray argument (unless `positionals`). */
export function parseFlags<O extends Options>(args: string[], options: O, positionals = false) {
  // A negative number after a flag that takes a value is that value (no flag looks like -1), so --port -1 reaches the
  // flag's own check and its message instead of parseArgs' "ambiguous".
  const takesValue = (a: string) => /^--[\w-]+$/.test(a) && options[a.slice(2)]?.type === 'string';
  args = args.flatMap((a, i) => takesValue(a) && /^-\d/.test(args[i + 1] ?? '') ? [`${a}=${args[i + 1]}`] : i > 0 && takesValue(args[i - 1]) && /^-\d/.test(a) ? [] : [a]);
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: positionals });
  } catch (e) {
    const err = e as Error & { code?: string };
    const unknown = /^Unknown option '(-{1,2}[^']*)'/.exec(err.message);
    if (unknown) {
      const flag = unknown[1].replace(/=.*$/, '');
      const guess = nearest(flag.replace(/^-+/, ''), Object.keys(options));
      throw new UsageError(`unknown option ${flag}${guess ? `: did you mean --${guess}?` : ''}`);
    }
    const stray = /^Unexpected argument '([^']*)'/.exec(err.message);
    if (stray) throw new UsageError(`unexpected argument "${stray[1]}"`);
    const missing = /^Option '(?:-\w, )?(--[\w-]+) <value>' argument missing/.exec(err.message);
    if (missing) throw new UsageError(`${missing[1]} needs a value`);
    const ambiguous = /^Option '(?:-\w, )?(--[\w-]+)(?: <value>)?' argument is ambiguous/.exec(err.message);
    if (ambiguous) {
      const flag = ambiguous[1];
      const value = args[args.findIndex(a => a === flag || a === `-${options[flag.slice(2)]?.short}`) + 1];
      throw new UsageError(`${flag} ${value}: a value that starts with "-" is written ${flag}=${value}`);
    }
    throw new UsageError(err.message.split(/\.\s|\n/)[0]);
  }
}

/** "a, b or c". */
export function oneOf(values: readonly string[]): string {
  return values.length < 2 ? values.join('') : `${values.slice(0, -1).join(', ')} or ${values[values.length - 1]}`;
}

/** `value` if it is one of `valid`, else a UsageError listing them (and the nearest). */
export function choice<T extends string>(what: string, value: string, valid: readonly T[]): T {
  if ((valid as readonly string[]).includes(value)) return value as T;
  const guess = nearest(value, valid);
  throw new UsageError(`invalid ${what} "${value}": use ${oneOf(valid)}${guess ? ` (did you mean ${guess}?)` : ''}`);
}
