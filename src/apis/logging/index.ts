// Cloud Logging v2 (subset): the log entries of Cloud Run tasks and Cloud Deploy job runs. PLACEHOLDER: being written.
import type { App } from '../../server/app.js';
import type { BaseContext } from '../../google/context.js';

/** A log entry as another API writes it (google.logging.v2.LogEntry fields). */
export interface LogEntryInput {
  /** `projects/{projectId}/logs/{url-encoded log id}`, e.g. `projects/p/logs/run.googleapis.com%2Fstdout`. */
  logName: string;
  resource: { type: string; labels: Record<string, string> };
  /** RFC 3339; the clock's now when absent. */
  timestamp?: string;
  severity?: string;
  textPayload?: string;
  jsonPayload?: Record<string, unknown>;
  labels?: Record<string, string>;
}

export interface LogWriter {
  write(entries: LogEntryInput[]): void;
}

export function registerLogging(_app: App, _base: BaseContext, _opts: { dataDir: string }): LogWriter {
  return { write: () => undefined };
}
