// What a handler sees of a request that came over HTTP/1: the fields every transport gives, and a signal made only
// when a handler asks for it (the ones that wait: `:wait`, a log page), aborted when the client goes away before its
// answer or Gantry stops. Without it a wait whose client left would listen on to its timeout, and a client opening
// and dropping waits could pile them up.
import type { ServerResponse } from 'node:http';
import type { Params } from './router.js';
import type { ApiRequest, Query } from './api.js';
import { requestAbort } from './request-abort.js';

export class HttpApiRequest implements ApiRequest {
  private made?: AbortSignal;
  constructor(
    public method: string, public path: string, public params: Params, public query: Query,
    public headers: ApiRequest['headers'], public body: unknown, public enumInts: boolean,
    private readonly res: ServerResponse, private readonly stopping: AbortController,
  ) {}

  get signal(): AbortSignal { return this.made ??= abortedWhenGone(this.res, this.stopping.signal); }
}

/** Aborts when the connection closes before `res` was answered, or `stopping` aborts. */
function abortedWhenGone(res: ServerResponse, stopping: AbortSignal): AbortSignal {
  const r = requestAbort(stopping);
  // The socket's close, not only the response's: a pipelined request's response has no socket yet to hear it from.
  const socket = res.req.socket;
  const unanswered = () => { if (!res.writableFinished) r.abort(); };
  if (socket.destroyed) { unanswered(); r.end(); }
  else {
    socket.once('close', unanswered);
    // Answered (or closed): a keep-alive connection keeps no listener per request it served, nor does `stopping`.
    res.once('close', () => { socket.off('close', unanswered); unanswered(); r.end(); });
  }
  return r.signal;
}
