import { startGantry } from '../dist/src/gantry.js';
const g = await startGantry({ port: 0, dataDir: ':memory:', logLevel: 'error' });
const u = `http://127.0.0.1:${g.port}/v1/projects/p/locations/us-central1/deliveryPipelines?deliveryPipelineId=app`;
let r = await fetch(u, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({"annotations":{},"labels":{},"serialPipeline":{"stages":[{"targetId":"dev"}]}}) });
console.log(r.status, await r.text());
r = await fetch(`http://127.0.0.1:${g.port}/v1/projects/p/locations/us-central1/deliveryPipelines/app`);
console.log(await r.text());
await g.close();
