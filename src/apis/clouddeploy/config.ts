// Config (the per-location singleton): the Skaffold and tool versions releases may use.
import type { ApiContext } from '../../google/context.js';
import { errors } from '../../google/errors.js';
import type { MethodSpec } from '../../server/api.js';
import { DEFAULT_SKAFFOLD, DEFAULT_TOOL_VERSIONS, SUPPORTED_SKAFFOLD } from './tool-versions.js';

export function getConfig(ctx: ApiContext): MethodSpec {
  return {
    handler: req => {
      const name = req.params.name;
      if (!/^projects\/[^/]+\/locations\/[^/]+\/config$/.test(name)) throw errors.notFound(`${ctx.svc.serviceName}/Config`, name);
      return {
        body: { name, supportedVersions: SUPPORTED_SKAFFOLD, defaultSkaffoldVersion: DEFAULT_SKAFFOLD, defaultToolVersions: DEFAULT_TOOL_VERSIONS },
        message: 'Config', schema: ctx.schema,
      };
    },
  };
}
