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
