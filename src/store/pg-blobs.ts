// Cloud Storage object bytes in the shared PostgreSQL store, so any instance reads what another wrote. A blob is
// rows of bytea chunks of 1 MiB under its content address: no row nears PostgreSQL's 1 GB field limit, and a reader
// never needs one huge value in libpq's buffer at once. (Large objects would stream, but they need their own
// clean-up and permissions, and Cloud Storage objects here are capped by the upload limit anyway.)
import { createHash } from 'node:crypto';
import { isContentAddress, type Blobs } from '../apis/storage/blobs.js';

const CHUNK = 1024 * 1024;

type Query = (name: string, text: string, values: (string | null)[]) => Record<string, unknown>[];

export class PgBlobs implements Blobs {
  constructor(private query: Query, private tx: <T>(fn: () => T) => T) {}

  put(data: Buffer): string {
    const id = createHash('sha256').update(data).digest('hex');
    if (this.query('blobHas', 'SELECT 1 FROM blobs WHERE id = $1 AND chunk = 0', [id]).length) return id;
    // One transaction: a blob is there whole or not at all, before the metadata that names it is written.
    this.tx(() => {
      for (let i = 0, chunk = 0; i < Math.max(data.length, 1); i += CHUNK, chunk++) {
        this.query('blobPut', 'INSERT INTO blobs (id, chunk, data) VALUES ($1, $2, $3::bytea) ON CONFLICT DO NOTHING',
          [id, String(chunk), '\\x' + data.subarray(i, i + CHUNK).toString('hex')]);
      }
    });
    return id;
  }

  get(id: string): Buffer {
    if (!isContentAddress(id)) throw new Error(`"${id.slice(0, 80)}" is not a blob id (a content address).`);
    const rows = this.query('blobGet', 'SELECT data FROM blobs WHERE id = $1 ORDER BY chunk', [id]);
    if (!rows.length) throw Object.assign(new Error(`no blob ${id}`), { code: 'ENOENT' });
    return Buffer.concat(rows.map(r => r.data as Buffer));
  }
}
