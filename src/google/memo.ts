// Pure functions of a string asked on hot paths (every deploy, every write), remembered for a bounded number of
// arguments: past the bound all are forgotten at once, and the next calls compute again.
export function memoized(fn: (key: string) => string, bound = 1000): (key: string) => string {
  const known = new Map<string, string>();
  return key => {
    let value = known.get(key);
    if (value === undefined) {
      if (known.size >= bound) known.clear();
      known.set(key, value = fn(key));
    }
    return value;
  };
}
