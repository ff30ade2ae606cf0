// The control API's OpenAPI document: served, well-formed, and listing every /gantry/v1 route Gantry serves.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { startTestGantry } from '../helpers/server.js';

test('/gantry/v1/openapi.json documents every /gantry/v1 route, and only those', async () => {
  const g = await startTestGantry();
  try {
    const res = await fetch(`${g.url}/gantry/v1/openapi.json`);
    assert.equal(res.status, 200);
    const doc = (await res.json()) as { openapi: string; info: { version: string }; paths: Record<string, Record<string, { 'x-gantry-route': string; responses: object }>> };
    assert.equal(doc.openapi, '3.1.0');
    assert.equal(doc.info.version, (JSON.parse(readFileSync(new URL('../../../package.json', import.meta.url), 'utf8')) as { version: string }).version);
    const documented = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => {
      assert.ok(op.responses, `${method} ${path} has responses`);
      assert.equal(op['x-gantry-route'].split(' ')[0], method.toUpperCase());
      return op['x-gantry-route'];
    }));
    const served = g.routes().filter(r => r.template.startsWith('/gantry/v1/')).map(r => `${r.method} ${r.template}`);
    assert.deepEqual([...documented].sort(), [...new Set(served)].sort());
  } finally {
    await g.close();
  }
});
