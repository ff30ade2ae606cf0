// Knative-style object metadata as Cloud Run v1 writes it: microsecond timestamps, resourceVersion as the
// base64url of the last write's microseconds (as observed on real jobs), and conditions with string statuses.
import type { Clock } from '../../engine/clock.js';

export type Obj = Record<string, unknown>;

export interface Condition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason?: string;
  message?: string;
  severity?: 'Error' | 'Warning' | 'Info';
  lastTransitionTime?: string;
}

/** RFC 3339 with microseconds, `Z` (what v1 answers). */
export function micros(ms: number): string {
  return new Date(Math.floor(ms)).toISOString().slice(0, 23) + '000Z';
}

// Epoch microseconds are plain numbers on every write of a deploy (BigInt costs more), exact until 2255; a clock set
// later than that takes the BigInt path.
let lastMicros = 0n;
let lastUs = 0;

/**
 * The clock's now as a v1 timestamp (microseconds), strictly increasing like the clock's own timestamps, so creation
 * order is total even while a virtual clock stands still.
 */
export function nowMicros(clock: Clock): string {
  const t = clock.timestamp();
  const second = t.slice(0, 19);
  if (second !== lastSecond) { lastSecond = second; lastSecondMs = Date.parse(second + 'Z'); }
  const us = lastSecondMs * 1000 + Number(t.slice(20, 26));
  if (lastMicros === 0n && Number.isSafeInteger(us + 1)) {
    // The clock's own text, cut to microseconds, unless an earlier write took that microsecond.
    if (us > lastUs) { lastUs = us; return t.slice(0, 26) + 'Z'; }
    if (Number.isSafeInteger(lastUs + 1)) return microsText(++lastUs);
  }
  let big = BigInt(lastSecondMs) * 1000n + BigInt(t.slice(20, 26));
  const last = lastMicros > BigInt(lastUs) ? lastMicros : BigInt(lastUs);
  if (big <= last) big = last + 1n;
  lastMicros = big;
  return new Date(Number(big / 1000n)).toISOString().slice(0, 23) + String(big % 1000n).padStart(3, '0') + 'Z';
}
let lastSecond = '';
let lastSecondMs = 0;

function microsText(us: number): string {
  return new Date((us - us % 1000) / 1000).toISOString().slice(0, 23) + String(us % 1000).padStart(3, '0') + 'Z';
}

/** `AAYnZ8S7wzw`: 8 big-endian bytes of the write's epoch microseconds, base64url without padding. */
export function resourceVersion(timestamp: string): string {
  const ms = Date.parse(timestamp.slice(0, 23) + 'Z'), sub = Number(timestamp.slice(23, 26)) || 0;
  const b = Buffer.allocUnsafe(8);
  const us = ms * 1000 + sub;
  if (Number.isSafeInteger(us)) {
    b.writeUInt32BE(Math.floor(us / 0x1_0000_0000), 0);
    b.writeUInt32BE(us % 0x1_0000_0000, 4);
  } else b.writeBigUInt64BE(BigInt(ms) * 1000n + BigInt(sub));
  return b.toString('base64url');
}

/** The decimal microseconds a resourceVersion stands for (executions carry their job's as a label). */
export function resourceVersionMicros(rv: string): string {
  const b = Buffer.from(rv, 'base64url');
  return b.length === 8 ? b.readBigUInt64BE().toString() : '0';
}

/**
 * Sets a condition, keeping its lastTransitionTime unless the status changes (Knative semantics). Conditions keep
 * the order they were first set in.
 */
export function setCondition(conditions: Condition[], c: Omit<Condition, 'lastTransitionTime'>, at: string): Condition[] {
  const i = conditions.findIndex(x => x.type === c.type);
  const prev = i >= 0 ? conditions[i] : undefined;
  const next: Condition = { type: c.type, status: c.status, ...(c.reason ? { reason: c.reason } : {}), ...(c.message ? { message: c.message } : {}),
    ...(c.severity ? { severity: c.severity } : {}), lastTransitionTime: prev && prev.status === c.status ? prev.lastTransitionTime : at };
  if (i >= 0) conditions[i] = next; else conditions.push(next);
  return conditions;
}

export function conditionOf(conditions: Condition[] | undefined, type: string): Condition | undefined {
  return conditions?.find(c => c.type === type);
}

/** proto3 JSON omits zero counts: sets or removes `key`. */
export function setCount(status: Obj, key: string, n: number): void {
  if (n) status[key] = n; else delete status[key];
}
