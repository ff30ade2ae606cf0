// Connection slots: a connection with a request in flight (its answer not yet all taken by the socket) is never the
// one that makes room at the cap; one whose answer went out whole is idle again at once.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { ServerResponse } from 'node:http';
import { ConnectionSlots } from '../../src/server/slots.js';
import { fakeSocket as socket } from '../helpers/fake-socket.js';

const response = (finished: boolean) => Object.assign(new EventEmitter(), { writableFinished: finished }) as unknown as ServerResponse & { writableFinished: boolean };

test('an answer the socket took whole frees its slot at once; one still going frees it when the response closes', () => {
  const slots = new ConnectionSlots(2);
  const [a, b] = [socket(), socket()];
  assert.ok(slots.admit(a) && slots.admit(b));
  // a: a request answered whole; b: a request whose answer the socket has not taken yet (a client not reading).
  const ra = response(true), rb = response(false);
  slots.served(slots.request(a), ra);
  slots.served(slots.request(b), rb);
  // At the cap a newcomer takes the slot of the idle one (a), never the one with its answer in flight (b).
  const c = socket();
  assert.ok(slots.admit(c));
  assert.ok(a.destroyed && !b.destroyed);
  // Still in flight: with every other slot busy too, a newcomer is refused rather than b cut.
  const rc = response(false);
  slots.served(slots.request(c), rc);
  const d = socket();
  assert.equal(slots.admit(d), false);
  assert.ok(d.destroyed && !b.destroyed);
  // b's answer is done: b is idle again, and makes room for the next one.
  rb.emit('close');
  const e = socket();
  assert.ok(slots.admit(e));
  assert.ok(b.destroyed);
  assert.equal(slots.evicted, 2);
});

test('a response closing twice frees its slot once; a request on a connection without a slot (a tunnel) is let be', () => {
  const slots = new ConnectionSlots(1);
  const a = socket();
  slots.admit(a);
  const r1 = response(false);
  slots.served(slots.request(a), r1);
  const r2 = response(true);
  slots.served(slots.request(a), r2);
  slots.served(undefined, r2);
  // r1 still holds the connection busy: no room.
  assert.equal(slots.admit(socket()), false);
  r1.emit('close'); r1.emit('close');
  assert.ok(slots.admit(socket()));
  assert.ok(a.destroyed);
});
