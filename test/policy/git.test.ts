// The git policy: which clone URIs a link may name, and that every place git would read objects from is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/server.js';
import { makeRepo } from '../helpers/apphosting.js';
import { GitPolicy, GitRefused } from '../../src/policy/git.js';

const allowed = tempDir('gantry-gitpol-allowed-');
const elsewhere = tempDir('gantry-gitpol-elsewhere-');
const policy = (o: { allowRemotes?: boolean; own?: string[] } = {}) => new GitPolicy({ dirs: [allowed], allowRemotes: o.allowRemotes ?? false, own: o.own ?? [] });
const refused = (fn: () => unknown, why: RegExp) => assert.throws(fn, e => e instanceof GitRefused && why.test(e.message));

test('a local repository under the allowed directories is read by its git directory', () => {
  const repo = join(allowed, 'app');
  mkdirSync(join(repo, '.git'), { recursive: true });
  assert.deepEqual(policy().locate(repo), { kind: 'local', gitDir: join(repo, '.git') });
  assert.deepEqual(policy().locate(`file://${repo}`), { kind: 'local', gitDir: join(repo, '.git') });
  refused(() => policy({ own: [repo] }).locate(repo), /not under a directory/);
  refused(() => new GitPolicy({ dirs: [], allowRemotes: false, own: [] }).locate(repo), /reads none/);
});

test('a .git file, commondir or alternates leading outside the allowed directories is refused', () => {
  const outsideRepo = makeRepo({ 'a.txt': 'a\n' });
  const worktree = join(allowed, 'worktree');
  mkdirSync(worktree);
  writeFileSync(join(worktree, '.git'), `gitdir: ${join(outsideRepo, '.git')}\n`);
  refused(() => policy().locate(worktree), /not under a directory/);

  const common = join(allowed, 'common.git');
  mkdirSync(common);
  writeFileSync(join(common, 'commondir'), join(elsewhere) + '\n');
  refused(() => policy().locate(common), /not under a directory/);

  const alt = join(allowed, 'alt.git');
  mkdirSync(join(alt, 'objects', 'info'), { recursive: true });
  writeFileSync(join(alt, 'objects', 'info', 'alternates'), join(outsideRepo, '.git', 'objects') + '\n');
  refused(() => policy().locate(alt), /not under a directory/);
});

test('network remotes only when the operator allows them', () => {
  for (const uri of ['https://github.com/acme/app.git', 'http://127.0.0.1:9/x', 'ssh://git@host/x', 'git://host/x', 'git@github.com:acme/app.git', 'host:x.git']) {
    refused(() => policy().locate(uri), /network remote/);
    assert.deepEqual(policy({ allowRemotes: true }).locate(uri), { kind: 'remote', url: uri });
  }
  refused(() => policy({ allowRemotes: true }).locate('relative/path'), /absolute path/);
  assert.equal(policy().locate(join(allowed, 'not-yet'), false), undefined);
  refused(() => policy().locate(join(allowed, 'not-yet')), /does not exist/);
});
