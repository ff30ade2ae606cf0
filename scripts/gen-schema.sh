#!/usr/bin/env bash
# Regenerates schemas/*.json from gcloud's generated API clients (see scripts/gen-schema.py).
set -euo pipefail
cd "$(dirname "$0")/.."
SDK=${CLOUDSDK_ROOT:-/usr/lib/google-cloud-sdk}
PY=$SDK/platform/bundledpythonunix/bin/python3
export PYTHONPATH=$SDK/lib:$SDK/lib/third_party
APIS=googlecloudsdk.generated_clients.apis
"$PY" scripts/gen-schema.py $APIS.clouddeploy.v1.clouddeploy_v1_messages \
  DeliveryPipeline Target CustomTargetType Release Rollout JobRun Automation AutomationRun DeployPolicy Config \
  Operation OperationMetadata Location ListLocationsResponse \
  ApproveRolloutRequest AdvanceRolloutRequest CancelRolloutRequest IgnoreJobRequest RetryJobRequest \
  TerminateJobRunRequest AbandonReleaseRequest RollbackTargetRequest RollbackTargetResponse CancelAutomationRunRequest \
  CancelOperationRequest SetIamPolicyRequest TestIamPermissionsRequest TestIamPermissionsResponse Policy \
  ListDeliveryPipelinesResponse ListTargetsResponse ListCustomTargetTypesResponse ListReleasesResponse \
  ListRolloutsResponse ListJobRunsResponse ListAutomationsResponse ListAutomationRunsResponse \
  ListDeployPoliciesResponse ListOperationsResponse \
  > schemas/clouddeploy-v1.json
# Fields gcloud's messages predate, taken from googleapis' (newer) typings: tool versions, Kubernetes render metadata
# and AutomationRun.uid.
node scripts/gen-schema-googleapis.mjs clouddeploy v1 > /tmp/clouddeploy-v1.googleapis.json
node scripts/merge-schema.mjs schemas/clouddeploy-v1.json /tmp/clouddeploy-v1.googleapis.json Release.toolVersions \
  ReleaseCondition.dockerVersionSupportedCondition ReleaseCondition.helmVersionSupportedCondition \
  ReleaseCondition.kptVersionSupportedCondition ReleaseCondition.kubectlVersionSupportedCondition \
  ReleaseCondition.kustomizeVersionSupportedCondition ReleaseCondition.skaffoldVersionSupportedCondition \
  Config.defaultToolVersions RenderMetadata.kubernetes AutomationRun.uid > /tmp/clouddeploy-v1.merged.json
mv /tmp/clouddeploy-v1.merged.json schemas/clouddeploy-v1.json
# Every REST method of the APIs whose paths Gantry answers, served or not (scripts/gen-methods.py): a method
# Gantry does not serve is answered 501 UNIMPLEMENTED naming it.
"$PY" scripts/gen-methods.py $APIS.clouddeploy.v1.clouddeploy_v1_client clouddeploy.googleapis.com \
  google.cloud.deploy.v1.CloudDeploy > schemas/clouddeploy-v1.methods.json
"$PY" scripts/gen-methods.py $APIS.storage.v1.storage_v1_client storage.googleapis.com > schemas/storage-v1.methods.json
# Cloud Run Admin API: v1 (Knative-style, gcloud's) and v2 views of the same jobs and services.
"$PY" scripts/gen-schema.py $APIS.run.v1.run_v1_messages \
  Job Execution Task ListJobsResponse ListExecutionsResponse ListTasksResponse RunJobRequest CancelExecutionRequest Status \
  Policy SetIamPolicyRequest TestIamPermissionsRequest TestIamPermissionsResponse \
  Service Revision Route Configuration ListServicesResponse ListRevisionsResponse ListRoutesResponse ListConfigurationsResponse \
  > schemas/run-v1.json
"$PY" scripts/gen-schema.py $APIS.run.v2.run_v2_messages \
  GoogleCloudRunV2Job GoogleCloudRunV2Execution GoogleCloudRunV2Task GoogleCloudRunV2ListJobsResponse \
  GoogleCloudRunV2ListExecutionsResponse GoogleCloudRunV2ListTasksResponse GoogleCloudRunV2RunJobRequest \
  GoogleCloudRunV2CancelExecutionRequest GoogleLongrunningOperation GoogleLongrunningListOperationsResponse \
  GoogleLongrunningWaitOperationRequest GoogleIamV1Policy GoogleIamV1SetIamPolicyRequest \
  GoogleIamV1TestIamPermissionsRequest GoogleIamV1TestIamPermissionsResponse \
  GoogleCloudRunV2Service GoogleCloudRunV2Revision GoogleCloudRunV2ListServicesResponse GoogleCloudRunV2ListRevisionsResponse \
  > schemas/run-v2.json
"$PY" scripts/gen-methods.py $APIS.run.v1.run_v1_client run.googleapis.com > schemas/run-v1.methods.json
"$PY" scripts/gen-methods.py $APIS.run.v2.run_v2_client run.googleapis.com > schemas/run-v2.methods.json
# Secret Manager v1: the secrets Cloud Run tasks read.
"$PY" scripts/gen-schema.py $APIS.secretmanager.v1.secretmanager_v1_messages \
  Secret SecretVersion AddSecretVersionRequest AccessSecretVersionResponse ListSecretsResponse ListSecretVersionsResponse \
  DisableSecretVersionRequest EnableSecretVersionRequest DestroySecretVersionRequest Location ListLocationsResponse \
  Policy SetIamPolicyRequest TestIamPermissionsRequest TestIamPermissionsResponse Empty > schemas/secretmanager-v1.json
"$PY" scripts/gen-methods.py $APIS.secretmanager.v1.secretmanager_v1_client secretmanager.googleapis.com \
  google.cloud.secretmanager.v1.SecretManagerService > schemas/secretmanager-v1.methods.json
# Cloud Logging v2: task and job-run output as log entries.
"$PY" scripts/gen-schema.py $APIS.logging.v2.logging_v2_messages \
  LogEntry ListLogEntriesRequest ListLogEntriesResponse WriteLogEntriesRequest WriteLogEntriesResponse ListLogsResponse \
  TailLogEntriesRequest TailLogEntriesResponse MonitoredResource Empty > schemas/logging-v2.json
"$PY" scripts/gen-methods.py $APIS.logging.v2.logging_v2_client logging.googleapis.com \
  google.logging.v2.LoggingServiceV2 > schemas/logging-v2.methods.json
# Developer Connect v1: the connections and git repository links App Hosting backends name as their codebase.
"$PY" scripts/gen-schema.py $APIS.developerconnect.v1.developerconnect_v1_messages \
  Connection GitRepositoryLink ListConnectionsResponse ListGitRepositoryLinksResponse FetchReadTokenResponse \
  FetchReadWriteTokenResponse FetchGitRefsResponse Operation OperationMetadata ListOperationsResponse Location \
  ListLocationsResponse Empty > schemas/developerconnect-v1.json
"$PY" scripts/gen-methods.py $APIS.developerconnect.v1.developerconnect_v1_client developerconnect.googleapis.com \
  google.cloud.developerconnect.v1.DeveloperConnect > schemas/developerconnect-v1.methods.json
# Firebase App Hosting v1 and v1beta: gcloud ships no client, so messages come from googleapis' typings (and enum
# values from the discovery documents, schemas/firebaseapphosting.enums.json).
for v in v1 v1beta; do
  node scripts/gen-schema-googleapis.mjs firebaseapphosting $v > schemas/firebaseapphosting-$v.json
done
