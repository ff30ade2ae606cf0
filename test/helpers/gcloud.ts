// Runs the real gcloud against a Gantry, with a private config dir so the user's is never touched.
import { execFile } from 'node:child_process';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { tempDir } from './server.js';
import { clientEnvironment } from '../../src/cli/env.js';

const run = promisify(execFile);

/** `cwd`: where the command runs (a quickstart's `gcloud deploy releases create` uploads its working directory). */
export interface GcloudOptions { cwd?: string }

export interface Gcloud {
  (args: string[], opts?: GcloudOptions): Promise<{ stdout: string; stderr: string }>;
  json<T = unknown>(args: string[], opts?: GcloudOptions): Promise<T>;
  fails(args: string[], opts?: GcloudOptions): Promise<string>;
  /** The environment gcloud runs with (its private config dir), for commands a test starts itself. */
  env: NodeJS.ProcessEnv;
}

/**
 * `run`: also point Cloud Run (and Secret Manager and Logging, which its commands use) at the Gantry. gcloud reaches
 * Cloud Run v1 at `{region}-{host}`, so it goes through Gantry as its HTTP proxy, with `run.localhost` as the host
 * (a loopback name, so Gantry answers it as it is).
 */
export async function gcloudFor(url: string, project = 'my-proj', opts: { run?: boolean } = {}): Promise<Gcloud> {
  const env = {
    ...process.env, CLOUDSDK_CONFIG: tempDir('gcloud-'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1', CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK: '1',
    // gcloud storage speaks the JSON API by default; pinned, since Gantry serves no Cloud Storage gRPC (`grpc_with_json_fallback`
    // or `use_grpc_if_available` would try a gRPC endpoint first).
    CLOUDSDK_STORAGE_PREFERRED_API: 'json', CLOUDSDK_STORAGE_USE_GRPC_IF_AVAILABLE: 'false',
  };
  const g = gcloudRunner(env);
  const props: [string, string][] = [
    ['api_endpoint_overrides/clouddeploy', url + '/'],
    ['api_endpoint_overrides/storage', url + '/storage/v1/'],
    ['auth/disable_credentials', 'true'],
    ['core/project', project],
    ['deploy/region', 'us-central1'],
    ['core/disable_usage_reporting', 'true'],
  ];
  if (opts.run) {
    const u = new URL(url);
    props.push(
      ['api_endpoint_overrides/run', `http://run.localhost:${u.port}/`],
      ['api_endpoint_overrides/secretmanager', url + '/'],
      ['api_endpoint_overrides/logging', url + '/'],
      ['api_endpoint_overrides/cloudresourcemanager', url + '/'],
      // `run deploy` asks Service Usage whether the Run API is enabled, as `gantry env` points it here.
      ['api_endpoint_overrides/serviceusage', url + '/'],
      ['proxy/type', 'http'], ['proxy/address', u.hostname], ['proxy/port', u.port],
      ['run/region', 'us-central1'], ['core/disable_color', 'true'],
    );
  }
  writeConfig(env.CLOUDSDK_CONFIG, props);
  return g;
}

/**
 * gcloud with exactly what `eval "$(gantry env)"` gives it (`clientEnvironment`), plus a private config dir: for
 * tests of Google's docs, whose commands must work with nothing added by hand.
 */
export function gcloudWithGantryEnv(url: string, project: string, region = 'us-central1'): Gcloud {
  const env: NodeJS.ProcessEnv = {
    PATH: process.env.PATH, HOME: tempDir('gcloud-home-'), CLOUDSDK_CONFIG: tempDir('gcloud-'), CLOUDSDK_CORE_DISABLE_PROMPTS: '1',
    ...Object.fromEntries(clientEnvironment({ url, project, region })),
  };
  return gcloudRunner(env);
}

/** Runs gcloud with `env`, its output without terminal attributes. */
function gcloudRunner(env: NodeJS.ProcessEnv): Gcloud {
  // Terminal attributes (gcloud bolds names even without colour) would split what tests match.
  const plain = (s: string) => s.replace(/\x1b\[[0-9;]*m/g, '');
  const g = (async (args: string[], opts: GcloudOptions = {}) => {
    try {
      const r = await run('gcloud', args, { env, timeout: 120_000, maxBuffer: 16 << 20, ...(opts.cwd ? { cwd: opts.cwd } : {}) });
      return { stdout: plain(r.stdout), stderr: plain(r.stderr) };
    } catch (e) {
      const err = e as { stdout?: string; stderr?: string };
      if (err.stderr !== undefined) err.stderr = plain(err.stderr);
      if (err.stdout !== undefined) err.stdout = plain(err.stdout);
      throw e;
    }
  }) as Gcloud;
  g.env = env;
  g.json = async <T>(args: string[], opts?: GcloudOptions) => JSON.parse((await g([...args, '--format=json'], opts)).stdout) as T;
  g.fails = async (args: string[], opts?: GcloudOptions) => {
    try {
      await g(args, opts);
    } catch (e) {
      return (e as { stderr: string }).stderr;
    }
    throw new Error(`gcloud ${args.join(' ')} succeeded; expected a failure`);
  };
  return g;
}

/**
 * Writes gcloud's default configuration as `gcloud config set` would (an INI file per configuration), at once rather
 * than one gcloud start per property; `gce` says this is no Compute Engine VM, so gcloud never probes a metadata server.
 */
function writeConfig(dir: string, props: [string, string][]): void {
  const sections = new Map<string, string[]>();
  for (const [key, value] of props) {
    const [section, name] = key.split('/');
    sections.set(section, [...sections.get(section) ?? [], `${name} = ${value}`]);
  }
  mkdirSync(join(dir, 'configurations'), { recursive: true });
  writeFileSync(join(dir, 'configurations', 'config_default'), [...sections].map(([s, lines]) => `[${s}]\n${lines.join('\n')}\n`).join('\n'));
  writeFileSync(join(dir, 'active_config'), 'default');
  writeFileSync(join(dir, 'gce'), 'False');
}
