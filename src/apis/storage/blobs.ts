// Object bytes on disk under the data directory, named by content hash (written before the
// metadata that points at them, so an acknowledged object is never missing its bytes). An id is only ever a
// content address (64 lowercase hex digits, the SHA-256 `put` computed): never a path, so a reference that came
// from outside (a snapshot) cannot name a file anywhere else.
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { Lru } from '../../store/lru.js';

/** Whether `id` is a content address: the SHA-256 of some bytes, in lowercase hex. */
export function isContentAddress(id: string): boolean { return /^[0-9a-f]{64}$/.test(id); }

/** Where object bytes are kept: files of the data directory, or a table of a shared PostgreSQL store. */
export interface Blobs {
  /** Stores the bytes (durably, before it returns) and answers their content address. */
  put(data: Buffer): string;
  get(id: string): Buffer;
}

/** Small blobs kept in memory once read (a release's manifests, read by every deploy of it): bounded by bytes. */
const CACHED_BLOB_BYTES = 64 * 1024;
const CACHE_BYTES = 8 * 1024 * 1024;

export class BlobStore implements Blobs {
  // A content address names its bytes forever, so a cached blob is never stale.
  private cache = new Lru<string, Buffer>(1024, CACHE_BYTES, b => b.length);

  constructor(private dir: string) { mkdirSync(dir, { recursive: true }); }

  put(data: Buffer): string {
    const id = createHash('sha256').update(data).digest('hex');
    const path = join(this.dir, id);
    const tmp = `${path}.${process.pid}.tmp`;
    const fd = openSync(tmp, 'w');
    try { writeSync(fd, data); fsyncSync(fd); } finally { closeSync(fd); }
    renameSync(tmp, path);
    return id;
  }

  get(id: string): Buffer {
    if (!isContentAddress(id)) throw new Error(`"${id.slice(0, 80)}" is not a blob id (a content address).`);
    const cached = this.cache.get(id);
    // A copy: a caller may write into the buffer it is given.
    if (cached) return Buffer.from(cached);
    const data = readFileSync(join(this.dir, id));
    if (data.length <= CACHED_BLOB_BYTES) this.cache.set(id, Buffer.from(data));
    return data;
  }
}
