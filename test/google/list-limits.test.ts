// List availability through googleapis: pathological filters answer promptly, unbounded ones are refused in
// Google's shape, and a page of large resources is capped in bytes without losing or repeating any.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import type { clouddeploy_v1 } from 'googleapis';
import { startTestGantry, eventually } from '../helpers/server.js';
import { googleapisDeploy, googleError } from '../helpers/clients.js';
import { MAX_FILTER_DEPTH } from '../../src/google/filter.js';
import { PAGE_MAX_BYTES } from '../../src/google/paging.js';
import type { Gantry } from '../../src/gantry.js';

const LOC = 'projects/lim-proj/locations/us-central1';
let g: Gantry;
let api: clouddeploy_v1.Resource$Projects$Locations;

before(async () => {
  g = await startTestGantry();
  api = googleapisDeploy(g.url).projects.locations;
});
after(() => g.close());

async function createTarget(parent: string, id: string, body: clouddeploy_v1.Schema$Target): Promise<void> {
  const op = (await api.targets.create({ parent, targetId: id, requestBody: { run: { location: parent }, ...body } })).data;
  await eventually(async () => (await api.operations.get({ name: op.name! })).data.done);
}

const violation = (e: { details?: Record<string, unknown>[] }) =>
  (e.details?.find(d => d['@type'] === 'type.googleapis.com/google.rpc.BadRequest') as { fieldViolations: { field: string }[] } | undefined)?.fieldViolations[0].field;

test('a wildcard filter that backtracked for a minute answers promptly and correctly', async () => {
  await createTarget(LOC, 'long', { description: 'a'.repeat(255) });
  await createTarget(LOC, 'ends-b', { description: 'a'.repeat(254) + 'b' });
  // The client gives up after 5 s: the RegExp matcher held the whole server for ~25-60 s on this filter.
  const list = async (filter: string) =>
    ((await api.targets.list({ parent: LOC, filter }, { timeout: 5000, retry: false })).data.targets ?? []).map(t => t.targetId).sort();
  assert.deepEqual(await list('description="*a*a*a*a*b"'), ['ends-b']);
  assert.deepEqual(await list('description="*a*a*a*a*a*a*a*a*c"'), []);
  assert.deepEqual(await list('description="a*a*a*a*a*a*a*a*a"'), ['long']);
  assert.deepEqual(await list('description!="*a*a*a*a*b"'), ['long']);
});

test('filters nested too deep or too long, and orderBy with too many keys, are INVALID_ARGUMENT naming the field', async () => {
  const nested = (n: number) => '('.repeat(n) + 'targetId="long"' + ')'.repeat(n);
  // 4,000 levels used to overflow the parser's stack: HTTP 500. (Sent with bare parentheses: googleapis's %28/%29
  // would take the URL past the 16 KiB request-line limit, refused before any parsing.)
  const raw = await fetch(`${g.url}/v1/${LOC}/targets?filter=${nested(4000).replace(/"/g, '%22')}`);
  const rawError = ((await raw.json()) as { error: { code: number; status: string; details?: Record<string, unknown>[] } }).error;
  assert.deepEqual([raw.status, rawError.status, violation(rawError)], [400, 'INVALID_ARGUMENT', 'filter']);
  const deep = await googleError(api.targets.list({ parent: LOC, filter: nested(MAX_FILTER_DEPTH + 1) }));
  assert.deepEqual([deep.code, deep.status, violation(deep)], [400, 'INVALID_ARGUMENT', 'filter']);
  assert.match(deep.message, /nest/);
  assert.deepEqual((await api.targets.list({ parent: LOC, filter: nested(MAX_FILTER_DEPTH) })).data.targets!.map(t => t.targetId), ['long']);
  const long = await googleError(api.targets.list({ parent: LOC, filter: 'targetId="long" OR '.repeat(300) + 'targetId="x"' }));
  assert.deepEqual([long.status, violation(long)], ['INVALID_ARGUMENT', 'filter']);
  const keys = await googleError(api.targets.list({ parent: LOC, orderBy: Array(20).fill('targetId').join(',') }));
  assert.deepEqual([keys.status, violation(keys)], ['INVALID_ARGUMENT', 'order_by']);
});

test(`a page holds at most ${PAGE_MAX_BYTES} bytes of resources; following the tokens returns each exactly once`, async () => {
  const parent = 'projects/lim-proj/locations/europe-west1';
  // 24 targets of ~200 KB (Cloud Deploy allows 256 KB of annotations): ~4.8 MB, more than one page holds.
  const ids = Array.from({ length: 24 }, (_, i) => `big-${String(i).padStart(2, '0')}`);
  for (const id of ids) await createTarget(parent, id, { annotations: { blob: id.repeat(200_000 / id.length) } });
  const pages: string[][] = [];
  let pageToken: string | undefined;
  do {
    const res = await api.targets.list({ parent, pageSize: 1000, pageToken });
    const page = res.data.targets ?? [];
    pages.push(page.map(t => t.targetId!));
    assert.ok(JSON.stringify(page).length <= PAGE_MAX_BYTES, `a page of ${JSON.stringify(page).length} bytes`);
    pageToken = res.data.nextPageToken ?? undefined;
  } while (pageToken);
  assert.ok(pages.length >= 2, `${pages.length} page(s)`);
  assert.deepEqual(pages.flat(), ids);
});
