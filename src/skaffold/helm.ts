// Helm releases, rendered as pkg/skaffold/render/renderer/helm (helm.go, args.go) and pkg/skaffold/helm/args.go
// do it: `helm dep build <chart>` unless skipBuildDependencies, then
//   helm [secrets] template <name> <chartPath|remoteChart> <flags.template…> --set k=v (setValues, sorted)
//        --set-file k=path (sorted) --set k=<expanded setValueTemplates> (sorted) -f <valuesFiles…>
//        [-f <overrides>] [--version v] [--namespace ns] [--repo r] [--skip-tests] <flags.global…>
// Images are then replaced in helm's output (Skaffold does it in a `skaffold filter` post-renderer, which we do
// not need). Differences: no `--kube-context`/`--post-renderer` (no cluster, no Skaffold binary), overrides are
// written to a temporary file instead of the working directory, and helm flags from the config are limited to
// ones that cannot run programs or touch files (`--post-renderer`, `--output-dir`, `--kubeconfig`, … are refused).
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import YAML from 'yaml';
import { charge, remaining, scrub, toManifests, type ConfigCtx, type RenderCtx } from './context.js';
import { SkaffoldError } from './errors.js';
import { parseReference } from './images.js';
import { checkReal, checkTree, display, inside, resolveInside } from './paths.js';
import { isObj, type Obj } from './schema.js';
import { expandTemplate } from './template.js';
import { lookPath, runTool } from './tools.js';
import { sanitizeHelmTemplateValue } from './upgrade.js';

const SAFE_FLAGS = new Set(['--skip-crds', '--include-crds', '--skip-tests', '--api-versions', '-a', '--kube-version',
  '--no-hooks', '--disable-openapi-validation', '--devel', '--set', '--set-string', '--set-json', '--set-literal',
  '--description', '--create-namespace', '--atomic', '--wait', '--wait-for-jobs', '--timeout', '--debug',
  '--insecure-skip-tls-verify', '--pass-credentials', '--skip-schema-validation', '--enable-dns', '--labels',
  '--is-upgrade', '--dependency-update', '--skip-refresh', '--verify', '--show-only', '-s', '--release-name',
  '--generate-name', '-g', '--name-template', '--version', '--namespace', '-n', '--burst-limit', '--qps', '--no-color']);

function checkFlags(flags: string[], c: ConfigCtx): string[] {
  for (const f of flags) {
    if (!f.startsWith('-')) continue;
    const name = f.split('=', 1)[0];
    if (!SAFE_FLAGS.has(name)) {
      throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: helm flag "${f}" is not allowed`, 'INVALID_CONFIG');
    }
  }
  return flags;
}

const strings = (v: unknown) => (Array.isArray(v) ? v.map(String) : []);

/** util.FlatMap: nested maps become dotted keys; every value a string. */
export function flatMap(v: unknown, prefix = '', out: Record<string, string> = {}): Record<string, string> {
  if (!isObj(v)) return out;
  for (const [k, val] of Object.entries(v)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (isObj(val)) flatMap(val, key, out);
    else out[key] = val === null || val === undefined ? '' : String(val);
  }
  return out;
}

/** The variables setValueTemplates and valuesFiles see (ConstructOverrideArgs / envVarForImage). */
export function imageVars(builds: { image: string; tag: string }[]): Record<string, string> {
  const vars: Record<string, string> = {};
  builds.forEach((b, idx) => {
    const suffix = idx > 0 ? String(idx + 1) : '';
    const nameSuffix = sanitizeHelmTemplateValue(b.image);
    const m: Record<string, string> = { IMAGE_NAME: b.image, DIGEST: b.tag };
    let ref;
    try { ref = parseReference(b.tag); } catch { ref = undefined; }
    if (ref) Object.assign(m, { IMAGE_REPO: ref.baseName, IMAGE_TAG: ref.tag, IMAGE_DIGEST: ref.digest });
    if (b.tag !== '') {
      const i = b.tag.indexOf(':');
      if (i >= 0) Object.assign(m, { DIGEST_ALGO: b.tag.slice(0, i), DIGEST_HEX: b.tag.slice(i + 1) });
      else m.DIGEST_HEX = b.tag;
      m.IMAGE_DOMAIN = ref?.domain ?? '';
      m.IMAGE_REPO_NO_DOMAIN = ref ? (ref.baseName.startsWith(`${ref.domain}/`) ? ref.baseName.slice(ref.domain.length + 1) : ref.baseName) : '';
      m.IMAGE_FULLY_QUALIFIED = b.tag;
    }
    for (const [k, v] of Object.entries(m)) { vars[k + suffix] = v; vars[`${k}_${nameSuffix}`] = v; }
  });
  return vars;
}

function expand(s: string, vars: Record<string, string>, orFail: boolean, what: string): string {
  try {
    return expandTemplate(s, vars, orFail);
  } catch (e) {
    throw new SkaffoldError(`cannot expand ${what} "${s}": ${(e as Error).message}`, 'INVALID_CONFIG');
  }
}

/** A path of a release (chart, values file, set-file), refused outside the source; must exist. */
async function localFile(p: string, what: string, release: string, c: ConfigCtx): Promise<string> {
  if (p.startsWith('~')) throw new SkaffoldError(`${what} "${p}" of helm release "${release}" points outside the source`, 'INVALID_CONFIG');
  const abs = resolveInside(c.root, c.dir, p, what);
  const real = await checkReal(c.root, abs, what, p);
  if (!real) throw new SkaffoldError(`${what} "${p}" of helm release "${release}" (${c.id}, ${c.file}) does not exist`, 'MANIFEST_NOT_FOUND');
  return real;
}

/** Chart dependencies from `file://` repositories must come from the source too (helm dep build copies them). */
async function checkChartDependencies(chart: string, c: ConfigCtx, depth = 0): Promise<void> {
  if (depth > 16) return;
  let meta: unknown;
  try { meta = YAML.parse(await readFile(join(chart, 'Chart.yaml'), 'utf8'), { maxAliasCount: 100 }); } catch { return; }
  if (!isObj(meta) || !Array.isArray(meta.dependencies)) return;
  for (const d of meta.dependencies) {
    if (!isObj(d) || typeof d.repository !== 'string' || !d.repository.startsWith('file://')) continue;
    const abs = resolve(chart, d.repository.slice('file://'.length));
    const real = await checkReal(c.root, abs, 'helm chart dependency', display(c.root, abs));
    if (real) await checkChartDependencies(real, c, depth + 1);
  }
}

/**
 * helm takes a `remoteChart` that happens to be a local path as a local chart: such a path must stay in the
 * source like a chartPath (repository aliases such as `bitnami/redis` and URLs are left to helm).
 */
async function checkRemoteChart(ref: string, release: string, c: ConfigCtx): Promise<void> {
  if (/^[A-Za-z][A-Za-z0-9+.-]*:\/\//.test(ref) && !ref.startsWith('file://')) return;
  const local = ref.startsWith('file://') ? ref.slice('file://'.length) : ref;
  const abs = resolve(c.dir, local);
  if (local.startsWith('~') || !inside(c.root.dir, abs)) {
    throw new SkaffoldError(`remoteChart "${ref}" of helm release "${release}" points outside the source`, 'INVALID_CONFIG');
  }
  const real = await checkReal(c.root, abs, 'remoteChart', ref);
  if (real) await checkTree(c.root, real, 'helm chart');
}

export interface HelmOptions {
  releases: unknown[];
  flags?: unknown;
}

export async function renderHelm(h: HelmOptions, c: ConfigCtx, ctx: RenderCtx): Promise<string[]> {
  const releases = h.releases.filter(isObj);
  if (releases.length === 0) return [];
  const flags = isObj(h.flags) ? h.flags : {};
  const globalFlags = checkFlags(strings(flags.global), c);
  const templateFlags = checkFlags(strings(flags.template), c);
  const depBuildFlags = checkFlags(strings(flags.depBuild), c);
  const helm = await lookPath('helm', ctx.env);
  if (!helm) {
    throw new SkaffoldError(`rendering helm release "${String(releases[0].name ?? '')}" of ${c.id} requires helm, which is not on the PATH`, 'TOOL_NOT_FOUND');
  }
  const vars = imageVars(ctx.builds);
  const out: string[] = [];
  for (const r of releases) out.push(...await renderRelease(r, helm, { globalFlags, templateFlags, depBuildFlags }, vars, c, ctx));
  return out;
}

interface Flags { globalFlags: string[]; templateFlags: string[]; depBuildFlags: string[] }

async function renderRelease(r: Obj, helm: string, f: Flags, vars: Record<string, string>, c: ConfigCtx, ctx: RenderCtx): Promise<string[]> {
  const name = expand(String(r.name ?? ''), {}, true, 'release name');
  if (!name) throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: required value not set: name`, 'INVALID_CONFIG');
  const chartPath = expand(typeof r.chartPath === 'string' ? r.chartPath : '', {}, true, 'chart path');
  const remoteChart = typeof r.remoteChart === 'string' ? r.remoteChart : '';
  if (chartPath && remoteChart) {
    throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: only one element in set chartSource can be set. got chartPath and remoteChart`, 'INVALID_CONFIG');
  }
  if (!chartPath && !remoteChart) throw new SkaffoldError(`helm release "${name}" of ${c.id} names no chartPath or remoteChart`, 'INVALID_CONFIG');
  let chart = remoteChart;
  if (chartPath) {
    const real = await localFile(chartPath, 'chartPath', name, c);
    await checkChartDependencies(real, c);
    await checkTree(c.root, real, 'helm chart');
    chart = real;
  } else {
    await checkRemoteChart(remoteChart, name, c);
  }
  const namespace = typeof r.namespace === 'string' && r.namespace !== '' ? expand(r.namespace, {}, true, 'release namespace') : '';
  const run = (args: string[], what: string) =>
    runTool(helm, [...(r.useHelmSecrets === true && args[0] === 'template' ? ['secrets'] : []), ...args, ...f.globalFlags],
      { cwd: c.dir, env: ctx.env, timeoutMs: ctx.timeoutMs, maxBuffer: remaining(ctx) }, what)
      .catch(e => { throw new SkaffoldError(scrub((e as Error).message, c), (e as SkaffoldError).kind ?? 'TOOL_FAILED'); });

  if (r.skipBuildDependencies !== true && chartPath) {
    ctx.log.push(`${c.id}: helm dep build ${chartPath}`);
    await run(['dep', 'build', chart, ...f.depBuildFlags], `building helm dependencies of release "${name}"`);
  }

  const args = ['template', name, chart, ...f.templateFlags];
  const setValues = flatMap(r.setValues);
  for (const k of Object.keys(setValues).sort()) args.push('--set', `${k}=${setValues[k]}`);
  const setFiles = isObj(r.setFiles) ? r.setFiles : {};
  for (const k of Object.keys(setFiles).sort()) args.push('--set-file', `${k}=${await localFile(String(setFiles[k]), 'setFiles entry', name, c)}`);
  const templates = flatMap(r.setValueTemplates);
  for (const k of Object.keys(templates).sort()) {
    const v = expand(templates[k], vars, false, 'setValueTemplates value').replace(/@$/, '');
    args.push('--set', `${expand(k, vars, false, 'setValueTemplates key')}=${v}`);
  }
  for (const v of strings(r.valuesFiles)) {
    if (v.startsWith('gs://')) throw new SkaffoldError(`values file "${v}" of helm release "${name}": Cloud Storage values files are not supported`, 'INVALID_CONFIG');
    const expanded = expand(v, vars, false, 'values file');
    // helm fetches http(s) values files itself; anything else is a file of the source.
    args.push('-f', /^https?:\/\//.test(expanded) ? expanded : await localFile(expanded, 'values file', name, c));
  }
  let overridesDir: string | undefined;
  try {
    if (isObj(r.overrides) && Object.keys(r.overrides).length > 0) {
      overridesDir = await mkdtemp(join(tmpdir(), 'gantry-helm-'));
      const file = join(overridesDir, 'skaffold-overrides.yaml');
      await writeFile(file, YAML.stringify(r.overrides));
      args.push('-f', file);
    }
    if (!isObj(r.packaged) && typeof r.version === 'string' && r.version !== '') args.push('--version', expand(r.version, {}, false, 'chart version'));
    if (namespace) args.push('--namespace', namespace);
    if (typeof r.repo === 'string' && r.repo !== '') args.push('--repo', r.repo);
    if (r.skipTests === true) args.push('--skip-tests');
    ctx.log.push(`${c.id}: helm template ${name} ${chartPath || remoteChart}`);
    const { stdout } = await run(args, `helm template of release "${name}" failed`);
    charge(ctx, Buffer.byteLength(stdout), `helm release "${name}"`);
    return toManifests(stdout, `the helm output of release "${name}"`, ctx, true);
  } finally {
    if (overridesDir) await rm(overridesDir, { recursive: true, force: true });
  }
}
