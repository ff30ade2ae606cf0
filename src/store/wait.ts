// Waiting on a stored resource (long-running operations' `:wait`): bounded by a timeout and by the caller.
import type { Store } from './store.js';

/**
 * Resolves with `read()` as soon as it is `done` (checked now and after every change of `name`), when `timeoutMs`
 * passes, or when `signal` aborts (the caller went away): whichever is first. Nothing is left listening after.
 */
export function waitForResource<T>(store: Store, name: string, read: () => T, done: (v: T) => boolean, timeoutMs: number, signal?: AbortSignal): Promise<T> {
  const first = read();
  if (done(first) || signal?.aborted) return Promise.resolve(first);
  return new Promise(resolve => {
    const end = () => { clearTimeout(timer); stop(); signal?.removeEventListener('abort', end); resolve(read()); };
    const timer = setTimeout(end, timeoutMs);
    const stop = store.onChange(c => { if (c.name === name && done(read())) end(); });
    signal?.addEventListener('abort', end);
  });
}
