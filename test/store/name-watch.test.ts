// Watching one name: a change reaches only its own name's listeners, through one subscription to the store, and a
// stopped listener is gone (once, whatever the order of stops, even from inside a change).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Change, Store } from '../../src/store/store.js';
import { watchCount, watchName } from '../../src/store/name-watch.js';

function fakeStore() {
  const listeners: ((c: Change) => void)[] = [];
  const store = { onChange: (l: (c: Change) => void) => { listeners.push(l); return () => undefined; } } as unknown as Store;
  const change = (name: string) => { for (const l of listeners) l({ kind: 'k', name, op: 'put' }); };
  return { store, listeners, change };
}

test('a change reaches the listeners of its name only, through one subscription to the store', () => {
  const { store, listeners, change } = fakeStore();
  const heard: string[] = [];
  const stops = Array.from({ length: 1000 }, (_, i) => watchName(store, `n${i % 10}`, c => heard.push(`${i}:${c.name}`)));
  assert.equal(listeners.length, 1);
  assert.equal(watchCount(store), 1000);
  change('n3');
  assert.equal(heard.length, 100);
  assert.ok(heard.every(h => h.endsWith(':n3')));
  change('other');
  assert.equal(heard.length, 100);
  for (const stop of stops) { stop(); stop(); }
  assert.equal(watchCount(store), 0);
  change('n3');
  assert.equal(heard.length, 100);
  // A second store has its own listeners.
  const other = fakeStore();
  watchName(other.store, 'n3', () => heard.push('other'));
  change('n3');
  assert.equal(heard.length, 100);
  other.change('n3');
  assert.deepEqual(heard.slice(100), ['other']);
});

test('listeners that stop themselves or another while a change runs', () => {
  const { store, change } = fakeStore();
  const heard: string[] = [];
  const stopB = watchName(store, 'x', () => heard.push('b'));
  const stopA: () => void = watchName(store, 'x', () => { heard.push('a'); stopA(); stopB(); });
  const stopC = watchName(store, 'x', () => { heard.push('c'); stopC(); });
  change('x');
  // b ran before a stopped it; a and c stopped themselves.
  assert.deepEqual(heard, ['b', 'a', 'c']);
  assert.equal(watchCount(store), 0);
  change('x');
  assert.equal(heard.length, 3);
  // Watching again after every listener of the name went.
  const stopD = watchName(store, 'x', () => heard.push('d'));
  change('x');
  assert.deepEqual(heard.slice(3), ['d']);
  stopD();
  assert.equal(watchCount(store), 0);
});
