// The Skaffold config engine: Skaffold's config semantics (multi-config files, requires, modules, profiles and
// patches, legacy schema upgrades) and `skaffold render`, for Gantry's Cloud Deploy. Every module names the
// Skaffold source it follows; behaviour that differs on purpose is said where it happens.
export { SkaffoldError, type SkaffoldErrorKind } from './errors.js';
export { loadSkaffoldConfigs, type LoadOptions, type RemoteResolver, type ResolvedConfig } from './load.js';
export { renderManifests, type RenderOptions, type RenderResult } from './manifests.js';
export { applyDeployParameters } from './params.js';
export { setManifestLabels } from './labels.js';
export { customActionsOf, verifyOf, type MergeOptions } from './actions.js';
export { VERSIONS as SUPPORTED_API_VERSIONS, LATEST as LATEST_API_VERSION } from './schema.js';
export { offlineEnv, lookPath, DEAD_PROXY } from './tools.js';
export { OFFLINE } from './errors.js';
