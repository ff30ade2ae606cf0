// `gantry env` right after a start: the certificate and the Node libraries' credentials are made after Gantry listens,
// so env waits for the credentials file it names (a client given GOOGLE_APPLICATION_CREDENTIALS before it exists fails).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { envCommand } from '../../src/cli/env.js';
import { CREDENTIALS_FILE } from '../../src/server/tls.js';
import { tempDir } from '../helpers/server.js';

const lockFor = (dir: string) => {
  mkdirSync(join(dir, 'tls'), { recursive: true });
  writeFileSync(join(dir, 'gantry.lock'), JSON.stringify({ pid: process.pid, url: 'http://127.0.0.1:1', tlsCertFile: join(dir, 'tls', 'cert.pem') }));
};

test('env waits for the credentials file a starting Gantry is making, then names it', async () => {
  const dir = tempDir();
  lockFor(dir);
  const creds = join(dir, 'tls', CREDENTIALS_FILE);
  const t0 = Date.now();
  setTimeout(() => writeFileSync(creds, '{}'), 300);
  const out = await envCommand(['--data-dir', dir, '--project', 'my-proj'], { env: {}, projects: async () => undefined });
  assert.ok(Date.now() - t0 >= 290, 'returned before the file existed');
  assert.match(out, new RegExp(`GOOGLE_APPLICATION_CREDENTIALS=['"]?${creds.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
});

test('env does not wait for ever: past its limit it prints what it knows', async () => {
  const dir = tempDir();
  lockFor(dir);
  const out = await envCommand(['--data-dir', dir, '--project', 'my-proj'], { env: {}, projects: async () => undefined, waitMs: 100 });
  assert.match(out, /GOOGLE_APPLICATION_CREDENTIALS/);
});
