// Server-generated identifiers and the id rules Google applies to user-chosen ones.
import * as crypto from 'node:crypto';
import { randomBytes, randomFillSync, randomUUID, createHash } from 'node:crypto';

/** AIP-122 resource id as Cloud Deploy checks it: 1-63 chars, lowercase, no trailing hyphen. */
export const RESOURCE_ID = /^[a-z]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** 32 lowercase hex chars: a UUID without dashes, the form Cloud Deploy uids take. */
export function newUid(): string { return randomUUID().replace(/-/g, ''); }
export function newUuid(): string { return randomUUID(); }
const POOL = 4096;
const pool = Buffer.alloc(POOL);
let poolAt = POOL;

/** Random hex, `n` digits, cut from a pool of random bytes drawn 4 KiB at a time (an operation's name takes three). */
export function hex(n: number): string {
  const bytes = Math.ceil(n / 2);
  if (bytes > POOL) return randomBytes(bytes).toString('hex').slice(0, n);
  if (poolAt + bytes > POOL) { randomFillSync(pool); poolAt = 0; }
  const out = pool.toString('hex', poolAt, poolAt + bytes).slice(0, n);
  poolAt += bytes;
  return out;
}

/** 16 hex chars derived from the content, so an unchanged resource keeps its etag. */
export function etagOf(json: string): string {
  return (oneShot ? oneShot('sha1', json) : createHash('sha1').update(json).digest('hex')).slice(0, 16);
}
/** Node's one-shot digest (20.12 and later): no Hash object per call, on every write. */
const oneShot = (crypto as { hash?: (algorithm: string, data: string) => string }).hash;

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;
export function isUuid(s: string): boolean { return UUID.test(s) && !/^[0-]+$/.test(s); }
