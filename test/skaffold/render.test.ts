import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, truncateSync, writeFileSync, chmodSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import YAML from 'yaml';
import {
  applyDeployParameters, customActionsOf, loadSkaffoldConfigs, renderManifests, SkaffoldError, verifyOf,
  type RenderOptions,
} from '../../src/skaffold/index.js';
import { rejectsWith, sourceTree } from '../helpers/skaffold.js';

const F = fileURLToPath(new URL('../../../test/fixtures/skaffold', import.meta.url));
const DIGEST = `sha256:${'a'.repeat(64)}`;
const IMAGES = [
  { image: 'us-docker.pkg.dev/demo/web/frontend', tag: `us-docker.pkg.dev/demo/web/frontend:v1@${DIGEST}` },
  { image: 'us-docker.pkg.dev/demo/web/backend', tag: 'us-docker.pkg.dev/demo/web/backend:v2' },
  { image: 'us-docker.pkg.dev/demo/web/app', tag: `us-docker.pkg.dev/demo/web/app:v3@${DIGEST}` },
];

async function render(dir: string, opts: RenderOptions = {}, load: Parameters<typeof loadSkaffoldConfigs>[0] | object = {}) {
  return renderManifests(await loadSkaffoldConfigs({ dir, ...load }), { images: IMAGES, ...opts });
}

const docs = (s: string) => YAML.parseAllDocuments(s).map(d => d.toJS() as Record<string, any>);

const tmp = (files: Record<string, string> = {}) => sourceTree(files, 'skaffold-render-');

const CONFIG = (rawYaml: string[]) => `apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml:\n${rawYaml.map(r => `    - "${r}"`).join('\n')}\n`;
const CM = (name: string) => `apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ${name}\n`;

test('render: configs in Skaffold order, documents joined by ---, artifact images replaced, text otherwise kept', async () => {
  const r = await render(join(F, 'multi-config'), {}, { profiles: ['prod'] });
  const ds = docs(r.manifests);
  assert.deepEqual(ds.map(d => `${d.kind}/${d.metadata.name}`), [
    'Deployment/backend', 'HorizontalPodAutoscaler/backend', 'ConfigMap/shared', 'Deployment/frontend', 'Service/frontend', 'PodDisruptionBudget/frontend',
  ]);
  const backend = ds[0].spec.template.spec;
  // Replaced by image name whatever the manifest's tag; a digest-pinned reference and other images stay.
  assert.equal(backend.initContainers[0].image, 'us-docker.pkg.dev/demo/web/backend:v2');
  assert.equal(backend.containers[0].image, 'us-docker.pkg.dev/demo/web/backend@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef');
  assert.equal(backend.containers[1].image, 'gcr.io/cloud-sql-connectors/cloud-sql-proxy:2.11.0');
  assert.equal(ds[3].spec.template.spec.containers[0].image, `us-docker.pkg.dev/demo/web/frontend:v1@${DIGEST}`);
  // Comments (deploy parameter markers) and quoting survive; the quoted digest stays quoted.
  assert.match(r.manifests, /replicas: 1 # from-param: \$\{replicas\}\n/);
  assert.match(r.manifests, /image: "us-docker.pkg.dev\/demo\/web\/backend@sha256:0123/);
  assert.match(r.manifests, /\n  maxReplicas: 5\n---\napiVersion: v1\nkind: ConfigMap\n/);
  assert.ok(r.manifests.endsWith('matchLabels: {app: frontend}\n'));
  assert.ok(r.log.includes('module "backend": rawYaml services/backend/k8s/prod/hpa.yaml'));
});

test('render without build artifacts leaves every image as written', async () => {
  const r = await renderManifests(await loadSkaffoldConfigs({ dir: join(F, 'multi-config') }));
  assert.match(r.manifests, /image: us-docker.pkg.dev\/demo\/web\/frontend:dev\n/);
});

test('deploy parameters apply to rendered manifests', async () => {
  const r = await render(join(F, 'multi-config'));
  const out = applyDeployParameters(r.manifests, { replicas: '3', tier: 'api', unused: 'x' });
  assert.match(out, /replicas: 3 # from-param: \$\{replicas\}\n/);
  assert.match(out, /value: "api" # from-param: \$\{tier\}\n/);
  assert.equal(out.replace('replicas: 3', 'replicas: 1').replace('"api"', '"web"'), r.manifests);
});

test('rawYaml globs are Go globs: * matches dot-files, ** is *, directories are walked, other files skipped', async () => {
  const dir = tmp({
    'skaffold.yaml': CONFIG(['k8s/*', 'k8s/**/deep.yaml', 'k8s/extra.tpl', 'k8s/a.yaml']),
    'k8s/a.yaml': CM('a'), 'k8s/b.yml': CM('b'), 'k8s/.hidden.yaml': CM('hidden'), 'k8s/notes.txt': 'not yaml',
    'k8s/extra.tpl': CM('tpl'), 'k8s/sub/c.json': '{"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "c"}}',
    'k8s/sub/deep.yaml': CM('deep'), 'k8s/sub/z/zz.yaml': CM('zz'),
  });
  try {
    const r = await render(dir);
    // Lexical order per directory, each file once (k8s/a.yaml is not repeated), the listed .tpl included.
    assert.deepEqual(docs(r.manifests).map(d => d.metadata.name), ['hidden', 'a', 'b', 'tpl', 'c', 'deep', 'zz']);
    assert.ok(r.log.includes('unnamed config[0]: refusing to deploy/delete non {json, yaml} file k8s/notes.txt'));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a missing rawYaml file or a glob matching nothing fails before rendering, as Skaffold validates them', async () => {
  const dir = join(F, 'missing-manifest');
  await rejectsWith(render(dir, {}, { profiles: ['missing-file'] }), 'MANIFEST_NOT_FOUND',
    /^invalid skaffold config: source: skaffold.yaml, module "app": Manifest file "k8s\/missing.yaml" referenced in skaffold config could not be found$/);
  await rejectsWith(render(dir, {}, { profiles: ['empty-glob'] }), 'MANIFEST_NOT_FOUND', /Manifest file "k8s\/\*.yml" referenced in skaffold config could not be found/);
  assert.equal(docs((await render(dir)).manifests).length, 1);
});

test('only the default k8s/*.yaml of a lone config may match nothing; remote configs are not checked', async () => {
  const r = await render(join(F, 'custom-target/configuration'));
  assert.equal(r.manifests, '');
  const remote = await render(join(F, 'remote'), { images: [{ image: 'us-docker.pkg.dev/demo/shop/app', tag: 'us-docker.pkg.dev/demo/shop/app:v9' }] },
    { remote: { git: async () => join(F, 'remote/checkout') } });
  // Knative services are on Skaffold's allowlist: the image is replaced there too.
  assert.equal(docs(remote.manifests)[0].spec.template.spec.containers[0].image, 'us-docker.pkg.dev/demo/shop/app:v9');
  assert.ok(remote.log.some(l => l.endsWith('k8s/not-there.yaml did not match any file')));
  const dir = tmp({ 'skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\n', 'k8s/app.yaml': CM('default') });
  try {
    assert.deepEqual(docs((await render(dir)).manifests).map(d => d.metadata.name), ['default']);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('invalid YAML in a manifest is INVALID_CONFIG naming the file', async () => {
  await rejectsWith(render(join(F, 'invalid-manifest')), 'INVALID_CONFIG', /^reading Kubernetes YAML from k8s\/bad.yaml: Flow sequence in block collection must be sufficiently indented and end with a \] at line 6, column 1$/);
  const dir = tmp({ 'skaffold.yaml': CONFIG(['list.yaml']), 'list.yaml': '- a\n- b\n' });
  try {
    await rejectsWith(render(dir), 'INVALID_CONFIG', /reading Kubernetes YAML from list.yaml: a manifest must be a mapping/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('rawYaml paths may not leave the source, through .. or a symlink', async () => {
  const root = tmp({ 'outside/secret.yaml': CM('secret'), 'outside/dir/x.yaml': CM('x') });
  const src = join(root, 'src');
  try {
    mkdirSync(join(src, 'k8s'), { recursive: true });
    writeFileSync(join(src, 'skaffold.yaml'), CONFIG(['../outside/*.yaml']));
    await rejectsWith(render(src), 'INVALID_CONFIG', /rawYaml entry "..\/outside\/\*.yaml" points outside the source/);
    symlinkSync(join(root, 'outside/secret.yaml'), join(src, 'k8s/link.yaml'));
    writeFileSync(join(src, 'skaffold.yaml'), CONFIG(['k8s/*.yaml']));
    await rejectsWith(render(src), 'INVALID_CONFIG', /rawYaml file "k8s\/link.yaml" resolves through a symlink to outside the source/);
    rmSync(join(src, 'k8s/link.yaml'));
    // A symlinked directory is not walked into (it counts as a file, and is not YAML)…
    symlinkSync(join(root, 'outside/dir'), join(src, 'k8s/linked-dir'));
    writeFileSync(join(src, 'k8s/app.yaml'), CM('app'));
    writeFileSync(join(src, 'skaffold.yaml'), CONFIG(['k8s/*']));
    const r = await render(src);
    assert.deepEqual(docs(r.manifests).map(d => d.metadata.name), ['app']);
    assert.ok(r.log.includes('unnamed config[0]: refusing to deploy/delete non {json, yaml} file k8s/linked-dir'));
    // …and one that looks like a manifest is refused.
    symlinkSync(join(root, 'outside/dir'), join(src, 'k8s/linked.yaml'));
    await rejectsWith(render(src), 'INVALID_CONFIG', /rawYaml file "k8s\/linked.yaml" resolves through a symlink to outside the source/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('manifests are capped at 64 MiB', async () => {
  const dir = tmp({ 'skaffold.yaml': CONFIG(['big.yaml']), 'big.yaml': '' });
  try {
    truncateSync(join(dir, 'big.yaml'), 65 * 1024 * 1024);
    await rejectsWith(render(dir), 'INVALID_CONFIG', /rendered manifests exceed 64 MiB \(at big.yaml\)/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('legacy v2beta configs render their deploy.kubectl manifests', async () => {
  const r = await render(join(F, 'legacy/kubectl'), {}, { profiles: ['patched'] });
  assert.deepEqual(docs(r.manifests).map(d => d.metadata.name), ['getting-started', 'extra']);
});

const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find(existsSync);

test('kustomize overlays render with kubectl kustomize, images replaced', { skip: kubectl ? false : 'kubectl is not installed' }, async () => {
  const env = { PATH: dirname(kubectl!) };
  const r = await render(join(F, 'kustomize'), { env });
  const [d] = docs(r.manifests);
  assert.equal(d.metadata.name, 'dev-app');
  assert.equal(d.metadata.labels.env, 'dev');
  assert.equal(d.spec.template.spec.containers[0].image, `us-docker.pkg.dev/demo/web/app:v3@${DIGEST}`);
  assert.ok(r.log.some(l => /kustomize overlays\/dev$/.test(l)));
  const legacy = await render(join(F, 'legacy/kustomize'), { env });
  assert.deepEqual(docs(legacy.manifests).map(x => x.metadata.name), ['from-kustomize']);
});

test('kustomize may not reach outside the source, nor run with unsafe build arguments', { skip: kubectl ? false : 'kubectl is not installed' }, async () => {
  const root = tmp({
    'outside/kustomization.yaml': 'resources: [cm.yaml]\n', 'outside/cm.yaml': CM('outside'),
    'src/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  kustomize:\n    paths: [overlay]\n',
    'src/overlay/kustomization.yaml': 'resources:\n  - ../../outside\n',
    'src2/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  kustomize:\n    paths: [.]\n    buildArgs: ["--enable-alpha-plugins --enable-exec"]\n',
    'src2/kustomization.yaml': 'resources: []\n',
    'src3/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  kustomize:\n    paths: [missing]\n',
  });
  try {
    await rejectsWith(render(join(root, 'src')), 'INVALID_CONFIG', /^kustomization reference "..\/outside" points outside the source$/);
    await rejectsWith(render(join(root, 'src2')), 'INVALID_CONFIG', /kustomize build argument "--enable-alpha-plugins" is not allowed/);
    await rejectsWith(render(join(root, 'src3')), 'MANIFEST_NOT_FOUND', /kustomize path "missing"/);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('helm releases need helm on the PATH', async () => {
  const empty = tmp();
  try {
    await rejectsWith(render(join(F, 'helm'), { env: { PATH: empty } }), 'TOOL_NOT_FOUND',
      /^rendering helm release "web" of unnamed config\[0\] requires helm, which is not on the PATH$/);
  } finally {
    rmSync(empty, { recursive: true, force: true });
  }
});

/** A `helm` that records its arguments (one invocation per line, tab-separated) and prints a manifest. */
function fakeHelm(body = ''): { bin: string; log: string; calls: () => string[][]; cleanup: () => void } {
  const bin = mkdtempSync(join(tmpdir(), 'fake-helm-'));
  const log = join(bin, 'calls.log');
  writeFileSync(join(bin, 'helm'), `#!/bin/sh
(IFS="$(printf '\\t')"; printf '%s\\n' "$*") >> '${log}'
${body}
if [ "$1" = template ]; then
  cat <<EOF
---
# Source: web/templates/deployment.yaml
apiVersion: apps/v1
kind: Deployment
metadata:
  name: $2
spec:
  template:
    spec:
      containers:
        - name: web
          image: us-docker.pkg.dev/demo/web/app:from-chart
EOF
fi
`);
  chmodSync(join(bin, 'helm'), 0o755);
  return {
    bin, log,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map(l => l.split('\t')) : []),
    cleanup: () => rmSync(bin, { recursive: true, force: true }),
  };
}

test('helm template is invoked as Skaffold does, legacy deploy.helm releases included, images replaced', async () => {
  const h = fakeHelm();
  try {
    const dir = join(F, 'helm');
    const r = await render(dir, { env: { PATH: `${h.bin}:/usr/bin:/bin` } });
    const chart = join(dir, 'charts/web');
    assert.deepEqual(h.calls(), [
      ['dep', 'build', chart, '--skip-refresh'],
      ['template', 'web', chart, '--skip-crds',
        '--set', 'ingress.enabled=true', '--set', 'replicas=3',
        '--set', `image.repository=us-docker.pkg.dev/demo/web/app`, '--set', `image.tag=v3@${DIGEST}`,
        '-f', join(dir, 'values/dev.yaml'), '--namespace', 'web-ns'],
      // deploy.helm's `web` is the same release as manifests.helm's; `worker` only exists there (and gets no flags).
      ['template', 'worker', chart, '--version', '1.2.3'],
    ]);
    const ds = docs(r.manifests);
    assert.deepEqual(ds.map(d => d.metadata.name), ['web', 'worker']);
    assert.equal(ds[0].spec.template.spec.containers[0].image, `us-docker.pkg.dev/demo/web/app:v3@${DIGEST}`);
    assert.match(r.manifests, /^# Source: web\/templates\/deployment.yaml\napiVersion: apps\/v1/);
  } finally {
    h.cleanup();
  }
});

test('a v2beta helm deployer with artifactOverrides renders through setValueTemplates', async () => {
  const h = fakeHelm();
  try {
    const dir = join(F, 'legacy/helm');
    await render(dir, { env: { PATH: `${h.bin}:/usr/bin:/bin` }, images: [{ image: 'gcr.io/demo/web', tag: 'gcr.io/demo/web:abc' }] });
    assert.deepEqual(h.calls()[1], ['template', 'web', join(dir, 'chart'), '--set', 'replicas=2', '--set', 'image=gcr.io/demo/web:abc']);
    assert.equal(h.calls().length, 2); // the legacy copy of the same release is not rendered twice
  } finally {
    h.cleanup();
  }
});

test('helm failures, timeouts and unsafe flags', async () => {
  const failing = fakeHelm('echo "Error: chart requires kubeVersion" >&2; exit 1');
  const slow = fakeHelm('sleep 5');
  const unsafe = tmp({
    'skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  helm:\n    flags:\n      template: ["--post-renderer=./evil.sh"]\n    releases:\n      - name: x\n        chartPath: chart\n',
    'chart/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 0.1.0\n',
  });
  try {
    await rejectsWith(render(join(F, 'helm'), { env: { PATH: `${failing.bin}:/usr/bin:/bin` } }), 'TOOL_FAILED',
      /^building helm dependencies of release "web": Error: chart requires kubeVersion$/);
    await rejectsWith(render(join(F, 'helm'), { env: { PATH: `${slow.bin}:/usr/bin:/bin` }, timeoutMs: 200 }), 'TOOL_FAILED',
      /did not finish within/);
    await rejectsWith(render(unsafe, { env: { PATH: `${failing.bin}:/usr/bin:/bin` } }), 'INVALID_CONFIG',
      /helm flag "--post-renderer=.\/evil.sh" is not allowed/);
  } finally {
    failing.cleanup(); slow.cleanup();
    rmSync(unsafe, { recursive: true, force: true });
  }
});

test('helm charts may not bring in files from outside the source', async () => {
  const h = fakeHelm();
  const root = tmp({
    'outside/secret.txt': 'operator secret',
    'src/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  helm:\n    releases:\n      - name: x\n        chartPath: chart\n',
    'src/chart/Chart.yaml': 'apiVersion: v2\nname: x\nversion: 0.1.0\n',
    'src2/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  helm:\n    releases:\n      - name: x\n        remoteChart: ../outside\n',
  });
  try {
    symlinkSync(join(root, 'outside/secret.txt'), join(root, 'src/chart/secret.txt'));
    const env = { PATH: `${h.bin}:/usr/bin:/bin` };
    await rejectsWith(render(join(root, 'src'), { env }), 'INVALID_CONFIG', /^helm chart "chart\/secret.txt" resolves through a symlink to outside the source$/);
    await rejectsWith(render(join(root, 'src2'), { env }), 'INVALID_CONFIG', /remoteChart "..\/outside" of helm release "x" points outside the source/);
    assert.deepEqual(h.calls(), []);
  } finally {
    h.cleanup();
    rmSync(root, { recursive: true, force: true });
  }
});

test('custom actions and verify tests merge across configs; duplicates fail as in Skaffold', async () => {
  const cs = await loadSkaffoldConfigs({ dir: join(F, 'multi-config'), profiles: ['prod'] });
  assert.deepEqual([...customActionsOf(cs).keys()], ['warm-cache']);
  assert.deepEqual(customActionsOf(cs).get('warm-cache'), [{ name: 'warm', image: 'busybox', command: ['sh', '-c', 'echo warming'] }]);
  assert.deepEqual(verifyOf(cs).map(v => `${v.name}/${v.container.name}`), ['backend-ready/backend-probe', 'smoke/smoke']);

  const dup = await loadSkaffoldConfigs({ dir: join(F, 'bad-config'), file: 'duplicate-actions.yaml' });
  assert.throws(() => customActionsOf(dup), (e: unknown) => e instanceof SkaffoldError && e.kind === 'INVALID_CONFIG' &&
    e.message === 'invalid skaffold config: found duplicate custom action notify. Custom action names must be unique');
  assert.deepEqual(customActionsOf(dup, { allowDuplicates: true }).get('notify'), [{ name: 'notify', image: 'busybox' }]);
  await rejectsWith(renderManifests(dup), 'INVALID_CONFIG', /found duplicate custom action notify/);
});
