import { startGantry } from '../dist/src/gantry.js';
import * as grpc from '@grpc/grpc-js';
import { protoRoot, SERVICE_FILES } from '../dist/src/grpc/protos.js';
import { bindingsOf } from '../dist/src/grpc/http-rule.js';
const g = await startGantry({ port: 0, dataDir: ':memory:', logLevel: 'silent' });
const root = protoRoot();
const client = new grpc.Client(`127.0.0.1:${g.port}`, grpc.credentials.createInsecure());
const call = (path, bytes) => new Promise(r => client.makeUnaryRequest(path, b => b, b => b, bytes, new grpc.Metadata(), { deadline: Date.now() + 3000 }, (e, b) => r(e ? `${e.code} ${e.details.slice(0, 80)}` : 'OK')));
for (const name of Object.keys(SERVICE_FILES)) {
  const svc = root.lookupService(name);
  for (const m of svc.methodsArray) {
    if (m.requestStream || m.responseStream) continue;
    const rule = (m.parsedOptions ?? []).map(o => o['(google.api.http)']).find(Boolean);
    const b = bindingsOf(rule)[0];
    const msg = {};
    if (b) for (const p of b.template.parts) if (typeof p !== 'string') {
      let o = msg; for (const f of p.field.slice(0, -1)) o = (o[f] ??= {});
      o[p.field.at(-1)] = p.pattern.map(s => s === '*' ? 'x' : s === '**' ? 'x/y' : s).join('/').replace('locations/x', 'locations/us-central1');
    }
    const T = m.resolvedRequestType;
    let bytes; try { bytes = Buffer.from(T.encode(T.fromObject(msg)).finish()); } catch (e) { console.log(name, m.name, 'ENC', e.message); continue; }
    const res = await call(`/${name}/${m.name}`, bytes);
    if (/^12 |was not found on this server/.test(res)) console.log(`${name}.${m.name}: ${res}`);
  }
}
client.close(); await g.close();
