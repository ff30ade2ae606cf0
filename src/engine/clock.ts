// The one source of time. Real by default; in virtual mode time moves only when advanced, and
// every timer due by then fires in order, so a 40-minute canary runs in milliseconds.
import { formatTimestamp } from '../google/time.js';

export interface Timer { cancel(): void }

export interface Clock {
  readonly mode: 'real' | 'virtual';
  /** Epoch milliseconds. */
  now(): number;
  /** RFC 3339 with nanoseconds; strictly increasing between calls, so creation order is stable. */
  timestamp(): string;
  /** Runs `fn` once the clock reaches `atMs`. */
  at(atMs: number, fn: () => void): Timer;
}

abstract class BaseClock {
  private lastNanos = 0n;
  abstract now(): number;
  protected subMillisNanos(): bigint { return 0n; }
  timestamp(): string {
    let n = BigInt(Math.floor(this.now())) * 1_000_000n + this.subMillisNanos();
    if (n <= this.lastNanos) n = this.lastNanos + 1n;
    this.lastNanos = n;
    return formatTimestamp(n);
  }
}

export class RealClock extends BaseClock implements Clock {
  readonly mode = 'real' as const;
  now(): number { return Date.now(); }
  protected override subMillisNanos(): bigint { return process.hrtime.bigint() % 1_000_000n; }
  at(atMs: number, fn: () => void): Timer {
    let handle: NodeJS.Timeout;
    const arm = () => {
      // setTimeout caps at ~24.8 days; re-arm for longer waits.
      const delay = Math.min(Math.max(0, atMs - Date.now()), 2 ** 31 - 1);
      handle = setTimeout(() => (Date.now() >= atMs ? fn() : arm()), delay);
      handle.unref?.();
    };
    arm();
    return { cancel: () => clearTimeout(handle) };
  }
}

interface Pending { atMs: number; seq: number; fn: () => void; cancelled: boolean }

export class VirtualClock extends BaseClock implements Clock {
  readonly mode = 'virtual' as const;
  private timers: Pending[] = [];
  private seq = 0;
  private flushScheduled = false;
  constructor(private current: number, private onChange: (ms: number) => void = () => {}) { super(); }
  now(): number { return this.current; }
  at(atMs: number, fn: () => void): Timer {
    const p: Pending = { atMs, seq: this.seq++, fn, cancelled: false };
    // A timer already due stays in the queue until it fires, so a settle sees it (nextDue) and cannot pass it by.
    this.timers.push(p);
    if (atMs <= this.current && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => { this.flushScheduled = false; this.fire(this.current); });
    }
    return { cancel: () => { p.cancelled = true; } };
  }
  /** Moves time forward, firing due timers in time order (each sees the clock at its own due time). */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new Error('cannot move the clock backwards');
    return this.set(this.current + ms);
  }
  set(targetMs: number): number {
    if (targetMs < this.current) throw new Error('cannot move the clock backwards');
    this.fire(targetMs);
    this.current = targetMs;
    this.onChange(this.current);
    return this.current;
  }
  private fire(upTo: number): void {
    for (;;) {
      this.timers = this.timers.filter(t => !t.cancelled);
      this.timers.sort((a, b) => a.atMs - b.atMs || a.seq - b.seq);
      const next = this.timers[0];
      if (!next || next.atMs > upTo) break;
      this.timers.shift();
      this.current = Math.max(this.current, next.atMs);
      next.fn();
    }
  }
  /** When the earliest pending timer is due, if any. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const t of this.timers) if (!t.cancelled && (min === undefined || t.atMs < min)) min = t.atMs;
    return min;
  }
}
