// A Gantry killed while Cloud Run services serve comes back serving: the same URLs answer from the same revisions,
// with a new instance of each, and the instance the killed Gantry left behind is stopped.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { spawnGantry, tempDir, eventually } from '../helpers/server.js';
import { getApp } from '../helpers/apphosting.js';
import { projectNumber } from '../../src/google/project-number.js';

const SERVICES = '/v2/projects/dur-svc/locations/us-central1/services';

test('SIGKILL while serving: the restarted Gantry serves the same URLs from the same revisions and reaps the old instance', async () => {
  const dir = tempDir();
  const app = tempDir('svc-app-');
  writeFileSync(join(app, 'server.js'), [
    "require('fs').writeFileSync(require('path').join(__dirname, 'pid-' + process.env.K_REVISION + '-' + process.pid), '');",
    "require('fs').writeFileSync(require('path').join(__dirname, 'last-' + process.env.K_REVISION), String(process.pid));",
    "require('http').createServer((q, s) => s.end(process.env.K_REVISION + ' ' + process.pid)).listen(process.env.PORT);",
  ].join('\n'));
  const args = ['--data-dir', dir, '--log-level', 'silent', '--executor', 'process'];
  const g = await spawnGantry(args);
  let killed = false;
  try {
  const create = async (url: string, id: string, tag: string) => {
    const r = await fetch(`${url}${SERVICES}?serviceId=${id}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({
      template: { containers: [{ image: `app:${tag}`, command: ['node', join(app, 'server.js')] }] },
    }) });
    assert.equal(r.status, 200, await r.text());
  };
  await create(g.url, 'one', 'a');
  await create(g.url, 'two', 'b');
  const host = (id: string) => `${id}-${projectNumber('dur-svc')}.us-central1.run.app`;
  const before: Record<string, string> = {};
  for (const id of ['one', 'two']) {
    before[id] = await eventually(async () => { const r = await getApp(g.url, host(id)); return r.status === 200 ? r.body : undefined; }, 20_000);
  }
  await g.kill('SIGKILL');
  killed = true;

  const again = await spawnGantry(args);
  try {
    for (const id of ['one', 'two']) {
      const [revision, oldPid] = before[id].split(' ');
      const now = await eventually(async () => { const r = await getApp(again.url, host(id)); return r.status === 200 ? r.body : undefined; }, 30_000);
      const [sameRevision, pid] = now.split(' ');
      assert.equal(sameRevision, revision, 'the same revision serves');
      assert.notEqual(pid, oldPid, 'from a new instance');
      assert.equal(readFileSync(join(app, `last-${revision}`), 'utf8'), pid);
      // The instance the killed Gantry left was stopped, not left serving beside the new one.
      await eventually(() => { try { process.kill(Number(oldPid), 0); return false; } catch { return true; } }, 20_000);
    }
  } finally {
    await again.kill('SIGTERM');
  }
  } finally {
    if (!killed) await g.kill('SIGTERM');
  }
});
