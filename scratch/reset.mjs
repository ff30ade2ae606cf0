import { startGantry } from '../dist/src/gantry.js';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
const g = await startGantry({ port: 0, dataDir: mkdtempSync('/tmp/rs-'), logLevel: 'error', executor: 'process' });
const dir = mkdtempSync('/tmp/rsp-');
const call = async (m, p, b) => { const r = await fetch(g.url + p, { method: m, body: b === undefined ? undefined : JSON.stringify(b), headers: { 'content-type': 'application/json' } }); return r.json(); };
for (const p of ['run-a', 'run-b']) {
  const loc = `projects/${p}/locations/us-central1`;
  await call('POST', `/v2/${loc}/jobs?jobId=sleeper`, { template: { template: { maxRetries: 0, containers: [{ image: 'busybox', command: ['sh', '-c', `echo $$ > ${dir}/${p}.pid; exec sleep 30`] }] } } });
  await new Promise(r => setTimeout(r, 300));
  await call('POST', `/v2/${loc}/jobs/sleeper:run`, {});
}
while (!existsSync(`${dir}/run-b.pid`) || !existsSync(`${dir}/run-a.pid`)) await new Promise(r => setTimeout(r, 50));
const t0 = Date.now();
console.log(await call('POST', '/gantry/v1/reset', { project: 'run-a' }), Date.now() - t0, 'ms');
const alive = n => { try { process.kill(n, 0); return true; } catch { return false; } };
console.log('a', alive(Number(readFileSync(`${dir}/run-a.pid`, 'utf8'))), 'b', alive(Number(readFileSync(`${dir}/run-b.pid`, 'utf8'))));
await call('POST', '/gantry/v1/reset', {});
await g.close();
