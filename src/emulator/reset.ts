// Reset: all state, or one project's, gone, as if never made. Answers once the work of the scope has stopped: its
// running tasks (process or container) have exited, and no reconcile of it is queued or under way. Work outside the
// scope runs on untouched. The clock is kept.
import type { ControllerRuntime } from '../engine/controllers.js';
import type { TaskRegistry } from '../executors/registry.js';
import type { Store } from '../store/store.js';
import { OUTCOME_SCRIPT_KIND, OUTCOME_SCRIPTS_PARENT, scriptScopedUnder } from './outcome-scripts.js';
import { projectStorageRows } from '../apis/storage/project-scope.js';

export interface ResetDeps {
  store: Store;
  runtime: ControllerRuntime;
  tasks: TaskRegistry;
  logs: { clear(project?: string): void };
}

export interface ResetResult { resources: number; tasksStopped: number }


export async function resetState(d: ResetDeps, project?: string): Promise<ResetResult> {
  const prefix = project === undefined ? '' : `projects/${project}/`;
  const forget = () => d.store.tx(w => {
    if (project === undefined) return w.deleteAll();
    let n = w.deleteUnder(`projects/${project}`);
    // Its Cloud Storage: the buckets it owns with their objects, its objects in Gantry's own buckets.
    for (const name of [...projectStorageRows(d.store, project)].map(r => r.name)) { w.delete(name); n++; }
    // Outcome scripts live outside any project; a project's are those scoped under it.
    for (const s of d.store.children(OUTCOME_SCRIPT_KIND, OUTCOME_SCRIPTS_PARENT)) {
      if (scriptScopedUnder(s, prefix)) { w.delete(String(s.name)); n++; }
    }
    return n;
  });
  // Forgotten first, so nothing of the scope starts again (a retry of a stopped task finds no execution); the deletes
  // reach the controllers like any other change (apps of deleted backends stop, target queues move on).
  const resources = forget();
  d.runtime.forgetUnder(prefix);
  const tasksStopped = await d.tasks.stopUnder(prefix);
  await d.runtime.idleUnder(prefix);
  // What the stopped work wrote as it ended is forgotten too.
  forget();
  d.logs.clear(project);
  await d.runtime.idleUnder(prefix);
  return { resources, tasksStopped };
}
