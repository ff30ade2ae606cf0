// The silence sweep: a connection closes after four sweeps in a row found it neither reading nor sending, counted from
// the first sweep after it was watched; writes piling up unsent behind a client that reads nothing are no activity.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { SilentSockets } from '../../src/server/silent-sockets.js';
import { fakeSocket as socket } from '../helpers/fake-socket.js';

// A bound no interval reaches within a test: the sweeps are the test's own calls.
const sweeps = () => new SilentSockets(1e9);

test('a connection silent for four sweeps after the first closes; activity starts the count again', () => {
  const s = sweeps();
  try {
    const a = socket(), b = socket();
    a.bytesRead = 100; b.bytesRead = 100;
    s.watch(a); s.watch(b);
    s.sweep(); // takes the counters: no quarter of the bound spent yet
    for (let i = 0; i < 3; i++) { s.sweep(); b.bytesRead += 10; }
    assert.ok(!a.destroyed && !b.destroyed);
    s.sweep();
    assert.ok(a.destroyed, 'silent for four sweeps');
    assert.ok(!b.destroyed, 'reading all along');
    // b falls silent: four sweeps more.
    for (let i = 0; i < 3; i++) s.sweep();
    assert.ok(!b.destroyed);
    s.sweep();
    assert.ok(b.destroyed);
    assert.equal(s.size, 0);
  } finally {
    s.stop();
  }
});

test('writes piling up behind a client that reads nothing are silence; writes completing are not', () => {
  const s = sweeps();
  try {
    const stuck = socket(), draining = socket();
    s.watch(stuck); s.watch(draining);
    s.sweep();
    for (let i = 0; i < 3; i++) {
      // stuck: each write is handed to the socket and stays in its buffer.
      stuck.bytesWritten += 10; stuck.writableLength += 10;
      // draining: its buffer empties as the client reads.
      draining.bytesWritten += 10;
      s.sweep();
    }
    stuck.bytesWritten += 10; stuck.writableLength += 10;
    draining.bytesWritten += 10;
    s.sweep();
    assert.ok(stuck.destroyed, 'unsent writes kept a silent connection open');
    assert.ok(!draining.destroyed);
  } finally {
    s.stop();
  }
});

test('a connection closed by its client is forgotten; after stop nothing is watched; a bound of 0 watches nothing', () => {
  const s = sweeps();
  const a = socket();
  s.watch(a);
  a.destroy();
  assert.equal(s.size, 0);
  s.stop();
  s.watch(socket());
  assert.equal(s.size, 0);
  const off = new SilentSockets(0);
  off.watch(socket());
  assert.equal(off.size, 0);
});
