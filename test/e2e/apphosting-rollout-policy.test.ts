// App Hosting's automatic rollouts (`rolloutPolicy.codebaseBranch`), through googleapis on the virtual clock: the
// baseline is the branch head when the policy is set, so the very first commit pushed after it rolls out (before,
// the first successful poll took that commit as its baseline and it was never built: always for a branch created
// after the policy, and whenever the push beat the first poll); commits made before the policy, or while it was
// disabled, do not.
import { execFileSync } from 'node:child_process';
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { appFiles, appHostingV1beta, commit, developerConnect, makeRepo } from '../helpers/apphosting.js';
import type { Gantry } from '../../src/gantry.js';
import type { firebaseapphosting_v1beta } from 'googleapis';

const P = 'projects/policy-app/locations/us-central1';
const BE = `${P}/backends/web`;
let g: Gantry;
let ah: firebaseapphosting_v1beta.Firebaseapphosting;
let repo: string;

const advance = async (duration: string) => {
  const res = await fetch(`${g.url}/gantry/v1/clock:advance`, { method: 'POST', body: JSON.stringify({ duration }), headers: { 'content-type': 'application/json' } });
  assert.equal(res.status, 200);
};
const builds = async () => ((await ah.projects.locations.backends.builds.list({ parent: BE })).data.builds ?? []);
const setPolicy = (rolloutPolicy: Record<string, unknown>, updateMask = 'rolloutPolicy') =>
  ah.projects.locations.backends.traffic.patch({ name: `${BE}/traffic`, updateMask, requestBody: { rolloutPolicy } });

before(async () => {
  g = await startTestGantry({ clock: 'virtual' });
  ah = appHostingV1beta(g.url);
  repo = makeRepo(appFiles('one'), 'First');
  const dc = developerConnect(g.url);
  await dc.projects.locations.connections.create({ parent: P, connectionId: 'c', requestBody: { gitlabConfig: {} } });
  await dc.projects.locations.connections.gitRepositoryLinks.create({ parent: `${P}/connections/c`, gitRepositoryLinkId: 'r', requestBody: { cloneUri: repo } });
  await ah.projects.locations.backends.create({ parent: P, backendId: 'web', requestBody: { servingLocality: 'GLOBAL_ACCESS', serviceAccount: 'runner@policy-app.iam.gserviceaccount.com', codebase: { repository: `${P}/connections/c/gitRepositoryLinks/r` } } });
});
after(async () => { await g?.close(); });

test('the first commit pushed right after rolloutPolicy.codebaseBranch is set rolls out; commits before it do not', async () => {
  commit(repo, appFiles('before the policy'), 'Before');
  assert.equal((await setPolicy({ codebaseBranch: 'main' })).data.done, true);
  // Pushed at once, before the watcher has looked at the branch.
  const first = commit(repo, appFiles('first after'), 'First after the policy');
  await advance('5s');
  await advance('3s');
  let all = await builds();
  assert.deepEqual(all.map(b => b.source?.codebase?.hash), [first.hash], 'exactly the commit pushed after the policy was set is built');
  assert.equal(all[0].state, 'READY');
  assert.deepEqual((await ah.projects.locations.backends.traffic.get({ name: `${BE}/traffic` })).data.current, { splits: [{ build: all[0].name, percent: 100 }] });

  // Disabled, commits are not followed; enabled again, the head at that moment is the new baseline.
  await setPolicy({ disabled: true }, 'rolloutPolicy.disabled');
  commit(repo, appFiles('while disabled'), 'While disabled');
  await advance('10s');
  assert.equal((await builds()).length, 1);
  await setPolicy({ disabled: false }, 'rolloutPolicy.disabled');
  const next = commit(repo, appFiles('after enabling'), 'After enabling again');
  await advance('5s');
  await advance('3s');
  all = await builds();
  assert.equal(all.length, 2);
  assert.ok(all.some(b => b.source?.codebase?.hash === next.hash), 'the first commit after the policy was enabled again rolls out');
});

test('a branch that does not exist yet when the policy is set: its first commit rolls out', async () => {
  await setPolicy({ codebaseBranch: 'release', disabled: false });
  await advance('5s');
  const before = (await builds()).length;
  execFileSync('git', ['checkout', '--quiet', '-b', 'release'], { cwd: repo });
  const first = commit(repo, appFiles('release one'), 'First on release');
  await advance('5s');
  await advance('3s');
  const made = (await builds()).slice(before);
  assert.deepEqual(made.map(b => b.source?.codebase?.hash), [first.hash], 'the first commit of the new branch is built');
  assert.equal(made[0].state, 'READY');
});
