// The tool versions a release is frozen to (Release.toolVersions, "Manage tool versions" in Cloud Deploy's docs):
// each tool the caller names is kept (`latest` opts out of freezing), every other tool takes Config's default, and
// the release reports each version's support window in `condition.<tool>VersionSupportedCondition`.
import { errors } from '../../google/errors.js';

type Obj = Record<string, unknown>;

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

export const TOOLS = ['docker', 'helm', 'kpt', 'kubectl', 'kustomize', 'skaffold'] as const;
export type Tool = typeof TOOLS[number];
/** "Disable fixed tool versioning": the newest version at each operation. */
export const LATEST = 'latest';

interface Window { version: string; maintenanceModeTime: string; supportExpirationTime: string }
const w = (version: string, maintenance: string, expiry: string): Window => ({ version, maintenanceModeTime: `${maintenance}T00:00:00Z`, supportExpirationTime: `${expiry}T00:00:00Z` });

/**
 * The versions whose support windows Gantry knows (Google lists its own only on the docs page). Skaffold's are
 * Config.supportedVersions; the others are Gantry's picture of a weekly image, the newest being the default.
 */
const KNOWN: Record<Tool, Window[]> = {
  docker: [w('27.5', '2027-01-31', '2027-07-31'), w('28.3', '2027-07-31', '2028-01-31')],
  helm: [w('3.17', '2027-03-31', '2027-09-30'), w('3.18', '2027-06-30', '2027-12-31')],
  kpt: [w('1.0', '2027-06-30', '2027-12-31')],
  kubectl: [w('1.32', '2027-02-28', '2027-08-31'), w('1.33', '2027-06-30', '2027-12-31')],
  kustomize: [w('5.6', '2027-03-31', '2027-09-30'), w('5.7', '2027-06-30', '2027-12-31')],
  skaffold: SUPPORTED_SKAFFOLD.map(s => ({ version: s.version, maintenanceModeTime: s.maintenanceModeTime, supportExpirationTime: s.supportExpirationTime })),
};

/** Config.defaultToolVersions: what a release without tool versions is frozen to. */
export const DEFAULT_TOOL_VERSIONS: Record<Tool, string> = {
  docker: '28.3', helm: '3.18', kpt: '1.0', kubectl: '1.33', kustomize: '5.7', skaffold: DEFAULT_SKAFFOLD,
};

const VERSION = /^\d{1,4}(\.\d{1,4}){0,2}$/;

/** Checks the caller's tool versions; Skaffold's must be one Config lists (as `skaffoldVersion` must). */
export function checkToolVersions(given: unknown, skaffoldVersion: unknown): void {
  if (given === undefined || given === null) return;
  const tv = given as Obj;
  for (const tool of TOOLS) {
    const v = tv[tool];
    if (v === undefined || v === '' || v === LATEST) continue;
    const s = String(v);
    const field = `release.tool_versions.${tool}`;
    if (tool === 'skaffold') {
      if (!isAcceptedSkaffold(s)) throw errors.invalidArgument(`Skaffold version "${s.slice(0, 100)}" is not supported; supported versions: ${[...SUPPORTED_SKAFFOLD.map(x => x.version), PREVIEW_SKAFFOLD, LATEST].join(', ')}.`, field);
    } else if (!VERSION.test(s)) {
      throw errors.invalidArgument(`"${s.slice(0, 100)}" is not a ${tool} version: use MAJOR.MINOR (e.g. ${DEFAULT_TOOL_VERSIONS[tool]}) or "${LATEST}".`, field);
    }
  }
  const sk = tv.skaffold;
  if (skaffoldVersion !== undefined && skaffoldVersion !== '' && sk !== undefined && sk !== '' && String(sk) !== String(skaffoldVersion)) {
    throw errors.invalidArgument(`skaffold_version "${String(skaffoldVersion).slice(0, 100)}" and tool_versions.skaffold "${String(sk).slice(0, 100)}" differ: set one of them.`, 'release.tool_versions.skaffold');
  }
}

/** The versions a new release is frozen to: the caller's, then `skaffoldVersion` for Skaffold, then the defaults. */
export function frozenToolVersions(given: unknown, skaffoldVersion: string | undefined): Record<Tool, string> {
  const tv = (given ?? {}) as Obj;
  const out = {} as Record<Tool, string>;
  for (const tool of TOOLS) {
    const v = tv[tool];
    out[tool] = v !== undefined && v !== '' ? String(v) : tool === 'skaffold' && skaffoldVersion ? skaffoldVersion : DEFAULT_TOOL_VERSIONS[tool];
  }
  return out;
}

/** `<tool>VersionSupportedCondition`, judged at `now` (the release's creation). */
export function toolSupport(tool: Tool, version: string, now: string): Obj {
  if (version === LATEST || version === PREVIEW_SKAFFOLD) return { status: true, toolVersionSupportState: 'TOOL_VERSION_SUPPORT_STATE_SUPPORTED' };
  const known = KNOWN[tool].find(k => k.version === version);
  // A well-formed version Gantry has no window for: accepted, its support state not known.
  if (!known) return {};
  const t = Date.parse(now);
  const state = t >= Date.parse(known.supportExpirationTime) ? 'UNSUPPORTED' : t >= Date.parse(known.maintenanceModeTime) ? 'MAINTENANCE_MODE' : 'SUPPORTED';
  return {
    ...(state === 'UNSUPPORTED' ? {} : { status: true }),
    toolVersionSupportState: `TOOL_VERSION_SUPPORT_STATE_${state}`,
    maintenanceModeTime: known.maintenanceModeTime, supportExpirationTime: known.supportExpirationTime,
  };
}

/** The release condition's tool entries for frozen versions. */
export function toolConditions(versions: Record<Tool, string>, now: string): Obj {
  return Object.fromEntries(TOOLS.map(tool => [`${tool}VersionSupportedCondition`, toolSupport(tool, versions[tool], now)]));
}
