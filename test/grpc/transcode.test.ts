// google.api.http templates and the REST call a gRPC request becomes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bindingsOf, mismatch, parseTemplate, renderPath } from '../../src/grpc/http-rule.js';
import { restCall } from '../../src/grpc/transcode.js';

test('templates: literals, variables with patterns, nested fields and verbs', () => {
  const t = parseTemplate('/v1/{target.name=projects/*/locations/*/targets/*}:approve');
  assert.equal(t.verb, 'approve');
  assert.deepEqual(t.parts, ['v1', { field: ['target', 'name'], pattern: ['projects', '*', 'locations', '*', 'targets', '*'] }]);
  assert.deepEqual(parseTemplate('/v2/entries:list'), { parts: ['v2', 'entries'], verb: 'list' });
  assert.deepEqual(parseTemplate('/v1/{parent=projects/*}/secrets').parts, ['v1', { field: ['parent'], pattern: ['projects', '*'] }, 'secrets']);
  assert.deepEqual(parseTemplate('/v1/{name}').parts, ['v1', { field: ['name'], pattern: ['*'] }]);
});

test('paths: a value must fit its pattern; segments are percent-encoded; ** keeps slashes', () => {
  const t = parseTemplate('/v1/{name=projects/*/secrets/*}');
  assert.equal(renderPath(t, { name: 'projects/p/secrets/s' }), '/v1/projects/p/secrets/s');
  assert.equal(renderPath(t, { name: 'projects/p/secrets/s/versions/1' }), undefined);
  assert.equal(renderPath(t, { name: 'projects//secrets/s' }), undefined);
  assert.equal(renderPath(t, { name: 'projects/p?x=1/secrets/a#b' }), '/v1/projects/p%3Fx%3D1/secrets/a%23b');
  assert.equal(renderPath(t, {}), undefined);
  assert.equal(mismatch(t, { name: 'nope' })?.field.join('.'), 'name');
  const any = parseTemplate('/v1/{resource=**}:getIamPolicy');
  assert.equal(renderPath(any, { resource: 'projects/p/locations/l/targets/t' }), '/v1/projects/p/locations/l/targets/t:getIamPolicy');
  assert.equal(renderPath(any, { resource: 'a//b' }), undefined);
});

test('bindings: additional bindings are tried in order; snake_case body fields become camelCase', () => {
  const bs = bindingsOf({ post: '/v1/{parent=projects/*}/secrets', body: 'secret', additional_bindings: [{ post: '/v1/{parent=projects/*/locations/*}/secrets', body: 'secret' }] });
  assert.equal(bs.length, 2);
  const rc = restCall(bs, { parent: 'projects/p/locations/l', secretId: 's', secret: { labels: { a: 'b' } } })!;
  assert.equal(rc.path, '/v1/projects/p/locations/l/secrets');
  assert.deepEqual(rc.body, { labels: { a: 'b' } });
  assert.deepEqual(rc.query, { secretId: 's' });
  assert.equal(bindingsOf({ patch: '/v1/{delivery_pipeline.name=projects/*}', body: 'delivery_pipeline' })[0].body, 'deliveryPipeline');
});

test('query parameters: every set field outside the path and body, nested ones dotted, repeated ones repeated', () => {
  const [b] = bindingsOf({ get: '/v1/{resource=projects/*}:getIamPolicy' });
  const rc = restCall([b], { resource: 'projects/p', options: { requestedPolicyVersion: 3 }, tags: ['a', 'b'], validateOnly: true, skipped: null })!;
  assert.deepEqual(rc.query, { 'options.requestedPolicyVersion': '3', tags: ['a', 'b'], validateOnly: 'true' });
  assert.equal(rc.body, undefined);
  const [star] = bindingsOf({ post: '/v1/{name=projects/*}:approve', body: '*' });
  const all = restCall([star], { name: 'projects/p', approved: true })!;
  assert.deepEqual(all.body, { approved: true });
  assert.deepEqual(all.query, {});
});
