// Runs the real gcloud against a Gantry, with a private config dir so the user's is never touched.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { tempDir } from './server.js';

const run = promisify(execFile);

export interface Gcloud {
  (args: string[]): Promise<{ stdout: string; stderr: string }>;
  json<T = unknown>(args: string[]): Promise<T>;
  fails(args: string[]): Promise<string>;
}

export async function gcloudFor(url: string, project = 'my-proj'): Promise<Gcloud> {
  const env = {
    ...process.env, CLOUDSDK_CONFIG: tempDir('gcloud-'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1', CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1',
    // gcloud storage speaks the JSON API by default; pinned, since Gantry serves no gRPC (`grpc_with_json_fallback`
    // or `use_grpc_if_available` would try a gRPC endpoint first).
    CLOUDSDK_STORAGE_PREFERRED_API: 'json', CLOUDSDK_STORAGE_USE_GRPC_IF_AVAILABLE: 'false',
  };
  const g = (async (args: string[]) => run('gcloud', args, { env, timeout: 120_000, maxBuffer: 16 << 20 })) as Gcloud;
  g.json = async <T>(args: string[]) => JSON.parse((await g([...args, '--format=json'])).stdout) as T;
  g.fails = async (args: string[]) => {
    try {
      await g(args);
    } catch (e) {
      return (e as { stderr: string }).stderr;
    }
    throw new Error(`gcloud ${args.join(' ')} succeeded; expected a failure`);
  };
  for (const [k, v] of [
    ['api_endpoint_overrides/clouddeploy', url + '/'],
    ['api_endpoint_overrides/storage', url + '/storage/v1/'],
    ['auth/disable_credentials', 'true'],
    ['core/project', project],
    ['deploy/region', 'us-central1'],
    ['core/disable_usage_reporting', 'true'],
  ]) await g(['config', 'set', k, v]);
  return g;
}
