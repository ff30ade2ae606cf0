// `gantry status | reset | snapshot | clock`: the control API (/gantry/v1) of a running Gantry from the shell. The server
// is the one holding the data directory's lock (as `gantry env` finds it), or --url.
import { createWriteStream } from 'node:fs';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { DataDirLock } from '../store/lock.js';
import { parseFlexibleDurationMs } from '../google/time.js';
import { choice, parseFlags, UsageError } from './args.js';

export const CONTROL_COMMANDS = ['status', 'reset', 'snapshot', 'clock'] as const;
export type ControlCommand = typeof CONTROL_COMMANDS[number];
export const isControlCommand = (word: string | undefined): word is ControlCommand => (CONTROL_COMMANDS as readonly string[]).includes(word ?? '');

const TARGET_FLAGS = '[--data-dir DIR | --url URL] [--auth-token TOKEN]';
export const CONTROL_USAGE = `       gantry status [--json]                           what the running Gantry is: version, state, clock, executors, projects
       gantry reset [--project P]                       forget all state, or one project's
       gantry snapshot [--project P] [-o FILE]          write the state as NDJSON (to stdout: gantry snapshot > state.ndjson)
       gantry clock [advance D | freeze | unfreeze]     show or move the clock, e.g. gantry clock advance 10m`;
const HELP: Record<ControlCommand, string> = {
  status: `Usage: gantry status [--json] ${TARGET_FLAGS}\nPrints what the running Gantry is (version, where state lives, clock, executors, projects); --json prints GET /gantry/v1/info.`,
  reset: `Usage: gantry reset [--project P] ${TARGET_FLAGS}\nForgets all state (or one project's) and stops the work running for it; the clock is kept.`,
  snapshot: `Usage: gantry snapshot [--project P] [-o FILE] ${TARGET_FLAGS}\nWrites the whole state (or one project's) as newline-delimited JSON; start from it with gantry --import FILE.`,
  clock: `Usage: gantry clock [advance DURATION | freeze | unfreeze] ${TARGET_FLAGS}\nShows the clock, or moves a virtual one (freeze stops a real clock where it is; advance moves it, e.g. 90s, 10m, 1h30m, and answers once everything due has happened).`,
};
const TARGET_OPTIONS = { 'data-dir': { type: 'string' }, url: { type: 'string' }, 'auth-token': { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

interface Target { url: string; token?: string }

/** The running Gantry: --url, else the one holding the data directory's lock. */
export function findGantry(values: { 'data-dir'?: string; url?: string; 'auth-token'?: string }, env: NodeJS.ProcessEnv): Target {
  const token = values['auth-token'] ?? (env.GANTRY_AUTH_TOKEN || undefined);
  if (values.url) {
    if (!/^https?:\/\/[^/]+\/?$/.test(values.url)) throw new UsageError(`--url must be Gantry's address, e.g. http://127.0.0.1:8080, not "${values.url}"`);
    return { url: values.url.replace(/\/$/, ''), token };
  }
  const dir = values['data-dir'] ?? env.GANTRY_DATA_DIR ?? '.gantry';
  const url = DataDirLock.read(dir)?.url;
  if (!url) throw new Error(`no Gantry is running on ${dir} (start one, or pass --data-dir or --url)`);
  return { url, token };
}

/** Calls the control API; a refusal becomes an Error carrying the server's message. */
async function call(t: Target, method: 'GET' | 'POST', path: string, body?: unknown): Promise<Response> {
  let res: Response;
  try {
    res = await fetch(t.url + path, {
      method,
      headers: { ...(t.token ? { authorization: `Bearer ${t.token}` } : {}), ...(body !== undefined ? { 'content-type': 'application/json' } : {}) },
      body: body !== undefined ? JSON.stringify(body) : undefined,
    });
  } catch (e) {
    throw new Error(`cannot reach Gantry at ${t.url} (${((e as Error).cause as Error | undefined)?.message ?? (e as Error).message}): is it still running?`);
  }
  if (!res.ok) {
    const text = await res.text();
    let message = text.slice(0, 300);
    try { message = (JSON.parse(text) as { error: { message: string } }).error.message; } catch { /* not a google.rpc.Status */ }
    throw new Error(`${res.status === 401 ? 'refused (give --auth-token or GANTRY_AUTH_TOKEN): ' : ''}${message}`);
  }
  return res;
}

const json = async <T>(r: Promise<Response>) => (await (await r).json()) as T;

interface Info {
  version: string; url: string; ephemeral: boolean; dataDir?: string; pid: number; startTime: string;
  clock: { mode: string; now: string };
  executors: { enabled: string[]; default: string; containerEngine: string };
}

/** Runs one control subcommand, writing its output to `out`. */
export async function controlCommand(command: ControlCommand, args: string[], out: NodeJS.WritableStream, env: NodeJS.ProcessEnv = process.env): Promise<void> {
  switch (command) {
    case 'status': {
      const { values } = parseFlags(args, { ...TARGET_OPTIONS, json: { type: 'boolean' } });
      if (values.help) return void out.write(HELP.status + '\n');
      const t = findGantry(values, env);
      const info = await json<Info>(call(t, 'GET', '/gantry/v1/info'));
      if (values.json) return void out.write(JSON.stringify(info, null, 2) + '\n');
      const { projects } = await json<{ projects: string[] }>(call(t, 'GET', '/gantry/v1/projects'));
      const others = info.executors.enabled.filter(e => e !== info.executors.default);
      out.write([
        `Gantry ${info.version} at ${info.url} (pid ${info.pid}, since ${info.startTime})`,
        `State:     ${info.ephemeral ? 'in memory (--ephemeral)' : info.dataDir}`,
        `Clock:     ${info.clock.mode}, ${info.clock.now}`,
        `Executor:  ${info.executors.default}${others.length ? ` (targets may also choose ${others.join(', ')})` : ''}; container engine ${info.executors.containerEngine.toLowerCase()}`,
        `Projects:  ${projects.length ? projects.join(', ') : 'none yet'}`,
        `Console:   ${info.url}/console`,
      ].join('\n') + '\n');
      return;
    }
    case 'reset': {
      const { values } = parseFlags(args, { ...TARGET_OPTIONS, project: { type: 'string' } });
      if (values.help) return void out.write(HELP.reset + '\n');
      const r = await json<{ resources: number; tasksStopped?: number }>(call(findGantry(values, env), 'POST', '/gantry/v1/reset', values.project !== undefined ? { project: values.project } : {}));
      out.write(`Reset ${values.project ? `project ${values.project}` : 'all state'}: ${r.resources} resources forgotten${r.tasksStopped ? `, ${r.tasksStopped} running tasks stopped` : ''}\n`);
      return;
    }
    case 'snapshot': {
      const { values } = parseFlags(args, { ...TARGET_OPTIONS, project: { type: 'string' }, output: { type: 'string', short: 'o' } });
      if (values.help) return void out.write(HELP.snapshot + '\n');
      const t = findGantry(values, env);
      if (!values.output && (out as NodeJS.WriteStream).isTTY) throw new UsageError('a snapshot is NDJSON for a file: redirect it (gantry snapshot > state.ndjson) or give -o FILE');
      const res = await call(t, 'GET', `/gantry/v1/snapshot${values.project !== undefined ? `?project=${encodeURIComponent(values.project)}` : ''}`);
      // Streamed: a large state is never held whole.
      const body = Readable.fromWeb(res.body as import('node:stream/web').ReadableStream);
      if (values.output) await pipeline(body, createWriteStream(values.output));
      else for await (const chunk of body) if (!out.write(chunk as Buffer)) await new Promise(r => out.once('drain', r));
      return;
    }
    case 'clock': {
      const { values, positionals } = parseFlags(args, TARGET_OPTIONS, true);
      if (values.help) return void out.write(HELP.clock + '\n');
      const [verb, arg, ...rest] = positionals;
      const t = findGantry(values, env);
      let view: { mode: string; now: string };
      if (verb === undefined) view = await json(call(t, 'GET', '/gantry/v1/clock'));
      else {
        const action = choice('clock action', verb, ['advance', 'freeze', 'unfreeze'] as const);
        if (action === 'advance' && arg === undefined) throw new UsageError('clock advance needs a duration, e.g. gantry clock advance 10m');
        if (action === 'advance' && !(parseFlexibleDurationMs(arg!)! >= 0)) throw new UsageError(`invalid duration "${arg}": use e.g. 90s, 10m, 1h30m`);
        const extra = action === 'advance' ? rest : [arg, ...rest].filter(x => x !== undefined);
        if (extra.length) throw new UsageError(`unexpected argument "${extra[0]}"`);
        view = await json(call(t, 'POST', `/gantry/v1/clock:${action}`, action === 'advance' ? { duration: arg } : undefined));
      }
      out.write(`${view.now} (${view.mode} clock)\n`);
      return;
    }
  }
}
