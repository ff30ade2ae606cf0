// What every renderer shares: the caller's options, the image replacement tables, the byte budget, the log,
// and turning rendered text into manifests (one per YAML document, images replaced, text otherwise untouched).
import { yaml } from '../lazy-deps.js';
import { SkaffoldError, firstLine } from './errors.js';
import type { GlobBudget } from './glob.js';
import { applyEdits, imageEdits, type Selectors } from './images.js';
import type { ResolvedConfig } from './load.js';
import { display, type Root } from './paths.js';
import type { Obj } from './schema.js';

export const MAX_MANIFEST_BYTES = 64 << 20;

export interface RenderCtx {
  /** The offline environment every tool runs with (tools.ts, `offlineEnv`). */
  env: NodeJS.ProcessEnv;
  /** This render's private temporary directory (the tools' HOME); removed when the render ends. */
  tmp: string;
  timeoutMs: number;
  log: string[];
  /** Manifest bytes read or produced so far (files and tool output). */
  used: number;
  /** Directory entries rawYaml globs may still look at. */
  glob: GlobBudget;
  tags: Map<string, string>;
  sel: Selectors;
  builds: { image: string; tag: string }[];
}

export interface ConfigCtx {
  cfg: ResolvedConfig;
  /** The effective config (with the single-config default renderer applied). */
  config: Obj;
  root: Root;
  /** Directory relative paths resolve against. */
  dir: string;
  /** The config for messages: `module "x"` or `unnamed config[3]`. */
  id: string;
  /** The config's file for messages. */
  file: string;
}

export function configCtx(cfg: ResolvedConfig, config: Obj, index: number): ConfigCtx {
  const root: Root = { dir: cfg.root ?? cfg.dir, label: cfg.remote ?? '' };
  return {
    cfg, config, root, dir: cfg.dir,
    id: cfg.name ? `module "${cfg.name}"` : `unnamed config[${index}]`,
    file: display(root, cfg.file),
  };
}

/** Counts `n` more bytes against the 64 MiB cap. */
export function charge(ctx: RenderCtx, n: number, what: string) {
  ctx.used += n;
  if (ctx.used > MAX_MANIFEST_BYTES) {
    throw new SkaffoldError(`rendered manifests exceed ${MAX_MANIFEST_BYTES >> 20} MiB (at ${what})`, 'INVALID_CONFIG');
  }
}

export function remaining(ctx: RenderCtx): number {
  return Math.max(0, MAX_MANIFEST_BYTES - ctx.used) + 1;
}

/** Removes Gantry's own directories from tool messages. */
export function scrub(msg: string, c: ConfigCtx): string {
  return msg.split(c.root.dir + '/').join(c.root.label ? `${c.root.label}:` : '').split(c.root.dir).join(c.root.label || '.');
}

/**
 * Splits rendered YAML into manifests (Skaffold's ManifestList: one entry per document, empty ones dropped,
 * each trimmed), replacing artifact images when `replace`. Invalid YAML or a document that is not a mapping
 * is INVALID_CONFIG naming `source`.
 */
export function toManifests(text: string, source: string, ctx: RenderCtx, replace: boolean): string[] {
  const docs = yaml().parseAllDocuments(text, { uniqueKeys: true });
  const out: string[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    const err = doc.errors[0];
    if (err) throw new SkaffoldError(`reading Kubernetes YAML from ${source}: ${firstLine(err.message)}`, 'INVALID_CONFIG');
    if (doc.contents === null || (yaml().isMap(doc.contents) && doc.contents.items.length === 0)) continue;
    if (!yaml().isMap(doc.contents)) {
      throw new SkaffoldError(`reading Kubernetes YAML from ${source}: a manifest must be a mapping`, 'INVALID_CONFIG');
    }
    const [start, end] = doc.range;
    let body = stripDocStart(text.slice(start, end));
    if (replace && ctx.tags.size > 0) {
      // Offsets are re-taken on the document alone, so edits apply to exactly this text.
      const own = yaml().parseDocument(body);
      body = applyEdits(body, imageEdits(own, ctx.sel, ctx.tags));
    }
    out.push(body.trim());
  }
  return out;
}

/** Drops a leading `---` marker line (its comment, if any, goes with it). */
function stripDocStart(s: string): string {
  if (!/^---(\s|$)/.test(s)) return s;
  const nl = s.indexOf('\n');
  return nl < 0 ? '' : s.slice(nl + 1);
}
