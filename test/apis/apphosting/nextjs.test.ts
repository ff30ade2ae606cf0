// The Next.js adapter's output step as Gantry does it: static assets and the app's files copied into the standalone
// directory; a build that left none, or a standalone directory or server.js that a symlink points out of the
// source, fails the build instead of being read.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, readFileSync, realpathSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { tempDir, writeTree } from '../../helpers/server.js';
import { bundleNextOutput, isNextApp } from '../../../src/apis/apphosting/nextjs.js';
import { BuildFailure } from '../../../src/apis/apphosting/builder.js';

const app = (files: Record<string, string>) => realpathSync(writeTree(tempDir('gantry-next-'), files));

test('isNextApp: a dependency or devDependency on next', () => {
  assert.equal(isNextApp({ dependencies: { next: '15.0.5' } }), true);
  assert.equal(isNextApp({ devDependencies: { next: '15' } }), true);
  assert.equal(isNextApp({ dependencies: { 'next-auth': '1' } }), false);
  assert.equal(isNextApp({ dependencies: ['next'] }), false);
  assert.equal(isNextApp(undefined), false);
});

test('bundleNextOutput copies .next/static and the app\'s files (not apphosting.yaml) into .next/standalone', () => {
  const dir = app({
    '.next/standalone/server.js': 'server', '.next/standalone/package.json': '{"standalone":true}', '.next/static/chunks/a.js': 'chunk',
    'public/logo.svg': '<svg/>', 'package.json': '{"original":true}', 'apphosting.yaml': 'env: []',
  });
  const out = bundleNextOutput(dir, dir);
  assert.equal(out, join(dir, '.next', 'standalone'));
  assert.equal(readFileSync(join(out, '.next/static/chunks/a.js'), 'utf8'), 'chunk');
  assert.equal(readFileSync(join(out, 'public/logo.svg'), 'utf8'), '<svg/>');
  assert.equal(readFileSync(join(out, 'package.json'), 'utf8'), '{"standalone":true}', 'what the standalone output has is kept');
  assert.equal(existsSync(join(out, 'apphosting.yaml')), false);
});

test('bundleNextOutput fails a build without .next/standalone/server.js, or whose output a symlink takes out of the source', () => {
  const bare = app({ 'package.json': '{}' });
  assert.throws(() => bundleNextOutput(bare, bare), (e: unknown) => e instanceof BuildFailure && /no \.next\/standalone\/server\.js/.test(e.message));
  const outside = app({ 'server.js': 'elsewhere' });
  const linked = app({ 'package.json': '{}' });
  mkdirSync(join(linked, '.next'));
  symlinkSync(outside, join(linked, '.next', 'standalone'));
  assert.throws(() => bundleNextOutput(linked, linked), (e: unknown) => e instanceof BuildFailure && /cannot be used/.test(e.message));
  const serverLinked = app({ '.next/standalone/x': '' });
  symlinkSync(join(outside, 'server.js'), join(serverLinked, '.next', 'standalone', 'server.js'));
  assert.throws(() => bundleNextOutput(serverLinked, serverLinked), BuildFailure);
});
