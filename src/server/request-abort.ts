// The abort signal of one request, for the handlers that wait (`:wait`, a log scan, a tail): aborted when its client
// goes away (the transport calls `abort`) or when Gantry stops. Made by hand, not with AbortSignal.any: on Node 20
// every signal `any` makes stays listed on its sources, so one per request would pile up on Gantry's own `stopping`
// signal for as long as it runs.
import { setMaxListeners } from 'node:events';

export interface RequestAbort {
  signal: AbortSignal;
  /** The client went away. */
  abort(): void;
  /** The request is over: `stopping` no longer holds it. */
  end(): void;
}

export function requestAbort(stopping: AbortSignal): RequestAbort {
  const ac = new AbortController();
  const onStop = () => ac.abort();
  if (stopping.aborted) ac.abort();
  else stopping.addEventListener('abort', onStop, { once: true });
  return { signal: ac.signal, abort: () => ac.abort(), end: () => stopping.removeEventListener('abort', onStop) };
}

/** Gantry's own `stopping` signal: one listener per request in flight that asked for a signal, so no warning at 10. */
export function stoppingController(): AbortController {
  const ac = new AbortController();
  setMaxListeners(0, ac.signal);
  return ac;
}
