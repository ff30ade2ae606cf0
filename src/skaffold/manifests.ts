// `skaffold render` for resolved configs (pkg/skaffold/runner/renderer.go, render/renderer/renderer.go,
// render_mux.go, render/generate/generate.go, schema/validation/validation.go):
//   - a single config that declares no manifests and no deployer gets Skaffold's default `rawYaml: [k8s/*.yaml]`;
//   - before anything renders, every rawYaml pattern of a local config must match something (except that
//     default), or the render fails with "Manifest file … could not be found";
//   - per config, in this order: rawYaml (files in glob order; non-.yaml/.yml/.json files only when named
//     directly), kustomize paths, helm releases; then, for every config, the releases of the legacy
//     `deploy.helm` deployer not already under `manifests.helm`;
//   - output is grouped per config in the order configs first produce something, each manifest trimmed, joined
//     with `---` lines; images are replaced from the build artifacts.
import { readFile, realpath, stat } from 'node:fs/promises';
import { charge, configCtx, toManifests, type ConfigCtx, type RenderCtx } from './context.js';
import { SkaffoldError } from './errors.js';
import { BadPatternError, expandPathsGlob, globBudget, goGlob, TooManyFilesError } from './glob.js';
import { renderHelm } from './helm.js';
import { selectorsFor, tagsByImageName } from './images.js';
import { renderKustomize } from './kustomize.js';
import type { ResolvedConfig } from './load.js';
import { checkReal, display, resolveInside } from './paths.js';
import { clone, isObj, type Obj } from './schema.js';
import { expandTemplate } from './template.js';
import { validateRunContext } from './actions.js';
import { makeSandbox, type Sandbox } from './tools.js';

export interface RenderOptions {
  images?: { image: string; tag: string }[];
  /**
   * Only its PATH is used, to find kubectl, kustomize and helm (default: Gantry's own). The tools run in an
   * offline sandbox environment (tools.ts, `offlineEnv`) with a private temporary HOME made for this render.
   */
  env?: NodeJS.ProcessEnv;
  timeoutMs?: number;
}

export interface RenderResult { manifests: string; log: string[] }

const DEFAULT_RAW_YAML = 'k8s/*.yaml';
const K8S_SUFFIXES = ['.yml', '.yaml', '.json'];
const isURL = (s: string) => s.startsWith('http://') || s.startsWith('https://');

/** What `skaffold render` (with --build-artifacts) prints for these configs. */
export async function renderManifests(configs: ResolvedConfig[], opts: RenderOptions = {}): Promise<RenderResult> {
  const sandbox = await makeSandbox((opts.env ?? process.env).PATH);
  try {
    return await render(configs, opts, sandbox);
  } finally {
    await sandbox.dispose();
  }
}

async function render(configs: ResolvedConfig[], opts: RenderOptions, sandbox: Sandbox): Promise<RenderResult> {
  const builds = opts.images ?? [];
  const ctx: RenderCtx = {
    env: sandbox.env, tmp: sandbox.dir,
    timeoutMs: opts.timeoutMs ?? 60_000,
    log: [], used: 0, builds, glob: globBudget(),
    tags: tagsByImageName(builds),
    sel: selectorsFor(configs.map(c => c.config)),
  };
  const effective = configs.map(c => clone(c.config));
  if (effective.length === 1) setDefaultRenderer(effective[0]);
  // Containment compares real paths: a caller may hand in configs whose directories go through symlinks.
  const real = await Promise.all(configs.map(async c => ({ ...c, dir: await realOr(c.dir), root: await realOr(c.root ?? c.dir) })));
  const ccs = real.map((c, i) => configCtx(c, effective[i], i));

  // Skaffold's order: config validation (manifest files exist), then the run-context checks.
  await validateRawYaml(ccs);
  validateRunContext(configs);

  const groups = new Map<number, string[]>();
  const add = (i: number, ms: string[]) => {
    if (ms.length === 0) return;
    groups.set(i, [...(groups.get(i) ?? []), ...ms]);
  };
  for (const [i, c] of ccs.entries()) {
    const m = isObj(c.config.manifests) ? c.config.manifests : {};
    unsupported(m, c, ctx);
    if (m.rawYaml !== undefined && m.rawYaml !== null) add(i, await renderRawYaml(strings(m.rawYaml, 'manifests.rawYaml', c), c, ctx));
    if (isObj(m.kustomize)) add(i, await renderKustomize(m.kustomize, c, ctx));
    if (isObj(m.helm)) add(i, await renderHelm({ releases: Array.isArray(m.helm.releases) ? m.helm.releases : [], flags: m.helm.flags }, c, ctx));
  }
  // The legacy helm deployer renders too, with its own releases only (and, like Skaffold, without its flags).
  for (const [i, c] of ccs.entries()) {
    const legacy = isObj(c.config.deploy) && isObj(c.config.deploy.helm) ? c.config.deploy.helm : undefined;
    if (!legacy) continue;
    const m = isObj(c.config.manifests) ? c.config.manifests : {};
    const taken = new Set((isObj(m.helm) && Array.isArray(m.helm.releases) ? m.helm.releases : []).filter(isObj).map(r => r.name));
    const releases = (Array.isArray(legacy.releases) ? legacy.releases : []).filter(r => isObj(r) && !taken.has(r.name));
    add(i, await renderHelm({ releases }, c, ctx));
  }
  const all = [...groups.values()].map(ms => ms.join('\n---\n'));
  return { manifests: all.length ? `${all.join('\n---\n')}\n` : '', log: ctx.log };
}

async function realOr(p: string): Promise<string> {
  try { return await realpath(p); } catch { return p; }
}

/** defaults.SetDefaultRenderer, applied by Skaffold only when there is exactly one config. */
function setDefaultRenderer(c: Obj) {
  const m = isObj(c.manifests) ? c.manifests : {};
  const d = isObj(c.deploy) ? c.deploy : {};
  const set = (v: unknown) => v !== undefined && v !== null;
  if ((Array.isArray(m.kpt) && m.kpt.length > 0) || (Array.isArray(m.rawYaml) && m.rawYaml.length > 0)) return;
  if (set(m.kustomize) || set(m.helm) || set(d.helm) || set(d.docker) || set(d.cloudrun)) return;
  c.manifests = { ...m, rawYaml: [DEFAULT_RAW_YAML] };
}

function strings(v: unknown, field: string, c: ConfigCtx): string[] {
  if (!Array.isArray(v) || v.some(s => typeof s !== 'string')) {
    throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: ${field} must be a list of strings`, 'INVALID_CONFIG');
  }
  return v as string[];
}

/** What needs a cluster, a container runtime or arbitrary host commands is refused or skipped, never run. */
function unsupported(m: Obj, c: ConfigCtx, ctx: RenderCtx) {
  const nonEmpty = (v: unknown) => Array.isArray(v) ? v.length > 0 : v !== undefined && v !== null;
  const refuse = (what: string, why: string) => {
    throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: ${what} ${why}`, 'INVALID_CONFIG');
  };
  if (nonEmpty(m.kpt)) refuse('manifests.kpt', 'is not supported (kpt functions need a container runtime)');
  if (nonEmpty(m.transform)) refuse('manifests.transform', 'is not supported (kpt functions need a container runtime)');
  if (nonEmpty(m.validate)) refuse('manifests.validate', 'is not supported (kpt functions need a container runtime)');
  if (nonEmpty(m.remoteManifests)) refuse('manifests.remoteManifests', 'is not supported (it reads from a live cluster)');
  const hooks = isObj(m.hooks) ? m.hooks : {};
  if (nonEmpty(hooks.before) || nonEmpty(hooks.after)) ctx.log.push(`${c.id}: render hooks are not run`);
}

/** validateKubectlManifests: every local rawYaml pattern must match something, unless it is the default. */
async function validateRawYaml(ccs: ConfigCtx[]) {
  const problems: string[] = [];
  const budget = globBudget();
  let kind: 'MANIFEST_NOT_FOUND' | 'INVALID_CONFIG' = 'MANIFEST_NOT_FOUND';
  for (const c of ccs) {
    if (c.cfg.remote) continue;
    const m = isObj(c.config.manifests) ? c.config.manifests : {};
    if (!Array.isArray(m.rawYaml)) continue;
    const raw = strings(m.rawYaml, 'manifests.rawYaml', c);
    if (raw.length === 1 && raw[0] === DEFAULT_RAW_YAML) continue;
    for (const p of raw) {
      if (isURL(p)) continue;
      let matches: string[];
      try {
        matches = await goGlob(resolveInside(c.root, c.dir, p, 'rawYaml entry'), budget);
      } catch (e) {
        if (e instanceof TooManyFilesError) throw tooMany(c, e);
        if (!(e instanceof BadPatternError)) throw e;
        problems.push(`source: ${c.file}, ${c.id}: glob: ${e.message}`);
        kind = 'INVALID_CONFIG';
        continue;
      }
      if (matches.length === 0) problems.push(`source: ${c.file}, ${c.id}: Manifest file "${p}" referenced in skaffold config could not be found`);
    }
  }
  if (problems.length > 0) throw new SkaffoldError(`invalid skaffold config: ${problems.join('\n')}`, kind);
}

const tooMany = (c: ConfigCtx, e: TooManyFilesError) =>
  new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: rawYaml globs look at more than ${e.max} files`, 'INVALID_CONFIG');

async function renderRawYaml(patterns: string[], c: ConfigCtx, ctx: RenderCtx): Promise<string[]> {
  const local: string[] = [];
  for (const p of patterns) {
    if (isURL(p) || p.startsWith('gs://')) {
      throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: rawYaml entry "${p}" is remote; fetching remote manifests is not supported`, 'INVALID_CONFIG');
    }
    try {
      local.push(expandTemplate(p, {}));
    } catch (e) {
      throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: ${(e as Error).message}`, 'INVALID_CONFIG');
    }
  }
  const resolve = (p: string) => resolveInside(c.root, c.dir, p, 'rawYaml entry');
  let expanded;
  try {
    expanded = await expandPathsGlob(local, resolve, ctx.glob);
  } catch (e) {
    if (e instanceof BadPatternError) throw new SkaffoldError(`glob: ${e.message}`, 'INVALID_CONFIG');
    if (e instanceof TooManyFilesError) throw tooMany(c, e);
    throw e;
  }
  for (const u of expanded.unmatched) ctx.log.push(`${c.id}: ${u} did not match any file`);
  const literal = new Set(local.map(resolve));
  const out: string[] = [];
  for (const f of expanded.files) {
    const shown = display(c.root, f);
    if (!K8S_SUFFIXES.some(s => f.endsWith(s)) && !literal.has(f)) {
      ctx.log.push(`${c.id}: refusing to deploy/delete non {json, yaml} file ${shown}`);
      continue;
    }
    const real = await checkReal(c.root, f, 'rawYaml file', shown);
    if (!real) throw new SkaffoldError(`open ${shown}: no such file or directory`, 'MANIFEST_NOT_FOUND');
    const st = await stat(real);
    if (st.isDirectory()) throw new SkaffoldError(`read ${shown}: is a directory`, 'INVALID_CONFIG');
    // A FIFO or device would block the render or never end: only regular files are manifests.
    if (!st.isFile()) throw new SkaffoldError(`read ${shown}: is not a regular file`, 'INVALID_CONFIG');
    charge(ctx, st.size, shown);
    ctx.log.push(`${c.id}: rawYaml ${shown}`);
    out.push(...toManifests(await readFile(real, 'utf8'), shown, ctx, true));
  }
  return out;
}
