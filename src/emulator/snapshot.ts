// Snapshots: the whole state (or one project's) as newline-delimited JSON, and back. A snapshot holds every stored
// resource row as the store keeps it (creation time and unfinished-work flag included, so imported work resumes as
// after a restart), the log entries, the project numbers seen, and the content of every stored object it names.
// Importing replaces the scope: it is reset first (reset.ts), then filled, then its unfinished work resumes.
import { errors } from '../google/errors.js';
import type { ControllerRuntime } from '../engine/controllers.js';
import type { LogSnapshots } from '../apis/logging/index.js';
import type { Store, StoredRow } from '../store/store.js';
import { VERSION } from '../version.js';
import { resetState, type ResetDeps } from './reset.js';
import { OUTCOME_SCRIPT_KIND, OUTCOME_SCRIPTS_PARENT, scriptScopedUnder } from './outcome-scripts.js';
import { PROJECT_NUMBER_META } from '../google/projects.js';

export interface SnapshotDeps extends ResetDeps {
  store: Store;
  runtime: ControllerRuntime;
  logs: LogSnapshots;
  blobs: { get(id: string): Buffer; put(data: Buffer): string };
}

const FORMAT = 1;

type Line =
  | { snapshot: { format: number; gantry: string; exportedAt: string; project?: string } }
  | { resource: Omit<StoredRow, 'data'> & { data: unknown } }
  | { log: { project: string; timestamp: string; log: string; data: unknown } }
  | { meta: { key: string; value: string } }
  | { blob: { id: string; data: string } };

function inScope(row: { name: string; kind: string; data: string }, project: string | undefined): boolean {
  if (project === undefined) return true;
  if (row.name.startsWith(`projects/${project}/`)) return true;
  return row.kind === OUTCOME_SCRIPT_KIND && scriptScopedUnder(JSON.parse(row.data) as { scope?: unknown }, `projects/${project}/`);
}

/** The snapshot, line by line. */
export function* exportSnapshot(d: SnapshotDeps, project?: string): Generator<string> {
  const line = (l: Line) => JSON.stringify(l) + '\n';
  yield line({ snapshot: { format: FORMAT, gantry: VERSION, exportedAt: new Date().toISOString(), ...(project ? { project } : {}) } });
  const blobs = new Set<string>();
  for (const r of d.store.dump(project === undefined ? '' : `projects/${project}/`)) {
    yield line({ resource: { ...r, data: JSON.parse(r.data) } });
    const blob = r.kind === 'storageObject' ? (JSON.parse(r.data) as { gantryBlob?: string }).gantryBlob : undefined;
    if (blob) blobs.add(blob);
  }
  if (project !== undefined) {
    for (const r of d.store.dump(`${OUTCOME_SCRIPTS_PARENT}/`)) if (inScope(r, project)) yield line({ resource: { ...r, data: JSON.parse(r.data) } });
  }
  for (const [key, value] of d.store.metaEntries(PROJECT_NUMBER_META)) {
    if (project === undefined || value === project) yield line({ meta: { key, value } });
  }
  for (const e of d.logs.dump(project)) yield line({ log: { ...e, data: JSON.parse(e.data) } });
  for (const id of blobs) yield line({ blob: { id, data: d.blobs.get(id).toString('base64') } });
}

/** Replaces the scope's state with a snapshot's (`project`: one project's, from a snapshot of it or of everything). */
export async function importSnapshot(d: SnapshotDeps, text: string, project?: string): Promise<{ resources: number; logEntries: number }> {
  const rows: StoredRow[] = [];
  const logs: { project: string; timestamp: string; log: string; data: string }[] = [];
  const meta: [string, string][] = [];
  const blobs: Buffer[] = [];
  const lines = text.split('\n').filter(l => l.trim());
  const bad = (n: number, why: string) => errors.invalidArgument(`Snapshot line ${n + 1}: ${why}`, 'snapshot');
  lines.forEach((text, n) => {
    let l: Line;
    try { l = JSON.parse(text) as Line; } catch { throw bad(n, 'not JSON.'); }
    if (n === 0) {
      if (!('snapshot' in l) || l.snapshot.format !== FORMAT) throw bad(n, `not a Gantry snapshot of format ${FORMAT}.`);
      return;
    }
    if ('resource' in l) {
      const r = l.resource;
      if (typeof r.name !== 'string' || typeof r.kind !== 'string' || typeof r.parent !== 'string' || typeof r.createTime !== 'string' || typeof r.data !== 'object' || r.data === null) throw bad(n, 'a resource needs name, kind, parent, createTime and data.');
      const row: StoredRow = { name: r.name, kind: r.kind, parent: r.parent, createTime: r.createTime, active: r.active === true, data: JSON.stringify(r.data) };
      if (inScope(row, project)) rows.push(row);
    } else if ('log' in l) {
      const e = l.log;
      if (typeof e.project !== 'string' || typeof e.timestamp !== 'string' || typeof e.log !== 'string') throw bad(n, 'a log entry needs project, timestamp and log.');
      if (project === undefined || e.project === project) logs.push({ project: e.project, timestamp: e.timestamp, log: e.log, data: JSON.stringify(e.data) });
    } else if ('meta' in l) {
      if (!l.meta.key.startsWith(PROJECT_NUMBER_META) || typeof l.meta.value !== 'string') throw bad(n, 'only project numbers are carried as meta.');
      if (project === undefined || l.meta.value === project) meta.push([l.meta.key, l.meta.value]);
    } else if ('blob' in l) {
      const data = Buffer.from(String(l.blob.data), 'base64');
      if (d.blobs.put(data) !== l.blob.id) throw bad(n, 'the blob does not match its id.');
      blobs.push(data);
    } else {
      throw bad(n, 'an unknown kind of line.');
    }
  });
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
