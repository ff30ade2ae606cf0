// Reading a Skaffold project: the root file's configs and everything their `requires` pull in, in Skaffold's
// order (pkg/skaffold/parser/config.go, GetConfigSet/getConfigs/processEachConfig/processEachDependency):
//   - each config's dependencies come before it; a config is included when it is "required": no `modules`
//     filter, named by it, or pulled in by a required config;
//   - a config already visited (same file, same document index, same required-ness) is not visited again —
//     this is also what ends `requires` loops, which Skaffold accepts; visiting it again with a different set of
//     active profiles is an error;
//   - profiles: the caller's apply to the root file's configs; a dependency gets its `activeProfiles` whose
//     `activatedBy` is empty or names a profile active in the requiring config, plus (Skaffold's default
//     `--propagate-profiles`) the caller's own; a caller's profile must exist in at least one config read;
//   - relative paths in the root file's configs resolve against the source directory (Skaffold's working
//     directory), or against the root file's own directory with `workInConfigDir` (Cloud Deploy's render); in
//     any other file, against that file's directory.
import { readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { SkaffoldError, wrap } from './errors.js';
import { parseConfigFile, type ParsedConfig } from './parse.js';
import { checkReal, display, makeRoot, resolveInside, type Root } from './paths.js';
import { applyProfiles, type ActivationContext } from './profiles.js';
import { clone, isObj, type Obj } from './schema.js';

/** Fetches a remote `requires` source into a local directory; returns the directory (the engine then reads `path` inside it, default skaffold.yaml). */
export interface RemoteResolver {
  git?(repo: string, ref: string | undefined): Promise<string>;
  googleCloudStorage?(source: string): Promise<string>;
}

export interface LoadOptions {
  /** Root directory of the source; relative paths of the root file's configs resolve against it. */
  dir: string;
  /** Config file relative to dir, default 'skaffold.yaml'. */
  file?: string;
  /** Profiles to activate (Cloud Deploy passes the stage's `profiles`); `-name` deactivates. */
  profiles?: string[];
  /** Restrict to these metadata.name modules and their dependencies (like `skaffold -m`); all when empty. */
  modules?: string[];
  remote?: RemoteResolver;
  /** Extra dependencies added to the root, as Cloud Deploy does for a custom target type's includeSkaffoldModules. */
  extraRequires?: Record<string, unknown>[];
  /** Skaffold command profiles' `activation.command` is matched against (default `render`). */
  command?: string;
  /** kube-context `activation.kubeContext` is matched against (default none, as in Cloud Deploy's render). */
  kubeContext?: string;
  /** Environment `activation.env` is matched against (default empty: Gantry's own environment is never used). */
  env?: Record<string, string | undefined>;
  /** `--profile-auto-activation` (default true). */
  profileAutoActivation?: boolean;
  /** `--propagate-profiles` (default true): the requested profiles also apply to dependencies defining them. */
  propagateProfiles?: boolean;
  /**
   * Run as if from the root file's directory: its configs' relative paths resolve there, not in `dir`, which stays
   * the boundary no path may leave. Cloud Deploy renders a `--skaffold-file` in a subdirectory so.
   */
  workInConfigDir?: boolean;
}

export interface ResolvedConfig {
  /** metadata.name */
  name?: string;
  /** Directory relative paths of this config resolve against. */
  dir: string;
  /** Absolute path of the file it came from. */
  file: string;
  /** The effective config after profiles/patches, with `profiles` and `requires` removed. */
  config: Record<string, unknown>;
  /** The directory no path of this config may leave (the source, or its remote checkout); default `dir`. */
  root?: string;
  /** For configs from a remote `requires`: how that remote is named in messages (repo@ref, gs:// source). */
  remote?: string;
  /** Profiles applied to this config, in application order. */
  profiles?: string[];
}

export const MAX_DEPTH = 32;
export const MAX_CONFIGS = 256;
/** requires entries followed in one load: revisits are cheap but not free, and a file may list many. */
const MAX_EDGES = 4096;
const MAX_CONFIG_FILE = 4 << 20;

interface State {
  opts: LoadOptions;
  act: ActivationContext;
  modules: string[];
  source: Root;
  rootFile: string;
  /** Where the root file's relative paths resolve. */
  workDir: string;
  appliedProfiles: Map<string, string>;
  nameToFile: Map<string, string>;
  remotes: Map<string, Promise<Root>>;
  allProfiles: Set<string>;
  files: Map<string, ParsedConfig[]>;
  /** How each file read is named in messages. */
  shown: Map<string, string>;
  edges: number;
}

interface Visit {
  file: string;
  root: Root;
  selection: string[];
  profiles: string[];
  isRequired: boolean;
  isDependency: boolean;
  depth: number;
}

/**
 * Every config the root pulls in, dependencies first (Skaffold's order), de-duplicated. A `requires` loop ends
 * where a config comes round again (Skaffold accepts loops); coming round with other profiles is refused.
 */
export async function loadSkaffoldConfigs(opts: LoadOptions): Promise<ResolvedConfig[]> {
  let source: Root;
  try {
    source = await makeRoot(opts.dir, '');
  } catch {
    throw new SkaffoldError('the source directory does not exist', 'CONFIG_NOT_FOUND');
  }
  const fileName = opts.file || 'skaffold.yaml';
  const asked = resolveInside(source, source.dir, fileName, 'configuration file');
  const rootFile = await checkReal(source, asked, 'configuration file', fileName);
  if (!rootFile || !(await isFile(rootFile))) throw new SkaffoldError(`unable to find configuration file "${fileName}"`, 'CONFIG_NOT_FOUND');
  const st: State = {
    opts, source, rootFile, workDir: opts.workInConfigDir ? dirname(asked) : source.dir,
    modules: opts.modules ?? [],
    act: {
      command: opts.command ?? 'render',
      kubeContext: opts.kubeContext ?? '',
      env: opts.env ?? {},
      autoActivation: opts.profileAutoActivation ?? true,
    },
    appliedProfiles: new Map(), nameToFile: new Map(), remotes: new Map(), allProfiles: new Set(), files: new Map(), shown: new Map(), edges: 0,
  };
  const requested = opts.profiles ?? [];
  const configs = await getConfigs(st, {
    file: rootFile, root: source, selection: [], profiles: requested, isRequired: false, isDependency: false, depth: 0,
  });
  if (configs.length === 0) {
    if (st.modules.length > 0) {
      throw new SkaffoldError(`did not find any configs matching selection [${st.modules.join(' ')}]`, 'MODULE_NOT_FOUND');
    }
    throw new SkaffoldError(`failed to get any valid configs from file "${fileName}"`, 'INVALID_CONFIG');
  }
  const unmatched = requested.filter(p => !st.allProfiles.has(p.replace(/^-/, '')));
  if (unmatched.length > 0) {
    throw new SkaffoldError(`profile selection [${unmatched.map(p => JSON.stringify(p)).join(' ')}] did not match those defined in any configurations`, 'PROFILE_NOT_FOUND');
  }
  return configs;
}

async function isFile(p: string): Promise<boolean> {
  try { return (await stat(p)).isFile(); } catch { return false; }
}

async function parseFile(st: State, v: Visit): Promise<ParsedConfig[]> {
  const cached = st.files.get(v.file);
  if (cached) return cached;
  const shown = display(v.root, v.file);
  st.shown.set(v.file, shown);
  let text: string;
  try {
    const fst = await stat(v.file);
    // A FIFO or device would block the load forever: only regular files are configs.
    if (!fst.isFile()) throw new SkaffoldError(`configuration file "${shown}" is not a regular file`, 'INVALID_CONFIG');
    if (fst.size > MAX_CONFIG_FILE) throw new SkaffoldError(`configuration file "${shown}" is larger than 4 MiB`, 'INVALID_CONFIG');
    text = await readFile(v.file, 'utf8');
  } catch (e) {
    if (e instanceof SkaffoldError) throw e;
    throw new SkaffoldError(`unable to find configuration file "${shown}"`, 'CONFIG_NOT_FOUND');
  }
  const parsed = parseConfigFile(text, shown);
  st.files.set(v.file, parsed);
  return parsed;
}

async function getConfigs(st: State, v: Visit): Promise<ResolvedConfig[]> {
  if (v.depth > MAX_DEPTH) {
    throw new SkaffoldError(`requires are nested more than ${MAX_DEPTH} deep (at "${display(v.root, v.file)}")`, 'INVALID_CONFIG');
  }
  const parsed = await parseFile(st, v);
  const shown = display(v.root, v.file);
  if (parsed.length === 0) throw new SkaffoldError(`failed to get any valid configs from file "${shown}"`, 'INVALID_CONFIG');
  const seen = new Set<string>();
  for (const { config } of parsed) {
    for (const p of Array.isArray(config.profiles) ? config.profiles : []) if (isObj(p)) st.allProfiles.add(String(p.name ?? ''));
    const name = nameOf(config);
    if (!name) continue;
    if (seen.has(name)) throw new SkaffoldError(`multiple skaffold configs named "${name}" found in file "${shown}"`, 'INVALID_CONFIG');
    seen.add(name);
  }
  const out: ResolvedConfig[] = [];
  for (let i = 0; i < parsed.length; i++) out.push(...await processEachConfig(st, clone(parsed[i].config), i, v));
  return out;
}

const nameOf = (c: Obj) => (isObj(c.metadata) && typeof c.metadata.name === 'string' ? c.metadata.name : '');

async function processEachConfig(st: State, config: Obj, index: number, v: Visit): Promise<ResolvedConfig[]> {
  const name = nameOf(config);
  const shown = display(v.root, v.file);
  if (name) {
    const prev = st.nameToFile.get(name);
    if (prev !== undefined && prev !== v.file) {
      throw new SkaffoldError(`skaffold config named "${name}" found in multiple files: "${shownFile(st, prev)}" and "${shown}"`, 'INVALID_CONFIG');
    }
    st.nameToFile.set(name, v.file);
  }
  if (v.selection.length > 0 && !v.selection.includes(name)) return [];
  const required = v.isRequired || st.modules.length === 0 || st.modules.includes(name);

  let applied: string[];
  try {
    applied = applyProfiles(config, v.profiles, st.act);
  } catch (e) {
    throw new SkaffoldError(`failed to apply profiles to config "${name}" defined in file "${shown}": ${(e as Error).message}`, 'INVALID_CONFIG');
  }
  const sorted = [...applied].sort();

  // checkRevisit: one visit per (file, document, required-ness); the profile sets must agree.
  const key = `${v.file}:${index}:${required}`;
  const previous = st.appliedProfiles.get(key);
  if (previous !== undefined) {
    if (previous !== sorted.join(',')) {
      throw new SkaffoldError(`config "${name || `index ${index}`}" defined in file "${shown}" imported multiple times with different set of profiles`, 'INVALID_CONFIG');
    }
    return [];
  }
  st.appliedProfiles.set(key, sorted.join(','));
  if (st.appliedProfiles.size > MAX_CONFIGS) throw new SkaffoldError(`more than ${MAX_CONFIGS} configs are required`, 'INVALID_CONFIG');

  const deps = Array.isArray(config.requires) ? [...config.requires] : config.requires === undefined || config.requires === null ? [] : undefined;
  if (!deps) throw new SkaffoldError(`invalid skaffold config: source: ${shown}: requires must be a list`, 'INVALID_CONFIG');
  // Cloud Deploy's includeSkaffoldModules become requires of the root file's configs.
  if (v.file === st.rootFile && !v.isDependency) deps.push(...(st.opts.extraRequires ?? []));

  const out: ResolvedConfig[] = [];
  for (const d of deps) {
    if (++st.edges > MAX_EDGES) throw new SkaffoldError(`more than ${MAX_EDGES} requires entries are followed`, 'INVALID_CONFIG');
    if (!isObj(d)) throw new SkaffoldError(`invalid skaffold config: source: ${shown}: each requires entry must be a mapping`, 'INVALID_CONFIG');
    const depProfiles = filterActiveProfiles(d, sorted);
    if (st.opts.propagateProfiles ?? true) for (const p of st.opts.profiles ?? []) if (!depProfiles.includes(p)) depProfiles.push(p);
    out.push(...await processEachDependency(st, d, v, depProfiles, required));
  }
  if (required) {
    delete config.requires;
    out.push({
      ...(name ? { name } : {}),
      dir: v.isDependency ? dirname(v.file) : st.workDir,
      file: v.file,
      config,
      root: v.root.dir,
      ...(v.root.label ? { remote: v.root.label } : {}),
      profiles: applied,
    });
  }
  return out;
}

function shownFile(st: State, file: string): string {
  return st.shown.get(file) ?? display(st.source, file);
}

function filterActiveProfiles(d: Obj, active: string[]): string[] {
  const out: string[] = [];
  for (const ap of Array.isArray(d.activeProfiles) ? d.activeProfiles : []) {
    if (!isObj(ap)) continue;
    const by = Array.isArray(ap.activatedBy) ? ap.activatedBy.map(String) : [];
    if (by.length === 0 || active.some(p => by.includes(p))) out.push(String(ap.name ?? ''));
  }
  return out;
}

const SOURCES = ['path', 'git', 'googleCloudStorage', 'googleCloudBuildRepoV2'];

async function processEachDependency(st: State, d: Obj, v: Visit, profiles: string[], required: boolean): Promise<ResolvedConfig[]> {
  const parentShown = display(v.root, v.file);
  const set = SOURCES.filter(k => d[k] !== undefined && d[k] !== null && d[k] !== '');
  if (set.length > 1) {
    throw new SkaffoldError(`invalid skaffold config: source: ${parentShown}: only one element in set paths can be set. got ${set[0]} and ${set[1]}`, 'INVALID_CONFIG');
  }
  let root = v.root;
  let path = '';
  if (typeof d.path === 'string' && d.path !== '') path = resolveInside(root, dirname(v.file), d.path, 'required config path');
  if (isObj(d.git)) {
    const repo = typeof d.git.repo === 'string' ? d.git.repo : '';
    if (!repo) throw new SkaffoldError(`invalid skaffold config: source: ${parentShown}: required value not set: repo`, 'INVALID_CONFIG');
    const ref = typeof d.git.ref === 'string' && d.git.ref !== '' ? d.git.ref : undefined;
    root = await remoteRoot(st, `git:${repo}@${ref ?? ''}`, ref ? `${repo}@${ref}` : repo, () => {
      if (!st.opts.remote?.git) throw new SkaffoldError(`caching remote dependency ${repo}: fetching git repositories is not available here`, 'REMOTE_NOT_FOUND');
      return st.opts.remote.git(repo, ref);
    });
    path = resolveInside(root, root.dir, typeof d.git.path === 'string' ? d.git.path : '', 'git path');
  } else if (isObj(d.googleCloudStorage)) {
    const source = typeof d.googleCloudStorage.source === 'string' ? d.googleCloudStorage.source : '';
    if (!source) throw new SkaffoldError(`invalid skaffold config: source: ${parentShown}: required value not set: source`, 'INVALID_CONFIG');
    root = await remoteRoot(st, `gcs:${source}`, source, () => {
      if (!st.opts.remote?.googleCloudStorage) throw new SkaffoldError(`caching remote dependency ${source}: fetching Cloud Storage objects is not available here`, 'REMOTE_NOT_FOUND');
      return st.opts.remote.googleCloudStorage(source);
    });
    const p = typeof d.googleCloudStorage.path === 'string' ? d.googleCloudStorage.path : '';
    path = resolveInside(root, root.dir, p, 'googleCloudStorage path');
  } else if (d.googleCloudBuildRepoV2 !== undefined && d.googleCloudBuildRepoV2 !== null) {
    throw new SkaffoldError('caching remote dependency: googleCloudBuildRepoV2 dependencies are not supported', 'REMOTE_NOT_FOUND');
  }
  let file: string;
  if (path === '') {
    file = v.file; // no path: other configs of the same file
  } else {
    const real = await checkReal(root, path, 'required config path', display(root, path));
    if (!real) {
      throw new SkaffoldError(`could not find skaffold config file "${display(root, path)}" that is referenced as a dependency in config file "${parentShown}"`, 'CONFIG_NOT_FOUND');
    }
    file = real;
    if ((await stat(real)).isDirectory()) {
      const inDir = join(real, 'skaffold.yaml');
      file = (await checkReal(root, inDir, 'required config path', display(root, inDir))) ?? inDir;
    }
  }
  const configs = Array.isArray(d.configs) ? d.configs.map(String) : [];
  return getConfigs(st, {
    file, root, selection: configs, profiles, isRequired: required,
    isDependency: v.isDependency || file !== v.file, depth: v.depth + 1,
  });
}

/** One fetch per remote source per load, errors included (Skaffold's record.cachedRepos / cachedObjects). */
function remoteRoot(st: State, key: string, label: string, fetch: () => Promise<string>): Promise<Root> {
  let p = st.remotes.get(key);
  if (!p) {
    p = (async () => {
      let dir: string;
      try {
        dir = await fetch();
      } catch (e) {
        if (e instanceof SkaffoldError) throw e;
        throw wrap(e, `caching remote dependency ${label}`, 'REMOTE_NOT_FOUND');
      }
      try {
        return await makeRoot(dir, label);
      } catch {
        throw new SkaffoldError(`caching remote dependency ${label}: the fetched directory does not exist`, 'REMOTE_NOT_FOUND');
      }
    })();
    st.remotes.set(key, p);
  }
  return p;
}
