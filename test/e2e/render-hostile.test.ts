// Hostile release sources, through the API: a render must never reach the network nor read or run anything
// outside the source. Every "remote" below is a recording HTTP server on 127.0.0.1 that must see no request;
// each render fails naming the problem. The operator's own git configuration (here: an `insteadOf` that would
// send every file:// clone to that server) is never used by the render's git.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { uploadSource } from '../helpers/source.js';
import { googleError } from '../helpers/clients.js';
import { DeployKit } from '../helpers/deploy.js';
import { recordingServer, type RecordingServer } from '../helpers/skaffold.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/hostile/locations/us-central1';
const PIPE = `${LOC}/deliveryPipelines/app`;
let g: Gantry;
const k = new DeployKit();
let remote: RecordingServer;
let hits: string[] = [];
let REMOTE = '';
const savedGitConfig = process.env.GIT_CONFIG_GLOBAL;

before(async () => {
  remote = await recordingServer();
  hits = remote.hits;
  REMOTE = remote.host;
  // The operator's global git config rewrites every file:// URL to the recording server: a render that used
  // it would show up there.
  const gitconfig = join(tempDir(), 'gitconfig');
  writeFileSync(gitconfig, `[url "http://${REMOTE}/"]\n\tinsteadOf = file:///\n[protocol]\n\tallow = always\n`);
  process.env.GIT_CONFIG_GLOBAL = gitconfig;
  g = await startTestGantry();
  k.attach(g.url);
  await k.opDone(k.api.targets.create({ parent: LOC, targetId: 'dev', requestBody: { gke: { cluster: `${LOC}/clusters/dev` } } }));
  await k.opDone(k.api.deliveryPipelines.create({ parent: LOC, deliveryPipelineId: 'app', requestBody: { serialPipeline: { stages: [{ targetId: 'dev' }] } } }));
});
after(async () => {
  if (savedGitConfig === undefined) delete process.env.GIT_CONFIG_GLOBAL; else process.env.GIT_CONFIG_GLOBAL = savedGitConfig;
  await g.close();
  await remote.close();
});

function source(files: Record<string, string>): string {
  const dir = join(tempDir('hostile-'), 'src');
  for (const [p, text] of Object.entries(files)) {
    mkdirSync(dirname(join(dir, p)), { recursive: true });
    writeFileSync(join(dir, p), text);
  }
  return dir;
}

let n = 0;
/** Creates a release of `uri` and resolves with the dev target's render once it has ended. */
async function renderOf(uri: string, extra: Record<string, unknown> = {}): Promise<{ state: string; cause?: string; message: string }> {
  const r = await k.renderedRelease(PIPE, `r${++n}`, { skaffoldConfigUri: uri, ...extra });
  const t = r.targetRenders!.dev;
  return { state: String(t.renderingState), cause: t.failureCause ?? undefined, message: String(t.failureMessage ?? '') };
}

const KUSTOMIZE = 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  kustomize:\n    paths: [.]\n';
const HELM = (release: string) => `apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  helm:\n    releases:\n    - name: web\n${release.split('\n').map(l => `      ${l}`).join('\n')}\n`;
const CHART = 'apiVersion: v2\nname: web\nversion: 0.1.0\n';

test('remote kustomize and helm references fail the render naming them, and nothing is fetched', async () => {
  const U = `http://${REMOTE}`;
  const cases: [string, Record<string, string>, RegExp][] = [
    ['kustomize http resource', { 'skaffold.yaml': KUSTOMIZE, 'kustomization.yaml': `resources:\n- ${U}/cm.yaml\n` },
      /^Skaffold render of target "dev" failed: kustomization reference "http:\/\/127\.0\.0\.1:\d+\/cm\.yaml" \(in kustomization\.yaml\) is remote: Gantry renders offline and never fetches anything from the network$/],
    ['kustomize github base', { 'skaffold.yaml': KUSTOMIZE, 'kustomization.yaml': 'resources:\n- github.com/org/repo//deploy?ref=v1\n' },
      /kustomization reference "github\.com\/org\/repo\/\/deploy\?ref=v1" \(in kustomization\.yaml\) is remote: Gantry renders offline/],
    ['kustomize path URL', { 'skaffold.yaml': `apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  kustomize:\n    paths: ["${U}/app"]\n` },
      /kustomize path "http:\/\/127\.0\.0\.1:\d+\/app" \(unnamed config\[0\], skaffold\.yaml\) is remote/],
    ['kustomize missing base', { 'skaffold.yaml': KUSTOMIZE, 'kustomization.yaml': 'resources:\n- org/repo/deploy\n' },
      /kustomization reference "org\/repo\/deploy" \(in kustomization\.yaml\) is not a file or directory in the source; kustomize would try to fetch it as a remote git repository, and Gantry renders offline/],
    ['kustomize --enable-helm', { 'skaffold.yaml': `${KUSTOMIZE}    buildArgs: ["--enable-helm"]\n`, 'kustomization.yaml': `helmCharts:\n- name: redis\n  repo: ${U}\n` },
      /kustomize build argument "--enable-helm" is not allowed/],
    ['kustomize helmCharts', { 'skaffold.yaml': KUSTOMIZE, 'kustomization.yaml': `helmCharts:\n- name: redis\n  repo: ${U}\n` },
      /helmCharts \(chart "http:\/\/127\.0\.0\.1:\d+\/redis"\) are not supported/],
    ['kustomize openapi', { 'skaffold.yaml': KUSTOMIZE, 'kustomization.yaml': `openapi:\n  path: ${U}/openapi.json\n` },
      /kustomization reference "http:\/\/127\.0\.0\.1:\d+\/openapi\.json" \(in kustomization\.yaml\) is remote/],
    ['kustomize exec plugin', { 'skaffold.yaml': KUSTOMIZE, 'kustomization.yaml': 'generators: [gen.yaml]\n', 'gen.yaml': 'apiVersion: x/v1\nkind: G\nmetadata:\n  name: g\n  annotations:\n    config.kubernetes.io/function: "exec:\\n  path: ./pwn.sh\\n"\n' },
      /kustomize plugin config "gen\.yaml": KRM functions \(exec and container plugins\) are not run/],
    ['helm remoteChart URL', { 'skaffold.yaml': HELM(`remoteChart: ${U}/web-0.1.0.tgz`) },
      /remoteChart "http:\/\/127\.0\.0\.1:\d+\/web-0\.1\.0\.tgz" of helm release "web" is remote: Gantry renders offline/],
    ['helm repo', { 'skaffold.yaml': HELM(`remoteChart: web\nrepo: ${U}`) }, /chart repository "http:\/\/127\.0\.0\.1:\d+" of helm release "web" is remote/],
    ['helm values URL', { 'skaffold.yaml': HELM(`chartPath: chart\nvaluesFiles: ["${U}/values.yaml"]`), 'chart/Chart.yaml': CHART },
      /values file "http:\/\/127\.0\.0\.1:\d+\/values\.yaml" of helm release "web" is remote/],
    ['helm dependency', { 'skaffold.yaml': HELM('chartPath: chart'), 'chart/Chart.yaml': `${CHART}dependencies:\n- name: redis\n  version: 1.0.0\n  repository: ${U}\n` },
      /helm chart dependency "redis" of release "web" comes from repository "http:\/\/127\.0\.0\.1:\d+" and is not vendored under chart\/charts\/: Gantry renders offline/],
    ['helm flag injection', { 'skaffold.yaml': HELM('chartPath: chart').replace('name: web', 'name: "--post-renderer=./pwn.sh"'), 'chart/Chart.yaml': CHART, 'pwn.sh': '#!/bin/sh\ntouch pwned\n' },
      /helm release name "--post-renderer=\.\/pwn\.sh" of unnamed config\[0\] is invalid/],
  ];
  for (const [what, files, message] of cases) {
    // Half the sources are uploaded as gcloud does, half are file:// directories.
    const uri = n % 2 ? await uploadSource(g.url, `gs://hostile-src/${n}.tgz`, files) : pathToFileURL(source(files)).href;
    const r = await renderOf(uri);
    assert.equal(r.state, 'FAILED', `${what}: ${r.message}`);
    assert.equal(r.cause, 'EXECUTION_FAILED', what);
    assert.match(r.message, message, what);
  }
  assert.deepEqual(hits, [], 'no request reached the "remote" server');
});

test('skaffoldConfigPath outside the source is refused at release creation; through a symlink, at render', async () => {
  const dir = source({ 'skaffold.yaml': 'apiVersion: skaffold/v4beta7\nkind: Config\n' });
  const uri = pathToFileURL(dir).href;
  for (const path of ['../../../../etc/passwd', '/etc/passwd', 'a/../../skaffold.yaml', '..']) {
    const e = await googleError(k.api.deliveryPipelines.releases.create({ parent: PIPE, releaseId: `bad${++n}`, requestBody: { skaffoldConfigUri: uri, skaffoldConfigPath: path } }));
    assert.equal(e.status, 'INVALID_ARGUMENT', path);
    assert.match(e.message, /^skaffold_config_path must be a relative path inside the release source, got "/);
  }
  // A path that stays inside after `..` is fine.
  assert.equal((await renderOf(uri, { skaffoldConfigPath: 'k8s/../skaffold.yaml' })).state, 'SUCCEEDED');

  const outside = join(dirname(dir), 'outside.yaml');
  writeFileSync(outside, 'apiVersion: skaffold/v4beta7\nkind: Config\n');
  symlinkSync(outside, join(dir, 'linked.yaml'));
  const r = await renderOf(uri, { skaffoldConfigPath: 'linked.yaml' });
  assert.equal(r.state, 'FAILED');
  assert.match(r.message, /configuration file "linked\.yaml" resolves through a symlink to outside the source$/);
});

test('symlinks out of the source are refused wherever a render would follow them', async () => {
  const secretDir = tempDir('host-');
  writeFileSync(join(secretDir, 'id_rsa'), 'apiVersion: v1\nkind: Secret\nmetadata:\n  name: operator-key\n');
  const raw = source({ 'skaffold.yaml': 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [k8s/*.yaml]\n', 'k8s/app.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n' });
  symlinkSync(join(secretDir, 'id_rsa'), join(raw, 'k8s/key.yaml'));
  const kz = source({ 'skaffold.yaml': KUSTOMIZE, 'kustomization.yaml': 'resources: [cm.yaml]\n', 'cm.yaml': 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: app\n' });
  symlinkSync(secretDir, join(kz, 'host'));
  const chart = source({ 'skaffold.yaml': HELM('chartPath: chart'), 'chart/Chart.yaml': CHART });
  symlinkSync(join(secretDir, 'id_rsa'), join(chart, 'chart/key.txt'));
  const cases: [string, RegExp][] = [
    [raw, /rawYaml file "k8s\/key\.yaml" resolves through a symlink to outside the source$/],
    [kz, /kustomization directory "host" resolves through a symlink to outside the source$/],
    [chart, /helm chart "chart\/key\.txt" resolves through a symlink to outside the source$/],
  ];
  for (const [dir, message] of cases) {
    const r = await renderOf(pathToFileURL(dir).href);
    assert.equal(r.state, 'FAILED', r.message);
    assert.match(r.message, message);
    assert.doesNotMatch(r.message, new RegExp(secretDir.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), 'no host path is shown');
  }
});

test('git modules: only local repositories, cloned without the operator\'s git config; network URLs are refused', async () => {
  const repo = join(tempDir('repo-'), 'shared');
  mkdirSync(repo, { recursive: true });
  writeFileSync(join(repo, 'skaffold.yaml'), 'apiVersion: skaffold/v4beta7\nkind: Config\nmetadata:\n  name: shared\nmanifests:\n  rawYaml: [cm.yaml]\n');
  writeFileSync(join(repo, 'cm.yaml'), 'apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: shared\n');
  const env = { ...process.env, GIT_CONFIG_GLOBAL: '/dev/null', GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@example.test', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@example.test' };
  const git = (...args: string[]) => execFileSync('git', ['-C', repo, ...args], { env });
  git('init', '-q', '-b', 'main');
  git('add', '.');
  git('commit', '-q', '-m', 'shared');
  const requires = (repoUrl: string, ref = 'main') => ({ 'skaffold.yaml': `apiVersion: skaffold/v4beta7\nkind: Config\nrequires:\n- git:\n    repo: ${repoUrl}\n    ref: ${JSON.stringify(ref)}\n  configs: [shared]\n` });

  // The operator's global config would rewrite this file:// URL to the recording server; the render's git never reads it.
  const ok = await renderOf(pathToFileURL(source(requires(pathToFileURL(repo).href))).href);
  assert.equal(ok.state, 'SUCCEEDED', ok.message);

  for (const url of [`http://${REMOTE}/org/repo.git`, `https://${REMOTE}/org/repo.git`, `git@${REMOTE}:org/repo.git`, `ssh://git@${REMOTE}/repo.git`]) {
    const r = await renderOf(pathToFileURL(source(requires(url))).href);
    assert.equal(r.state, 'FAILED', url);
    assert.match(r.message, /Gantry clones only repositories on this machine \(a file:\/\/ URL under --source-dirs\); Gantry renders offline/, url);
  }
  const flag = await renderOf(pathToFileURL(source(requires(pathToFileURL(repo).href, '--upload-pack=touch /tmp/pwned'))).href);
  assert.equal(flag.state, 'FAILED');
  assert.match(flag.message, /is not a git ref/);
  assert.deepEqual(hits, []);
});
