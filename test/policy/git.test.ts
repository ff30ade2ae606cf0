// The git policy: which clone URIs a link may name, and that every place git would read objects from is checked.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir } from '../helpers/server.js';
import { makeRepo } from '../helpers/apphosting.js';
import { GitPolicy, GitRefused, parseGitMirrors, repositoryKey } from '../../src/policy/git.js';

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

test('--git-mirror: a mapped network URL (in any of its spellings) reads the local repository, without remotes allowed', () => {
  const repo = makeRepo({ 'a.txt': 'a\n' });
  const mirrored = (own: string[] = []) => new GitPolicy({ dirs: [], allowRemotes: false, mirrors: [{ url: 'https://github.com/acme/app.git', path: repo }], own });
  for (const url of ['https://github.com/acme/app.git', 'https://github.com/Acme/App', 'https://github.com/acme/app/', 'ssh://git@github.com/acme/app.git', 'git@github.com:acme/app.git']) {
    assert.deepEqual(mirrored().locate(url), { kind: 'local', gitDir: join(repo, '.git') }, url);
  }
  assert.equal(mirrored().mirrored('https://github.com/acme/app.git'), true);
  // Another repository of the same host is still a network remote, refused.
  refused(() => mirrored().locate('https://github.com/acme/other.git'), /network remote/);
  refused(() => mirrored().locate('https://github.com/acme/app.git/../other.git'), /network remote/);
  // The path passes the rules of --git-dirs: never Gantry's data directory, nothing read from outside it.
  assert.throws(() => mirrored([repo]), /inside Gantry's data directory/);
  assert.throws(() => mirrored([join(repo, '..')]), /inside Gantry's data directory/);
  const outsideRepo = makeRepo({ 'b.txt': 'b\n' });
  const wt = tempDir('gantry-gitpol-mirror-wt-');
  writeFileSync(join(wt, '.git'), `gitdir: ${join(outsideRepo, '.git')}\n`);
  refused(() => new GitPolicy({ dirs: [], allowRemotes: false, mirrors: [{ url: 'https://github.com/acme/wt.git', path: wt }], own: [] }).locate('https://github.com/acme/wt.git'), /outside its directory/);
  refused(() => new GitPolicy({ dirs: [], allowRemotes: false, mirrors: [{ url: 'https://github.com/acme/gone.git', path: join(wt, 'gone') }], own: [] }).locate('https://github.com/acme/gone.git'), /does not exist/);
  assert.equal(new GitPolicy({ dirs: [], allowRemotes: false, mirrors: [{ url: 'https://github.com/acme/gone.git', path: join(wt, 'gone') }], own: [] }).locate('https://github.com/acme/gone.git', false), undefined);
});

test('--git-mirror values: URL=PATH, repeatable and comma-separated; the URL a network one, the path absolute', () => {
  assert.deepEqual(parseGitMirrors(['https://github.com/a/b.git=/r/b,git@github.com:a/c.git=/r/c', 'https://gitlab.com/x/y=/r/y']),
    [{ url: 'https://github.com/a/b.git', path: '/r/b' }, { url: 'git@github.com:a/c.git', path: '/r/c' }, { url: 'https://gitlab.com/x/y', path: '/r/y' }]);
  assert.throws(() => parseGitMirrors(['https://github.com/a/b.git']), /not URL=PATH/);
  assert.throws(() => parseGitMirrors(['/local/repo=/r/b']), /not a network git URL/);
  assert.throws(() => parseGitMirrors(['ext::sh -c x=/r/b']), /not a network git URL/);
  assert.throws(() => parseGitMirrors(['https://github.com/a/b.git=relative/dir']), /not an absolute path/);
  assert.equal(repositoryKey('file:///tmp/x'), undefined);
  assert.equal(repositoryKey('https://github.com/a/b.git?x=1'), undefined);
});
