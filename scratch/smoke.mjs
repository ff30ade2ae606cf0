import { startGantry } from '../dist/src/gantry.js';
import { CloudDeployClient } from '@google-cloud/deploy';
import * as grpc from '@grpc/grpc-js';
const g = await startGantry({ port: 0, dataDir: ':memory:', logLevel: 'error' });
const c = new CloudDeployClient({ apiEndpoint: '127.0.0.1', port: g.port, sslCreds: grpc.credentials.createInsecure() });
const parent = 'projects/p/locations/us-central1';
try {
  const [op] = await c.createDeliveryPipeline({ parent, deliveryPipelineId: 'app', deliveryPipeline: { serialPipeline: { stages: [{ targetId: 'dev' }] } } });
  const [res] = await op.promise();
  console.log('created', res.name, res.uid, res.createTime);
  const [p] = await c.getDeliveryPipeline({ name: `${parent}/deliveryPipelines/app` });
  console.log('get', JSON.stringify(p));
  try { await c.createDeliveryPipeline({ parent, deliveryPipelineId: 'app', deliveryPipeline: {} }).then(([o]) => o.promise()); } catch (e) { console.log('dup', e.code, e.message, e.statusDetails?.length); }
  try { await c.getDeliveryPipeline({ name: `${parent}/deliveryPipelines/nope` }); } catch (e) { console.log('nf', e.code, e.message, JSON.stringify(e.statusDetails)); }
  const [list] = await c.listDeliveryPipelines({ parent });
  console.log('list', list.length);
  const locs = []; for await (const l of c.listLocationsAsync({ name: 'projects/p' })) locs.push(l);
  console.log('locs', locs.length);
  const [t0] = await c.createTarget({ parent, targetId: 'dev', target: { gke: { cluster: 'projects/p/locations/us-central1/clusters/c' }, executionConfigs: [{ usages: ['RENDER', 'DEPLOY'] }] } });
  const [t] = await t0.promise();
  console.log('target', t.name, JSON.stringify(t.executionConfigs));
} catch (e) { console.log('ERR', e); }
c.close();
await g.close();
