import { readFileSync } from 'node:fs';
const p = JSON.parse(readFileSync(process.argv[2]));
const self = new Map(); const byId = new Map(p.nodes.map(n => [n.id, n]));
const dt = new Map(); for (let i = 0; i < p.samples.length; i++) dt.set(p.samples[i], (dt.get(p.samples[i]) ?? 0) + (p.timeDeltas[i] ?? 0));
let total = 0;
for (const n of p.nodes) { const t = dt.get(n.id) ?? 0; total += t; const k = `${n.callFrame.functionName || '(anon)'} ${n.callFrame.url.split('/').slice(-2).join('/')}:${n.callFrame.lineNumber}`; self.set(k, (self.get(k) ?? 0) + t); }
// inclusive by file
const incl = new Map();
const parent = new Map(); for (const n of p.nodes) for (const c of n.children ?? []) parent.set(c, n.id);
for (const n of p.nodes) { const t = dt.get(n.id) ?? 0; if (!t) continue; const seen = new Set(); let id = n.id; while (id !== undefined) { const m = byId.get(id); const f = m.callFrame.url.split('/').slice(-2).join('/'); if (!seen.has(f)) { seen.add(f); incl.set(f, (incl.get(f) ?? 0) + t); } id = parent.get(id); } }
console.log('total ms', (total/1000).toFixed(0));
console.log([...self].sort((a,b)=>b[1]-a[1]).slice(0,30).map(([k,v])=>`${(v/total*100).toFixed(1)}% ${k}`).join('\n'));
console.log('--- inclusive by file');
console.log([...incl].sort((a,b)=>b[1]-a[1]).slice(0,30).map(([k,v])=>`${(v/total*100).toFixed(1)}% ${k}`).join('\n'));
