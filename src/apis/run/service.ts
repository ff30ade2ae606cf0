// The Cloud Run Admin API's identity and schemas: v1 (Knative-style, what gcloud speaks) and v2 (what Terraform and
// the client libraries speak). Both are views of the same stored jobs, executions and tasks.
import { fileURLToPath } from 'node:url';
import { ApiSchema } from '../../google/schema.js';

export const SERVICE = 'run.googleapis.com';
export const V1 = 'run.googleapis.com/v1';
export const V1_PREFIX = '/apis/run.googleapis.com/v1';
export const PROTO_PACKAGE = 'google.cloud.run.v2';

const file = (name: string) => fileURLToPath(new URL(`../../../../schemas/${name}`, import.meta.url));
export const schemaV1 = new ApiSchema(file('run-v1.json'), 'google.cloud.run.v1');
export const schemaV2 = new ApiSchema(file('run-v2.json'), PROTO_PACKAGE);

// The generated v1 client predates `TaskAttemptResult.termSignal`; the API has it.
schemaV1.messages.TaskAttemptResult.termSignal ??= { type: 'int32' };

/** Store kinds. */
export const JOB = 'run.job';
export const EXECUTION = 'run.execution';
export const TASK = 'run.task';

/** System labels and annotations Cloud Run writes (and gcloud reads). */
export const L = {
  location: 'cloud.googleapis.com/location',
  /** The job's last update, which gcloud's describe shows. */
  lastUpdatedTime: 'run.googleapis.com/lastUpdatedTime',
  job: 'run.googleapis.com/job',
  jobUid: 'run.googleapis.com/jobUid',
  jobGeneration: 'run.googleapis.com/jobGeneration',
  jobResourceVersion: 'run.googleapis.com/jobResourceVersion',
  execution: 'run.googleapis.com/execution',
  executionUid: 'run.googleapis.com/executionUid',
  taskIndex: 'run.googleapis.com/taskIndex',
  runningState: 'run.googleapis.com/runningState',
  creator: 'run.googleapis.com/creator',
  lastModifier: 'run.googleapis.com/lastModifier',
  operationId: 'run.googleapis.com/operation-id',
  launchStage: 'run.googleapis.com/launch-stage',
  executionEnvironment: 'run.googleapis.com/execution-environment',
} as const;

/** Who Gantry says made a change (there is no caller identity without IAM). */
export const CALLER = 'gantry@localhost';
