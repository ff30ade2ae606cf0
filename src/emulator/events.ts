// Every state change of every resource, live: the store's change feed as server-sent events at /gantry/v1/events
// (filtered by project, kind and name prefix), the feed the console follows; with --log-level debug each change is
// logged too. Gantry's private records (names holding `~`, its own bookkeeping kinds) are not shown.
import type { ServerResponse } from 'node:http';
import type { Clock } from '../engine/clock.js';
import { ApiError } from '../google/errors.js';
import { projectParam } from './params.js';
import { queryString, type MethodSpec } from '../server/api.js';
import type { Logger } from '../server/log.js';
import type { Change, Store } from '../store/store.js';

export interface ResourceEvent {
  /** Increases by one per change this Gantry has seen since it started. */
  id: number;
  type: 'put' | 'delete';
  kind: string;
  name: string;
  time: string;
  /** The resource's `state` after the change, when it has one. */
  state?: string;
}

/** Most clients following the feed at once. */
const MAX_CLIENTS = 64;
/** A client that has this much unread is cut off (it reconnects and reads again). */
const MAX_BACKLOG_BYTES = 1024 * 1024;
const HEARTBEAT_MS = 15_000;

function isPrivate(c: Change): boolean {
  return c.name.includes('~') || c.kind.startsWith('gantry') || c.kind === 'meta';
}

export class EventFeed {
  private seq = 0;
  /** Each follower's send, and its response (ended when Gantry stops). */
  private clients = new Map<(e: ResourceEvent) => void, ServerResponse>();

  constructor(private store: Store, private clock: Clock, log: Logger) {
    const debug = log.level === 'debug';
    store.onChange(c => {
      if ((!this.clients.size && !debug) || isPrivate(c)) return;
      const e = this.event(c);
      if (debug) log.debug(`${e.type} ${e.kind} ${e.name}${e.state ? ` state=${e.state}` : ''}`);
      for (const send of this.clients.keys()) send(e);
    });
  }

  private event(c: Change): ResourceEvent {
    const e: ResourceEvent = { id: ++this.seq, type: c.op, kind: c.kind, name: c.name, time: new Date(this.clock.now()).toISOString() };
    if (c.op === 'put') {
      const state = this.store.getParsed<Record<string, unknown>>(c.name)?.state;
      if (typeof state === 'string') e.state = state;
    }
    return e;
  }

  /** The route: `project`, `kind` (repeatable) and `prefix` narrow the feed. */
  route(): MethodSpec {
    return {
      query: ['project', 'kind', 'prefix'],
      handler: req => {
        const project = projectParam(queryString(req, 'project'));
        const prefix = queryString(req, 'prefix') ?? '';
        const kinds = new Set(([] as string[]).concat(req.query.kind ?? []));
        // A follower reconnecting while Gantry stops would hold the server open: it is turned away instead.
        if (this.closed) throw new ApiError('UNAVAILABLE', 'Gantry is stopping.');
        if (this.clients.size >= MAX_CLIENTS) throw new ApiError('RESOURCE_EXHAUSTED', `At most ${MAX_CLIENTS} clients may follow the event feed at once.`);
        const wants = (e: ResourceEvent) => (!project || e.name.startsWith(`projects/${project}/`)) && (!kinds.size || kinds.has(e.kind)) && e.name.startsWith(prefix);
        return {
          body: undefined,
          headers: { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-store', 'x-accel-buffering': 'no' },
          stream: (res: ServerResponse) => this.follow(res, wants),
        };
      },
    };
  }

  private follow(res: ServerResponse, wants: (e: ResourceEvent) => boolean): void {
    res.socket?.setNoDelay(true);
    res.write(`retry: 1000\n: following ${this.seq}\n\n`);
    const send = (e: ResourceEvent) => {
      if (!wants(e)) return;
      if (res.writableLength > MAX_BACKLOG_BYTES) { stop(); res.destroy(); return; }
      res.write(`id: ${e.id}\nevent: ${e.type}\ndata: ${JSON.stringify(e)}\n\n`);
    };
    const heartbeat = setInterval(() => res.write(': heartbeat\n\n'), HEARTBEAT_MS);
    const stop = () => { clearInterval(heartbeat); this.clients.delete(send); };
    this.clients.set(send, res);
    res.on('close', stop);
  }

  private closed = false;

  /** Ends every stream (Gantry is stopping). */
  close(): void {
    this.closed = true;
    for (const res of this.clients.values()) res.end();
    this.clients.clear();
  }
}
