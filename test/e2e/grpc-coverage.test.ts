// Every method of the gRPC services Gantry serves reaches a handler: each is called with a request whose names fit
// each of its HTTP bindings, and the answer must come from a handler (NOT_FOUND for a resource, INVALID_ARGUMENT, OK…),
// not from the transcoder or router saying the method is not there. The few methods Gantry serves over neither
// transport are listed, so a gap that opens on one transport only cannot go unnoticed.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import * as grpc from '@grpc/grpc-js';
import type protobuf from 'protobufjs';
import { startTestGantry } from '../helpers/server.js';
import { protoRoot } from '../../src/grpc/protos.js';
import { bindingsOf, type HttpBinding } from '../../src/grpc/http-rule.js';
import type { Gantry } from '../../src/gantry.js';

const SERVICES = ['google.cloud.deploy.v1.CloudDeploy', 'google.cloud.run.v2.Jobs', 'google.cloud.run.v2.Executions', 'google.cloud.run.v2.Tasks',
  'google.cloud.run.v2.Services', 'google.cloud.run.v2.Revisions',
  'google.cloud.secretmanager.v1.SecretManagerService', 'google.logging.v2.LoggingServiceV2'];
/** Not served over REST either (501 there). */
const NOT_SERVED = [
  'google.cloud.secretmanager.v1.SecretManagerService.EnableManagedRotation', 'google.cloud.secretmanager.v1.SecretManagerService.RotateSecret',
  'google.logging.v2.LoggingServiceV2.DeleteLog', 'google.logging.v2.LoggingServiceV2.ListMonitoredResourceDescriptors',
];

let g: Gantry;
let client: grpc.Client;
before(async () => {
  g = await startTestGantry();
  client = new grpc.Client(`127.0.0.1:${g.port}`, grpc.credentials.createInsecure());
});
after(async () => { client.close(); await g.close(); });

/** A request whose path fields fit the binding's patterns. */
function sample(b: HttpBinding): Record<string, unknown> {
  const msg: Record<string, unknown> = {};
  for (const p of b.template.parts) {
    if (typeof p === 'string') continue;
    let o = msg;
    for (const f of p.field.slice(0, -1)) o = (o[f] ??= {}) as Record<string, unknown>;
    o[p.field[p.field.length - 1]] = p.pattern.map(s => (s === '*' ? 'x' : s === '**' ? 'x/y' : s)).join('/').replace('locations/x', 'locations/us-central1');
  }
  return msg;
}

function call(path: string, bytes: Buffer): Promise<grpc.ServiceError | undefined> {
  return new Promise(resolve => client.makeUnaryRequest(path, (b: Buffer) => b, (b: Buffer) => b, bytes, new grpc.Metadata(), { deadline: Date.now() + 5000 }, e => resolve(e ?? undefined)));
}

test('every unary method of the served services reaches its REST handler over gRPC', async () => {
  const root = protoRoot();
  const unserved: string[] = [];
  let methods = 0;
  for (const name of SERVICES) {
    for (const m of root.lookupService(name).methodsArray) {
      if (m.requestStream || m.responseStream) continue;
      methods++;
      const rule = (m.parsedOptions ?? []).map((o: unknown) => (o as Record<string, unknown>)['(google.api.http)']).find(Boolean) as Record<string, unknown> | undefined;
      const type = m.resolvedRequestType as protobuf.Type;
      let served = false;
      for (const b of bindingsOf(rule)) {
        const e = await call(`/${name}/${m.name}`, Buffer.from(type.encode(type.fromObject(sample(b))).finish()));
        assert.notEqual(e?.code, grpc.status.INTERNAL, `${name}.${m.name}: ${e?.details}`);
        if (!e || (e.code !== grpc.status.UNIMPLEMENTED && !/was not found on this server/.test(e.details))) { served = true; break; }
      }
      if (!served) unserved.push(`${name}.${m.name}`);
    }
  }
  assert.ok(methods > 80, `${methods} methods`);
  assert.deepEqual(unserved.sort(), [...NOT_SERVED].sort());
});
