// `gantry env`: the environment that points every supported client at a running Gantry, for `eval "$(gantry env)"`.
// gcloud takes any property from CLOUDSDK_<SECTION>_<PROPERTY>, so no gcloud configuration is touched.
import { parseArgs } from 'node:util';
import { DataDirLock } from '../store/lock.js';

export type Shell = 'bash' | 'fish' | 'powershell';

export interface EnvTarget {
  url: string;
  tlsCertFile?: string;
  authToken?: string;
}

/** Variables by name, in the order they are printed. */
export function clientEnvironment(t: EnvTarget): [string, string][] {
  const u = new URL(t.url);
  const base = `${u.protocol}//${u.host}`;
  const runHost = `http://run.localhost:${u.port || 80}/`;
  const token = t.authToken ?? 'gantry';
  return [
    // gcloud: every API Gantry serves, Cloud Run v1 through Gantry as its proxy (its regional host names), REST storage.
    ['CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDDEPLOY', `${base}/`],
    ['CLOUDSDK_API_ENDPOINT_OVERRIDES_STORAGE', `${base}/storage/v1/`],
    ['CLOUDSDK_API_ENDPOINT_OVERRIDES_RUN', runHost],
    ['CLOUDSDK_API_ENDPOINT_OVERRIDES_SECRETMANAGER', `${base}/`],
    ['CLOUDSDK_API_ENDPOINT_OVERRIDES_LOGGING', `${base}/`],
    ['CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER', `${base}/`],
    ['CLOUDSDK_PROXY_TYPE', 'http'],
    ['CLOUDSDK_PROXY_ADDRESS', u.hostname.replace(/^\[|\]$/g, '')],
    ['CLOUDSDK_PROXY_PORT', u.port || '80'],
    ['CLOUDSDK_STORAGE_PREFERRED_API', 'json'],
    ['CLOUDSDK_STORAGE_USE_GRPC_IF_AVAILABLE', 'false'],
    ['CLOUDSDK_AUTH_ACCESS_TOKEN', token],
    ...(t.tlsCertFile ? [['CLOUDSDK_CORE_CUSTOM_CA_CERTS_FILE', t.tlsCertFile] as [string, string]] : []),
    // The Node libraries' emulator variable (@google-cloud/storage).
    ['STORAGE_EMULATOR_HOST', base],
    // firebase-tools: every origin it touches around App Hosting.
    ...(['FIREBASE_APPHOSTING_URL', 'FIREBASE_SERVICE_USAGE_URL', 'FIREBASE_RESOURCEMANAGER_URL', 'FIREBASE_IAM_URL', 'FIREBASE_STORAGE_URL',
      'FIREBASE_API_URL', 'DEVELOPERCONNECT_URL', 'GITHUB_API_URL', 'FIREBASE_TOKEN_URL'].map(n => [n, base] as [string, string])),
    ['FIREBASE_TOKEN', 'gantry'],
    ['GANTRY_URL', base],
  ];
}

function quote(shell: Shell, v: string): string {
  return shell === 'powershell' ? `'${v.replace(/'/g, "''")}'` : `'${v.replace(/'/g, `'\\''`)}'`;
}

export function render(shell: Shell, vars: [string, string][]): string {
  return vars.map(([k, v]) => shell === 'fish' ? `set -gx ${k} ${quote(shell, v)};` : shell === 'powershell' ? `$env:${k} = ${quote(shell, v)}` : `export ${k}=${quote(shell, v)}`).join('\n') + '\n';
}

export const ENV_HELP = `Usage: gantry env [--shell bash|fish|powershell] [--data-dir DIR] [--url URL] [--auth-token TOKEN]
Prints the environment that points gcloud, the Google client libraries and firebase-tools at a running Gantry:
  eval "$(gantry env)"          (bash, zsh)
  gantry env --shell fish | source
  gantry env --shell powershell | Invoke-Expression
The server is the one holding DIR (GANTRY_DATA_DIR, default ./.gantry), or URL when given.`;

/** The text `gantry env` prints, or throws a one-line error. */
export function envCommand(args: string[], env: NodeJS.ProcessEnv = process.env): string {
  const { values } = parseArgs({ args, options: { shell: { type: 'string' }, 'data-dir': { type: 'string' }, url: { type: 'string' }, 'auth-token': { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) return ENV_HELP + '\n';
  const shell = (values.shell ?? 'bash') as Shell;
  if (!['bash', 'fish', 'powershell'].includes(shell)) throw new Error(`--shell must be bash, fish or powershell, not "${shell}"`);
  const dir = values['data-dir'] ?? env.GANTRY_DATA_DIR ?? '.gantry';
  const held = DataDirLock.read(dir);
  const url = values.url ?? held?.url;
  if (!url) throw new Error(`no Gantry is running on ${dir} (start one, or pass --url)`);
  return render(shell, clientEnvironment({ url, tlsCertFile: values.url ? undefined : held?.tlsCertFile, authToken: values['auth-token'] ?? env.GANTRY_AUTH_TOKEN }));
}
