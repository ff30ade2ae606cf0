// Unpacking user archives (release sources, Skaffold modules from Cloud Storage) within bounds: a small
// tar.gz may expand to fill the disk, or hold millions of entries. The headers are read first, and
// nothing is written unless the whole archive fits.
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extract, list } from 'tar';

export const ARCHIVE_LIMITS = { maxBytes: 1024 * 1024 * 1024, maxEntries: 100_000 };

export class ArchiveError extends Error {}

/** Unpacks a tar.gz into `dir`; ArchiveError (with a message fit for clients) when unreadable or too large. */
export async function unpackArchive(tgz: Buffer, dir: string, limits = ARCHIVE_LIMITS): Promise<void> {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, `.gantry-archive-${process.pid}.tgz`);
  writeFileSync(tmp, tgz);
  try {
    let bytes = 0, entries = 0, over = '';
    await list({
      file: tmp,
      onReadEntry: e => {
        bytes += e.size ?? 0;
        entries++;
        if (!over && bytes > limits.maxBytes) over = `it expands to more than ${limits.maxBytes / 1024 / 1024} MiB`;
        if (!over && entries > limits.maxEntries) over = `it holds more than ${limits.maxEntries} entries`;
      },
    }).catch(() => { throw new ArchiveError('not a readable tar.gz archive'); });
    if (over) throw new ArchiveError(`too large: ${over}`);
    // tar refuses absolute paths and `..` by default; device files and FIFOs are not unpacked.
    await extract({ file: tmp, cwd: dir, filter: (_p, e) => !('type' in e) || ['File', 'OldFile', 'Directory', 'SymbolicLink', 'Link'].includes(String(e.type)) })
      .catch(() => { throw new ArchiveError('not a readable tar.gz archive'); });
  } finally {
    rmSync(tmp, { force: true });
  }
}
