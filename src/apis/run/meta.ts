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

/** The latest v1 timestamp answered, for every clock: the next is later. */
let lastMicros = '';

/**
 * The clock's now as a v1 timestamp (microseconds), strictly increasing like the clock's own timestamps, so creation
 * order is total even while a virtual clock stands still: the clock's own text cut to microseconds, or the microsecond
 * after the last one answered when that was as late (fixed-width RFC 3339 text orders as time does).
 */
export function nowMicros(clock: Clock): string {
  const text = clock.timestamp().slice(0, 26) + 'Z';
  lastMicros = text > lastMicros ? text : nextMicro(lastMicros);
  return lastMicros;
}

/** The microsecond after `text` (`…:SS.ffffffZ`). */
function nextMicro(text: string): string {
  const us = Number(text.slice(20, 26)) + 1;
  if (us < 1_000_000) return text.slice(0, 20) + String(us).padStart(6, '0') + 'Z';
  return new Date(Date.parse(text.slice(0, 19) + 'Z') + 1000).toISOString().slice(0, 19) + '.000000Z';
}

/** `AAYnZ8S7wzw`: 8 big-endian bytes of the write's epoch microseconds, base64url without padding. */
export function resourceVersion(timestamp: string): string {
  // ms * 1000 + µs in two 32-bit halves, each exact in a double (no BigInt on every write of a deploy).
  const ms = Date.parse(timestamp.slice(0, 23) + 'Z'), sub = Number(timestamp.slice(23, 26)) || 0;
  const msHigh = Math.floor(ms / 0x1_0000_0000), low = (ms % 0x1_0000_0000) * 1000 + sub;
  const b = Buffer.allocUnsafe(8);
  b.writeUInt32BE(msHigh * 1000 + Math.floor(low / 0x1_0000_0000), 0);
  b.writeUInt32BE(low % 0x1_0000_0000, 4);
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
