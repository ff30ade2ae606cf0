// Who may read a secret: Secret Manager's getIamPolicy, setIamPolicy and testIamPermissions on secrets, as Cloud Run's
// and App Hosting's secret docs use them: `gcloud secrets add-iam-policy-binding` / `get-iam-policy`, firebase-tools'
// `apphosting:secrets:set` and `grantaccess`, and @google-cloud/secret-manager over gRPC.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { startTestGantry } from '../helpers/server.js';
import { gcloudFor, type Gcloud } from '../helpers/gcloud.js';
import { gapicOptions } from '../helpers/clients.js';
import { firebase } from '../helpers/firebase.js';
import type { Gantry } from '../../src/gantry.js';

interface Policy { version?: number; etag?: string; bindings?: { role: string; members: string[] }[] }
let g: Gantry;
let gcloud: Gcloud;

before(async () => {
  g = await startTestGantry();
  gcloud = await gcloudFor(g.url, 'iam-proj', { run: true });
});
after(async () => { await g.close(); });

test('gcloud secrets add-iam-policy-binding and get-iam-policy keep a secret\'s policy; a missing secret is NOT_FOUND', async () => {
  await gcloud(['secrets', 'create', 'db-pass', '--replication-policy=automatic']);
  await gcloud(['secrets', 'add-iam-policy-binding', 'db-pass', '--member=serviceAccount:job@iam-proj.iam.gserviceaccount.com', '--role=roles/secretmanager.secretAccessor']);
  await gcloud(['secrets', 'add-iam-policy-binding', 'db-pass', '--member=user:dev@example.com', '--role=roles/secretmanager.secretAccessor']);
  const policy = await gcloud.json<Policy>(['secrets', 'get-iam-policy', 'db-pass']);
  assert.deepEqual(policy.bindings, [{ role: 'roles/secretmanager.secretAccessor', members: ['serviceAccount:job@iam-proj.iam.gserviceaccount.com', 'user:dev@example.com'] }]);
  assert.ok(policy.etag);
  await gcloud(['secrets', 'remove-iam-policy-binding', 'db-pass', '--member=user:dev@example.com', '--role=roles/secretmanager.secretAccessor']);
  assert.deepEqual((await gcloud.json<Policy>(['secrets', 'get-iam-policy', 'db-pass'])).bindings?.[0].members, ['serviceAccount:job@iam-proj.iam.gserviceaccount.com']);
  assert.match(await gcloud.fails(['secrets', 'get-iam-policy', 'no-such-secret']), /NOT_FOUND|not found/);
  // The policy goes with the secret: one made again under the name starts with none.
  await gcloud(['secrets', 'delete', 'db-pass', '--quiet']);
  await gcloud(['secrets', 'create', 'db-pass', '--replication-policy=automatic']);
  assert.equal((await gcloud.json<Policy>(['secrets', 'get-iam-policy', 'db-pass'])).bindings, undefined);
});

test('@google-cloud/secret-manager over gRPC: get, set (etag checked), testIamPermissions; the project number names the same policy', async () => {
  const client = new SecretManagerServiceClient(gapicOptions(g.url) as ConstructorParameters<typeof SecretManagerServiceClient>[0]);
  const [secret] = await client.createSecret({ parent: 'projects/iam-proj', secretId: 'grpc-secret', secret: { replication: { automatic: {} } } });
  const [empty] = await client.getIamPolicy({ resource: secret.name!, options: { requestedPolicyVersion: 3 } });
  assert.deepEqual(empty.bindings, []);
  const [set] = await client.setIamPolicy({ resource: 'projects/iam-proj/secrets/grpc-secret', policy: { bindings: [{ role: 'roles/secretmanager.secretAccessor', members: ['group:ops@example.com'] }], etag: empty.etag } });
  assert.notDeepEqual(set.etag, empty.etag);
  // secret.name carries the project number; the id form reads the same policy.
  assert.match(secret.name!, /^projects\/\d+\/secrets\/grpc-secret$/);
  const [got] = await client.getIamPolicy({ resource: 'projects/iam-proj/secrets/grpc-secret' });
  assert.deepEqual(got.bindings?.map(b => [b.role, b.members]), [['roles/secretmanager.secretAccessor', ['group:ops@example.com']]]);
  await assert.rejects(client.setIamPolicy({ resource: secret.name!, policy: { bindings: [], etag: empty.etag } }), { code: 10 }, 'a stale etag is ABORTED');
  const [perms] = await client.testIamPermissions({ resource: secret.name!, permissions: ['secretmanager.versions.access'] });
  assert.deepEqual(perms.permissions, ['secretmanager.versions.access']);
  await assert.rejects(client.getIamPolicy({ resource: 'projects/iam-proj/secrets/nope' }), { code: 5 }, 'a missing secret is NOT_FOUND');
  await client.close();
});

test('firebase apphosting:secrets:set and grantaccess give a backend\'s service account access to a secret', { timeout: 300_000 }, async () => {
  const project = 'iam-proj';
  const created = await firebase(g.url, process.cwd(), ['apphosting:backends:create', '--backend', 'web', '--primary-region', 'us-central1', '--project', project]);
  assert.equal(created.code, 0, created.stderr);
  await gcloud(['secrets', 'create', 'fb-secret', '--replication-policy=automatic']);
  const granted = await firebase(g.url, process.cwd(), ['apphosting:secrets:grantaccess', 'fb-secret', '--backend', 'web', '--project', project]);
  assert.equal(granted.code, 0, granted.stdout + granted.stderr);
  assert.match(granted.stdout + granted.stderr, /Successfully set IAM bindings on secret fb-secret/);
  const policy = await gcloud.json<Policy>(['secrets', 'get-iam-policy', 'fb-secret']);
  const accessors = policy.bindings?.find(b => b.role === 'roles/secretmanager.secretAccessor')?.members ?? [];
  assert.ok(accessors.some(m => /^serviceAccount:firebase-app-hosting-compute@iam-proj\.iam\.gserviceaccount\.com$/.test(m)), JSON.stringify(policy));
});
