import { protoRoot } from '../dist/src/grpc/protos.js';
import { encodeJson } from '../dist/src/grpc/transcode.js';
const T = protoRoot().lookupType('google.cloud.secretmanager.v1.AccessSecretVersionResponse');
const b = encodeJson(T, { name: 'x', payload: { data: Buffer.from('s3cr3t').toString('base64'), dataCrc32c: '123' } });
console.log(b, T.decode(b).payload.data.toString());
