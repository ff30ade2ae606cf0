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
# Every REST method of the APIs whose paths Gantry answers, served or not (scripts/gen-methods.py): a method
# Gantry does not serve is answered 501 UNIMPLEMENTED naming it.
"$PY" scripts/gen-methods.py $APIS.clouddeploy.v1.clouddeploy_v1_client clouddeploy.googleapis.com \
  google.cloud.deploy.v1.CloudDeploy > schemas/clouddeploy-v1.methods.json
"$PY" scripts/gen-methods.py $APIS.storage.v1.storage_v1_client storage.googleapis.com > schemas/storage-v1.methods.json
