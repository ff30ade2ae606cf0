import { test } from 'node:test';
import assert from 'node:assert/strict';
import { matches, parseQuery } from '../../../src/apis/logging/query.js';

const entry = {
  logName: 'projects/p/logs/run.googleapis.com%2Fstdout', severity: 'WARNING', timestamp: '2026-11-23T10:00:00.123456789Z', textPayload: 'Hello World',
  resource: { type: 'cloud_run_job', labels: { job_name: 'j', location: 'us-central1' } },
  labels: { 'run.googleapis.com/execution_name': 'j-abcde', 'run.googleapis.com/task_index': '3' },
};
const ok = (q: string) => matches(parseQuery(q), entry);

test('the filters gcloud builds for run jobs logs read', () => {
  assert.ok(ok('resource.type = cloud_run_job \n AND resource.labels.job_name = j \n AND resource.labels.location = us-central1 \n AND severity >= DEFAULT \n AND timestamp>="2026-11-23T09:00:00Z"'));
  assert.ok(ok('resource.type = cloud_run_job \n AND labels."run.googleapis.com/execution_name" = j-abcde \n'));
  assert.ok(!ok('resource.labels.job_name = other'));
  assert.ok(!ok('timestamp>="2026-11-23T10:00:01Z"'));
});

test('severity ordering, substrings, boolean operators, implicit AND, bare words', () => {
  assert.ok(ok('severity>=WARNING') && ok('severity<ERROR') && !ok('severity>=ERROR'));
  assert.ok(ok('textPayload:hello') && !ok('textPayload:bye'));
  assert.ok(ok('resource.type=cloud_run_job severity=WARNING'), 'implicit AND');
  assert.ok(ok('severity=ERROR OR textPayload:world'));
  assert.ok(ok('NOT severity=ERROR') && ok('-severity=ERROR'));
  assert.ok(ok('(severity=ERROR OR severity=WARNING) AND labels."run.googleapis.com/task_index"=3'));
  assert.ok(ok('"Hello World"') && !ok('goodbye'));
  assert.ok(ok('labels.missing!=x') && !ok('labels.missing=x'));
});
