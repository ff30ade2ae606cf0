import { test } from 'node:test';
import assert from 'node:assert/strict';
import { evaluate, parseFilter } from '../../src/google/filter.js';
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
