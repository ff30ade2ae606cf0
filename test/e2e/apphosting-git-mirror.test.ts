// `--git-mirror URL=PATH`: a Developer Connect link naming a GitHub URL reads the operator's local repository
// offline, with no --allow-git-remotes and no git configuration; the GitHub calls firebase-tools makes for that
// repository answer from it too. Driven by googleapis (linking, as `apphosting:backends:create` would after its
// interactive GitHub steps) and firebase-tools (`apphosting:rollouts:create -b main`, unchanged).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry, tempDir } from '../helpers/server.js';
import { appFiles, appHostingV1beta, commit, developerConnect, makeRepo, waitOp } from '../helpers/apphosting.js';
import { googleError } from '../helpers/clients.js';
import { firebase, firebaseAtTerminal } from '../helpers/firebase.js';
import type { Gantry } from '../../src/gantry.js';

const PROJECT = 'mirror-proj';
const P = `projects/${PROJECT}/locations/us-central1`;
const URL_ = 'https://github.com/acme/app.git';
let g: Gantry;
let repo: string;

before(async () => {
  repo = makeRepo(appFiles('mirrored'), 'Initial commit');
  // No --git-dirs, no --source-dirs, no remotes: only the mapping reaches a repository.
  g = await startTestGantry({ sourceDirs: [], gitMirrors: [{ url: URL_, path: repo }], buildMs: 50 });
});
after(async () => { await g?.close(); });

test('a link to the mapped GitHub URL reads the local repository; firebase apphosting:rollouts:create -b main builds its head', { timeout: 300_000 }, async () => {
  const dc = developerConnect(g.url);
  const ah = appHostingV1beta(g.url);
  await dc.projects.locations.connections.create({ parent: P, connectionId: 'apphosting-github-conn-abc', requestBody: { githubConfig: { githubApp: 'FIREBASE' } } });
  const conn = `${P}/connections/apphosting-github-conn-abc`;
  // What the CLI offers to link: the owners of the mapped repositories, and the repositories.
  assert.deepEqual((await dc.projects.locations.connections.fetchGitHubInstallations({ connection: conn })).data.installations?.map(i => [i.name, i.type, /^\d+$/.test(String(i.id))]), [['acme', 'organization', true]]);
  assert.deepEqual((await dc.projects.locations.connections.fetchLinkableGitRepositories({ connection: conn, pageSize: 100 })).data, { linkableGitRepositories: [{ cloneUri: URL_ }] });
  // An unmapped GitHub URL is a network remote, refused as before.
  const refused = await googleError(dc.projects.locations.connections.gitRepositoryLinks.create({ parent: conn, gitRepositoryLinkId: 'acme-other', requestBody: { cloneUri: 'https://github.com/acme/other.git' } }));
  assert.equal(refused.status, 'INVALID_ARGUMENT');
  assert.match(refused.message, /network remote/);
  // The link the CLI's getOrCreateRepository makes (id from the slug).
  await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: conn, gitRepositoryLinkId: 'acme-app', requestBody: { cloneUri: URL_ } });
  const refs = await dc.projects.locations.connections.gitRepositoryLinks.fetchGitRefs({ gitRepositoryLink: `${conn}/gitRepositoryLinks/acme-app`, refType: 'BRANCH' });
  assert.deepEqual(refs.data.refNames, ['main']);
  await waitOp(ah, (await ah.projects.locations.backends.create({
    parent: P, backendId: 'gitbe', requestBody: { servingLocality: 'GLOBAL_ACCESS', serviceAccount: `firebase-app-hosting-compute@${PROJECT}.iam.gserviceaccount.com`, codebase: { repository: `${conn}/gitRepositoryLinks/acme-app` } },
  })).data.name!);

  const second = commit(repo, appFiles('second'), 'Second commit');
  const out = await firebase(g.url, tempDir('gantry-mirror-project-'), ['apphosting:rollouts:create', 'gitbe', '--git-branch', 'main', '--force', '--project', PROJECT]);
  assert.equal(out.code, 0, out.stdout + out.stderr);
  assert.match(out.stdout, /You are about to deploy \[[0-9a-f]{7}\]: Second commit/);
  assert.match(out.stderr + out.stdout, /Successfully created a new rollout!/);
  const builds = (await ah.projects.locations.backends.builds.list({ parent: `${P}/backends/gitbe` })).data.builds ?? [];
  assert.deepEqual(builds.map(b => [b.source?.codebase?.hash, b.state]), [[second.hash, 'READY']]);
  // GitHub's API as Gantry answers it, for the mapped repository.
  const branch = await (await fetch(`${g.url}/repos/acme/app/branches/main`)).json() as { commit: { sha: string } };
  assert.equal(branch.commit.sha, second.hash);
  assert.equal((await fetch(`${g.url}/repos/acme/other/branches/main`)).status, 404);
});

test('firebase apphosting:backends:create at a terminal: the GitHub steps offer the mapped repository, link it and set the rollout branch', { timeout: 300_000 }, async () => {
  const ah = appHostingV1beta(g.url);
  const project = 'mirror-tty';
  // The prompts as firebase-tools 15 asks them; the first choice of the account and repository lists is "Missing …?".
  const run = await firebaseAtTerminal(g.url, tempDir('gantry-mirror-tty-'), ['apphosting:backends:create', '--project', project, '--backend', 'web', '--primary-region', 'us-central1', '--root-dir', '/'], [
    [/Grant the required role to the Developer Connect Service Agent\?/, ['\r']],
    [/Which GitHub account do you want to use\?[\s\S]*acme/, ['\x1b[B', '\r']],
    [/Which GitHub repo do you want to deploy\?[\s\S]*acme\/app/, ['\x1b[B', '\r']],
    [/Pick a branch for continuous deployment[\s\S]*main/, ['\r']],
    [/Which runtime do you want to use\?[\s\S]*nodejs24/, ['\r']],
    // "Deploy now" would then wait for the TLS certificate of the real *.hosted.app host: no.
    [/Do you want to deploy now\?/, ['n', '\r']],
  ]);
  // `script` (Debian's essential bsdutils) gives the CLI its terminal; without it the test can say nothing, so CI fails.
  if (!run) { assert.ok(!process.env.CI, 'CI needs `script` (bsdutils) for the terminal test'); return; }
  assert.equal(run.code, 0, run.output);
  assert.match(run.output, /Repo linked successfully!/);
  assert.match(run.output, /Successfully created backend!/);
  const backend = (await ah.projects.locations.backends.get({ name: `projects/${project}/locations/us-central1/backends/web` })).data;
  const link = (await developerConnect(g.url).projects.locations.connections.gitRepositoryLinks.get({ name: backend.codebase!.repository! })).data;
  assert.equal(link.cloneUri, URL_);
  assert.match(String(link.name), /\/gitRepositoryLinks\/acme-app$/);
  assert.deepEqual((await ah.projects.locations.backends.traffic.get({ name: `${backend.name}/traffic` })).data.rolloutPolicy, { codebaseBranch: 'main' });
});
