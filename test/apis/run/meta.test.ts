// Cloud Run v1's write timestamps and resourceVersions: microseconds, strictly increasing, and a resourceVersion that
// decodes to the microseconds of its timestamp.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { RealClock, VirtualClock } from '../../../src/engine/clock.js';
import { nowMicros, resourceVersion, resourceVersionMicros } from '../../../src/apis/run/meta.js';

test('nowMicros: RFC 3339 with six digits, strictly increasing while the clock stands still', () => {
  const clock = new VirtualClock(Date.parse('2026-03-04T05:06:07.891Z'));
  const seen: string[] = [];
  for (let i = 0; i < 2000; i++) seen.push(nowMicros(clock));
  for (const t of seen) assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
  for (let i = 1; i < seen.length; i++) assert.ok(seen[i] > seen[i - 1], `${seen[i]} after ${seen[i - 1]}`);
  assert.ok(seen[0].startsWith('2026-03-04T05:06:07.891'), seen[0]);
  // Past the millisecond: 2,000 writes in one virtual instant carry into the next.
  assert.equal(seen.at(-1), '2026-03-04T05:06:07.892999Z');
});

test('resourceVersion: eight big-endian bytes of the epoch microseconds, base64url', () => {
  for (const t of ['1970-01-01T00:00:00.000001Z', '2026-12-07T20:30:01.123456Z', '2262-04-11T23:47:16.854775Z', '2099-12-31T23:59:59.999999Z']) {
    const us = BigInt(Date.parse(t.slice(0, 23) + 'Z')) * 1000n + BigInt(t.slice(23, 26));
    const b = Buffer.alloc(8);
    b.writeBigUInt64BE(us);
    assert.equal(resourceVersion(t), b.toString('base64url'), t);
    assert.equal(resourceVersionMicros(resourceVersion(t)), us.toString(), t);
  }
});

test('nowMicros on the real clock: its own timestamps cut to microseconds, increasing', () => {
  const clock = new RealClock();
  let last = '';
  for (let i = 0; i < 5000; i++) {
    const t = nowMicros(clock);
    assert.match(t, /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$/);
    assert.ok(t > last, `${t} after ${last}`);
    last = t;
  }
  assert.ok(Math.abs(Date.parse(last) - Date.now()) < 1000);
});

// Last: the module remembers its latest timestamp for every clock, and this one is far ahead.
test('nowMicros past 2255 (a virtual clock set far ahead) stays exact and increasing', () => {
  const clock = new VirtualClock(Date.parse('2300-01-01T00:00:00.000Z'));
  const a = nowMicros(clock), b = nowMicros(clock);
  assert.equal(a, '2300-01-01T00:00:00.000000Z');
  assert.equal(b, '2300-01-01T00:00:00.000001Z');
  assert.equal(resourceVersionMicros(resourceVersion(b)), (BigInt(Date.parse('2300-01-01T00:00:00Z')) * 1000n + 1n).toString());
});
