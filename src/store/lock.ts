// One Gantry per data directory: a lock file naming the process that holds it and where it listens, so a second
// Gantry is refused with a clear message instead of sharing the database, and `gantry env` can find the server.
import { closeSync, openSync, readFileSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';

export interface LockInfo {
  pid: number;
  /** Set once the server listens. */
  url?: string;
  tlsCertFile?: string;
}

const FILE = 'gantry.lock';

function alive(pid: number): boolean {
  try { process.kill(pid, 0); return true; } catch (e) { return (e as NodeJS.ErrnoException).code === 'EPERM'; }
}

export class DataDirLock {
  private constructor(private file: string, private info: LockInfo) {}

  /** Takes the directory's lock, or throws naming the Gantry that holds it. A lock left by a dead process is taken over. */
  static acquire(dir: string): DataDirLock {
    const file = join(dir, FILE);
    for (let attempt = 0; attempt < 2; attempt++) {
      try {
        const fd = openSync(file, 'wx', 0o600);
        const info = { pid: process.pid };
        writeSync(fd, JSON.stringify(info));
        closeSync(fd);
        return new DataDirLock(file, info);
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
        const held = DataDirLock.read(dir);
        if (held && alive(held.pid)) {
          throw new Error(`the data directory ${dir} is in use by another Gantry (pid ${held.pid}${held.url ? `, ${held.url}` : ''}): stop it, or give this one another --data-dir`);
        }
        rmSync(file, { force: true }); // left by a process that is gone
      }
    }
    throw new Error(`could not lock the data directory ${dir}`);
  }

  /** The lock of a directory, if any (its holder may be gone). */
  static read(dir: string): LockInfo | undefined {
    try {
      const info = JSON.parse(readFileSync(join(dir, FILE), 'utf8')) as LockInfo;
      return Number.isInteger(info.pid) ? info : undefined;
    } catch {
      return undefined;
    }
  }

  /** Records where the holder listens. */
  update(more: Omit<LockInfo, 'pid'>): void {
    this.info = { ...this.info, ...more };
    writeFileSync(this.file, JSON.stringify(this.info), { mode: 0o600 });
  }

  release(): void {
    if (DataDirLock.readFile(this.file)?.pid === process.pid) rmSync(this.file, { force: true });
  }

  private static readFile(file: string): LockInfo | undefined {
    try { return JSON.parse(readFileSync(file, 'utf8')) as LockInfo; } catch { return undefined; }
  }
}
