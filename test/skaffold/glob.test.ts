import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BadPatternError, expandPathsGlob, goGlob, segmentRegExp } from '../../src/skaffold/glob.js';

test("segment patterns follow Go's filepath.Match", () => {
  const m = (p: string, s: string) => segmentRegExp(p).test(s);
  assert.ok(m('*.yaml', '.hidden.yaml'));
  assert.ok(!m('*', 'a/b'));
  assert.ok(m('a?c', 'abc') && !m('a?c', 'a/c'));
  assert.ok(m('[a-c]x', 'bx') && !m('[a-c]x', 'dx'));
  assert.ok(m('[^a-c]x', 'dx') && !m('[^a-c]x', 'ax'));
  assert.ok(m('\\*', '*') && !m('\\*', 'a'));
  assert.ok(m('**', 'anything') && !m('**', 'a/b'));
  assert.ok(m('a.b', 'a.b') && !m('a.b', 'axb'));
  for (const bad of ['[', '[a-', '\\', '[]', '[z-a]']) assert.throws(() => segmentRegExp(bad), BadPatternError, bad);
});

test('Glob and ExpandPathsGlob', async () => {
  const root = mkdtempSync(join(tmpdir(), 'skaffold-glob-'));
  try {
    for (const f of ['k8s/a.yaml', 'k8s/b.yaml', 'k8s/sub/c.yaml', 'k8s/sub/deeper/d.yaml', 'other/e.yaml']) {
      mkdirSync(join(root, f, '..'), { recursive: true });
      writeFileSync(join(root, f), '');
    }
    const rel = (fs: string[]) => fs.map(f => f.slice(root.length + 1));
    assert.deepEqual(rel(await goGlob(join(root, '*/*.yaml'))), ['k8s/a.yaml', 'k8s/b.yaml', 'other/e.yaml']);
    assert.deepEqual(rel(await goGlob(join(root, 'k8s/**/*.yaml'))), ['k8s/sub/c.yaml']);
    assert.deepEqual(await goGlob(join(root, 'nothing/*.yaml')), []);
    const e = await expandPathsGlob(['k8s/b.yaml', 'k8s/*', 'missing/*.yaml', 'k8s/a.yaml'], p => join(root, p));
    assert.deepEqual(rel(e.files), ['k8s/b.yaml', 'k8s/a.yaml', 'k8s/sub/c.yaml', 'k8s/sub/deeper/d.yaml']);
    assert.deepEqual(e.unmatched, ['missing/*.yaml']);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
});
