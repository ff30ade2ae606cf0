// RollbackTarget (POST …/deliveryPipelines/*:rollbackTarget, spec §7.5): a synchronous verb that
// creates a rollout of an earlier release on a target, linked both ways (rollbackOfRollout,
// rolledBackByRollouts). With validateOnly it answers the rollout it would create.
import type { ApiContext } from '../../google/context.js';
import { errors } from '../../google/errors.js';
import { checkId, notFound, type Resource, type StandardMethods } from '../../google/standard-methods.js';
import type { ApiRequest, MethodSpec } from '../../server/api.js';
import { rolloutStrategy, saveRollout, type Rollout } from './rollouts.js';

type Obj = Record<string, unknown>;

export function rollbackTarget(ctx: ApiContext, std: StandardMethods): MethodSpec {
  const { store, schema } = ctx;
  const strategy = rolloutStrategy(store, ctx.clock, 'ROLLBACK');
  return {
    handler: req => {
      const pipelineName = req.params.name;
      const pipeline = store.getParsed<Resource>(pipelineName);
      if (!pipeline || !pipelineName.includes('/deliveryPipelines/')) throw notFound(ctx, `${ctx.svc.serviceName}/DeliveryPipeline`, pipelineName);
      const body = schema.decode('RollbackTargetRequest', req.body ?? {});
      const targetId = String(body.targetId ?? '');
      if (!targetId) throw errors.invalidArgument('target_id is required.', 'target_id');
      checkId(String(body.rolloutId ?? ''), 'rolloutId');
      if (pipeline.suspended) throw errors.failedPrecondition(`Cannot roll back: delivery pipeline '${pipelineName}' is suspended.`, pipelineName);

      // Rollouts that count as deployed to the target, newest deployment first (gcloud's rule).
      const deployed = store.list({
        kind: 'rollout', scope: { grandparent: pipelineName }, order: [{ path: ['deployEndTime'], desc: true }],
        equalities: [{ path: ['targetId'], value: targetId }, { path: ['state'], value: 'SUCCEEDED' }],
        predicate: r => r.approvalState !== 'REJECTED' && r.approvalState !== 'NEEDS_APPROVAL', limit: 1000,
      }).rows as Rollout[];
      const current = deployed[0];
      if (!current) throw errors.failedPrecondition(`Cannot roll back target "${targetId}": nothing has been deployed to it by pipeline ${pipelineName}.`, pipelineName);
      if (body.rolloutToRollBack && body.rolloutToRollBack !== current.name) {
        throw errors.failedPrecondition(`Cannot roll back ${String(body.rolloutToRollBack)}: it is not the latest rollout on target "${targetId}" (${current.name} is).`, pipelineName);
      }
      const currentRelease = current.name.slice(0, current.name.indexOf('/rollouts/'));
      let release: string;
      if (body.releaseId) {
        release = `${pipelineName}/releases/${String(body.releaseId)}`;
        const r = store.getParsed<Resource>(release);
        if (!r) throw notFound(ctx, `${ctx.svc.serviceName}/Release`, release);
        if (r.abandoned) throw errors.failedPrecondition(`Cannot roll back to release ${release}: it is abandoned.`, release);
      } else {
        const prior = deployed.slice(1).find(r => {
          const rel = r.name.slice(0, r.name.indexOf('/rollouts/'));
          return rel !== currentRelease && !store.getParsed<Resource>(rel)?.abandoned;
        });
        if (!prior) throw errors.failedPrecondition(`Cannot roll back target "${targetId}": no earlier release was successfully deployed to it.`, pipelineName);
        release = prior.name.slice(0, prior.name.indexOf('/rollouts/'));
      }
      const config = (body.rollbackConfig ?? {}) as Obj;
      const template = (config.rollout ?? {}) as Obj;
      const startingPhaseId = String(config.startingPhaseId ?? 'stable');
      const name = `${release}/rollouts/${String(body.rolloutId)}`;
      const input: Obj = { ...template, targetId };
      const createReq: ApiRequest = { ...req, query: { startingPhaseId, overrideDeployPolicy: (body.overrideDeployPolicy ?? []) as string[] } };
      const out = store.tx(w => {
        const rollout = std.insert(w, strategy, name, release, input, undefined, createReq, true) as Rollout;
        rollout.rollbackOfRollout = current.name;
        if (body.validateOnly) return rollout;
        const saved = { ...rollout };
        saveRollout(w, saved);
        current.rolledBackByRollouts = [...(current.rolledBackByRollouts as string[] | undefined ?? []), name];
        saveRollout(w, current);
        return saved;
      });
      return { body: { rollbackConfig: { rollout: out, startingPhaseId } }, message: 'RollbackTargetResponse', schema };
    },
  };
}
