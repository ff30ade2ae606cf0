// AutomationRun: one execution of an automation rule (server-created), listed, read and cancelled under its pipeline.
import type { MethodSpec } from '../../server/api.js';
import type { ApiContext } from '../../google/context.js';
import { errors } from '../../google/errors.js';
import { notFound, withEtag, type KindStrategy, type Resource } from '../../google/standard-methods.js';
import { saveRollout, type Rollout } from './rollouts.js';

export const AUTOMATION_RUN_TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED', 'ABORTED']);

export const automationRunStrategy: KindStrategy = {
  kind: 'automationRun', message: 'AutomationRun', collection: 'automationRuns', idParam: 'automationRunId', bodyField: 'automationRun',
  parentKind: 'deliveryPipeline',
};

/** `:cancel`: an unfinished run ends CANCELLED; a finished one cannot be cancelled (FAILED_PRECONDITION). */
export function cancelAutomationRun(ctx: ApiContext): MethodSpec {
  return {
    handler: req => {
      ctx.schema.decode('CancelAutomationRunRequest', req.body ?? {});
      const name = req.params.name;
      const run = ctx.store.getParsed<Resource>(name);
      if (!run || ctx.store.get(name)?.kind !== 'automationRun') throw notFound(ctx, 'AutomationRun', name);
      if (AUTOMATION_RUN_TERMINAL.has(String(run.state))) {
        throw errors.failedPrecondition(`Cannot cancel automation run ${name}: it is already ${String(run.state)}.`, name);
      }
      ctx.store.tx(w => {
        const now = ctx.clock.timestamp();
        const out = withEtag({ ...run, state: 'CANCELLED', stateDescription: 'The automation run was cancelled by a user.', updateTime: now });
        w.put('automationRun', name, name.slice(0, name.indexOf('/automationRuns/')), out, String(run.createTime), false);
        // A cancelled repair no longer repairs its rollout.
        const repaired = (run.repairRolloutOperation as Resource | undefined)?.rollout;
        const rollout = repaired ? ctx.store.getParsed<Rollout>(String(repaired)) : undefined;
        if (rollout && rollout.activeRepairAutomationRun === name) {
          delete rollout.activeRepairAutomationRun;
          saveRollout(w, rollout);
        }
      });
      return { body: {} };
    },
  };
}
