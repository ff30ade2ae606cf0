// Where Run resources live in the store, and how each API names them. The store keys by project id and region:
// `projects/{id}/locations/{region}/jobs|executions|tasks/{name}`; executions and tasks are flat per region as in v1
// (their names are unique there), with the job (for an execution) or execution (for a task) as the store parent.
import type { Projects } from '../../google/projects.js';

export interface RunRef { project: string; region: string; id: string }

export function jobKey(r: { project: string; region: string }, id: string): string { return `projects/${r.project}/locations/${r.region}/jobs/${id}`; }
export function executionKey(r: { project: string; region: string }, id: string): string { return `projects/${r.project}/locations/${r.region}/executions/${id}`; }
export function taskKey(r: { project: string; region: string }, id: string): string { return `projects/${r.project}/locations/${r.region}/tasks/${id}`; }
export function regionKey(r: { project: string; region: string }): string { return `projects/${r.project}/locations/${r.region}`; }

/** Splits a store key into project, region and the last id. */
export function parseKey(key: string): RunRef {
  const s = key.split('/');
  return { project: s[1], region: s[3], id: s[5] };
}

/** v1 selfLink: `/apis/run.googleapis.com/v1/namespaces/{number}/{collection}/{name}`. */
export function selfLink(projects: Projects, project: string, collection: 'jobs' | 'executions' | 'tasks', id: string): string {
  return `/apis/run.googleapis.com/v1/namespaces/${projects.number(project)}/${collection}/${id}`;
}

/** A task's name is its execution's and `-task{index}`. */
export function taskId(execution: string, index: number): string { return `${execution}-task${index}`; }
