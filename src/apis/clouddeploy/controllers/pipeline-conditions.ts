// Keeps every pipeline's `condition` true to the targets that exist: a target created, changed or deleted
// re-evaluates the pipelines of its location that deploy to it, directly or in a multi-target.
import type { Controller } from '../../../engine/controllers.js';
import type { Store } from '../../../store/store.js';
import { locationOf, withEtag, type Resource } from '../../../google/standard-methods.js';
import { pipelineCondition, stagesOf } from '../pipelines.js';

export function pipelineConditionController(store: Store): Controller {
  return {
    kind: 'target',
    reconcile(targetName) {
      const location = locationOf(targetName);
      const id = targetName.slice(targetName.lastIndexOf('/') + 1);
      // The stages naming the target, or a multi-target holding it (whose type is its children's).
      const names = (stageTarget: unknown) => {
        if (stageTarget === id) return true;
        const t = store.getParsed<Resource>(`${location}/targets/${String(stageTarget)}`);
        return ((t?.multiTarget as { targetIds?: string[] } | undefined)?.targetIds ?? []).includes(id);
      };
      store.tx(w => {
        for (const p of store.children('deliveryPipeline', location)) {
          if (!stagesOf(p).some(s => names(s.targetId))) continue;
          const old = p.condition as Record<string, Record<string, unknown>> | undefined;
          const next = pipelineCondition(store, p, String(p.updateTime));
          if (JSON.stringify(strip(old)) === JSON.stringify(strip(next))) continue;
          p.condition = next;
          w.put('deliveryPipeline', String(p.name), location, withEtag(p as Resource), String(p.createTime), false);
        }
      });
    },
  };
}

/** Conditions compared without their timestamps. */
function strip(c: Record<string, unknown> | undefined): unknown {
  if (!c) return c;
  return Object.fromEntries(Object.entries(c).map(([k, v]) => [k, { ...(v as object), updateTime: undefined }]));
}
