// The gRPC services Gantry serves, loaded from the .proto files Google publishes on npm (`google-proto-files`: the
// googleapis repository's protos, newer than those the client libraries bundle, so no field Gantry answers is dropped).
// Loaded on the first gRPC connection: HTTP-only use never pays for the parse.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';
import { SERVICE_FILES } from './services.js';

export { SERVICE_FILES };


/** Types only ever met inside a google.protobuf.Any (error details). */
const EXTRA_FILES = ['google/rpc/status.proto', 'google/rpc/error_details.proto'];

let loaded: protobuf.Root | undefined;

export function protoRoot(): protobuf.Root {
  if (loaded) return loaded;
  const dir = dirname(createRequire(import.meta.url).resolve('google-proto-files/package.json'));
  const root = new protobuf.Root();
  // Every import resolves inside the package (google/protobuf/* included), never against the importing file.
  root.resolvePath = (_origin, target) => join(dir, target);
  root.loadSync([...new Set([...Object.values(SERVICE_FILES), ...EXTRA_FILES])], { keepCase: false });
  root.resolveAll();
  loaded = root;
  return root;
}
