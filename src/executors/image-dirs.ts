// Images the operator maps to local directories (`--image-dir IMAGE=DIR`), so the process executor can run a task
// that relies on its image: the directory stands for the image's files, and a task with no command runs the process
// a buildpack would have made the image's entrypoint (Google Cloud's buildpacks: the Procfile's `web` process, else
// the Node.js default `npm start`). Images built by `gcloud builds submit --pack` or `gcloud run deploy --source`
// need Cloud Build and a container engine; this lets their samples run on the host from their source directory.
import { closeSync, openSync, readSync, statSync } from 'node:fs';
import { isAbsolute, join, resolve } from 'node:path';

export interface ImageDir {
  /** An image reference; without a tag or digest it stands for every tag and digest of that repository. */
  image: string;
  /** The absolute directory holding the image's files. */
  path: string;
}

/** A Procfile larger than this is no Procfile a buildpack would read. */
const PROCFILE_MAX = 64 * 1024;

/** An image reference split into its repository and its tag or digest (`:tag` after the last `/`, `@sha256:…`). */
function splitRef(ref: string): { repo: string; version?: string } {
  const at = ref.indexOf('@');
  if (at >= 0) return { repo: ref.slice(0, at), version: ref.slice(at) };
  const colon = ref.lastIndexOf(':');
  return colon > ref.lastIndexOf('/') ? { repo: ref.slice(0, colon), version: ref.slice(colon) } : { repo: ref };
}

/**
 * `--image-dir` entries (`IMAGE=DIR`, several per value when comma-separated); throws an Error naming the bad entry.
 * The image is a reference without spaces, the directory absolute.
 */
export function parseImageDirs(values: readonly string[]): ImageDir[] {
  const seen = new Set<string>();
  return values.flatMap(v => v.split(',')).map(x => x.trim()).filter(Boolean).map(entry => {
    const eq = entry.indexOf('=');
    const image = eq > 0 ? entry.slice(0, eq).trim() : '';
    const path = eq > 0 ? entry.slice(eq + 1).trim() : '';
    if (!image || !path) throw new Error(`"${entry}" is not IMAGE=DIR (e.g. gcr.io/my-project/logger-job=/home/me/logger-job)`);
    if (!/^[a-z0-9][\w.\-/:@]*$/i.test(image) || splitRef(image).repo === '') throw new Error(`"${image}" is not an image reference`);
    if (!isAbsolute(path)) throw new Error(`"${path}" is not an absolute path`);
    if (seen.has(image)) throw new Error(`${image} is mapped twice`);
    seen.add(image);
    return { image, path: resolve(path) };
  });
}

/** Throws unless every mapped directory exists and is a directory (checked when Gantry starts). */
export function checkImageDirs(dirs: readonly ImageDir[]): void {
  for (const d of dirs) {
    let ok = false;
    try { ok = statSync(d.path).isDirectory(); } catch { /* missing */ }
    if (!ok) throw new Error(`${d.path} (for ${d.image}) is not a directory`);
  }
}

export class ImageDirs {
  constructor(private dirs: readonly ImageDir[] = []) {}

  /** The directory an image is mapped to: an exact mapping first, else its repository's. */
  dirOf(image: string | undefined): string | undefined {
    if (!image) return undefined;
    const exact = this.dirs.find(d => d.image === image);
    if (exact) return exact.path;
    const { repo } = splitRef(image);
    return this.dirs.find(d => splitRef(d.image).version === undefined && d.image === repo)?.path;
  }

  /**
   * The argv of a mapped image's entrypoint with the container's `args` after it, as a buildpack-built image runs
   * them: the Procfile's `web` process through a shell (args appended), else `npm start` where a package.json is.
   * A string when there is neither: why nothing can run.
   */
  entrypoint(dir: string, args: readonly string[]): string[] | string {
    const web = procfileWeb(dir);
    if (web !== undefined) return ['/bin/sh', '-c', `${web} "$@"`, 'sh', ...args];
    if (isFile(join(dir, 'package.json'))) return ['npm', 'start', ...(args.length ? ['--', ...args] : [])];
    return `${dir} has neither a Procfile with a web process nor a package.json, so it names no entrypoint for its image`;
  }
}

/** The command of the Procfile's `web` process, if the directory has a Procfile declaring one. */
function procfileWeb(dir: string): string | undefined {
  const file = join(dir, 'Procfile');
  if (!isFile(file)) return undefined;
  const buf = Buffer.alloc(PROCFILE_MAX);
  const fd = openSync(file, 'r');
  let n: number;
  try { n = readSync(fd, buf, 0, PROCFILE_MAX, 0); } finally { closeSync(fd); }
  for (const line of buf.subarray(0, n).toString('utf8').split(/\r?\n/)) {
    const m = /^\s*web\s*:\s*(.*\S)\s*$/.exec(line);
    if (m) return m[1];
  }
  return undefined;
}

function isFile(path: string): boolean {
  try { return statSync(path).isFile(); } catch { return false; }
}
