// The subscribers to a store's committed changes (every store has them; what a commit hands them is the store's).
import type { Change } from './store.js';

export class ChangeListeners {
  private list: ((c: Change) => void)[] = [];

  /** Subscribes; returns the unsubscribe function. */
  add(listener: (c: Change) => void): () => void {
    this.list.push(listener);
    return () => { this.list = this.list.filter(l => l !== listener); };
  }

  /** Hands each change, in order, to every subscriber. */
  emit(changes: Iterable<Change>): void {
    for (const c of changes) for (const l of this.list) l(c);
  }
}
