import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Router } from '../../src/server/router.js';

const r = new Router<string>();
r.add('GET', '/v1/{name=projects/*/locations/*/deliveryPipelines/*}', 'getPipeline');
r.add('GET', '/v1/{parent=projects/*/locations/*/deliveryPipelines/*/releases/*}/rollouts', 'listRollouts');
r.add('POST', '/v1/{name=projects/*/locations/*/deliveryPipelines/*/releases/*/rollouts/*}:approve', 'approve');
r.add('POST', '/v1/{rollout=projects/*/locations/*/deliveryPipelines/*/releases/*/rollouts/*}:retryJob', 'retryJob');
r.add('GET', '/v1/{name=projects/*}/locations', 'listLocations');
r.add('GET', '/storage/v1/b/{bucket}/o/{object=**}', 'getObject');

test('variables bind their segments, custom verbs select the method', () => {
  const m = r.match('GET', '/v1/projects/p/locations/l/deliveryPipelines/x');
  assert.equal(m.handler, 'getPipeline');
  assert.deepEqual(m.params, { name: 'projects/p/locations/l/deliveryPipelines/x' });
  assert.equal(r.match('POST', '/v1/projects/p/locations/l/deliveryPipelines/x/releases/r/rollouts/ro:approve').handler, 'approve');
  assert.deepEqual(r.match('POST', '/v1/projects/p/locations/l/deliveryPipelines/x/releases/r/rollouts/ro:retryJob').params, { rollout: 'projects/p/locations/l/deliveryPipelines/x/releases/r/rollouts/ro' });
  assert.equal(r.match('GET', '/v1/projects/p/locations').handler, 'listLocations');
});

test('the - wildcard parent and ** tails', () => {
  assert.deepEqual(r.match('GET', '/v1/projects/p/locations/l/deliveryPipelines/x/releases/-/rollouts').params, { parent: 'projects/p/locations/l/deliveryPipelines/x/releases/-' });
  assert.deepEqual(r.match('GET', '/storage/v1/b/bk/o/a%2Fb%2Fc.tgz').params, { bucket: 'bk', object: 'a/b/c.tgz' });
});

test('no match is a Google NOT_FOUND', () => {
  for (const [m, p] of [['GET', '/v1/projects/p'], ['DELETE', '/v1/projects/p/locations/l/deliveryPipelines/x'], ['POST', '/v1/projects/p/locations/l/deliveryPipelines/x/releases/r/rollouts/ro:explode'], ['GET', '/v1/projects//locations']]) {
    assert.throws(() => r.match(m, p), (e: { code: string }) => e.code === 'NOT_FOUND', `${m} ${p}`);
  }
});
