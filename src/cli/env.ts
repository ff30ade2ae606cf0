// `gantry env`: the environment that points every supported client at a running Gantry, for `eval "$(gantry env)"`.
// gcloud takes any property from CLOUDSDK_<SECTION>_<PROPERTY>, so no gcloud configuration is touched. Paths are
// absolute (gcloud refuses a relative CA file, and the shell may be anywhere).
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { CREDENTIALS_FILE } from '../server/tls.js';
import { DataDirLock } from '../store/lock.js';
import { choice, parseFlags, UsageError } from './args.js';

export const SHELLS = ['bash', 'zsh', 'fish', 'powershell'] as const;
export type Shell = typeof SHELLS[number];

/** The project `gantry env` names when Gantry holds none yet, and the region it names without --region. */
export const DEFAULT_PROJECT = 'my-project';
export const DEFAULT_REGION = 'us-central1';

export interface EnvTarget {
  url: string;
  tlsCertFile?: string;
  authToken?: string;
  project: string;
  region: string;
}

/**
 * The gcloud APIs pointed at Gantry's root (`CLOUDSDK_API_ENDPOINT_OVERRIDES_<API>`). Cloud Build is not served: pointed
 * here its calls get Gantry's 501 UNIMPLEMENTED on this machine instead of reaching Google with made-up credentials.
 */
const GCLOUD_APIS_AT_ROOT = ['CLOUDDEPLOY', 'SECRETMANAGER', 'LOGGING', 'DEVELOPERCONNECT', 'SERVICEUSAGE', 'CLOUDRESOURCEMANAGER', 'IAM', 'CLOUDBUILD'];
/**
 * firebase-tools' origins (`utils.envOverride` in its lib/api.js) for what it calls around App Hosting. GitHub, the
 * token endpoint, Firedata, billing and Cloud Build are not served: pointed here they get a Google-shaped refusal on this machine
 * instead of a call to Google with Gantry's made-up credentials.
 */
const FIREBASE_ORIGINS = ['FIREBASE_APPHOSTING_URL', 'FIREBASE_SERVICE_USAGE_URL', 'FIREBASE_RESOURCEMANAGER_URL', 'FIREBASE_IAM_URL',
  'FIREBASE_STORAGE_URL', 'FIREBASE_API_URL', 'DEVELOPERCONNECT_URL', 'CLOUD_SECRET_MANAGER_URL', 'FIREBASE_CLOUDLOGGING_URL', 'CLOUD_RUN_API_URL',
  'GITHUB_API_URL', 'FIREBASE_TOKEN_URL', 'FIREBASE_FIREDATA_URL', 'FIREBASE_CLOUDBILLING_URL', 'FIREBASE_CLOUDBUILD_URL'];

/** Variables by name, in the order they are printed. */
export function clientEnvironment(t: EnvTarget): [string, string][] {
  const u = new URL(t.url);
  const base = `${u.protocol}//${u.host}`;
  const runHost = `http://run.localhost:${u.port || 80}/`;
  const token = t.authToken ?? 'gantry';
  return [
    // gcloud: every API Gantry serves, Cloud Run v1 through Gantry as its proxy (its regional host names), REST
    // storage; gRPC commands (`logging tail`) tunnel through the same proxy to Gantry's TLS.
    ...GCLOUD_APIS_AT_ROOT.map(api => [`CLOUDSDK_API_ENDPOINT_OVERRIDES_${api}`, `${base}/`] as [string, string]),
    ['CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE', `${base}/storage/v1/`],
    ['CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN', runHost],
    ['CLOUDSDK_PROXY_TYPE', 'http'],
    ['CLOUDSDK_PROXY_ADDRESS', u.hostname.replace(/^\[|\]$/g, '')],
    ['CLOUDSDK_PROXY_PORT', u.port || '80'],
    ['CLOUDSDK_STORAGE_PREFERRED_API', 'json'],
    ['CLOUDSDK_STORAGE_USE_GRPC_IF_AVAILABLE', 'false'],
    ['CLOUDSDK_AUTH_ACCESS_TOKEN', token],
    ...(t.tlsCertFile ? [['CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE', resolve(t.tlsCertFile)] as [string, string]] : []),
    ['CLOUDSDK_CORE_PROJECT', t.project],
    ['CLOUDSDK_RUN_REGION', t.region],
    ['CLOUDSDK_DEPLOY_REGION', t.region],
    // gcloud would otherwise report usage and look for updates at Google.
    ['CLOUDSDK_CORE_DISABLE_USAGE_REPORTING', 'true'],
    ['CLOUDSDK_COMPONENT_MANAGER_DISABLE_UPDATE_CHECK', 'true'],
    // The Node libraries: their project, and the emulator variable of @google-cloud/storage.
    ['GOOGLE_CLOUD_PROJECT', t.project],
    // ...and over gRPC (@google-cloud/*): `clouddeploy.localhost:443` reached through Gantry as their proxy (a tunnel
    // Gantry serves itself), its TLS trusted, with a made-up service account whose tokens they sign themselves.
    ...(t.tlsCertFile ? ([
      ['GOOGLE_CLOUD_UNIVERSE_DOMAIN', 'localhost'],
      ['grpc_proxy', base],
      ['GRPC_DEFAULT_SSL_ROOTS_FILE_PATH', resolve(t.tlsCertFile)],
      ['GOOGLE_APPLICATION_CREDENTIALS', join(dirname(resolve(t.tlsCertFile)), CREDENTIALS_FILE)],
    ] as [string, string][]) : []),
    ['STORAGE_EMULATOR_HOST', base],
    // firebase-tools: every origin it touches around App Hosting.
    ...FIREBASE_ORIGINS.map(n => [n, base] as [string, string]),
    ['FIREBASE_TOKEN', token],
    ['GANTRY_URL', base],
    ['GANTRY_PROJECT', t.project],
    ['GANTRY_REGION', t.region],
  ];
}

function quote(shell: Shell, v: string): string {
  return shell === 'powershell' ? `'${v.replace(/'/g, "''")}'` : shell === 'fish' ? `'${v.replace(/[\\']/g, c => '\\' + c)}'` : `'${v.replace(/'/g, `'\\''`)}'`;
}

export function render(shell: Shell, vars: [string, string][]): string {
  const line = ([k, v]: [string, string]) => shell === 'fish' ? `set -gx ${k} ${quote(shell, v)};`
    : shell === 'powershell' ? `$env:${k} = ${quote(shell, v)}` : `export ${k}=${quote(shell, v)}`;
  return vars.map(line).join('\n') + '\n';
}

export const ENV_HELP = `Usage: gantry env [options]
Prints the environment that points gcloud, the Google client libraries and firebase-tools at a running Gantry:
  eval "$(gantry env)"                  (bash, zsh)
  gantry env --shell fish | source
  gantry env --shell powershell | Invoke-Expression

  --shell SHELL        ${SHELLS.join(', ')}: the syntax printed (default bash)
  --project P          the project clients use (default: the project Gantry holds, the first by name when several,
                       else ${DEFAULT_PROJECT})
  --region R           the region gcloud's run and deploy commands use (default ${DEFAULT_REGION})
  --data-dir DIR       find the Gantry holding DIR (GANTRY_DATA_DIR, default ./.gantry)
  --url URL            the Gantry at URL instead, e.g. http://127.0.0.1:8080
  --auth-token TOKEN   the token Gantry requires (GANTRY_AUTH_TOKEN)
  -h, --help           this text`;

const ENV_OPTIONS = {
  shell: { type: 'string' }, project: { type: 'string' }, region: { type: 'string' }, 'data-dir': { type: 'string' }, url: { type: 'string' },
  'auth-token': { type: 'string' }, help: { type: 'boolean', short: 'h' },
} as const;

/** Where `gantry env` finds the server, and what it asks it. */
export interface EnvDeps {
  env?: NodeJS.ProcessEnv;
  /** The projects the server holds (GET /gantry/v1/projects); undefined when it does not answer. */
  projects?: (url: string, token: string | undefined) => Promise<string[] | undefined>;
  /** How long to wait for a starting Gantry's client credentials file. */
  waitMs?: number;
}

async function untilExists(file: string, ms: number): Promise<void> {
  for (const end = Date.now() + ms; !existsSync(file) && Date.now() < end;) await new Promise(r => setTimeout(r, 50));
}

/** The text `gantry env` prints; throws a one-line UsageError for a bad command line, an Error when no Gantry runs. */
export async function envCommand(args: string[], deps: EnvDeps = {}): Promise<string> {
  const env = deps.env ?? process.env;
  const { values } = parseFlags(args, ENV_OPTIONS);
  if (values.help) return ENV_HELP + '\n';
  const shell = choice('--shell', values.shell ?? 'bash', SHELLS);
  if (values.project !== undefined && !/^[a-z][a-z0-9-]{4,28}[a-z0-9]$/.test(values.project)) {
    throw new UsageError(`invalid --project "${values.project}": a project id is 6 to 30 lowercase letters, digits and hyphens, starting with a letter`);
  }
  if (values.region !== undefined && !/^[a-z]+-[a-z]+\d+$/.test(values.region)) throw new UsageError(`invalid --region "${values.region}": a region id, e.g. ${DEFAULT_REGION}`);
  if (values.url !== undefined && !/^https?:\/\/[^/]+\/?$/.test(values.url)) throw new UsageError(`invalid --url "${values.url}": Gantry's address, e.g. http://127.0.0.1:8080`);
  const dir = values['data-dir'] ?? env.GANTRY_DATA_DIR ?? '.gantry';
  const held = DataDirLock.read(dir);
  const url = values.url ?? held?.url;
  if (!url) throw new Error(`no Gantry is running on ${dir} (start one, or pass --url)`);
  const authToken = values['auth-token'] ?? env.GANTRY_AUTH_TOKEN;
  const project = values.project ?? (await (deps.projects ?? heldProjects)(url, authToken))?.sort()[0] ?? DEFAULT_PROJECT;
  // The lock names the certificate as the server saw it (relative to where it started): made absolute here.
  const tlsCertFile = values.url ? undefined : held?.tlsCertFile;
  // A Gantry just started makes its certificate and the Node libraries' credentials after it listens: a client given
  // GOOGLE_APPLICATION_CREDENTIALS before the file exists fails, so wait for it (it comes within a second or two).
  if (tlsCertFile) await untilExists(join(dirname(resolve(tlsCertFile)), CREDENTIALS_FILE), deps.waitMs ?? 15_000);
  return render(shell, clientEnvironment({ url, tlsCertFile, authToken, project, region: values.region ?? DEFAULT_REGION }));
}

async function heldProjects(url: string, token: string | undefined): Promise<string[] | undefined> {
  try {
    const r = await fetch(new URL('/gantry/v1/projects', url), { headers: token ? { authorization: `Bearer ${token}` } : {}, signal: AbortSignal.timeout(3_000) });
    if (!r.ok) return undefined;
    const { projects } = (await r.json()) as { projects?: unknown };
    return Array.isArray(projects) ? projects.filter((p): p is string => typeof p === 'string') : undefined;
  } catch {
    return undefined;
  }
}
