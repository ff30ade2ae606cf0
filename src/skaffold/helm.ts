// Helm releases, rendered as pkg/skaffold/render/renderer/helm (helm.go, args.go) and pkg/skaffold/helm/args.go
// do it: `helm dep build <chart>` unless skipBuildDependencies, then
//   helm template <name> <chartPath|remoteChart> <flags.template…> --set k=v (setValues, sorted)
//        --set-file k=path (sorted) --set k=<expanded setValueTemplates> (sorted) -f <valuesFiles…>
//        [-f <overrides>] [--version v] [--namespace ns] [--skip-tests] <flags.global…>
// Images are then replaced in helm's output (Skaffold does it in a `skaffold filter` post-renderer, which we do
// not need). Differences: no `--kube-context`/`--post-renderer` (no cluster, no Skaffold binary), overrides are
// written to the render's temporary directory instead of the working directory, and helm flags from the config
// are limited to ones that cannot run programs, touch files or reach the network (`--post-renderer`,
// `--output-dir`, `--kubeconfig`, `--dependency-update`, `--enable-dns`, … are refused), with no stray arguments.
//
// Gantry renders offline, so everything helm would fetch is refused before helm runs: a `remoteChart` that is
// not a chart in the source (a URL, `oci://`, a `repo/chart` alias), `repo`, values files given as URLs,
// `useHelmSecrets` (a plugin that decrypts with the operator's keys), and chart dependencies from anywhere but
// `file://` inside the source unless they are already vendored under `charts/`. `helm dep build` runs (with
// `--skip-refresh`) only when every dependency is a local `file://` one; with vendored remote dependencies it is
// skipped, as `helm dep build` would download them again. Release names must be helm release names, and charts
// reach helm as absolute paths, so nothing in a config can be taken by helm as a flag. helm runs in the offline
// sandbox environment (tools.ts): its own repositories, registry logins, caches and plugins are empty.
import { mkdtemp, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { yaml } from '../lazy-deps.js';
import { charge, remaining, scrub, toManifests, type ConfigCtx, type RenderCtx } from './context.js';
import { firstLine, remoteRefused, shown, SkaffoldError } from './errors.js';
import { parseReference } from './images.js';
import { checkReal, checkTree, display, hasScheme, inside, readSmall, resolveInside } from './paths.js';
import { isObj, type Obj } from './schema.js';
import { expandTemplate } from './template.js';
import { lookPath, runTool } from './tools.js';
import { sanitizeHelmTemplateValue } from './upgrade.js';

// helm flags a config may pass, and which of them take a separate value.
const VALUE_FLAGS = new Set(['--api-versions', '-a', '--kube-version', '--set', '--set-string', '--set-json', '--set-literal',
  '--description', '--timeout', '--labels', '-l', '--show-only', '-s', '--name-template', '--version', '--namespace', '-n',
  '--burst-limit', '--qps']);
const BOOL_FLAGS = new Set(['--skip-crds', '--include-crds', '--skip-tests', '--no-hooks', '--disable-openapi-validation',
  '--devel', '--create-namespace', '--atomic', '--wait', '--wait-for-jobs', '--debug', '--insecure-skip-tls-verify',
  '--pass-credentials', '--skip-schema-validation', '--is-upgrade', '--skip-refresh', '--verify', '--release-name',
  '--generate-name', '-g', '--no-color']);

function checkFlags(flags: string[], c: ConfigCtx): string[] {
  const bad = (f: string, why = 'is not allowed') =>
    new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: helm flag "${shown(f)}" ${why}`, 'INVALID_CONFIG');
  for (let i = 0; i < flags.length; i++) {
    const f = flags[i];
    if (!f.startsWith('-')) {
      // Only the value of the previous flag: anything else helm would take as a release name or a chart.
      const prev = flags[i - 1];
      if (prev === undefined || !VALUE_FLAGS.has(prev)) throw bad(f, 'is not allowed (helm would take it as a chart or a release name)');
      continue;
    }
    const name = f.split('=', 1)[0];
    if (!VALUE_FLAGS.has(name) && !BOOL_FLAGS.has(name)) throw bad(f);
  }
  return flags;
}

/** Helm's own rule for release names (pkg/chartutil ValidateReleaseName): they can never be taken for a flag. */
const RELEASE_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

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
  if (p.startsWith('~')) throw new SkaffoldError(`${what} "${shown(p)}" of helm release "${release}" points outside the source`, 'INVALID_CONFIG');
  const abs = resolveInside(c.root, c.dir, p, what);
  const real = await checkReal(c.root, abs, what, p);
  if (!real) throw new SkaffoldError(`${what} "${shown(p)}" of helm release "${release}" (${c.id}, ${c.file}) does not exist`, 'MANIFEST_NOT_FOUND');
  return real;
}

const MAX_CHART_META = 1 << 20;

interface Dependency { name: string; repository: string }

/**
 * The dependencies a chart declares (Chart.yaml, requirements.yaml of apiVersion v1 charts) and the ones its lock
 * files pin: `helm dep build` downloads from the lock's repositories, whose digest a config can forge.
 */
async function dependenciesOf(chart: string, c: ConfigCtx): Promise<Dependency[]> {
  const out: Dependency[] = [];
  for (const f of ['Chart.yaml', 'requirements.yaml', 'Chart.lock', 'requirements.lock']) {
    const p = join(chart, f);
    const real = await checkReal(c.root, p, 'helm chart file', display(c.root, p));
    if (!real) continue;
    let meta: unknown;
    try {
      meta = yaml().parse(await readSmall(real, 'helm chart file', display(c.root, p), MAX_CHART_META), { maxAliasCount: 100 });
    } catch (e) {
      if (e instanceof SkaffoldError) throw e;
      throw new SkaffoldError(`helm chart file "${display(c.root, p)}" is not valid YAML: ${firstLine((e as Error).message)}`, 'INVALID_CONFIG');
    }
    if (!isObj(meta) || !Array.isArray(meta.dependencies)) continue;
    for (const d of meta.dependencies) {
      if (isObj(d)) out.push({ name: String(d.name ?? ''), repository: typeof d.repository === 'string' ? d.repository.trim() : '' });
    }
  }
  return out;
}

/** Whether `charts/` of a chart holds dependency `name` already (a directory, or a packaged `<name>-<version>.tgz`). */
async function vendored(chart: string, name: string): Promise<boolean> {
  if (!name) return false;
  let entries: string[];
  try { entries = await readdir(join(chart, 'charts')); } catch { return false; }
  for (const e of entries) {
    if (e === name) {
      try { if ((await stat(join(chart, 'charts', e))).isDirectory()) return true; } catch { /* next */ }
    }
    if (e.startsWith(`${name}-`) && /\.tgz$/.test(e) && /^\d/.test(e.slice(name.length + 1))) return true;
  }
  return false;
}

/**
 * Checks a chart's dependencies (recursively through `file://` ones, whose directories helm copies): `file://`
 * ones must be directories of the source with no symlink out; any other repository (http(s), oci, an alias) is
 * accepted only when the dependency is already under `charts/`. Says whether any dependency is not a local
 * `file://` one (then `helm dep build` would download: it is not run).
 */
async function checkChartDependencies(chart: string, release: string, c: ConfigCtx, depth = 0): Promise<boolean> {
  if (depth > 16) throw new SkaffoldError(`helm chart dependencies of release "${release}" are nested more than 16 deep`, 'INVALID_CONFIG');
  let nonLocal = false;
  for (const d of await dependenciesOf(chart, c)) {
    if (d.repository.startsWith('file://')) {
      const abs = resolve(chart, d.repository.slice('file://'.length));
      const shownDep = display(c.root, abs);
      if (!inside(c.root.dir, abs)) throw new SkaffoldError(`helm chart dependency "${shownDep}" points outside the source`, 'INVALID_CONFIG');
      const real = await checkReal(c.root, abs, 'helm chart dependency', shownDep);
      if (!real || !(await stat(real)).isDirectory()) {
        throw new SkaffoldError(`helm chart dependency "${d.name}" of release "${release}" (${d.repository}) is not a chart directory in the source`, 'MANIFEST_NOT_FOUND');
      }
      await checkTree(c.root, real, 'helm chart');
      await checkChartDependencies(real, release, c, depth + 1);
      continue;
    }
    nonLocal = true;
    if (await vendored(chart, d.name)) continue;
    if (d.repository === '') {
      throw new SkaffoldError(`helm chart dependency "${d.name}" of release "${release}" names no repository and is not vendored under ${display(c.root, join(chart, 'charts'))}/`, 'MANIFEST_NOT_FOUND');
    }
    throw new SkaffoldError(`helm chart dependency "${shown(d.name)}" of release "${release}" comes from repository "${shown(d.repository)}" and is not vendored under ` +
      `${display(c.root, join(chart, 'charts'))}/: Gantry renders offline and never downloads charts (run \`helm dep build\` before creating the release)`, 'INVALID_CONFIG');
  }
  return nonLocal;
}

/**
 * A `remoteChart` is rendered only when it is a chart of the source (helm takes a local path as a local chart):
 * a URL, an `oci://` reference or a `repo/chart` alias would be pulled from the network, and is refused.
 * Returns the chart's real path.
 */
async function localRemoteChart(ref: string, release: string, c: ConfigCtx): Promise<string> {
  if (hasScheme(ref) && !ref.startsWith('file://')) throw remoteRefused('remoteChart', ref, `of helm release "${release}"`);
  const local = ref.startsWith('file://') ? ref.slice('file://'.length) : ref;
  const abs = resolve(c.dir, local);
  if (local.startsWith('~') || !inside(c.root.dir, abs)) {
    throw new SkaffoldError(`remoteChart "${shown(ref)}" of helm release "${release}" points outside the source`, 'INVALID_CONFIG');
  }
  const real = await checkReal(c.root, abs, 'remoteChart', ref);
  if (!real) {
    throw new SkaffoldError(`remoteChart "${shown(ref)}" of helm release "${release}" is not a chart in the source: it would be pulled from a chart repository, ` +
      'and Gantry renders offline and never fetches anything from the network (vendor the chart into the source and use chartPath)', 'INVALID_CONFIG');
  }
  if ((await stat(real)).isDirectory()) await checkTree(c.root, real, 'helm chart');
  return real;
}

export interface HelmOptions {
  releases: unknown[];
  flags?: unknown;
}

export async function renderHelm(h: HelmOptions, c: ConfigCtx, ctx: RenderCtx): Promise<string[]> {
  const releases = h.releases.filter(isObj);
  if (releases.length === 0) return [];
  const flags = isObj(h.flags) ? h.flags : {};
  const f: Flags = {
    globalFlags: checkFlags(strings(flags.global), c),
    templateFlags: checkFlags(strings(flags.template), c),
    depBuildFlags: checkFlags(strings(flags.depBuild), c),
  };
  const vars = imageVars(ctx.builds);
  // Every release is checked before helm is looked for or run.
  const plans: Plan[] = [];
  for (const r of releases) plans.push(await planRelease(r, f, vars, c));
  const helm = await lookPath('helm', ctx.env);
  if (!helm) {
    throw new SkaffoldError(`rendering helm release "${plans[0].name}" of ${c.id} requires helm, which is not on the PATH`, 'TOOL_NOT_FOUND');
  }
  const out: string[] = [];
  for (const p of plans) out.push(...await runRelease(p, helm, f, c, ctx));
  return out;
}

interface Flags { globalFlags: string[]; templateFlags: string[]; depBuildFlags: string[] }

/** What one release runs: every path resolved and checked. */
interface Plan {
  name: string;
  /** The chart as written (for the log). */
  written: string;
  /** The chart's real path. */
  chart: string;
  /** Whether `helm dep build` runs. */
  depBuild: boolean;
  /** Why it does not, when Skaffold would have run it (for the log). */
  depBuildSkipped?: string;
  /** `helm template` arguments after the chart, but for the overrides file. */
  args: string[];
  overrides?: Obj;
  /** Arguments after the overrides file. */
  tail: string[];
}

async function planRelease(r: Obj, f: Flags, vars: Record<string, string>, c: ConfigCtx): Promise<Plan> {
  const name = expand(String(r.name ?? ''), {}, true, 'release name');
  if (!name) throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: required value not set: name`, 'INVALID_CONFIG');
  if (name.length > 53 || !RELEASE_NAME.test(name)) {
    throw new SkaffoldError(`helm release name "${shown(name)}" of ${c.id} is invalid: a release name must be at most 53 lowercase letters, digits, "-" and ".", starting and ending with a letter or digit`, 'INVALID_CONFIG');
  }
  const chartPath = expand(typeof r.chartPath === 'string' ? r.chartPath : '', {}, true, 'chart path');
  const remoteChart = typeof r.remoteChart === 'string' ? r.remoteChart : '';
  if (chartPath && remoteChart) {
    throw new SkaffoldError(`invalid skaffold config: source: ${c.file}, ${c.id}: only one element in set chartSource can be set. got chartPath and remoteChart`, 'INVALID_CONFIG');
  }
  if (!chartPath && !remoteChart) throw new SkaffoldError(`helm release "${name}" of ${c.id} names no chartPath or remoteChart`, 'INVALID_CONFIG');
  if (typeof r.repo === 'string' && r.repo !== '') throw remoteRefused('chart repository', r.repo, `of helm release "${name}"`);
  if (r.useHelmSecrets === true) {
    throw new SkaffoldError(`helm release "${name}" of ${c.id} sets useHelmSecrets: the helm-secrets plugin decrypts with the operator's keys and key services, and is not run by Gantry's render`, 'INVALID_CONFIG');
  }
  let chart: string;
  let depBuild = false;
  let depBuildSkipped: string | undefined;
  if (chartPath) {
    chart = await localFile(chartPath, 'chartPath', name, c);
    const dir = (await stat(chart)).isDirectory();
    if (dir) await checkTree(c.root, chart, 'helm chart');
    const nonLocal = dir && await checkChartDependencies(chart, name, c);
    if (r.skipBuildDependencies !== true) {
      depBuild = !nonLocal;
      if (nonLocal) depBuildSkipped = 'the chart has dependencies from remote repositories (vendored under charts/), which it would download again';
    }
  } else {
    chart = await localRemoteChart(remoteChart, name, c);
  }
  const namespace = typeof r.namespace === 'string' && r.namespace !== '' ? expand(r.namespace, {}, true, 'release namespace') : '';

  const args: string[] = [...f.templateFlags];
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
    if (v.startsWith('gs://')) throw new SkaffoldError(`values file "${shown(v)}" of helm release "${name}": Cloud Storage values files are not supported`, 'INVALID_CONFIG');
    const expanded = expand(v, vars, false, 'values file');
    // helm would fetch a URL itself (http(s), or any scheme a getter plugin serves).
    if (hasScheme(expanded)) throw remoteRefused('values file', expanded, `of helm release "${name}"`);
    args.push('-f', await localFile(expanded, 'values file', name, c));
  }
  const tail: string[] = [];
  if (!isObj(r.packaged) && typeof r.version === 'string' && r.version !== '') tail.push('--version', expand(r.version, {}, false, 'chart version'));
  if (namespace) tail.push('--namespace', namespace);
  if (r.skipTests === true) tail.push('--skip-tests');
  return {
    name, written: chartPath || remoteChart, chart, depBuild, ...(depBuildSkipped ? { depBuildSkipped } : {}), args, tail,
    ...(isObj(r.overrides) && Object.keys(r.overrides).length > 0 ? { overrides: r.overrides } : {}),
  };
}

async function runRelease(p: Plan, helm: string, f: Flags, c: ConfigCtx, ctx: RenderCtx): Promise<string[]> {
  const run = (args: string[], what: string) =>
    runTool(helm, [...args, ...f.globalFlags], { cwd: c.dir, env: ctx.env, timeoutMs: ctx.timeoutMs, maxBuffer: remaining(ctx) }, what)
      .catch(e => { throw new SkaffoldError(scrub((e as Error).message, c), (e as SkaffoldError).kind ?? 'TOOL_FAILED'); });

  if (p.depBuild) {
    // Every dependency is a file:// chart of the source: nothing to refresh or download.
    ctx.log.push(`${c.id}: helm dep build ${p.written} --skip-refresh`);
    await run(['dep', 'build', p.chart, '--skip-refresh', ...f.depBuildFlags], `building helm dependencies of release "${p.name}"`);
  } else if (p.depBuildSkipped) {
    ctx.log.push(`${c.id}: helm dep build ${p.written} skipped: ${p.depBuildSkipped}`);
  }

  const args = ['template', p.name, p.chart, ...p.args];
  let overridesDir: string | undefined;
  try {
    if (p.overrides) {
      overridesDir = await mkdtemp(join(ctx.tmp, 'helm-overrides-'));
      const file = join(overridesDir, 'skaffold-overrides.yaml');
      await writeFile(file, yaml().stringify(p.overrides));
      args.push('-f', file);
    }
    args.push(...p.tail);
    ctx.log.push(`${c.id}: helm template ${p.name} ${p.written}`);
    const { stdout } = await run(args, `helm template of release "${p.name}" failed`);
    charge(ctx, Buffer.byteLength(stdout), `helm release "${p.name}"`);
    return toManifests(stdout, `the helm output of release "${p.name}"`, ctx, true);
  } finally {
    if (overridesDir) await rm(overridesDir, { recursive: true, force: true });
  }
}
