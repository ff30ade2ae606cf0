// `manifests.kustomize`, as pkg/skaffold/render/renderer/kustomize/kustomize.go renders it: for each path,
// `kustomize build <buildArgs…> <path>` when a kustomize binary is on the PATH, else
// `kubectl kustomize <buildArgs…> <path>`; each buildArgs entry is split on spaces. Before running, the
// kustomization tree is walked (like Skaffold's DependenciesForKustomization) so that no local resource, base,
// component, patch or generator file is taken from outside the source; build arguments that would let kustomize
// run programs, write files or lift its own load restrictions are refused.
import { readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { charge, remaining, scrub, toManifests, type ConfigCtx, type RenderCtx } from './context.js';
import { SkaffoldError } from './errors.js';
import { checkReal, display, resolveInside, type Root } from './paths.js';
import { isObj, type Obj } from './schema.js';
import { expandTemplate } from './template.js';
import { lookPath, runTool } from './tools.js';

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const isURL = (s: string) => s.startsWith('http://') || s.startsWith('https://');

// Flags of `kustomize build` that only shape output or enable helm charts from the kustomization itself.
const SAFE_FLAGS = new Set(['--enable-helm', '--enable-managedby-label', '--reorder', '--load-restrictor',
  '--helm-api-versions', '--helm-kube-version', '--helm-debug', '--stack-trace']);

export function kustomizeBuildArgs(buildArgs: string[], c: ConfigCtx): string[] {
  const args = buildArgs.flatMap(a => a.split(' '));
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) {
      // A value of the previous flag (`--reorder legacy`), or a stray argument kustomize will reject.
      if (args[i - 1] === '--load-restrictor' && a !== 'LoadRestrictionsRootOnly') throw refused(`--load-restrictor ${a}`, c);
      continue;
    }
    const [name, value] = a.split('=', 2);
    if (!SAFE_FLAGS.has(name)) throw refused(a, c);
    if (name === '--load-restrictor' && value !== undefined && value !== 'LoadRestrictionsRootOnly') throw refused(a, c);
  }
  return args;
}

const refused = (arg: string, c: ConfigCtx) =>
  new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: kustomize build argument "${arg}" is not allowed`, 'INVALID_CONFIG');

export async function renderKustomize(kustomize: Obj, c: ConfigCtx, ctx: RenderCtx): Promise<string[]> {
  const paths = (Array.isArray(kustomize.paths) ? kustomize.paths : []).map(String);
  const buildArgs = kustomizeBuildArgs((Array.isArray(kustomize.buildArgs) ? kustomize.buildArgs : []).map(String), c);
  const out: string[] = [];
  for (const raw of paths) {
    let p: string;
    try {
      p = expandTemplate(raw, {});
    } catch (e) {
      throw new SkaffoldError(`unable to parse path "${raw}": ${(e as Error).message}`, 'INVALID_CONFIG');
    }
    let target = p;
    if (!isURL(p)) {
      const abs = resolveInside(c.root, c.dir, p, 'kustomize path');
      const real = await checkReal(c.root, abs, 'kustomize path', p);
      if (!real || !(await stat(real)).isDirectory()) {
        throw new SkaffoldError(`kustomize path "${p}" of ${c.id} (${c.file}) is not a directory in the source`, 'MANIFEST_NOT_FOUND');
      }
      await checkKustomization(c.root, real, new Set());
      target = real;
    }
    const kustomizeBin = await lookPath('kustomize', ctx.env);
    const kubectl = kustomizeBin ? undefined : await lookPath('kubectl', ctx.env);
    if (!kustomizeBin && !kubectl) {
      throw new SkaffoldError(`rendering kustomize path "${p}" requires kustomize or kubectl, neither of which is on the PATH`, 'TOOL_NOT_FOUND');
    }
    const [bin, args] = kustomizeBin ? [kustomizeBin, ['build', ...buildArgs, target]] : [kubectl!, ['kustomize', ...buildArgs, target]];
    ctx.log.push(`${c.id}: ${kustomizeBin ? 'kustomize build' : 'kubectl kustomize'} ${[...buildArgs, p].join(' ')}`);
    let stdout: string;
    try {
      ({ stdout } = await runTool(bin, args, { cwd: c.dir, env: ctx.env, timeoutMs: ctx.timeoutMs, maxBuffer: remaining(ctx) }, `kustomize build of "${p}" failed`));
    } catch (e) {
      throw new SkaffoldError(scrub((e as Error).message, c), (e as SkaffoldError).kind ?? 'TOOL_FAILED');
    }
    charge(ctx, Buffer.byteLength(stdout), `kustomize path "${p}"`);
    if (stdout.length === 0) continue;
    out.push(...toManifests(stdout, `the kustomize output of "${p}"`, ctx, true));
  }
  return out;
}

/** Refuses local paths a kustomization (and the ones it includes) takes from outside the root. */
async function checkKustomization(root: Root, dir: string, seen: Set<string>, depth = 0): Promise<void> {
  if (seen.has(dir) || depth > 64) return;
  seen.add(dir);
  let file: string | undefined;
  for (const f of KUSTOMIZATION_FILES) {
    const p = join(dir, f);
    if (await exists(p)) { file = p; break; }
  }
  if (!file) return; // kustomize reports the missing kustomization itself
  const real = await checkReal(root, file, 'kustomization', display(root, file));
  if (!real) return;
  let k: unknown;
  try { k = YAML.parse(await readFile(real, 'utf8'), { maxAliasCount: 100 }); } catch { return; }
  if (!isObj(k)) return;
  for (const ref of localRefs(k)) {
    if (isURL(ref) || ref.includes('://')) continue;
    const abs = resolve(dir, ref);
    const target = await checkReal(root, abs, 'kustomization reference', display(root, abs));
    if (target && (await stat(target)).isDirectory()) await checkKustomization(root, target, seen, depth + 1);
  }
}

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}

/** Strings of a kustomization that may name local files or directories. */
function localRefs(k: Obj): string[] {
  const out: string[] = [];
  const strs = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  const paths = (v: unknown) => (Array.isArray(v) ? v.filter(isObj).map(o => o.path).filter((s): s is string => typeof s === 'string') : []);
  for (const f of ['resources', 'bases', 'components', 'crds', 'configurations', 'generators', 'transformers', 'validators']) {
    // generators/transformers may also be inline YAML documents; those are not paths.
    out.push(...strs(k[f]).filter(s => !s.includes('\n')));
  }
  out.push(...strs(k.patchesStrategicMerge).filter(s => !s.includes('\n')));
  out.push(...paths(k.patches), ...paths(k.patchesJson6902), ...paths(k.replacements));
  for (const g of [...(Array.isArray(k.configMapGenerator) ? k.configMapGenerator : []), ...(Array.isArray(k.secretGenerator) ? k.secretGenerator : [])]) {
    if (!isObj(g)) continue;
    out.push(...strs(g.files).map(f => (f.includes('=') ? f.slice(f.indexOf('=') + 1) : f)), ...strs(g.envs));
    if (typeof g.env === 'string') out.push(g.env);
  }
  if (isObj(k.openapi) && typeof k.openapi.path === 'string') out.push(k.openapi.path);
  if (isObj(k.helmGlobals) && typeof k.helmGlobals.chartHome === 'string') out.push(k.helmGlobals.chartHome);
  return out;
}
