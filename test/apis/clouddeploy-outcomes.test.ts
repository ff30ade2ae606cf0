import { test } from 'node:test';
import assert from 'node:assert/strict';
import { decide, parseOutcomes } from '../../src/apis/clouddeploy/outcomes.js';

test('rules parse with modifiers in either order', () => {
  assert.deepEqual(parseOutcomes('stable/deploy=succeed~30s@1'), [{ match: ['stable', 'deploy'], outcome: 'succeed', detail: undefined, attempts: 1, durationMs: 30_000 }]);
  assert.deepEqual(parseOutcomes('stable/deploy=succeed@1~30s'), parseOutcomes('stable/deploy=succeed~30s@1'));
  assert.equal(parseOutcomes('*/verify=fail:DEADLINE_EXCEEDED; canary-25/*=skip').length, 2);
});

test('bad rules are INVALID_ARGUMENT naming the rule', () => {
  for (const bad of ['stable=fail', 'stable/deploy=explode', 'stable/nope=fail', 'stable/verify=fail:NOT_A_CAUSE', 'stable/deploy=succeed:EXECUTION_FAILED', 'stable/deploy=fail@1@2', 'stable/deploy=fail~xs']) {
    assert.throws(() => parseOutcomes(bad), (e: { code: string; message: string }) => e.code === 'INVALID_ARGUMENT' && e.message.includes('Outcome rule'), bad);
  }
});

test('the first matching rule wins; @N limits it to the first N attempts', () => {
  const sets = [parseOutcomes('stable/verify=fail@2'), parseOutcomes('*/*=succeed~5s')];
  assert.deepEqual(decide(sets, 'stable', 'verify', 1, 100, 3_600_000), { outcome: 'fail', cause: 'EXECUTION_FAILED', durationMs: 100 });
  assert.equal(decide(sets, 'stable', 'verify', 2, 100, 3_600_000).outcome, 'fail');
  assert.deepEqual(decide(sets, 'stable', 'verify', 3, 100, 3_600_000), { outcome: 'succeed', cause: undefined, durationMs: 5000 });
  assert.deepEqual(decide([], 'stable', 'deploy', 1, 100, 3_600_000), { outcome: 'succeed', durationMs: 100 });
});

test('hang runs until the execution timeout and fails DEADLINE_EXCEEDED', () => {
  assert.deepEqual(decide([parseOutcomes('*/verify=hang@1')], 'stable', 'verify', 1, 100, 900_000),
    { outcome: 'fail', cause: 'DEADLINE_EXCEEDED', message: 'The verify job did not finish within its execution timeout of 900s.', durationMs: 900_000 });
  assert.equal(decide([parseOutcomes('*/verify=hang@1')], 'stable', 'verify', 2, 100, 900_000).outcome, 'succeed');
  assert.throws(() => parseOutcomes('*/verify=hang"msg"'), /only fail takes a message/);
});
