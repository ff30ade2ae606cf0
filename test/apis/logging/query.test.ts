// The Logging query language: the exact filters gcloud builds, Cloud Logging's operator precedence (NOT, then OR, then
// AND), value groups, existence, timestamps, severities; hostile filters are refused quickly.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, parseQuery, timeBounds } from '../../../src/apis/logging/query.js';
import { ApiError } from '../../../src/google/errors.js';

const entry = {
  logName: 'projects/p/logs/run.googleapis.com%2Fstdout', severity: 'WARNING', timestamp: '2026-11-23T10:00:00.123456789Z', textPayload: 'Hello World',
  resource: { type: 'cloud_run_job', labels: { job_name: 'j', location: 'us-central1' } },
  labels: { 'run.googleapis.com/execution_name': 'j-abcde', 'run.googleapis.com/task_index': '3' },
};
const json = { ...entry, textPayload: undefined, jsonPayload: { message: 'structured', count: 12, ok: true, tags: ['a', 'b'], nested: { 'a.b': 'dot' } } };
const ok = (q: string, e: object = entry) => matches(parseQuery(q), e as Record<string, unknown>);
const refused = (q: string) => assert.throws(() => parseQuery(q), (e: unknown) => e instanceof ApiError && /Invalid filter/.test(e.message), q.slice(0, 60));

test('the filters gcloud run jobs logs read and executions logs read build', () => {
  // surface/run/jobs/logs/read.py and executions/logs/read.py: clauses ending in " \n", joined with " AND ".
  const job = ['resource.type = cloud_run_job \n', 'resource.labels.job_name = j \n', 'resource.labels.location = us-central1 \n', 'severity >= DEFAULT \n', 'timestamp>="2026-11-23T09:00:00Z"'].join(' AND ');
  assert.ok(ok(job));
  const execution = ['resource.type = cloud_run_job \n', 'labels."run.googleapis.com/execution_name" = j-abcde \n', 'resource.labels.location = us-central1 \n', 'severity >= DEFAULT \n'].join(' AND ');
  assert.ok(ok(execution));
  assert.ok(!ok(execution.replace('j-abcde', 'j-other')));
  // With --log-filter, the user's filter comes first, unparenthesised.
  assert.ok(ok(['severity>=WARNING', execution].join(' AND ')));
  assert.ok(!ok(['severity>=ERROR', execution].join(' AND ')));
  assert.ok(!ok('resource.labels.job_name = other'));
  assert.ok(!ok('timestamp>="2026-11-23T10:00:01Z"'));
});

test('the filters gcloud logging read builds', () => {
  // surface/logging/read.py: freshness first, then the filter, joined with AND.
  assert.ok(ok('timestamp>="2026-11-22T10:00:00Z" AND resource.type="cloud_run_job" AND labels."run.googleapis.com/execution_name"="j-abcde"'));
  assert.ok(ok('timestamp>="2026-11-23T09:59:59.999Z" AND severity>=WARNING'));
  assert.ok(!ok('timestamp>="2026-11-23T10:00:00.2Z" AND severity>=WARNING'));
  assert.ok(ok('timestamp<="2026-11-23T11:01:00+01:00" AND timestamp>="2026-11-23T10:00:00Z"'), 'offsets');
  assert.ok(ok('logName="projects/p/logs/run.googleapis.com%2Fstdout"') && ok('logName:"run.googleapis.com%2Fstdout"'));
  assert.ok(ok('log_id("run.googleapis.com/stdout")') && !ok('log_id("run.googleapis.com/stderr")'));
});

test('severity ordering, substrings, boolean operators, implicit AND, bare words', () => {
  assert.ok(ok('severity>=WARNING') && ok('severity<ERROR') && !ok('severity>=ERROR') && ok('severity>=400') && ok('severity=warning'));
  assert.ok(ok('textPayload:hello') && !ok('textPayload:bye') && ok('textPayload="Hello World"') && !ok('textPayload="hello world"'));
  assert.ok(ok('resource.type=cloud_run_job severity=WARNING'), 'implicit AND');
  assert.ok(ok('resource.type=cloud_run_job\nseverity=WARNING\n'), 'implicit AND across lines');
  assert.ok(!ok('resource.type=cloud_run_job severity=ERROR'));
  assert.ok(ok('severity=ERROR OR textPayload:world'));
  assert.ok(ok('NOT severity=ERROR') && ok('-severity=ERROR') && !ok('-severity=WARNING') && ok('-(severity=ERROR)') && !ok('NOT (severity=WARNING)'));
  assert.ok(ok('(severity=ERROR OR severity=WARNING) AND labels."run.googleapis.com/task_index"=3'));
  assert.ok(ok('"Hello World"') && ok('hello') && !ok('goodbye'));
  assert.ok(ok('labels.missing!=x') && !ok('labels.missing=x'));
});

test('Cloud Logging precedence: OR binds tighter than AND, NOT tightest', () => {
  // a OR b AND c is (a OR b) AND c: with a true, b false, c false it is false (it would be true with AND first).
  assert.ok(!ok('severity=WARNING OR severity=ERROR AND textPayload:nothing'));
  assert.ok(ok('textPayload:nothing AND severity=ERROR OR severity=WARNING') === false);
  assert.ok(ok('severity=ERROR OR severity=WARNING AND textPayload:hello'));
  assert.ok(ok('NOT severity=ERROR OR severity=ERROR'));
});

test('value groups, existence, JSON payloads, arrays, quoted keys', () => {
  assert.ok(ok('severity=(ERROR OR WARNING)') && !ok('severity=(ERROR OR CRITICAL)'));
  assert.ok(ok('labels."run.googleapis.com/task_index"=(1 OR 3)'));
  assert.ok(ok('labels."run.googleapis.com/execution_name":*') && !ok('labels.other:*') && ok('-labels.other:*'));
  assert.ok(ok('jsonPayload.message="structured"', json) && ok('jsonPayload.count>10', json) && !ok('jsonPayload.count>12', json));
  assert.ok(ok('jsonPayload.ok=true', json) && ok('jsonPayload.tags="b"', json) && !ok('jsonPayload.tags="c"', json));
  assert.ok(ok('jsonPayload.nested."a.b"=dot', json) && ok('jsonPayload:structured', json) && ok('jsonPayload.message:*', json));
  assert.ok(!ok('jsonPayload.message:*'));
});

test('the store reads only the time range top-level conjuncts allow', () => {
  assert.deepEqual(timeBounds(parseQuery('timestamp>="2026-11-23T09:00:00Z" AND severity>=ERROR AND timestamp<"2026-11-24T00:00:00+01:00"')),
    { from: '2026-11-23T09:00:00.000000000Z', to: '2026-11-23T23:00:00.000000000Z' });
  assert.deepEqual(timeBounds(parseQuery('timestamp>="2026-11-23T09:00:00Z" OR severity>=ERROR')), {}, 'not under OR');
  assert.deepEqual(timeBounds(parseQuery('severity>=ERROR')), {});
});

test('bad and hostile filters are INVALID_ARGUMENT, quickly', () => {
  for (const q of ['severity>=', '(a=b', 'a=b)', 'x=~"(a+)+$"', 'x!~y', '"unterminated', 'a = (b', 'AND', 'a OR', '= b', 'NOT', '"quoted"=x', 'a=(b=c)', 'log_id(x)'])
    refused(q);
  const started = Date.now();
  refused('('.repeat(100) + 'a=b' + ')'.repeat(100));
  refused('NOT '.repeat(1000) + 'a=b');
  refused('-'.repeat(5000) + 'a');
  refused('a'.repeat(30_000));
  refused(Array.from({ length: 2500 }, (_, i) => `a=${i}`).join(' OR '));
  refused('"' + 'x'.repeat(19_000));
  assert.ok(Date.now() - started < 1000, 'refusals are quick');
  // Large but legal: evaluated in bounded time.
  const wide = parseQuery(Array.from({ length: 1000 }, (_, i) => `labels.k${i}=v`).join(' OR '));
  assert.ok(!matches(wide, entry));
});
