// Waits on a stored resource: done at once, on a change, at the timeout, at most MAX_WAIT_MS whatever the timeout asks
// (Google cuts a wait to its RPC timeout), and when the caller goes away; nothing is left listening.
import { test, mock } from 'node:test';
import assert from 'node:assert/strict';
import type { Store } from '../../src/store/store.js';
import { MAX_WAIT_MS, waitForResource } from '../../src/store/wait.js';
import { watchCount } from '../../src/store/name-watch.js';

function fakeStore() {
  const listeners = new Set<(c: { name: string }) => void>();
  const store = { onChange: (l: (c: { name: string }) => void) => { listeners.add(l); return () => listeners.delete(l); } } as unknown as Store;
  return { store, listeners, change: (name: string) => { for (const l of [...listeners]) l({ name }); } };
}

test('a wait ends when the resource is done, at its timeout, or at MAX_WAIT_MS, whichever comes first', async () => {
  mock.timers.enable({ apis: ['setTimeout'] });
  try {
    const { store, change } = fakeStore();
    let state = 'RUNNING';
    const read = () => state;
    const done = (s: string) => s === 'DONE';

    // Done on a change of the resource.
    const a = waitForResource(store, 'op', read, done, 5_000);
    change('other');
    state = 'DONE';
    change('op');
    assert.equal(await a, 'DONE');
    assert.equal(watchCount(store), 0);

    // At its own timeout, answering the resource as it is.
    state = 'RUNNING';
    const b = waitForResource(store, 'op', read, done, 5_000);
    mock.timers.tick(4_999);
    let settled = false;
    void b.then(() => { settled = true; });
    await Promise.resolve();
    assert.equal(settled, false);
    mock.timers.tick(1);
    assert.equal(await b, 'RUNNING');
    assert.equal(watchCount(store), 0);

    // A timeout of an hour is cut to MAX_WAIT_MS.
    const c = waitForResource(store, 'op', read, done, 3_600_000);
    mock.timers.tick(MAX_WAIT_MS);
    assert.equal(await c, 'RUNNING');
    assert.equal(watchCount(store), 0);
    assert.ok(MAX_WAIT_MS < 120_000, 'a wait answers before a silent connection is closed');

    // The caller going away ends it too.
    const abort = new AbortController();
    const d = waitForResource(store, 'op', read, done, 60_000, abort.signal);
    abort.abort();
    assert.equal(await d, 'RUNNING');
    assert.equal(watchCount(store), 0);
  } finally {
    mock.timers.reset();
  }
});
