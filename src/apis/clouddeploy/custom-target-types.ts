// CustomTargetType: the render/deploy actions (Skaffold custom actions or container tasks) of a custom target.
import { errors } from '../../google/errors.js';
import { checkCommonFields } from '../../google/common-fields.js';
import type { KindStrategy, Resource } from '../../google/standard-methods.js';

export const customTargetTypes: KindStrategy = {
  kind: 'customTargetType', message: 'CustomTargetType', collection: 'customTargetTypes', idParam: 'customTargetTypeId',
  bodyField: 'customTargetType', idField: 'customTargetTypeId',
  validate(c) {
    checkCommonFields(c, 'custom_target_type');
    const actions = c.customActions as Resource | undefined;
    const tasks = c.tasks as Resource | undefined;
    if (actions && tasks) throw errors.invalidArgument('Only one of custom_actions and tasks may be set.', 'custom_target_type');
    if (!actions && !tasks) throw errors.invalidArgument('One of custom_actions or tasks is required.', 'custom_target_type');
    if (actions && !actions.deployAction) throw errors.invalidArgument('custom_actions.deploy_action is required.', 'custom_target_type.custom_actions.deploy_action');
    if (tasks && !(tasks.deploy as Resource | undefined)?.container) throw errors.invalidArgument('tasks.deploy is required.', 'custom_target_type.tasks.deploy');
  },
};
