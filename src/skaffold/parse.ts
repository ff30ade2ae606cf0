// One skaffold.yaml file → its configs, upgraded to the latest schema. Follows pkg/skaffold/schema/versions.go:
// every document must name an apiVersion Skaffold knows; top-level keys starting with `.` are dropped (they only
// hold YAML anchors); fields are checked strictly (yaml.v3 KnownFields) for the structures the engine reads.
import type { Node as YNode, YAMLMap, LineCounter } from 'yaml';
import { yaml } from '../lazy-deps.js';
import { SkaffoldError, firstLine } from './errors.js';
import { FIELDS, LATEST, isObj, isV2Track, versionIndex, type Obj } from './schema.js';
import { upgradeToLatest } from './upgrade.js';

export interface ParsedConfig {
  /** The config, upgraded to the latest schema (profiles still inside). */
  config: Obj;
  /** The apiVersion it was written in. */
  version: string;
}

const PARSE = 'error parsing skaffold configuration file';

export function parseConfigFile(text: string, shown: string): ParsedConfig[] {
  // versions.go's quick check, before anything is parsed.
  if (!text.includes('apiVersion')) throw new SkaffoldError(`${PARSE}: ${shown}: missing apiVersion`, 'INVALID_CONFIG');
  const lc = new (yaml().LineCounter)();
  const docs = yaml().parseAllDocuments(text, { lineCounter: lc, uniqueKeys: true });
  const out: ParsedConfig[] = [];
  for (const doc of Array.isArray(docs) ? docs : []) {
    const err = doc.errors[0];
    if (err) throw new SkaffoldError(`${PARSE}: ${shown}: ${firstLine(err.message)}`, 'INVALID_CONFIG');
    // A document with nothing in it (a trailing `---`) holds no config.
    if (doc.contents === null) continue;
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 100 });
    } catch (e) {
      throw new SkaffoldError(`${PARSE}: ${shown}: ${(e as Error).message}`, 'INVALID_CONFIG');
    }
    if (!isObj(value)) throw new SkaffoldError(`${PARSE}: ${shown}: unable to parse config: a config must be a mapping`, 'INVALID_CONFIG');
    const version = typeof value.apiVersion === 'string' ? value.apiVersion : '';
    if (versionIndex(version) < 0) throw new SkaffoldError(`${PARSE}: unknown skaffold config API version "${version}"`, 'INVALID_CONFIG');
    for (const k of Object.keys(value)) if (k.startsWith('.')) delete value[k];
    if (isV2Track(version) && yaml().isMap(doc.contents)) {
      const typePkg = version === LATEST ? 'latest' : version.slice('skaffold/'.length);
      const problem = strictCheck(doc.contents, 'SkaffoldConfig', typePkg, lc);
      if (problem) throw new SkaffoldError(`${PARSE}: ${shown}: unable to parse config: yaml: unmarshal errors:\n  ${problem}`, 'INVALID_CONFIG');
    }
    try {
      if (version !== LATEST) upgradeToLatest(value, version);
    } catch (e) {
      throw new SkaffoldError(`${PARSE}: ${shown}: transforming skaffold config: ${(e as Error).message}`, 'INVALID_CONFIG');
    }
    out.push({ config: value, version });
  }
  return out;
}

// Which field of which struct holds which struct (a trailing [] marks a list of them).
const CHILDREN: Record<string, Record<string, string>> = {
  SkaffoldConfig: {
    metadata: 'Metadata', requires: 'ConfigDependency[]', profiles: 'Profile[]', manifests: 'RenderConfig',
    deploy: 'DeployConfig', verify: 'VerifyTestCase[]', customActions: 'Action[]',
  },
  Profile: {
    activation: 'Activation[]', patches: 'JSONPatch[]', manifests: 'RenderConfig', deploy: 'DeployConfig',
    verify: 'VerifyTestCase[]', customActions: 'Action[]',
  },
  ConfigDependency: { git: 'GitInfo', googleCloudStorage: 'GoogleCloudStorageInfo', activeProfiles: 'ProfileDependency[]' },
  RenderConfig: { kustomize: 'Kustomize', helm: 'Helm' },
  Helm: { flags: 'HelmDeployFlags', releases: 'HelmRelease[]' },
  DeployConfig: { helm: 'LegacyHelmDeploy' },
  LegacyHelmDeploy: { flags: 'HelmDeployFlags', releases: 'HelmRelease[]' },
  VerifyTestCase: { container: 'VerifyContainer' },
  Action: { containers: 'VerifyContainer[]' },
};

/** The first unknown field, in yaml.v3's words, or undefined. */
function strictCheck(map: YAMLMap, type: string, pkg: string, lc: LineCounter, top = true): string | undefined {
  const known = FIELDS[type];
  for (const item of map.items) {
    const key = yaml().isScalar(item.key) ? String(item.key.value) : String(item.key);
    if (top && key.startsWith('.')) continue;
    if (known && !known.includes(key)) {
      const line = yaml().isScalar(item.key) && item.key.range ? lc.linePos(item.key.range[0]).line : 0;
      return `line ${line}: field ${key} not found in type ${pkg}.${type}`;
    }
    const child = CHILDREN[type]?.[key];
    if (!child) continue;
    const list = child.endsWith('[]'), childType = list ? child.slice(0, -2) : child;
    const nodes: unknown[] = list ? (yaml().isSeq(item.value) ? item.value.items : []) : [item.value];
    for (const n of nodes) {
      if (!yaml().isMap(n as YNode)) continue;
      const p = strictCheck(n as YAMLMap, childType, pkg, lc, false);
      if (p) return p;
    }
  }
  return undefined;
}
