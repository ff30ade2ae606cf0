// Checkpoints of the store's WAL on a worker thread. SQLite checkpoints in the commit that takes the WAL past its
// bound (1,000 pages): that commit copies 4 MB into the database file and syncs it, a quarter of the write path's time
// under steady writes. Here the worker does it, asked every few commits; the main connection's own automatic
// checkpoint stays, at a higher bound, for when the worker falls behind or fails.
import { Worker } from 'node:worker_threads';
import type Database from 'better-sqlite3';

/** Commits between requests to the worker (a passive checkpoint of a WAL already copied costs next to nothing). */
const EVERY = 32;
/** The main connection's own bound, in pages, once the worker checkpoints: a WAL stays under about 40 MB. */
export const FALLBACK_PAGES = 10_000;
const DEFAULT_PAGES = 1000;

export class SqliteCheckpointer {
  private worker?: Worker;
  private commits = 0;
  private busy = false;
  private failed = false;

  constructor(private db: Database.Database, private file: string, private onError: (message: string) => void = () => {}) {
    db.pragma(`wal_autocheckpoint = ${FALLBACK_PAGES}`);
  }

  /** A write transaction committed. */
  committed(): void {
    if (this.failed || ++this.commits < EVERY || this.busy) return;
    this.commits = 0;
    this.busy = true;
    this.spawned().postMessage('checkpoint');
  }

  /** Resolves once no checkpoint is in flight (tests). */
  async idle(): Promise<void> {
    while (this.busy) await new Promise(r => setTimeout(r, 5));
  }

  close(): void {
    this.worker?.postMessage('close');
    this.worker = undefined;
  }

  private spawned(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./sqlite-checkpoint-worker.js', import.meta.url), { workerData: { file: this.file } });
    // A checkpointer never holds a process open.
    w.unref();
    w.on('message', (m: { error?: string }) => {
      this.busy = false;
      if (m.error) this.onError(`WAL checkpoint: ${m.error}`);
    });
    w.on('error', e => this.fail(e.message));
    w.on('exit', () => { if (this.worker === w && this.busy) this.fail('the checkpoint worker exited'); });
    this.worker = w;
    return w;
  }

  /** The worker is gone: the main connection checkpoints itself again, at SQLite's bound. */
  private fail(message: string): void {
    this.failed = true;
    this.busy = false;
    this.worker = undefined;
    this.onError(`${message}; the WAL is checkpointed on the main thread from now on`);
    try { this.db.pragma(`wal_autocheckpoint = ${DEFAULT_PAGES}`); } catch { /* closed */ }
  }
}
