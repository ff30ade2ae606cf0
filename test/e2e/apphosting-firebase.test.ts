// firebase-tools (from npm, unchanged) against Gantry: backends create/list/get/delete, `deploy --only apphosting`
// (an archive source uploaded to Cloud Storage, built and served for real with the process executor), and for a
// backend linked to a repository builds:create, builds:get, rollouts:create and rollouts:list.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir, writeTree, eventually } from '../helpers/server.js';
import { appFiles, appHostingV1beta, commit, developerConnect, getApp, makeRepo, waitOp } from '../helpers/apphosting.js';
import { firebase, firebaseBin } from '../helpers/firebase.js';

const PROJECT = 'demo-proj';
const P = `projects/${PROJECT}/locations/us-central1`;

test('firebase-tools: backends, deploy --only apphosting, builds and rollouts of a linked repository', { timeout: 900_000 }, async () => {
  await firebaseBin();
  // The linked repository's GitHub URL reaches a local repository through git's own url.*.insteadOf.
  const repo = makeRepo(appFiles('from the repository'), 'Initial commit');
  const gitconfig = join(tempDir('gantry-gitconfig-'), 'gitconfig');
  writeFileSync(gitconfig, `[url "${repo}"]\n\tinsteadOf = https://github.com/acme/hello.git\n`);
  process.env.GIT_CONFIG_GLOBAL = gitconfig;
  // The link names a network URL: the operator allows remotes (fetched with their git configuration).
  const g = await startTestGantry({ executor: 'process', allowGitRemotes: true });
  try {
    const project = tempDir('gantry-firebase-project-');
    const fb = (...args: string[]) => firebase(g.url, project, [...args, '--project', PROJECT]);

    // backends:create (non-interactive) makes a web app through Firebase Management, then the backend.
    const created = await fb('apphosting:backends:create', '--backend', 'web', '--primary-region', 'us-central1');
    assert.equal(created.code, 0, created.stdout + created.stderr);
    assert.match(created.stderr + created.stdout, /Successfully created backend!/);
    assert.match(created.stderr + created.stdout, /projects\/demo-proj\/locations\/us-central1\/backends\/web/);

    const listed = await fb('apphosting:backends:list');
    assert.equal(listed.code, 0, listed.stdout + listed.stderr);
    assert.match(listed.stdout, /Backend/);
    assert.match(listed.stdout, /│ web\s+│.*https:\/\/web--demo-proj\.us-central1\.hosted\.app\s+│ us-central1/);
    const got = await fb('apphosting:backends:get', 'web');
    assert.equal(got.code, 0);
    assert.match(got.stdout, /https:\/\/web--demo-proj\.us-central1\.hosted\.app/);

    // deploy --only apphosting: the project directory zipped, uploaded, built, rolled out and served.
    writeTree(project, {
      'firebase.json': JSON.stringify({ apphosting: [{ backendId: 'web', rootDir: 'app', ignore: ['node_modules', '.git'] }] }),
      ...Object.fromEntries(Object.entries(appFiles('deployed by firebase')).map(([k, v]) => [`app/${k}`, v])),
    });
    const deployed = await fb('deploy', '--only', 'apphosting');
    assert.equal(deployed.code, 0, deployed.stdout + deployed.stderr);
    assert.match(deployed.stdout, /Uploaded at gs:\/\/firebaseapphosting-sources-\d+-us-central1\/web--/);
    assert.match(deployed.stdout, /Rollout for backend web complete!/);
    assert.match(deployed.stdout, /https:\/\/web--demo-proj\.us-central1\.hosted\.app/);
    assert.match(deployed.stdout, /Deploy complete!/);
    assert.match((await getApp(g.url, 'web--demo-proj.us-central1.hosted.app')).body, /^deployed by firebase \| hello from apphosting.yaml \| built at build-time/);
    // A second deploy reuses the source bucket (listed with its label) and rolls out build -002.
    const again = await fb('deploy', '--only', 'apphosting');
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.doesNotMatch(again.stdout, /Creating Cloud Storage bucket/);

    // A backend linked to a repository (made through googleapis: the CLI links GitHub only interactively).
    const dc = developerConnect(g.url);
    const ah = appHostingV1beta(g.url);
    await dc.projects.locations.connections.create({ parent: P, connectionId: 'github', requestBody: { githubConfig: { githubApp: 'FIREBASE' } } });
    await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/github`, gitRepositoryLinkId: 'acme-hello', requestBody: { cloneUri: 'https://github.com/acme/hello.git' } });
    await waitOp(ah, (await ah.projects.locations.backends.create({
      parent: P, backendId: 'gitbe', requestBody: { servingLocality: 'GLOBAL_ACCESS', serviceAccount: `firebase-app-hosting-compute@${PROJECT}.iam.gserviceaccount.com`, codebase: { repository: `${P}/connections/github/gitRepositoryLinks/acme-hello` } },
    })).data.name!);

    const build = await fb('apphosting:builds:create', 'gitbe', '--branch', 'main');
    assert.equal(build.code, 0, build.stdout + build.stderr);
    const id = /builds:get gitbe (build-\d{4}-\d{2}-\d{2}-\d{3})/.exec(build.stdout)?.[1];
    assert.ok(id, build.stdout);
    assert.match(build.stdout, /Started a build for backend gitbe on branch main\./);
    const state = await eventually(async () => {
      const r = await fb('apphosting:builds:get', 'gitbe', id, '--location', 'us-central1');
      const json = JSON.parse(r.stdout.slice(r.stdout.indexOf('{'))) as { state: string; source: { codebase: { commitMessage: string } } };
      return json.state === 'READY' || json.state === 'FAILED' ? json : undefined;
    }, 120_000);
    assert.equal(state.state, 'READY');
    assert.equal(state.source.codebase.commitMessage, 'Initial commit');

    commit(repo, appFiles('second commit'), 'Second commit');
    const rollout = await fb('apphosting:rollouts:create', 'gitbe', '--git-branch', 'main', '--force');
    assert.equal(rollout.code, 0, rollout.stdout + rollout.stderr);
    assert.match(rollout.stdout, /You are about to deploy \[[0-9a-f]{7}\]: Second commit/);
    assert.match(rollout.stderr + rollout.stdout, /Successfully created a new rollout!/);
    assert.match((await getApp(g.url, 'gitbe--demo-proj.us-central1.hosted.app')).body, /^second commit \|/);

    const rollouts = await fb('apphosting:rollouts:list', 'gitbe');
    assert.equal(rollouts.code, 0, rollouts.stdout + rollouts.stderr);
    const list = JSON.parse(rollouts.stdout.slice(rollouts.stdout.indexOf('['))) as { state: string; build: string }[];
    assert.equal(list.length, 1);
    assert.equal(list[0].state, 'SUCCEEDED');

    const deleted = await fb('apphosting:backends:delete', 'web', '--force');
    assert.equal(deleted.code, 0, deleted.stdout + deleted.stderr);
    assert.match(deleted.stderr + deleted.stdout, /Successfully deleted the backend: web/);
    assert.match((await getApp(g.url, 'web--demo-proj.us-central1.hosted.app')).body, /Backend Not Found/);
  } finally {
    await g.close();
    delete process.env.GIT_CONFIG_GLOBAL;
  }
});
