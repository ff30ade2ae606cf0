// A request's abort signal: aborted by its client going away or by Gantry stopping, and let go of by `stopping` once
// the request is over, so requests that asked for one leave nothing on Gantry's own signal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { getEventListeners } from 'node:events';
import { requestAbort, stoppingController } from '../../src/server/request-abort.js';

test('a request signal aborts with its client or with Gantry, and an ended one leaves nothing behind', () => {
  const stopping = stoppingController();
  const ended = Array.from({ length: 1000 }, () => requestAbort(stopping.signal));
  for (const r of ended) r.end();
  assert.equal(getEventListeners(stopping.signal, 'abort').length, 0);
  const gone = requestAbort(stopping.signal);
  gone.abort();
  assert.equal(gone.signal.aborted, true);
  const live = Array.from({ length: 20 }, () => requestAbort(stopping.signal));
  assert.equal(getEventListeners(stopping.signal, 'abort').length, 21);
  stopping.abort();
  assert.ok(live.every(r => r.signal.aborted));
  // Made once Gantry is stopping: aborted from the start.
  assert.equal(requestAbort(stopping.signal).signal.aborted, true);
});
