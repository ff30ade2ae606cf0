import { test } from 'node:test';
import assert from 'node:assert/strict';
import { stampEtag, withEtag, type Resource } from '../../src/google/standard-methods.js';

test('stampEtag answers the stored JSON of what withEtag stamps: the same etag over the content, bookkeeping aside', () => {
  const cases: Resource[] = [
    {},
    { name: 'a', n: 1, nested: { x: [1, 'two', null] } },
    { name: 'b', etag: 'stale', gantry: { internal: true } },
    { gantry: { only: 'bookkeeping' } },
    { name: 'quote"and\\slash', text: '\u2028 line' },
  ];
  for (const c of cases) {
    const a = structuredClone(c), b = structuredClone(c);
    const json = stampEtag(a);
    withEtag(b);
    assert.deepEqual(a, b, JSON.stringify(c));
    assert.deepEqual(JSON.parse(json), a, `the JSON is the resource: ${json}`);
    // Bookkeeping changes no etag; content does.
    const d = structuredClone(c);
    d.gantry = { other: 1 };
    stampEtag(d);
    assert.equal(d.etag, a.etag);
    const e = structuredClone(c);
    e.extra = 1;
    stampEtag(e);
    assert.notEqual(e.etag, a.etag);
  }
});
