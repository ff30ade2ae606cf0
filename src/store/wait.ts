// Waiting on a stored resource (long-running operations' `:wait`): bounded by a timeout and by the caller.
import type { Store } from './store.js';
import { watchName } from './name-watch.js';

/**
 * The longest a wait lasts whatever its timeout asks. Google cuts a `:wait` timeout above its default HTTP/RPC timeout
 * to that timeout (google.longrunning.Operations.WaitOperation); here a wait must also answer before its HTTP/1
 * connection, silent meanwhile, is closed after 2 minutes (src/server/silent-sockets.ts).
 */
export const MAX_WAIT_MS = 100_000;

/**
 * Resolves with `read()` as soon as it is `done` (checked now and after every change of `name`), when `timeoutMs`
 * (at most `MAX_WAIT_MS`) passes, or when `signal` aborts (the caller went away): whichever is first. Nothing is left
 * listening after.
 */
export function waitForResource<T>(store: Store, name: string, read: () => T, done: (v: T) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  timeoutMs = Math.min(timeoutMs, MAX_WAIT_MS);
  const first = read();
  if (done(first) || signal?.aborted) return Promise.resolve(first);
  return new Promise(resolve => {
    const end = () => { clearTimeout(timer); stop(); signal?.removeEventListener('abort', end); resolve(read()); };
    const timer = setTimeout(end, timeoutMs);
    const stop = watchName(store, name, () => { if (done(read())) end(); });
    signal?.addEventListener('abort', end);
  });
}
