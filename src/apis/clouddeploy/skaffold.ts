// The release's Skaffold config, read from its source: a gs:// tarball in Gantry's Cloud Storage
// (what `gcloud deploy releases create --source` uploads) or, as a convenience, a local file:// path
// (a directory or a tarball). Only what job execution needs is extracted: custom actions and verify.
import { existsSync, mkdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { extract } from 'tar';
import YAML from 'yaml';
import { errors } from '../../google/errors.js';

export interface Container { name?: string; image?: string; command?: string[]; args?: string[]; env?: Record<string, string> | { name: string; value: string }[] }
export interface SkaffoldConfig {
  /** Where the source was unpacked (tasks run there). */
  dir: string;
  customActions: Map<string, Container[]>;
  verify: { name: string; container: Container }[];
  /** Files of `manifests.rawYaml`, relative to `dir`. */
  rawYaml: string[];
}

export interface SourceReader {
  read(gsUrl: string): Buffer;
  /** The host path of a `file://` source the operator allows (throws a Google error otherwise). */
  localPath(fileUrl: string): string;
}

/** Unpacks the release source once (keyed by release uid) and parses its Skaffold config. */
export async function loadSkaffold(release: Record<string, unknown>, storage: SourceReader, workRoot: string): Promise<SkaffoldConfig> {
  const uri = String(release.skaffoldConfigUri ?? '');
  const configPath = String(release.skaffoldConfigPath ?? 'skaffold.yaml');
  let dir: string;
  if (!uri) {
    return { dir: workRoot, customActions: new Map(), verify: [], rawYaml: [] };
  } else if (uri.startsWith('file://')) {
    // Checked again here, not only at release creation: the operator may have narrowed --source-dirs since.
    const path = storage.localPath(uri);
    dir = statSync(path).isDirectory() ? path : await unpack(readFileSync(path), join(workRoot, String(release.uid)));
  } else {
    dir = join(workRoot, String(release.uid));
    if (!existsSync(join(dir, '.gantry-unpacked'))) await unpack(storage.read(uri), dir);
  }
  const file = join(dir, configPath);
  if (!existsSync(file)) throw errors.failedPrecondition(`The release source has no Skaffold config at ${configPath}.`, uri);
  return { dir, ...parseSkaffold(readFileSync(file, 'utf8')) };
}

async function unpack(tgz: Buffer, dir: string): Promise<string> {
  mkdirSync(dir, { recursive: true });
  const tmp = join(dir, '.source.tgz');
  writeFileSync(tmp, tgz);
  // tar's errors name Gantry's work directory: the client hears only that the archive is unreadable.
  await extract({ file: tmp, cwd: dir }).catch(() => { throw errors.failedPrecondition('The release source is not a readable tar.gz archive.', 'skaffold_config_uri'); });
  writeFileSync(join(dir, '.gantry-unpacked'), '');
  return dir;
}

export function parseSkaffold(text: string): Omit<SkaffoldConfig, 'dir'> {
  const customActions = new Map<string, Container[]>();
  const verify: { name: string; container: Container }[] = [];
  const rawYaml: string[] = [];
  for (const doc of YAML.parseAllDocuments(text)) {
    const cfg = doc.toJS() as Record<string, unknown> | null;
    if (!cfg) continue;
    rawYaml.push(...(((cfg.manifests as Record<string, unknown> | undefined)?.rawYaml as string[] | undefined) ?? []));
    for (const a of (cfg.customActions as { name: string; containers?: Container[] }[] | undefined) ?? []) customActions.set(a.name, a.containers ?? []);
    for (const v of (cfg.verify as { name: string; container: Container }[] | undefined) ?? []) verify.push(v);
  }
  return { customActions, verify, rawYaml };
}

/** The Cloud Run service a rendered source deploys: the first Knative Service in its raw manifests. */
export function cloudRunServiceName(cfg: SkaffoldConfig): string | undefined {
  for (const file of cfg.rawYaml) {
    const path = join(cfg.dir, file);
    if (!existsSync(path)) continue;
    for (const doc of YAML.parseAllDocuments(readFileSync(path, 'utf8'))) {
      const m = doc.toJS() as { apiVersion?: string; kind?: string; metadata?: { name?: string } } | null;
      if (m?.kind === 'Service' && String(m.apiVersion ?? '').startsWith('serving.knative.dev') && m.metadata?.name) return m.metadata.name;
    }
  }
  return undefined;
}

export function envOf(c: Container): Record<string, string> {
  if (Array.isArray(c.env)) return Object.fromEntries(c.env.map(e => [e.name, String(e.value)]));
  return Object.fromEntries(Object.entries(c.env ?? {}).map(([k, v]) => [k, String(v)]));
}
