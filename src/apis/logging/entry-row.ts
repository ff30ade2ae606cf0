// How an entry a writer gives becomes the row Cloud Logging stores: its ids and times filled, its project on the
// resource where Cloud Logging adds it, serialised once and bounded in size. Pure, so the request-log worker
// (request-log-worker.ts) stores exactly what the main thread would.
import { errors } from '../../google/errors.js';
import type { LogEntryInput } from './index.js';

type Obj = Record<string, unknown>;
/** Largest entry (its JSON), Cloud Logging's limit. */
export const MAX_ENTRY_BYTES = 256 * 1024;

/** An entry as stored: `json` is `entry` serialised once (its size was checked on it). */
export interface Row { project: string; number: string; timestamp: string; log: string; entry: Obj; json: string }

/** Unique insert ids without a random draw per entry: a random prefix per writer, then a counter. */
export function insertIds(prefix: string): () => string {
  let n = 0;
  return () => prefix + (n++).toString(16).padStart(10, '0');
}

/**
 * The row of an entry, its project already resolved and its timestamp canonical. `strict`: a too large entry is an
 * error (entries:write); otherwise its payload is cut to fit (a task's line).
 */
export function entryRow(e: LogEntryInput, at: { project: string; number: string; timestamp: string; now: string; insertId: () => string }, strict: boolean, index = 0): Row {
  const { project, timestamp, now } = at;
  const logId = e.logName.split('/')[3] ?? '';
  const resource = { type: e.resource.type, labels: { ...(e.resource.labels ?? {}) } };
  // Cloud Logging fills the project of a resource that names none (gcloud logging write's `global`).
  if (!resource.labels.project_id && (resource.type === 'global' || resource.type === 'project')) resource.labels.project_id = project;
  const entry: Obj = {
    insertId: e.insertId || at.insertId(), logName: `projects/${project}/logs/${logId}`, resource, timestamp, receiveTimestamp: now,
    severity: e.severity ?? 'DEFAULT', ...(e.labels && Object.keys(e.labels).length ? { labels: e.labels } : {}),
    ...(e.textPayload !== undefined ? { textPayload: e.textPayload } : {}),
    ...(e.jsonPayload !== undefined ? { jsonPayload: e.jsonPayload } : {}),
    ...(e.extra ?? {}),
  };
  let json = JSON.stringify(entry);
  let size = Buffer.byteLength(json);
  if (size > MAX_ENTRY_BYTES) {
    if (strict) throw errors.invalidArgument(`Log entry with size ${(size / 1024).toFixed(1)}K exceeds maximum size of ${(MAX_ENTRY_BYTES / 1024).toFixed(1)}K`, `entries[${index}]`);
    // A task's line: its payload is cut to fit (a structured line becomes its text).
    const text = typeof entry.textPayload === 'string' ? entry.textPayload : JSON.stringify(entry.jsonPayload ?? entry.protoPayload ?? '');
    delete entry.jsonPayload; delete entry.protoPayload; entry.textPayload = '';
    size = Buffer.byteLength(JSON.stringify(entry));
    entry.textPayload = cutBytes(text, MAX_ENTRY_BYTES - size - 64);
    json = JSON.stringify(entry);
  }
  return { project, number: at.number, timestamp, log: entry.logName as string, entry, json };
}

export function cutBytes(s: string, bytes: number): string {
  if (Buffer.byteLength(s) <= bytes) return s;
  return Buffer.from(s).subarray(0, Math.max(0, bytes)).toString().replace(/\uFFFD+$/, '');
}
