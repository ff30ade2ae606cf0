// proto3 JSON times: RFC 3339 with nanoseconds (as Google emits them) and "300s" durations.
import { errors } from './errors.js';

/** The last instant a google.protobuf.Timestamp holds (9999-12-31T23:59:59Z; RFC 3339 has four-digit years). */
export const MAX_TIMESTAMP_MS = Date.UTC(9999, 11, 31, 23, 59, 59);
export const MAX_TIMESTAMP = '9999-12-31T23:59:59Z';

/** Formats epoch nanoseconds (bigint) as RFC 3339 with 9 fractional digits. */
export function formatTimestamp(nanos: bigint): string {
  const secs = nanos / 1_000_000_000n;
  const frac = (nanos % 1_000_000_000n).toString().padStart(9, '0');
  // Timestamps come in runs within one second (a batch of log entries, a burst of writes): its date part is reused.
  if (secs !== lastSecs) { lastSecs = secs; lastPrefix = new Date(Number(secs) * 1000).toISOString().slice(0, 19); }
  return lastPrefix + '.' + frac + 'Z';
}
let lastSecs = -1n;
let lastPrefix = '';

const RFC3339 = /^(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2})(\.(\d{1,9}))?(Z|[+-]\d{2}:\d{2})$/i;
/** Parses RFC 3339 to epoch nanoseconds; undefined when malformed. */
export function parseTimestamp(s: string): bigint | undefined {
  const m = RFC3339.exec(s);
  if (!m) return undefined;
  const base = Date.parse(m[1] + (m[4].toUpperCase() === 'Z' ? 'Z' : m[4]));
  if (Number.isNaN(base)) return undefined;
  const frac = BigInt((m[3] ?? '').padEnd(9, '0') || '0');
  return BigInt(base) * 1_000_000n + frac;
}

const DURATION = /^(\d+)(\.(\d{1,9}))?s$/;
/**
 * Parses a proto3 JSON Duration ("1.5s") to milliseconds; undefined when malformed or negative (`-0s` too): no field
 * these APIs take is negative, and a negative Duration stored is one no gRPC answer can carry.
 */
export function parseDurationMs(s: string): number | undefined {
  const m = DURATION.exec(s);
  if (!m) return undefined;
  return Number(m[1]) * 1000 + (m[3] ? Number(m[3].padEnd(9, '0')) / 1e6 : 0);
}

/**
 * A Duration a client gives for a field that takes `minMs` to `maxMs` (both ≥ 0), as its milliseconds; else
 * INVALID_ARGUMENT naming the field (a negative one, `-0s` too, is malformed: `parseDurationMs`).
 */
export function checkDuration(v: unknown, field: string, minMs: number, maxMs: number): number {
  const ms = typeof v === 'string' ? parseDurationMs(v) : undefined;
  if (ms === undefined) throw errors.invalidArgument(`Invalid value at '${field}' (type.googleapis.com/google.protobuf.Duration), ${JSON.stringify(String(v).slice(0, 50))}`, field);
  if (ms < minMs || ms > maxMs) throw errors.invalidArgument(`${field} must be between ${minMs / 1000}s and ${maxMs / 1000}s.`, field);
  return ms;
}

/** A Timestamp a client gives (RFC 3339, years 0001-9999), as its epoch nanoseconds; else INVALID_ARGUMENT naming the field. */
export function checkTimestamp(v: unknown, field: string): bigint {
  const t = typeof v === 'string' ? parseTimestamp(v) : undefined;
  if (t === undefined) throw errors.invalidArgument(`Invalid value at '${field}' (type.googleapis.com/google.protobuf.Timestamp), ${JSON.stringify(String(v).slice(0, 50))}`, field);
  return t;
}

/** The longest google.protobuf.Duration: 315,576,000,000 s (10,000 years). */
export const MAX_DURATION_MS = 315_576_000_000_000;

const UNIT_MS: Record<string, number> = { h: 3_600_000, m: 60_000, s: 1000, ms: 1 };
const HUMAN = /^(?:\d+(?:\.\d+)?(?:h|ms|m|s))+$/;
/** Longest duration a person may ask for (100 years): beyond it, numbers stop being exact. */
const MAX_HUMAN_MS = 100 * 365 * 86_400_000;

/**
 * Durations as Google writes them ("600s", "1.5s") and as people do ("10m", "1h30m", "1m30.5s"):
 * for Gantry's own inputs (the clock API, outcome rules, flags). undefined when malformed or absurd.
 */
export function parseFlexibleDurationMs(s: string): number | undefined {
  if (s.length > 64 || !HUMAN.test(s)) return undefined;
  let ms = 0;
  for (const [, n, unit] of s.matchAll(/(\d+(?:\.\d+)?)(h|ms|m|s)/g)) ms += Number(n) * UNIT_MS[unit];
  ms = Math.round(ms * 1e6) / 1e6;
  return ms <= MAX_HUMAN_MS ? ms : undefined;
}
