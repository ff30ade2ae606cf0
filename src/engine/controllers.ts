// Controller runtime: level-triggered reconcilers fed by the store's change feed. Each resource is
// reconciled from its stored state, so running twice is harmless and a restart resumes all work
// (every resource still flagged active is reconciled once on start-up).
import type { Clock, Timer } from './clock.js';
import type { Store } from '../store/store.js';
import type { Logger } from '../server/log.js';
import { RestartReport } from './restart-report.js';
import { Decisions } from './decisions.js';

export interface Controller {
  /** Resource kind this controller reconciles. */
  kind: string;
  /**
   * Reads the resource and writes its next step. May ask to be woken at a time via `ctx.wakeAt`.
   * Work it starts and does not finish before returning is returned (or given to `ctx.track`): the
   * runtime waits for it before calling itself idle, so a virtual-clock settle cannot pass it by.
   */
  reconcile(name: string, ctx: ReconcileContext): void | Promise<unknown>;
}

export interface ReconcileContext {
  wakeAt(atMs: number): void;
  /** Asks for another resource to be reconciled (e.g. the next rollout queued on a target). */
  enqueue(kind: string, name: string): void;
  /** Work the reconcile started and did not wait for (a render's source checks): `idle()` waits for it too. */
  track(work: Promise<unknown>): void;
}

/** A failed reconcile is tried again after 1 s, doubling with each failure in a row up to 5 minutes. */
const RETRY_FIRST_MS = 1000;
const RETRY_MAX_MS = 300_000;

/** The longest a batch of reconciles (one transaction) runs before it commits and lets others in. */
const BATCH_MS = 50;

export class ControllerRuntime {
  private byKind = new Map<string, Controller[]>();
  private queue = new Set<string>();
  private kindOf = new Map<string, string>();
  private timers = new Map<string, Timer>();
  private scheduled = false;
  private stopped = false;
  /** Which resources this instance reconciles (instances sharing a database split the work by project). */
  private works: (name: string) => boolean = () => true;
  private idleWaiters: (() => void)[] = [];
  /** Tracked asynchronous work still running. */
  private pending = 0;

  /** Reconciles run and the time they took, by kind; batches and the time their commits took (`timings()`). */
  private spent = new Map<string, { reconciles: number; ms: number }>();
  private batches = { count: 0, commitMs: 0 };

  /** What this start found of the previous Gantry's work, said once the start-up reconciles have run. */
  readonly restart: RestartReport;
  /** The debug log of the controllers' decisions. */
  readonly decisions: Decisions;

  constructor(private store: Store, private clock: Clock, private log: Logger) {
    this.restart = new RestartReport(log);
    this.decisions = new Decisions(log);
    store.onChange(c => this.enqueue(c.kind, c.name));
  }

  register(c: Controller): void {
    const list = this.byKind.get(c.kind) ?? [];
    list.push(c);
    this.byKind.set(c.kind, list);
  }

  /** Reconciles only the resources `works` says are this instance's (changes to others' are not its business). */
  workOnly(works: (name: string) => boolean): void { this.works = works; }

  /**
   * Stops reconciling the resources `which` picks (this instance no longer works for them): their queue entries and
   * wake-ups are dropped, as a stop drops all; `start` reconciles them anew once they are this instance's again.
   */
  standBy(which: (name: string) => boolean = () => true): void {
    for (const name of [...this.queue]) if (which(name)) { this.queue.delete(name); this.kindOf.delete(name); }
    this.dropTimers(which);
  }

  /** Whether a reconcile of a resource `which` picks started work that is still under way. */
  busyWith(which: (name: string) => boolean): boolean {
    for (const name of this.pendingOf.keys()) if (which(name)) return true;
    return false;
  }

  /**
   * Reconciles every unfinished resource of this instance's (those `which` picks, when given) once: what makes a
   * restart, or taking over work another instance did, resume it.
   */
  start(which?: (name: string) => boolean): void {
    for (const kind of this.byKind.keys()) for (const name of this.store.activeNames(kind)) if (!which || which(name)) this.enqueue(kind, name);
  }

  /** Resolves once nothing is queued (work the reconciles started may still run). */
  async drained(): Promise<void> {
    while (!this.stopped && (this.scheduled || this.queue.size)) await new Promise(r => setImmediate(r));
  }

  stop(): void {
    this.stopped = true;
    this.dropTimers();
  }

  /**
   * Cancels the wake-ups `which` picks (every one). Nothing more happens for them here: a settle waiting (a clock
   * advance in flight) is answered rather than held, since work a stop or a lost lease ends never reports its end.
   */
  private dropTimers(which: (name: string) => boolean = () => true): void {
    for (const [name, t] of [...this.timers]) if (which(name)) { t.cancel(); this.timers.delete(name); }
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  enqueue(kind: string, name: string): void {
    if (this.stopped || !this.byKind.has(kind) || !this.works(name)) return;
    this.queue.add(name);
    this.kindOf.set(name, kind);
    if (!this.scheduled) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    }
  }

  /** Resolves once the queue is empty and tracked work has ended (tests and the virtual clock use it to settle). */
  idle(): Promise<void> {
    if (this.stopped || (!this.scheduled && this.queue.size === 0 && this.pending === 0)) return Promise.resolve();
    return new Promise(r => this.idleWaiters.push(r));
  }

  /** Tracked work by the resource whose reconcile started it. */
  private pendingOf = new Map<string, number>();

  /**
   * Resolves once nothing under `prefix` is queued or under way (`''`: the whole runtime, like `idle` but for work that
   * other resources keep running); gives up after `timeoutMs`.
   */
  async idleUnder(prefix: string, timeoutMs = 60_000): Promise<void> {
    const busy = () => [...this.queue].some(n => n.startsWith(prefix)) || [...this.pendingOf.keys()].some(n => n.startsWith(prefix));
    for (const end = Date.now() + timeoutMs; busy() && Date.now() < end;) await new Promise(r => setTimeout(r, 10));
  }

  /** Drops the wake-ups of resources under `prefix` (they are gone). */
  forgetUnder(prefix: string): void {
    for (const [name, t] of this.timers) if (name.startsWith(prefix)) { t.cancel(); this.timers.delete(name); }
    for (const name of this.failures.keys()) if (name.startsWith(prefix)) this.failures.delete(name);
  }

  private track(work: Promise<unknown>, name?: string): void {
    this.pending++;
    if (name) this.pendingOf.set(name, (this.pendingOf.get(name) ?? 0) + 1);
    const done = () => {
      this.pending--;
      if (name) { const n = (this.pendingOf.get(name) ?? 1) - 1; if (n) this.pendingOf.set(name, n); else this.pendingOf.delete(name); }
      // The work's own writes enqueue before this runs; only a quiet runtime releases the waiters.
      if (!this.scheduled && this.queue.size === 0) this.releaseIdle();
    };
    work.then(done, done);
  }

  private releaseIdle(): void {
    if (this.pending > 0) return;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const w of waiters) w();
  }

  private drain(): void {
    this.scheduled = false;
    // A drain scheduled before stop() must not touch a store that may be closed by now.
    if (this.stopped) return;
    // One transaction for the whole batch, each reconcile in a savepoint of its own: a commit per batch instead of
    // per step (what bounds simulated throughput), while a reconcile that fails still undoes only its own writes.
    // Controller writes answer no client, so nothing acknowledged waits on this commit.
    try {
      let reconciled = 0;
      this.store.tx(() => { this.drainBatch(); reconciled = performance.now(); });
      this.batches.count++;
      this.batches.commitMs += performance.now() - reconciled;
    } catch (e) {
      // The batch's commit failed (a shared store's connection lost): its writes are undone and its resources left
      // the queue, so unfinished work is reconciled again once the store answers (each reconcile reads what is stored).
      this.log.error(`controllers: a batch could not be committed (${(e as Error).message}); unfinished work is reconciled again in 1 s`);
      setTimeout(() => { if (!this.stopped) this.start(); }, 1000).unref();
    }
    if (this.queue.size) {
      this.scheduled = true;
      setImmediate(() => this.drain());
    } else {
      this.releaseIdle();
    }
  }

  private drainBatch(): void {
    let budget = 1000;
    // Bounded in time too: the batch is one transaction, and on a shared store every other instance's writes wait
    // for it (one writers' lock), their event loops with them.
    const until = performance.now() + BATCH_MS;
    while (this.queue.size && budget-- > 0 && !this.stopped && performance.now() < until) {
      const name = this.queue.values().next().value as string;
      this.queue.delete(name);
      const kind = this.kindOf.get(name)!;
      this.kindOf.delete(name);
      if (!this.works(name)) continue;
      const began = performance.now();
      for (const c of this.byKind.get(kind) ?? []) {
        try {
          const work = this.store.savepoint(() => c.reconcile(name, { wakeAt: at => this.wakeAt(kind, name, at), enqueue: (k, n) => this.enqueue(k, n), track: w => this.track(w, name) }));
          if (work) this.track(work.then(() => this.succeeded(name), (e: Error) => this.failed(kind, name, e)), name);
          else this.succeeded(name);
        } catch (e) {
          this.failed(kind, name, e as Error);
        }
      }
      const spent = this.spent.get(kind) ?? { reconciles: 0, ms: 0 };
      spent.reconciles++;
      spent.ms += performance.now() - began;
      this.spent.set(kind, spent);
    }
  }

  /**
   * Where the controllers' time went since start: reconciles by kind (their synchronous part, each in its savepoint)
   * and the batches' commits. What `npm run bench` prints to say where a simulated rollout's time goes.
   */
  timings(): { kinds: Record<string, { reconciles: number; ms: number }>; batches: number; commitMs: number } {
    return { kinds: Object.fromEntries([...this.spent].map(([k, v]) => [k, { ...v }])), batches: this.batches.count, commitMs: this.batches.commitMs };
  }

  /** Failures in a row, by resource: a reconcile that keeps failing is retried ever more rarely, not every second. */
  private failures = new Map<string, number>();

  private succeeded(name: string): void { this.failures.delete(name); }

  private failed(kind: string, name: string, e: Error): void {
    const n = (this.failures.get(name) ?? 0) + 1;
    this.failures.set(name, n);
    const delayMs = Math.min(RETRY_FIRST_MS * 2 ** (n - 1), RETRY_MAX_MS);
    this.log.error(`reconcile ${kind} ${name} failed (${n} in a row; next try in ${delayMs / 1000}s): ${e.stack ?? e}`);
    this.wakeAt(kind, name, this.clock.now() + delayMs);
  }

  private wakeAt(kind: string, name: string, atMs: number): void {
    this.timers.get(name)?.cancel();
    this.timers.set(name, this.clock.at(atMs, () => { this.timers.delete(name); this.enqueue(kind, name); }));
  }
}
