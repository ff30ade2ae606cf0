// The gRPC services Gantry serves and the proto file of each: plain data, so what describes Gantry (healthz) can
// name them without loading protobufjs.
/** Services by full name, and the file that defines each. */
export const SERVICE_FILES: Record<string, string> = {
  'google.cloud.deploy.v1.CloudDeploy': 'google/cloud/deploy/v1/cloud_deploy.proto',
  'google.cloud.run.v2.Jobs': 'google/cloud/run/v2/job.proto',
  'google.cloud.run.v2.Executions': 'google/cloud/run/v2/execution.proto',
  'google.cloud.run.v2.Tasks': 'google/cloud/run/v2/task.proto',
  'google.cloud.run.v2.Services': 'google/cloud/run/v2/service.proto',
  'google.cloud.run.v2.Revisions': 'google/cloud/run/v2/revision.proto',
  'google.cloud.secretmanager.v1.SecretManagerService': 'google/cloud/secretmanager/v1/service.proto',
  'google.logging.v2.LoggingServiceV2': 'google/logging/v2/logging.proto',
  'google.cloud.developerconnect.v1.DeveloperConnect': 'google/cloud/developerconnect/v1/developer_connect.proto',
  // Mixins: every API above exposes them on its own host; here they share the port (see mixins.ts).
  'google.longrunning.Operations': 'google/longrunning/operations.proto',
  'google.cloud.location.Locations': 'google/cloud/location/locations.proto',
  'google.iam.v1.IAMPolicy': 'google/iam/v1/iam_policy.proto',
};
