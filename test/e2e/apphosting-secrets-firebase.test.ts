// App Hosting's "Configure and manage backends → secrets" doc, with firebase-tools: `firebase apphosting:secrets:set`
// (a new secret, then a new version), `describe`, `access` (a pinned version), `grantaccess`, and an apphosting.yaml
// naming the secret in each of the doc's four forms (`mySecret`, `mySecret@1`, `projects/P/secrets/mySecret`,
// `projects/P/secrets/mySecret/versions/1`) and with `availability` BUILD or RUNTIME only; `firebase deploy --only
// apphosting` builds and serves an app that reports what its build and its runtime saw.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { startTestGantry, tempDir, writeTree } from '../helpers/server.js';
import { getApp } from '../helpers/apphosting.js';
import { firebase, firebaseBin } from '../helpers/firebase.js';

const PROJECT = 'demo-secrets';
const VARS = ['API_KEY', 'PINNED_API_KEY', 'VERBOSE_API_KEY', 'PINNED_VERBOSE_API_KEY', 'BUILD_ONLY', 'RUNTIME_ONLY'];

/** An app whose build records the variables it saw, and whose server answers both sets as JSON. */
function app(): Record<string, string> {
  const pick = `Object.fromEntries(${JSON.stringify(VARS)}.filter(v => v in process.env).map(v => [v, process.env[v]]))`;
  return {
    'package.json': JSON.stringify({ name: 'secrets-app', version: '1.0.0', private: true, scripts: { build: 'node build.js', start: 'node server.js' } }),
    'package-lock.json': JSON.stringify({ name: 'secrets-app', version: '1.0.0', lockfileVersion: 3, requires: true, packages: { '': { name: 'secrets-app', version: '1.0.0' } } }),
    'build.js': `require('fs').writeFileSync('build-env.json', JSON.stringify(${pick}));\n`,
    'server.js': `require('http').createServer((req, res) => res.end(JSON.stringify({ build: JSON.parse(require('fs').readFileSync('build-env.json', 'utf8')), runtime: ${pick} })))
  .listen(Number(process.env.PORT), '127.0.0.1');\n`,
    'apphosting.yaml': `env:
  - variable: API_KEY
    secret: myApiKeySecret
  - variable: PINNED_API_KEY
    secret: myApiKeySecret@1
  - variable: VERBOSE_API_KEY
    secret: projects/${PROJECT}/secrets/myApiKeySecret
  - variable: PINNED_VERBOSE_API_KEY
    secret: projects/${PROJECT}/secrets/myApiKeySecret/versions/1
  - variable: BUILD_ONLY
    secret: buildToken
    availability:
      - BUILD
  - variable: RUNTIME_ONLY
    secret: runToken
    availability:
      - RUNTIME
`,
  };
}

test('App Hosting secrets doc: apphosting:secrets:set/describe/access/grantaccess, the four reference forms, BUILD and RUNTIME availability', { timeout: 600_000 }, async () => {
  await firebaseBin();
  const g = await startTestGantry({ executor: 'process' });
  try {
    const project = tempDir('gantry-apphosting-secrets-');
    const fb = (...args: string[]) => firebase(g.url, project, [...args, '--project', PROJECT]);
    const ok = async (...args: string[]) => {
      const r = await fb(...args);
      assert.equal(r.code, 0, `firebase ${args.join(' ')}:\n${r.stdout}${r.stderr}`);
      return r.stdout + r.stderr;
    };
    const set = (name: string, value: string) => {
      const file = join(tempDir(), 'value');
      writeFileSync(file, value);
      return ok('apphosting:secrets:set', name, '--data-file', file);
    };
    await ok('apphosting:backends:create', '--backend', 'sec', '--primary-region', 'us-central1');

    assert.match(await set('myApiKeySecret', 'key-one'), /Created new secret version projects\/\d+\/secrets\/myApiKeySecret\/versions\/1/);
    assert.match(await set('myApiKeySecret', 'key-two'), /Created new secret version projects\/\d+\/secrets\/myApiKeySecret\/versions\/2/);
    await set('buildToken', 'only-at-build');
    await set('runToken', 'only-at-runtime');
    const described = await ok('apphosting:secrets:describe', 'myApiKeySecret');
    assert.match(described, /│ 1\s+│ ENABLED/);
    assert.match(described, /│ 2\s+│ ENABLED/);
    assert.match(await ok('apphosting:secrets:access', 'myApiKeySecret@1'), /key-one/);
    assert.match(await ok('apphosting:secrets:access', 'myApiKeySecret'), /key-two/);
    assert.match(await ok('apphosting:secrets:grantaccess', 'myApiKeySecret,buildToken,runToken', '--backend', 'sec'), /Successfully set IAM bindings/);

    writeTree(project, {
      'firebase.json': JSON.stringify({ apphosting: [{ backendId: 'sec', rootDir: '/app', ignore: ['node_modules', '.git'] }] }),
      ...Object.fromEntries(Object.entries(app()).map(([k, v]) => [`app/${k}`, v])),
    });
    const seen = async () => {
      const r = await getApp(g.url, `sec--${PROJECT}.us-central1.hosted.app.localhost`);
      assert.equal(r.status, 200, r.body);
      return JSON.parse(r.body) as { build: Record<string, string>; runtime: Record<string, string> };
    };
    assert.match(await ok('deploy', '--only', 'apphosting'), /Rollout for backend sec complete!/);
    const pinned = { API_KEY: 'key-two', PINNED_API_KEY: 'key-one', VERBOSE_API_KEY: 'key-two', PINNED_VERBOSE_API_KEY: 'key-one' };
    assert.deepEqual(await seen(), {
      build: { ...pinned, BUILD_ONLY: 'only-at-build' },
      runtime: { ...pinned, RUNTIME_ONLY: 'only-at-runtime' },
    });

    // A new version: the next rollout reads it where the reference says latest; pinned references keep version 1.
    await set('myApiKeySecret', 'key-three');
    assert.match(await ok('deploy', '--only', 'apphosting'), /Rollout for backend sec complete!/);
    const after = await seen();
    assert.deepEqual([after.runtime.API_KEY, after.runtime.VERBOSE_API_KEY, after.runtime.PINNED_API_KEY, after.runtime.PINNED_VERBOSE_API_KEY], ['key-three', 'key-three', 'key-one', 'key-one']);
    assert.equal(after.build.API_KEY, 'key-three');
  } finally {
    await g.close();
  }
});
