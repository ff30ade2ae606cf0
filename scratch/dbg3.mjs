import { protoRoot } from '../dist/src/grpc/protos.js';
const T = protoRoot().lookupType('google.cloud.deploy.v1.GetTargetRequest');
for (const b of [[0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f], [0x0a, 0x05, 0x61], [0xff,0xff], [0x0b]]) {
  try { console.log(JSON.stringify(T.decode(Buffer.from(b)))); } catch (e) { console.log('throws', e.message); }
}
