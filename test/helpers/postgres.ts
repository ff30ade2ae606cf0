// A throwaway PostgreSQL cluster for tests and benchmarks: initdb in a temporary directory, the server on a free
// loopback port with its socket in that directory, run as an unprivileged user (PostgreSQL refuses root; as root the
// cluster belongs to the `postgres` user Debian's package makes). CI installs Debian's postgresql and libpq-dev.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chownSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { freePort, tempDir } from './server.js';

export interface TestPostgres {
  /** A URL of the cluster's `postgres` database. */
  url: string;
  /** A new empty database, and its URL. */
  database(): string;
  /** Stops the server and starts it again on the same port (connections are cut). */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

function binDir(): string {
  const root = '/usr/lib/postgresql';
  const versions = existsSync(root) ? readdirSync(root).filter(v => existsSync(join(root, v, 'bin', 'initdb'))).sort((a, b) => Number(b) - Number(a)) : [];
  if (!versions.length) throw new Error('PostgreSQL is not installed (apt-get install postgresql libpq-dev)');
  return join(root, versions[0], 'bin');
}

let databases = 0;

export async function startPostgres(): Promise<TestPostgres> {
  const bin = binDir();
  const dir = tempDir('gantry-pg-');
  const data = join(dir, 'data');
  const root = process.getuid?.() === 0;
  const as = (cmd: string, args: string[]) => (root ? { cmd: 'runuser', args: ['-u', 'postgres', '--', cmd, ...args] } : { cmd, args });
  if (root) chownSync(dir, Number(execFileSync('id', ['-u', 'postgres']).toString().trim()), Number(execFileSync('id', ['-g', 'postgres']).toString().trim()));
  const init = as(join(bin, 'initdb'), ['-D', data, '-U', 'gantry', '--auth=trust', '-E', 'UTF8', '--locale=C.UTF-8', '--no-sync']);
  execFileSync(init.cmd, init.args, { stdio: 'ignore' });
  const port = await freePort();
  // fsync off: the OS holds what a commit wrote, which a killed server (not a lost machine) keeps; commits stay
  // synchronous, so an acknowledged write survives a restart of the server.
  const serve = as(join(bin, 'postgres'), ['-D', data, '-p', String(port), '-k', dir, '-c', 'listen_addresses=127.0.0.1',
    '-c', 'fsync=off', '-c', 'full_page_writes=off', '-c', 'max_connections=200']);
  let proc: ChildProcess;
  const url = `postgresql://gantry@127.0.0.1:${port}/postgres`;
  const psql = (db: string, sql: string) => execFileSync('psql', ['-h', '127.0.0.1', '-p', String(port), '-U', 'gantry', '-d', db, '-qAtc', sql], { stdio: ['ignore', 'pipe', 'pipe'] }).toString();
  const up = async () => {
    proc = spawn(serve.cmd, serve.args, { stdio: 'ignore' });
    const until = Date.now() + 20_000;
    for (;;) {
      try { psql('postgres', 'SELECT 1'); break; } catch { /* starting */ }
      if (proc.exitCode !== null || Date.now() > until) { proc.kill('SIGKILL'); throw new Error(`PostgreSQL did not start (see ${data})`); }
      await new Promise(r => setTimeout(r, 50));
    }
  };
  const down = () => {
    if (proc.exitCode !== null) return;
    // Immediate shutdown: connections are cut, nothing is kept. pg_ctl waits until the server is gone.
    const ctl = as(join(bin, 'pg_ctl'), ['-D', data, '-m', 'immediate', '-w', 'stop']);
    try { execFileSync(ctl.cmd, ctl.args, { stdio: 'ignore' }); } catch { proc.kill('SIGKILL'); }
  };
  await up();
  return {
    url,
    database() {
      const name = `t${process.pid}_${++databases}`;
      psql('postgres', `CREATE DATABASE ${name}`);
      return `postgresql://gantry@127.0.0.1:${port}/${name}`;
    },
    async restart() {
      down();
      await up();
    },
    async stop() {
      down();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What an instance says of its work in /gantry/v1/info. */
export interface WorkInfo { pid: number; work: { lease: string; slots: number[]; slotCount: number } }

export async function workOf(url: string): Promise<WorkInfo> {
  const r = await fetch(`${url}/gantry/v1/info`);
  if (!r.ok) throw new Error(`${url}/gantry/v1/info: ${r.status}`);
  return await r.json() as WorkInfo;
}

/**
 * Whether the instances at `urls` split the work as they should: every slot held by exactly one of them, none holding
 * more than its share (ceil(slots / instances)) or none at all.
 */
export async function splitEvenly(urls: string[]): Promise<boolean> {
  const infos = await Promise.all(urls.map(workOf));
  const all = infos.flatMap(i => i.work.slots);
  const count = infos[0].work.slotCount;
  const share = Math.ceil(count / urls.length);
  return all.length === count && new Set(all).size === count && infos.every(i => i.work.slots.length > 0 && i.work.slots.length <= share);
}

/** The URL of the instance (of `urls`) doing the work of `slot`, if one does. */
export async function workerOf(urls: string[], slot: number): Promise<string | undefined> {
  const infos = await Promise.all(urls.map(workOf));
  return urls[infos.findIndex(i => i.work.slots.includes(slot))];
}
