import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, MAX_FILTER_DEPTH, MAX_FILTER_LENGTH, parseFilter, wildcardMatch } from '../../src/google/filter.js';
import { MAX_ORDER_BY_LENGTH, MAX_ORDER_KEYS, parseOrderBy } from '../../src/google/order.js';
import { ApiError } from '../../src/google/errors.js';
import { schema } from '../../src/apis/clouddeploy/service.js';

const rollouts = [
  { name: 'a', targetId: 'prod', state: 'SUCCEEDED', approvalState: 'APPROVED', deployEndTime: '2026-01-02T00:00:00.000000001Z', labels: { env: 'prod' } },
  { name: 'b', targetId: 'prod', state: 'PENDING_APPROVAL', approvalState: 'NEEDS_APPROVAL' },
  { name: 'c', targetId: 'dev', state: 'SUCCEEDED', approvalState: 'DOES_NOT_NEED_APPROVAL', deployEndTime: '2026-01-01T00:00:00Z', phases: [{ id: 'stable', jobs: [] }] },
];
const match = (f: string) => rollouts.filter(r => evaluate(parseFilter(schema, 'Rollout', f)!, r, schema)).map(r => r.name);

test('the filters gcloud sends', () => {
  assert.deepEqual(match('approvalState="NEEDS_APPROVAL" AND state="PENDING_APPROVAL" AND targetId="prod"'), ['b']);
  assert.deepEqual(match('(approvalState!="REJECTED" AND approvalState!="NEEDS_APPROVAL") AND state="SUCCEEDED" AND targetId="prod"'), ['a']);
  assert.deepEqual(match('targetId="prod"'), ['a', 'b']);
});

test('OR binds tighter than AND, NOT and - negate, juxtaposition is AND', () => {
  assert.deepEqual(match('targetId="dev" OR targetId="prod" AND state="SUCCEEDED"'), ['a', 'c']);
  assert.deepEqual(match('NOT targetId="prod"'), ['c']);
  assert.deepEqual(match('-targetId="prod"'), ['c']);
  assert.deepEqual(match('targetId="prod" state="SUCCEEDED"'), ['a']);
});

test('has, wildcards, maps, repeated fields, presence', () => {
  assert.deepEqual(match('labels:env'), ['a']);
  assert.deepEqual(match('labels.env="prod"'), ['a']);
  assert.deepEqual(match('targetId="pr*"'), ['a', 'b']);
  assert.deepEqual(match('phases.id:"stable"'), ['c']);
  assert.deepEqual(match('deployEndTime:*'), ['a', 'c']);
});

test('timestamps compare as instants, enums by value, names in any case', () => {
  assert.deepEqual(match('deployEndTime > "2026-01-01T12:00:00Z"'), ['a']);
  assert.deepEqual(match('deployEndTime >= "2026-01-01T00:00:00.000Z"'), ['a', 'c']);
  assert.deepEqual(match('DeployEndTime < "2026-01-01T00:00:01+00:00"'), ['c']);
  assert.deepEqual(match('STATE = SUCCEEDED'), ['a', 'c']);
  assert.deepEqual(match('approval_state = 1'), ['b']);
});

test('bad filters are INVALID_ARGUMENT', () => {
  for (const f of ['state=', 'state="NOPE"', 'nosuch="x"', '(state="SUCCEEDED"', 'state="a" AND', '"bare"', 'deployEndTime > "yesterday"']) {
    assert.throws(() => parseFilter(schema, 'Rollout', f), (e: { code: string }) => e.code === 'INVALID_ARGUMENT', f);
  }
});

// The RegExp the wildcard matcher used to compile: the reference semantics, safe on these tiny inputs.
const reference = (pattern: string, value: string) =>
  new RegExp('^' + pattern.split('*').map(p => p.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')).join('.*') + '$', 's').test(value);

test('wildcards match the whole value, case-sensitively, * being any run (also none)', () => {
  const table: [string, string, boolean][] = [
    ['*', '', true], ['*', 'abc', true], ['**', '', true], ['a*', 'abc', true], ['a*', 'bac', false], ['*c', 'abc', true],
    ['*c', 'abcd', false], ['a*c', 'ac', true], ['a*c', 'abbc', true], ['a*a', 'a', false], ['a*a', 'aa', true],
    ['*a*', 'bab', true], ['*a*', 'bbb', false], ['a**b', 'ab', true], ['*ab*ab*', 'abab', true], ['*ab*ab*', 'aab', false],
    ['*aab', 'aaab', true], ['a*b*c', 'acb', false], ['a*b*c', 'abcbc', true], ['ab*ba', 'aba', false], ['ab*ba', 'abba', true],
    ['A*', 'abc', false], ['*.*', 'a.b', true], ['*.*', 'ab', false], ['a*', 'a\nb', true], ['(*)', '(x)', true], ['x', 'xx', false],
    ['*a*a*a*a*b', 'a'.repeat(10) + 'b', true], ['*a*a*a*a*b', 'a'.repeat(255), false], ['*a*a*a*a*b', 'aaab', false],
  ];
  for (const [pattern, value, want] of table) {
    assert.equal(wildcardMatch(pattern, value), want, `${pattern} ~ ${JSON.stringify(value)}`);
    // (Not on the 255 characters: that is the RegExp's minute-long case.)
    if (value.length < 20) assert.equal(reference(pattern, value), want, `reference: ${pattern} ~ ${JSON.stringify(value)}`);
    // And through a filter, where `!=` is the negation.
    const r = { name: 'r', description: value };
    assert.equal(evaluate(parseFilter(schema, 'Rollout', `description="${pattern}"`)!, r, schema), want, pattern);
    assert.equal(evaluate(parseFilter(schema, 'Rollout', `description!="${pattern}"`)!, r, schema), !want, pattern);
  }
  // Every pattern over {a, b, *} up to 5 characters against every value over {a, b} up to 6 agrees with the RegExp.
  const words = (alphabet: string, max: number) => {
    const out = [''];
    for (let i = 0; out[i].length < max; i++) for (const c of alphabet) out.push(out[i] + c);
    return out.filter(w => w.length <= max);
  };
  const values = words('ab', 6);
  for (const pattern of words('ab*', 5)) for (const value of values) assert.equal(wildcardMatch(pattern, value), reference(pattern, value), `${pattern} ~ ${value}`);
});

test('a pathological wildcard is linear: *a*a*a*a*b against 255 characters (a minute as a RegExp), and worse', () => {
  // The reported case: the RegExp backtracked for 25-60 s; each extra *a multiplied that by ~50. Now microseconds,
  // so 200 ms is no flaky threshold.
  let started = performance.now();
  assert.deepEqual(
    [{ name: 'x', description: 'a'.repeat(255) }].filter(r => evaluate(parseFilter(schema, 'Rollout', 'description="*a*a*a*a*b"')!, r, schema)), []);
  assert.ok(performance.now() - started < 200, `took ${performance.now() - started} ms`);
  // Twenty stars against 100,000 characters, failing at the end and in the middle: one scan each.
  started = performance.now();
  const long = 'a'.repeat(100_000);
  assert.equal(wildcardMatch('*a'.repeat(20) + '*b', long), false);
  assert.equal(wildcardMatch('*a'.repeat(20) + '*b*', long), false);
  assert.equal(wildcardMatch('*a'.repeat(20) + '*', long), true);
  assert.equal(wildcardMatch('*' + 'a'.repeat(50) + 'b*', long), false);
  assert.ok(performance.now() - started < 200, `took ${performance.now() - started} ms`);
});

test('filters are bounded: length, and parentheses nesting (4,000 levels overflowed the stack: HTTP 500)', () => {
  const violation = (f: string) => {
    try { parseFilter(schema, 'Rollout', f); } catch (e) {
      const err = e as ApiError;
      assert.ok(err instanceof ApiError, `not an ApiError: ${String(e)}`);
      assert.equal(err.code, 'INVALID_ARGUMENT');
      return (err.details[0] as unknown as { fieldViolations: { field: string }[] }).fieldViolations[0].field;
    }
    return undefined;
  };
  const nested = (n: number) => '('.repeat(n) + 'targetId="prod"' + ')'.repeat(n);
  assert.equal(violation(nested(4000)), 'filter');
  assert.equal(violation(nested(MAX_FILTER_DEPTH + 1)), 'filter');
  assert.equal(violation(nested(MAX_FILTER_DEPTH)), undefined);
  assert.deepEqual(match(nested(MAX_FILTER_DEPTH)), ['a', 'b']);
  // Siblings do not add depth.
  assert.deepEqual(match(Array.from({ length: 60 }, () => '(targetId="prod")').join(' AND ')), ['a', 'b']);
  const sized = (n: number) => { const f = 'targetId="prod" OR targetId="'; return f + 'x'.repeat(n - f.length - 1) + '"'; };
  assert.equal(violation(sized(MAX_FILTER_LENGTH)), undefined);
  assert.deepEqual(match(sized(MAX_FILTER_LENGTH)), ['a', 'b']);
  assert.equal(violation(sized(MAX_FILTER_LENGTH + 1)), 'filter');
});

test('orderBy is bounded in length and keys; map keys of any spelling resolve', () => {
  const violation = (o: string) => {
    try { parseOrderBy(schema, 'Rollout', o); } catch (e) {
      assert.ok(e instanceof ApiError && e.code === 'INVALID_ARGUMENT', String(e));
      return (e.details[0] as unknown as { fieldViolations: { field: string }[] }).fieldViolations[0].field;
    }
    return undefined;
  };
  assert.equal(violation(Array(MAX_ORDER_KEYS).fill('state desc').join(',')), undefined);
  assert.equal(violation(Array(MAX_ORDER_KEYS + 1).fill('state').join(',')), 'order_by');
  assert.equal(violation('state,'.repeat(10_000) + 'state'), 'order_by');
  assert.equal(violation('labels.' + 'k'.repeat(MAX_ORDER_BY_LENGTH)), 'order_by');
  assert.deepEqual(parseOrderBy(schema, 'Rollout', "labels.it's desc"), [{ path: ['labels', "it's"], desc: true }]);
});
