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

export interface BuildStepLine { project: string; buildId: string; step: number; stepName?: string; line: string }

/** A Cloud Build step's line (Cloud Deploy job runs, App Hosting builds): log `cloudbuild`, resource `build`. */
export function cloudBuildStepEntry(t: BuildStepLine): LogEntryInput {
  const step = `Step #${t.step}${t.stepName ? ` - "${t.stepName}"` : ''}`;
  return {
    logName: `projects/${t.project}/logs/cloudbuild`, resource: { type: 'build', labels: { build_id: t.buildId, project_id: t.project } },
    textPayload: `${step}: ${t.line}`, labels: { build_step: `Step #${t.step}` },
  };
}

export interface RevisionLine { project: string; region: string; service: string; revision: string; stream: 'stdout' | 'stderr'; line: string }

/** A line of a serving app (App Hosting's Cloud Run service): resource `cloud_run_revision`, structured like a task's. */
export function cloudRunRevisionEntry(t: RevisionLine): LogEntryInput {
  const task = cloudRunTaskEntry({ project: t.project, region: t.region, job: '', execution: '', taskIndex: 0, attempt: 0, stream: t.stream, line: t.line });
  return {
    ...task, labels: undefined,
    resource: { type: 'cloud_run_revision', labels: { project_id: t.project, service_name: t.service, revision_name: t.revision, location: t.region, configuration_name: t.service } },
  };
}

export interface RequestLine {
  project: string; region: string; service: string; revision: string;
  method: string; url: string; status: number; latencyMs: number; userAgent?: string; remoteIp?: string; responseSize?: number;
}

/** One request a Cloud Run service served: log `run.googleapis.com/requests`, with `httpRequest`, as Cloud Run writes it. */
export function cloudRunRequestEntry(r: RequestLine): LogEntryInput {
  return {
    logName: `projects/${r.project}/logs/run.googleapis.com%2Frequests`,
    resource: { type: 'cloud_run_revision', labels: { project_id: r.project, service_name: r.service, revision_name: r.revision, location: r.region, configuration_name: r.service } },
    severity: r.status >= 500 ? 'ERROR' : r.status >= 400 ? 'WARNING' : 'INFO',
    extra: {
      httpRequest: {
        requestMethod: r.method, requestUrl: r.url, status: r.status, latency: `${(r.latencyMs / 1000).toFixed(6)}s`, protocol: 'HTTP/1.1',
        ...(r.userAgent ? { userAgent: r.userAgent } : {}), ...(r.remoteIp ? { remoteIp: r.remoteIp } : {}),
        ...(r.responseSize !== undefined ? { responseSize: String(r.responseSize) } : {}),
      },
    },
  };
}
