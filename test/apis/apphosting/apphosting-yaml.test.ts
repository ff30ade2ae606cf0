// Reading apphosting.yaml: the files come from inside the source only (an archive or repository may hold symlinks
// to anywhere on the host), and the environment names a file beside apphosting.yaml, nothing else.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeTree } from '../../helpers/server.js';
import { readAppHostingConfig } from '../../../src/apis/apphosting/apphosting-yaml.js';
import { RuleError } from '../../../src/apis/apphosting/validate.js';

const other = writeTree(tempDir('gantry-yaml-other-'), { 'apphosting.yaml': 'env:\n  - variable: OTHER_SECRET\n    value: hunter2\n' });

test('apphosting.yaml and apphosting.<environment>.yaml are read inside the source, symlinks included', () => {
  const src = realpathSync(writeTree(tempDir('gantry-yaml-src-'), {
    'app/apphosting.yaml': 'env:\n  - variable: A\n    value: a\n',
    'app/apphosting.staging.yaml': 'env:\n  - variable: A\n    value: staged\n',
    'shared.yaml': 'env:\n  - variable: B\n    value: b\n',
  }));
  const app = join(src, 'app');
  assert.deepEqual(readAppHostingConfig(app, 'staging', src).env.map(e => [e.variable, e.value]), [['A', 'staged']]);
  // A symlink to a file elsewhere in the source is followed.
  symlinkSync('../shared.yaml', join(app, 'apphosting.dev.yaml'));
  assert.deepEqual(readAppHostingConfig(app, 'dev', src).env.map(e => e.variable), ['A', 'B']);
  // One leading out of the source is refused, naming the file.
  symlinkSync(join(other, 'apphosting.yaml'), join(app, 'apphosting.evil.yaml'));
  assert.throws(() => readAppHostingConfig(app, 'evil', src), e => e instanceof RuleError && /apphosting\.evil\.yaml cannot be read: it is a symbolic link that leads outside the source/.test(e.message));
  // So is a directory on the way that does.
  const viaDir = join(src, 'via');
  mkdirSync(viaDir);
  symlinkSync(other, join(viaDir, 'app'));
  assert.throws(() => readAppHostingConfig(join(viaDir, 'app'), undefined, src), e => e instanceof RuleError && /outside the source/.test(e.message));
});

test('an environment that is not an id is refused before any file is read', () => {
  const src = realpathSync(writeTree(tempDir('gantry-yaml-src-'), { 'apphosting.yaml': 'env: []\n' }));
  for (const env of ['/../../x', '../x', 'a/b', 'a.b']) {
    assert.throws(() => readAppHostingConfig(src, env, src), e => e instanceof RuleError && /is not an environment name/.test(e.message), env);
  }
});
