// The gRPC services Gantry serves, loaded from the .proto files Google publishes on npm (`google-proto-files`: the
// googleapis repository's protos, newer than those the client libraries bundle, so no field Gantry answers is dropped).
// Loaded on the first gRPC connection: HTTP-only use never pays for the parse.
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import protobuf from 'protobufjs';

/** Services by full name, and the file that defines each. */
export const SERVICE_FILES: Record<string, string> = {
  'google.cloud.deploy.v1.CloudDeploy': 'google/cloud/deploy/v1/cloud_deploy.proto',
  'google.cloud.run.v2.Jobs': 'google/cloud/run/v2/job.proto',
  'google.cloud.run.v2.Executions': 'google/cloud/run/v2/execution.proto',
  'google.cloud.run.v2.Tasks': 'google/cloud/run/v2/task.proto',
  'google.cloud.secretmanager.v1.SecretManagerService': 'google/cloud/secretmanager/v1/service.proto',
  'google.logging.v2.LoggingServiceV2': 'google/logging/v2/logging.proto',
  'google.cloud.developerconnect.v1.DeveloperConnect': 'google/cloud/developerconnect/v1/developer_connect.proto',
  // Mixins: every API above exposes them on its own host; here they share the port (see mixins.ts).
  'google.longrunning.Operations': 'google/longrunning/operations.proto',
  'google.cloud.location.Locations': 'google/cloud/location/locations.proto',
  'google.iam.v1.IAMPolicy': 'google/iam/v1/iam_policy.proto',
};

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
