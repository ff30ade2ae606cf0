// `manifests.kustomize`, as pkg/skaffold/render/renderer/kustomize/kustomize.go renders it: for each path,
// `kustomize build <buildArgs…> <path>` when a kustomize binary is on the PATH, else
// `kubectl kustomize <buildArgs…> <path>`; each buildArgs entry is split on spaces.
//
// Gantry renders offline and never reads outside the source, so before kustomize runs the whole kustomization
// tree is walked (like Skaffold's DependenciesForKustomization, but every field kustomize loads something from):
//   - a reference that is remote (a URL of any scheme, or a scheme-less git reference such as
//     `github.com/org/repo//dir?ref=v1` or `git@host:repo`) is refused, wherever it is written: paths,
//     resources, bases, components, crds, configurations, openapi, patches, replacements, generator files, and
//     the `path`/`files`/`envs` of built-in generator and transformer configs;
//   - a resource, base, component, generator, transformer or validator that does not exist in the source is
//     refused: kustomize would otherwise try it as a git repository and fetch it;
//   - every local reference, and every symlink below a kustomization directory, must stay in the source;
//   - helmCharts (kustomize's own helm inflation), KRM functions and external plugins (exec, container, Go) are
//     refused: they pull charts or run programs;
//   - build arguments are limited to ones that only shape output (`--enable-helm`, `--enable-alpha-plugins`,
//     `--enable-exec`, `--load-restrictor LoadRestrictionsNone`, `-o`… are refused), with no stray arguments.
// kustomize then runs in the offline sandbox environment (tools.ts), so even a reference this walk missed
// could not leave the machine.
import { stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { yaml } from '../lazy-deps.js';
import { charge, remaining, scrub, toManifests, type ConfigCtx, type RenderCtx } from './context.js';
import { firstLine, OFFLINE, remoteRefused, shown, SkaffoldError } from './errors.js';
import { checkReal, checkTree, display, hasScheme, inside, isRemoteRef, readSmall, resolveInside, type Root, type TreeWalk } from './paths.js';
import { isObj, type Obj } from './schema.js';
import { expandTemplate } from './template.js';
import { lookPath, runTool } from './tools.js';

const KUSTOMIZATION_FILES = ['kustomization.yaml', 'kustomization.yml', 'Kustomization'];
const MAX_KUSTOMIZATION_BYTES = 1 << 20;
const MAX_DEPTH = 64;
const MAX_KUSTOMIZATIONS = 1000;

// Flags of `kustomize build` that only shape output, and which of them take a value.
const VALUE_FLAGS = new Set(['--reorder', '--load-restrictor', '--helm-api-versions', '--helm-kube-version']);
const BOOL_FLAGS = new Set(['--enable-managedby-label', '--helm-debug', '--stack-trace']);

export function kustomizeBuildArgs(buildArgs: string[], c: ConfigCtx): string[] {
  const args = buildArgs.flatMap(a => a.split(' ')).filter(a => a !== '');
  for (let i = 0; i < args.length; i++) {
    const a = args[i];
    if (!a.startsWith('-')) {
      // Only the value of the previous flag (`--reorder legacy`): a stray argument would be a second path.
      const prev = args[i - 1];
      if (prev === undefined || !VALUE_FLAGS.has(prev)) throw refused(a, c);
      if (prev === '--load-restrictor' && a !== 'LoadRestrictionsRootOnly') throw refused(`--load-restrictor ${a}`, c);
      continue;
    }
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!VALUE_FLAGS.has(name) && !BOOL_FLAGS.has(name)) throw refused(a, c);
    if (name === '--load-restrictor' && eq >= 0 && a.slice(eq + 1) !== 'LoadRestrictionsRootOnly') throw refused(a, c);
  }
  return args;
}

const refused = (arg: string, c: ConfigCtx) =>
  new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: kustomize build argument "${shown(arg)}" is not allowed`, 'INVALID_CONFIG');

export async function renderKustomize(kustomize: Obj, c: ConfigCtx, ctx: RenderCtx): Promise<string[]> {
  const paths = (Array.isArray(kustomize.paths) ? kustomize.paths : []).map(String);
  const buildArgs = kustomizeBuildArgs((Array.isArray(kustomize.buildArgs) ? kustomize.buildArgs : []).map(String), c);
  // Every path is checked before the first build runs.
  const targets: { p: string; real: string }[] = [];
  const walk: Walk = { root: c.root, seen: new Set(), tree: { walked: new Set(), seen: 0 } };
  for (const raw of paths) {
    let p: string;
    try {
      p = expandTemplate(raw, {});
    } catch (e) {
      throw new SkaffoldError(`unable to parse path "${shown(raw)}": ${(e as Error).message}`, 'INVALID_CONFIG');
    }
    if (isRemoteRef(p)) throw remoteRefused('kustomize path', p, `(${c.id}, ${c.file})`);
    const abs = resolveInside(c.root, c.dir, p, 'kustomize path');
    const real = await checkReal(c.root, abs, 'kustomize path', p);
    if (!real || !(await stat(real)).isDirectory()) {
      throw new SkaffoldError(`kustomize path "${shown(p)}" of ${c.id} (${c.file}) is not a directory in the source`, 'MANIFEST_NOT_FOUND');
    }
    await checkKustomization(walk, real, 0, false);
    targets.push({ p, real });
  }
  const out: string[] = [];
  for (const { p, real } of targets) {
    const kustomizeBin = await lookPath('kustomize', ctx.env);
    const kubectl = kustomizeBin ? undefined : await lookPath('kubectl', ctx.env);
    if (!kustomizeBin && !kubectl) {
      throw new SkaffoldError(`rendering kustomize path "${p}" requires kustomize or kubectl, neither of which is on the PATH`, 'TOOL_NOT_FOUND');
    }
    // The real, absolute directory: kustomize never takes an absolute path for a git repository.
    const [bin, args] = kustomizeBin ? [kustomizeBin, ['build', ...buildArgs, real]] : [kubectl!, ['kustomize', ...buildArgs, real]];
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

interface Walk {
  root: Root;
  /** Kustomization directories already checked (as resources or as plugin configs). */
  seen: Set<string>;
  tree: TreeWalk;
}

/** kustomize's built-in generators and transformers (api/krusty, plugins/builtins); anything else is a plugin. */
const BUILTIN_PLUGINS = new Set(['AnnotationsTransformer', 'ConfigMapGenerator', 'IAMPolicyGenerator', 'HashTransformer',
  'ImageTagTransformer', 'LabelTransformer', 'LegacyOrderTransformer', 'NamespaceTransformer', 'PatchJson6902Transformer',
  'PatchStrategicMergeTransformer', 'PatchTransformer', 'PrefixSuffixTransformer', 'PrefixTransformer', 'SuffixTransformer',
  'ReplicaCountTransformer', 'SecretGenerator', 'ValueAddTransformer', 'ReplacementTransformer', 'SortOrderTransformer']);

/**
 * Checks the kustomization in `dir` and everything it includes (see the top of this file). `plugins`: the
 * directory was named under generators/transformers/validators, so its resources are plugin configs.
 */
async function checkKustomization(w: Walk, dir: string, depth: number, plugins: boolean): Promise<void> {
  const key = `${plugins ? 'plugins' : 'resources'}:${dir}`;
  if (w.seen.has(key)) return;
  const here = display(w.root, dir);
  if (depth > MAX_DEPTH) throw new SkaffoldError(`kustomizations are nested more than ${MAX_DEPTH} deep (at "${here}")`, 'INVALID_CONFIG');
  if (w.seen.size >= MAX_KUSTOMIZATIONS) throw new SkaffoldError(`more than ${MAX_KUSTOMIZATIONS} kustomizations are included (at "${here}")`, 'INVALID_CONFIG');
  w.seen.add(key);
  // Symlinks anywhere below a kustomization directory must stay in the source (kustomize follows them).
  await checkTree(w.root, dir, 'kustomization directory', 20_000, w.tree);
  let file: string | undefined;
  for (const f of KUSTOMIZATION_FILES) {
    const p = join(dir, f);
    if (await exists(p)) { file = p; break; }
  }
  if (!file) return; // kustomize reports the missing kustomization itself
  const where = display(w.root, file);
  const real = await checkReal(w.root, file, 'kustomization', where);
  if (!real) return;
  const k = parseOne(await readSmall(real, 'kustomization', where, MAX_KUSTOMIZATION_BYTES), 'kustomization', where);
  if (!isObj(k)) return; // kustomize rejects it itself

  for (const f of ['helmCharts', 'helmChartInflationGenerator']) {
    const charts = Array.isArray(k[f]) ? k[f] : [];
    if (charts.length > 0) {
      const first = charts.find(isObj);
      const chart = first ? `${String(first.repo ?? '')}${first.repo ? '/' : ''}${String(first.name ?? first.chartName ?? '')}` : '';
      throw new SkaffoldError(`kustomization "${where}": ${f}${chart ? ` (chart "${shown(chart)}")` : ''} are not supported: kustomize would pull charts and run helm itself (${OFFLINE_HELM})`, 'INVALID_CONFIG');
    }
  }

  const strs = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  const inline = (s: string) => s.includes('\n') || /^\s*[{[]/.test(s);

  // References kustomize loads as a file or, failing that, as a directory or a git repository: must exist here.
  const dirOrFile: [string, boolean][] = [
    ...['resources', 'bases', 'components'].flatMap(f => strs(k[f]).map(s => [s, plugins] as [string, boolean])),
  ];
  for (const f of ['generators', 'transformers', 'validators']) {
    for (const s of strs(k[f])) {
      if (inline(s)) await checkPluginConfigs(w, s, dir, `an inline entry of ${f} in "${where}"`);
      else dirOrFile.push([s, true]);
    }
  }
  for (const [ref, asPlugins] of dirOrFile) {
    const target = await localRef(w, dir, ref, where);
    if (!target) {
      throw new SkaffoldError(`kustomization reference "${shown(ref)}" (in ${where}) is not a file or directory in the source; ` +
        `kustomize would try to fetch it as a remote git repository, and ${OFFLINE}`, 'MANIFEST_NOT_FOUND');
    }
    const st = await stat(target);
    if (st.isDirectory()) await checkKustomization(w, target, depth + 1, asPlugins);
    else if (asPlugins) await checkPluginConfigs(w, await readSmall(target, 'kustomize plugin config', display(w.root, target), MAX_KUSTOMIZATION_BYTES), dir, `"${display(w.root, target)}"`);
  }

  // References kustomize only ever loads as files (a URL would be fetched over http).
  const files: string[] = [...strs(k.crds), ...strs(k.configurations)];
  files.push(...strs(k.patchesStrategicMerge).filter(s => !inline(s)));
  const paths = (v: unknown) => (Array.isArray(v) ? v.filter(isObj).map(o => o.path).filter((s): s is string => typeof s === 'string') : []);
  files.push(...paths(k.patches), ...paths(k.patchesJson6902), ...paths(k.replacements));
  for (const g of [...(Array.isArray(k.configMapGenerator) ? k.configMapGenerator : []), ...(Array.isArray(k.secretGenerator) ? k.secretGenerator : [])]) {
    if (isObj(g)) files.push(...generatorFiles(g));
  }
  if (isObj(k.openapi) && typeof k.openapi.path === 'string') files.push(k.openapi.path);
  if (isObj(k.helmGlobals) && typeof k.helmGlobals.chartHome === 'string') files.push(k.helmGlobals.chartHome);
  for (const f of files) await checkFileRef(w, dir, f, where);
}

const OFFLINE_HELM = 'Gantry renders offline; render charts with manifests.helm';

/** The files a ConfigMapGenerator/SecretGenerator (or its plugin config) reads: `files` (`key=path`), `envs`, `env`. */
function generatorFiles(g: Obj): string[] {
  const strs = (v: unknown) => (Array.isArray(v) ? v.filter((s): s is string => typeof s === 'string') : []);
  const out = strs(g.files).map(f => (f.includes('=') ? f.slice(f.indexOf('=') + 1) : f));
  out.push(...strs(g.envs));
  if (typeof g.env === 'string') out.push(g.env);
  return out;
}

/**
 * The real path of a kustomization reference, undefined when it does not exist; refused when it is remote or
 * leaves the source. kustomize reads an existing file as a file (only a URL with a scheme is fetched), but
 * tries a directory, or anything missing, as a git repository first: there every remote form counts.
 */
async function localRef(w: Walk, dir: string, ref: string, where: string): Promise<string | undefined> {
  if (hasScheme(ref)) throw remoteRefused('kustomization reference', ref, `(in ${where})`);
  const abs = within(w.root, dir, ref);
  const real = await checkReal(w.root, abs, 'kustomization reference', display(w.root, abs));
  if (isRemoteRef(ref) && !(real && (await stat(real)).isFile())) throw remoteRefused('kustomization reference', ref, `(in ${where})`);
  return real;
}

/** A reference kustomize only loads as a file: never remote; inside the source when it exists (else kustomize fails). */
async function checkFileRef(w: Walk, dir: string, ref: string, where: string): Promise<void> {
  await localRef(w, dir, ref, where);
}

/** `ref` resolved against `dir`, refused (shown relative to the root) when it leaves the root. */
function within(root: Root, dir: string, ref: string): string {
  const abs = resolve(dir, ref);
  if (!inside(root.dir, abs)) {
    throw new SkaffoldError(`kustomization reference "${shown(display(root, abs))}" points outside the ${root.label ? 'remote config\'s directory' : 'source'}`, 'INVALID_CONFIG');
  }
  return abs;
}

/**
 * Generator/transformer/validator configs (a file's documents, or an inline entry): only kustomize's
 * built-ins, never a KRM function or external plugin, never helm; their own file references checked too.
 */
async function checkPluginConfigs(w: Walk, text: string, dir: string, what: string): Promise<void> {
  let docs: unknown[];
  try {
    docs = yaml().parseAllDocuments(text).map(d => {
      if (d.errors[0]) throw d.errors[0];
      return d.toJS({ maxAliasCount: 100 });
    });
  } catch (e) {
    throw new SkaffoldError(`kustomize plugin config ${what} is not valid YAML: ${firstLine((e as Error).message)}`, 'INVALID_CONFIG');
  }
  for (const d of docs) {
    if (!isObj(d)) continue;
    const kind = typeof d.kind === 'string' ? d.kind : '';
    const meta = isObj(d.metadata) ? d.metadata : {};
    const ann = isObj(meta.annotations) ? meta.annotations : {};
    if ('config.kubernetes.io/function' in ann || 'config.k8s.io/function' in ann) {
      throw new SkaffoldError(`kustomize plugin config ${what}: KRM functions (exec and container plugins) are not run by Gantry's render`, 'INVALID_CONFIG');
    }
    if (kind === 'HelmChartInflationGenerator') {
      throw new SkaffoldError(`kustomize plugin config ${what}: HelmChartInflationGenerator is not supported (${OFFLINE_HELM})`, 'INVALID_CONFIG');
    }
    if (!BUILTIN_PLUGINS.has(kind)) {
      throw new SkaffoldError(`kustomize plugin config ${what}: "${shown(kind)}" is not a built-in generator or transformer; external plugins (exec, Go, container) are not run by Gantry's render`, 'INVALID_CONFIG');
    }
    const refs: string[] = generatorFiles(d);
    if (typeof d.path === 'string') refs.push(d.path);
    if (Array.isArray(d.paths)) refs.push(...d.paths.filter((s): s is string => typeof s === 'string'));
    if (Array.isArray(d.replacements)) refs.push(...d.replacements.filter(isObj).map(r => r.path).filter((s): s is string => typeof s === 'string'));
    for (const r of refs) await checkFileRef(w, dir, r, what);
  }
}

/** Parses one YAML document (aliases bounded); invalid YAML is refused rather than left for kustomize to read differently. */
function parseOne(text: string, what: string, where: string): unknown {
  try {
    return yaml().parse(text, { maxAliasCount: 100 });
  } catch (e) {
    throw new SkaffoldError(`${what} "${where}" is not valid YAML: ${firstLine((e as Error).message)}`, 'INVALID_CONFIG');
  }
}

async function exists(p: string): Promise<boolean> {
  try { await stat(p); return true; } catch { return false; }
}
