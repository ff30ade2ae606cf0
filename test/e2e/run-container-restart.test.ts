// A Gantry killed while a Cloud Run task runs as a container re-attaches to it on restart: the container finishes,
// its output reaches the logs, and the task succeeds on its first attempt (not retried).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnGantry, tempDir, eventually } from '../helpers/server.js';
import { dockerUnavailable, startDocker, TEST_IMAGE } from '../helpers/docker.js';

const skip = process.env.CI ? undefined : dockerUnavailable();
const NS = '/apis/run.googleapis.com/v1/namespaces/re';

test('a container still running is re-attached after SIGKILL', { skip }, async () => {
  const docker = await startDocker();
  const dir = tempDir();
  const args = ['--data-dir', dir, '--log-level', 'silent', '--executor', 'container', '--docker-socket', docker.socket];
  const call = async (url: string, method: string, path: string, body?: unknown) => {
    const r = await fetch(url + NS + path, { method, body: body ? JSON.stringify(body) : undefined, headers: { 'content-type': 'application/json' } });
    const j = await r.json() as Record<string, any>;
    assert.equal(r.status, 200, JSON.stringify(j));
    return j;
  };
  let g = await spawnGantry(args);
  try {
    await call(g.url, 'POST', '/jobs', { metadata: { name: 'long' }, spec: { template: { spec: { template: { spec: { maxRetries: 0, containers: [{ image: TEST_IMAGE, command: ['sh', '-c', 'echo started; sleep 3; echo finished'] }] } } } } } });
    await eventually(async () => (await call(g.url, 'GET', '/jobs/long')).status?.conditions?.[0]?.status === 'True', 15_000);
    const ex = (await call(g.url, 'POST', '/jobs/long:run', {})).metadata.name as string;
    await eventually(async () => (await call(g.url, 'GET', `/executions/${ex}`)).status.runningCount === 1, 15_000);
    await new Promise(r => setTimeout(r, 1000));
    await g.kill('SIGKILL');
    g = await spawnGantry(args);
    const done = await eventually(async () => {
      const e = await call(g.url, 'GET', `/executions/${ex}`);
      return e.status.conditions.find((c: { type: string; status: string }) => c.type === 'Completed' && c.status !== 'Unknown') ? e : undefined;
    }, 30_000);
    assert.equal(done.status.succeededCount, 1);
    assert.equal(done.status.retriedCount, undefined, 'the attempt was taken back, not retried');
    // The logUri names the origin of the Gantry that made the execution (this one listens on another port).
    const uri = new URL(done.status.logUri);
    const text = await (await fetch(g.url + uri.pathname + uri.search)).text();
    assert.match(text, /finished/);
  } finally {
    await g.kill('SIGTERM');
    await docker.stop();
  }
});
