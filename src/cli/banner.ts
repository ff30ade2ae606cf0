// What `gantry` prints once it listens: where it is, what runs work, where state lives, and the next step. Its first
// line is how callers of `--port 0` learn the port, so that line's form is fixed.
import { basename, resolve } from 'node:path';

export interface BannerFacts {
  url: string;
  tlsCertFile: string;
  /** Undefined when state is in memory (--ephemeral). */
  dataDir?: string;
  clock: string;
  executor: string;
  allowExecutors: readonly string[];
  authToken: boolean;
  startedMs: number;
  /** The PostgreSQL store's URL, when resources are kept there. */
  store?: string;
}

/** A store URL as printed: without its password. */
export function redactedUrl(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return '(an unreadable URL)';
  }
}

const RUNS: Record<string, string> = {
  simulated: 'simulated: nothing runs; job runs, tasks and builds succeed after a delay unless scripted (--executor process or container runs them)',
  process: 'process: job runs, tasks, builds and apps run as processes on this machine',
  container: 'container: job runs, tasks, builds and apps run in containers of the Docker Engine',
};

/** How to run this gantry again from any directory: `gantry` when installed on the PATH, else node and the script's
 *  absolute path (`npm start` runs it from the clone). */
function self(): string {
  const script = process.argv[1] ?? 'gantry';
  return basename(script) === 'gantry' ? 'gantry' : `node ${resolve(script)}`;
}

export function startBanner(f: BannerFacts): string {
  const others = f.allowExecutors.filter(e => e !== f.executor);
  const dataDir = f.dataDir === undefined ? undefined : resolve(f.dataDir);
  const env = `${self()} env ${dataDir === undefined ? `--url ${f.url}` : `--data-dir ${dataDir}`}`;
  const files = dataDir ?? 'in memory';
  return [
    `Gantry listening on ${f.url} (data ${f.store ? 'PostgreSQL' : files}, clock ${f.clock}) in ${f.startedMs.toFixed(0)}ms`,
    `Executor: ${RUNS[f.executor] ?? f.executor}${others.length ? `; targets may also choose ${others.join(', ')}` : ''}`,
    f.store ? `State: resources in ${redactedUrl(f.store)}, with Cloud Storage bytes and Cloud Logging entries, shared with every Gantry on it; work files ${dataDir ?? 'in memory'}`
      : `State: ${dataDir ?? 'in memory, gone when Gantry stops'}`,
    `TLS on the same port, for clients that need it (gcloud's gRPC commands): trust ${f.tlsCertFile}`,
    // The token goes in the fragment, which the browser never sends: the console reads it from there.
    `Console: ${f.url}/console${f.authToken ? '#token=<your --auth-token>' : ''}`,
    `Next: eval "$(${env})" in any shell, then gcloud, the Google client libraries and firebase-tools talk to this Gantry`,
  ].join('\n') + '\n';
}
