// TailLogEntries (gRPC streaming; `gcloud logging tail`): entries written after the call starts, of the named
// projects, matching the filter, sent in timestamp order once per buffer window. A client that stops reading, or a
// writer faster than the stream bound, costs dropped entries reported as `suppressionInfo`, never unbounded memory.
import { errors } from '../../google/errors.js';
import { parseDurationMs } from '../../google/time.js';
import type { StreamHandler } from '../../grpc/server.js';
import { matches, parseQuery } from './query.js';

type Obj = Record<string, unknown>;

/** Entries held for one stream between sends; past it they are counted as suppressed (RATE_LIMIT). */
const MAX_BUFFERED = 10_000;
const DEFAULT_WINDOW_MS = 2_000;
const MAX_WINDOW_MS = 60_000;
/** Sends no more often than this, even with a zero window. */
const MIN_TICK_MS = 50;

export interface TailSource {
  /** Project ids of `resource_names` (`projects/{id or number}`), or INVALID_ARGUMENT. */
  projects(resourceNames: string[]): string[];
  /** Calls `listener` with each stored batch of (project id, entry); returns the unsubscribe. */
  onAppend(listener: (rows: { project: string; entry: Obj }[]) => void): () => void;
}

export function tailLogEntries(source: TailSource): StreamHandler {
  return (req, send, signal) => {
    const projects = new Set(source.projects((req.resourceNames ?? []) as string[]));
    const query = parseQuery(req.filter as string | undefined);
    const raw = req.bufferWindow as string | undefined;
    const windowMs = raw === undefined ? DEFAULT_WINDOW_MS : parseDurationMs(raw);
    if (windowMs === undefined || windowMs < 0 || windowMs > MAX_WINDOW_MS) throw errors.invalidArgument(`buffer_window must be between 0 and ${MAX_WINDOW_MS / 1000}s, not "${String(raw).slice(0, 40)}".`, 'buffer_window');
    let buffered: Obj[] = [];
    const suppressed = { RATE_LIMIT: 0, NOT_CONSUMED: 0 };
    const stop = source.onAppend(rows => {
      for (const r of rows) {
        if (!projects.has(r.project) || !matches(query, r.entry)) continue;
        if (buffered.length >= MAX_BUFFERED) suppressed.RATE_LIMIT++;
        else buffered.push(r.entry);
      }
    });
    const tick = () => {
      const entries = buffered.sort((a, b) => (String(a.timestamp) < String(b.timestamp) ? -1 : String(a.timestamp) > String(b.timestamp) ? 1 : 0));
      buffered = [];
      const info = (Object.keys(suppressed) as (keyof typeof suppressed)[]).filter(k => suppressed[k]).map(k => ({ reason: k, suppressedCount: suppressed[k] }));
      if (!entries.length && !info.length) return;
      if (send({ ...(entries.length ? { entries } : {}), ...(info.length ? { suppressionInfo: info } : {}) })) {
        suppressed.RATE_LIMIT = suppressed.NOT_CONSUMED = 0;
      } else {
        suppressed.NOT_CONSUMED += entries.length;
      }
    };
    const timer = setInterval(tick, Math.max(MIN_TICK_MS, windowMs));
    return new Promise(resolve => {
      const end = () => { clearInterval(timer); stop(); resolve(); };
      if (signal.aborted) end();
      else signal.addEventListener('abort', end, { once: true });
    });
  };
}
