// Object bytes on disk under the data directory, named by content hash (written before the
// metadata that points at them, so an acknowledged object is never missing its bytes).
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export class BlobStore {
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

  get(id: string): Buffer { return readFileSync(join(this.dir, id)); }
}
