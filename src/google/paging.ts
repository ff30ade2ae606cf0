// Opaque page tokens bound to the query that made them (AIP-158): a keyset cursor plus a hash of
// the parent, filter and order, so a token replayed with another query is refused.
import { createHash } from 'node:crypto';
import { errors } from './errors.js';

export function queryHash(...parts: (string | undefined)[]): string {
  return createHash('sha1').update(parts.map(p => p ?? '').join('\u0000')).digest('base64url').slice(0, 12);
}

export function encodePageToken(hash: string, after: unknown[]): string {
  return Buffer.from(JSON.stringify({ h: hash, a: after })).toString('base64url');
}

export function decodePageToken(token: string | undefined, hash: string): unknown[] | undefined {
  if (!token) return undefined;
  try {
    const t = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { h: string; a: unknown[] };
    // The hash is not a secret, so a token can be forged: its cursor must be what the store binds (strings, numbers, null).
    if (t.h === hash && Array.isArray(t.a) && t.a.length <= 64 && t.a.every(isCursorValue)) return t.a;
  } catch { /* fall through */ }
  throw errors.invalidArgument('The page token is invalid or does not match the query it was issued for.', 'page_token');
}

function isCursorValue(v: unknown): boolean {
  return v === null || typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
}

/**
 * The most bytes of resources one list page carries (one larger resource still goes alone): 4 MiB is the default
 * largest message a gRPC client accepts, and it keeps a page of releases with large snapshots from reaching
 * hundreds of MB.
 */
export const PAGE_MAX_BYTES = 4 * 1024 * 1024;

export function pageSize(requested: number | undefined, def = 50, max = 1000): number {
  if (requested === undefined || requested === 0) return def;
  if (requested < 0) throw errors.invalidArgument('page_size must not be negative.', 'page_size');
  return Math.min(requested, max);
}
