// Which of Cloud Storage's rows are a project's, for a per-project reset and snapshot. Buckets live outside
// `projects/{p}/` (bucket names are global), so a project's are the buckets it owns (their `project`) with every
// object in them, and, in the buckets Gantry keeps for itself (job-run logs), the objects named under the project's
// resources (`projects/{p}/…`).
import type { Store, StoredRow } from '../../store/store.js';
import { bucketName, GANTRY_OWNER } from './storage.js';

const BUCKETS = 'storage/buckets/';

/** The bucket a storage row (bucket or object) is in, or undefined for any other row. */
function bucketOf(name: string): string | undefined {
  if (!name.startsWith(BUCKETS)) return undefined;
  const rest = name.slice(BUCKETS.length);
  const slash = rest.indexOf('/');
  return slash < 0 ? rest : rest.slice(0, slash);
}

/** Objects named under a project's resources, in one of Gantry's own buckets. */
function objectPrefix(bucket: string, project: string): string {
  return `${bucketName(bucket)}/objects/${encodeURIComponent(`projects/${project}/`)}`;
}

/** A decider for rows of a snapshot or the store: `owner(bucket)` says who owns a bucket. */
export function storageScope(project: string, owner: (bucket: string) => string | undefined): (row: { name: string }) => boolean {
  return row => {
    const b = bucketOf(row.name);
    if (b === undefined) return false;
    const o = owner(b);
    if (o === project) return true;
    return o === GANTRY_OWNER && row.name.startsWith(objectPrefix(b, project));
  };
}

/** The owner of every bucket in `rows` (a snapshot's), so its objects can be judged whatever their order. */
export function bucketOwners(rows: Iterable<StoredRow>): Map<string, string> {
  const owners = new Map<string, string>();
  for (const r of rows) if (r.kind === 'storageBucket') owners.set(bucketOf(r.name)!, String((JSON.parse(r.data) as { project?: unknown }).project ?? ''));
  return owners;
}

/** The project's storage rows in the store: its buckets with their objects, and its objects in Gantry's buckets. */
export function* projectStorageRows(store: Store, project: string): Generator<StoredRow> {
  for (const bucket of store.children('storageBucket', 'storage/buckets')) {
    const b = String(bucket.name);
    if (bucket.project === project) {
      // A prefix of the name alone would take bucket `ab` along with `a`.
      for (const r of store.dump(bucketName(b))) if (r.name === bucketName(b) || r.name.startsWith(`${bucketName(b)}/`)) yield r;
    } else if (bucket.project === GANTRY_OWNER) yield* store.dump(objectPrefix(b, project));
  }
}
