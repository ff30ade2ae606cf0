// Snapshots: the whole state (or one project's) as newline-delimited JSON, and back. A snapshot holds every stored
// resource row as the store keeps it (creation time and unfinished-work flag included, so imported work resumes as
// after a restart), the log entries, the project numbers seen, and the content of every stored object it names.
// Importing replaces the scope: it is reset first (reset.ts), then filled, then its unfinished work resumes.
import type { ControllerRuntime } from '../engine/controllers.js';
import type { LogSnapshots } from '../apis/logging/index.js';
import type { Store, StoredRow } from '../store/store.js';
import { VERSION } from '../version.js';
import { IAM_META, readSnapshot, SNAPSHOT_FORMAT as FORMAT } from './snapshot-lines.js';
import { resetState, type ResetDeps } from './reset.js';
import { OUTCOME_SCRIPT_KIND, OUTCOME_SCRIPTS_PARENT, scriptScopedUnder } from './outcome-scripts.js';
import { PROJECT_NUMBER_META } from '../google/projects.js';
import { bucketOwners, projectStorageRows, storageScope } from '../apis/storage/project-scope.js';

function* chain<T>(...parts: Iterable<T>[]): Generator<T> { for (const p of parts) yield* p; }

export interface SnapshotDeps extends ResetDeps {
  store: Store;
  runtime: ControllerRuntime;
  logs: LogSnapshots;
  blobs: { get(id: string): Buffer; put(data: Buffer): string };
}

type Line =
  | { snapshot: { format: number; gantry: string; exportedAt: string; project?: string } }
  | { resource: Omit<StoredRow, 'data'> & { data: unknown } }
  | { log: { project: string; timestamp: string; log: string; data: unknown } }
  | { meta: { key: string; value: string } }
  | { blob: { id: string; data: string } };

/** A row of the project's: under `projects/{p}/`, an outcome script scoped under it, or its Cloud Storage (`storage`). */
function inScope(row: { name: string; kind: string; data: string }, project: string | undefined, storage: (row: { name: string }) => boolean): boolean {
  if (project === undefined) return true;
  if (row.name.startsWith(`projects/${project}/`)) return true;
  if (row.kind === OUTCOME_SCRIPT_KIND) return scriptScopedUnder(JSON.parse(row.data) as { scope?: unknown }, `projects/${project}/`);
  return storage(row);
}

/** The snapshot, line by line. */
export function* exportSnapshot(d: SnapshotDeps, project?: string): Generator<string> {
  const line = (l: Line) => JSON.stringify(l) + '\n';
  yield line({ snapshot: { format: FORMAT, gantry: VERSION, exportedAt: new Date().toISOString(), ...(project ? { project } : {}) } });
  const blobs = new Set<string>();
  const rows = project === undefined ? d.store.dump('') : d.store.dump(`projects/${project}/`);
  const storageRows = project === undefined ? [] : projectStorageRows(d.store, project);
  for (const r of chain(rows, storageRows)) {
    yield line({ resource: { ...r, data: JSON.parse(r.data) } });
    const blob = r.kind === 'storageObject' ? (JSON.parse(r.data) as { gantryBlob?: string }).gantryBlob : undefined;
    if (blob) blobs.add(blob);
  }
  if (project !== undefined) {
    for (const r of d.store.dump(`${OUTCOME_SCRIPTS_PARENT}/`)) if (inScope(r, project, () => false)) yield line({ resource: { ...r, data: JSON.parse(r.data) } });
  }
  for (const [key, value] of d.store.metaEntries(PROJECT_NUMBER_META)) {
    if (project === undefined || value === project) yield line({ meta: { key, value } });
  }
  // IAM policies, kept by their resource's name (a project's own is `iam:projects/{p}`).
  for (const [key, value] of d.store.metaEntries(project === undefined ? `${IAM_META}projects/` : `${IAM_META}projects/${project}`)) {
    if (project === undefined || key === `${IAM_META}projects/${project}` || key.startsWith(`${IAM_META}projects/${project}/`)) yield line({ meta: { key, value } });
  }
  for (const e of d.logs.dump(project)) yield line({ log: { ...e, data: JSON.parse(e.data) } });
  for (const id of blobs) yield line({ blob: { id, data: d.blobs.get(id).toString('base64') } });
}

/**
 * Replaces the scope's state with a snapshot's (`project`: one project's, from a snapshot of it or of everything).
 * Every line is checked first (snapshot-lines.ts): a bad one is a 400 and nothing changes.
 */
export async function importSnapshot(d: SnapshotDeps, text: string, project?: string): Promise<{ resources: number; logEntries: number }> {
  const { rows, logs, meta, blobs } = readSnapshot(text, {
    rows: all => {
      if (project === undefined) return () => true;
      const owners = bucketOwners(all);
      const storage = storageScope(project, b => owners.get(b));
      return r => inScope(r, project, storage);
    },
    project: p => project === undefined || p === project,
  });
  for (const data of blobs.values()) d.blobs.put(data);
  await resetState(d, project);
  d.store.tx(w => {
    for (const r of rows) w.restore(r);
    for (const [k, v] of meta) w.setMeta(k, v);
  });
  d.logs.restore(logs);
  // Unfinished work resumes as after a restart.
  d.runtime.start();
  await d.runtime.idleUnder(project === undefined ? '' : `projects/${project}/`);
  return { resources: rows.length, logEntries: logs.length };
}
