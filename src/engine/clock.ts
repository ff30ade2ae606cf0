// The one source of time. Real by default; in virtual mode time moves only when advanced, and
// every timer due by then fires in order, so a 40-minute canary runs in milliseconds.
import { formatTimestamp, MAX_TIMESTAMP, MAX_TIMESTAMP_MS } from '../google/time.js';

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

interface Pending { atMs: number; seq: number; fn: () => void; cancelled: boolean; handle?: NodeJS.Timeout }

/**
 * Gantry's clock: real time (timers on Node's), or frozen (virtual: time moves only when advanced, and every timer due
 * by then fires in order), switched at run time. Time never goes back: unfrozen, it flows on from the frozen instant.
 */
export class SwitchableClock extends BaseClock implements Clock {
  private frozen: boolean;
  private current: number;
  /** In real mode, now = Date.now() + offset (the time a frozen clock had moved ahead). */
  private offset = 0;
  private pending = new Set<Pending>();
  private seq = 0;
  private flushScheduled = false;

  /** `onChange` hears every move of a frozen clock and every switch, to persist them. */
  constructor(mode: 'real' | 'virtual', startMs: number, private onChange: (state: { mode: 'real' | 'virtual'; ms: number; offsetMs: number }) => void = () => {}) {
    super();
    this.frozen = mode === 'virtual';
    this.current = startMs;
    if (!this.frozen) this.offset = Math.max(0, startMs - Date.now());
  }

  get mode(): 'real' | 'virtual' { return this.frozen ? 'virtual' : 'real'; }
  // Real time flowing on from a clock moved to the end of the timestamp range stays there.
  now(): number { return this.frozen ? this.current : Math.min(Date.now() + this.offset, MAX_TIMESTAMP_MS); }
  protected override subMillisNanos(): bigint { return this.frozen ? 0n : process.hrtime.bigint() % 1_000_000n; }

  at(atMs: number, fn: () => void): Timer {
    const p: Pending = { atMs, seq: this.seq++, fn, cancelled: false };
    this.pending.add(p);
    if (!this.frozen) this.arm(p);
    // Frozen: a timer already due stays queued until it fires, so a settle sees it (nextDue) and cannot pass it by.
    else if (atMs <= this.current && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(() => { this.flushScheduled = false; if (this.frozen) this.fire(this.current); });
    }
    return { cancel: () => { p.cancelled = true; if (p.handle) clearTimeout(p.handle); this.pending.delete(p); } };
  }

  /** Stops time where it is: timers wait for `advance`. */
  freeze(): void {
    if (this.frozen) return;
    this.current = this.now();
    this.frozen = true;
    for (const p of this.pending) if (p.handle) { clearTimeout(p.handle); p.handle = undefined; }
    this.changed();
  }

  /** Lets time flow again from where it stands. */
  unfreeze(): void {
    if (!this.frozen) return;
    this.offset = Math.max(0, this.current - Date.now());
    this.frozen = false;
    for (const p of this.pending) this.arm(p);
    this.changed();
  }

  /** Moves a frozen clock forward, firing due timers in time order (each sees the clock at its own due time). */
  advance(ms: number): number {
    if (!(ms >= 0)) throw new Error('cannot move the clock backwards');
    return this.set(this.current + ms);
  }

  set(targetMs: number): number {
    if (!this.frozen) throw new Error('only a frozen clock is moved by hand');
    if (targetMs < this.current) throw new Error('cannot move the clock backwards');
    // Every time Gantry writes is a google.protobuf.Timestamp, whose range ends here: past it they would be malformed.
    if (!(targetMs <= MAX_TIMESTAMP_MS)) throw new RangeError(`the clock cannot pass ${MAX_TIMESTAMP}`);
    this.fire(targetMs);
    this.current = targetMs;
    this.changed();
    return this.current;
  }

  /** When the earliest pending timer is due, if any. */
  nextDue(): number | undefined {
    let min: number | undefined;
    for (const t of this.pending) if (!t.cancelled && (min === undefined || t.atMs < min)) min = t.atMs;
    return min;
  }

  private changed(): void { this.onChange({ mode: this.mode, ms: this.now(), offsetMs: this.offset }); }

  private arm(p: Pending): void {
    // setTimeout caps at ~24.8 days; re-arm for longer waits.
    const delay = Math.min(Math.max(0, p.atMs - this.now()), 2 ** 31 - 1);
    p.handle = setTimeout(() => {
      p.handle = undefined;
      if (p.cancelled || this.frozen) return;
      if (this.now() < p.atMs) { this.arm(p); return; }
      this.pending.delete(p);
      p.fn();
    }, delay);
    p.handle.unref?.();
  }

  private fire(upTo: number): void {
    for (;;) {
      let next: Pending | undefined;
      for (const t of this.pending) if (!t.cancelled && t.atMs <= upTo && (!next || t.atMs < next.atMs || (t.atMs === next.atMs && t.seq < next.seq))) next = t;
      if (!next) break;
      this.pending.delete(next);
      this.current = Math.max(this.current, next.atMs);
      next.fn();
    }
  }
}

/** A clock that starts frozen at `startMs` (tests, and `--clock virtual`). */
export class VirtualClock extends SwitchableClock {
  constructor(startMs: number, onChange: (ms: number) => void = () => {}) {
    super('virtual', startMs, s => onChange(s.ms));
  }
}
