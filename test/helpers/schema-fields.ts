// Checks that what Gantry answers fits Google's messages: every Cloud Deploy resource under the given pipelines (and
// the location's targets) decodes against schemas/clouddeploy-v1.json (gcloud's API messages plus the newer fields
// scripts/gen-schema.sh takes from googleapis), which refuses a field its message lacks, naming it.
import assert from 'node:assert/strict';
import { schema } from '../../src/apis/clouddeploy/service.js';

type Listed = Record<string, { name: string }[] | undefined>;

/** Decodes every pipeline, target, automation, automation run, release, rollout and job run; answers how many. */
export async function assertDeployFieldsKnown(url: string, location: string, pipelines: string[]): Promise<number> {
  const list = async (path: string, field: string) => ((await (await fetch(`${url}/v1/${path}`)).json()) as Listed)[field] ?? [];
  const kinds: [string, string, string][] = [[`${location}/deliveryPipelines`, 'deliveryPipelines', 'DeliveryPipeline'], [`${location}/targets`, 'targets', 'Target']];
  for (const p of pipelines) {
    const pipe = `${location}/deliveryPipelines/${p}`;
    kinds.push([`${pipe}/automations`, 'automations', 'Automation'], [`${pipe}/automationRuns`, 'automationRuns', 'AutomationRun'],
      [`${pipe}/releases`, 'releases', 'Release'], [`${pipe}/releases/-/rollouts`, 'rollouts', 'Rollout']);
    for (const r of await list(`${pipe}/releases/-/rollouts`, 'rollouts')) kinds.push([`${r.name}/jobRuns`, 'jobRuns', 'JobRun']);
  }
  let seen = 0;
  for (const [path, field, message] of kinds) {
    for (const item of await list(path, field)) {
      assert.doesNotThrow(() => schema.decode(message, item), `${message} ${item.name}`);
      seen++;
    }
  }
  return seen;
}
