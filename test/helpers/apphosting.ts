// App Hosting test fixtures: a small Node web app in a local git repository (made here, no network), commits to it,
// and the official clients pointed at a Gantry.
import { execFileSync } from 'node:child_process';
import { request, type IncomingHttpHeaders } from 'node:http';
import { google, type developerconnect_v1, type firebaseapphosting_v1, type firebaseapphosting_v1beta } from 'googleapis';
import { tempDir, writeTree } from './server.js';

/** A web app answering `GET /` with `body` (and its env's GREETING), as App Hosting builds it: npm scripts, PORT. */
export function appFiles(body: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    'package.json': JSON.stringify({ name: 'hello-app', version: '1.0.0', private: true, scripts: { build: 'node build.js', start: 'node server.js' } }, null, 2),
    'package-lock.json': JSON.stringify({ name: 'hello-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'hello-app', version: '1.0.0' } } }, null, 2),
    'build.js': "require('fs').writeFileSync('built.txt', 'built at ' + (process.env.BUILD_LABEL || 'unset'));\n",
    'server.js': `const http = require('http');
const fs = require('fs');
const body = ${JSON.stringify(body)};
http.createServer((req, res) => {
  res.setHeader('content-type', 'text/plain');
  res.end(body + ' | ' + (process.env.GREETING || '') + ' | ' + fs.readFileSync('built.txt', 'utf8') + ' | ' + (req.headers['x-forwarded-host'] || '') + '\\n');
}).listen(Number(process.env.PORT), '127.0.0.1', () => console.log('listening on ' + process.env.PORT));
`,
    'apphosting.yaml': `runConfig:\n  cpu: 1\n  memoryMiB: 512\n  maxInstances: 2\nenv:\n  - variable: GREETING\n    value: hello from apphosting.yaml\n    availability: [RUNTIME]\n  - variable: BUILD_LABEL\n    value: build-time\n    availability: [BUILD]\n`,
    ...extra,
  };
}

const git = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 'Ada Lovelace', GIT_AUTHOR_EMAIL: 'ada@example.com', GIT_COMMITTER_NAME: 'Ada Lovelace', GIT_COMMITTER_EMAIL: 'ada@example.com' } }).trim();

/** A git repository (branch main) whose first commit holds `files`; returns its path. */
export function makeRepo(files: Record<string, string>, message = 'Initial commit'): string {
  const dir = tempDir('gantry-app-repo-');
  git(dir, 'init', '--quiet', '--initial-branch=main');
  return commit(dir, files, message).dir;
}

/** Commits `files` (written over what is there) to the repository's current branch; returns the commit hash. */
export function commit(dir: string, files: Record<string, string>, message: string): { dir: string; hash: string } {
  writeTree(dir, files);
  git(dir, 'add', '-A');
  git(dir, 'commit', '--quiet', '-m', message);
  return { dir, hash: git(dir, 'rev-parse', 'HEAD') };
}

/** GET `path` from Gantry with the Host header of a backend's uri (how a browser reaches the app through Gantry). */
export function getApp(gantryUrl: string, host: string, path = '/', headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: IncomingHttpHeaders }> {
  const u = new URL(gantryUrl);
  return new Promise((resolve, reject) => {
    const req = request({ host: u.hostname, port: u.port, path, headers: { ...headers, host } }, res => {
      let body = '';
      res.on('data', d => { body += d; });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function auth() {
  const a = new google.auth.OAuth2();
  a.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3600_000 });
  return a;
}

export function appHostingV1beta(url: string): firebaseapphosting_v1beta.Firebaseapphosting {
  return google.firebaseapphosting({ version: 'v1beta', rootUrl: url + '/', auth: auth() });
}
export function appHostingV1(url: string): firebaseapphosting_v1.Firebaseapphosting {
  return google.firebaseapphosting({ version: 'v1', rootUrl: url + '/', auth: auth() });
}
export function developerConnect(url: string): developerconnect_v1.Developerconnect {
  return google.developerconnect({ version: 'v1', rootUrl: url + '/', auth: auth() });
}

/** Polls an App Hosting operation (v1beta or v1) until done. */
export async function waitOp<T = Record<string, unknown>>(ah: firebaseapphosting_v1beta.Firebaseapphosting | firebaseapphosting_v1.Firebaseapphosting, name: string, timeoutMs = 60_000): Promise<{ done?: boolean | null; response?: T; error?: { code?: number | null; message?: string | null } }> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const op = (await ah.projects.locations.operations.get({ name })).data as { done?: boolean; response?: T; error?: { code?: number; message?: string } };
    if (op.done) return op;
    if (Date.now() > end) throw new Error(`operation ${name} not done within ${timeoutMs} ms`);
    await new Promise(r => setTimeout(r, 50));
  }
}
