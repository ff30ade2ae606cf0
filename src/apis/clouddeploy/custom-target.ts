// The custom target contract (cloud-deploy-samples' `clouddeploy` package): what a custom target type's
// render and deploy actions are told through their environment, and the `results.json` they leave in
// the output folder, which Cloud Deploy reads to finish the render or deploy.
import type { Resource } from '../../google/standard-methods.js';
import { artifactBase, deployParametersFor } from './render.js';

type Obj = Record<string, unknown>;

export interface CustomRequest {
  type: 'RENDER' | 'DEPLOY';
  release: Resource;
  target: Resource;
  phase: string;
  percentage: number;
  /** Where the action writes `results.json` and its artifacts. */
  output: string;
  input: string;
  rollout?: string;
  skaffold?: string;
  manifest?: string;
  /** Gantry's HTTP origin: Google's storage clients reach it through STORAGE_EMULATOR_HOST. */
  storageOrigin: string;
}

/** The custom render's output folder for a target. */
export function renderOutput(release: Resource, targetId: string): string { return `${artifactBase(release, targetId)}/custom-output`; }

/** The environment of a custom action, as Cloud Deploy sets it (CLOUD_DEPLOY_* and customTarget/ parameters). */
export function customEnv(req: CustomRequest): Record<string, string> {
  const [, project, , location, , pipeline, , releaseId] = String(req.release.name).split('/');
  const env: Record<string, string> = {
    CLOUD_DEPLOY_REQUEST_TYPE: req.type, CLOUD_DEPLOY_FEATURES: '',
    CLOUD_DEPLOY_PROJECT: project, CLOUD_DEPLOY_PROJECT_ID: project, CLOUD_DEPLOY_LOCATION: location,
    CLOUD_DEPLOY_DELIVERY_PIPELINE: pipeline, CLOUD_DEPLOY_RELEASE: releaseId, CLOUD_DEPLOY_TARGET: String(req.target.targetId),
    CLOUD_DEPLOY_PHASE: req.phase, CLOUD_DEPLOY_PERCENTAGE_DEPLOY: String(req.percentage),
    CLOUD_DEPLOY_STORAGE_TYPE: 'GCS', CLOUD_DEPLOY_INPUT_GCS_PATH: req.input, CLOUD_DEPLOY_OUTPUT_GCS_PATH: req.output,
    CLOUD_DEPLOY_WORKLOAD_TYPE: 'CB', CLOUD_DEPLOY_WP_CB_ServiceAccount: '', CLOUD_DEPLOY_WP_CB_WorkerPool: '',
    STORAGE_EMULATOR_HOST: req.storageOrigin,
  };
  if (req.rollout) env.CLOUD_DEPLOY_ROLLOUT = req.rollout;
  if (req.skaffold) env.CLOUD_DEPLOY_SKAFFOLD_GCS_PATH = req.skaffold;
  if (req.manifest) env.CLOUD_DEPLOY_MANIFEST_GCS_PATH = req.manifest;
  // Deploy parameters in the customTarget/ namespace reach the action as CLOUD_DEPLOY_customTarget_<name>.
  for (const [k, v] of Object.entries(deployParametersFor(req.release, req.target))) {
    if (k.startsWith('customTarget/')) env[`CLOUD_DEPLOY_customTarget_${k.slice('customTarget/'.length)}`] = v;
  }
  return env;
}

export interface CustomResult { status: string; message?: string; manifestFile?: string; artifactFiles?: string[]; metadata?: Record<string, string>; skipMessage?: string }

/** Reads and checks `results.json`; a Google-worded failure when it is missing or malformed. */
export function readResults(read: (gs: string) => Buffer, output: string, type: 'RENDER' | 'DEPLOY'): CustomResult | { error: string } {
  let raw: Obj;
  try {
    raw = JSON.parse(read(`${output}/results.json`).toString('utf8')) as Obj;
  } catch (e) {
    return { error: (e as Error) instanceof SyntaxError ? `the ${type.toLowerCase()} results file ${output}/results.json is not valid JSON` : `the custom ${type.toLowerCase()} action did not write its results file ${output}/results.json` };
  }
  const status = String(raw.resultStatus ?? '');
  const allowed = type === 'RENDER' ? ['SUCCEEDED', 'FAILED', 'NOT_SUPPORTED'] : ['SUCCEEDED', 'FAILED', 'SKIPPED', 'NOT_SUPPORTED'];
  if (!allowed.includes(status)) return { error: `results file ${output}/results.json has resultStatus "${status}" (expected one of ${allowed.join(', ')})` };
  const metadata = raw.metadata && typeof raw.metadata === 'object' ? Object.fromEntries(Object.entries(raw.metadata as Obj).map(([k, v]) => [k, String(v)])) : undefined;
  return {
    status, message: raw.failureMessage === undefined ? undefined : String(raw.failureMessage),
    manifestFile: raw.manifestFile === undefined ? undefined : String(raw.manifestFile),
    artifactFiles: Array.isArray(raw.artifactFiles) ? raw.artifactFiles.map(String) : undefined,
    skipMessage: raw.skipMessage === undefined ? undefined : String(raw.skipMessage), metadata,
  };
}
