import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2]));
const byId = new Map(p.nodes.map(n => [n.id, n]));
const parent = new Map(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
const dt = new Map(); for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
const incl = new Map(); let busy = 0;
for (const n of p.nodes) { const t = dt.get(n.id) ?? 0; if (!t || n.callFrame.functionName === '(idle)') continue; busy += t; const seen = new Set(); let id = n.id; while (id !== undefined) { const m = byId.get(id); const k = `${m.callFrame.functionName || '(anon)'} ${m.callFrame.url.split('/').slice(-2).join('/')}:${m.callFrame.lineNumber}`; if (!seen.has(k)) { seen.add(k); incl.set(k, (incl.get(k) ?? 0) + t); } id = parent.get(id); } }
console.log('busy ms', (busy/1000).toFixed(0));
console.log([...incl].filter(([k]) => /grpc\/|server\/|apis\/|google\/|store\/|proto3-json|protobufjs|src\/(toproto|fromproto)|garbage/.test(k)).sort((a,b)=>b[1]-a[1]).slice(0,40).map(([k,v])=>`${(v/busy*100).toFixed(1)}% ${k}`).join('\n'));
