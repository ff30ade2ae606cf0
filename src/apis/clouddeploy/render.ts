// Cloud Deploy's render of one release, target by target, as Cloud Deploy runs `skaffold render`: the
// release source with the target stage's profiles (and a custom canary phase's own), a custom target
// type's includeSkaffoldModules as extra dependencies, images from `buildArtifacts`, then deploy
// parameters, then the labels Cloud Deploy adds. A `skaffoldConfigPath` in a subdirectory renders from that
// directory (its relative paths are its own), as colors-e2e's `--skaffold-file=colors-be/skaffold.yaml` needs.
// The manifests, the Skaffold config that deploys them and the render log are written to
// storage exactly where the release's `targetArtifacts` point.
import type { LogWriter } from '../logging/index.js';
import { cloudBuildStepEntry } from '../logging/producers.js';
import { execFile } from 'node:child_process';
import { mkdirSync, realpathSync, writeFileSync, rmSync } from 'node:fs';
import { dirname, join, resolve, sep } from 'node:path';
import { promisify } from 'node:util';
import { yaml } from '../../lazy-deps.js';
import { ApiError } from '../../google/errors.js';
import type { Resource } from '../../google/standard-methods.js';
import {
  applyDeployParameters, loadSkaffoldConfigs, lookPath, offlineEnv, OFFLINE, renderManifests, setManifestLabels, SkaffoldError,
  type RemoteResolver, type ResolvedConfig,
} from '../../skaffold/index.js';
import { stagesOf } from './pipelines.js';
import { phaseIds } from './phases.js';
import { sourceDir, type SourceReader } from './skaffold.js';
import { ArchiveError, unpackArchive } from '../../policy/archives.js';
import type { LogSink } from './job-execution.js';
import type { Logger } from '../../server/log.js';

type Obj = Record<string, unknown>;
const run = promisify(execFile);

/** What render needs from storage: read a source, write artifacts, list a gs:// prefix (GCS modules). */
export interface RenderStorage extends SourceReader, LogSink {
  list(bucket: string, prefix: string): { name: string; data: () => Buffer }[];
}

export interface RenderDeps {
  storage: RenderStorage;
  workRoot: string;
  /** Environment the render tools (kubectl, helm, git) run with: their PATH. */
  env?: NodeJS.ProcessEnv;
  /** Where failures that are not the client's (they may name host paths) are reported. */
  log?: Logger;
  /** Cloud Logging: each target's render log goes to its render build's log too, as Cloud Build writes it. */
  logs?: LogWriter;
}

export interface TargetRenderResult {
  ok: boolean;
  cause?: string;
  message?: string;
  /** Render metadata (`targetRenders[t].metadata`). */
  metadata?: Obj;
  /** The Skaffold config the target's jobs run from (verify, custom actions), phase by phase. */
  configs?: ResolvedConfig[];
}

/** Where a target's artifacts go: `gs://{region}.deploy-artifacts.{project}.appspot.com/{release}-{uid}/{target}`. */
export function artifactBase(release: Resource, targetId: string): string {
  const [, project, , region, , , , releaseId] = String(release.name).split('/');
  return `gs://${region}.deploy-artifacts.${project}.appspot.com/${releaseId}-${String(release.uid)}/${targetId}`;
}

/** The stage a target is deployed by: its own, or the multi-target's that lists it. */
export function stageFor(release: Resource, targetId: string): Obj | undefined {
  const stages = stagesOf(release.deliveryPipelineSnapshot as Resource);
  const own = stages.find(s => s.targetId === targetId);
  if (own) return own;
  const parents = ((release.targetSnapshots as Resource[] | undefined) ?? [])
    .filter(t => (((t.multiTarget as Obj | undefined)?.targetIds as string[] | undefined) ?? []).includes(targetId));
  return stages.find(s => parents.some(p => p.targetId === s.targetId));
}

/** The custom target type (its snapshot in the release) a target deploys with; none for built-in target kinds. */
export function customTargetTypeOf(release: Resource, target: Resource | undefined): Resource | undefined {
  const type = (target?.customTarget as Obj | undefined)?.customTargetType;
  if (!type) return undefined;
  return ((release.customTargetTypeSnapshots as Resource[] | undefined) ?? []).find(c => c.name === type);
}

/** Deploy parameters for one target: the pipeline stage's (label-matched), then the target's, then the release's. */
export function deployParametersFor(release: Resource, target: Resource): Record<string, string> {
  const out: Record<string, string> = {};
  const labels = (target.labels ?? {}) as Record<string, string>;
  for (const p of ((stageFor(release, String(target.targetId))?.deployParameters as Obj[] | undefined) ?? [])) {
    const match = (p.matchTargetLabels ?? {}) as Record<string, string>;
    if (Object.entries(match).every(([k, v]) => labels[k] === v)) Object.assign(out, p.values ?? {});
  }
  Object.assign(out, target.deployParameters ?? {});
  Object.assign(out, release.deployParameters ?? {});
  return out;
}

/**
 * The labels Cloud Deploy adds to rendered manifests (https://cloud.google.com/deploy/docs/labels-annotations):
 * on Kubernetes `app.kubernetes.io/managed-by: google-cloud-deploy` and `deploy.cloud.google.com/…` keys, which
 * Google's samples select resources by (postdeploy-hooks/k8s-cleanup) and read from pods through fieldRefs
 * (colors-e2e); Cloud Run labels allow no `/`, so there the same keys go without the prefix (`managed-by`,
 * `release-id`, …), as Cloud Run revisions deployed by Cloud Deploy carry them. A custom target's render is its
 * own action's: none.
 */
export function cloudDeployLabels(release: Resource, target: Resource): Record<string, string> {
  if (target.customTarget) return {};
  const [, project, , location, , pipeline, , releaseId] = String(release.name).split('/');
  const ids: [string, string][] = [
    ['location', location], ['project-id', project], ['delivery-pipeline-id', pipeline],
    ['release-id', releaseId], ['target-id', String(target.targetId)],
  ];
  if (target.run) return Object.fromEntries([['managed-by', 'google-cloud-deploy'], ...ids]);
  return Object.fromEntries([['app.kubernetes.io/managed-by', 'google-cloud-deploy'], ...ids.map(([k, v]) => [`deploy.cloud.google.com/${k}`, v])]);
}

/**
 * Cloud Run revisions deployed by Cloud Deploy carry its labels too: a Knative Service's template gets them, so each
 * release makes its own revision (its release id differs) even when nothing else changed.
 */
export function labelRevisionTemplates(manifests: string, labels: Record<string, string>): string {
  const docs = yaml().parseAllDocuments(manifests);
  if (!Array.isArray(docs) || !docs.some(d => d.get('kind') === 'Service' && String(d.get('apiVersion') ?? '').startsWith('serving.knative.dev'))) return manifests;
  return docs.map(d => {
    if (d.get('kind') === 'Service' && String(d.get('apiVersion') ?? '').startsWith('serving.knative.dev') && d.hasIn(['spec', 'template'])) {
      for (const [k, v] of Object.entries(labels)) d.setIn(['spec', 'template', 'metadata', 'labels', k], v);
    }
    return d.toString({ lineWidth: 0 });
  }).map((t, i) => (i && !t.startsWith('---') ? `---\n${t}` : t)).join('');
}

/**
 * A stage's phases as the render lays them out: each phase's id, the profiles it adds to the stage's
 * (custom canary phases may), its canary percentage, and the folder of its files under the target's
 * artifactUri (the target's own manifest.yaml and skaffold.yaml are the stage's render).
 */
export function phaseLayout(stage: Obj | undefined): { id: string; profiles: string[]; percentage?: number; prefix: string }[] {
  const canary = (stage?.strategy as Obj | undefined)?.canary as Obj | undefined;
  const custom = (canary?.customCanaryDeployment as Obj | undefined)?.phaseConfigs as Obj[] | undefined;
  const phases = custom
    ? custom.map(p => ({ id: String(p.phaseId), profiles: (p.profiles as string[] | undefined) ?? [], percentage: Number(p.percentage ?? 0) }))
    : phaseIds(stage).map(id => ({ id, profiles: [] as string[], percentage: id.startsWith('canary-') ? Number(id.slice(7)) : undefined }));
  return phases.map(p => ({ ...p, prefix: `${p.id}/` }));
}

/**
 * Renders every target of the release. An unreadable source fails every target: Cloud Deploy's render
 * build cannot start without it.
 */
export async function renderRelease(release: Resource, deps: RenderDeps): Promise<Map<string, TargetRenderResult>> {
  const out = new Map<string, TargetRenderResult>();
  const targets = (release.targetSnapshots as Resource[] | undefined) ?? [];
  let dir: string | undefined;
  if (release.skaffoldConfigUri) {
    try {
      dir = await sourceDir(release, deps.storage, deps.workRoot);
    } catch (e) {
      const message = e instanceof ApiError ? e.message : 'The release source could not be read.';
      for (const t of targets) out.set(String(t.targetId), { ok: false, cause: 'EXECUTION_FAILED', message: `Unable to read the release source ${String(release.skaffoldConfigUri)}: ${message}` });
      return out;
    }
  }
  const remote = remoteResolver(release, deps);
  for (const t of targets) out.set(String(t.targetId), await renderTarget(release, t, dir, deps, remote));
  return out;
}

async function renderTarget(release: Resource, target: Resource, dir: string | undefined, deps: RenderDeps, remote: RemoteResolver): Promise<TargetRenderResult> {
  const targetId = String(target.targetId);
  const base = artifactBase(release, targetId);
  const log: string[] = [];
  const stage = stageFor(release, targetId);
  const stageProfiles = (stage?.profiles as string[] | undefined) ?? [];
  const params = deployParametersFor(release, target);
  const configFile = String(release.skaffoldConfigPath || 'skaffold.yaml');
  const images = ((release.buildArtifacts as Obj[] | undefined) ?? []).map(a => ({ image: String(a.image ?? ''), tag: String(a.tag ?? '') }));
  // The artifact bucket is the release's project's, as Cloud Deploy's default one is.
  const project = String(release.name).split('/')[1];
  const write = (path: string, text: string, type = 'text/yaml') => deps.storage.write(`${base}/${path}`, Buffer.from(text), type, project);
  /** The render log, in storage (the artifacts' render.log) and as the target's render build's log lines. */
  const publishLog = () => {
    write('render.log', log.join('\n') + '\n', 'text/plain');
    const build = String(((release.targetRenders ?? {}) as Record<string, Obj>)[targetId]?.renderingBuild ?? '');
    if (build && deps.logs) deps.logs.write(log.map(line => cloudBuildStepEntry({ project, buildId: build.split('/').pop()!, step: 0, stepName: 'render', line })));
  };
  const fail = (cause: string, message: string): TargetRenderResult => {
    log.push(`ERROR: ${message}`);
    publishLog();
    return { ok: false, cause, message };
  };
  const labels = cloudDeployLabels(release, target);
  const setLabels = (manifests: string) => target.run ? labelRevisionTemplates(setManifestLabels(manifests, labels), labels) : setManifestLabels(manifests, labels);
  const renderOne = async (profiles: string[]) => {
    if (!dir) return { configs: [] as ResolvedConfig[], manifests: setLabels(simulatedManifest(release, target)) };
    log.push(`skaffold render --filename=${configFile}${profiles.length ? ` --profile=${profiles.join(',')}` : ''}${images.length ? ` --build-artifacts (${images.length} image${images.length > 1 ? 's' : ''})` : ''}`);
    const configs = await loadSkaffoldConfigs({
      dir, file: configFile, profiles, extraRequires: includedModules(release, target), remote, workInConfigDir: true,
    });
    const rendered = await renderManifests(configs, { images, env: deps.env });
    log.push(...rendered.log);
    return { configs, manifests: setLabels(applyDeployParameters(rendered.manifests, params)) };
  };

  try {
    const main = await renderOne(stageProfiles);
    write('manifest.yaml', main.manifests);
    write('skaffold.yaml', deployConfig(main.configs, target, 'manifest.yaml'));
    const phases = phaseLayout(stage);
    const isCanary = (p: { id: string; percentage?: number }) => p.percentage !== undefined && p.id !== 'stable';
    const networking = serviceNetworking(stage);
    for (const phase of phases) {
      const own = phase.profiles.length ? await renderOne([...stageProfiles, ...phase.profiles]) : main;
      const manifests = isCanary(phase) ? canaryManifests(own.manifests, target, phase.percentage!, networking) : own.manifests;
      write(`${phase.prefix}manifest.yaml`, manifests);
      write(`${phase.prefix}skaffold.yaml`, deployConfig(own.configs, target, 'manifest.yaml'));
    }
    log.push(`Rendered ${countDocs(main.manifests)} manifest(s) for target "${targetId}" to ${base}/manifest.yaml`);
    publishLog();
    return { ok: true, metadata: renderMetadata(main.manifests, target, phases.some(isCanary)), configs: main.configs };
  } catch (e) {
    if (e instanceof SkaffoldError) return fail('EXECUTION_FAILED', `Skaffold render of target "${targetId}" failed: ${e.message}`);
    if (e instanceof ApiError) return fail('EXECUTION_FAILED', e.message);
    throw e;
  }
}

/** A custom target type's includeSkaffoldModules, as Skaffold `requires` entries of the release's config. */
function includedModules(release: Resource, target: Resource): Obj[] {
  const ctt = customTargetTypeOf(release, target);
  const mods = (((ctt?.customActions as Obj | undefined)?.includeSkaffoldModules as Obj[] | undefined) ?? []);
  return mods.map(m => {
    const req: Obj = { configs: m.configs ?? [] };
    if (m.git) req.git = m.git;
    if (m.googleCloudStorage) req.googleCloudStorage = m.googleCloudStorage;
    if (m.googleCloudBuildRepo) {
      throw new SkaffoldError(`includeSkaffoldModules source googleCloudBuildRepo (${String((m.googleCloudBuildRepo as Obj).repository)}) needs Cloud Build repositories, which Gantry does not serve; use git or googleCloudStorage.`, 'REMOTE_NOT_FOUND');
    }
    return req;
  });
}

/**
 * Remote Skaffold modules: git repositories on this machine (under --source-dirs) and Gantry's Cloud Storage.
 * git runs as the render tools do (skaffold/tools.ts `offlineEnv`): the PATH and nothing else of Gantry's
 * environment, a private HOME, no system or global git config (no `insteadOf`, credential helpers, LFS
 * filters or templates of the operator), only the file:// transport (GIT_ALLOW_PROTOCOL=file), proxies at a
 * dead loopback port, no hooks, no submodules.
 */
function remoteResolver(release: Resource, deps: RenderDeps): RemoteResolver {
  const root = join(deps.workRoot, String(release.uid), '.remote');
  let n = 0;
  // Every target and phase of one render loads the same modules: each source is fetched once per render.
  const fetched = new Map<string, Promise<string>>();
  const once = (key: string, fetch: () => Promise<string>) => {
    let p = fetched.get(key);
    if (!p) fetched.set(key, p = fetch());
    return p;
  };
  return {
    git: (repo, ref) => once(`git ${repo} ${ref ?? ''}`, async () => {
      // Only local repositories: Gantry never reaches out to the network.
      const url = repo.startsWith('file://') ? repo : repo.startsWith('/') ? `file://${repo}` : undefined;
      if (!url) throw new SkaffoldError(`git module "${repo.slice(0, 200)}": Gantry clones only repositories on this machine (a file:// URL under --source-dirs); ${OFFLINE}.`, 'REMOTE_NOT_FOUND');
      if (ref !== undefined && (ref.startsWith('-') || /[\0-\x20\x7f]/.test(ref))) throw new SkaffoldError(`git module "${repo.slice(0, 200)}": "${ref.slice(0, 200)}" is not a git ref.`, 'REMOTE_NOT_FOUND');
      let path: string;
      try { path = deps.storage.localPath(url); } catch (e) { throw new SkaffoldError(`git module "${repo.slice(0, 200)}": ${(e as Error).message}`, 'REMOTE_NOT_FOUND'); }
      // Gantry's own work directory holds unpacked release sources: a "repository" there is a client's upload
      // (with a .git directory or config of its choosing), never one of the operator's.
      const real = (p: string) => { try { return realpathSync(p); } catch { return resolve(p); } };
      const work = real(deps.workRoot), repoDir = real(path);
      if (repoDir === work || repoDir.startsWith(work + sep)) {
        throw new SkaffoldError(`git module "${repo.slice(0, 200)}": Gantry clones only the operator's repositories, not release sources it unpacked.`, 'REMOTE_NOT_FOUND');
      }
      const pathEnv = (deps.env ?? process.env).PATH;
      const git = await lookPath('git', { PATH: pathEnv });
      if (!git) throw new SkaffoldError(`git module "${repo.slice(0, 200)}": cloning it requires git, which is not on the PATH.`, 'TOOL_NOT_FOUND');
      const home = join(root, 'home');
      mkdirSync(join(home, 'tmp'), { recursive: true });
      const dest = join(root, `git-${n++}`);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dirname(dest), { recursive: true });
      const args = ['-c', 'core.hooksPath=/dev/null', '-c', 'protocol.allow=never', '-c', 'protocol.file.allow=always',
        'clone', '--quiet', '--no-recurse-submodules', '--template=', '--depth', '1', ...(ref ? ['--branch', ref] : []), '--', `file://${repoDir}`, dest];
      await run(git, args, { timeout: 60_000, maxBuffer: 1 << 20, cwd: home, env: offlineEnv(pathEnv, home) })
        .catch(() => { throw new SkaffoldError(`git module "${repo.slice(0, 200)}"${ref ? ` at ref "${ref.slice(0, 200)}"` : ''} could not be cloned.`, 'REMOTE_NOT_FOUND'); });
      return dest;
    }),
    googleCloudStorage: source => once(`gcs ${source}`, async () => {
      const m = /^gs:\/\/([^/]+)\/(.*)$/.exec(source);
      if (!m) throw new SkaffoldError(`googleCloudStorage module source "${source}" is not a gs:// URI.`, 'REMOTE_NOT_FOUND');
      const [, bucket, path] = m;
      const dest = join(root, `gcs-${n++}`);
      rmSync(dest, { recursive: true, force: true });
      mkdirSync(dest, { recursive: true });
      if (path.endsWith('*')) {
        // gs://bucket/dir/* copies the directory's objects (and below), as `gsutil cp -r` would.
        const prefix = path.slice(0, -1);
        const objects = deps.storage.list(bucket, prefix);
        if (!objects.length) throw new SkaffoldError(`googleCloudStorage module source "${source}" matches no objects.`, 'REMOTE_NOT_FOUND');
        for (const o of objects) {
          const file = resolve(dest, o.name.slice(prefix.length));
          if (!file.startsWith(dest + sep)) continue;
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, o.data());
        }
        return dest;
      }
      let data: Buffer;
      try { data = deps.storage.read(source); } catch { throw new SkaffoldError(`googleCloudStorage module source "${source}" does not exist.`, 'REMOTE_NOT_FOUND'); }
      if (/\.(tgz|tar\.gz)$/.test(path)) return sourceDirFromArchive(data, dest);
      writeFileSync(join(dest, path.split('/').pop()!), data);
      return dest;
    }),
  };
}

async function sourceDirFromArchive(data: Buffer, dest: string): Promise<string> {
  await unpackArchive(data, dest).catch((e: Error) => {
    throw new SkaffoldError(`a googleCloudStorage module is ${e instanceof ArchiveError ? e.message : 'not a readable tar.gz archive'}.`, 'REMOTE_NOT_FOUND');
  });
  return dest;
}

/**
 * The Skaffold config Cloud Deploy stores beside the manifests: the rendered manifest as raw YAML, the
 * deployer for the target's runtime, and the verify and custom action stanzas the target's jobs run.
 */
export function deployConfig(configs: ResolvedConfig[], target: Resource, manifest: string): string {
  const first = configs[0]?.config ?? {};
  const doc: Obj = { apiVersion: first.apiVersion ?? 'skaffold/v4beta7', kind: 'Config' };
  if (configs.length === 1 && configs[0].name) doc.metadata = { name: configs[0].name };
  doc.manifests = { rawYaml: [manifest] };
  const deploy = configs.map(c => c.config.deploy as Obj | undefined).find(d => d && Object.keys(d).length);
  doc.deploy = deploy ?? (target.run ? { cloudrun: {} } : target.customTarget ? {} : { kubectl: {} });
  const verify = configs.flatMap(c => (c.config.verify as unknown[] | undefined) ?? []);
  if (verify.length) doc.verify = verify;
  const actions = configs.flatMap(c => (c.config.customActions as unknown[] | undefined) ?? []);
  if (actions.length) doc.customActions = actions;
  return yaml().stringify(doc);
}

/** The stage's Kubernetes service-networking canary settings, when it has them. */
function serviceNetworking(stage: Obj | undefined): Obj | undefined {
  const canary = (stage?.strategy as Obj | undefined)?.canary as Obj | undefined;
  return ((canary?.runtimeConfig as Obj | undefined)?.kubernetes as Obj | undefined)?.serviceNetworking as Obj | undefined;
}

/**
 * A canary deployment's replicas for `percentage` of a deployment of `replicas`. Cloud Deploy overprovisions by
 * default, so the canary pods are that share of all pods while stable keeps its own: ceil(p·r / (100 − p)); with
 * `disablePodOverprovisioning` the canary takes that share of the deployment's replicas, ceil(p·r / 100).
 */
export function canaryReplicas(replicas: number, percentage: number, overprovision: boolean): number {
  if (!overprovision || percentage >= 100) return Math.ceil(replicas * percentage / 100);
  return Math.ceil(replicas * percentage / (100 - percentage));
}

/** Where a canary phase differs from stable: its share of traffic (Cloud Run) or replicas (Kubernetes). */
function canaryManifests(manifests: string, target: Resource, percentage: number, networking?: Obj): string {
  const docs = yaml().parseAllDocuments(manifests).map(d => d.toJS() as Obj | null).filter((d): d is Obj => !!d);
  const out: Obj[] = [];
  for (const d of docs) {
    const meta = (d.metadata ?? {}) as Obj;
    if (target.run && d.kind === 'Service' && String(d.apiVersion ?? '').startsWith('serving.knative.dev')) {
      // The new revision takes the phase's share; the rest stays on the revisions serving before the rollout.
      out.push({ ...d, spec: { ...((d.spec ?? {}) as Obj), traffic: [{ latestRevision: true, percent: percentage }, ...(percentage < 100 ? [{ percent: 100 - percentage, tag: 'prior' }] : [])] } });
    } else if (!target.run && d.kind === 'Deployment') {
      // Kubernetes service networking: a `-canary` copy of the deployment, scaled to the percentage.
      const spec = (d.spec ?? {}) as Obj;
      const replicas = Number(spec.replicas ?? 1);
      const replicaCount = canaryReplicas(replicas, percentage, networking?.disablePodOverprovisioning !== true);
      out.push({ ...d, metadata: { ...meta, name: `${String(meta.name)}-canary` }, spec: { ...spec, replicas: replicaCount } });
    } else {
      out.push(d);
    }
  }
  return out.map(d => yaml().stringify(d)).join('---\n');
}

/** `targetRenders[t].metadata`: the Cloud Run service or job, or the Kubernetes deployment, the manifests deploy. */
function renderMetadata(manifests: string, target: Resource, canary = false): Obj | undefined {
  let docs: Obj[];
  try {
    docs = yaml().parseAllDocuments(manifests).map(d => d.toJS() as Obj | null).filter((d): d is Obj => !!d);
  } catch { return undefined; }
  const name = (d: Obj) => String(((d.metadata ?? {}) as Obj).name ?? '');
  const run = target.run as Obj | undefined;
  if (run?.location) {
    const service = docs.find(d => d.kind === 'Service' && String(d.apiVersion ?? '').startsWith('serving.knative.dev') && name(d));
    const job = docs.find(d => d.kind === 'Job' && String(d.apiVersion ?? '').startsWith('run.googleapis.com') && name(d));
    if (service) {
      // revision: only when the manifest names one (spec.template.metadata.name); Cloud Run names it otherwise.
      const revision = String(((((service.spec ?? {}) as Obj).template as Obj | undefined)?.metadata as Obj | undefined)?.name ?? '');
      const svc = `${String(run.location)}/services/${name(service)}`;
      return { cloudRun: { service: svc, ...(revision ? { revision: `${svc}/revisions/${revision}` } : {}) } };
    }
    if (job) return { cloudRun: { job: `${String(run.location)}/jobs/${name(job)}` } };
    return undefined;
  }
  if (target.gke || target.anthosCluster) {
    const deployments = docs.filter(d => d.kind === 'Deployment' && name(d));
    // A resource naming no namespace goes to `default`; cluster-scoped kinds go to none, so they do not count.
    const namespaces = new Set(docs.filter(d => name(d) && !CLUSTER_SCOPED.has(String(d.kind)))
      .map(d => String(((d.metadata ?? {}) as Obj).namespace ?? 'default')));
    // KubernetesRenderMetadata (GKE and GKE Enterprise targets; gcloud's older messages call it gke/anthos):
    // deployment "only set if a single Deployment was provided", kubernetesNamespace "only set if applying
    // resources to a single namespace", canaryDeployment "only set if a canary deployment strategy was configured".
    const dep = deployments.length === 1 ? name(deployments[0]) : undefined;
    const meta = {
      ...(dep && canary ? { canaryDeployment: `${dep}-canary` } : {}),
      ...(dep ? { deployment: dep } : {}),
      ...(namespaces.size === 1 ? { kubernetesNamespace: [...namespaces][0] } : {}),
    };
    if (Object.keys(meta).length) return { kubernetes: meta };
  }
  return undefined;
}

/** Kubernetes kinds that live in no namespace, so they do not count against `kubernetesNamespace`. */
const CLUSTER_SCOPED = new Set([
  'Namespace', 'Node', 'PersistentVolume', 'StorageClass', 'ClusterRole', 'ClusterRoleBinding', 'CustomResourceDefinition',
  'PriorityClass', 'IngressClass', 'RuntimeClass', 'APIService', 'MutatingWebhookConfiguration', 'ValidatingWebhookConfiguration',
]);

/**
 * A release without a source (created through the API with no skaffoldConfigUri) renders as simulated:
 * a Cloud Run target gets a service named after the pipeline, so rollouts have something to report.
 */
function simulatedManifest(release: Resource, target: Resource): string {
  if (!target.run) return '';
  const pipeline = String(release.name).split('/')[5];
  return yaml().stringify({ apiVersion: 'serving.knative.dev/v1', kind: 'Service', metadata: { name: pipeline }, spec: { template: { spec: { containers: [{ image: 'gantry-simulated' }] } } } });
}

function countDocs(manifests: string): number {
  return manifests.split(/^---\s*$/m).filter(s => s.trim()).length;
}

