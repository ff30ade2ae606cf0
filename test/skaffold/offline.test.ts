// The render never reaches the network and never reads or runs anything outside the source: every remote
// reference (kustomize paths and kustomization references, helm charts, repositories, values files and chart
// dependencies) fails the render naming it before any tool runs, and the tools themselves run in an offline
// sandbox environment. "No network attempt" is proven with a recording HTTP server on 127.0.0.1 used as the
// "remote" (it must see no request, proxied or direct) and with fake kustomize/helm binaries that record
// whether they ever ran.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import {
  loadSkaffoldConfigs, renderManifests, offlineEnv, DEAD_PROXY,
} from '../../src/skaffold/index.js';
import { makeSandbox, runTool } from '../../src/skaffold/tools.js';
import { isRemoteRef } from '../../src/skaffold/paths.js';
import { recordingServer, rejectsWith, sourceTree, type RecordingServer } from '../helpers/skaffold.js';

let remote: RecordingServer;
let hits: string[] = [];
let REMOTE = '';

before(async () => {
  remote = await recordingServer();
  hits = remote.hits;
  REMOTE = remote.host;
});
after(() => remote.close());

const tmp = (files: Record<string, string> = {}) => sourceTree(files, 'skaffold-offline-');

/**
 * Fake `kustomize` and `helm` that record each call (arguments, tab-separated) and the environment they got,
 * and print one manifest.
 */
function fakeTools(): { path: string; calls: () => string[][]; reset: () => void; env: () => Record<string, string>; cleanup: () => void } {
  const bin = mkdtempSync(join(tmpdir(), 'fake-tools-'));
  const log = join(bin, 'calls.log'), envFile = join(bin, 'env.json');
  for (const tool of ['kustomize', 'helm']) {
    writeFileSync(join(bin, tool), `#!/bin/sh
(IFS="$(printf '\\t')"; printf '%s\\t%s\\n' "${tool}" "$*") >> '${log}'
node -e 'require("fs").writeFileSync(process.argv[1], JSON.stringify(process.env))' '${envFile}'
cp "$KUBECONFIG" '${bin}/kubeconfig'
if [ "$1" = build ] || [ "$1" = template ]; then
  printf 'apiVersion: v1\\nkind: ConfigMap\\nmetadata:\\n  name: from-${tool}\\n'
fi
`);
    chmodSync(join(bin, tool), 0o755);
  }
  return {
    path: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`,
    calls: () => (existsSync(log) ? readFileSync(log, 'utf8').trim().split('\n').map(l => l.split('\t')) : []),
    reset: () => rmSync(log, { force: true }),
    env: () => JSON.parse(readFileSync(envFile, 'utf8')) as Record<string, string>,
    cleanup: () => rmSync(bin, { recursive: true, force: true }),
  };
}

const SKAFFOLD_KUSTOMIZE = (paths = ['.'], buildArgs: string[] = []) =>
  `apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  kustomize:\n    paths: ${JSON.stringify(paths)}\n${buildArgs.length ? `    buildArgs: ${JSON.stringify(buildArgs)}\n` : ''}`;
const CM = 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: local\n';

async function render(dir: string, path: string) {
  return renderManifests(await loadSkaffoldConfigs({ dir }), { env: { PATH: path } });
}

test('remote references are recognised in every form kustomize, git and helm accept', () => {
  for (const r of ['http://h/x', 'HTTPS://h/x', 'ssh://git@h/r.git', 'file:///etc', 'oci://h/c', 'git://h/r', 's3://b/k',
    'git::https://h/r', 'gh:org/repo', 'git@github.com:org/repo.git', 'user@host:path/repo', 'github.com/org/repo//dir?ref=v1',
    'GitHub.com/org/repo', 'github.com:org/repo', 'dev.azure.com/org/project/_git/repo', 'example.com/org/repo?ref=main',
    'x?version=1&ref=2']) {
    assert.ok(isRemoteRef(r), r);
  }
  for (const l of ['base', '../base', 'overlays/dev', 'cm.yaml', 'a.b/c', 'deploy.git.yaml', 'my-github.com/x']) assert.ok(!isRemoteRef(l), l);
});

test('tools run in an offline sandbox: nothing of Gantry\'s environment but PATH, a private HOME, dead proxies, git file:// only', async () => {
  const t = fakeTools();
  const dir = tmp({ 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(), 'kustomization.yaml': 'resources: [cm.yaml]\n', 'cm.yaml': CM });
  try {
    const r = await renderManifests(await loadSkaffoldConfigs({ dir }), {
      env: {
        PATH: t.path, GANTRY_SECRET: 'operator-secret', HTTPS_PROXY: 'http://corp-proxy:3128', NO_PROXY: '*',
        KUBECONFIG: '/home/op/.kube/config', HELM_REPOSITORY_CONFIG: '/home/op/.config/helm/repositories.yaml',
        GIT_CONFIG_GLOBAL: '/home/op/.gitconfig', HOME: '/home/op', GOOGLE_APPLICATION_CREDENTIALS: '/home/op/key.json',
      },
    });
    assert.match(r.manifests, /name: from-kustomize/);
    const env = t.env();
    for (const k of ['GANTRY_SECRET', 'NO_PROXY', 'no_proxy', 'GOOGLE_APPLICATION_CREDENTIALS']) assert.equal(env[k], undefined, k);
    for (const k of ['HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY', 'http_proxy', 'https_proxy', 'all_proxy']) assert.equal(env[k], DEAD_PROXY, k);
    assert.equal(env.PATH, t.path);
    assert.match(readFileSync(join(t.path.split(':')[0], 'kubeconfig'), 'utf8'), /^    server: https:\/\/127\.0\.0\.1:9$/m);
    assert.equal(env.GIT_ALLOW_PROTOCOL, 'file');
    assert.equal(env.GIT_TERMINAL_PROMPT, '0');
    assert.equal(env.GIT_CONFIG_NOSYSTEM, '1');
    assert.equal(env.GIT_CONFIG_GLOBAL, '/dev/null');
    assert.match(env.HOME, /gantry-render-/);
    for (const k of ['KUBECONFIG', 'HELM_CONFIG_HOME', 'HELM_CACHE_HOME', 'HELM_DATA_HOME', 'HELM_PLUGINS', 'HELM_REPOSITORY_CONFIG', 'HELM_REPOSITORY_CACHE', 'HELM_REGISTRY_CONFIG', 'XDG_CONFIG_HOME', 'TMPDIR']) {
      assert.ok(env[k].startsWith(env.HOME + '/'), `${k}=${env[k]}`);
    }
    // The sandbox is this render's alone, and is gone once the render ends.
    assert.equal(existsSync(env.HOME), false);
  } finally {
    t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('a tool is never run outside the offline environment', async () => {
  await assert.rejects(runTool('/bin/true', [], { cwd: tmpdir(), env: { PATH: '/usr/bin:/bin' }, timeoutMs: 1000, maxBuffer: 1000 }, 'true'),
    /render tools run only in the offline environment/);
});

test('git in the offline environment refuses every transport but file://, before connecting', { skip: existsSync('/usr/bin/git') ? false : 'git is not installed' }, async () => {
  const home = tmp();
  hits.length = 0;
  try {
    for (const url of [`http://${REMOTE}/org/repo.git`, `https://${REMOTE}/org/repo.git`, `ssh://git@${REMOTE}/repo.git`, `git://${REMOTE}/repo.git`]) {
      await assert.rejects(runTool('/usr/bin/git', ['ls-remote', '--', url], { cwd: home, env: offlineEnv('/usr/bin:/bin', home), timeoutMs: 10_000, maxBuffer: 1 << 20 }, `git ls-remote ${url}`),
        /transport '(http|https|ssh|git)' not allowed/);
    }
    assert.deepEqual(hits, []);
  } finally {
    rmSync(home, { recursive: true, force: true });
  }
});

const kubectl = ['/usr/bin/kubectl', '/usr/local/bin/kubectl'].find(existsSync);

test('even if a scheme-less git base got past the checks, kustomize in the sandbox could not fetch it', { skip: kubectl ? false : 'kubectl is not installed' }, async () => {
  const sandbox = await makeSandbox('/usr/bin:/bin');
  const dir = tmp({ 'kustomization.yaml': 'resources:\n  - github.com/org/repo//deploy?ref=v1\n' });
  try {
    // kustomize hands the clone to git, which refuses the https transport before connecting.
    await assert.rejects(runTool(kubectl!, ['kustomize', dir], { cwd: dir, env: sandbox.env, timeoutMs: 30_000, maxBuffer: 1 << 20 }, 'kubectl kustomize'),
      /transport 'https' not allowed/);
  } finally {
    await sandbox.dispose();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('remote kustomize paths and kustomization references fail the render naming them, before kustomize runs and with no request', async () => {
  const t = fakeTools();
  hits.length = 0;
  const U = `http://${REMOTE}`;
  const cases: [string, Record<string, string>, RegExp][] = [
    ['skaffold path', { 'skaffold.yaml': SKAFFOLD_KUSTOMIZE([`${U}/kustomization`]) }, /^kustomize path "http:\/\/127\.0\.0\.1:\d+\/kustomization" \(unnamed config\[0\], skaffold\.yaml\) is remote: Gantry renders offline/],
    ['skaffold github path', { 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(['github.com/org/repo//deploy?ref=v1']) }, /kustomize path "github\.com\/org\/repo\/\/deploy\?ref=v1".* is remote/],
    ['http resource', { 'kustomization.yaml': `resources:\n  - ${U}/cm.yaml\n` }, /^kustomization reference "http:\/\/127\.0\.0\.1:\d+\/cm\.yaml" \(in kustomization\.yaml\) is remote: Gantry renders offline and never fetches anything from the network$/],
    ['https resource', { 'kustomization.yaml': `resources:\n  - https://${REMOTE}/cm.yaml\n` }, /reference "https:\/\/127\.0\.0\.1:\d+\/cm\.yaml" .* is remote/],
    ['github base', { 'kustomization.yaml': 'resources:\n  - github.com/org/repo//deploy?ref=v1\n' }, /reference "github\.com\/org\/repo\/\/deploy\?ref=v1" .* is remote/],
    ['scp-like', { 'kustomization.yaml': 'resources:\n  - git@github.com:org/repo.git//deploy\n' }, /reference "git@github\.com:org\/repo\.git\/\/deploy" .* is remote/],
    ['ssh', { 'kustomization.yaml': `bases:\n  - ssh://git@${REMOTE}/org/repo.git\n` }, /reference "ssh:\/\/git@127\.0\.0\.1:\d+\/org\/repo\.git" .* is remote/],
    ['file:// repo', { 'kustomization.yaml': 'components:\n  - file:///etc\n' }, /reference "file:\/\/\/etc" .* is remote/],
    ['go-getter', { 'kustomization.yaml': `resources:\n  - git::${U}/org/repo\n` }, /reference "git::http:.*" .* is remote/],
    ['crds', { 'kustomization.yaml': `crds:\n  - ${U}/crd.yaml\n` }, /reference "http:.*\/crd\.yaml" .* is remote/],
    ['configurations', { 'kustomization.yaml': `configurations:\n  - ${U}/conf.yaml\n` }, /reference "http:.*\/conf\.yaml" .* is remote/],
    ['openapi', { 'kustomization.yaml': `openapi:\n  path: ${U}/schema.json\n` }, /reference "http:.*\/schema\.json" .* is remote/],
    ['patches', { 'kustomization.yaml': `patches:\n  - path: ${U}/patch.yaml\n` }, /reference "http:.*\/patch\.yaml" .* is remote/],
    ['patchesStrategicMerge', { 'kustomization.yaml': `patchesStrategicMerge:\n  - ${U}/psm.yaml\n` }, /reference "http:.*\/psm\.yaml" .* is remote/],
    ['patchesJson6902', { 'kustomization.yaml': `patchesJson6902:\n  - path: ${U}/j.yaml\n    target: {kind: ConfigMap, name: x}\n` }, /reference "http:.*\/j\.yaml" .* is remote/],
    ['replacements', { 'kustomization.yaml': `replacements:\n  - path: ${U}/r.yaml\n` }, /reference "http:.*\/r\.yaml" .* is remote/],
    ['configMapGenerator', { 'kustomization.yaml': `configMapGenerator:\n  - name: c\n    files: [key=${U}/secret]\n` }, /reference "http:.*\/secret" .* is remote/],
    ['secretGenerator', { 'kustomization.yaml': `secretGenerator:\n  - name: s\n    envs: [${U}/.env]\n` }, /reference "http:.*\/\.env" .* is remote/],
    ['transformer config', { 'kustomization.yaml': 'transformers: [t.yaml]\n', 't.yaml': `apiVersion: builtin\nkind: PatchTransformer\nmetadata:\n  name: p\npath: ${U}/p.yaml\n` }, /reference "http:.*\/p\.yaml" \(in "t\.yaml"\) is remote/],
    ['in a base', { 'kustomization.yaml': 'resources: [base]\n', 'base/kustomization.yaml': `resources:\n  - ${U}/deep.yaml\n` }, /reference "http:.*\/deep\.yaml" \(in base\/kustomization\.yaml\) is remote/],
  ];
  try {
    for (const [what, files, message] of cases) {
      const dir = tmp({ 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(), ...files });
      try {
        await rejectsWith(render(dir, t.path), 'INVALID_CONFIG', message).catch(e => { throw new Error(`${what}: ${(e as Error).message}`); });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    // A local directory that happens to be named like a git URL is refused too: kustomize tries it as a repository first.
    const named = tmp({ 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(), 'kustomization.yaml': 'resources: [github.com/org/repo]\n', 'github.com/org/repo/kustomization.yaml': 'resources: []\n' });
    try {
      await rejectsWith(render(named, t.path), 'INVALID_CONFIG', /reference "github\.com\/org\/repo" .* is remote/);
    } finally {
      rmSync(named, { recursive: true, force: true });
    }
    assert.deepEqual(t.calls(), [], 'kustomize never ran');
    // An existing file is read as a file whatever its name (only a URL with a scheme would be fetched).
    const file = tmp({ 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(), 'kustomization.yaml': 'resources: [team@v1.yaml]\n', 'team@v1.yaml': CM });
    try {
      assert.match((await render(file, t.path)).manifests, /from-kustomize/);
    } finally {
      rmSync(file, { recursive: true, force: true });
    }
    assert.deepEqual(hits, [], 'nothing reached the "remote" server');
  } finally {
    t.cleanup();
  }
});

test('a kustomization reference missing from the source is refused before kustomize could fetch it as a remote', async () => {
  const t = fakeTools();
  const dir = tmp({ 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(['overlay']), 'overlay/kustomization.yaml': 'resources: [../base]\n', 'base/kustomization.yaml': 'resources:\n  - cm.yaml\n  - org/repo/deploy\n', 'base/cm.yaml': CM });
  try {
    await rejectsWith(render(dir, t.path), 'MANIFEST_NOT_FOUND',
      /^kustomization reference "org\/repo\/deploy" \(in base\/kustomization\.yaml\) is not a file or directory in the source; kustomize would try to fetch it as a remote git repository, and Gantry renders offline/);
    assert.deepEqual(t.calls(), []);
  } finally {
    t.cleanup();
    rmSync(dir, { recursive: true, force: true });
  }
});

test('kustomize helm inflation, plugins, KRM functions and build arguments that enable them are refused', async () => {
  const t = fakeTools();
  hits.length = 0;
  const cases: [string, Record<string, string>, RegExp][] = [
    ['--enable-helm', { 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(['.'], ['--enable-helm']) }, /kustomize build argument "--enable-helm" is not allowed/],
    ['--enable-alpha-plugins', { 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(['.'], ['--enable-alpha-plugins --enable-exec']) }, /kustomize build argument "--enable-alpha-plugins" is not allowed/],
    ['stray argument', { 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(['.'], [`--stack-trace http://${REMOTE}/k`]) }, /kustomize build argument "http:\/\/127\.0\.0\.1:\d+\/k" is not allowed/],
    ['load restrictor', { 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(['.'], ['--load-restrictor LoadRestrictionsNone']) }, /"--load-restrictor LoadRestrictionsNone" is not allowed/],
    ['helmCharts', { 'kustomization.yaml': `helmCharts:\n  - name: redis\n    repo: http://${REMOTE}/charts\n    version: 1.0.0\n` }, /^kustomization "kustomization\.yaml": helmCharts \(chart "http:\/\/127\.0\.0\.1:\d+\/charts\/redis"\) are not supported: kustomize would pull charts and run helm itself \(Gantry renders offline/],
    ['HelmChartInflationGenerator', { 'kustomization.yaml': 'generators: [helm.yaml]\n', 'helm.yaml': `apiVersion: builtin\nkind: HelmChartInflationGenerator\nmetadata:\n  name: h\nchartName: redis\nchartRepoUrl: http://${REMOTE}/charts\n` }, /kustomize plugin config "helm\.yaml": HelmChartInflationGenerator is not supported/],
    ['exec function', { 'kustomization.yaml': 'generators:\n  - |\n    apiVersion: example.com/v1\n    kind: Gen\n    metadata:\n      name: g\n      annotations:\n        config.kubernetes.io/function: |\n          exec:\n            path: ./pwn.sh\n' }, /KRM functions \(exec and container plugins\) are not run/],
    ['container function', { 'kustomization.yaml': 'transformers: [fn.yaml]\n', 'fn.yaml': 'apiVersion: example.com/v1\nkind: Fn\nmetadata:\n  name: f\n  annotations:\n    config.kubernetes.io/function: |\n      container:\n        image: evil\n' }, /KRM functions/],
    ['external plugin', { 'kustomization.yaml': 'generators: [gen]\n', 'gen/kustomization.yaml': 'resources: [plugin.yaml]\n', 'gen/plugin.yaml': 'apiVersion: someteam.example.com/v1\nkind: SecretsFromVault\nmetadata:\n  name: v\n' }, /"SecretsFromVault" is not a built-in generator or transformer; external plugins \(exec, Go, container\) are not run/],
    ['duplicate keys', { 'kustomization.yaml': 'resources: [cm.yaml]\nresources: [https://example.com/x.yaml]\n', 'cm.yaml': CM }, /^kustomization "kustomization\.yaml" is not valid YAML: Map keys must be unique/],
    ['alias bomb', { 'kustomization.yaml': `a: &a [x,x,x,x,x,x,x,x,x,x]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\nc: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\ne: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n` }, /is not valid YAML: Excessive alias count/],
  ];
  try {
    for (const [what, files, message] of cases) {
      const dir = tmp({ 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(), 'kustomization.yaml': 'resources: []\n', ...files });
      try {
        await rejectsWith(render(dir, t.path), 'INVALID_CONFIG', message).catch(e => { throw new Error(`${what}: ${(e as Error).message}`); });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.deepEqual(t.calls(), []);
    assert.deepEqual(hits, []);
  } finally {
    t.cleanup();
  }
});

test('kustomizations are bounded in depth, and no symlink below them may lead out of the source', async () => {
  const t = fakeTools();
  const files: Record<string, string> = { 'skaffold.yaml': SKAFFOLD_KUSTOMIZE(['k0']) };
  for (let i = 0; i < 70; i++) files[`k${i}/kustomization.yaml`] = `resources: [../k${i + 1}]\n`;
  files['k70/kustomization.yaml'] = 'resources: []\n';
  const deep = tmp(files);
  const root = tmp({ 'outside/secret.txt': 'operator secret', 'src/skaffold.yaml': SKAFFOLD_KUSTOMIZE(['app']), 'src/app/kustomization.yaml': 'resources: [cm.yaml]\n', 'src/app/cm.yaml': CM });
  try {
    await rejectsWith(render(deep, t.path), 'INVALID_CONFIG', /^kustomizations are nested more than 64 deep \(at "k65"\)$/);
    // Not even referenced by the kustomization: kustomize follows symlinks, so none may leave the source.
    symlinkSync(join(root, 'outside/secret.txt'), join(root, 'src/app/notes.txt'));
    await rejectsWith(render(join(root, 'src'), t.path), 'INVALID_CONFIG', /^kustomization directory "app\/notes\.txt" resolves through a symlink to outside the source$/);
    assert.deepEqual(t.calls(), []);
  } finally {
    t.cleanup();
    rmSync(deep, { recursive: true, force: true });
    rmSync(root, { recursive: true, force: true });
  }
});

const HELM = (release: string, flags = '') =>
  `apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  helm:\n${flags}    releases:\n      - name: web\n${release.split('\n').map(l => `        ${l}`).join('\n')}\n`;
const CHART = 'apiVersion: v2\nname: web\nversion: 0.1.0\n';

test('remote helm charts, repositories, values files and dependencies fail the render naming them, before helm runs and with no request', async () => {
  const t = fakeTools();
  hits.length = 0;
  const U = `http://${REMOTE}`;
  const cases: [string, Record<string, string>, RegExp][] = [
    ['remoteChart URL', { 'skaffold.yaml': HELM(`remoteChart: ${U}/web-1.0.0.tgz`) }, /^remoteChart "http:\/\/127\.0\.0\.1:\d+\/web-1\.0\.0\.tgz" of helm release "web" is remote: Gantry renders offline/],
    ['remoteChart oci', { 'skaffold.yaml': HELM(`remoteChart: oci://${REMOTE}/charts/web`) }, /^remoteChart "oci:\/\/127\.0\.0\.1:\d+\/charts\/web" of helm release "web" is remote/],
    ['remoteChart alias', { 'skaffold.yaml': HELM('remoteChart: bitnami/redis') }, /^remoteChart "bitnami\/redis" of helm release "web" is not a chart in the source: it would be pulled from a chart repository, and Gantry renders offline/],
    ['repo', { 'skaffold.yaml': HELM(`remoteChart: redis\nrepo: ${U}/charts`) }, /^chart repository "http:\/\/127\.0\.0\.1:\d+\/charts" of helm release "web" is remote/],
    ['values URL', { 'skaffold.yaml': HELM(`chartPath: chart\nvaluesFiles: [${U}/values.yaml]`), 'chart/Chart.yaml': CHART }, /^values file "http:\/\/127\.0\.0\.1:\d+\/values\.yaml" of helm release "web" is remote/],
    ['dependency', { 'skaffold.yaml': HELM('chartPath: chart'), 'chart/Chart.yaml': `${CHART}dependencies:\n  - name: redis\n    version: 1.0.0\n    repository: ${U}/charts\n` },
      /^helm chart dependency "redis" of release "web" comes from repository "http:\/\/127\.0\.0\.1:\d+\/charts" and is not vendored under chart\/charts\/: Gantry renders offline and never downloads charts/],
    ['oci dependency', { 'skaffold.yaml': HELM('chartPath: chart'), 'chart/Chart.yaml': `${CHART}dependencies:\n  - name: redis\n    version: 1.0.0\n    repository: oci://${REMOTE}/charts\n` }, /repository "oci:.*" and is not vendored/],
    ['requirements.yaml', { 'skaffold.yaml': HELM('chartPath: chart'), 'chart/Chart.yaml': 'apiVersion: v1\nname: web\nversion: 0.1.0\n', 'chart/requirements.yaml': `dependencies:\n  - name: redis\n    version: 1.0.0\n    repository: "@stable"\n` }, /dependency "redis" of release "web" comes from repository "@stable" and is not vendored/],
    ['lock file', { 'skaffold.yaml': HELM('chartPath: chart'), 'chart/Chart.yaml': CHART, 'chart/Chart.lock': `dependencies:\n- name: redis\n  repository: ${U}/charts\n  version: 1.0.0\ndigest: sha256:0\n` }, /dependency "redis" of release "web" comes from repository "http:.*\/charts" and is not vendored/],
    ['nested dependency', { 'skaffold.yaml': HELM('chartPath: chart'), 'chart/Chart.yaml': `${CHART}dependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n`, 'lib/Chart.yaml': `apiVersion: v2\nname: lib\nversion: 0.1.0\ndependencies:\n  - name: redis\n    version: 1.0.0\n    repository: ${U}\n` }, /dependency "redis" of release "web" comes from repository "http:.*" and is not vendored under lib\/charts\//],
    ['--dependency-update', { 'skaffold.yaml': HELM('chartPath: chart', '    flags:\n      template: ["--dependency-update"]\n'), 'chart/Chart.yaml': CHART }, /helm flag "--dependency-update" is not allowed/],
    ['--enable-dns', { 'skaffold.yaml': HELM('chartPath: chart', '    flags:\n      template: ["--enable-dns"]\n'), 'chart/Chart.yaml': CHART }, /helm flag "--enable-dns" is not allowed/],
    ['--repo', { 'skaffold.yaml': HELM('chartPath: chart', `    flags:\n      global: ["--repo=${U}"]\n`), 'chart/Chart.yaml': CHART }, /helm flag "--repo=http:.*" is not allowed/],
    ['stray chart', { 'skaffold.yaml': HELM('chartPath: chart', `    flags:\n      template: ["--skip-tests", "${U}/other.tgz"]\n`), 'chart/Chart.yaml': CHART }, /helm flag "http:.*\/other\.tgz" is not allowed \(helm would take it as a chart or a release name\)/],
    ['useHelmSecrets', { 'skaffold.yaml': HELM('chartPath: chart\nuseHelmSecrets: true'), 'chart/Chart.yaml': CHART }, /sets useHelmSecrets: the helm-secrets plugin decrypts with the operator's keys/],
  ];
  try {
    for (const [what, files, message] of cases) {
      const dir = tmp(files);
      try {
        await rejectsWith(render(dir, t.path), 'INVALID_CONFIG', message).catch(e => { throw new Error(`${what}: ${(e as Error).message}`); });
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.deepEqual(t.calls(), [], 'helm never ran');
    assert.deepEqual(hits, []);
  } finally {
    t.cleanup();
  }
});

test('nothing in a helm release can be taken by helm as a flag: names, charts and flag values', async () => {
  const t = fakeTools();
  const cases: [Record<string, string>, RegExp][] = [
    // `helm template --post-renderer=./pwn.sh chart` would run ./pwn.sh on the host.
    [{ 'skaffold.yaml': HELM('chartPath: chart', '    flags:\n      template: ["chart"]\n').replace('name: web', 'name: "--post-renderer=./pwn.sh"'), 'chart/Chart.yaml': CHART },
      /helm flag "chart" is not allowed \(helm would take it as a chart or a release name\)/],
    [{ 'skaffold.yaml': HELM('chartPath: chart').replace('name: web', 'name: "--post-renderer=./pwn.sh"'), 'chart/Chart.yaml': CHART },
      /^helm release name "--post-renderer=.\/pwn.sh" of unnamed config\[0\] is invalid/],
    [{ 'skaffold.yaml': HELM('remoteChart: "--post-renderer=./pwn.sh"') }, /^remoteChart "--post-renderer=.\/pwn.sh" of helm release "web" is not a chart in the source/],
  ];
  try {
    for (const [files, message] of cases) {
      const dir = tmp({ ...files, 'pwn.sh': '#!/bin/sh\ntouch pwned\n' });
      try {
        await rejectsWith(render(dir, t.path), 'INVALID_CONFIG', message);
        assert.equal(existsSync(join(dir, 'pwned')), false);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    }
    assert.deepEqual(t.calls(), []);
  } finally {
    t.cleanup();
  }
});

test('helm dep build runs (with --skip-refresh) only when every dependency is a file:// chart of the source', async () => {
  const t = fakeTools();
  const root = tmp({
    'outside/Chart.yaml': 'apiVersion: v2\nname: outside\nversion: 0.1.0\n',
    'local/skaffold.yaml': HELM('chartPath: chart'),
    'local/chart/Chart.yaml': `${CHART}dependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n`,
    'local/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\n',
    'vendored/skaffold.yaml': HELM('chartPath: chart'),
    'vendored/chart/Chart.yaml': `${CHART}dependencies:\n  - name: redis\n    version: 1.0.0\n    repository: https://charts.example.com\n  - name: pg\n    version: 2.0.0\n    repository: oci://registry.example.com/charts\n`,
    'vendored/chart/charts/redis/Chart.yaml': 'apiVersion: v2\nname: redis\nversion: 1.0.0\n',
    'vendored/chart/charts/pg-2.0.0.tgz': 'not really a tarball',
    'escape/skaffold.yaml': HELM('chartPath: chart'),
    'escape/chart/Chart.yaml': `${CHART}dependencies:\n  - name: outside\n    version: 0.1.0\n    repository: file://../../outside\n`,
    'linked/skaffold.yaml': HELM('chartPath: chart'),
    'linked/chart/Chart.yaml': `${CHART}dependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../lib\n`,
    'linked/lib/Chart.yaml': 'apiVersion: v2\nname: lib\nversion: 0.1.0\n',
    'missing/skaffold.yaml': HELM('chartPath: chart'),
    'missing/chart/Chart.yaml': `${CHART}dependencies:\n  - name: lib\n    version: 0.1.0\n    repository: file://../nope\n`,
  });
  try {
    symlinkSync(join(root, 'outside/Chart.yaml'), join(root, 'linked/lib/values.yaml'));
    const local = await render(join(root, 'local'), t.path);
    assert.deepEqual(t.calls().map(c => c.slice(0, 3).concat(c.slice(3).filter(a => a === '--skip-refresh'))), [
      ['helm', 'dep', 'build', '--skip-refresh'], ['helm', 'template', 'web'],
    ]);
    assert.ok(local.log.includes('unnamed config[0]: helm dep build chart --skip-refresh'));
    t.reset();
    const vendored = await render(join(root, 'vendored'), t.path);
    assert.deepEqual(t.calls().map(c => c.slice(0, 3)), [['helm', 'template', 'web']]);
    assert.ok(vendored.log.includes('unnamed config[0]: helm dep build chart skipped: the chart has dependencies from remote repositories (vendored under charts/), which it would download again'));
    await rejectsWith(render(join(root, 'escape'), t.path), 'INVALID_CONFIG', /^helm chart dependency "..\/outside" points outside the source$/);
    await rejectsWith(render(join(root, 'linked'), t.path), 'INVALID_CONFIG', /^helm chart "lib\/values\.yaml" resolves through a symlink to outside the source$/);
    await rejectsWith(render(join(root, 'missing'), t.path), 'MANIFEST_NOT_FOUND', /^helm chart dependency "lib" of release "web" \(file:\/\/..\/nope\) is not a chart directory in the source$/);
  } finally {
    t.cleanup();
    rmSync(root, { recursive: true, force: true });
  }
});

test('the config file must be a regular file inside the source: no .., absolute path, symlink out, FIFO, alias bomb or deep nesting', async () => {
  const root = tmp({ 'outside/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\n', 'src/skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\n' });
  const src = join(root, 'src');
  try {
    await rejectsWith(loadSkaffoldConfigs({ dir: src, file: '../../../../../../etc/passwd' }), 'INVALID_CONFIG', /^configuration file "..\/..\/..\/..\/..\/..\/etc\/passwd" points outside the source$/);
    await rejectsWith(loadSkaffoldConfigs({ dir: src, file: '/etc/passwd' }), 'INVALID_CONFIG', /^configuration file "\/etc\/passwd" points outside the source$/);
    symlinkSync(join(root, 'outside/skaffold.yaml'), join(src, 'linked.yaml'));
    await rejectsWith(loadSkaffoldConfigs({ dir: src, file: 'linked.yaml' }), 'INVALID_CONFIG', /^configuration file "linked.yaml" resolves through a symlink to outside the source$/);
    writeFileSync(join(src, 'bomb.yaml'), `apiVersion: skaffold/v4beta14\nkind: Config\n.a: &a [x,x,x,x,x,x,x,x,x,x]\n.b: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a,*a]\n.c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b,*b]\n.d: &d [*c,*c,*c,*c,*c,*c,*c,*c,*c,*c]\n.e: [*d,*d,*d,*d,*d,*d,*d,*d,*d,*d]\n`);
    await rejectsWith(loadSkaffoldConfigs({ dir: src, file: 'bomb.yaml' }), 'INVALID_CONFIG', /bomb\.yaml: Excessive alias count indicates a resource exhaustion attack/);
    writeFileSync(join(src, 'deep.yaml'), `apiVersion: skaffold/v4beta14\nkind: Config\n.x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    await rejectsWith(loadSkaffoldConfigs({ dir: src, file: 'deep.yaml' }), 'INVALID_CONFIG', /^error parsing skaffold configuration file: deep\.yaml: Maximum call stack size exceeded/);
    let fifo = false;
    try { execFileSync('mkfifo', [join(src, 'fifo.yaml')]); fifo = true; } catch { /* no mkfifo here */ }
    if (fifo) {
      await rejectsWith(loadSkaffoldConfigs({ dir: src, file: 'fifo.yaml' }), 'CONFIG_NOT_FOUND', /unable to find configuration file "fifo.yaml"/);
      writeFileSync(join(src, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta14\nkind: Config\nrequires:\n  - path: fifo.yaml\n');
      await rejectsWith(loadSkaffoldConfigs({ dir: src }), 'INVALID_CONFIG', /^configuration file "fifo.yaml" is not a regular file$/);
    }
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});

test('rawYaml globs are bounded, and only regular files are read', async () => {
  const files: Record<string, string> = { 'skaffold.yaml': 'apiVersion: skaffold/v4beta14\nkind: Config\nmanifests:\n  rawYaml: ["k8s/*/*.yaml"]\n' };
  for (let i = 0; i < 150; i++) files[`k8s/d${i}/.keep`] = '';
  const dir = tmp(files);
  try {
    for (let i = 0; i < 150; i++) for (let j = 0; j < 140; j++) writeFileSync(join(dir, `k8s/d${i}/f${j}.txt`), '');
    await rejectsWith(renderManifests(await loadSkaffoldConfigs({ dir })), 'INVALID_CONFIG', /rawYaml globs look at more than 20000 files/);
    rmSync(join(dir, 'k8s'), { recursive: true, force: true });
    mkdirSync(join(dir, 'k8s/a'), { recursive: true });
    let fifo = false;
    try { execFileSync('mkfifo', [join(dir, 'k8s/a/pipe.yaml')]); fifo = true; } catch { /* no mkfifo here */ }
    if (fifo) await rejectsWith(renderManifests(await loadSkaffoldConfigs({ dir })), 'INVALID_CONFIG', /^read k8s\/a\/pipe\.yaml: is not a regular file$/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
