// Config (the per-location singleton) and the Skaffold versions Gantry accepts.
import type { ApiContext } from '../../google/context.js';
import { errors } from '../../google/errors.js';
import type { MethodSpec } from '../../server/api.js';

export interface SkaffoldVersion { version: string; maintenanceModeTime: string; supportExpirationTime: string; supportEndDate: { year: number; month: number; day: number } }

function v(version: string, maintenance: string, expiry: string): SkaffoldVersion {
  const [year, month, day] = expiry.split('-').map(Number);
  return { version, maintenanceModeTime: `${maintenance}T00:00:00Z`, supportExpirationTime: `${expiry}T00:00:00Z`, supportEndDate: { year, month, day } };
}

export const SUPPORTED_SKAFFOLD: SkaffoldVersion[] = [
  v('2.8', '2027-05-21', '2027-08-21'),
  v('2.14', '2027-11-21', '2028-02-21'),
  v('2.16', '2028-05-21', '2028-08-21'),
];
export const DEFAULT_SKAFFOLD = '2.16';
/** Cloud Deploy's moving preview channel (`--skaffold-version=skaffold_preview`): the newest Skaffold, no support dates. */
export const PREVIEW_SKAFFOLD = 'skaffold_preview';

export function isAcceptedSkaffold(version: string): boolean {
  return version === PREVIEW_SKAFFOLD || SUPPORTED_SKAFFOLD.some(v => v.version === version);
}

export function skaffoldSupport(version: string): Record<string, unknown> {
  if (version === PREVIEW_SKAFFOLD) return { status: true, skaffoldSupportState: 'SKAFFOLD_SUPPORT_STATE_SUPPORTED' };
  const s = SUPPORTED_SKAFFOLD.find(x => x.version === version);
  if (!s) return { skaffoldSupportState: 'SKAFFOLD_SUPPORT_STATE_UNSUPPORTED' };
  return { status: true, skaffoldSupportState: 'SKAFFOLD_SUPPORT_STATE_SUPPORTED', maintenanceModeTime: s.maintenanceModeTime, supportExpirationTime: s.supportExpirationTime };
}

export function getConfig(ctx: ApiContext): MethodSpec {
  return {
    handler: req => {
      const name = req.params.name;
      if (!/^projects\/[^/]+\/locations\/[^/]+\/config$/.test(name)) throw errors.notFound(`${ctx.svc.serviceName}/Config`, name);
      return {
        body: { name, supportedVersions: SUPPORTED_SKAFFOLD, defaultSkaffoldVersion: DEFAULT_SKAFFOLD },
        message: 'Config', schema: ctx.schema,
      };
    },
  };
}
