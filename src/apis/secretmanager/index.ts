// Secret Manager v1 (subset): secrets and their versions, what Cloud Run tasks read their secrets from. Names answer
// with the project number (`projects/{number}/secrets/{id}`), as Secret Manager does; requests may use the id or number.
import type { App } from '../../server/app.js';
import type { BaseContext } from '../../google/context.js';
import { queryInt, queryString, type ApiRequest, type MethodSpec } from '../../server/api.js';
import { ApiError, errors, resourceInfo } from '../../google/errors.js';
import { ApiSchema } from '../../google/schema.js';
import { etagOf } from '../../google/ids.js';
import { decodePageToken, encodePageToken, pageSize, queryHash } from '../../google/paging.js';
import { applyMask } from '../../google/fieldmask.js';
import { fileURLToPath } from 'node:url';
import { crc32c } from './crc32c.js';
import { policyMethods } from '../../google/iam.js';
import { checkDuration, checkTimestamp, formatTimestamp, MAX_DURATION_MS, MAX_TIMESTAMP_MS } from '../../google/time.js';

/** Reads a secret version's payload for other APIs (Cloud Run's secretKeyRef env vars and secret volumes). */
export interface SecretAccessor {
  /**
   * The payload of `version` (a number or `latest`) of `secret` (an id in `project`, or a full
   * `projects/{p}/secrets/{s}` name) in `project` (an id or number). Throws the ApiError Secret Manager would answer
   * AccessSecretVersion with: NOT_FOUND for a missing secret or version, FAILED_PRECONDITION for a disabled or
   * destroyed one.
   */
  access(project: string, secret: string, version: string): Buffer;
}

type Obj = Record<string, unknown>;
const SECRET = 'sm.secret';
const VERSION = 'sm.version';
const SERVICE = 'secretmanager.googleapis.com';
const SECRET_ID = /^[a-zA-Z0-9_-]{1,255}$/;
const MAX_PAYLOAD = 64 * 1024;
export const schema = new ApiSchema(fileURLToPath(new URL('../../../../schemas/secretmanager-v1.json', import.meta.url)), 'google.cloud.secretmanager.v1');

interface StoredVersion { name: string; createTime: string; state: 'ENABLED' | 'DISABLED' | 'DESTROYED'; destroyTime?: string; etag: string; data?: string; clientSpecifiedPayloadChecksum?: boolean }

/** Rotation periods Secret Manager accepts: 1 hour to 100 years (in seconds). */
const MIN_ROTATION_S = 3600, MAX_ROTATION_S = 3_153_600_000;

/**
 * The times of a secret a client sends, as Secret Manager checks them: Durations and Timestamps in their JSON forms
 * (stored unchecked, a malformed one had made every gRPC read of the secret, and of its project's list, fail), a `ttl`
 * (input only) turned into the `expireTime` it sets, a rotation period within its bounds and given with its next time.
 */
function checkSecretTimes(secret: Obj, nowMs: number): void {
  if (secret.ttl !== undefined && secret.expireTime !== undefined) throw errors.invalidArgument('Only one of secret.ttl and secret.expire_time may be set.', 'secret.ttl');
  if (secret.expireTime !== undefined) checkTimestamp(secret.expireTime, 'secret.expire_time');
  if (secret.ttl !== undefined) {
    // The expire time it sets must be a time: no later than the last a Timestamp holds.
    const ms = checkDuration(secret.ttl, 'secret.ttl', 0, Math.max(0, MAX_TIMESTAMP_MS - nowMs));
    secret.expireTime = formatTimestamp(BigInt(nowMs) * 1_000_000n + BigInt(Math.round(ms * 1e6)));
    delete secret.ttl;
  }
  if (secret.versionDestroyTtl !== undefined) checkDuration(secret.versionDestroyTtl, 'secret.version_destroy_ttl', 0, MAX_DURATION_MS);
  const rotation = secret.rotation as Obj | undefined;
  if (rotation?.nextRotationTime !== undefined) checkTimestamp(rotation.nextRotationTime, 'secret.rotation.next_rotation_time');
  if (rotation?.rotationPeriod !== undefined) {
    checkDuration(rotation.rotationPeriod, 'secret.rotation.rotation_period', MIN_ROTATION_S * 1000, MAX_ROTATION_S * 1000);
    if (rotation.nextRotationTime === undefined) throw errors.invalidArgument('secret.rotation.next_rotation_time must be set if rotation_period is set.', 'secret.rotation.next_rotation_time');
  }
}

export function registerSecretManager(app: App, base: BaseContext): SecretAccessor {
  const { store, clock, projects } = base;
  const key = (project: string, secret: string) => `projects/${projects.resolve(project)}/secrets/${secret}`;
  const shown = (project: string, secret: string) => `projects/${projects.number(projects.resolve(project))}/secrets/${secret}`;
  const notFound = (what: string, name: string) => new ApiError('NOT_FOUND', `${what} [${name}] not found or has no versions.`, [resourceInfo(`${SERVICE}/${what}`, name)]);
  const getSecret = (project: string, id: string): Obj => {
    const s = store.getParsed<Obj>(key(project, id));
    if (!s) throw new ApiError('NOT_FOUND', `Secret [${shown(project, id)}] not found.`, [resourceInfo(`${SERVICE}/Secret`, shown(project, id))]);
    return s;
  };
  const versions = (project: string, id: string): StoredVersion[] => store.children(VERSION, key(project, id)) as unknown as StoredVersion[];
  /** A version by number, `latest` (the newest enabled one) or alias. */
  const resolveVersion = (project: string, id: string, v: string): StoredVersion => {
    const secret = getSecret(project, id);
    const all = versions(project, id);
    let found: StoredVersion | undefined;
    if (v === 'latest') found = [...all].reverse().find(x => x.state === 'ENABLED');
    else {
      const alias = ((secret.versionAliases ?? {}) as Record<string, string>)[v];
      const n = alias ?? v;
      if (!/^\d+$/.test(String(n))) throw errors.invalidArgument(`Invalid version '${v.slice(0, 100)}': a version number, an alias or "latest".`, 'name');
      found = all.find(x => x.name.endsWith(`/versions/${n}`));
    }
    if (!found) throw notFound('Secret Version', `${shown(project, id)}/versions/${v}`);
    return found;
  };
  const versionView = (project: string, id: string, v: StoredVersion): Obj => {
    const { data: _, ...rest } = v;
    return { ...rest, name: `${shown(project, id)}/versions/${v.name.split('/').pop()}`, replicationStatus: { automatic: {} } };
  };
  const secretView = (project: string, s: Obj): Obj => ({ ...s, name: shown(project, String(s.name).split('/').pop()!) });
  const accessOf = (project: string, id: string, v: string): { version: StoredVersion; data: Buffer } => {
    const version = resolveVersion(project, id, v);
    const name = `${shown(project, id)}/versions/${version.name.split('/').pop()}`;
    if (version.state === 'DISABLED') throw errors.failedPrecondition(`Secret Version [${name}] is in DISABLED state.`, name);
    if (version.state === 'DESTROYED') throw errors.failedPrecondition(`Secret Version [${name}] is in DESTROYED state.`, name);
    return { version, data: Buffer.from(version.data ?? '', 'base64') };
  };
  const setState = (req: ApiRequest, state: StoredVersion['state']) => {
    const { project, secret, version } = req.params;
    schema.decode(state === 'ENABLED' ? 'EnableSecretVersionRequest' : state === 'DISABLED' ? 'DisableSecretVersionRequest' : 'DestroySecretVersionRequest', req.body ?? {}, '');
    const v = resolveVersion(project, secret, version);
    const etag = (req.body as Obj | undefined)?.etag;
    if (etag !== undefined && etag !== v.etag) throw errors.aborted(`The etag ${String(etag).slice(0, 40)} does not match the version's etag ${v.etag}.`, 'ETAG_MISMATCH', SERVICE);
    if (v.state === 'DESTROYED' && state !== 'DESTROYED') throw errors.failedPrecondition(`Secret Version [${versionView(project, secret, v).name}] is in DESTROYED state.`);
    const next: StoredVersion = { ...v, state };
    if (state === 'DESTROYED') { delete next.data; next.destroyTime = clock.timestamp(); }
    next.etag = `"${etagOf(JSON.stringify({ ...next, etag: '' }))}"`;
    store.tx(w => w.put(VERSION, v.name, key(project, secret), next, v.createTime, false));
    return { body: versionView(project, secret, next) };
  };
  const r = (m: string, p: string, spec: MethodSpec) => app.route(m, p, spec);
  const S = '/v1/projects/{project}/secrets';
  r('POST', S, {
    query: ['secretId'],
    handler: req => {
      const project = req.params.project;
      const id = queryString(req, 'secretId') ?? '';
      if (!SECRET_ID.test(id)) throw errors.invalidArgument(`Invalid secret id '${id.slice(0, 100)}': 1 to 255 letters, digits, '_' and '-'.`, 'secret_id');
      const body = schema.decode('Secret', req.body ?? {}, 'secret');
      const rep = body.replication as Obj | undefined;
      if (!rep || (!rep.automatic && !rep.userManaged)) throw errors.invalidArgument('Secret.replication is required: automatic or userManaged.', 'secret.replication');
      if (store.get(key(project, id))) throw new ApiError('ALREADY_EXISTS', `Secret [${shown(project, id)}] already exists.`, [resourceInfo(`${SERVICE}/Secret`, shown(project, id))]);
      checkSecretTimes(body, clock.now());
      const secret: Obj = { ...body, name: key(project, id), createTime: clock.timestamp() };
      secret.etag = `"${etagOf(JSON.stringify(secret))}"`;
      store.tx(w => { projects.remember(w, projects.resolve(project)); w.put(SECRET, key(project, id), `projects/${projects.resolve(project)}`, secret, String(secret.createTime), false); });
      return { body: secretView(project, secret) };
    },
  });
  r('GET', S, {
    query: ['pageSize', 'pageToken', 'filter'],
    handler: req => {
      const project = projects.resolve(req.params.project);
      if (queryString(req, 'filter')) throw errors.invalidArgument('Filtering secrets is not supported by Gantry.', 'filter');
      const hash = queryHash(SECRET, project);
      const res = store.list({ kind: SECRET, scope: { parent: `projects/${project}` }, order: [], after: decodePageToken(queryString(req, 'pageToken'), hash), limit: pageSize(queryInt(req, 'pageSize'), 25000, 25000) });
      const body: Obj = { totalSize: res.rows.length };
      if (res.rows.length) body.secrets = res.rows.map(s => secretView(project, s));
      if (res.more && res.last) body.nextPageToken = encodePageToken(hash, res.last);
      return { body };
    },
  });
  r('GET', `${S}/{secret}`, { handler: req => ({ body: secretView(req.params.project, getSecret(req.params.project, req.params.secret)) }) });
  r('PATCH', `${S}/{secret}`, {
    query: ['updateMask'],
    handler: req => {
      const { project, secret } = req.params;
      const existing = getSecret(project, secret);
      const patch = schema.decode('Secret', req.body ?? {}, 'secret');
      if (patch.etag !== undefined && patch.etag !== existing.etag) throw errors.aborted(`The etag ${String(patch.etag).slice(0, 40)} does not match the secret's etag ${String(existing.etag)}.`, 'ETAG_MISMATCH', SERVICE);
      const mask = queryString(req, 'updateMask');
      if (!mask) throw errors.invalidArgument('update_mask is required.', 'update_mask');
      const next = applyMask(schema, 'Secret', existing, patch, mask);
      // A ttl patched in replaces the expire time it sets (they are one choice); one stored by an older Gantry, not
      // patched now, is dropped rather than applied again.
      if (!mask.split(',').some(f => f.trim() === 'ttl')) delete next.ttl;
      else if (patch.expireTime === undefined) delete next.expireTime;
      checkSecretTimes(next, clock.now());
      next.name = existing.name; next.createTime = existing.createTime;
      delete next.etag;
      next.etag = `"${etagOf(JSON.stringify(next))}"`;
      store.tx(w => w.put(SECRET, key(project, secret), `projects/${projects.resolve(project)}`, next, String(next.createTime), false));
      return { body: secretView(project, next) };
    },
  });
  r('DELETE', `${S}/{secret}`, {
    query: ['etag'],
    handler: req => {
      const { project, secret } = req.params;
      const existing = getSecret(project, secret);
      const etag = queryString(req, 'etag');
      if (etag && etag !== existing.etag) throw errors.aborted(`The etag ${etag.slice(0, 40)} does not match the secret's etag ${String(existing.etag)}.`, 'ETAG_MISMATCH', SERVICE);
      store.tx(w => { w.deleteUnder(key(project, secret)); w.delete(key(project, secret)); });
      return { body: {} };
    },
  });
  r('POST', `${S}/{secret}:addVersion`, {
    handler: req => {
      const { project, secret } = req.params;
      getSecret(project, secret);
      const body = schema.decode('AddSecretVersionRequest', req.body ?? {}, '');
      const payload = (body.payload ?? {}) as Obj;
      const data = Buffer.from(String(payload.data ?? ''), 'base64');
      if (data.length > MAX_PAYLOAD) throw errors.invalidArgument(`Secret payload is ${data.length} bytes; at most ${MAX_PAYLOAD} bytes are allowed.`, 'payload.data');
      if (payload.dataCrc32c !== undefined && String(payload.dataCrc32c) !== String(crc32c(data))) {
        throw errors.invalidArgument('Checksum mismatch: the data_crc32c does not match the payload.', 'payload.data_crc32c');
      }
      const all = versions(project, secret);
      const n = all.length ? Number(all[all.length - 1].name.split('/').pop()) + 1 : 1;
      const name = `${key(project, secret)}/versions/${n}`;
      const v: StoredVersion = { name, createTime: clock.timestamp(), state: 'ENABLED', etag: '', data: data.toString('base64'), ...(payload.dataCrc32c !== undefined ? { clientSpecifiedPayloadChecksum: true } : {}) };
      v.etag = `"${etagOf(JSON.stringify(v))}"`;
      store.tx(w => w.put(VERSION, name, key(project, secret), v, v.createTime, false));
      return { body: versionView(project, secret, v) };
    },
  });
  r('GET', `${S}/{secret}/versions`, {
    query: ['pageSize', 'pageToken', 'filter'],
    handler: req => {
      const { project, secret } = req.params;
      getSecret(project, secret);
      const filter = queryString(req, 'filter');
      const state = filter ? /^state\s*[:=]\s*(ENABLED|DISABLED|DESTROYED)$/.exec(filter.trim())?.[1] : undefined;
      if (filter && !state) throw errors.invalidArgument(`Unsupported filter '${filter.slice(0, 100)}': Gantry filters versions by state only (state:ENABLED).`, 'filter');
      const all = versions(project, secret).filter(v => !state || v.state === state).reverse();
      return { body: { ...(all.length ? { versions: all.map(v => versionView(project, secret, v)) } : {}), totalSize: all.length } };
    },
  });
  r('GET', `${S}/{secret}/versions/{version}`, { handler: req => ({ body: versionView(req.params.project, req.params.secret, resolveVersion(req.params.project, req.params.secret, req.params.version)) }) });
  r('GET', `${S}/{secret}/versions/{version}:access`, {
    handler: req => {
      const { project, secret, version } = req.params;
      const { version: v, data } = accessOf(project, secret, version);
      return { body: { name: versionView(project, secret, v).name, payload: { data: data.toString('base64'), dataCrc32c: String(crc32c(data)) } } };
    },
  });
  // Who may read a secret: what `gcloud secrets add-iam-policy-binding` and firebase-tools' `apphosting:secrets:grantaccess`
  // set. Kept under the secret's stored name, so the project's id and number address the same policy.
  const iam = policyMethods({
    store, schema,
    resolve: name => {
      const [, project, , id] = name.split('/');
      getSecret(project, id);
      return key(project, id);
    },
  });
  r('GET', '/v1/{resource=projects/*/secrets/*}:getIamPolicy', iam.get);
  r('POST', '/v1/{resource=projects/*/secrets/*}:setIamPolicy', iam.set);
  r('POST', '/v1/{resource=projects/*/secrets/*}:testIamPermissions', iam.test);
  r('POST', `${S}/{secret}/versions/{version}:disable`, { handler: req => setState(req, 'DISABLED') });
  r('POST', `${S}/{secret}/versions/{version}:enable`, { handler: req => setState(req, 'ENABLED') });
  r('POST', `${S}/{secret}/versions/{version}:destroy`, { handler: req => setState(req, 'DESTROYED') });

  return {
    access(project, secret, version) {
      let p = project, id = secret;
      const m = /^projects\/([^/]+)\/secrets\/([^/]+)$/.exec(secret);
      if (m) { p = m[1]; id = m[2]; }
      return accessOf(p, id, version).data;
    },
  };
}
