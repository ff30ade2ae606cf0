// Text a request may carry and text a store writes: U+0000 and unpaired surrogates are refused in requests (naming
// where), and made U+FFFD in what the server writes itself, with every other text left exactly as it was.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkRequestText, storableJson, storableText } from '../../src/google/text.js';

test('storable text: no U+0000, no half of a surrogate pair; pairs, other controls and escapes are fine', () => {
  for (const ok of ['', 'plain', 'emoji 😀', '\u0001\t\n', '\\u0000 as six characters', 'ÿ']) assert.equal(storableText(ok), true, JSON.stringify(ok));
  for (const bad of ['a\u0000b', '\ud800', 'x\udc00', '\ude00\ud83d', '😀'.slice(0, 1)]) assert.equal(storableText(bad), false, JSON.stringify(bad));
});

test('a request\'s text is refused with the path of the first bad string, keys included', () => {
  checkRequestText({ a: ['x', { b: '😀' }], n: 1, t: true, z: null });
  const where = (v: unknown, at = '') => { try { checkRequestText(v, at); return 'accepted'; } catch (e) { return (e as { details?: { fieldViolations?: { field: string }[] }[] }).details?.find(d => d.fieldViolations)?.fieldViolations?.[0]?.field ?? (e as Error).message; } };
  assert.equal(where({ template: { containers: [{ image: 'ok' }, { image: 'a\u0000' }] } }), 'template.containers[1].image');
  assert.equal(where({ labels: { ['k\ud800']: 'v' } }), 'labels.k\ud800');
  assert.equal(where(['\udfff'], 'filter'), 'filter[0]');
  assert.throws(() => checkRequestText('a\u0000', 'filter'), /INVALID_ARGUMENT|Invalid JSON payload received\. Invalid string at 'filter'/);
});

test('what a store writes: bad strings made U+FFFD, every other JSON text returned as it is', () => {
  const same = ['{"a":"plain"}', '{"a":"\\u0001 and \\\\u0000 as text"}', '{"a":"😀","b":[1,2.5,"x"]}', '{"a":"\\\\\\\\ud800"}'];
  for (const j of same) assert.equal(storableJson(j), j);
  assert.equal(storableJson(JSON.stringify({ m: 'boom \u0000 \ud800 here', keep: '😀', n: 3, z: { y: ['\udc00'] } })), JSON.stringify({ m: 'boom \ufffd \ufffd here', keep: '😀', n: 3, z: { y: ['\ufffd'] } }));
  // Keys too, and a `__proto__` key stays a key.
  assert.equal(storableJson('{"k\\u0000":{"__proto__":"\\ud800"}}'), '{"k\ufffd":{"__proto__":"\ufffd"}}');
  // An escaped backslash followed by "u0000" is text, not U+0000.
  const literal = JSON.stringify({ m: '\\u0000 and \\ud800' });
  assert.equal(storableJson(literal), literal);
  assert.deepEqual(JSON.parse(storableJson(literal)), { m: '\\u0000 and \\ud800' });
});
