import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matchesSelector, parseLabelSelector, pinnedValue } from '../../src/google/label-selector.js';
import { ApiError } from '../../src/google/errors.js';

test('label selectors: the Kubernetes grammar, with the spaces gcloud sends', () => {
  const s = parseLabelSelector('run.googleapis.com/execution = my-job-abcde,run.googleapis.com/runningState in (Running, Failed)');
  assert.equal(pinnedValue(s, 'run.googleapis.com/execution'), 'my-job-abcde');
  assert.ok(matchesSelector(s, { 'run.googleapis.com/execution': 'my-job-abcde', 'run.googleapis.com/runningState': 'Failed' }));
  assert.ok(!matchesSelector(s, { 'run.googleapis.com/execution': 'my-job-abcde', 'run.googleapis.com/runningState': 'Succeeded' }));
  assert.ok(matchesSelector(parseLabelSelector('a==1,b!=2,!c,d,e notin (x)'), { a: '1', b: '3', d: '' }));
  assert.ok(!matchesSelector(parseLabelSelector('!c'), { c: 'x' }));
  assert.ok(matchesSelector(parseLabelSelector('b!=2'), {}), 'a missing key is not equal to anything');
  assert.ok(matchesSelector(parseLabelSelector(''), {}));
  assert.ok(matchesSelector(parseLabelSelector('a='), { a: '' }), 'an empty value is a value');
});

test('label selectors: malformed ones are INVALID_ARGUMENT naming the problem', () => {
  for (const bad of ['a=b=c', 'a in (b', 'a in b', ',', 'a,,b', 'UPPER.example.com/x=1', 'a=' + 'x'.repeat(64), 'a b c', 'a in ((b))', '-a', 'x'.repeat(5000)]) {
    assert.throws(() => parseLabelSelector(bad), (e: ApiError) => e.code === 'INVALID_ARGUMENT' && /Invalid label selector/.test(e.message), bad);
  }
});
