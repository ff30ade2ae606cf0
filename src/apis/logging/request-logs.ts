// Cloud Run's request log (`run.googleapis.com/requests`, one entry per request a service serves), written off the
// request path: a request costs a record pushed on a batch; every 250 ms (or 1,000 records) the batch goes to a worker
// thread (request-log-worker.ts) that makes the entries and stores them with its own connection to logs.db. Cloud
// Logging's ingestion is not instant either; entries appear within the batch's quarter second.
// Without a file (an in-memory store), while a tail is open (it must see each entry), when the worker has fallen
// behind (more than MAX_IN_FLIGHT batches unanswered) or has failed, a batch is stored on the main thread instead:
// bounded, and nothing is dropped.
import { Worker } from 'node:worker_threads';
import type { Clock } from '../../engine/clock.js';
import type { Logger } from '../../server/log.js';
import { newUid } from '../../google/ids.js';
import type { RequestLine } from './producers.js';

/** Whoever serves requests logs each one here. */
export interface RequestLogWriter {
  request(line: RequestLine): void;
}

export interface RequestRecord extends RequestLine { time: string }
/** What the main thread sends the worker: records, when they were received, and each project's number. */
export interface RequestBatch { now: string; numbers: Record<string, string>; records: RequestRecord[] }
/** The worker's answer to a batch. */
export interface RequestBatchDone { stored: number; error?: string }

const FLUSH_MS = 250;
const BATCH = 1000;
const MAX_IN_FLIGHT = 8;

export interface RequestLogDeps {
  /** logs.db, or undefined for an in-memory store (no worker can share it). */
  file?: string;
  clock: Clock;
  log?: Logger;
  numberOf(project: string): string;
  /** Stores records on the main thread (the direct path). */
  direct(records: RequestRecord[], now: string): void;
  /** Whether a tail is open (its entries must pass the main thread). */
  tailing(): boolean;
  /** Told what the worker stored (the store's count, eviction and project numbers are the main thread's). */
  stored(n: number, numbers: Record<string, string>): void;
}

export class RequestLogs implements RequestLogWriter {
  private batch: RequestRecord[] = [];
  private timer?: NodeJS.Timeout;
  private worker?: Worker;
  private failed = false;
  private inFlight: Record<string, string>[] = [];
  private exited?: Promise<void>;

  constructor(private d: RequestLogDeps) {}

  request(line: RequestLine): void {
    this.batch.push({ ...line, time: this.d.clock.timestamp() });
    if (this.batch.length >= BATCH) this.flush();
    else this.timer ??= setTimeout(() => this.flush(), FLUSH_MS);
  }

  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    if (!this.batch.length) return;
    const records = this.batch;
    this.batch = [];
    const now = this.d.clock.timestamp();
    const worker = this.d.file && !this.failed && !this.d.tailing() && this.inFlight.length < MAX_IN_FLIGHT ? this.spawned() : undefined;
    if (!worker) { this.d.direct(records, now); return; }
    const numbers: Record<string, string> = {};
    for (const r of records) numbers[r.project] ??= this.d.numberOf(r.project);
    this.inFlight.push(numbers);
    worker.postMessage({ now, numbers, records } satisfies RequestBatch);
  }

  /** Sends what is buffered, lets the worker store it, and ends the worker. */
  async close(): Promise<void> {
    this.flush();
    if (!this.worker) return;
    // Kept alive (it is not otherwise: it must never hold a process open) until it has stored what it was sent.
    this.worker.ref();
    this.worker.postMessage('close');
    await Promise.race([this.exited, new Promise(r => setTimeout(r, 5000).unref())]);
  }

  private spawned(): Worker {
    if (this.worker) return this.worker;
    const w = new Worker(new URL('./request-log-worker.js', import.meta.url), { workerData: { file: this.d.file, prefix: newUid().slice(0, 6) } });
    w.unref();
    w.on('message', (m: RequestBatchDone) => {
      const numbers = this.inFlight.shift() ?? {};
      if (m.error) this.d.log?.warn(`Cloud Logging: request entries not stored: ${m.error}`);
      this.d.stored(m.stored, numbers);
    });
    w.on('error', e => { this.failed = true; this.d.log?.warn(`Cloud Logging: the request log writer stopped (${e.message}); request entries are stored on the main thread from now on`); });
    this.exited = new Promise(resolve => w.once('exit', () => { if (this.worker === w) this.worker = undefined; resolve(); }));
    this.worker = w;
    return w;
  }
}
