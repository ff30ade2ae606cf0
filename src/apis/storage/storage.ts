// The Cloud Storage JSON API subset that gcloud storage (ls, cp, cat, rm, mv, buckets, objects), `gcloud deploy
// releases create --source` and the client libraries use: buckets insert/get/list/patch/update/delete; objects
// media, multipart and resumable (one-shot or chunked) uploads, get (metadata, or `alt=media` with Range), list
// (prefix, delimiter, offsets, matchGlob, paging), patch/update, delete, rewrite, copy, compose and move;
// preconditions (412 / 304) and partial responses (`fields`). Objects are metadata in the store plus
// content-addressed bytes on disk (a copy shares its source's bytes).
import { createHash } from 'node:crypto';
import type { Projects } from '../../google/projects.js';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../engine/clock.js';
import { ApiError, errorInfo, errors } from '../../google/errors.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, pageSize, queryHash } from '../../google/paging.js';
import { queryBool, queryInt, queryString, type ApiReply, type ApiRequest, type MethodSpec } from '../../server/api.js';
import type { App } from '../../server/app.js';
import type { Blobs } from './blobs.js';
import { UploadSessions } from './uploads.js';
import { Glob } from './glob.js';
import { applyFields, parseFields } from './fields.js';
import { listObjects } from './listing.js';
import { userContentHeaders } from '../../server/user-content.js';
import { crc32c, downloadRange, parseJson, parseMultipart, RangeNotSatisfiable, uploadRange } from './media.js';
import { checkPreconditions, NotModified, preconditionsOf, queryInt64, type Preconditions } from './preconditions.js';

type Obj = Record<string, unknown>;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

/** The owner of the buckets Gantry makes for itself (job-run logs): their objects belong to the projects they name. */
export const GANTRY_OWNER = 'gantry';
export const bucketName = (b: string) => `storage/buckets/${b}`;
export const objectName = (b: string, o: string) => `storage/buckets/${b}/objects/${encodeURIComponent(o)}`;

/** Largest object Gantry assembles itself (compose, chunked uploads); one-request uploads are bounded by the body limit. */
export const MAX_OBJECT_BYTES = 256 * 1024 * 1024;
/** Most source objects in one compose, as Cloud Storage. */
const MAX_COMPOSE_SOURCES = 32;
/** Longest prefix, delimiter or offset a list accepts (an object name's limit). */
const MAX_NAME_BYTES = 1024;
/** Largest bucket resource (labels, CORS, lifecycle rules, …) kept. */
const MAX_BUCKET_JSON = 64 * 1024;
/** Cloud Storage's limit on an object's custom metadata (keys and values). */
const MAX_CUSTOM_METADATA = 8 * 1024;
/** The store meta key recording that objects are keyed for name-order walks (see `listing.ts`). */
const ORDER_KEY = 'storage.objectsByName';

/** Object fields a client may write (uploads, rewrite/copy/compose destinations, patch and update). */
const OBJECT_STRING_FIELDS = ['contentType', 'contentEncoding', 'contentDisposition', 'contentLanguage', 'cacheControl', 'customTime', 'storageClass'] as const;
const OBJECT_BOOL_FIELDS = ['temporaryHold', 'eventBasedHold'] as const;
/** Bucket fields a client may write; everything else in a bucket resource is the server's. */
const BUCKET_FIELDS = ['storageClass', 'labels', 'iamConfiguration', 'versioning', 'softDeletePolicy', 'cors', 'lifecycle', 'website', 'logging',
  'retentionPolicy', 'defaultEventBasedHold', 'billing', 'encryption', 'autoclass', 'hierarchicalNamespace', 'rpo', 'customPlacementConfig',
  'objectRetention', 'ipFilter', 'defaultObjectAcl', 'acl'];
const STORAGE_CLASSES = new Set(['STANDARD', 'NEARLINE', 'COLDLINE', 'ARCHIVE', 'MULTI_REGIONAL', 'REGIONAL', 'DURABLE_REDUCED_AVAILABILITY']);
const MULTI_REGIONS = new Set(['US', 'EU', 'ASIA']);
const DUAL_REGIONS = new Set(['NAM4', 'EUR4', 'ASIA1', 'EUR5', 'EUR7', 'EUR8']);

/** Writable object fields as a request carries them, checked. `metadata` values may be null (patch: remove the key). */
export interface ObjectFields {
  name?: string;
  metadata?: Record<string, string | null>;
  fields: Obj;
  md5Hash?: string;
  crc32c?: string;
}

export class StorageService {
  readonly uploads: UploadSessions;
  private lastGeneration = 0;

  constructor(private store: Store, private clock: Clock, private blobs: Blobs, private baseUrl: () => string, private projects: Projects) {
    this.uploads = new UploadSessions(clock);
    this.keyObjectsByName();
  }

  /**
   * Objects are keyed by name in the store's create-time column (the index name-order list walks use). Objects
   * written before that (keyed by their creation time) are re-keyed once, at start-up.
   */
  private keyObjectsByName(): void {
    if (this.store.getMeta(ORDER_KEY) === '1') return;
    this.store.tx(w => {
      for (const b of this.store.children('storageBucket', 'storage/buckets')) {
        const parent = bucketName(String(b.name));
        for (const o of this.store.children('storageObject', parent)) {
          const row = objectName(String(b.name), String(o.name));
          if (this.store.get(row)?.createTime !== o.name) w.put('storageObject', row, parent, o, String(o.name), false);
        }
      }
      w.setMeta(ORDER_KEY, '1');
    });
  }

  private now(): string { return new Date(this.clock.now()).toISOString(); }

  /** A generation greater than any this process gave before, in microseconds as Cloud Storage's look. */
  private nextGeneration(): string {
    this.lastGeneration = Math.max(this.clock.now() * 1000 + Math.floor(Math.random() * 1000), this.lastGeneration + 1);
    return String(this.lastGeneration);
  }

  findBucket(b: string): Obj | undefined { return this.store.getParsed<Obj>(bucketName(b)); }

  bucket(b: string): Obj {
    const bucket = this.findBucket(b);
    if (!bucket) throw new ApiError('NOT_FOUND', 'The specified bucket does not exist.');
    return bucket;
  }

  createBucket(project: string, b: string, body: Obj = {}): Obj {
    if (!BUCKET.test(b) || b.split('.').some(part => part.length > 63 || !part) || (!b.includes('.') && b.length > 63) || b.startsWith('goog')) {
      throw errors.invalidArgument(`Invalid bucket name: '${clip(b)}'`, 'name');
    }
    if (this.store.get(bucketName(b))) throw new ApiError('ALREADY_EXISTS', 'Your previous request to create the named bucket succeeded and you already own it.');
    if (body.location != null && (typeof body.location !== 'string' || !/^[A-Za-z0-9-]{1,64}$/.test(body.location))) {
      throw errors.invalidArgument('Invalid value for location.', 'location');
    }
    if ((body.hierarchicalNamespace as Obj | null | undefined)?.enabled === true) {
      throw new ApiError('UNIMPLEMENTED', 'Buckets with a hierarchical namespace (folders) are not supported by this server.');
    }
    const location = (typeof body.location === 'string' ? body.location : 'US').toUpperCase();
    const now = this.now();
    const owner = this.projects.resolve(project);
    const bucket: Obj = {
      kind: 'storage#bucket', selfLink: `${this.baseUrl()}/storage/v1/b/${b}`, id: b, name: b, projectNumber: owner === GANTRY_OWNER ? '0' : this.projects.number(owner), project: owner,
      metageneration: '1', location, storageClass: 'STANDARD', etag: 'CAE=', timeCreated: now, updated: now,
      iamConfiguration: { bucketPolicyOnly: { enabled: false }, uniformBucketLevelAccess: { enabled: false }, publicAccessPrevention: 'inherited' },
      locationType: MULTI_REGIONS.has(location) ? 'multi-region' : DUAL_REGIONS.has(location) ? 'dual-region' : 'region',
      rpo: 'DEFAULT',
      ...bucketFields(body),
    };
    this.store.tx(w => { if (bucket.project !== GANTRY_OWNER) this.projects.remember(w, String(bucket.project)); w.put('storageBucket', bucketName(b), 'storage/buckets', bucket, now, false); });
    return bucket;
  }

  /** PATCH merges the given fields (null clears one; labels merge key by key); PUT replaces every writable field. */
  updateBucket(b: string, body: Obj, replace: boolean, pre: Preconditions): Obj {
    const bucket = this.bucket(b);
    checkPreconditions(bucket, pre);
    const given = bucketFields(body, !replace);
    const next: Obj = { ...bucket };
    if (replace) for (const f of BUCKET_FIELDS) if (f !== 'storageClass' && f !== 'iamConfiguration' && f !== 'rpo') delete next[f];
    for (const [k, v] of Object.entries(given)) {
      if (v === null) { delete next[k]; continue; }
      if (k === 'labels' && !replace) {
        const labels = { ...(next.labels as Record<string, string> | undefined) };
        for (const [lk, lv] of Object.entries(v as Record<string, string | null>)) { if (lv === null) delete labels[lk]; else labels[lk] = lv; }
        if (Object.keys(labels).length) next.labels = labels; else delete next.labels;
        continue;
      }
      next[k] = v;
    }
    const metageneration = String(Number(bucket.metageneration) + 1);
    Object.assign(next, { metageneration, updated: this.now(), etag: Buffer.from(`CA${metageneration}`).toString('base64') });
    if (JSON.stringify(next).length > MAX_BUCKET_JSON) throw errors.invalidArgument('The bucket resource is too large.', 'bucket');
    this.store.tx(w => w.put('storageBucket', bucketName(b), 'storage/buckets', next, String(bucket.timeCreated), false));
    return next;
  }

  deleteBucket(b: string, pre: Preconditions): void {
    const bucket = this.bucket(b);
    checkPreconditions(bucket, pre);
    const any = this.store.list({ kind: 'storageObject', scope: { parent: bucketName(b) }, order: [{ path: ['createTime'], desc: false }], limit: 1 });
    // Cloud Storage answers 409 Conflict (gcloud then suggests `rm -r`); ABORTED is the code that maps to 409.
    if (any.rows.length) throw new ApiError('ABORTED', 'The bucket you tried to delete is not empty.', [errorInfo('BUCKET_NOT_EMPTY', 'storage.googleapis.com', { bucket: b })]);
    this.store.tx(w => w.delete(bucketName(b)));
  }

  findObject(b: string, name: string): Obj | undefined { return this.store.getParsed<Obj>(objectName(b, name)); }

  /** The live object (with Gantry's pointer to its bytes); 404 when the bucket, the object or the generation asked for is missing. */
  object(b: string, name: string, generation?: bigint): Obj {
    this.bucket(b);
    const obj = this.findObject(b, name);
    // Only the live generation is kept, so any other generation is gone.
    if (!obj || (generation !== undefined && String(generation) !== String(obj.generation))) throw new ApiError('NOT_FOUND', `No such object: ${b}/${name}`);
    return obj;
  }

  /**
   * Writes an object (a new generation), checking the destination's preconditions in the same step. `blob`:
   * bytes already stored (a copy shares its source's).
   */
  putObject(b: string, name: string, data: Buffer | { blob: string; size: number; md5Hash?: string; crc32c: string }, contentType = 'application/octet-stream',
    metadata: Record<string, string> = {}, opts: { fields?: Obj; preconditions?: Preconditions; componentCount?: number; md5Hash?: string; crc32c?: string } = {}): Obj {
    this.bucket(b);
    checkObjectName(name);
    checkPreconditions(this.findObject(b, name), opts.preconditions ?? {});
    let blob: string, size: number, md5: string | undefined, crc: string;
    if (Buffer.isBuffer(data)) {
      md5 = createHash('md5').update(data).digest('base64');
      crc = crc32c(data);
      // A client that states the hashes of what it sends is told when the bytes do not match them.
      if (opts.md5Hash !== undefined && opts.md5Hash !== md5) throw errors.invalidArgument(`Provided MD5 hash "${clip(opts.md5Hash)}" doesn't match calculated MD5 hash "${md5}".`, 'md5Hash');
      if (opts.crc32c !== undefined && opts.crc32c !== crc) throw errors.invalidArgument(`Provided CRC32C "${clip(opts.crc32c)}" doesn't match calculated CRC32C "${crc}".`, 'crc32c');
      if (opts.componentCount !== undefined) md5 = undefined; // composite objects have no MD5
      blob = this.blobs.put(data);
      size = data.length;
    } else ({ blob, size, md5Hash: md5, crc32c: crc } = data);
    const now = this.now();
    const generation = this.nextGeneration();
    const enc = encodeURIComponent(name);
    const fields: Obj = {};
    for (const [k, v] of Object.entries(opts.fields ?? {})) if (v !== null && v !== undefined) fields[k] = v;
    const storageClass = typeof fields.storageClass === 'string' ? fields.storageClass : String(this.bucket(b).storageClass ?? 'STANDARD');
    delete fields.storageClass;
    const obj: Obj = {
      kind: 'storage#object', id: `${b}/${name}/${generation}`, selfLink: `${this.baseUrl()}/storage/v1/b/${b}/o/${enc}`,
      mediaLink: `${this.baseUrl()}/download/storage/v1/b/${b}/o/${enc}?generation=${generation}&alt=media`,
      name, bucket: b, generation, metageneration: '1', contentType, storageClass, size: String(size),
      ...(md5 !== undefined ? { md5Hash: md5 } : {}), crc32c: crc, etag: etag(generation, '1'),
      timeCreated: now, updated: now, timeStorageClassUpdated: now, timeFinalized: now,
      ...fields,
      ...(Object.keys(metadata).length ? { metadata } : {}),
      ...(opts.componentCount !== undefined ? { componentCount: opts.componentCount } : {}),
      gantryBlob: blob,
    };
    this.store.tx(w => w.put('storageObject', objectName(b, name), bucketName(b), obj, name, false));
    return view(obj);
  }

  /** objects.patch (merge; null clears) and objects.update (replace): a new metageneration of the live object. */
  updateObject(b: string, name: string, given: ObjectFields, replace: boolean, pre: Preconditions, generation?: bigint): Obj {
    const obj = this.object(b, name, generation);
    checkPreconditions(obj, pre);
    const next: Obj = { ...obj };
    if (replace) {
      for (const f of [...OBJECT_STRING_FIELDS, ...OBJECT_BOOL_FIELDS, 'metadata']) if (f !== 'storageClass' && f !== 'contentType') delete next[f];
      next.contentType = 'application/octet-stream';
    }
    for (const [k, v] of Object.entries(given.fields)) {
      if (k === 'storageClass') continue; // changed only by rewriting the object
      if (v === null) delete next[k]; else next[k] = v;
    }
    if (given.metadata) {
      const meta: Record<string, string> = replace ? {} : { ...(obj.metadata as Record<string, string> | undefined) };
      for (const [k, v] of Object.entries(given.metadata)) { if (v === null) delete meta[k]; else meta[k] = v; }
      if (metadataSize(meta) > MAX_CUSTOM_METADATA) throw errors.invalidArgument(`Custom metadata exceeds ${MAX_CUSTOM_METADATA} bytes.`, 'metadata');
      if (Object.keys(meta).length) next.metadata = meta; else delete next.metadata;
    }
    const metageneration = String(Number(obj.metageneration) + 1);
    Object.assign(next, { metageneration, updated: this.now(), etag: etag(String(obj.generation), metageneration) });
    this.store.tx(w => w.put('storageObject', objectName(b, name), bucketName(b), next, name, false));
    return view(next);
  }

  deleteObject(b: string, name: string, pre: Preconditions, generation?: bigint): void {
    const obj = this.object(b, name, generation);
    checkPreconditions(obj, pre);
    this.store.tx(w => w.delete(objectName(b, name)));
  }

  /**
   * objects.rewrite / copy: the destination gets the source's bytes (shared, not copied) and either the metadata
   * the request carries or, when it carries none, the source's.
   */
  copyObject(src: { bucket: string; name: string; generation?: bigint; pre: Preconditions }, dst: { bucket: string; name: string; pre: Preconditions }, given: ObjectFields | undefined): Obj {
    const source = this.object(src.bucket, src.name, src.generation);
    checkPreconditions(source, src.pre);
    this.bucket(dst.bucket);
    const carries = given && (Object.keys(given.fields).length > 0 || given.metadata !== undefined);
    const fields: Obj = {};
    let metadata: Record<string, string>;
    if (carries) {
      for (const [k, v] of Object.entries(given.fields)) if (v !== null) fields[k] = v;
      metadata = Object.fromEntries(Object.entries(given.metadata ?? {}).filter((e): e is [string, string] => e[1] !== null));
    } else {
      for (const f of [...OBJECT_STRING_FIELDS, ...OBJECT_BOOL_FIELDS]) if (source[f] !== undefined && f !== 'storageClass') fields[f] = source[f];
      metadata = { ...(source.metadata as Record<string, string> | undefined) };
    }
    const contentType = typeof fields.contentType === 'string' ? fields.contentType : String(source.contentType ?? 'application/octet-stream');
    delete fields.contentType;
    return this.putObject(dst.bucket, dst.name,
      { blob: String(source.gantryBlob), size: Number(source.size), md5Hash: source.md5Hash as string | undefined, crc32c: String(source.crc32c) },
      contentType, metadata, { fields, preconditions: dst.pre, ...(source.componentCount !== undefined ? { componentCount: Number(source.componentCount) } : {}) });
  }

  /** objects.compose: the sources' bytes in order, as a new composite object (CRC32C, no MD5). */
  compose(b: string, name: string, body: Obj, pre: Preconditions): Obj {
    this.bucket(b);
    const sources = body.sourceObjects;
    if (!Array.isArray(sources) || !sources.length) throw errors.invalidArgument('Required: sourceObjects', 'sourceObjects');
    if (sources.length > MAX_COMPOSE_SOURCES) throw errors.invalidArgument(`The number of source components provided (${sources.length}) exceeds the maximum (${MAX_COMPOSE_SOURCES}).`, 'sourceObjects');
    const parts: Buffer[] = [];
    let size = 0, components = 0;
    for (const [i, s] of sources.entries()) {
      if (s === null || typeof s !== 'object' || typeof (s as Obj).name !== 'string') throw errors.invalidArgument(`sourceObjects[${i}].name must be a string.`, `sourceObjects[${i}].name`);
      const so = s as { name: string; generation?: unknown; objectPreconditions?: { ifGenerationMatch?: unknown } };
      const generation = int64Field(so.generation, `sourceObjects[${i}].generation`);
      const source = this.object(b, so.name, generation);
      const want = int64Field(so.objectPreconditions?.ifGenerationMatch, `sourceObjects[${i}].objectPreconditions.ifGenerationMatch`);
      if (want !== undefined) checkPreconditions(source, { ifGenerationMatch: want });
      size += Number(source.size);
      if (size > MAX_OBJECT_BYTES) throw errors.invalidArgument(`A composed object must be at most ${MAX_OBJECT_BYTES} bytes here.`, 'sourceObjects');
      components += Number(source.componentCount ?? 1);
      parts.push(this.content(source));
    }
    if (components > 1024) throw errors.invalidArgument('The composite object would have more than 1024 components.', 'sourceObjects');
    const dest = body.destination == null ? { fields: {} } : objectFields(body.destination, 'destination');
    const contentType = typeof dest.fields.contentType === 'string' ? dest.fields.contentType : 'application/octet-stream';
    const fields = { ...dest.fields };
    delete fields.contentType;
    const metadata = Object.fromEntries(Object.entries(dest.metadata ?? {}).filter((e): e is [string, string] => e[1] !== null));
    return this.putObject(b, name, Buffer.concat(parts), contentType, metadata, { fields, preconditions: pre, componentCount: components });
  }

  /** objects.move: an atomic rename within a bucket. */
  moveObject(b: string, from: string, to: string, srcPre: Preconditions, dstPre: Preconditions): Obj {
    const source = this.object(b, from);
    checkPreconditions(source, srcPre);
    const moved = this.copyObject({ bucket: b, name: from, pre: {} }, { bucket: b, name: to, pre: dstPre }, undefined);
    if (from !== to) this.store.tx(w => w.delete(objectName(b, from)));
    return moved;
  }

  /** Object bytes by gs:// URL. */
  read(url: string): Buffer {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!m) throw errors.invalidArgument(`"${url}" is not a gs:// URL.`, 'uri');
    return this.blobs.get(String(this.object(m[1], m[2]).gantryBlob));
  }

  /** Writes an object by gs:// URL; a bucket it has to make is `owner`'s (a project), else Gantry's own. */
  write(url: string, data: Buffer, contentType: string, owner = GANTRY_OWNER): void {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(url)!;
    if (!this.store.get(bucketName(m[1]))) this.createBucket(owner, m[1]);
    this.putObject(m[1], m[2], data, contentType);
  }

  /** Every object under a prefix (at most `limit`), name order, with its bytes on demand; none when the bucket is missing. */
  listObjects(bucket: string, prefix: string, limit = 10_000): { name: string; data: () => Buffer }[] {
    if (!this.findBucket(bucket)) return [];
    const out: { name: string; data: () => Buffer }[] = [];
    let token: string | undefined;
    do {
      const page = this.list({ bucket, prefix, includeTrailingDelimiter: false, maxResults: 1000, pageToken: token, bind: [] });
      for (const o of page.items) out.push({ name: String(o.name), data: () => this.read(`gs://${bucket}/${String(o.name)}`) });
      token = page.nextPageToken;
    } while (token && out.length < limit);
    return out.slice(0, limit);
  }

  list(q: { bucket: string; prefix: string; delimiter?: string; includeTrailingDelimiter: boolean; startOffset?: string; endOffset?: string; glob?: Glob; maxResults: number; pageToken?: string; bind: string[] }) {
    this.bucket(q.bucket);
    return listObjects(this.store, { ...q, parent: bucketName(q.bucket), rowName: o => objectName(q.bucket, o) }, view);
  }

  content(obj: Obj): Buffer { return this.blobs.get(String(obj.gantryBlob)); }

  /** Where a gs:// object downloads over HTTP from this Gantry. */
  httpUrl(url: string): string {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(url);
    return m ? `${this.baseUrl()}/download/storage/v1/b/${m[1]}/o/${encodeURIComponent(m[2])}?alt=media` : url;
  }
}

function etag(generation: string, metageneration: string): string {
  return createHash('sha1').update(`${generation}/${metageneration}`).digest('base64').slice(0, 16);
}

function clip(s: string, n = 100): string { return s.length > n ? s.slice(0, n) + '…' : s; }

/** Cloud Storage's naming rules: 1-1024 bytes of UTF-8 (so no lone surrogates), no carriage return or line feed, not `.` or `..`. */
function checkObjectName(name: string): void {
  if (!name || Buffer.byteLength(name) > 1024) throw errors.invalidArgument('Object name must be 1-1024 bytes of UTF-8.', 'name');
  if (/[\r\n\0]|\p{Surrogate}/u.test(name)) throw errors.invalidArgument('Object name must be valid Unicode without carriage returns, line feeds or NUL.', 'name');
  if (name === '.' || name === '..' || name.startsWith('.well-known/acme-challenge/')) throw errors.invalidArgument(`Invalid object name: '${clip(name)}'`, 'name');
}

function metadataSize(m: Record<string, string | null>): number {
  let size = 0;
  for (const [k, v] of Object.entries(m)) size += Buffer.byteLength(k) + (v === null ? 0 : Buffer.byteLength(v));
  return size;
}

function int64Field(v: unknown, field: string): bigint | undefined {
  if (v === undefined || v === null) return undefined;
  if ((typeof v === 'string' && /^-?\d{1,19}$/.test(v)) || (typeof v === 'number' && Number.isSafeInteger(v))) return BigInt(v);
  throw errors.invalidArgument(`Invalid value for ${field}.`, field);
}

/**
 * The writable fields of an object resource a request sends: any JSON may arrive, so each field used is checked
 * here (a `null` body or a numeric name used to throw a TypeError: a 500). Output-only fields (id, size,
 * generation, …), which gcloud sends back on copies, are ignored.
 */
export function objectFields(raw: unknown, where = 'body'): ObjectFields {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.invalidArgument('The object resource must be a JSON object.', where);
  const r = raw as Obj;
  const out: ObjectFields = { fields: {} };
  if (r.name != null) {
    if (typeof r.name !== 'string') throw errors.invalidArgument('Invalid value for name: must be a string.', 'name');
    out.name = r.name;
  }
  for (const f of OBJECT_STRING_FIELDS) {
    if (r[f] === undefined) continue;
    if (r[f] !== null && typeof r[f] !== 'string') throw errors.invalidArgument(`Invalid value for ${f}: must be a string.`, f);
    if (typeof r[f] === 'string' && (r[f] as string).length > 2048) throw errors.invalidArgument(`Invalid value for ${f}: too long.`, f);
    out.fields[f] = r[f];
  }
  for (const f of OBJECT_BOOL_FIELDS) {
    if (r[f] === undefined) continue;
    if (r[f] !== null && typeof r[f] !== 'boolean') throw errors.invalidArgument(`Invalid value for ${f}: must be a boolean.`, f);
    out.fields[f] = r[f];
  }
  if (typeof out.fields.customTime === 'string' && Number.isNaN(Date.parse(out.fields.customTime))) throw errors.invalidArgument('Invalid value for customTime: must be an RFC 3339 timestamp.', 'customTime');
  if (typeof out.fields.storageClass === 'string' && !STORAGE_CLASSES.has(out.fields.storageClass)) throw errors.invalidArgument(`Invalid storage class: ${clip(out.fields.storageClass)}`, 'storageClass');
  if (r.metadata != null) {
    if (typeof r.metadata !== 'object' || Array.isArray(r.metadata)) throw errors.invalidArgument('Invalid value for metadata: must be an object of strings.', 'metadata');
    const metadata: Record<string, string | null> = {};
    for (const [k, v] of Object.entries(r.metadata as Obj)) {
      if (v !== null && typeof v !== 'string') throw errors.invalidArgument(`Invalid value for metadata.${clip(k)}: must be a string.`, `metadata.${clip(k)}`);
      metadata[k] = v;
    }
    if (metadataSize(metadata) > MAX_CUSTOM_METADATA) throw errors.invalidArgument(`Custom metadata exceeds ${MAX_CUSTOM_METADATA} bytes.`, 'metadata');
    out.metadata = metadata;
  }
  for (const f of ['md5Hash', 'crc32c'] as const) {
    if (r[f] == null) continue;
    if (typeof r[f] !== 'string') throw errors.invalidArgument(`Invalid value for ${f}: must be a string.`, f);
    out[f] = r[f] as string;
  }
  return out;
}

/** The writable fields of a bucket resource, checked for shape (objects stay objects, labels are strings). */
function bucketFields(raw: unknown, allowNull = false): Obj {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.invalidArgument('The bucket resource must be a JSON object.', 'body');
  const r = raw as Obj;
  const out: Obj = {};
  for (const f of BUCKET_FIELDS) {
    const v = r[f];
    if (v === undefined) continue;
    if (v === null) { if (allowNull) out[f] = null; continue; }
    const want = f === 'storageClass' || f === 'rpo' ? 'string' : f === 'defaultEventBasedHold' ? 'boolean' : f === 'cors' || f === 'defaultObjectAcl' || f === 'acl' ? 'array' : 'object';
    const is = Array.isArray(v) ? 'array' : typeof v;
    if (is !== want) throw errors.invalidArgument(`Invalid value for ${f}.`, f);
    out[f] = v;
  }
  if (typeof out.storageClass === 'string') {
    out.storageClass = out.storageClass.toUpperCase();
    if (!STORAGE_CLASSES.has(out.storageClass as string)) throw errors.invalidArgument(`Invalid storage class: ${clip(out.storageClass as string)}`, 'storageClass');
  }
  if (out.labels) {
    const labels = out.labels as Obj;
    if (Object.keys(labels).length > 64) throw errors.invalidArgument('A bucket has at most 64 labels.', 'labels');
    for (const [k, v] of Object.entries(labels)) {
      if (!/^[\p{Ll}\p{Lo}][\p{Ll}\p{Lo}\p{N}_-]{0,62}$/u.test(k)) throw errors.invalidArgument(`Invalid label key: ${clip(k)}`, 'labels');
      if (!(v === null && allowNull) && (typeof v !== 'string' || !/^[\p{Ll}\p{Lo}\p{N}_-]{0,63}$/u.test(v))) throw errors.invalidArgument(`Invalid label value for ${clip(k)}.`, `labels.${clip(k)}`);
    }
  }
  if (JSON.stringify(out).length > MAX_BUCKET_JSON) throw errors.invalidArgument('The bucket resource is too large.', 'bucket');
  return out;
}

/** A copy without one (internal) key. */
function omit(obj: Obj, key: string): Obj {
  const out = { ...obj };
  delete out[key];
  return out;
}

/** An object as the API shows it: without Gantry's pointer to its bytes. */
const view = (obj: Obj): Obj => omit(obj, 'gantryBlob');
/** A bucket as the API shows it: the owning project is Gantry's bookkeeping. */
const strip = (b: Obj): Obj => omit(b, 'project');

function projection(req: ApiRequest): void {
  const p = queryString(req, 'projection');
  if (p !== undefined && p !== 'full' && p !== 'noAcl') throw errors.invalidArgument(`Invalid value for projection: ${clip(p)}`, 'projection');
}

/** A bounded string query parameter (prefixes, delimiters, offsets are at most an object name long). */
function boundedQuery(req: ApiRequest, name: string): string | undefined {
  const v = queryString(req, name);
  if (v !== undefined && Buffer.byteLength(v) > MAX_NAME_BYTES) throw errors.invalidArgument(`Invalid value for ${name}: longer than ${MAX_NAME_BYTES} bytes.`, name);
  return v;
}

const PRECONDITION_PARAMS = ['ifGenerationMatch', 'ifGenerationNotMatch', 'ifMetagenerationMatch', 'ifMetagenerationNotMatch'];
const SOURCE_PRECONDITION_PARAMS = ['ifSourceGenerationMatch', 'ifSourceGenerationNotMatch', 'ifSourceMetagenerationMatch', 'ifSourceMetagenerationNotMatch'];
const EMPTY = (status: number, contentType = 'application/json'): ApiReply => ({ status, body: undefined, bytes: { data: Buffer.alloc(0), contentType } });

export function registerStorage(app: App, svc: StorageService, store: Store): void {
  /** Every storage method: partial responses (`fields`), 304s and 416s with their headers. */
  const route = (method: string, path: string, spec: MethodSpec) => {
    app.route(method, path, {
      ...spec,
      handler: async req => {
        const sel = queryString(req, 'fields') ?? queryString(req, '$fields');
        const selection = sel ? parseFields(sel) : undefined;
        let out: ApiReply;
        try {
          out = await spec.handler(req);
        } catch (e) {
          if (e instanceof NotModified) return EMPTY(304, 'text/plain');
          if (e instanceof RangeNotSatisfiable) return { status: 416, body: e.toBody(), headers: { 'content-range': `bytes */${e.size}` } };
          throw e;
        }
        if (selection && !out.bytes && out.body !== undefined && !out.raw) out = { ...out, body: applyFields(out.body, selection) };
        return out;
      },
    });
  };
  const json = (body: unknown): ApiReply => ({ body });

  // Buckets.
  route('GET', '/storage/v1/b', {
    query: ['project', 'prefix', 'maxResults', 'pageToken', 'projection', 'softDeleted', 'userProject'],
    handler: req => {
      projection(req);
      const project = queryString(req, 'project');
      if (!project) throw errors.invalidArgument('Required parameter: project', 'project');
      const prefix = boundedQuery(req, 'prefix') ?? '';
      const maxResults = queryInt(req, 'maxResults');
      if (maxResults !== undefined && maxResults < 0) throw errors.invalidArgument(`Invalid value for maxResults: ${maxResults}`, 'maxResults');
      // No bucket is ever soft-deleted here.
      if (queryBool(req, 'softDeleted')) return json({ kind: 'storage#buckets' });
      const hash = queryHash('storageBucket', project, prefix);
      const res = store.list({
        kind: 'storageBucket', scope: { parent: 'storage/buckets' }, order: [{ path: ['name'], desc: false }],
        predicate: b => b.project === project && String(b.name).startsWith(prefix),
        after: decodePageToken(queryString(req, 'pageToken'), hash), limit: pageSize(maxResults, 1000, 1000), maxBytes: PAGE_MAX_BYTES,
      });
      const items = res.rows.map(strip);
      return json({ kind: 'storage#buckets', ...(res.more && res.last ? { nextPageToken: encodePageToken(hash, res.last) } : {}), ...(items.length ? { items } : {}) });
    },
  });
  route('POST', '/storage/v1/b', {
    query: ['project', 'projection', 'predefinedAcl', 'predefinedDefaultObjectAcl', 'userProject', 'enableObjectRetention'],
    handler: req => {
      projection(req);
      const project = queryString(req, 'project');
      if (!project) throw errors.invalidArgument('Required parameter: project', 'project');
      const body = (req.body ?? {}) as Obj;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.invalidArgument('The bucket resource must be a JSON object.', 'body');
      if (typeof body.name !== 'string') throw errors.invalidArgument('Required: bucket name', 'name');
      return json(strip(svc.createBucket(project, body.name, body)));
    },
  });
  route('GET', '/storage/v1/b/{bucket}', {
    query: ['generation', 'ifMetagenerationMatch', 'ifMetagenerationNotMatch', 'projection', 'softDeleted', 'userProject'],
    handler: req => {
      projection(req);
      const bucket = svc.bucket(req.params.bucket);
      checkPreconditions(bucket, preconditionsOf(req), 'read');
      return json(strip(bucket));
    },
  });
  for (const method of ['PATCH', 'PUT']) {
    route(method, '/storage/v1/b/{bucket}', {
      query: ['ifMetagenerationMatch', 'ifMetagenerationNotMatch', 'predefinedAcl', 'predefinedDefaultObjectAcl', 'projection', 'userProject'],
      handler: req => {
        projection(req);
        return json(strip(svc.updateBucket(req.params.bucket, (req.body ?? {}) as Obj, method === 'PUT', preconditionsOf(req))));
      },
    });
  }
  // gcloud asks before recursive operations whether the bucket has a hierarchical namespace (folders): none here.
  route('GET', '/storage/v1/b/{bucket}/storageLayout', {
    query: ['prefix'],
    handler: req => {
      const b = svc.bucket(req.params.bucket);
      return json({
        kind: 'storage#storageLayout', bucket: b.name, location: b.location, locationType: b.locationType,
        ...(b.customPlacementConfig ? { customPlacementConfig: b.customPlacementConfig } : {}), hierarchicalNamespace: { enabled: false },
      });
    },
  });
  // Managed folders (IAM on a prefix) cannot be created here, so every bucket has none; gcloud lists them before
  // deleting a bucket with rm -r.
  route('GET', '/storage/v1/b/{bucket}/managedFolders', {
    query: ['pageSize', 'pageToken', 'prefix'],
    handler: req => {
      svc.bucket(req.params.bucket);
      boundedQuery(req, 'prefix');
      const size = queryInt(req, 'pageSize');
      if (size !== undefined && size < 0) throw errors.invalidArgument(`Invalid value for pageSize: ${size}`, 'pageSize');
      if (queryString(req, 'pageToken')) throw errors.invalidArgument('The page token is invalid or does not match the query it was issued for.', 'page_token');
      return json({ kind: 'storage#managedFolders' });
    },
  });
  route('DELETE', '/storage/v1/b/{bucket}', {
    query: ['ifMetagenerationMatch', 'ifMetagenerationNotMatch', 'userProject'],
    handler: req => {
      svc.deleteBucket(req.params.bucket, preconditionsOf(req));
      return EMPTY(204);
    },
  });

  // Objects.
  route('GET', '/storage/v1/b/{bucket}/o', {
    query: ['prefix', 'delimiter', 'maxResults', 'pageToken', 'projection', 'versions', 'userProject', 'includeTrailingDelimiter', 'includeFoldersAsPrefixes',
      'startOffset', 'endOffset', 'matchGlob', 'softDeleted', 'filter'],
    handler: req => {
      projection(req);
      const bucket = req.params.bucket;
      svc.bucket(bucket);
      const maxResults = queryInt(req, 'maxResults');
      if (maxResults !== undefined && maxResults < 0) throw errors.invalidArgument(`Invalid value for maxResults: ${maxResults}`, 'maxResults');
      const delimiter = boundedQuery(req, 'delimiter') || undefined;
      const matchGlob = queryString(req, 'matchGlob') || undefined;
      if (matchGlob !== undefined && delimiter !== undefined && delimiter !== '/') {
        throw errors.invalidArgument('The matchGlob parameter can only be combined with the "/" delimiter.', 'delimiter');
      }
      const glob = matchGlob !== undefined ? new Glob(matchGlob) : undefined;
      if (queryString(req, 'filter')) throw errors.invalidArgument('The filter parameter is not supported by this server.', 'filter');
      // Flat buckets have no folders (includeFoldersAsPrefixes); no object is ever soft-deleted here; only live
      // generations are kept, so a listing with versions shows each object's one generation.
      queryBool(req, 'includeFoldersAsPrefixes');
      const versions = queryBool(req, 'versions');
      const includeTrailingDelimiter = queryBool(req, 'includeTrailingDelimiter');
      if (queryBool(req, 'softDeleted')) return json({ kind: 'storage#objects' });
      const page = svc.list({
        bucket, prefix: boundedQuery(req, 'prefix') ?? '', delimiter, includeTrailingDelimiter,
        startOffset: boundedQuery(req, 'startOffset') || undefined, endOffset: boundedQuery(req, 'endOffset') || undefined, glob,
        maxResults: pageSize(maxResults, 1000, 1000), pageToken: queryString(req, 'pageToken'), bind: [String(versions)],
      });
      return json({
        kind: 'storage#objects', ...(page.nextPageToken ? { nextPageToken: page.nextPageToken } : {}),
        ...(page.prefixes.length ? { prefixes: page.prefixes } : {}), ...(page.items.length ? { items: page.items } : {}),
      });
    },
  });

  const getObject: MethodSpec = {
    query: ['generation', ...PRECONDITION_PARAMS, 'projection', 'userProject', 'softDeleted', 'restoreToken'],
    handler: req => {
      projection(req);
      if (queryBool(req, 'softDeleted')) throw new ApiError('NOT_FOUND', `No such object: ${req.params.bucket}/${req.params.object}`);
      const obj = svc.object(req.params.bucket, req.params.object, queryInt64(req, 'generation', { min: 0n }));
      checkPreconditions(obj, preconditionsOf(req), 'read');
      if (queryString(req, 'alt') !== 'media' && !req.path.startsWith('/download/')) return json(view(obj));
      const data = svc.content(obj);
      const headers: Record<string, string> = {
        'x-goog-generation': String(obj.generation), 'x-goog-metageneration': String(obj.metageneration),
        'x-goog-stored-content-length': String(obj.size), 'x-goog-stored-content-encoding': String(obj.contentEncoding ?? 'identity'),
        'x-goog-hash': [`crc32c=${String(obj.crc32c)}`, ...(obj.md5Hash ? [`md5=${String(obj.md5Hash)}`] : [])].join(','),
        etag: String(obj.etag), 'accept-ranges': 'bytes',
        ...(obj.cacheControl ? { 'cache-control': String(obj.cacheControl) } : {}),
      };
      const contentType = String(obj.contentType ?? 'application/octet-stream');
      Object.assign(headers, userContentHeaders(contentType, obj.contentDisposition ? String(obj.contentDisposition) : undefined));
      const range = downloadRange(req.headers.range, data.length);
      if (!range) return { body: undefined, bytes: { data, contentType }, headers };
      return {
        status: 206, body: undefined, bytes: { data: data.subarray(range[0], range[1] + 1), contentType },
        headers: { ...headers, 'content-range': `bytes ${range[0]}-${range[1]}/${data.length}` },
      };
    },
  };
  route('GET', '/storage/v1/b/{bucket}/o/{object=**}', getObject);
  route('GET', '/download/storage/v1/b/{bucket}/o/{object=**}', getObject);
  route('DELETE', '/storage/v1/b/{bucket}/o/{object=**}', {
    query: ['generation', ...PRECONDITION_PARAMS, 'userProject'],
    handler: req => {
      svc.deleteObject(req.params.bucket, req.params.object, preconditionsOf(req), queryInt64(req, 'generation', { min: 0n }));
      return EMPTY(204);
    },
  });
  for (const method of ['PATCH', 'PUT']) {
    route(method, '/storage/v1/b/{bucket}/o/{object=**}', {
      query: ['generation', ...PRECONDITION_PARAMS, 'overrideUnlockedRetention', 'predefinedAcl', 'projection', 'userProject'],
      handler: req => {
        projection(req);
        const given = objectFields(req.body ?? {});
        return json(svc.updateObject(req.params.bucket, req.params.object, given, method === 'PUT', preconditionsOf(req), queryInt64(req, 'generation', { min: 0n })));
      },
    });
  }

  // Copies. Source objects are one path segment (clients percent-encode the slashes in names); the destination
  // object is the path's tail.
  const copyQuery = ['destinationKmsKeyName', 'destinationPredefinedAcl', ...PRECONDITION_PARAMS, ...SOURCE_PRECONDITION_PARAMS, 'projection', 'sourceGeneration', 'userProject'];
  const copy = (req: ApiRequest) => {
    projection(req);
    const body = req.body as Obj | undefined;
    const given = body === undefined || (typeof body === 'object' && body !== null && !Array.isArray(body) && !Object.keys(body).length) ? undefined : objectFields(body);
    return svc.copyObject(
      { bucket: req.params.sourceBucket, name: req.params.sourceObject, generation: queryInt64(req, 'sourceGeneration', { min: 0n }), pre: preconditionsOf(req, 'ifSource') },
      { bucket: req.params.destinationBucket, name: req.params.destinationObject, pre: preconditionsOf(req) }, given);
  };
  route('POST', '/storage/v1/b/{sourceBucket}/o/{sourceObject}/rewriteTo/b/{destinationBucket}/o/{destinationObject=**}', {
    query: [...copyQuery, 'maxBytesRewrittenPerCall', 'rewriteToken'],
    handler: req => {
      // Every rewrite completes in its first call (bytes are shared, not moved), so a token is never issued.
      const perCall = queryInt64(req, 'maxBytesRewrittenPerCall');
      if (perCall !== undefined && (perCall <= 0n || perCall % 1048576n !== 0n)) {
        throw errors.invalidArgument('maxBytesRewrittenPerCall must be a positive multiple of 1048576.', 'maxBytesRewrittenPerCall');
      }
      const token = queryString(req, 'rewriteToken');
      if (token !== undefined && token.length > 4096) throw errors.invalidArgument('Invalid rewrite token.', 'rewriteToken');
      const resource = copy(req);
      return json({ kind: 'storage#rewriteResponse', totalBytesRewritten: resource.size, objectSize: resource.size, done: true, resource });
    },
  });
  route('POST', '/storage/v1/b/{sourceBucket}/o/{sourceObject}/copyTo/b/{destinationBucket}/o/{destinationObject=**}', {
    query: copyQuery,
    handler: req => json(copy(req)),
  });
  route('POST', '/storage/v1/b/{bucket}/o/{sourceObject}/moveTo/o/{destinationObject=**}', {
    query: [...PRECONDITION_PARAMS, ...SOURCE_PRECONDITION_PARAMS, 'projection', 'userProject'],
    handler: req => {
      projection(req);
      return json(svc.moveObject(req.params.bucket, req.params.sourceObject, req.params.destinationObject, preconditionsOf(req, 'ifSource'), preconditionsOf(req)));
    },
  });
  route('POST', '/storage/v1/b/{destinationBucket}/o/{destinationObject=**}/compose', {
    query: ['destinationPredefinedAcl', 'ifGenerationMatch', 'ifMetagenerationMatch', 'kmsKeyName', 'userProject'],
    handler: req => {
      const body = req.body;
      if (body === null || typeof body !== 'object' || Array.isArray(body)) throw errors.invalidArgument('The compose request must be a JSON object.', 'body');
      return json(svc.compose(req.params.destinationBucket, req.params.destinationObject, body as Obj, preconditionsOf(req)));
    },
  });

  // Uploads. apitools (gcloud) opens resumable sessions under /resumable/upload/…, everyone else under /upload/….
  const uploadQuery = ['name', ...PRECONDITION_PARAMS, 'predefinedAcl', 'projection', 'userProject', 'contentEncoding', 'kmsKeyName', 'upload_id'];
  route('POST', '/upload/storage/v1/b/{bucket}/o', { rawBody: true, query: uploadQuery, handler: req => upload(req) });
  route('POST', '/resumable/upload/storage/v1/b/{bucket}/o', { rawBody: true, query: uploadQuery, handler: req => upload(req) });
  route('PUT', '/upload/storage/v1/b/{bucket}/o', { rawBody: true, query: ['upload_id', 'name'], handler: req => upload(req) });

  function upload(req: ApiRequest): ApiReply {
    projection(req);
    const bucket = req.params.bucket;
    const type = queryString(req, 'uploadType') ?? (queryString(req, 'upload_id') ? 'resumable' : 'media');
    const body = req.body as Buffer;
    const ctype = String(req.headers['content-type'] ?? 'application/octet-stream');
    const pre = preconditionsOf(req);
    const contentEncoding = queryString(req, 'contentEncoding');
    const encoding = contentEncoding ? { contentEncoding } : {};
    if (type === 'media') {
      const name = queryString(req, 'name');
      if (!name) throw errors.invalidArgument('Required parameter: name', 'name');
      return json(svc.putObject(bucket, name, body, ctype, {}, { preconditions: pre, fields: encoding }));
    }
    if (type === 'multipart') {
      const parts = parseMultipart(body, ctype);
      const r = objectFields(parts.metadata);
      const { contentType, ...fields } = r.fields;
      return json(svc.putObject(bucket, r.name ?? queryString(req, 'name') ?? '', parts.data, typeof contentType === 'string' ? contentType : parts.mediaType,
        liveMetadata(r.metadata), { fields: { ...encoding, ...fields }, preconditions: pre, md5Hash: r.md5Hash, crc32c: r.crc32c }));
    }
    if (type !== 'resumable') throw errors.invalidArgument(`Unsupported uploadType "${clip(type)}"`, 'uploadType');
    const id = queryString(req, 'upload_id');
    if (!id) {
      // Opening a session: the object resource, checked now; the preconditions are checked again at the end.
      svc.bucket(bucket);
      const r = objectFields(body.length ? parseJson(body, 'resumable upload metadata') : {});
      const name = r.name ?? queryString(req, 'name') ?? '';
      if (!name) throw errors.invalidArgument('Required parameter: name', 'name');
      checkObjectName(name);
      checkPreconditions(svc.findObject(bucket, name), pre);
      const declared = req.headers['x-upload-content-length'];
      const declaredSize = typeof declared === 'string' && /^\d{1,15}$/.test(declared) ? Number(declared) : undefined;
      if (declaredSize !== undefined && declaredSize > MAX_OBJECT_BYTES) throw errors.invalidArgument(`Objects uploaded here are at most ${MAX_OBJECT_BYTES} bytes.`, 'x-upload-content-length');
      const headerType = req.headers['x-upload-content-type'];
      const { contentType, ...fields } = r.fields;
      const uploadId = svc.uploads.start({
        bucket, name, metadata: liveMetadata(r.metadata), preconditions: pre, declaredSize, extra: { ...encoding, ...fields },
        contentType: typeof contentType === 'string' ? contentType : typeof headerType === 'string' ? headerType : 'application/octet-stream',
      });
      const host = String(req.headers.host ?? '127.0.0.1');
      return { body: {}, headers: { location: `http://${host}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&upload_id=${uploadId}` } };
    }
    // Unknown, expired (a week, as Cloud Storage) and evicted sessions answer alike.
    const gone = () => new ApiError('NOT_FOUND', `No such upload session: ${clip(id)}`);
    const s = svc.uploads.get(id);
    if (!s) throw gone();
    const range = uploadRange(req.headers['content-range']);
    // Finalized already: the client lost the answer to its last request; tell it again.
    if (s.done) return json(s.done);
    const incomplete = (received: number): ApiReply => ({ ...EMPTY(308, 'text/plain'), headers: received ? { range: `bytes=0-${received - 1}` } : {} });
    let total: number | undefined;
    if (!range) {
      // No Content-Range: this request carries the whole object.
      if (s.received) throw errors.invalidArgument('An upload that sent chunks must give each further chunk a Content-Range.', 'content-range');
      if (!svc.uploads.append(id, body)) throw gone();
      total = body.length;
    } else {
      if (range.first === undefined) {
        if (body.length) throw errors.invalidArgument('A Content-Range of "bytes */…" carries no bytes.', 'content-range');
      } else {
        if (range.rest) range.last = range.first + body.length - 1;
        else if (body.length !== range.last! - range.first + 1) throw errors.invalidArgument('The Content-Range does not match the number of bytes sent.', 'content-range');
        if (range.first > s.received) throw errors.invalidArgument(`Invalid request: the chunk starts at byte ${range.first}, but ${s.received} bytes have been received.`, 'content-range');
        // Bytes already received (a retried chunk) are skipped.
        const fresh = body.subarray(s.received - range.first);
        if (s.received + fresh.length > MAX_OBJECT_BYTES) throw errors.invalidArgument(`Objects uploaded here are at most ${MAX_OBJECT_BYTES} bytes.`, 'content-range');
        if (!svc.uploads.append(id, fresh)) throw gone();
      }
      // `first-*`: the request carried the rest of the object, so it ends here.
      total = range.rest ? range.first! + body.length : range.total;
      if (range.rest && range.total !== undefined && range.total !== total) {
        throw errors.invalidArgument(`The upload carried ${total} bytes, not the declared ${range.total}.`, 'content-range');
      }
      const received = svc.uploads.get(id)?.received ?? 0;
      if (total === undefined || received < total) return incomplete(received);
      if (received > total) throw errors.invalidArgument(`The upload received ${received} bytes, more than its declared ${total}.`, 'content-range');
    }
    const u = s.session;
    const data = svc.uploads.bytes(id);
    if (u.declaredSize !== undefined && data.length !== u.declaredSize) {
      throw errors.invalidArgument(`The upload carried ${data.length} bytes, not the ${u.declaredSize} declared when it began.`, 'x-upload-content-length');
    }
    const obj = svc.putObject(u.bucket, u.name, data, u.contentType, u.metadata, { fields: u.extra, preconditions: u.preconditions });
    svc.uploads.finish(id, obj);
    return json(obj);
  }
}

/** Custom metadata to store: nulls (meaning "absent") dropped. */
function liveMetadata(m: Record<string, string | null> | undefined): Record<string, string> {
  return Object.fromEntries(Object.entries(m ?? {}).filter((e): e is [string, string] => e[1] !== null));
}


/**
 * Cloud Storage's XML API upload, `PUT /{bucket}/{object}` (what firebase-tools sends its source zip with). Registered
 * after every other route: its path template matches any PUT of two or more segments.
 */
export function registerPathStyleUpload(app: App, svc: StorageService): void {
  app.route('PUT', '/{bucket}/{object=**}', {
    rawBody: true,
    handler: req => {
      const bucket = req.params.bucket;
      if (!/^[a-z0-9][a-z0-9._-]{1,221}[a-z0-9]$/.test(bucket) || /^v\d/.test(bucket)) throw errors.routeNotFound('PUT', req.path);
      const data = req.body as Buffer;
      const range = req.headers['x-goog-content-length-range'];
      const m = typeof range === 'string' ? /^(\d+),(\d+)$/.exec(range.trim()) : undefined;
      if (m && (data.length < Number(m[1]) || data.length > Number(m[2]))) {
        throw errors.invalidArgument(`The upload is ${data.length} bytes, outside x-goog-content-length-range ${range as string}.`, 'x-goog-content-length-range');
      }
      const obj = svc.putObject(bucket, req.params.object, data, String(req.headers['content-type'] ?? 'application/octet-stream'), {}, {});
      return { status: 200, body: undefined, bytes: { data: Buffer.alloc(0), contentType: 'text/plain' }, headers: { 'x-goog-generation': String(obj.generation), 'x-goog-hash': `crc32c=${String(obj.crc32c)},md5=${String(obj.md5Hash)}`, etag: `"${String(obj.etag)}"` } };
    },
  });
}
