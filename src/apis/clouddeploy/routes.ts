// Cloud Deploy v1 REST surface: one line per method, as in the API reference.
import type { App } from '../../server/app.js';
import type { ApiContext } from '../../google/context.js';
import { StandardMethods } from '../../google/standard-methods.js';
import { operationMethods } from '../../google/operation-methods.js';
import { iamMethods } from '../../google/iam.js';
import { locationMethods, locationScoped } from '../../google/locations.js';
import type { MethodSpec } from '../../server/api.js';
import { pipelineStrategy } from './pipelines.js';
import { targetStrategy } from './targets.js';
import { customTargetTypes } from './custom-target-types.js';
import { abandonRelease, releaseStrategy, type ReleasePolicies } from './releases.js';
import { getConfig } from './config.js';
import { jobRuns, rolloutStrategy } from './rollouts.js';
import { rolloutVerbs } from './rollout-verbs.js';
import { rollbackTarget } from './rollback.js';
import { automationStrategy } from './automations.js';
import { automationRunStrategy, cancelAutomationRun } from './automation-runs.js';
import { deployPolicyStrategy } from './deploy-policies.js';

const P = 'projects/*/locations/*';
const DP = `${P}/deliveryPipelines/*`;
const REL = `${DP}/releases/*`;

export function registerCloudDeploy(app: App, ctx: ApiContext, policies: ReleasePolicies): void {
  const std = new StandardMethods(ctx);
  const targets = targetStrategy(policies.executors);
  const pipelines = pipelineStrategy(ctx.store, policies.executors);
  const releases = releaseStrategy(ctx.store, policies);
  const rollouts = rolloutStrategy(ctx.store, ctx.clock);
  const verbs = rolloutVerbs(ctx);
  const ops = operationMethods(ctx);
  const iam = iamMethods(ctx, ['deliveryPipeline', 'target', 'customTargetType', 'deployPolicy']);
  const automations = automationStrategy(ctx.store, ctx.clock);
  const deployPolicies = deployPolicyStrategy(location => ctx.store.countUnder(`${location}/deployPolicies`));
  const locations = locationMethods(ctx);
  // Every route refuses a location outside the served list, as Google does, before its handler runs.
  const r = (m: string, t: string, spec: MethodSpec) => app.route(m, t, locationScoped(ctx, spec));

  r('GET', `/v1/{parent=${P}}/deliveryPipelines`, std.list(pipelines));
  r('POST', `/v1/{parent=${P}}/deliveryPipelines`, std.create(pipelines));
  r('GET', `/v1/{name=${DP}}`, std.get(pipelines));
  r('PATCH', `/v1/{deliveryPipeline.name=${DP}}`, std.update(pipelines));
  r('DELETE', `/v1/{name=${DP}}`, std.delete(pipelines));
  r('POST', `/v1/{name=${DP}}:rollbackTarget`, rollbackTarget(ctx, std));
  r('GET', `/v1/{resource=${DP}}:getIamPolicy`, iam.get);
  r('POST', `/v1/{resource=${DP}}:setIamPolicy`, iam.set);
  r('POST', `/v1/{resource=${DP}}:testIamPermissions`, iam.test);

  r('GET', `/v1/{parent=${P}}/targets`, std.list(targets));
  r('POST', `/v1/{parent=${P}}/targets`, std.create(targets));
  r('GET', `/v1/{name=${P}/targets/*}`, std.get(targets));
  r('PATCH', `/v1/{target.name=${P}/targets/*}`, std.update(targets));
  r('DELETE', `/v1/{name=${P}/targets/*}`, std.delete(targets));
  r('GET', `/v1/{resource=${P}/targets/*}:getIamPolicy`, iam.get);
  r('POST', `/v1/{resource=${P}/targets/*}:setIamPolicy`, iam.set);
  r('POST', `/v1/{resource=${P}/targets/*}:testIamPermissions`, iam.test);

  r('GET', `/v1/{parent=${P}}/customTargetTypes`, std.list(customTargetTypes));
  r('POST', `/v1/{parent=${P}}/customTargetTypes`, std.create(customTargetTypes));
  r('GET', `/v1/{name=${P}/customTargetTypes/*}`, std.get(customTargetTypes));
  r('PATCH', `/v1/{customTargetType.name=${P}/customTargetTypes/*}`, std.update(customTargetTypes));
  r('DELETE', `/v1/{name=${P}/customTargetTypes/*}`, std.delete(customTargetTypes));
  r('GET', `/v1/{resource=${P}/customTargetTypes/*}:getIamPolicy`, iam.get);
  r('POST', `/v1/{resource=${P}/customTargetTypes/*}:setIamPolicy`, iam.set);

  r('GET', `/v1/{parent=${DP}}/automations`, std.list(automations));
  r('POST', `/v1/{parent=${DP}}/automations`, std.create(automations));
  r('GET', `/v1/{name=${DP}/automations/*}`, std.get(automations));
  r('PATCH', `/v1/{automation.name=${DP}/automations/*}`, std.update(automations));
  r('DELETE', `/v1/{name=${DP}/automations/*}`, std.delete(automations));
  r('GET', `/v1/{parent=${DP}}/automationRuns`, std.list(automationRunStrategy));
  r('GET', `/v1/{name=${DP}/automationRuns/*}`, std.get(automationRunStrategy));
  r('POST', `/v1/{name=${DP}/automationRuns/*}:cancel`, cancelAutomationRun(ctx));

  r('GET', `/v1/{parent=${P}}/deployPolicies`, std.list(deployPolicies));
  r('POST', `/v1/{parent=${P}}/deployPolicies`, std.create(deployPolicies));
  r('GET', `/v1/{name=${P}/deployPolicies/*}`, std.get(deployPolicies));
  r('PATCH', `/v1/{deployPolicy.name=${P}/deployPolicies/*}`, std.update(deployPolicies));
  r('DELETE', `/v1/{name=${P}/deployPolicies/*}`, std.delete(deployPolicies));
  r('GET', `/v1/{resource=${P}/deployPolicies/*}:getIamPolicy`, iam.get);
  r('POST', `/v1/{resource=${P}/deployPolicies/*}:setIamPolicy`, iam.set);

  r('GET', `/v1/{parent=${DP}}/releases`, std.list(releases));
  r('POST', `/v1/{parent=${DP}}/releases`, std.create(releases));
  r('GET', `/v1/{name=${REL}}`, std.get(releases));
  r('POST', `/v1/{name=${REL}}:abandon`, abandonRelease(ctx));

  r('GET', `/v1/{parent=${REL}}/rollouts`, std.list(rollouts, { wildcardParent: true }));
  r('POST', `/v1/{parent=${REL}}/rollouts`, std.create(rollouts));
  r('GET', `/v1/{name=${REL}/rollouts/*}`, std.get(rollouts));
  r('POST', `/v1/{name=${REL}/rollouts/*}:approve`, verbs.approve);
  r('POST', `/v1/{name=${REL}/rollouts/*}:advance`, verbs.advance);
  r('POST', `/v1/{name=${REL}/rollouts/*}:cancel`, verbs.cancel);
  r('POST', `/v1/{rollout=${REL}/rollouts/*}:ignoreJob`, verbs.ignoreJob);
  r('POST', `/v1/{rollout=${REL}/rollouts/*}:retryJob`, verbs.retryJob);

  r('GET', `/v1/{parent=${REL}/rollouts/*}/jobRuns`, std.list(jobRuns, { wildcardParent: true }));
  r('GET', `/v1/{name=${REL}/rollouts/*/jobRuns/*}`, std.get(jobRuns));
  r('POST', `/v1/{name=${REL}/rollouts/*/jobRuns/*}:terminate`, verbs.terminate);

  r('GET', `/v1/{name=${P}/config}`, getConfig(ctx));

  r('GET', '/v1/{name=projects/*}/locations', locations.list);
  r('GET', `/v1/{name=${P}}`, locations.get);

  r('GET', `/v1/{name=${P}}/operations`, ops.list);
  r('GET', `/v1/{name=${P}/operations/*}`, ops.get);
  r('DELETE', `/v1/{name=${P}/operations/*}`, ops.delete);
  r('POST', `/v1/{name=${P}/operations/*}:cancel`, ops.cancel);
  r('POST', `/v1/{name=${P}/operations/*}:wait`, ops.wait);
}
