// Secret Manager v1 through googleapis: secrets and versions, access by number and `latest`, disable / enable /
// destroy, the project number in names, and bad input as Google answers it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { google, type secretmanager_v1 } from 'googleapis';
import { startTestGantry } from '../helpers/server.js';
import { SecretManagerServiceClient } from '@google-cloud/secret-manager';
import { gapicOptions, googleError } from '../helpers/clients.js';
import type { Gantry } from '../../src/gantry.js';
import { crc32c } from '../../src/apis/secretmanager/crc32c.js';

let g: Gantry;
let sm: secretmanager_v1.Secretmanager;
const b64 = (s: string) => Buffer.from(s).toString('base64');

before(async () => {
  g = await startTestGantry();
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 't', expiry_date: Date.now() + 3600_000 });
  sm = google.secretmanager({ version: 'v1', rootUrl: g.url + '/', auth });
});
after(async () => { await g.close(); });

test('secrets and versions: add, access, latest, disable, enable, destroy', async () => {
  const s = (await sm.projects.secrets.create({ parent: 'projects/sm-proj', secretId: 'db-pass', requestBody: { replication: { automatic: {} }, labels: { team: 'a' } } })).data;
  assert.match(s.name!, /^projects\/\d{12}\/secrets\/db-pass$/);
  const v1 = (await sm.projects.secrets.addVersion({ parent: 'projects/sm-proj/secrets/db-pass', requestBody: { payload: { data: b64('one') } } })).data;
  assert.match(v1.name!, /\/versions\/1$/);
  assert.equal(v1.state, 'ENABLED');
  // CRC32C("123456789") is 0xE3069283, the standard check value.
  assert.equal(crc32c(Buffer.from('123456789')), 0xe3069283);
  await sm.projects.secrets.addVersion({ parent: 'projects/sm-proj/secrets/db-pass', requestBody: { payload: { data: b64('two'), dataCrc32c: String(crc32c(Buffer.from('two'))) } } });
  const latest = (await sm.projects.secrets.versions.access({ name: 'projects/sm-proj/secrets/db-pass/versions/latest' })).data;
  assert.equal(Buffer.from(latest.payload!.data!, 'base64').toString(), 'two');
  assert.match(latest.name!, /\/versions\/2$/);
  assert.equal(Buffer.from((await sm.projects.secrets.versions.access({ name: 'projects/sm-proj/secrets/db-pass/versions/1' })).data.payload!.data!, 'base64').toString(), 'one');
  await sm.projects.secrets.versions.disable({ name: 'projects/sm-proj/secrets/db-pass/versions/1', requestBody: {} });
  const disabled = await googleError(sm.projects.secrets.versions.access({ name: 'projects/sm-proj/secrets/db-pass/versions/1' }));
  assert.equal(disabled.status, 'FAILED_PRECONDITION');
  assert.match(disabled.message, /is in DISABLED state/);
  await sm.projects.secrets.versions.enable({ name: 'projects/sm-proj/secrets/db-pass/versions/1', requestBody: {} });
  await sm.projects.secrets.versions.destroy({ name: 'projects/sm-proj/secrets/db-pass/versions/1', requestBody: {} });
  assert.match((await googleError(sm.projects.secrets.versions.access({ name: 'projects/sm-proj/secrets/db-pass/versions/1' }))).message, /DESTROYED/);
  const listed = (await sm.projects.secrets.versions.list({ parent: 'projects/sm-proj/secrets/db-pass' })).data.versions!;
  assert.equal(listed.find(v => v.name!.endsWith('/1'))!.state, 'DESTROYED');
  const secrets = (await sm.projects.secrets.list({ parent: 'projects/sm-proj' })).data.secrets!;
  assert.deepEqual(secrets.map(x => x.name!.split('/').pop()), ['db-pass']);
  await sm.projects.secrets.delete({ name: 'projects/sm-proj/secrets/db-pass' });
  assert.equal((await googleError(sm.projects.secrets.get({ name: 'projects/sm-proj/secrets/db-pass' }))).status, 'NOT_FOUND');
});

test('bad input: ids, replication, checksums, sizes, unknown fields, etags', async () => {
  const bad = async (p: Promise<unknown>, status: string, re: RegExp) => {
    const e = await googleError(p);
    assert.equal(e.status, status, e.message);
    assert.match(e.message, re);
  };
  await bad(sm.projects.secrets.create({ parent: 'projects/sm-proj', secretId: 'no spaces', requestBody: { replication: { automatic: {} } } }), 'INVALID_ARGUMENT', /secret id/);
  await bad(sm.projects.secrets.create({ parent: 'projects/sm-proj', secretId: 'x', requestBody: {} }), 'INVALID_ARGUMENT', /replication/);
  await bad(sm.projects.secrets.create({ parent: 'projects/sm-proj', secretId: 'x', requestBody: { replication: { automatic: {} }, bogus: 1 } as never }), 'INVALID_ARGUMENT', /bogus/);
  await sm.projects.secrets.create({ parent: 'projects/sm-proj', secretId: 'x', requestBody: { replication: { automatic: {} } } });
  await bad(sm.projects.secrets.create({ parent: 'projects/sm-proj', secretId: 'x', requestBody: { replication: { automatic: {} } } }), 'ALREADY_EXISTS', /already exists/);
  await bad(sm.projects.secrets.addVersion({ parent: 'projects/sm-proj/secrets/x', requestBody: { payload: { data: b64('abc'), dataCrc32c: '1' } } }), 'INVALID_ARGUMENT', /Checksum mismatch/);
  await bad(sm.projects.secrets.addVersion({ parent: 'projects/sm-proj/secrets/x', requestBody: { payload: { data: Buffer.alloc(70_000).toString('base64') } } }), 'INVALID_ARGUMENT', /at most 65536 bytes/);
  await bad(sm.projects.secrets.versions.access({ name: 'projects/sm-proj/secrets/x/versions/latest' }), 'NOT_FOUND', /not found/);
  await bad(sm.projects.secrets.delete({ name: 'projects/sm-proj/secrets/x', etag: '"stale"' }), 'ABORTED', /etag/);
});

test('expiry and rotation times: checked as Durations and Timestamps, a ttl sets the expire time, and gRPC reads what REST wrote', async () => {
  const bad = async (p: Promise<unknown>, field: RegExp) => {
    const e = await googleError(p);
    assert.equal(e.status, 'INVALID_ARGUMENT');
    assert.match(e.message, field);
  };
  const parent = 'projects/sm-times';
  const replication = { automatic: {} };
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, ttl: 'bogus' } }), /secret\.ttl/);
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, expireTime: 'not a time' } }), /secret\.expire_time/);
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, ttl: '60s', expireTime: '2030-01-01T00:00:00Z' } }), /Only one of/);
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, versionDestroyTtl: '-1s' } }), /version_destroy_ttl/);
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, versionDestroyTtl: '-0s' } }), /version_destroy_ttl/);
  // A ttl whose expire time would be past the last a Timestamp holds (9999-12-31).
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, ttl: '315576000000s' } }), /secret\.ttl/);
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, ttl: '9000000000000s' } }), /secret\.ttl/);
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, rotation: { rotationPeriod: '7200s' } } }), /next_rotation_time must be set/);
  await bad(sm.projects.secrets.create({ parent, secretId: 'a', requestBody: { replication, rotation: { rotationPeriod: '60s', nextRotationTime: '2030-01-01T00:00:00Z' } } }), /between 3600s/);
  const before = Date.now();
  const made = (await sm.projects.secrets.create({ parent, secretId: 'expiring', requestBody: { replication, ttl: '86400s', rotation: { rotationPeriod: '7200s', nextRotationTime: '2030-01-01T00:00:00Z' } } })).data;
  assert.equal(made.ttl, undefined, 'ttl is input only');
  const expires = Date.parse(made.expireTime!);
  assert.ok(expires >= before + 86_400_000 - 5000 && expires <= Date.now() + 86_400_000 + 5000, made.expireTime!);
  await bad(sm.projects.secrets.patch({ name: `${parent}/secrets/expiring`, updateMask: 'rotation', requestBody: { rotation: { rotationPeriod: '-5s', nextRotationTime: 'x' } } }), /rotation/);
  const patched = (await sm.projects.secrets.patch({ name: `${parent}/secrets/expiring`, updateMask: 'ttl', requestBody: { ttl: '60s' } })).data;
  assert.ok(Date.parse(patched.expireTime!) < expires);
  // The official gRPC client reads the secret, and the project's list, back.
  const grpcSm = new SecretManagerServiceClient(gapicOptions(g.url) as ConstructorParameters<typeof SecretManagerServiceClient>[0]);
  try {
    const [got] = await grpcSm.getSecret({ name: `${parent}/secrets/expiring` });
    assert.equal(Number(got.expireTime!.seconds) * 1000, Math.floor(Date.parse(patched.expireTime!) / 1000) * 1000);
    const [list] = await grpcSm.listSecrets({ parent }, { autoPaginate: false });
    assert.equal(list.length, 1);
  } finally {
    await grpcSm.close();
  }
});
