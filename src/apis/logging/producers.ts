// Log entries as the services that write them shape them. Cloud Run: resource `cloud_run_job`, the execution, task
// index and attempt as entry labels, stdout and stderr as their own logs; a line that is a JSON object with a
// `severity` or `message` is structured logging (jsonPayload, its severity), as Cloud Run's logging agent reads it.
import type { LogEntryInput } from './index.js';
import { SEVERITIES } from './query.js';

export interface TaskLine { project: string; region: string; job: string; execution: string; taskIndex: number; attempt: number; stream: 'stdout' | 'stderr'; line: string }

export function cloudRunTaskEntry(t: TaskLine): LogEntryInput {
  const entry: LogEntryInput = {
    logName: `projects/${t.project}/logs/run.googleapis.com%2F${t.stream}`,
    resource: { type: 'cloud_run_job', labels: { project_id: t.project, job_name: t.job, location: t.region } },
    labels: { 'run.googleapis.com/execution_name': t.execution, 'run.googleapis.com/task_index': String(t.taskIndex), 'run.googleapis.com/task_attempt': String(t.attempt) },
  };
  if (t.line.startsWith('{')) {
    try {
      const json = JSON.parse(t.line) as Record<string, unknown>;
      if (json && typeof json === 'object' && !Array.isArray(json) && ('severity' in json || 'message' in json)) {
        const severity = String(json.severity ?? '').toUpperCase();
        const { severity: _, ...payload } = json;
        return { ...entry, jsonPayload: payload, ...(SEVERITIES.includes(severity) ? { severity } : {}) };
      }
    } catch { /* plain text */ }
  }
  return { ...entry, textPayload: t.line };
}
