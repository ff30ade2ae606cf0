// What proves a task's process or container is Gantry's own. A handle (a process id, a container id) stored with a
// resource may have come from outside (an imported snapshot), so an executor acts on a handle only with proof it
// kept itself, in the data directory, never in the store: a container carries this data directory's instance label
// (and its task's owner); a process id is recorded with the process's start time, which a later process reusing
// the id does not share. A process killed with its Gantry before that record was written is found by its environment
// instead: each task's process carries a token only this data directory's Gantry can make for its owner.
import { createHmac, randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/** Label every container Gantry starts carries: the instance (data directory) that started it. */
export const INSTANCE_LABEL = 'gantry.dev/instance';
/** Label naming the resource a container works for (its task's owner). */
export const OWNER_LABEL = 'gantry.dev/owner';

/** This data directory's instance id, made once and kept, so a restarted Gantry knows its containers again. */
export function instanceId(dir: string): string {
  const file = join(dir, 'instance');
  try {
    const id = readFileSync(file, 'utf8').trim();
    if (/^[0-9a-f]{32}$/.test(id)) return id;
  } catch { /* made below */ }
  mkdirSync(dir, { recursive: true });
  const id = randomBytes(16).toString('hex');
  writeFileSync(file, id + '\n', { mode: 0o600 });
  return id;
}

/** When a process started (`/proc/<pid>/stat` field 22, clock ticks since boot); undefined when it is gone or unknown. */
export function processStartTime(pid: number): string | undefined {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  // The command name (field 2) may hold spaces and parentheses: fields are counted after its closing one.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const start = fields[22 - 3];
  return start && /^\d+$/.test(start) ? start : undefined;
}

/** The environment variable holding a task process's token (ProcessRecords.token). */
export const TASK_TOKEN_ENV = 'GANTRY_TASK_TOKEN';

/** A process's group (`/proc/<pid>/stat` field 5). */
function processGroup(pid: number): number | undefined {
  let stat: string;
  try { stat = readFileSync(`/proc/${pid}/stat`, 'utf8'); } catch { return undefined; }
  const group = stat.slice(stat.lastIndexOf(')') + 2).split(' ')[5 - 3];
  return group && /^\d+$/.test(group) ? Number(group) : undefined;
}

/**
 * The processes this data directory's Gantry started and has not seen end: one file per pid holding its start time
 * and owner. Without /proc (not Linux) no start time can be proven, so no process is ever signalled by handle.
 */
export class ProcessRecords {
  private key: string;

  constructor(private dir: string) {
    mkdirSync(dir, { recursive: true });
    // The records directory's own id (its `instance` file) keys the tokens: records are the files named by pids.
    this.key = instanceId(dir);
  }

  /**
   * The token a task's process carries in its environment (TASK_TOKEN_ENV) for `owner`: set before the process
   * exists, unlike its record, so what a Gantry killed in between left running is still found (`carrying`).
   */
  token(owner: string): string { return createHmac('sha256', this.key).update(owner).digest('hex').slice(0, 32); }

  /**
   * The live processes whose environment carries `owner`'s token (a task's process, and the children it forked, which
   * inherit it), with their process groups. Linux only (/proc); none elsewhere.
   */
  carrying(owner: string): { pid: number; group: number }[] {
    const needle = Buffer.from(`\0${TASK_TOKEN_ENV}=${this.token(owner)}\0`);
    const found: { pid: number; group: number }[] = [];
    let entries: string[];
    try { entries = readdirSync('/proc'); } catch { return found; }
    for (const e of entries) {
      if (!/^[1-9]\d*$/.test(e) || Number(e) === process.pid) continue;
      let env: Buffer;
      try { env = Buffer.concat([Buffer.from([0]), readFileSync(`/proc/${e}/environ`)]); } catch { continue; }
      if (env.indexOf(needle) < 0) continue;
      const group = processGroup(Number(e));
      if (group !== undefined) found.push({ pid: Number(e), group });
    }
    return found;
  }

  add(pid: number, owner: string | undefined): void {
    const start = processStartTime(pid);
    if (start === undefined) return;
    writeFileSync(this.file(pid), JSON.stringify({ start, owner: owner ?? '' }), { mode: 0o600 });
  }

  remove(pid: number): void { rmSync(this.file(pid), { force: true }); }

  /** Whether `pid` is still the process Gantry started (and, when given, the one that works for `owner`). */
  owns(pid: number, owner?: string): boolean {
    let rec: { start?: unknown; owner?: unknown };
    try { rec = JSON.parse(readFileSync(this.file(pid), 'utf8')) as typeof rec; } catch { return false; }
    if (owner !== undefined && rec.owner !== owner) return false;
    const start = processStartTime(pid);
    if (start === undefined || start !== rec.start) { this.remove(pid); return false; }
    return true;
  }

  /** The recorded pids working for `owner` (still to be proven with `owns` before anything is signalled). */
  ownedBy(owner: string): number[] {
    const pids: number[] = [];
    for (const f of readdirSync(this.dir)) {
      if (!/^[1-9]\d{0,9}$/.test(f)) continue;
      try { if ((JSON.parse(readFileSync(join(this.dir, f), 'utf8')) as { owner?: unknown }).owner === owner) pids.push(Number(f)); } catch { /* gone meanwhile */ }
    }
    return pids;
  }

  private file(pid: number): string { return join(this.dir, String(pid)); }
}
