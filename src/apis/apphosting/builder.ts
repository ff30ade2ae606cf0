// A real App Hosting build: the source (a commit of the backend's repository, an archive in Cloud Storage, or a
// locally built bundle) into a directory, `apphosting.yaml` read, install and build run through an executor, and
// the result kept as a content-addressed artifact that serving starts. Every line goes to the build's log.
import { createHash } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, realpathSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Decisions } from '../../engine/decisions.js';
import { buildLabel } from './service.js';
import type { Executor, TaskResult, TaskSpec } from '../../executors/executor.js';
import { ArchiveError, isZip, unpackArchive, unpackZip } from '../../policy/archives.js';
import { commitUri, GitError, type GitRepos } from '../../sources/git.js';
import { OutsideError, realInside } from '../../sources/contained.js';
import type { SecretAccessor } from '../secretmanager/index.js';
import type { RepositoryLinks } from '../developerconnect/index.js';
import { readAppHostingConfig, type AppEnvVar, type AppHostingConfig } from './apphosting-yaml.js';
import { RuleError } from './validate.js';
import { bundleNextOutput, isNextApp, NEXT_BUILD_ENV, NEXT_RUN_ENV } from './nextjs.js';

type Obj = Record<string, unknown>;

/** How long an install or build step may run (Cloud Build's default build timeout). */
export const STEP_TIMEOUT_MS = 60 * 60_000;

export interface BuilderDeps {
  git: GitRepos;
  links: RepositoryLinks;
  /** A Cloud Storage object's bytes (`gs://bucket/object`); throws when missing. */
  readObject(url: string): Buffer;
  secrets: SecretAccessor;
  /** The image build steps and apps run in with the container executor. */
  nodeImage: string;
  /** Where builds work and artifacts are kept. */
  workRoot: string;
  /** The debug log of controller decisions. */
  decisions?: Decisions;
}

/** What a failed step says: which step, who is to blame (the build, or the serving platform), and why. */
export class BuildFailure extends Error {
  constructor(message: string, readonly source: 'CLOUD_BUILD' | 'CLOUD_RUN') { super(message); }
}

export interface CodebaseInfo { hash: string; commitMessage: string; commitTime: string; author: { displayName: string; email: string }; displayName: string; uri: string }

export interface BuildOutput {
  /** Directory of the built app, named by the digest of its content. */
  artifact: string;
  digest: string;
  /** How the app starts, and with what environment. */
  run: { command: string[]; env: Record<string, string> };
  config: AppHostingConfig;
  effectiveEnv: Obj[];
}

export interface BuildInput { name: string; project: string; backend: Obj; build: Obj; environment?: string; hash?: string }

export interface StepLog { (step: number, name: string, stream: 'stdout' | 'stderr', line: string): void }

export class Builder {
  constructor(private deps: BuilderDeps) {}

  get nodeImage(): string { return this.deps.nodeImage; }

  /** The commit at the head of a backend's branch, undefined while the branch does not exist; throws if unreadable. */
  async branchHead(backend: Obj, branch: string): Promise<string | undefined> {
    const link = String((backend.codebase as Obj | undefined)?.repository ?? '');
    const url = this.deps.links.cloneUri(link);
    if (!url) throw new BuildFailure(`The backend's repository ${link} no longer exists in Developer Connect.`, 'CLOUD_BUILD');
    return (await this.deps.git.resolve(url, { branch }))?.hash;
  }

  /** The commit a codebase build names, described as Google describes it (resolved before building starts). */
  async resolveCodebase(backend: Obj, ref: { branch?: string; commit?: string }): Promise<CodebaseInfo> {
    const link = String((backend.codebase as Obj | undefined)?.repository ?? '');
    const url = this.deps.links.cloneUri(link);
    if (!url) throw new BuildFailure(`The backend's repository ${link} no longer exists in Developer Connect.`, 'CLOUD_BUILD');
    let info;
    try { info = await this.deps.git.resolve(url, ref); } catch (e) {
      throw new BuildFailure(`The repository ${url} could not be fetched: ${(e as Error).message}`, 'CLOUD_BUILD');
    }
    if (!info) throw new BuildFailure(ref.branch !== undefined ? `Branch "${ref.branch}" does not exist in ${url}.` : `Commit "${ref.commit}" does not exist in ${url}.`, 'CLOUD_BUILD');
    return {
      hash: info.hash, commitMessage: info.message, commitTime: info.commitTime, author: { displayName: info.author.name, email: info.author.email },
      displayName: info.hash.slice(0, 8), uri: commitUri(url, info.hash),
    };
  }

  /**
   * Builds: source into `dir/src`, config, install, build, artifact. `executor` runs the steps (absent: nothing is
   * run, the source is only prepared, which is what a locally built source needs). Throws BuildFailure.
   */
  async build(b: BuildInput, executor: Executor | undefined, log: StepLog, signal: { cancelled: boolean; current?: { cancel(): void } }): Promise<BuildOutput> {
    const dir = join(this.deps.workRoot, 'builds', createHash('sha256').update(b.name).digest('hex').slice(0, 24));
    // The work directory goes whatever happens: only the artifact (moved out of it) is kept.
    try { return await this.buildIn(dir, b, executor, log, signal); } finally { rmSync(dir, { recursive: true, force: true }); }
  }

  /**
   * Removes the artifacts no build refers to any more (deleted builds, deleted backends), keeping `keep`'s. Returns
   * how many went.
   */
  sweepArtifacts(keep: Set<string>): number {
    const root = join(this.deps.workRoot, 'artifacts');
    let n = 0;
    let names: string[];
    try { names = readdirSync(root); } catch { return 0; }
    for (const name of names) {
      if (keep.has(join(root, name))) continue;
      rmSync(join(root, name), { recursive: true, force: true });
      n++;
    }
    return n;
  }

  private async buildIn(dir: string, b: BuildInput, executor: Executor | undefined, log: StepLog, signal: { cancelled: boolean; current?: { cancel(): void } }): Promise<BuildOutput> {
    rmSync(dir, { recursive: true, force: true });
    const src = join(dir, 'src');
    mkdirSync(src, { recursive: true });
    const source = b.build.source as Obj;
    let root = '';
    let locallyBuilt: Obj | undefined;
    if (source.codebase) {
      const link = String((b.backend.codebase as Obj | undefined)?.repository ?? '');
      const url = this.deps.links.cloneUri(link);
      if (!url) throw new BuildFailure(`The backend's repository ${link} no longer exists in Developer Connect.`, 'CLOUD_BUILD');
      log(0, 'fetch', 'stdout', `Fetching ${url} at ${b.hash}`);
      try { await this.deps.git.export(url, b.hash!, src); } catch (e) {
        throw new BuildFailure(`The commit ${b.hash} of ${url} could not be checked out: ${e instanceof GitError ? e.message : String(e)}`, 'CLOUD_BUILD');
      }
      root = String((b.backend.codebase as Obj).rootDirectory ?? '');
    } else {
      const archive = (source.archive ?? source.locallyBuilt) as Obj;
      locallyBuilt = source.locallyBuilt as Obj | undefined;
      const uri = String(archive.userStorageUri ?? '');
      if (!uri) throw new BuildFailure('Gantry reads archives from Cloud Storage (user_storage_uri) only; external signed URLs are not fetched.', 'CLOUD_BUILD');
      log(0, 'fetch', 'stdout', `Fetching ${uri}`);
      let data: Buffer;
      try { data = this.deps.readObject(uri); } catch (e) {
        throw new BuildFailure(`The source archive ${uri} could not be read: ${(e as Error).message}`, 'CLOUD_BUILD');
      }
      try {
        if (isZip(data)) await unpackZip(data, src); else await unpackArchive(data, src);
      } catch (e) {
        throw new BuildFailure(`The source archive ${uri} is ${e instanceof ArchiveError ? e.message : 'not a readable zip or tar.gz archive'}.`, 'CLOUD_BUILD');
      }
      root = String(archive.rootDirectory ?? '');
    }
    // Everything Gantry reads of the source (the root directory, apphosting*.yaml, package.json) is resolved inside
    // it, symlinks included: a symlink in a repository or archive may point anywhere on the host.
    const realSrc = realpathSync(src);
    let app: string | undefined;
    try { app = realInside(realSrc, join(realSrc, root)); } catch (e) {
      if (e instanceof OutsideError) throw new BuildFailure(`The root directory "${root}" cannot be used: ${e.message}.`, 'CLOUD_BUILD');
      throw e;
    }
    if (!app || !statSync(app).isDirectory()) {
      throw new BuildFailure(`The root directory "${root}" does not exist in the source.`, 'CLOUD_BUILD');
    }
    let config: AppHostingConfig;
    try { config = readAppHostingConfig(app, b.environment, realSrc); } catch (e) {
      if (e instanceof RuleError) throw new BuildFailure(`Invalid App Hosting configuration: ${e.message}`, 'CLOUD_BUILD');
      throw e;
    }
    if (config.files.length) log(0, 'fetch', 'stdout', `Read ${config.files.join(', ')}`);
    const overrides = ((b.backend.overrideEnv ?? []) as Obj[]).map(e => ({ ...e, availability: (e.availability as AppEnvVar['availability'] | undefined) ?? ['BUILD', 'RUNTIME'], originFileName: '' }) as AppEnvVar);
    const apiEnv = ((b.build.config as Obj | undefined)?.env ?? (locallyBuilt?.env as Obj[] | undefined) ?? []) as Obj[];
    const env = mergeEnv(config.env, [...overrides, ...apiEnv.map(e => ({ ...e, availability: (e.availability as AppEnvVar['availability'] | undefined) ?? ['BUILD', 'RUNTIME'], originFileName: '' }) as AppEnvVar)]);
    const buildEnv = this.resolveEnv(env, 'BUILD', b.project);
    const runtimeEnv = this.resolveEnv(env, 'RUNTIME', b.project);
    const pkg = readPackageJson(app, realSrc);
    const pm = packageManager(app);
    // App Hosting builds a Next.js app with its adapter unless apphosting.yaml gives the commands itself.
    const next = !locallyBuilt && !config.scripts.buildCommand && !config.scripts.runCommand && isNextApp(pkg);
    let n = 1;
    if (!locallyBuilt) {
      if (!executor) throw new BuildFailure('No executor runs build steps.', 'CLOUD_BUILD');
      const steps: { name: string; command: string[] }[] = [];
      if (pkg) steps.push({ name: 'install', command: installCommand(app, pm) });
      else if (!config.scripts.buildCommand && !config.scripts.runCommand) throw new BuildFailure('The source has no package.json: App Hosting builds Node.js apps (or give scripts.buildCommand and scripts.runCommand in apphosting.yaml).', 'CLOUD_BUILD');
      if (config.scripts.buildCommand) steps.push({ name: 'build', command: ['sh', '-c', config.scripts.buildCommand] });
      else if (pkg?.scripts && typeof (pkg.scripts as Obj).build === 'string') steps.push({ name: 'build', command: [pm, 'run', 'build'] });
      for (const step of steps) {
        if (signal.cancelled) throw new BuildFailure('The build was cancelled.', 'CLOUD_BUILD');
        const i = n++;
        log(i, step.name, 'stdout', `$ ${step.command.join(' ')}`);
        const spec: TaskSpec = {
          image: this.deps.nodeImage, command: step.command, args: [], workspace: app, timeoutMs: STEP_TIMEOUT_MS, owner: b.name,
          env: { ...buildEnv, ...(next ? NEXT_BUILD_ENV : {}), CI: 'true', NODE_ENV: step.name === 'install' ? 'development' : 'production', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', npm_config_loglevel: 'warn' },
        };
        const what = `App Hosting: ${buildLabel(b.name)} step #${i} "${step.name}"`;
        this.deps.decisions?.say(`${what} started on the ${executor.name} executor: ${step.command.join(' ')}`);
        const running = executor.start(spec, (stream, chunk) => { for (const line of chunk.split('\n')) if (line) log(i, step.name, stream, line); });
        signal.current = running;
        const r = await running.done;
        signal.current = undefined;
        this.deps.decisions?.say(`${what} ended: ${describe(r)}`);
        if (!(r.kind === 'exited' && r.code === 0)) throw new BuildFailure(`Step #${i} - "${step.name}" (${step.command.join(' ')}) failed: ${describe(r)}.`, 'CLOUD_BUILD');
      }
    }
    // A Next.js app serves its standalone server, which is all the output keeps.
    const output = next ? bundleNextOutput(app, realSrc) : app;
    if (next) log(n, 'push', 'stdout', 'Next.js: serving .next/standalone (node server.js), with .next/static and public copied in');
    const command = next ? ['node', 'server.js'] : startCommand(app, pkg, pm, config, locallyBuilt);
    if (!command) throw new BuildFailure('The app has no start command: give scripts.runCommand in apphosting.yaml, a "start" script or "main" in package.json, or a server.js.', 'CLOUD_BUILD');
    const digest = digestOf(output);
    const artifact = join(this.deps.workRoot, 'artifacts', digest);
    if (!existsSync(artifact)) {
      mkdirSync(join(this.deps.workRoot, 'artifacts'), { recursive: true });
      renameSync(output, artifact);
    }
    log(n, 'push', 'stdout', `Stored the built app as sha256:${digest}`);
    const effectiveEnv = env.map(e => ({ variable: e.variable, ...(e.value !== undefined ? { value: e.value } : { secret: e.secret }), availability: e.availability, ...(e.originFileName ? { originFileName: e.originFileName } : {}) }));
    return { artifact, digest, run: { command, env: { ...runtimeEnv, NODE_ENV: 'production', ...(next ? NEXT_RUN_ENV : {}) } }, config, effectiveEnv };
  }

  private resolveEnv(env: AppEnvVar[], when: 'BUILD' | 'RUNTIME', project: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const e of env) {
      if (!e.availability.includes(when)) continue;
      if (e.value !== undefined) { out[e.variable] = e.value; continue; }
      const { secretProject, secret, version } = parseSecretRef(String(e.secret), project);
      try { out[e.variable] = this.deps.secrets.access(secretProject, secret, version).toString('utf8'); } catch (err) {
        throw new BuildFailure(`The secret ${e.secret} of ${e.variable} could not be read: ${(err as Error).message}`, when === 'BUILD' ? 'CLOUD_BUILD' : 'CLOUD_RUN');
      }
    }
    return out;
  }
}

/** `apphosting.yaml` variables, then the backend's and the build's (later ones replace earlier ones by name). */
function mergeEnv(base: AppEnvVar[], later: AppEnvVar[]): AppEnvVar[] {
  const out = [...base];
  for (const v of later) {
    const at = out.findIndex(x => x.variable === v.variable);
    if (at >= 0) out[at] = v; else out.push(v);
  }
  return out;
}

/** `secret`, `secret@version`, `projects/p/secrets/s` or `projects/p/secrets/s/versions/v`. */
export function parseSecretRef(ref: string, project: string): { secretProject: string; secret: string; version: string } {
  const full = /^projects\/([^/]+)\/secrets\/([^/]+)(?:\/versions\/([^/]+))?$/.exec(ref);
  if (full) return { secretProject: full[1], secret: full[2], version: full[3] ?? 'latest' };
  const at = ref.indexOf('@');
  return at > 0 ? { secretProject: project, secret: ref.slice(0, at), version: ref.slice(at + 1) } : { secretProject: project, secret: ref, version: 'latest' };
}

function readPackageJson(dir: string, root: string): Obj | undefined {
  let p: string | undefined;
  try { p = realInside(root, join(dir, 'package.json')); } catch (e) {
    if (e instanceof OutsideError) throw new BuildFailure(`package.json cannot be read: ${e.message}.`, 'CLOUD_BUILD');
    throw e;
  }
  if (!p) return undefined;
  if (!statSync(p).isFile()) throw new BuildFailure('package.json is not a regular file.', 'CLOUD_BUILD');
  try {
    const v = JSON.parse(readFileSync(p, 'utf8')) as unknown;
    if (!v || typeof v !== 'object' || Array.isArray(v)) throw new Error('not an object');
    return v as Obj;
  } catch (e) {
    throw new BuildFailure(`package.json is not valid JSON: ${(e as Error).message}`, 'CLOUD_BUILD');
  }
}

/** The package manager the lockfile names (npm when none does). */
function packageManager(dir: string): 'npm' | 'yarn' | 'pnpm' {
  if (existsSync(join(dir, 'pnpm-lock.yaml'))) return 'pnpm';
  if (existsSync(join(dir, 'yarn.lock'))) return 'yarn';
  return 'npm';
}

function installCommand(dir: string, pm: 'npm' | 'yarn' | 'pnpm'): string[] {
  if (pm === 'pnpm') return ['pnpm', 'install', '--frozen-lockfile'];
  if (pm === 'yarn') return ['yarn', 'install', '--frozen-lockfile'];
  return existsSync(join(dir, 'package-lock.json')) || existsSync(join(dir, 'npm-shrinkwrap.json')) ? ['npm', 'ci'] : ['npm', 'install'];
}

/** How the app starts: `scripts.runCommand`, a locally built source's runCommand, `scripts.start`, `main`, server.js. */
function startCommand(dir: string, pkg: Obj | undefined, pm: string, config: AppHostingConfig, locallyBuilt: Obj | undefined): string[] | undefined {
  if (config.scripts.runCommand) return ['sh', '-c', config.scripts.runCommand];
  if (locallyBuilt?.runCommand) return ['sh', '-c', String(locallyBuilt.runCommand)];
  const scripts = pkg?.scripts as Obj | undefined;
  if (typeof scripts?.start === 'string') return [pm, 'run', 'start'];
  if (typeof pkg?.main === 'string' && existsSync(join(dir, pkg.main))) return ['node', pkg.main];
  if (existsSync(join(dir, 'server.js'))) return ['node', 'server.js'];
  return undefined;
}

/** sha256 over every file's path, mode and content, in path order: the same app has the same digest. */
export function digestOf(dir: string): string {
  const h = createHash('sha256');
  const walk = (d: string) => {
    for (const name of readdirSync(d).sort()) {
      const p = join(d, name);
      const st = lstatSync(p);
      const rel = relative(dir, p);
      if (st.isDirectory()) { h.update(`d ${rel}\0`); walk(p); } else if (st.isFile()) {
        h.update(`f ${rel} ${st.mode & 0o111 ? 'x' : '-'} ${st.size}\0`);
        h.update(readFileSync(p));
      } else if (st.isSymbolicLink()) h.update(`l ${rel}\0`);
    }
  };
  walk(dir);
  return h.digest('hex');
}

function describe(r: TaskResult): string {
  switch (r.kind) {
    case 'exited': return `it exited with code ${r.code}`;
    case 'signalled': return `it was killed by ${r.signal}`;
    case 'timedOut': return `it did not finish within ${STEP_TIMEOUT_MS / 60_000} minutes`;
    case 'cancelled': return 'it was cancelled';
    case 'failedToStart': return `it could not start: ${r.message}`;
  }
}
