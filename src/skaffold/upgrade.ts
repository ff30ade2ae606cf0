// Upgrading an older config to the latest schema, limited to what changes how manifests are found (Skaffold
// chains every pkg/skaffold/schema/<version>/upgrade.go; the steps below are the ones touching deploy/manifests):
//   v1alpha1   deploy.kubectl.manifests[{paths}] → a flat list of paths
//   ≤v1alpha2  helm releases[].valuesFilePath → valuesFiles
//   ≤v2alpha2  deploy.kustomize.path → paths
//   ≤v2beta3   helm releases[].values → artifactOverrides
//   ≤v2beta12  helm releases[].remote: true → remoteChart
//   ≤v2beta29  (v2beta29/upgrade.go, the v1 → v2 move) deploy.kubectl.manifests → manifests.rawYaml,
//              deploy.kustomize → manifests.kustomize (+ a kubectl deployer), deploy.helm → manifests.helm *and*
//              deploy.helm, artifactOverrides/imageStrategy → setValueTemplates, profile patch paths rewritten
//   ≤v3        deploy.kubectl.remoteManifests → manifests.remoteManifests
// Every step runs on the main pipeline and on each profile, as util.UpgradePipelines does.
import { LATEST, atOrBefore, clone, isObj, type Obj } from './schema.js';

export function upgradeToLatest(cfg: Obj, version: string): void {
  const pipelines: Obj[] = [cfg, ...(Array.isArray(cfg.profiles) ? cfg.profiles.filter(isObj) : [])];
  const mainHelm = isObj(cfg.deploy) && isObj(cfg.deploy.helm) ? releasesOf(cfg.deploy.helm) : undefined;
  const originalPatches = pipelines.slice(1).map(p => (Array.isArray(p.patches) ? clone(p.patches) : []));
  for (const p of pipelines) {
    if (version === 'skaffold/v1alpha1') flattenV1alpha1Manifests(p);
    if (atOrBefore(version, 'skaffold/v1alpha2')) eachRelease(p, r => move(r, 'valuesFilePath', 'valuesFiles', v => (v ? [v] : undefined)));
    if (atOrBefore(version, 'skaffold/v2alpha2')) {
      const k = isObj(p.deploy) ? p.deploy.kustomize : undefined;
      if (isObj(k)) move(k, 'path', 'paths', v => (v ? [v] : undefined));
    }
    if (atOrBefore(version, 'skaffold/v2beta3')) eachRelease(p, r => move(r, 'values', 'artifactOverrides', v => v));
    if (atOrBefore(version, 'skaffold/v2beta12')) eachRelease(p, r => {
      if (r.remote === true) { r.remoteChart = r.chartPath; delete r.chartPath; }
      delete r.remote;
    });
    if (atOrBefore(version, 'skaffold/v2beta29')) v1ToV2Pipeline(p);
    if (atOrBefore(version, 'skaffold/v3')) remoteManifestsToRender(p);
  }
  if (atOrBefore(version, 'skaffold/v2beta29')) {
    pipelines.slice(1).forEach((profile, i) => upgradeProfilePatches(profile, originalPatches[i], mainHelm));
  }
  cfg.apiVersion = LATEST;
}

function releasesOf(helm: Obj): Obj[] {
  return Array.isArray(helm.releases) ? helm.releases.filter(isObj) : [];
}

function eachRelease(p: Obj, fn: (r: Obj) => void) {
  const helm = isObj(p.deploy) ? p.deploy.helm : undefined;
  if (isObj(helm)) releasesOf(helm).forEach(fn);
}

function move(o: Obj, from: string, to: string, conv: (v: unknown) => unknown) {
  if (!(from in o)) return;
  const v = conv(o[from]);
  delete o[from];
  if (v !== undefined) o[to] = v;
}

function flattenV1alpha1Manifests(p: Obj) {
  const k = isObj(p.deploy) ? p.deploy.kubectl : undefined;
  if (!isObj(k) || !Array.isArray(k.manifests)) return;
  k.manifests = k.manifests.flatMap(m => (isObj(m) && Array.isArray(m.paths) ? m.paths : typeof m === 'string' ? [m] : []));
}

/** util.SanitizeHelmTemplateValue: image names as Go template identifiers. */
export function sanitizeHelmTemplateValue(s: string): string {
  return s.replace(/[.\-/:]/g, '_');
}

function ensure(o: Obj, key: string): Obj {
  if (!isObj(o[key])) o[key] = {};
  return o[key] as Obj;
}

function v1ToV2Pipeline(p: Obj) {
  const deploy = isObj(p.deploy) ? p.deploy : undefined;
  if (!deploy) return;
  if (isObj(deploy.kubectl)) {
    const manifests = deploy.kubectl.manifests;
    delete deploy.kubectl.manifests;
    if (manifests !== undefined && manifests !== null) ensure(p, 'manifests').rawYaml = manifests;
  }
  if (isObj(deploy.kustomize)) {
    const k = deploy.kustomize;
    const paths = Array.isArray(k.paths) && k.paths.length > 0 ? k.paths : ['.'];
    ensure(p, 'manifests').kustomize = { paths, ...(k.buildArgs !== undefined ? { buildArgs: k.buildArgs } : {}) };
    mergeKustomizeIntoKubectl(deploy, k);
    delete deploy.kustomize;
  }
  if (deploy.kpt !== undefined && deploy.kpt !== null) throw new Error('converting deploy.kpt isn\'t currently supported');
  if (isObj(deploy.helm)) {
    const old = deploy.helm;
    const releases = releasesOf(old).map(r => {
      const n = clone(r);
      const aos = isObj(r.artifactOverrides) ? r.artifactOverrides : undefined;
      const strategy = isObj(r.imageStrategy) ? r.imageStrategy : undefined;
      delete n.artifactOverrides; delete n.imageStrategy;
      if (aos) {
        const svts: Obj = isObj(n.setValueTemplates) ? n.setValueTemplates : {};
        const helmConv = strategy && isObj(strategy.helm) ? strategy.helm : undefined;
        for (const [k, v] of Object.entries(aos)) {
          const valid = sanitizeHelmTemplateValue(String(v));
          if (helmConv) {
            svts[`${k}.tag`] = `{{.IMAGE_TAG_${valid}}}@{{.IMAGE_DIGEST_${valid}}}`;
            svts[`${k}.repository`] = `{{.IMAGE_REPO_${valid}}}`;
            if (helmConv.explicitRegistry === true) {
              svts[`${k}.registry`] = `{{.IMAGE_DOMAIN_${valid}}}`;
              svts[`${k}.repository`] = `{{.IMAGE_REPO_NO_DOMAIN_${valid}}}`;
            }
          } else {
            svts[k] = `{{.IMAGE_FULLY_QUALIFIED_${valid}}}`;
          }
        }
        n.setValueTemplates = svts;
      }
      return n;
    });
    const render: Obj = { releases };
    if (old.flags !== undefined) render.flags = old.flags;
    ensure(p, 'manifests').helm = render;
    // Skaffold keeps the releases in the legacy helm deployer too (v1 used its namespace for both).
    const legacy: Obj = { releases: clone(releases) };
    if (old.flags !== undefined) legacy.flags = clone(old.flags);
    if (old.hooks !== undefined) legacy.hooks = old.hooks;
    deploy.helm = legacy;
  }
}

function mergeKustomizeIntoKubectl(deploy: Obj, k: Obj) {
  const fromK: Obj = {};
  for (const f of ['flags', 'defaultNamespace', 'hooks']) if (k[f] !== undefined) fromK[f] = clone(k[f]);
  if (!isObj(deploy.kubectl)) { deploy.kubectl = fromK; return; }
  const kd = deploy.kubectl;
  if (kd.defaultNamespace !== undefined && fromK.defaultNamespace !== undefined && kd.defaultNamespace !== fromK.defaultNamespace) {
    throw new Error('can\'t merge defaultNamespace property from kustomize into kubectl deployer, property is already set with different value');
  }
  const kf = isObj(kd.flags) ? kd.flags : {}, ff = isObj(fromK.flags) ? fromK.flags : {};
  if (Boolean(kf.disableValidation) !== Boolean(ff.disableValidation)) {
    throw new Error('can\'t merge disableValidation property from kustomize into kubectl deployer, property is already set with different value');
  }
  if (fromK.defaultNamespace !== undefined) kd.defaultNamespace = fromK.defaultNamespace;
  const cat = (a: unknown, b: unknown) => [...(Array.isArray(a) ? a : []), ...(Array.isArray(b) ? b : [])];
  kd.flags = { disableValidation: Boolean(ff.disableValidation), global: cat(kf.global, ff.global), apply: cat(kf.apply, ff.apply), delete: cat(kf.delete, ff.delete) };
  const kh = isObj(kd.hooks) ? kd.hooks : {}, fh = isObj(fromK.hooks) ? fromK.hooks : {};
  kd.hooks = { before: cat(kh.before, fh.before), after: cat(kh.after, fh.after) };
}

function remoteManifestsToRender(p: Obj) {
  const deploy = isObj(p.deploy) ? p.deploy : undefined;
  if (!deploy || !isObj(deploy.kubectl) || !Array.isArray(deploy.kubectl.remoteManifests)) return;
  const list = deploy.kubectl.remoteManifests;
  delete deploy.kubectl.remoteManifests;
  if (list.length === 0) return;
  const m = ensure(p, 'manifests');
  const existing = Array.isArray(m.remoteManifests) ? m.remoteManifests : [];
  m.remoteManifests = [...existing, ...list.map(manifest => ({ manifest, kubeContext: deploy.kubeContext ?? '' }))];
}

// ---- profile patches (v2beta29/upgrade.go: upgradeArtifactOverridesPatches, duplicateHelmPatches, upgradePatches) ----

const ARTIFACT_OVERRIDES = /\/deploy\/helm\/releases\/[0-9]+\/artifactOverrides\/image/;
const MIGRATIONS: [string, string][] = [
  ['/deploy/kubectl/manifests', '/manifests/rawYaml'],
  ['/deploy/kustomize/paths', '/manifests/kustomize/paths'],
  ['/deploy/kustomize/buildArgs', '/manifests/kustomize/buildArgs'],
  ['/deploy/helm', '/manifests/helm'],
];
const isHookPatch = (path: string) => path.includes('/deploy/helm/hooks');

function upgradeProfilePatches(profile: Obj, olds: unknown[], mainReleases: Obj[] | undefined) {
  if (olds.length === 0) return;
  let patches = (profile.patches as unknown[]).map(p => (isObj(p) ? p : {}));
  olds.forEach((old, i) => {
    const path = isObj(old) ? String(old.path ?? '') : '';
    if (!ARTIFACT_OVERRIDES.test(path) || !mainReleases) return;
    const idx = Number(path.split('/')[4]);
    const modified = path.replace(/\/deploy\/helm/g, '/manifests/helm').replace(/artifactOverrides/g, 'setValueTemplates');
    const valid = sanitizeHelmTemplateValue(String((old as Obj).value ?? ''));
    const strategy = isObj(mainReleases[idx]?.imageStrategy) ? mainReleases[idx].imageStrategy as Obj : undefined;
    const helmConv = strategy && isObj(strategy.helm) ? strategy.helm : undefined;
    const op = patches[i].op, from = patches[i].from;
    if (!helmConv) {
      patches[i] = { ...patches[i], path: modified, value: `{{.IMAGE_FULLY_QUALIFIED_${valid}}}` };
      return;
    }
    patches[i] = { op, from, path: `${modified}.tag`, value: `{{.IMAGE_TAG_${valid}}}@{{.IMAGE_DIGEST_${valid}}}` };
    if (helmConv.explicitRegistry === true) {
      patches.push({ op, from, path: `${modified}.registry`, value: `{{.IMAGE_DOMAIN_${valid}}}` });
      patches.push({ op, from, path: `${modified}.repository`, value: `{{.IMAGE_REPO_NO_DOMAIN_${valid}}}` });
    } else {
      patches.push({ op, from, path: `${modified}.repository`, value: `{{.IMAGE_REPO_${valid}}}` });
    }
  });
  // The original helm patches are repeated at the end so they still reach the legacy deploy.helm copy.
  patches = [...patches, ...patches.filter(p => String(p.path ?? '').includes('/deploy/helm') && !isHookPatch(String(p.path ?? ''))).map(p => clone(p))];
  olds.forEach((old, i) => {
    const path = isObj(old) ? String(old.path ?? '') : '';
    if (ARTIFACT_OVERRIDES.test(path) || isHookPatch(path)) return;
    for (const [from, to] of MIGRATIONS) if (path.includes(from)) patches[i].path = path.split(from).join(to);
  });
  profile.patches = patches;
}
