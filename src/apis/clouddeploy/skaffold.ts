// The release's source and the Skaffold config its jobs run from. The source is a gs:// tarball in
// Gantry's Cloud Storage (what `gcloud deploy releases create --source` uploads) or, where the operator
// allows it, a local file:// path (a directory or a tarball). Jobs read the Skaffold config the render
// stored for their target and phase (profiles applied, modules merged), as Cloud Deploy's jobs do.
import { existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ArchiveError, unpackArchive } from '../../policy/archives.js';
import { yaml } from '../../lazy-deps.js';
import { errors } from '../../google/errors.js';

export interface Container { name?: string; image?: string; command?: string[]; args?: string[]; env?: Record<string, string> | { name: string; value: string }[] }
export interface JobSkaffold {
  /** Where the source was unpacked (tasks run there). */
  dir: string;
  customActions: Map<string, Container[]>;
  verify: { name: string; container: Container }[];
}

export interface SourceReader {
  read(gsUrl: string): Buffer;
  /** The host path of a `file://` source the operator allows (throws a Google error otherwise). */
  localPath(fileUrl: string): string;
}

/** Unpacks the release source once (keyed by release uid); the directory it is in. */
export async function sourceDir(release: Record<string, unknown>, storage: SourceReader, workRoot: string): Promise<string> {
  const uri = String(release.skaffoldConfigUri ?? '');
  if (!uri) return workRoot;
  if (uri.startsWith('file://')) {
    // Checked again here, not only at release creation: the operator may have narrowed --source-dirs since.
    const path = storage.localPath(uri);
    return statSync(path).isDirectory() ? path : unpack(readFileSync(path), join(workRoot, String(release.uid)));
  }
  const dir = join(workRoot, String(release.uid));
  if (!existsSync(join(dir, '.gantry-unpacked'))) {
    let tgz: Buffer;
    try { tgz = storage.read(uri); } catch { throw errors.failedPrecondition(`The release source ${uri} does not exist.`, 'skaffold_config_uri'); }
    await unpack(tgz, dir);
  }
  return dir;
}

async function unpack(tgz: Buffer, dir: string): Promise<string> {
  // The archive's own errors name Gantry's work directory: the client hears only what is wrong with it.
  await unpackArchive(tgz, dir).catch((e: Error) => {
    throw errors.failedPrecondition(`The release source is ${e instanceof ArchiveError ? e.message : 'not a readable tar.gz archive'}.`, 'skaffold_config_uri');
  });
  writeFileSync(join(dir, '.gantry-unpacked'), '');
  return dir;
}

/**
 * The Skaffold config a job of `targetId` (in `phaseId`) runs from: the one the render stored for that
 * target and phase. Empty when the release has no rendered artifact for the target.
 */
export async function jobSkaffold(release: Record<string, unknown>, targetId: string, phaseId: string, storage: SourceReader, workRoot: string): Promise<JobSkaffold> {
  const dir = await sourceDir(release, storage, workRoot);
  const artifact = (release.targetArtifacts as Record<string, Record<string, unknown>> | undefined)?.[targetId];
  if (!artifact?.artifactUri) return { dir, customActions: new Map(), verify: [] };
  const phase = (artifact.phaseArtifacts as Record<string, Record<string, unknown>> | undefined)?.[phaseId];
  const path = String(phase?.skaffoldConfigPath ?? artifact.skaffoldConfigPath ?? 'skaffold.yaml');
  let text: string;
  try { text = storage.read(`${String(artifact.artifactUri)}/${path}`).toString('utf8'); } catch { text = ''; }
  return { dir, ...parseJobSkaffold(text) };
}

export function parseJobSkaffold(text: string): Omit<JobSkaffold, 'dir'> {
  const customActions = new Map<string, Container[]>();
  const verify: { name: string; container: Container }[] = [];
  for (const doc of yaml().parseAllDocuments(text)) {
    const cfg = doc.toJS() as Record<string, unknown> | null;
    if (!cfg) continue;
    for (const a of (cfg.customActions as { name: string; containers?: Container[] }[] | undefined) ?? []) if (!customActions.has(a.name)) customActions.set(a.name, a.containers ?? []);
    for (const v of (cfg.verify as { name: string; container: Container }[] | undefined) ?? []) verify.push(v);
  }
  return { customActions, verify };
}

export function envOf(c: Container): Record<string, string> {
  if (Array.isArray(c.env)) return Object.fromEntries(c.env.map(e => [e.name, String(e.value)]));
  return Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, String(v)]));
}
