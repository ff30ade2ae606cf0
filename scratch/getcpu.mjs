import { spawn } from 'node:child_process';
import { readFileSync, mkdtempSync } from 'node:fs';
import autocannon from 'autocannon';
const LOC = 'projects/bench/locations/us-central1';
const cpu = pid => { const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' '); return (Number(f[11]) + Number(f[12])) * 10; };
async function one(main) {
  const proc = spawn(process.execPath, [main, '--port', '0', '--data-dir', mkdtempSync('/tmp/gb-'), '--log-level', 'silent'], { stdio: ['ignore', 'pipe', 'inherit'] });
  const url = await new Promise(r => proc.stdout.on('data', d => { const m = /listening on (http:\/\/\S+)/.exec(String(d)); if (m) r(m[1]); }));
  await fetch(`${url}/v1/${LOC}/targets?targetId=bench`, { method: 'POST', body: JSON.stringify({ description: 'bench', labels: { a: 'b' }, run: { location: LOC } }), headers: { 'content-type': 'application/json' } });
  const path = `${url}/v1/${LOC}/targets/bench`;
  await autocannon({ url: path, connections: 10, duration: 1 });
  const c0 = cpu(proc.pid);
  const r = await autocannon({ url: path, connections: 10, duration: 5 });
  const us = (cpu(proc.pid) - c0) * 1000 / r.requests.total;
  proc.kill();
  return `${r.requests.average.toFixed(0)} req/s, ${us.toFixed(1)} µs CPU/req`;
}
for (let i = 0; i < 3; i++) {
  console.log('old', await one('/tmp/old/dist/src/main.js'));
  console.log('new', await one('/work/main/dist/src/main.js'));
}
