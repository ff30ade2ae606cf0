// A project's IAM policy (Resource Manager v1), kept by the same policy methods every other API's resources use:
// `gcloud projects add-iam-policy-binding` (firebase-tools grants its service agents the same way) reads, edits and
// writes it back; a stale etag is IAM's ABORTED, a body without a policy is INVALID_ARGUMENT.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestGantry } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import type { Gantry } from '../../src/gantry.js';

let g: Gantry;
let gcloud: Gcloud;
before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url);
  gcloud.env.CLOUDSDK_API_ENDPOINT_OVERRIDES_CLOUDRESOURCEMANAGER = `${g.url}/`; // as `gantry env` sets it
});
after(() => g.close());

const post = async (path: string, body: unknown) => {
  const res = await fetch(`${g.url}${path}`, { method: 'POST', body: JSON.stringify(body), headers: { 'content-type': 'application/json' } });
  return { status: res.status, body: await res.json() as { etag?: string; bindings?: unknown[]; error?: { status: string; message: string } } };
};

test('gcloud projects add-iam-policy-binding and get-iam-policy keep the project policy; a stale etag is ABORTED', async () => {
  await gcloud(['projects', 'add-iam-policy-binding', 'my-proj', '--member=serviceAccount:deployer@my-proj.iam.gserviceaccount.com', '--role=roles/clouddeploy.releaser']);
  const policy = await gcloud.json<{ bindings: { role: string; members: string[] }[]; etag: string }>(['projects', 'get-iam-policy', 'my-proj']);
  assert.deepEqual(policy.bindings, [{ role: 'roles/clouddeploy.releaser', members: ['serviceAccount:deployer@my-proj.iam.gserviceaccount.com'] }]);
  const stale = await post('/v1/projects/my-proj:setIamPolicy', { policy: { bindings: [], etag: 'BwYAAAAAAAA=' } });
  assert.equal(stale.status, 409);
  assert.equal(stale.body.error!.status, 'ABORTED');
  assert.match(stale.body.error!.message, /concurrent policy changes/);
  const fresh = await post('/v1/projects/my-proj:setIamPolicy', { policy: { bindings: [], etag: policy.etag } });
  assert.equal(fresh.status, 200);
  assert.notEqual(fresh.body.etag, policy.etag);
  const missing = await post('/v1/projects/my-proj:setIamPolicy', {});
  assert.equal(missing.status, 400);
  assert.match(missing.body.error!.message, /policy is required/);
  const notObject = await post('/v1/projects/my-proj:getIamPolicy', [1]);
  assert.equal(notObject.status, 400);
});
