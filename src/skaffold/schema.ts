// Skaffold's config schema as far as the engine needs it: the apiVersions Skaffold accepts (its
// pkg/skaffold/schema/versions.go, oldest first), the field names of the latest schema
// (pkg/skaffold/schema/latest/config.go) for strict parsing, and the shape of `Pipeline` that decides how a
// profile overlays a config (pkg/skaffold/schema/profiles.go walks the Go structs by reflection; we walk this).

export type Obj = Record<string, unknown>;

const range = (prefix: string, n: number) => Array.from({ length: n }, (_, i) => `skaffold/${prefix}${i + 1}`);

/** Every apiVersion Skaffold v2 parses, in upgrade order. The last one is `latest`. */
export const VERSIONS: readonly string[] = [
  ...range('v1alpha', 5), ...range('v1beta', 17), 'skaffold/v1',
  ...range('v2alpha', 4), ...range('v2beta', 29),
  'skaffold/v3alpha1', 'skaffold/v3', ...range('v4beta', 14),
];
export const LATEST = VERSIONS[VERSIONS.length - 1];

/** Position of an apiVersion in upgrade order, -1 when Skaffold does not know it. */
export function versionIndex(v: string): number {
  return VERSIONS.indexOf(v);
}

/** True for versions at or before `than` (both must be known). */
export function atOrBefore(v: string, than: string): boolean {
  return versionIndex(v) <= versionIndex(than);
}

/** Skaffold v2's own track (v3alpha1 onwards): parsed strictly against the latest field names below. */
export function isV2Track(v: string): boolean {
  return versionIndex(v) >= versionIndex('skaffold/v3alpha1');
}

// Field names per struct of the latest schema, for yaml.v3 KnownFields-style strictness. `inline` structs are
// flattened into their parent, as yaml does. Only the structs the engine reads are listed: a typo there would
// otherwise silently render nothing.
const PIPELINE = ['build', 'test', 'manifests', 'deploy', 'portForward', 'resourceSelector', 'verify', 'customActions'];
export const FIELDS: Record<string, readonly string[]> = {
  SkaffoldConfig: ['apiVersion', 'kind', 'metadata', 'requires', ...PIPELINE, 'profiles'],
  Metadata: ['name', 'labels', 'annotations'],
  Profile: ['name', 'activation', 'requiresAllActivations', 'patches', ...PIPELINE],
  JSONPatch: ['op', 'path', 'from', 'value'],
  Activation: ['env', 'kubeContext', 'command'],
  ConfigDependency: ['configs', 'path', 'git', 'googleCloudStorage', 'googleCloudBuildRepoV2', 'activeProfiles'],
  ProfileDependency: ['name', 'activatedBy'],
  GitInfo: ['repo', 'path', 'ref', 'sync'],
  GoogleCloudStorageInfo: ['source', 'path', 'sync'],
  RenderConfig: ['rawYaml', 'remoteManifests', 'kustomize', 'helm', 'kpt', 'hooks', 'transform', 'validate', 'output'],
  Kustomize: ['paths', 'buildArgs'],
  Helm: ['flags', 'releases'],
  HelmDeployFlags: ['global', 'install', 'upgrade', 'depBuild', 'template'],
  HelmRelease: ['name', 'chartPath', 'remoteChart', 'valuesFiles', 'namespace', 'version', 'setValues', 'setValueTemplates',
    'setFiles', 'createNamespace', 'wait', 'recreatePods', 'skipBuildDependencies', 'skipTests', 'useHelmSecrets', 'repo',
    'upgradeOnChange', 'overrides', 'packaged', 'dependsOn'],
  VerifyTestCase: ['name', 'timeout', 'container', 'executionMode'],
  VerifyContainer: ['name', 'image', 'command', 'args', 'env'],
  Action: ['name', 'failFast', 'timeout', 'executionMode', 'containers'],
  DeployConfig: ['docker', 'helm', 'kpt', 'kubectl', 'cloudrun', 'statusCheck', 'statusCheckDeadlineSeconds',
    'tolerateFailuresUntilDeadline', 'kubeContext', 'logs'],
  LegacyHelmDeploy: ['concurrency', 'releases', 'flags', 'hooks'],
};

// ---- profile overlay shape (overlayProfileField in profiles.go) ----
// struct: field by field; oneOf: the first set member of the profile replaces the whole group; slice: the
// profile's replaces when non-empty; ptr: replaces when set (even to an empty value); scalar: replaces when not
// Go's zero value ("", 0, false).
export type Shape =
  | { kind: 'struct'; members: Member[] }
  | { kind: 'oneOf'; keys: string[] }
  | { kind: 'slice' } | { kind: 'ptr' } | { kind: 'scalar' };
export type Member = { key: string; shape: Shape } | { inline: Shape };

const slice: Shape = { kind: 'slice' };
const ptr: Shape = { kind: 'ptr' };
const scalar: Shape = { kind: 'scalar' };
const struct = (...members: Member[]): Shape => ({ kind: 'struct', members });
const hooks = struct({ key: 'before', shape: slice }, { key: 'after', shape: slice });

export const PIPELINE_SHAPE: Member[] = [
  { key: 'build', shape: struct(
    { key: 'hooks', shape: hooks },
    { key: 'artifacts', shape: slice },
    { key: 'insecureRegistries', shape: slice },
    { key: 'tagPolicy', shape: { kind: 'oneOf', keys: ['gitCommit', 'sha256', 'envTemplate', 'dateTime', 'customTemplate', 'inputDigest'] } },
    { key: 'platforms', shape: slice },
    { inline: { kind: 'oneOf', keys: ['local', 'googleCloudBuild', 'cluster'] } },
  ) },
  { key: 'test', shape: slice },
  { key: 'manifests', shape: struct(
    { inline: struct(
      { key: 'rawYaml', shape: slice },
      { key: 'remoteManifests', shape: slice },
      { key: 'kustomize', shape: ptr },
      { key: 'helm', shape: ptr },
      { key: 'kpt', shape: slice },
      { key: 'hooks', shape: hooks },
    ) },
    { key: 'transform', shape: ptr },
    { key: 'validate', shape: ptr },
    { key: 'output', shape: scalar },
  ) },
  { key: 'deploy', shape: struct(
    // DeployType is a plain struct of pointers (no oneOf tag): each deployer is replaced on its own.
    { inline: struct(...['docker', 'helm', 'kpt', 'kubectl', 'cloudrun'].map(key => ({ key, shape: ptr }))) },
    { key: 'statusCheck', shape: ptr },
    { key: 'statusCheckDeadlineSeconds', shape: scalar },
    { key: 'tolerateFailuresUntilDeadline', shape: scalar },
    { key: 'kubeContext', shape: scalar },
    { key: 'logs', shape: struct({ key: 'prefix', shape: scalar }, { key: 'jsonParse', shape: struct({ key: 'fields', shape: slice }) }) },
  ) },
  { key: 'portForward', shape: slice },
  { key: 'resourceSelector', shape: struct({ key: 'allow', shape: slice }, { key: 'deny', shape: slice }) },
  { key: 'verify', shape: slice },
  { key: 'customActions', shape: slice },
];

export function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

/** A structured-clone of plain YAML data (what toJS returns). */
export function clone<T>(v: T): T {
  return structuredClone(v);
}
