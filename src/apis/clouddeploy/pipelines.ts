// DeliveryPipeline: ordered stages over targets, with canary/standard strategies. Its `condition`
// reports whether every stage target exists and whether they are of one kind.
import type { Store } from '../../store/store.js';
import { errors } from '../../google/errors.js';
import { queryBool } from '../../server/api.js';
import { checkCommonFields } from '../../google/common-fields.js';
import { RESOURCE_ID } from '../../google/ids.js';
import { checkDuration, parseDurationMs } from '../../google/time.js';
import { locationOf, type KindStrategy, type Resource } from '../../google/standard-methods.js';
import { targetKind } from './targets.js';
import type { ExecutorPolicy } from '../../policy/executors.js';

type Obj = Record<string, unknown>;

export function stagesOf(p: Resource): Obj[] {
  return (((p.serialPipeline as Obj | undefined)?.stages as Obj[] | undefined) ?? []);
}

export function pipelineStrategy(store: Store, executors: ExecutorPolicy): KindStrategy {
  return {
  kind: 'deliveryPipeline', message: 'DeliveryPipeline', collection: 'deliveryPipelines', idParam: 'deliveryPipelineId',
  bodyField: 'deliveryPipeline', extraQuery: { delete: ['force'] },
  validate(p, ctx) {
    checkCommonFields(p, 'delivery_pipeline');
    executors.checkAnnotations(p.annotations, 'delivery_pipeline.annotations', ctx.name);
    const seen = new Set<string>();
    stagesOf(p).forEach((stage, i) => {
      const at = `delivery_pipeline.serial_pipeline.stages[${i}]`;
      const id = String(stage.targetId ?? '');
      if (!RESOURCE_ID.test(id)) throw errors.invalidArgument(`${at}.target_id "${id}" is not a valid target id.`, `${at}.target_id`);
      if (seen.has(id)) throw errors.invalidArgument(`Target "${id}" appears in more than one stage.`, `${at}.target_id`);
      seen.add(id);
      checkStrategy((stage.strategy as Obj | undefined) ?? {}, `${at}.strategy`);
      ((stage.deployParameters as Obj[] | undefined) ?? []).forEach((dp, j) => {
        if (!dp.values || !Object.keys(dp.values as Obj).length) {
          throw errors.invalidArgument(`${at}.deploy_parameters[${j}].values is required.`, `${at}.deploy_parameters[${j}].values`);
        }
      });
    });
  },
  prepare(p) {
    p.condition = pipelineCondition(store, p, String(p.updateTime));
  },
  beforeDelete(name, _p, req) {
    // Without force, only a pipeline with no releases or automations may go; with it, they all go.
    if (!queryBool(req, 'force') && store.countUnder(name) > 0) {
      throw errors.failedPrecondition(`Delivery pipeline '${name}' has child resources (releases or automations); set force to delete them too.`, name);
    }
  },
  };
}

function checkStrategy(strategy: Obj, at: string): void {
  const standard = strategy.standard as Obj | undefined;
  const canary = strategy.canary as Obj | undefined;
  if (standard && canary) throw errors.invalidArgument(`${at} may set only one of standard and canary.`, at);
  if (standard) checkJobs(standard, `${at}.standard`);
  if (!canary) return;
  const plain = canary.canaryDeployment as Obj | undefined;
  const custom = canary.customCanaryDeployment as Obj | undefined;
  if (plain && custom) throw errors.invalidArgument(`${at}.canary may set only one of canary_deployment and custom_canary_deployment.`, `${at}.canary`);
  if (!plain && !custom) throw errors.invalidArgument(`${at}.canary needs canary_deployment or custom_canary_deployment.`, `${at}.canary`);
  const mesh = !!((canary.runtimeConfig as Obj | undefined)?.kubernetes as Obj | undefined)?.gatewayServiceMesh;
  const run = (canary.runtimeConfig as Obj | undefined)?.cloudRun as Obj | undefined;
  if (plain) {
    const pct = (plain.percentages as number[] | undefined) ?? [];
    if (!pct.length) throw errors.invalidArgument(`${at}.canary.canary_deployment.percentages is required.`, `${at}.canary.canary_deployment.percentages`);
    pct.forEach((n, i) => {
      if (n < 0 || n > (mesh ? 100 : 99)) throw errors.invalidArgument(`${at}.canary.canary_deployment.percentages[${i}] must be between 0 and ${mesh ? 100 : 99}, got ${n}.`, `${at}.canary.canary_deployment.percentages`);
      if (i > 0 && n <= pct[i - 1]) throw errors.invalidArgument(`${at}.canary.canary_deployment.percentages must be in ascending order.`, `${at}.canary.canary_deployment.percentages`);
    });
    if (run && !run.automaticTrafficControl) {
      throw errors.invalidArgument(`${at}.canary.runtime_config.cloud_run.automatic_traffic_control must be true for a canary deployment.`, `${at}.canary.runtime_config.cloud_run.automatic_traffic_control`);
    }
    checkJobs(plain, `${at}.canary.canary_deployment`);
  }
  if (custom) {
    const configs = (custom.phaseConfigs as Obj[] | undefined) ?? [];
    if (!configs.length) throw errors.invalidArgument(`${at}.canary.custom_canary_deployment.phase_configs is required.`, `${at}.canary.custom_canary_deployment.phase_configs`);
    const ids = new Set<string>();
    configs.forEach((c, i) => {
      const pat = `${at}.canary.custom_canary_deployment.phase_configs[${i}]`;
      const id = String(c.phaseId ?? '');
      if (!RESOURCE_ID.test(id)) throw errors.invalidArgument(`${pat}.phase_id "${id}" is invalid.`, `${pat}.phase_id`);
      if (ids.has(id)) throw errors.invalidArgument(`${pat}.phase_id "${id}" is used twice.`, `${pat}.phase_id`);
      ids.add(id);
      const n = Number(c.percentage ?? 0);
      if (n < 0 || n > 100) throw errors.invalidArgument(`${pat}.percentage must be between 0 and 100.`, `${pat}.percentage`);
      checkJobs(c, pat);
    });
  }
  const kubernetes = (canary.runtimeConfig as Obj | undefined)?.kubernetes as Obj | undefined;
  const gsm = kubernetes?.gatewayServiceMesh as Obj | undefined;
  if (gsm?.stableCutbackDuration !== undefined) {
    const ms = parseDurationMs(String(gsm.stableCutbackDuration));
    if (ms === undefined || ms < 15_000 || ms > 3_600_000) throw errors.invalidArgument(`${at}: stable_cutback_duration must be between 15s and 3600s.`, `${at}.canary.runtime_config.kubernetes.gateway_service_mesh.stable_cutback_duration`);
  }
  // "The maximum configurable time is 3 hours."
  for (const [mesh, field] of [[gsm, 'gateway_service_mesh'], [kubernetes?.cloudServiceMesh as Obj | undefined, 'cloud_service_mesh']] as const) {
    if (mesh?.routeUpdateWaitTime !== undefined) checkDuration(mesh.routeUpdateWaitTime, `${at}.canary.runtime_config.kubernetes.${field}.route_update_wait_time`, 0, 3 * 3_600_000);
  }
}

function checkJobs(block: Obj, at: string): void {
  // An analysis lasts a positive time, at most 48 hours.
  const analysis = block.analysis as Obj | undefined;
  if (analysis?.duration !== undefined) checkDuration(analysis.duration, `${at}.analysis.duration`, 1, 48 * 3_600_000);
  if (block.verify && block.verifyConfig) throw errors.invalidArgument(`${at}: verify and verify_config are mutually exclusive.`, `${at}.verify`);
  for (const hook of ['predeploy', 'postdeploy']) {
    const h = block[hook] as Obj | undefined;
    if (h?.actions && h?.tasks) throw errors.invalidArgument(`${at}.${hook}: only one of actions and tasks may be set.`, `${at}.${hook}`);
  }
}

/** PipelineCondition from the targets that exist now. */
export function pipelineCondition(store: Store, p: Resource, now: string): Obj {
  const location = locationOf(String(p.name));
  const missing: string[] = [];
  const kinds = new Set<string>();
  for (const stage of stagesOf(p)) {
    const name = `${location}/targets/${String(stage.targetId)}`;
    const t = store.getParsed<Resource>(name);
    if (!t) { missing.push(name); continue; }
    // A multi-target is of its children's kind (colors-e2e's GKE multi-target beside GKE stages is one type).
    const children = (t.multiTarget as { targetIds?: string[] } | undefined)?.targetIds;
    for (const k of children ? children.map(c => store.getParsed<Resource>(`${location}/targets/${c}`)).map(c => (c ? targetKind(c) : undefined)) : [targetKind(t)]) {
      if (k) kinds.add(k);
    }
  }
  const present = missing.length === 0;
  const sameType = kinds.size <= 1;
  // TargetsTypeCondition has no updateTime (the other two do): emitting one would make an exported pipeline fail to apply.
  const targetsTypeCondition: Obj = {};
  if (sameType) targetsTypeCondition.status = true;
  else targetsTypeCondition.errorDetails = `Targets are of different types: ${[...kinds].sort().join(', ')}.`;
  const targetsPresentCondition: Obj = { updateTime: now };
  if (present) targetsPresentCondition.status = true;
  else targetsPresentCondition.missingTargets = missing;
  const ready: Obj = { updateTime: now };
  if (present && sameType) ready.status = true;
  return { pipelineReadyCondition: ready, targetsPresentCondition, targetsTypeCondition };
}
