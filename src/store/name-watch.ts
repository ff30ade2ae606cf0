// Listening to the changes of one stored name (a `:wait`, a deploy waiting for its revision): one subscription per
// store, and a change reaches only the listeners of its own name. Each waiter subscribing to the store itself would
// make every commit call every waiter, and every waiter's end rebuild the store's list of listeners.
import type { Change, Store } from './store.js';

type Listener = (c: Change) => void;

const registries = new WeakMap<Store, Map<string, Set<Listener>>>();

/** Calls `listener` with each committed change of `name`; returns the function that stops it (idempotent). */
export function watchName(store: Store, name: string, listener: Listener): () => void {
  let byName = registries.get(store);
  if (!byName) {
    const made = new Map<string, Set<Listener>>();
    store.onChange(c => {
      const set = made.get(c.name);
      // A listener that stops itself while this runs is deleted from the set, which iteration allows.
      if (set) for (const l of set) l(c);
    });
    registries.set(store, made);
    byName = made;
  }
  let set = byName.get(name);
  if (!set) byName.set(name, set = new Set());
  set.add(listener);
  const names = byName;
  return () => {
    const now = names.get(name);
    if (!now?.delete(listener) || now.size) return;
    names.delete(name);
  };
}

/** How many listeners are watching names of `store` (tests check that a waiter gone leaves none). */
export function watchCount(store: Store): number {
  let n = 0;
  for (const set of registries.get(store)?.values() ?? []) n += set.size;
  return n;
}
