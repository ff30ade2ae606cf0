import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSkaffoldConfigs, SkaffoldError } from '../../src/skaffold/index.js';
import { applyProfiles, type ActivationContext } from '../../src/skaffold/profiles.js';
import { applyPatch } from '../../src/skaffold/patch.js';

const F = fileURLToPath(new URL('../../../test/fixtures/skaffold', import.meta.url));
const ctx: ActivationContext = { command: 'render', kubeContext: '', env: {}, autoActivation: true };

function apply(config: Record<string, unknown>, profile: Record<string, unknown>, named = [String(profile.name)]) {
  const c: Record<string, unknown> = structuredClone({ ...config, profiles: [profile] });
  const applied = applyProfiles(c, named, ctx);
  return { c, applied };
}

test('overlay: lists and pointers replace, structs merge field by field, zero scalars keep the config', () => {
  const base = {
    apiVersion: 'skaffold/v4beta14', kind: 'Config',
    build: { artifacts: [{ image: 'a' }], local: { push: false }, tagPolicy: { sha256: {} } },
    manifests: { rawYaml: ['k8s/*.yaml'], kustomize: { paths: ['base'], buildArgs: ['--reorder legacy'] }, output: 'out.yaml' },
    deploy: { kubectl: {}, statusCheck: true, statusCheckDeadlineSeconds: 60, kubeContext: 'ctx' },
    verify: [{ name: 'v1', container: { name: 'c', image: 'i' } }],
  };
  const { c } = apply(base, {
    name: 'p',
    build: { googleCloudBuild: { projectId: 'x' }, tagPolicy: { gitCommit: {} } },
    manifests: { rawYaml: [], kustomize: { paths: ['overlays/prod'] } },
    deploy: { helm: { releases: [] }, statusCheck: false, statusCheckDeadlineSeconds: 0, kubeContext: '' },
  });
  // oneOf groups: the profile's member replaces the whole group (local is gone).
  assert.deepEqual(c.build, { artifacts: [{ image: 'a' }], googleCloudBuild: { projectId: 'x' }, tagPolicy: { gitCommit: {} } });
  // An empty list keeps the config's; a pointer (kustomize) is replaced wholesale, buildArgs and all.
  assert.deepEqual(c.manifests, { rawYaml: ['k8s/*.yaml'], kustomize: { paths: ['overlays/prod'] }, output: 'out.yaml' });
  // Pointers replace even with a zero value (statusCheck: false); plain scalars at zero do not.
  assert.deepEqual(c.deploy, { kubectl: {}, helm: { releases: [] }, statusCheck: false, statusCheckDeadlineSeconds: 60, kubeContext: 'ctx' });
  assert.deepEqual(c.verify, base.verify);
  assert.equal(c.profiles, undefined);
});

test('profiles apply in the order given, auto-activated first; the last same-named profile wins', () => {
  const c = structuredClone({
    manifests: { rawYaml: ['a.yaml'] },
    profiles: [
      { name: 'auto', activation: [{ command: 'render' }], manifests: { output: 'auto' } },
      { name: 'x', manifests: { rawYaml: ['x.yaml'] } },
      { name: 'y', manifests: { rawYaml: ['y.yaml'] } },
      { name: 'x', manifests: { rawYaml: ['x2.yaml'] } },
    ],
  });
  assert.deepEqual(applyProfiles(c, ['y', 'x', 'unknown'], ctx), ['auto', 'y', 'x']);
  assert.deepEqual(c.manifests, { rawYaml: ['x2.yaml'], output: 'auto' });
});

test('activation: env, kubeContext and command, all of an entry; requiresAllActivations', () => {
  const profiles = [
    { name: 'env', activation: [{ env: 'STAGE=prod' }] },
    { name: 'env-unset', activation: [{ env: 'MISSING=' }] },
    { name: 'ctx', activation: [{ kubeContext: 'gke_.*' }] },
    { name: 'not-ctx', activation: [{ kubeContext: '!minikube' }] },
    { name: 'both', activation: [{ env: 'STAGE=prod', command: 'dev' }] },
    { name: 'all', requiresAllActivations: true, activation: [{ env: 'STAGE=prod' }, { command: 'render' }] },
  ];
  const c = { profiles: structuredClone(profiles) };
  const applied = applyProfiles(c, [], { ...ctx, env: { STAGE: 'prod' }, kubeContext: 'gke_proj_zone_cluster' });
  assert.deepEqual(applied, ['env', 'env-unset', 'ctx', 'not-ctx', 'all']);
  assert.throws(() => applyProfiles({ profiles: [{ name: 'bad', activation: [{ env: 'NOEQUALS' }] }] }, [], ctx),
    /invalid env variable format: NOEQUALS, should be KEY=VALUE/);
});

test('patches: add, replace, remove by list index, `-` to append, default op replace', () => {
  const doc = { manifests: { rawYaml: ['a', 'b', 'c'] }, build: { artifacts: [{ image: 'x' }] } };
  applyPatch(doc, { op: 'add', path: '/manifests/rawYaml/1', value: 'inserted' });
  applyPatch(doc, { op: 'add', path: '/manifests/rawYaml/-', value: 'appended' });
  applyPatch(doc, { op: 'remove', path: '/manifests/rawYaml/0' });
  applyPatch(doc, { path: '/manifests/rawYaml/2', value: 'replaced' });
  applyPatch(doc, { op: 'add', path: '/build/artifacts/0/context', value: 'svc' });
  assert.deepEqual(doc, { manifests: { rawYaml: ['inserted', 'b', 'replaced', 'appended'] }, build: { artifacts: [{ image: 'x', context: 'svc' }] } });
});

test('patches follow yaml-patch, not RFC 6902, where they differ', () => {
  // copy/move overwrite the target element (RFC 6902 would insert), and may grow the list.
  const doc = { l: ['a', 'b', 'c'], m: { k: 'v', n: null } as Record<string, unknown> };
  applyPatch(doc, { op: 'copy', from: '/l/0', path: '/l/1' });
  assert.deepEqual(doc.l, ['a', 'a', 'c']);
  applyPatch(doc, { op: 'move', from: '/l/2', path: '/l/3' });
  assert.deepEqual(doc.l, ['a', 'a', null, 'c']);
  // replace refuses a null value; copy from a missing key copies null.
  assert.throws(() => applyPatch(doc, { op: 'replace', path: '/m/n', value: 1 }), /^Error: invalid path: \/m\/n$/);
  applyPatch(doc, { op: 'copy', from: '/m/missing', path: '/m/copied' });
  assert.equal(doc.m.copied, null);
  // add/replace without a value, out-of-range indexes, unknown ops and missing parents are all "invalid path".
  for (const op of [
    { op: 'add', path: '/l/0' }, { op: 'add', path: '/l/9', value: 1 }, { op: 'remove', path: '/l/9' },
    { op: 'frobnicate', path: '/l/0', value: 1 }, { op: 'add', path: '/nope/x', value: 1 }, { op: 'add', path: 'l/0', value: 1 },
    { op: 'test', path: '/m/k', value: 'other' },
  ]) {
    assert.throws(() => applyPatch(structuredClone(doc), op), /invalid path/, JSON.stringify(op));
  }
  applyPatch(doc, { op: 'test', path: '/m/k', value: 'v' });
});

test('patches: a key=value segment selects matching entries anywhere below', () => {
  const doc = { build: { artifacts: [{ image: 'web', docker: { buildArgs: { MODE: 'x' } } }, { image: 'api', docker: { buildArgs: { MODE: 'y' } } }] } };
  applyPatch(doc, { path: '/build/artifacts/image=api/docker/buildArgs/MODE', value: 'patched' });
  assert.deepEqual(doc.build.artifacts.map(a => a.docker.buildArgs.MODE), ['x', 'patched']);
  assert.throws(() => applyPatch(doc, { path: '/build/artifacts/image=none/context', value: 'z' }), /invalid path/);
});

test('patches on a real config: profile-patches example shape', async () => {
  const dir = join(F, 'patches');
  const raw = async (profiles: string[]) => ((await loadSkaffoldConfigs({ dir, profiles }))[0].config.manifests as { rawYaml: string[] }).rawYaml;
  assert.deepEqual(await raw([]), ['base-service/*.yaml', 'world-service/*.yaml']);
  assert.deepEqual(await raw(['hello']), ['base-service/*.yaml', 'hello-service/*.yaml']);
  assert.deepEqual(await raw(['no-world']), ['base-service/*.yaml']);
  assert.deepEqual(await raw(['copy-move']), ['base-service/*.yaml', 'base-service/*.yaml']);
  const [c] = await loadSkaffoldConfigs({ dir, profiles: ['hello', 'by-name'] });
  assert.deepEqual((c.config.build as { artifacts: unknown[] }).artifacts, [
    { image: 'skaffold-base', context: 'base-service', docker: { buildArgs: { MODE: 'patched' } } },
    { image: 'skaffold-hello', context: 'hello-service' },
  ]);
  await assert.rejects(loadSkaffoldConfigs({ dir, profiles: ['broken'] }), (e: unknown) =>
    e instanceof SkaffoldError && e.kind === 'INVALID_CONFIG' &&
    e.message === 'failed to apply profiles to config "" defined in file "skaffold.yaml": applying profile "broken": invalid path: /manifests/rawYaml/7');
});

test('legacy configs are upgraded: deploy.kubectl.manifests, profiles and their patch paths included', async () => {
  const dir = join(F, 'legacy/kubectl');
  const load = async (profiles: string[]) => (await loadSkaffoldConfigs({ dir, profiles }))[0].config;
  let c = await load([]);
  assert.equal(c.apiVersion, 'skaffold/v4beta14');
  assert.deepEqual(c.manifests, { rawYaml: ['k8.yaml'] });
  assert.deepEqual(c.deploy, { kubectl: {} });
  assert.deepEqual((await load(['extra'])).manifests, { rawYaml: ['k8.yaml', 'extra.yaml'] });
  c = await load(['patched']);
  assert.deepEqual(c.manifests, { rawYaml: ['k8.yaml', 'extra.yaml'] });
});

test('legacy kustomize and helm deployers become render config', async () => {
  const [k] = await loadSkaffoldConfigs({ dir: join(F, 'legacy/kustomize') });
  assert.deepEqual(k.config.manifests, { kustomize: { paths: ['base'] } });
  assert.deepEqual(k.config.deploy, { kubectl: {} });
  const [h] = await loadSkaffoldConfigs({ dir: join(F, 'legacy/helm') });
  const release = { name: 'web', chartPath: 'chart', setValues: { replicas: 2 }, setValueTemplates: { image: '{{.IMAGE_FULLY_QUALIFIED_gcr_io_demo_web}}' } };
  assert.deepEqual(h.config.manifests, { helm: { releases: [release] } });
  assert.deepEqual(h.config.deploy, { helm: { releases: [release] } });
});
