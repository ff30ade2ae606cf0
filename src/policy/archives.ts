// Unpacking user archives (release sources, Skaffold modules from Cloud Storage) within bounds: a small
// tar.gz may expand to fill the disk, or hold millions of entries. The headers are read first, and
// nothing is written unless the whole archive fits.
import { createWriteStream, mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve as resolvePath, sep } from 'node:path';
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

/** Whether `data` is a zip archive (its local-file or empty-archive signature). */
export function isZip(data: Buffer): boolean {
  return data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && (data[2] === 3 || data[2] === 5) && (data[3] === 4 || data[3] === 6);
}

/**
 * Unpacks a zip (what `firebase deploy` uploads) into `dir` within the same bounds as a tar.gz: the central
 * directory's sizes and count are checked before anything is written; entries outside `dir`, and symbolic links,
 * are refused.
 */
export async function unpackZip(data: Buffer, dir: string, limits = ARCHIVE_LIMITS): Promise<void> {
  const yauzl = await import('yauzl');
  const zip = await new Promise<import('yauzl').ZipFile>((resolve, reject) =>
    yauzl.fromBuffer(data, { lazyEntries: true, decodeStrings: true, validateEntrySizes: true, strictFileNames: false }, (err, z) => (err || !z ? reject(new ArchiveError('not a readable zip archive')) : resolve(z))));
  if (zip.entryCount > limits.maxEntries) { zip.close(); throw new ArchiveError(`too large: it holds more than ${limits.maxEntries} entries`); }
  const root = resolvePath(dir);
  mkdirSync(root, { recursive: true });
  let bytes = 0;
  await new Promise<void>((resolve, reject) => {
    const fail = (e: Error) => { zip.close(); reject(e instanceof ArchiveError ? e : new ArchiveError(`not a readable zip archive (${e.message})`)); };
    zip.on('error', fail);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: import('yauzl').Entry) => {
      bytes += entry.uncompressedSize;
      if (bytes > limits.maxBytes) return fail(new ArchiveError(`too large: it expands to more than ${limits.maxBytes / 1024 / 1024} MiB`));
      const target = resolvePath(root, entry.fileName);
      if (target !== root && !target.startsWith(root + sep)) return fail(new ArchiveError(`entry "${entry.fileName.slice(0, 200)}" is outside the archive's directory`));
      const mode = (entry.externalFileAttributes >>> 16) & 0o170000;
      if (mode === 0o120000) return fail(new ArchiveError(`entry "${entry.fileName.slice(0, 200)}" is a symbolic link`));
      if (entry.fileName.endsWith('/')) { mkdirSync(target, { recursive: true }); zip.readEntry(); return; }
      mkdirSync(dirname(target), { recursive: true });
      zip.openReadStream(entry, (err, stream) => {
        if (err || !stream) return fail(err ?? new Error('unreadable entry'));
        const out = createWriteStream(target, { mode: ((entry.externalFileAttributes >>> 16) & 0o111) ? 0o755 : 0o644 });
        stream.on('error', fail);
        out.on('error', fail);
        out.on('finish', () => zip.readEntry());
        stream.pipe(out);
      });
    });
    zip.readEntry();
  });
}
