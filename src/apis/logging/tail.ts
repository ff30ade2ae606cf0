// TailLogEntries (gRPC streaming; `gcloud logging tail`): entries written after the call starts, of the named
// projects, matching the filter, sent in timestamp order once per buffer window.
//
// Bounded: at most 10 open tails per project (Cloud Logging's documented quota) and 1,000 in all; a tail holds at
// most 10,000 entries and 8 MiB between sends, and all tails together 64 MiB. An entry is matched once against its
// lowered text however many tails read it, and encoded once into the reply frame every tail that takes it shares
// (held frames are counted once). Replies are split under the 4 MiB a gRPC client receives by default. A client that
// stops reading keeps what its bound holds; beyond it, like a writer faster than the bound, entries are dropped and
// reported as `suppressionInfo` (NOT_CONSUMED, RATE_LIMIT), never held in unbounded memory.
import { ApiError, errorInfo, errors } from '../../google/errors.js';
import { parseDurationMs } from '../../google/time.js';
import { MAX_STREAM_MESSAGE_BYTES, type StreamHandler } from '../../grpc/streams.js';
import { matches, parseQuery, Subject } from './query.js';

type Obj = Record<string, unknown>;

/** Open tails a project may have (Cloud Logging: "Number of open live-tailing sessions: 10 per project"). */
export const MAX_TAILS_PER_PROJECT = 10;
/** Open tails in all (Gantry's bound). */
export const MAX_TAILS = 1_000;
/** Entries held for one stream between sends; past it they are counted as suppressed. */
const MAX_BUFFERED = 10_000;
/** Bytes of reply frames held for one stream between sends... */
const MAX_HELD_BYTES = 8 * 1024 * 1024;
/** ...and for all streams together (a frame several streams hold counts once). */
const MAX_HELD_ALL_BYTES = 64 * 1024 * 1024;
const DEFAULT_WINDOW_MS = 2_000;
const MAX_WINDOW_MS = 60_000;
/** Sends no more often than this, even with a zero window. */
const MIN_TICK_MS = 50;
/** Largest entry frame a reply carries, with room left for its suppressionInfo (a larger one is suppressed). */
const MAX_FRAME_BYTES = MAX_STREAM_MESSAGE_BYTES - 1024;

export interface TailSource {
  /** Project ids of `resource_names` (`projects/{id or number}`), or INVALID_ARGUMENT. */
  projects(resourceNames: string[]): string[];
  /** Calls `listener` with each stored batch of (project id, entry); returns the unsubscribe. */
  onAppend(listener: (rows: { project: string; entry: Obj }[]) => void): () => void;
}

/** An entry encoded as one `entries` element of a reply, shared by the tails that hold it. */
interface Frame { bytes: Buffer; timestamp: string; holders: number }

export function tailLogEntries(source: TailSource): StreamHandler {
  const open = new Map<string, number>();
  let openAll = 0;
  let heldAll = 0;
  // Per stored entry, while it is being fanned out: its prepared text and its frame (weak: gone with the entry).
  const subjects = new WeakMap<Obj, Subject>();
  const frames = new WeakMap<Obj, Frame>();
  const take = (f: Frame) => { if (f.holders++ === 0) heldAll += f.bytes.length; };
  const release = (f: Frame) => { if (--f.holders === 0) heldAll -= f.bytes.length; };

  return (req, out, signal) => {
    const projects = [...new Set(source.projects((req.resourceNames ?? []) as string[]))];
    const query = parseQuery(req.filter as string | undefined);
    const raw = req.bufferWindow as string | undefined;
    const windowMs = raw === undefined ? DEFAULT_WINDOW_MS : parseDurationMs(raw);
    if (windowMs === undefined || windowMs < 0 || windowMs > MAX_WINDOW_MS) throw errors.invalidArgument(`buffer_window must be between 0 and ${MAX_WINDOW_MS / 1000}s, not "${String(raw).slice(0, 40)}".`, 'buffer_window');
    const full = projects.find(p => (open.get(p) ?? 0) >= MAX_TAILS_PER_PROJECT);
    if (full !== undefined || openAll >= MAX_TAILS) {
      throw new ApiError('RESOURCE_EXHAUSTED', full !== undefined
        ? `Quota exceeded: project ${full} has ${MAX_TAILS_PER_PROJECT} open live-tailing sessions, the most allowed; end one and try again.`
        : `Gantry has ${MAX_TAILS} open live-tailing sessions, the most it holds; end one and try again.`,
      [errorInfo('RATE_LIMIT_EXCEEDED', 'logging.googleapis.com', { quota_limit: full !== undefined ? 'TailLogEntriesSessionsPerProject' : 'GantryTailSessions' })]);
    }
    for (const p of projects) open.set(p, (open.get(p) ?? 0) + 1);
    openAll++;
    const mine = new Set(projects);

    let held: Frame[] = [];
    let heldBytes = 0;
    /** The last send was refused: the client is not reading. */
    let blocked = false;
    const suppressed = { RATE_LIMIT: 0, NOT_CONSUMED: 0 };
    const stop = source.onAppend(rows => {
      for (const r of rows) {
        if (!mine.has(r.project)) continue;
        let s = subjects.get(r.entry);
        if (!s) subjects.set(r.entry, (s = new Subject(r.entry)));
        if (!matches(query, s)) continue;
        let f = frames.get(r.entry);
        if (!f) frames.set(r.entry, (f = { bytes: out.encode({ entries: [r.entry] }), timestamp: String(r.entry.timestamp), holders: 0 }));
        const fits = held.length < MAX_BUFFERED && heldBytes + f.bytes.length <= MAX_HELD_BYTES && f.bytes.length <= MAX_FRAME_BYTES
          && (f.holders > 0 || heldAll + f.bytes.length <= MAX_HELD_ALL_BYTES);
        if (!fits) { suppressed[blocked ? 'NOT_CONSUMED' : 'RATE_LIMIT']++; continue; }
        take(f);
        held.push(f);
        heldBytes += f.bytes.length;
      }
    });

    /** Sends what is held, oldest first, in replies under the message bound; what a full client refuses stays held. */
    const tick = () => {
      const info = (Object.keys(suppressed) as (keyof typeof suppressed)[]).filter(k => suppressed[k]).map(k => ({ reason: k, suppressedCount: suppressed[k] }));
      if (!held.length && !info.length) return;
      held.sort((a, b) => (a.timestamp < b.timestamp ? -1 : a.timestamp > b.timestamp ? 1 : 0));
      let head = info.length ? out.encode({ suppressionInfo: info }) : undefined;
      let i = 0;
      while (i < held.length || head) {
        const parts: Buffer[] = head ? [head] : [];
        let size = head?.length ?? 0, j = i;
        while (j < held.length && size + held[j].bytes.length <= MAX_STREAM_MESSAGE_BYTES) size += held[j++].bytes.length;
        for (let k = i; k < j; k++) parts.push(held[k].bytes);
        if (!parts.length) break; // never: a held frame fits a reply (MAX_FRAME_BYTES)
        if (!out.send(parts.length === 1 ? parts[0] : Buffer.concat(parts, size))) { blocked = true; break; }
        blocked = false;
        if (head) { suppressed.RATE_LIMIT = suppressed.NOT_CONSUMED = 0; head = undefined; }
        for (let k = i; k < j; k++) { heldBytes -= held[k].bytes.length; release(held[k]); }
        i = j;
      }
      held = held.slice(i);
    };
    const timer = setInterval(tick, Math.max(MIN_TICK_MS, windowMs));
    return new Promise(resolve => {
      const end = () => {
        clearInterval(timer);
        stop();
        for (const f of held) release(f);
        held = [];
        for (const p of projects) { const n = (open.get(p) ?? 1) - 1; if (n) open.set(p, n); else open.delete(p); }
        openAll--;
        resolve();
      };
      if (signal.aborted) end();
      else signal.addEventListener('abort', end, { once: true });
    });
  };
}
