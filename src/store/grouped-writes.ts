// Writes that answer no client, made as asynchronous work ends (a job run's result), gathered into one transaction per
// turn of the microtask queue: work started together ends together, and one commit serves all of it. Each write
// keeps a savepoint of its own, so one that fails undoes only itself.
import type { Store, Writer } from './store.js';

interface Pending { fn: (w: Writer) => void; resolve: () => void; reject: (e: unknown) => void }

export class GroupedWrites {
  private batch: Pending[] = [];

  constructor(private store: Store) {}

  /** Runs `fn` in the next grouped transaction; settles once that has committed (or `fn` failed). */
  add(fn: (w: Writer) => void): Promise<void> {
    return new Promise((resolve, reject) => {
      if (!this.batch.length) queueMicrotask(() => this.flush());
      this.batch.push({ fn, resolve, reject });
    });
  }

  private flush(): void {
    const batch = this.batch;
    this.batch = [];
    const failed = new Map<Pending, unknown>();
    try {
      this.store.tx(() => {
        for (const p of batch) {
          try { this.store.savepoint(p.fn); } catch (e) { failed.set(p, e); }
        }
      });
    } catch (e) {
      for (const p of batch) p.reject(e);
      return;
    }
    for (const p of batch) {
      if (failed.has(p)) p.reject(failed.get(p));
      else p.resolve();
    }
  }
}
