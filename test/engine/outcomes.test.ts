// The outcome rule language's messages: quoted JSON strings that may hold the separators, for failures only.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parseRules } from '../../src/engine/outcomes.js';
import { ApiError } from '../../src/google/errors.js';
import { DEPLOY_RULES } from '../../src/apis/clouddeploy/outcomes.js';
import { TASK_RULES } from '../../src/apis/run/attempts.js';

test('a failure may say what it reports; commas, semicolons and escaped quotes inside the message are the message\'s', () => {
  const rules = parseRules('stable/verify=fail:EXECUTION_FAILED"3 of 40 checks failed; see \\"report\\", page 2"@1~30s, */deploy=succeed', DEPLOY_RULES, 'rules');
  assert.equal(rules.length, 2);
  assert.deepEqual(rules[0], { match: ['stable', 'verify'], outcome: 'fail', detail: 'EXECUTION_FAILED', attempts: 1, durationMs: 30_000, message: '3 of 40 checks failed; see "report", page 2' });
  assert.equal(rules[1].message, undefined);
  assert.equal(parseRules('2=fail:137"killed: out of memory"', TASK_RULES, 'rules')[0].message, 'killed: out of memory');
});

test('messages are for failures, JSON strings, printable and bounded', () => {
  for (const [text, re] of [
    ['*/verify=succeed"fine"', /only fail takes a message/],
    ['*/verify=fail""', /1 to 500 printable/],
    [`*/verify=fail"${'x'.repeat(501)}"`, /1 to 500 printable/],
    ['*/verify=fail"a\\u0000b"', /printable/],
    ['*/verify=fail"unclosed', /is invalid/],
    ['*/verify=fail"bad \\q escape"', /JSON string/],
  ] as const) {
    assert.throws(() => parseRules(text, DEPLOY_RULES, 'rules'), (e: unknown) => e instanceof ApiError && re.test(e.message), text);
  }
});
