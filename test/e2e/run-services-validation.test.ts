// Cloud Run service validation as Cloud Run answers it, with google.rpc.Status bodies naming the field: traffic
// percentages, unknown revisions, tags, container ports, env, resources, service names; and hostile bodies get a
// 4xx, never a 5xx.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
const NS = '/apis/serving.knative.dev/v1/namespaces/val-proj';
const V2 = '/v2/projects/val-proj/locations/us-central1';

before(async () => { g = await startTestGantry({ logLevel: 'silent' }); });
after(async () => { await g.close(); });

type Obj = Record<string, any>;
async function call(method: string, path: string, body?: unknown): Promise<{ status: number; body: Obj }> {
  const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: r.status, body: await r.json() as Obj };
}
const svc = (name: string, container: Obj = {}, extra: Obj = {}) => ({
  apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name },
  spec: { template: { spec: { containers: [{ image: 'img', ...container }] } }, ...extra },
});
async function refused(body: unknown, pattern: RegExp, field?: string): Promise<void> {
  const r = await call('POST', `${NS}/services`, body);
  assert.equal(r.status, 400, JSON.stringify(r.body));
  assert.equal(r.body.error.status, 'INVALID_ARGUMENT');
  assert.match(r.body.error.message, pattern);
  if (field) assert.ok(r.body.error.details[0].fieldViolations.some((v: Obj) => v.field === field), JSON.stringify(r.body.error.details));
}

test('traffic: percentages sum to 100, one destination each, known revisions, valid distinct tags', async () => {
  await refused(svc('t1', {}, { traffic: [{ latestRevision: true, percent: 90 }] }), /Traffic targets sum to 90, want 100/, 'spec.traffic');
  await refused(svc('t2', {}, { traffic: [{ latestRevision: true, revisionName: 't2-00001-abc', percent: 100 }] }), /expected exactly one, got both/);
  await refused(svc('t3', {}, { traffic: [{ percent: 100 }] }), /expected exactly one, got neither/);
  await refused(svc('t4', {}, { traffic: [{ latestRevision: true, percent: 120 }, { revisionName: 'x', percent: -20 }] }), /expected 0 <= 120 <= 100/);
  await refused(svc('t5', {}, { traffic: [{ latestRevision: true, percent: 100 }, { revisionName: 't5-00009-zzz', percent: 0 }] }), /Revision 't5-00009-zzz' referenced in traffic not found/, 'spec.traffic[1].revisionName');
  await refused(svc('t6', {}, { traffic: [{ latestRevision: true, percent: 100, tag: 'Bad_Tag' }] }), /Tag 'Bad_Tag' is invalid/);
  await refused(svc('t7', {}, { traffic: [{ latestRevision: true, percent: 50, tag: 'a' }, { latestRevision: true, percent: 50, tag: 'a' }] }), /Multiple definitions for "a"/);
});

test('containers, env, resources and names: Cloud Run\'s rules', async () => {
  await refused(svc('p1', { ports: [{ containerPort: 70000 }] }), /expected 1 <= 70000 <= 65535/, 'spec.template.spec.containers[0].ports[0].containerPort');
  await refused(svc('p2', { ports: [{ containerPort: 8012 }] }), /8012 is a reserved port/);
  await refused(svc('p3', { ports: [{ containerPort: 8080, name: 'grpc' }] }), /must be "http1" or "h2c"/);
  await refused(svc('e1', { env: [{ name: 'PORT', value: '1' }] }), /reserved env names were provided: PORT/);
  await refused(svc('r1', { resources: { limits: { cpu: '3' } } }), /Invalid value specified for cpu/);
  await refused(svc('r2', { resources: { limits: { memory: '64Mi' } } }), /Invalid value specified for memory/);
  await refused(svc('a'.repeat(50)), /cannot be longer than 49 characters/, 'metadata.name');
  await refused(svc('Upper'), /Service name 'Upper' is invalid/);
  await refused({ ...svc('n1'), spec: { template: { metadata: { name: 'other-rev' }, spec: { containers: [{ image: 'i' }] } } } }, /must be prefixed by the service name, 'n1-'/);
  await refused({ ...svc('c0'), spec: { template: { spec: { containers: [] } } } }, /at least one container/);
  const annotated = (name: string, a: Obj) => ({ ...svc(name), spec: { template: { metadata: { annotations: a }, spec: { containers: [{ image: 'i' }] } } } });
  await refused(annotated('s1', { 'autoscaling.knative.dev/maxScale': 'lots' }), /maxScale must be a whole number of instances/);
  await refused(annotated('s2', { 'run.googleapis.com/execution-environment': 'gen9' }), /Execution environment 'gen9' is invalid/);
  await refused({ ...svc('i1'), metadata: { name: 'i1', annotations: { 'run.googleapis.com/ingress': 'everyone' } } }, /Ingress 'everyone' is invalid/);
  // 49 characters is fine.
  assert.equal((await call('POST', `${NS}/services`, svc('b'.repeat(49)))).status, 200);
});

test('hostile bodies and names get a 4xx, never a 5xx', async () => {
  const bodies: unknown[] = ['[]', '"x"', 'null', '{', { spec: 5 }, { metadata: { name: 'h' }, spec: { template: { spec: { containers: 'x' } } } },
    svc('h2', { env: [{ name: 'A', value: 'x\0y' }] }), svc('h3', { ports: [{ containerPort: 1e20 }] }), svc('h4', {}, { traffic: [{ latestRevision: true, percent: 'lots' }] }),
    svc('h5', { resources: { limits: { cpu: { a: 1 } } } }), svc('h6', { command: ['a\0'] }), { ...svc('h7'), metadata: { name: 'h7', namespace: 'someone-else' } }];
  for (const b of bodies) {
    const r = await call('POST', `${NS}/services`, b);
    assert.ok(r.status >= 400 && r.status < 500, `${JSON.stringify(b).slice(0, 80)} → ${r.status}`);
    assert.ok(r.body.error?.message, JSON.stringify(r.body));
  }
  for (const [method, path, body] of [
    ['GET', `${NS}/services/nope`], ['PUT', `${NS}/services/nope`, svc('nope')], ['DELETE', `${NS}/revisions/nope-00001-abc`],
    ['GET', `${V2}/services/nope/revisions/x`], ['PATCH', `${V2}/services/nope?updateMask=template`, {}], ['POST', `${V2}/services`, { template: {} }],
    ['POST', `${V2}/services?serviceId=v2bad`, { traffic: [{ type: 'TRAFFIC_TARGET_ALLOCATION_TYPE_LATEST', percent: 50 }], template: { containers: [{ image: 'i' }] } }],
    ['GET', `${NS}/routes/nope`], ['GET', `${NS}/configurations/nope`], ['GET', `${NS}/services?limit=-1`], ['GET', `${NS}/services?continue=garbage`],
  ] as [string, string, unknown?][]) {
    const r = await call(method, path, body);
    assert.ok(r.status >= 400 && r.status < 500, `${method} ${path} → ${r.status} ${JSON.stringify(r.body)}`);
  }
  const masked = await call('POST', `${V2}/services?serviceId=masked`, { template: { containers: [{ image: 'i' }] } });
  assert.equal(masked.status, 200);
  const bad = await call('PATCH', `${V2}/services/masked?updateMask=template..x`, { template: { containers: [{ image: 'j' }] } });
  assert.equal(bad.status, 400);
  // Mask paths naming what every object inherits reach no inherited value.
  for (const mask of ['constructor', 'toString', 'template.constructor.prototype', 'hasOwnProperty']) {
    const r = await call('PATCH', `${V2}/services/masked?updateMask=${mask}`, {});
    assert.ok(r.status < 500, `${mask} → ${r.status} ${JSON.stringify(r.body)}`);
  }
});
