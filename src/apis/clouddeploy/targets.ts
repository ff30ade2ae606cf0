// Target: where a stage deploys (GKE, Cloud Run, Anthos, a multi-target or a custom target type).
import { errors } from '../../google/errors.js';
import { checkCommonFields } from '../../google/common-fields.js';
import { parseDurationMs } from '../../google/time.js';
import { computeServiceAccount } from '../../google/project-number.js';
import type { KindStrategy, Resource } from '../../google/standard-methods.js';
import type { ExecutorPolicy } from '../../policy/executors.js';

export const TARGET_KINDS = ['gke', 'anthosCluster', 'run', 'multiTarget', 'customTarget'] as const;
const USAGES = ['RENDER', 'DEPLOY', 'VERIFY', 'PREDEPLOY', 'POSTDEPLOY', 'ANALYSIS'];

export function targetKind(t: Resource): string | undefined {
  return TARGET_KINDS.find(k => t[k] !== undefined);
}

export function targetStrategy(executors: ExecutorPolicy): KindStrategy {
  return {
  kind: 'target', message: 'Target', collection: 'targets', idParam: 'targetId', bodyField: 'target', idField: 'targetId',
  validate(t, ctx) {
    checkCommonFields(t, 'target');
    executors.checkAnnotations(t.annotations, 'target.annotations', ctx.name);
    const kinds = TARGET_KINDS.filter(k => t[k] !== undefined);
    if (kinds.length > 1) throw errors.invalidArgument(`A target may have only one deployment target, got ${kinds.join(' and ')}.`, 'target');
    const run = t.run as Resource | undefined;
    if (run && !/^projects\/[^/]+\/locations\/[^/]+$/.test(String(run.location ?? ''))) {
      throw errors.invalidArgument('target.run.location must have the form projects/{project}/locations/{location}.', 'target.run.location');
    }
    const multi = t.multiTarget as Resource | undefined;
    if (multi && !((multi.targetIds as string[] | undefined)?.length)) {
      throw errors.invalidArgument('target.multi_target.target_ids must name at least one target.', 'target.multi_target.target_ids');
    }
    const custom = t.customTarget as Resource | undefined;
    if (custom && !/^projects\/[^/]+\/locations\/[^/]+\/customTargetTypes\/[^/]+$/.test(String(custom.customTargetType ?? ''))) {
      throw errors.invalidArgument('target.custom_target.custom_target_type must be a full custom target type name.', 'target.custom_target.custom_target_type');
    }
    const gke = t.gke as Resource | undefined;
    if (gke?.cluster !== undefined && !/^projects\/[^/]+\/locations\/[^/]+\/clusters\/[^/]+$/.test(String(gke.cluster))) {
      throw errors.invalidArgument('target.gke.cluster must have the form projects/{project}/locations/{location}/clusters/{cluster}.', 'target.gke.cluster');
    }
    checkExecutionConfigs((t.executionConfigs as Resource[] | undefined) ?? []);
  },
  prepare(t, ctx) {
    t.executionConfigs = withExecutionDefaults((t.executionConfigs as Resource[] | undefined) ?? [], ctx.name);
  },
  };
}

/** The usages of the execution config Google fills in for a target created without any. */
export const DEFAULT_USAGES = ['RENDER', 'DEPLOY', 'VERIFY', 'PREDEPLOY', 'POSTDEPLOY'];
/** Cloud Build's timeout when a config names none. */
export const DEFAULT_EXECUTION_TIMEOUT = '3600s';

/** The default artifact storage of a location: `gs://{location}.deploy-artifacts.{project}.appspot.com`. */
export function defaultArtifactStorage(resourceName: string): string {
  const [, project, , location] = resourceName.split('/');
  return `gs://${location}.deploy-artifacts.${project}.appspot.com`;
}

/**
 * Execution configs as Google stores them: none given → one default-pool config for RENDER, DEPLOY, VERIFY,
 * PREDEPLOY and POSTDEPLOY; in every config the service account (the project's compute account), artifact
 * storage (the location's deploy-artifacts bucket) and `executionTimeout` (3600s) filled when absent, and the
 * pool's own `serviceAccount`/`artifactStorage` mirrored with the config's (the default pool unless a private
 * pool or a worker pool is named).
 */
export function withExecutionDefaults(configs: Resource[], targetName: string): Resource[] {
  const project = targetName.split('/')[1];
  const given = configs.length ? configs : [{ usages: [...DEFAULT_USAGES] }];
  return given.map(c => {
    const poolField = c.privatePool !== undefined ? 'privatePool' : c.defaultPool !== undefined ? 'defaultPool' : c.workerPool ? 'privatePool' : 'defaultPool';
    const pool: Resource = { ...((c[poolField] as Resource | undefined) ?? {}) };
    if (poolField === 'privatePool' && !pool.workerPool && c.workerPool) pool.workerPool = c.workerPool;
    const serviceAccount = c.serviceAccount ?? pool.serviceAccount ?? computeServiceAccount(project);
    const artifactStorage = c.artifactStorage ?? pool.artifactStorage ?? defaultArtifactStorage(targetName);
    pool.serviceAccount ??= serviceAccount;
    pool.artifactStorage ??= artifactStorage;
    const out: Resource = { ...c, [poolField]: pool, serviceAccount, artifactStorage, executionTimeout: c.executionTimeout ?? DEFAULT_EXECUTION_TIMEOUT };
    if (poolField === 'privatePool' && pool.workerPool) out.workerPool ??= pool.workerPool;
    return out;
  });
}

/** The execution config a target applies to a usage (RENDER, DEPLOY, VERIFY, …), if any. */
export function executionConfigFor(target: Resource | undefined, usage: string): Resource | undefined {
  return ((target?.executionConfigs as Resource[] | undefined) ?? []).find(c => ((c.usages as string[] | undefined) ?? []).includes(usage));
}

function checkExecutionConfigs(configs: Resource[]): void {
  if (!configs.length) return;
  const seen = new Set<string>();
  configs.forEach((c, i) => {
    const usages = (c.usages as string[] | undefined) ?? [];
    if (!usages.length) throw errors.invalidArgument(`target.execution_configs[${i}].usages must not be empty.`, `target.execution_configs[${i}].usages`);
    for (const u of usages) {
      if (!USAGES.includes(u)) throw errors.invalidArgument(`target.execution_configs[${i}].usages: ${u} is not a valid usage.`, `target.execution_configs[${i}].usages`);
      if (seen.has(u)) throw errors.invalidArgument(`Execution environment usage ${u} is specified more than once.`, 'target.execution_configs');
      seen.add(u);
    }
    if (c.defaultPool !== undefined && c.privatePool !== undefined) {
      throw errors.invalidArgument(`target.execution_configs[${i}] may set only one of default_pool and private_pool.`, `target.execution_configs[${i}]`);
    }
    const timeout = c.executionTimeout;
    if (timeout !== undefined) {
      const ms = parseDurationMs(String(timeout));
      if (ms === undefined || ms < 600_000 || ms > 86_400_000) {
        throw errors.invalidArgument(`target.execution_configs[${i}].execution_timeout must be between 10m and 24h, got ${String(timeout)}.`, `target.execution_configs[${i}].execution_timeout`);
      }
    }
  });
  if (!seen.has('RENDER') || !seen.has('DEPLOY')) {
    throw errors.invalidArgument('Execution configs must cover both RENDER and DEPLOY usages when any are given.', 'target.execution_configs');
  }
}
