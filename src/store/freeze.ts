// Deep freezing for documents a store parses once and shares (getFrozen): a reader that tried to change one throws.
export function deepFreeze<T>(v: T): T {
  if (v && typeof v === 'object') {
    for (const x of Object.values(v)) deepFreeze(x);
    Object.freeze(v);
  }
  return v;
}
