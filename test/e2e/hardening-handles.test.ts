// Issue 23, task handles: a handle stored with a resource (a process id, a container id) may come from an imported
// snapshot, so Gantry acts only on processes and containers it can prove it started. A snapshot naming a victim
// (a process or a container the test made itself) as a running attempt's handle leaves the victim alive through
// the resume (or reap) and the cancel of that attempt.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import Docker from 'dockerode';
import { eventually, startTestGantry } from '../helpers/server.js';
import { dockerUnavailable, startDocker, TEST_IMAGE } from '../helpers/docker.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/handles/locations/us-central1';

async function call(g: Gantry, method: string, path: string, body?: unknown): Promise<Record<string, any>> {
  const r = await fetch(g.url + path, { method, body: body === undefined ? undefined : JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  const text = await r.text();
  assert.equal(r.status, 200, `${method} ${path}: ${text}`);
  return JSON.parse(text) as Record<string, any>;
}

/**
 * Runs a long task, waits until its attempt's handle is recorded, and answers the snapshot with that handle
 * replaced by `victim`, and the execution's name.
 */
async function snapshotNaming(g: Gantry, image: string, victim: string): Promise<{ snapshot: string; execution: string }> {
  await call(g, 'POST', `/v2/${LOC}/jobs?jobId=long`, { template: { taskCount: 1, template: { maxRetries: 0, containers: [{ image, command: ['sleep'], args: ['60'] }] } } });
  await call(g, 'POST', `/v2/${LOC}/jobs/long:run`, {});
  const lines = await eventually(async () => {
    const l = (await (await fetch(`${g.url}/gantry/v1/snapshot`)).text()).split('\n');
    return l.some(x => x.includes('"kind":"run.execution"') && x.includes('"handle":"')) ? l : undefined;
  }, 20_000);
  let execution = '';
  const snapshot = lines.map(l => {
    if (!l.includes('"kind":"run.execution"')) return l;
    const row = JSON.parse(l) as { resource: { name: string; data: { gantry: { running: Record<string, { handle?: string }> } } } };
    execution = row.resource.name;
    for (const a of Object.values(row.resource.data.gantry.running)) a.handle = victim;
    return JSON.stringify(row);
  }).join('\n');
  return { snapshot, execution };
}

async function importAndCancel(g: Gantry, snapshot: string, execution: string): Promise<void> {
  const r = await fetch(`${g.url}/gantry/v1/snapshot:import`, { method: 'POST', body: snapshot, headers: { 'content-type': 'application/x-ndjson' } });
  assert.equal(r.status, 200, await r.text());
  // The lost attempt ends (it was never Gantry's to take back); a cancel of the execution stops nothing else.
  await fetch(`${g.url}/v2/${execution}:cancel`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
  await new Promise(r => setTimeout(r, 500));
}

test('a process named as an imported attempt\'s handle is never signalled', { skip: process.platform !== 'linux' && 'process start times come from /proc' }, async () => {
  // The victim leads its own process group, as a task does, so a signal to the group would reach it.
  const victim = spawn('sleep', ['60'], { detached: true, stdio: 'ignore' });
  const g = await startTestGantry({ executor: 'process' });
  try {
    const { snapshot, execution } = await snapshotNaming(g, 'unused', String(victim.pid));
    await importAndCancel(g, snapshot, execution);
    assert.doesNotThrow(() => process.kill(victim.pid!, 0), 'the victim process lives');
  } finally {
    await g.close();
    victim.kill('SIGKILL');
  }
});

const dockerSkip = process.env.CI ? undefined : dockerUnavailable();

test('a container named as an imported attempt\'s handle is never stopped or removed', { skip: dockerSkip }, async () => {
  const docker = await startDocker();
  const engine = new Docker({ socketPath: docker.socket });
  const g = await startTestGantry({ executor: 'container', dockerSocket: docker.socket });
  try {
    // A container Gantry did not start: no instance label.
    const victim = await engine.createContainer({ name: 'victim-db', Image: TEST_IMAGE, Cmd: ['sleep', '600'], HostConfig: { NetworkMode: 'none' } });
    await victim.start();
    for (const handle of ['victim-db', victim.id]) {
      const { snapshot, execution } = await snapshotNaming(g, TEST_IMAGE, handle);
      await importAndCancel(g, snapshot, execution);
      const info = await victim.inspect();
      assert.equal(info.State.Running, true, `the victim runs on (handle ${handle})`);
      await call(g, 'POST', '/gantry/v1/reset', {});
    }
  } finally {
    await g.close();
    await docker.stop();
  }
});
