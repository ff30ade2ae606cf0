// Live pages: one stream of Gantry's resource events (/gantry/v1/events, read with fetch so the token can go with
// it), and a hook that loads a page's data and loads it again whenever a resource under the page's names changes.
import { useEffect, useRef, useState, useCallback } from 'preact/hooks';
import { authHeaders } from './api.js';

export interface ResourceEvent { id: number; type: 'put' | 'delete'; kind: string; name: string; time: string; state?: string }

type Listener = (e: ResourceEvent) => void;
const listeners = new Set<Listener>();
const statusListeners = new Set<(s: FeedStatus) => void>();
export type FeedStatus = 'connecting' | 'live' | 'reconnecting';
let status: FeedStatus = 'connecting';
let started = false;

function setStatus(s: FeedStatus): void {
  status = s;
  for (const l of statusListeners) l(s);
}

/** Reads the event stream for as long as the page is open, reconnecting with back-off when it drops. */
async function follow(): Promise<void> {
  let delay = 500;
  for (;;) {
    try {
      const r = await fetch('/gantry/v1/events', { headers: { ...authHeaders(), accept: 'text/event-stream' }, cache: 'no-store' });
      if (!r.ok || !r.body) throw new Error(`HTTP ${r.status}`);
      setStatus('live');
      delay = 500;
      const reader = r.body.pipeThrough(new TextDecoderStream()).getReader();
      let buf = '';
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buf += value;
        let end: number;
        while ((end = buf.indexOf('\n\n')) >= 0) {
          const block = buf.slice(0, end);
          buf = buf.slice(end + 2);
          const data = block.split('\n').filter(l => l.startsWith('data: ')).map(l => l.slice(6)).join('\n');
          if (data) {
            const e = JSON.parse(data) as ResourceEvent;
            for (const l of listeners) l(e);
          }
        }
      }
    } catch { /* reconnect below */ }
    setStatus('reconnecting');
    await new Promise(r => setTimeout(r, delay));
    delay = Math.min(delay * 2, 5000);
  }
}

function start(): void {
  if (!started) { started = true; void follow(); }
}

export function onEvent(l: Listener): () => void {
  start();
  listeners.add(l);
  return () => listeners.delete(l);
}

export function useFeedStatus(): FeedStatus {
  const [s, set] = useState(status);
  useEffect(() => { start(); statusListeners.add(set); set(status); return () => { statusListeners.delete(set); }; }, []);
  return s;
}

export interface Loaded<T> { data?: T; error?: string; loading: boolean; reload: () => void }

/**
 * `load()`'s result, loaded again (at most every 150 ms) when a resource whose name starts with one of `prefixes`
 * changes; the last result stays on screen while the next loads.
 */
export function useLive<T>(load: () => Promise<T>, prefixes: string[], deps: unknown[]): Loaded<T> {
  const [state, setState] = useState<{ data?: T; error?: string; loading: boolean }>({ loading: true });
  const gen = useRef(0);
  // One load at a time: changes that arrive while one runs ask for one more after it, never a pile of loads.
  const flight = useRef<{ busy: boolean; again: boolean }>({ busy: false, again: false });
  const run = useCallback(() => {
    const f = flight.current;
    if (f.busy) { f.again = true; return; }
    f.busy = true;
    const mine = ++gen.current;
    const settle = () => {
      f.busy = false;
      if (f.again && mine === gen.current) { f.again = false; run(); }
    };
    load().then(
      data => { if (mine === gen.current) setState({ data, loading: false }); settle(); },
      (e: Error) => { if (mine === gen.current) setState(s => ({ data: s.data, error: e.message, loading: false })); settle(); },
    );
  }, deps);
  useEffect(() => {
    setState({ loading: true });
    run();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const off = onEvent(e => {
      if (timer || !prefixes.some(p => e.name.startsWith(p))) return;
      timer = setTimeout(() => { timer = undefined; run(); }, 150);
    });
    return () => { off(); if (timer) clearTimeout(timer); gen.current++; flight.current = { busy: false, again: false }; };
  }, deps);
  return { ...state, reload: run };
}
