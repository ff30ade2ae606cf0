// The method tables behind 501 UNIMPLEMENTED, the router's 404/501 decision, and the configured locations.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createRequire } from 'node:module';
import { googleApiMethods } from '../../src/google/api-methods.js';
import { Locations, locationScoped, REGIONS } from '../../src/google/locations.js';
import { ApiError } from '../../src/google/errors.js';
import { Router } from '../../src/server/router.js';

const require = createRequire(import.meta.url);
const deploy = googleApiMethods().find(a => a.host === 'clouddeploy.googleapis.com')!;

/** `/v1/{parent=projects/*\/locations/*}/targets` → `/v1/projects/*\/locations/*\/targets`. */
function flatten(template: string): string {
  return template.replace(/\{[\w.]+=([^}]+)\}/g, '$1').replace(/\{[\w.]+\}/g, '*');
}

test('every Cloud Deploy RPC of the published protos has its name in the generated table', () => {
  const protos = require('@google-cloud/deploy/build/protos/protos.json') as { nested: Record<string, unknown> };
  const service = (protos.nested as any).google.nested.cloud.nested.deploy.nested.v1.nested.CloudDeploy.methods as Record<string, { options?: Record<string, string> }>;
  let checked = 0;
  for (const [rpc, m] of Object.entries(service)) {
    const verb = Object.keys(m.options ?? {}).find(k => k.startsWith('(google.api.http).') && !k.endsWith('.body'));
    if (!verb) continue;
    const httpMethod = verb.slice('(google.api.http).'.length).toUpperCase();
    const path = flatten(m.options![verb]);
    const row = deploy.methods.find(x => x.httpMethod === httpMethod && x.path === path);
    assert.ok(row, `${httpMethod} ${path} (${rpc}) is missing from schemas/clouddeploy-v1.methods.json`);
    assert.equal(row.method, `google.cloud.deploy.v1.CloudDeploy.${rpc}`);
    checked++;
  }
  assert.ok(checked >= 40, `only ${checked} RPCs checked`);
  // Mixins and methods newer than that client.
  const name = (httpMethod: string, path: string) => deploy.methods.find(x => x.httpMethod === httpMethod && x.path === path)?.method;
  assert.equal(name('GET', '/v1/projects/*/locations/*/deployPolicies'), 'google.cloud.deploy.v1.CloudDeploy.ListDeployPolicies');
  assert.equal(name('DELETE', '/v1/projects/*/locations/*/deployPolicies/*'), 'google.cloud.deploy.v1.CloudDeploy.DeleteDeployPolicy');
  assert.equal(name('POST', '/v1/projects/*/locations/*/targets/*:setIamPolicy'), 'google.iam.v1.IAMPolicy.SetIamPolicy');
  assert.equal(name('GET', '/v1/projects/*/locations'), 'google.cloud.location.Locations.ListLocations');
  assert.equal(name('POST', '/v1/projects/*/locations/*/operations/*:cancel'), 'google.longrunning.Operations.CancelOperation');
});

test('the router tells unserved methods and APIs (501) from unknown paths (404)', () => {
  const r = new Router<string>({ apis: googleApiMethods() });
  r.add('GET', '/v1/{parent=projects/*/locations/*}/targets', 'listTargets');
  r.add('GET', '/v1/{name=projects/*/locations/*}', 'getLocation');
  r.add('GET', '/storage/v1/b/{bucket}', 'getBucket');
  r.add('GET', '/gantry/v1/healthz', 'healthz');
  const outcome = (method: string, path: string) => {
    try {
      return r.match(method, path).handler;
    } catch (e) {
      const err = e as ApiError;
      return `${err.httpStatus} ${err.message}`;
    }
  };
  assert.equal(outcome('GET', '/v1/projects/p/locations/l/targets'), 'listTargets');
  assert.equal(outcome('GET', '/v1/projects/p/locations/l/deployPolicies'), '501 Method google.cloud.deploy.v1.CloudDeploy.ListDeployPolicies is not implemented by Gantry.');
  assert.equal(outcome('POST', '/v1/projects/p/locations/l/targets/t:setIamPolicy'), '501 Method google.iam.v1.IAMPolicy.SetIamPolicy is not implemented by Gantry for targets.');
  assert.equal(outcome('POST', '/storage/v1/b/b/o/x/compose'), '501 Method storage.objects.compose is not implemented by Gantry.');
  // Cloud Run services are in the tables of an API Gantry serves (jobs), so they are named methods.
  assert.equal(outcome('GET', '/v2/projects/p/locations/l/services'), '501 Method run.projects.locations.services.list is not implemented by Gantry.');
  assert.equal(outcome('GET', '/apis/serving.knative.dev/v1/namespaces/p/services'), '501 Method run.namespaces.services.list is not implemented by Gantry.');
  for (const p of ['/v1/projects/p/locations/l/functions', '/compute/v1/projects/p/zones', '/upload/drive/v3/files']) {
    assert.match(outcome('GET', p), /^501 GET .* is not a method of an API Gantry implements \(clouddeploy\.googleapis\.com, developerconnect\.googleapis\.com, logging\.googleapis\.com, run\.googleapis\.com, secretmanager\.googleapis\.com, storage\.googleapis\.com\)\.$/, p);
  }
  // Inside a served API's paths, or no API path at all: Google's 404.
  for (const p of ['/v1/projects/p', '/v1/projects/p/locations/l/targets/t/x', '/v1/projects/p/locations/l/targets:y', '/storage/v1/nope', '/gantry/v1/nope', '/favicon.ico', '/', '/v1/nothing/here', '/v1/projects//locations', '/v2/projects/p/', '/v2', '*', '127.0.0.1:1', 'http://127.0.0.1/v2/projects/p/x']) {
    assert.match(outcome('GET', p), /^404 The requested URL/, p);
  }
  assert.match(outcome('PUT', '/v1/projects/p/locations/l/targets/t'), /^404 /);
  // Without tables every miss is a 404.
  assert.match(outcome.call(null, 'GET', '/v1/projects/p/locations/l/targets'), /listTargets/);
  assert.throws(() => new Router<string>().match('GET', '/v2/projects/p/locations/l/services'), (e: ApiError) => e.httpStatus === 404);
});

test('locations: the configured list is the source of truth; `-` only for lists', () => {
  const all = new Locations();
  assert.deepEqual(all.ids().sort(), Object.keys(REGIONS).sort());
  const two = new Locations(['us-central1', 'local']);
  assert.ok(two.has('local') && !two.has('europe-west1'));
  assert.doesNotThrow(() => two.check('projects/p/locations/local/targets/t', 'clouddeploy.googleapis.com'));
  assert.doesNotThrow(() => two.check('projects/p/locations/-', 'clouddeploy.googleapis.com', { wildcard: true }));
  assert.doesNotThrow(() => two.check('projects/p', 'clouddeploy.googleapis.com'));
  for (const [name, id] of [['projects/p/locations/europe-west1/targets/t', 'europe-west1'], ['projects/p/locations/-/targets/t', '-']]) {
    assert.throws(() => two.check(name, 'clouddeploy.googleapis.com'), (e: ApiError) =>
      e.httpStatus === 403 && e.code === 'PERMISSION_DENIED' && e.message === `Location ${id} is not found or access is unauthorized.`
      && (e.details[0] as unknown as { reason: string }).reason === 'LOCATION_ACCESS_DENIED');
  }
  for (const bad of [[], ['US-CENTRAL1'], ['-'], ['a/b'], ['x-']]) assert.throws(() => new Locations(bad), Error, JSON.stringify(bad));
});

test('locationScoped puts any method behind the location check; `-` only for a GET of a collection', () => {
  const ctx = { svc: { serviceName: 'clouddeploy.googleapis.com' }, locations: new Locations(['us-central1']) } as unknown as Parameters<typeof locationScoped>[0];
  const spec = locationScoped(ctx, { handler: () => ({ body: 'ok' }) });
  const call = (method: string, path: string, params: Record<string, string>) => {
    try {
      return (spec.handler({ method, path, params, query: {}, headers: {}, body: undefined, enumInts: false }) as { body: string }).body;
    } catch (e) {
      return (e as ApiError).httpStatus;
    }
  };
  assert.equal(call('POST', '/v1/projects/p/locations/us-central1/deliveryPipelines/d/releases/r/rollouts/x:approve', { name: 'projects/p/locations/us-central1/deliveryPipelines/d/releases/r/rollouts/x' }), 'ok');
  assert.equal(call('POST', '/v1/projects/p/locations/us-cetnral1/deliveryPipelines/d/releases/r/rollouts/x:approve', { name: 'projects/p/locations/us-cetnral1/deliveryPipelines/d/releases/r/rollouts/x' }), 403);
  assert.equal(call('GET', '/v1/projects/p/locations/us-cetnral1/config', { name: 'projects/p/locations/us-cetnral1/config' }), 403);
  assert.equal(call('GET', '/v1/projects/p/locations/-/config', { name: 'projects/p/locations/-/config' }), 403);
  assert.equal(call('GET', '/v1/projects/p/locations/-/deliveryPipelines', { parent: 'projects/p/locations/-' }), 'ok');
  assert.equal(call('GET', '/v1/projects/p/locations/-/operations', { name: 'projects/p/locations/-' }), 'ok');
  assert.equal(call('GET', '/v1/projects/p/locations', { name: 'projects/p' }), 'ok');
});
