import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, mkdirSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSkaffoldConfigs, type ResolvedConfig } from '../../src/skaffold/index.js';
import { rejectsWith } from '../helpers/skaffold.js';

const F = fileURLToPath(new URL('../../../test/fixtures/skaffold', import.meta.url));

const names = (cs: ResolvedConfig[]) => cs.map(c => c.name ?? '(unnamed)');
const manifests = (c: ResolvedConfig) => (c.config.manifests as { rawYaml?: string[] } | undefined)?.rawYaml;

function tmp(): string {
  return mkdtempSync(join(tmpdir(), 'skaffold-test-'));
}

function write(root: string, files: Record<string, string>) {
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(join(root, p, '..'), { recursive: true });
    writeFileSync(join(root, p), text);
  }
}

test('a multi-config file: dependencies first, same-file requires, each config once', async () => {
  const cs = await loadSkaffoldConfigs({ dir: join(F, 'multi-config') });
  assert.deepEqual(names(cs), ['backend', 'shared', 'frontend']);
  const [backend, shared, frontend] = cs;
  // A config from another file resolves its paths against its own directory; the root file's against the source.
  assert.equal(backend.dir, join(F, 'multi-config/services/backend'));
  assert.equal(backend.file, join(F, 'multi-config/services/backend/skaffold.yaml'));
  assert.equal(shared.dir, join(F, 'multi-config'));
  assert.equal(frontend.file, join(F, 'multi-config/skaffold.yaml'));
  // `profiles` and `requires` are gone from the effective config; backend-tools was not selected.
  assert.equal(frontend.config.profiles, undefined);
  assert.equal(frontend.config.requires, undefined);
  // activeProfiles without activatedBy always apply; `render-only` auto-activates on the render command.
  assert.deepEqual(backend.profiles, ['always-on']);
  assert.deepEqual(frontend.profiles, ['render-only']);
  assert.deepEqual(manifests(backend), ['k8s/*.yaml']);
  assert.equal((frontend.config.manifests as { output?: string }).output, 'rendered.yaml');
});

test('requested profiles apply in the root file and activate a dependency profile through activatedBy', async () => {
  const cs = await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), profiles: ['prod'] });
  const [backend, , frontend] = cs;
  assert.deepEqual(backend.profiles, ['prod-db', 'always-on']);
  assert.deepEqual(manifests(backend), ['k8s/*.yaml', 'k8s/prod/*.yaml']);
  assert.deepEqual(frontend.profiles, ['render-only', 'prod']);
  assert.deepEqual(manifests(frontend), ['k8s/frontend/*.yaml', 'k8s/prod/*.yaml']);
  // verify and customActions can come from inside a profile.
  assert.equal((frontend.config.verify as { name: string }[])[0].name, 'smoke');
  assert.equal((frontend.config.customActions as { name: string }[])[0].name, 'warm-cache');
});

test('a `-name` profile deactivates an auto-activated one; auto-activation can be switched off', async () => {
  let [, , frontend] = await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), profiles: ['-render-only'] });
  assert.deepEqual(frontend.profiles, []);
  [, , frontend] = await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), profileAutoActivation: false });
  assert.deepEqual(frontend.profiles, []);
  [, , frontend] = await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), kubeContext: 'dev-cluster' });
  assert.deepEqual(frontend.profiles, ['render-only', 'on-dev-cluster']);
  [, , frontend] = await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), command: 'dev' });
  assert.deepEqual(frontend.profiles, []);
});

test('a profile is found when any config defines it, and PROFILE_NOT_FOUND names the ones none does', async () => {
  // `always-on` exists only in the dependency: Skaffold accepts it (and propagates it there).
  const cs = await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), profiles: ['always-on'] });
  assert.deepEqual(cs[0].profiles, ['always-on']);
  await rejectsWith(loadSkaffoldConfigs({ dir: join(F, 'multi-config'), profiles: ['prod', 'staging', 'qa'] }),
    'PROFILE_NOT_FOUND', /^profile selection \["staging" "qa"\] did not match those defined in any configurations$/);
  // Propagation can be turned off, as with --propagate-profiles=false.
  const np = await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), profiles: ['always-on'], propagateProfiles: false });
  assert.deepEqual(np[0].profiles, ['always-on']); // still activated by the requires entry itself
});

test('modules select configs and their dependencies; a selection matching nothing is MODULE_NOT_FOUND', async () => {
  assert.deepEqual(names(await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), modules: ['shared'] })), ['shared']);
  assert.deepEqual(names(await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), modules: ['frontend'] })), ['backend', 'shared', 'frontend']);
  assert.deepEqual(names(await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), modules: ['backend'] })), ['backend']);
  // Skaffold only fails when the whole selection matches nothing.
  assert.deepEqual(names(await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), modules: ['shared', 'nope'] })), ['shared']);
  await rejectsWith(loadSkaffoldConfigs({ dir: join(F, 'multi-config'), modules: ['nope', 'none'] }),
    'MODULE_NOT_FOUND', /^did not find any configs matching selection \[nope none\]$/);
});

test('requires loops end where a config is visited again, as in Skaffold', async () => {
  const cs = await loadSkaffoldConfigs({ dir: join(F, 'loop') });
  assert.deepEqual(names(cs), ['b', 'a', 'a-extra']);
});

test("the root file's configs resolve paths against the source directory, wherever the file is", async () => {
  // As Skaffold resolves them against its working directory (Cloud Deploy runs it at the source root).
  const cs = await loadSkaffoldConfigs({ dir: join(F, 'loop'), file: 'b/skaffold.yaml' });
  assert.deepEqual(names(cs), ['a', 'b']);
  assert.equal(cs[0].dir, join(F, 'loop'));
  assert.equal(cs[1].dir, join(F, 'loop'));
  assert.equal(cs[1].file, join(F, 'loop/b/skaffold.yaml'));
});

test('a config imported twice with different profiles is refused', async () => {
  await rejectsWith(loadSkaffoldConfigs({ dir: join(F, 'loop'), file: 'conflict.yaml' }), 'INVALID_CONFIG',
    /config "b" defined in file "b\/skaffold.yaml" imported multiple times with different set of profiles/);
});

test('broken config files', async () => {
  const bad = join(F, 'bad-config');
  await rejectsWith(loadSkaffoldConfigs({ dir: bad, file: 'unknown-version.yaml' }), 'INVALID_CONFIG',
    /unknown skaffold config API version "skaffold\/v9beta1"/);
  await rejectsWith(loadSkaffoldConfigs({ dir: bad, file: 'unknown-field.yaml' }), 'INVALID_CONFIG',
    /unknown-field.yaml: .*line 3: field manifest not found in type latest.SkaffoldConfig/s);
  await rejectsWith(loadSkaffoldConfigs({ dir: bad, file: 'duplicate-names.yaml' }), 'INVALID_CONFIG',
    /multiple skaffold configs named "twice" found in file "duplicate-names.yaml"/);
  await rejectsWith(loadSkaffoldConfigs({ dir: bad, file: 'invalid-yaml.yaml' }), 'INVALID_CONFIG',
    /^error parsing skaffold configuration file: invalid-yaml.yaml: /);
  await rejectsWith(loadSkaffoldConfigs({ dir: bad, file: 'absent.yaml' }), 'CONFIG_NOT_FOUND',
    /^unable to find configuration file "absent.yaml"$/);
});

test('every apiVersion Skaffold lists is accepted', async () => {
  const { SUPPORTED_API_VERSIONS } = await import('../../src/skaffold/index.js');
  assert.equal(SUPPORTED_API_VERSIONS.length, 72);
  assert.equal(SUPPORTED_API_VERSIONS.at(-1), 'skaffold/v4beta14');
  const dir = tmp();
  try {
    for (const v of SUPPORTED_API_VERSIONS) {
      writeFileSync(join(dir, 'skaffold.yaml'), `apiVersion: ${v}\nkind: Config\n`);
      const [c] = await loadSkaffoldConfigs({ dir });
      assert.equal(c.config.apiVersion, 'skaffold/v4beta14', v);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('remote requires go through the resolver, once per source; without one they are REMOTE_NOT_FOUND', async () => {
  const calls: string[] = [];
  const cs = await loadSkaffoldConfigs({
    dir: join(F, 'remote'),
    remote: { git: async (repo, ref) => { calls.push(`${repo}@${ref}`); return join(F, 'remote/checkout'); } },
  });
  assert.deepEqual(calls, ['https://github.com/example/shop@main']);
  assert.deepEqual(names(cs), ['shop', '(unnamed)']);
  assert.equal(cs[0].dir, join(F, 'remote/checkout/app'));
  assert.equal(cs[0].remote, 'https://github.com/example/shop@main');
  await rejectsWith(loadSkaffoldConfigs({ dir: join(F, 'remote') }), 'REMOTE_NOT_FOUND', /https:\/\/github.com\/example\/shop/);
  await rejectsWith(loadSkaffoldConfigs({ dir: join(F, 'remote'), remote: { git: async () => { throw new Error('clone failed: 404'); } } }),
    'REMOTE_NOT_FOUND', /^caching remote dependency https:\/\/github.com\/example\/shop@main: clone failed: 404$/);
});

test("extraRequires add a custom target type's Skaffold modules to the root", async () => {
  const sources: string[] = [];
  const cs = await loadSkaffoldConfigs({
    dir: join(F, 'custom-target/configuration'),
    remote: { googleCloudStorage: async s => { sources.push(s); return join(F, 'custom-target/remote-gcs'); } },
    extraRequires: [{ configs: ['terraformConfig'], googleCloudStorage: { source: 'gs://bucket/terraform/*', path: 'skaffold.yaml' } }],
  });
  assert.deepEqual(sources, ['gs://bucket/terraform/*']);
  assert.deepEqual(names(cs), ['terraformConfig', '(unnamed)']);
  assert.equal((cs[0].config.customActions as { name: string }[])[0].name, 'tf-deployer');
  await rejectsWith(loadSkaffoldConfigs({
    dir: join(F, 'custom-target/configuration'),
    extraRequires: [{ googleCloudStorage: { source: 'gs://bucket/terraform/*' } }],
  }), 'REMOTE_NOT_FOUND', /gs:\/\/bucket\/terraform\/\*/);
});

test('requires may not leave the source, lexically or through a symlink', async () => {
  const dir = tmp();
  try {
    write(dir, {
      'src/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nrequires:\n  - path: ../outside\n',
      'src/link/skaffold.yaml': '',
      'outside/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\n',
      'src2/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nrequires:\n  - path: linked\n',
      'src3/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nrequires:\n  - path: /etc\n',
    });
    symlinkSync(join(dir, 'outside'), join(dir, 'src2/linked'));
    await rejectsWith(loadSkaffoldConfigs({ dir: join(dir, 'src') }), 'INVALID_CONFIG', /required config path "..\/outside" points outside the source/);
    await rejectsWith(loadSkaffoldConfigs({ dir: join(dir, 'src2') }), 'INVALID_CONFIG', /resolves through a symlink to outside the source/);
    await rejectsWith(loadSkaffoldConfigs({ dir: join(dir, 'src3') }), 'INVALID_CONFIG', /points outside the source/);
    await rejectsWith(loadSkaffoldConfigs({ dir: join(dir, 'src'), file: '../outside/skaffold.yaml' }), 'INVALID_CONFIG', /points outside the source/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing dependency names both files', async () => {
  const dir = tmp();
  try {
    write(dir, { 'skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nrequires:\n  - path: services/api\n' });
    await rejectsWith(loadSkaffoldConfigs({ dir }), 'CONFIG_NOT_FOUND',
      /^could not find skaffold config file "services\/api" that is referenced as a dependency in config file "skaffold.yaml"$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('requires nesting is bounded at 32 levels', async () => {
  const dir = tmp();
  try {
    const files: Record<string, string> = {};
    let path = '';
    for (let i = 0; i <= 34; i++) {
      files[`${path}skaffold.yaml`] = `apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: level${i}\nrequires:\n  - path: d\n`;
      path += 'd/';
    }
    files[`${path}skaffold.yaml`] = 'apiVersion: skaffold/v4beta14\nkind: Config\n';
    write(dir, files);
    await rejectsWith(loadSkaffoldConfigs({ dir }), 'INVALID_CONFIG', /requires are nested more than 32 deep/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('at most 256 configs', async () => {
  const dir = tmp();
  try {
    const doc = (i: number) => `apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: c${i}\n`;
    write(dir, { 'skaffold.yaml': Array.from({ length: 257 }, (_, i) => doc(i)).join('---\n') });
    await rejectsWith(loadSkaffoldConfigs({ dir }), 'INVALID_CONFIG', /more than 256 configs/);
    write(dir, { 'skaffold.yaml': Array.from({ length: 256 }, (_, i) => doc(i)).join('---\n') });
    assert.equal((await loadSkaffoldConfigs({ dir })).length, 256);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a config name may not appear in two files', async () => {
  const dir = tmp();
  try {
    write(dir, {
      'skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: app\nrequires:\n  - path: sub\n',
      'sub/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmetadata:\n  name: app\n',
    });
    await rejectsWith(loadSkaffoldConfigs({ dir }), 'INVALID_CONFIG',
      /skaffold config named "app" found in multiple files: "skaffold.yaml" and "sub\/skaffold.yaml"/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('workInConfigDir: a root file in a subdirectory resolves its paths there (Cloud Deploy\'s --skaffold-file), still bounded by the source', async () => {
  const root = tmp();
  try {
    write(root, {
      'app/skaffold.yaml': 'apiVersion: skaffold/v4beta4\nkind: Config\nmanifests:\n  rawYaml: [k8s.yaml]\n',
      'app/k8s.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: c\n',
    });
    const [skaffold] = await loadSkaffoldConfigs({ dir: root, file: 'app/skaffold.yaml' });
    assert.equal(skaffold.dir, root, 'Skaffold itself resolves against its working directory');
    const [cd] = await loadSkaffoldConfigs({ dir: root, file: 'app/skaffold.yaml', workInConfigDir: true });
    assert.equal(cd.dir, join(root, 'app'));
    assert.equal(cd.root, root, 'the source stays the boundary');
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
