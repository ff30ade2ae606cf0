// The Cloud Storage JSON API subset that `gcloud deploy releases create --source` uses to stage the
// source (bucket get/insert/list, media, multipart and resumable uploads) and that users need to
// download objects. Objects are metadata in the store plus content-addressed bytes on disk.
import { createHash } from 'node:crypto';
import type { Store } from '../../store/store.js';
import type { Clock } from '../../engine/clock.js';
import { ApiError, errors } from '../../google/errors.js';
import { etagOf, newUid } from '../../google/ids.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, pageSize, queryHash } from '../../google/paging.js';
import { queryInt, queryString, type ApiReply, type ApiRequest, type MethodSpec } from '../../server/api.js';
import type { App } from '../../server/app.js';
import { BlobStore } from './blobs.js';
import { UploadSessions } from './uploads.js';

type Obj = Record<string, unknown>;
const BUCKET = /^[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]$/;

export const bucketName = (b: string) => `storage/buckets/${b}`;
export const objectName = (b: string, o: string) => `storage/buckets/${b}/objects/${encodeURIComponent(o)}`;

export class StorageService {
  readonly uploads: UploadSessions;
  constructor(private store: Store, private clock: Clock, private blobs: BlobStore, private baseUrl: () => string) {
    this.uploads = new UploadSessions(clock);
  }

  bucket(b: string): Obj {
    const bucket = this.store.getParsed<Obj>(bucketName(b));
    if (!bucket) throw new ApiError('NOT_FOUND', 'The specified bucket does not exist.');
    return bucket;
  }

  createBucket(project: string, b: string, location = 'US'): Obj {
    if (!BUCKET.test(b)) throw errors.invalidArgument(`Invalid bucket name: '${b}'`, 'name');
    if (this.store.get(bucketName(b))) throw new ApiError('ALREADY_EXISTS', 'Your previous request to create the named bucket succeeded and you already own it.');
    const now = new Date(this.clock.now()).toISOString();
    const bucket: Obj = {
      kind: 'storage#bucket', id: b, name: b, selfLink: `${this.baseUrl()}/storage/v1/b/${b}`, projectNumber: '0', project,
      location: location.toUpperCase(), locationType: 'region', storageClass: 'STANDARD', metageneration: '1', timeCreated: now, updated: now,
    };
    bucket.etag = etagOf(JSON.stringify(bucket));
    this.store.tx(w => w.put('storageBucket', bucketName(b), 'storage/buckets', bucket, now, false));
    return bucket;
  }

  putObject(b: string, name: string, data: Buffer, contentType = 'application/octet-stream', metadata: Record<string, string> = {}): Obj {
    this.bucket(b);
    checkObjectName(name);
    const blob = this.blobs.put(data);
    const now = new Date(this.clock.now()).toISOString();
    const generation = String(this.clock.now() * 1000 + Math.floor(Math.random() * 1000));
    const enc = encodeURIComponent(name);
    const obj: Obj = {
      kind: 'storage#object', id: `${b}/${name}/${generation}`, name, bucket: b, generation, metageneration: '1',
      selfLink: `${this.baseUrl()}/storage/v1/b/${b}/o/${enc}`, mediaLink: `${this.baseUrl()}/download/storage/v1/b/${b}/o/${enc}?generation=${generation}&alt=media`,
      contentType, storageClass: 'STANDARD', size: String(data.length),
      md5Hash: createHash('md5').update(data).digest('base64'), crc32c: crc32c(data),
      etag: newUid().slice(0, 12), timeCreated: now, updated: now, ...(Object.keys(metadata).length ? { metadata } : {}),
      gantryBlob: blob,
    };
    this.store.tx(w => w.put('storageObject', objectName(b, name), bucketName(b), obj, now, false));
    return view(obj);
  }

  object(b: string, name: string): Obj {
    this.bucket(b);
    const obj = this.store.getParsed<Obj>(objectName(b, name));
    if (!obj) throw new ApiError('NOT_FOUND', `No such object: ${b}/${name}`);
    return obj;
  }

  /** Object bytes by gs:// URL. */
  read(url: string): Buffer {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(url);
    if (!m) throw errors.invalidArgument(`"${url}" is not a gs:// URL.`, 'uri');
    return this.blobs.get(String(this.object(m[1], m[2]).gantryBlob));
  }

  write(url: string, data: Buffer, contentType: string): void {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(url)!;
    if (!this.store.get(bucketName(m[1]))) this.createBucket('gantry', m[1]);
    this.putObject(m[1], m[2], data, contentType);
  }

  content(obj: Obj): Buffer { return this.blobs.get(String(obj.gantryBlob)); }

  /** Where a gs:// object downloads over HTTP from this Gantry. */
  httpUrl(url: string): string {
    const m = /^gs:\/\/([^/]+)\/(.+)$/.exec(url);
    return m ? `${this.baseUrl()}/download/storage/v1/b/${m[1]}/o/${encodeURIComponent(m[2])}?alt=media` : url;
  }
}

/** Cloud Storage's naming rules: 1-1024 bytes of UTF-8 (so no lone surrogates), no carriage return or line feed. */
function checkObjectName(name: string): void {
  if (!name || Buffer.byteLength(name) > 1024) throw errors.invalidArgument('Object name must be 1-1024 bytes of UTF-8.', 'name');
  if (/[\r\n]|\p{Surrogate}/u.test(name)) throw errors.invalidArgument('Object name must be valid Unicode without carriage returns or line feeds.', 'name');
}

/** Cloud Storage's limit on an object's custom metadata (keys and values). */
const MAX_CUSTOM_METADATA = 8 * 1024;

/**
 * The object resource a multipart or resumable upload sends: any JSON may arrive, so each field used is checked
 * here (a `null` body or a numeric name used to throw a TypeError: a 500).
 */
function objectResource(raw: unknown): { name?: string; contentType?: string; metadata: Record<string, string> } {
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw errors.invalidArgument('The object resource must be a JSON object.', 'body');
  const r = raw as Obj;
  for (const f of ['name', 'contentType'] as const) {
    if (r[f] != null && typeof r[f] !== 'string') throw errors.invalidArgument(`Invalid value for ${f}: must be a string.`, f);
  }
  const metadata: Record<string, string> = {};
  if (r.metadata != null) {
    if (typeof r.metadata !== 'object' || Array.isArray(r.metadata)) throw errors.invalidArgument('Invalid value for metadata: must be an object of strings.', 'metadata');
    let size = 0;
    for (const [k, v] of Object.entries(r.metadata as Obj)) {
      if (v === null) continue;
      if (typeof v !== 'string') throw errors.invalidArgument(`Invalid value for metadata.${k}: must be a string.`, `metadata.${k}`);
      size += Buffer.byteLength(k) + Buffer.byteLength(v);
      metadata[k] = v;
    }
    if (size > MAX_CUSTOM_METADATA) throw errors.invalidArgument(`Custom metadata exceeds ${MAX_CUSTOM_METADATA} bytes.`, 'metadata');
  }
  return { name: (r.name as string | null) ?? undefined, contentType: (r.contentType as string | null) ?? undefined, metadata };
}

function parseJson(body: Buffer, what: string): unknown {
  try { return JSON.parse(body.toString()); } catch { throw errors.invalidArgument(`${what} is not JSON`, 'body'); }
}

/** A copy without one (internal) key. */
function omit(obj: Obj, key: string): Obj {
  const out = { ...obj };
  delete out[key];
  return out;
}

/** An object as the API shows it: without Gantry's pointer to its bytes. */
const view = (obj: Obj): Obj => omit(obj, 'gantryBlob');


// CRC32C (Castagnoli), base64 big-endian, as Cloud Storage reports it.
const TABLE = (() => {
  const t = new Uint32Array(256);
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[i] = c >>> 0;
  }
  return t;
})();
function crc32c(data: Buffer): string {
  let c = 0xffffffff;
  for (const b of data) c = TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

/** multipart/related: a JSON metadata part, then the media part. */
function parseMultipart(body: Buffer, contentType: string): { metadata: unknown; data: Buffer; mediaType: string } {
  // gcloud quotes the boundary with single quotes, most clients with double quotes or none.
  const m = /boundary=(?:"([^"]+)"|'([^']+)'|([^;\s]+))/.exec(contentType);
  if (!m) throw errors.invalidArgument('multipart upload without a boundary', 'content-type');
  const boundary = Buffer.from(`--${m[1] ?? m[2] ?? m[3]}`);
  // Parts start after the boundary line's own line break.
  const skipEol = (i: number) => (body[i] === 13 && body[i + 1] === 10 ? i + 2 : body[i] === 10 ? i + 1 : i);
  const parts: Buffer[] = [];
  let at = body.indexOf(boundary);
  while (at >= 0) {
    const start = at + boundary.length;
    if (body.subarray(start, start + 2).toString() === '--') break;
    const next = body.indexOf(boundary, start);
    if (next < 0) break;
    parts.push(body.subarray(skipEol(start), next));
    at = next;
  }
  if (parts.length < 2) throw errors.invalidArgument('multipart upload needs a metadata part and a media part', 'body');
  // Python's email generator (gcloud/apitools) ends lines with \n; most other clients with \r\n.
  const split = (p: Buffer) => {
    const crlf = p.indexOf('\r\n\r\n');
    const lf = p.indexOf('\n\n');
    const [sep, len] = crlf >= 0 && (lf < 0 || crlf < lf) ? [crlf, 4] : [lf, 2];
    if (sep < 0) throw errors.invalidArgument('multipart part without headers', 'body');
    const head = p.subarray(0, sep).toString();
    let content = p.subarray(sep + len);
    if (content.subarray(-2).toString() === '\r\n') content = content.subarray(0, -2);
    else if (content.subarray(-1).toString() === '\n') content = content.subarray(0, -1);
    return { head, content };
  };
  const meta = split(parts[0]);
  const media = split(parts[1]);
  const metadata = parseJson(meta.content, 'multipart metadata');
  const mediaType = /content-type:\s*([^\r\n]+)/i.exec(media.head)?.[1] ?? 'application/octet-stream';
  return { metadata, data: media.content, mediaType };
}

export function registerStorage(app: App, svc: StorageService, store: Store): void {
  const json = (body: unknown): ApiReply => ({ body });

  app.route('GET', '/storage/v1/b/{bucket}', { query: ['projection', 'userProject'], handler: req => json(strip(svc.bucket(req.params.bucket))) });
  app.route('POST', '/storage/v1/b', {
    query: ['project', 'projection', 'predefinedAcl', 'predefinedDefaultObjectAcl', 'userProject', 'enableObjectRetention'],
    handler: req => {
      const project = queryString(req, 'project');
      if (!project) throw errors.invalidArgument('Required parameter: project', 'project');
      const body = (req.body ?? {}) as Obj;
      if (typeof body.name !== 'string') throw errors.invalidArgument('Required: bucket name', 'name');
      return json(strip(svc.createBucket(project, body.name, typeof body.location === 'string' ? body.location : undefined)));
    },
  });
  app.route('GET', '/storage/v1/b', {
    query: ['project', 'prefix', 'maxResults', 'pageToken', 'projection', 'userProject'],
    handler: req => {
      const project = queryString(req, 'project');
      const prefix = queryString(req, 'prefix') ?? '';
      const items = store.children('storageBucket', 'storage/buckets').filter(b => (!project || b.project === project) && String(b.name).startsWith(prefix));
      return json({ kind: 'storage#buckets', ...(items.length ? { items: items.map(strip) } : {}) });
    },
  });
  app.route('GET', '/storage/v1/b/{bucket}/o', {
    query: ['prefix', 'delimiter', 'maxResults', 'pageToken', 'projection', 'versions', 'userProject', 'includeTrailingDelimiter', 'startOffset', 'endOffset', 'matchGlob'],
    handler: req => {
      const bucket = req.params.bucket;
      svc.bucket(bucket);
      const prefix = queryString(req, 'prefix') ?? '';
      // Pages in name order, as Cloud Storage: at most maxResults (1,000 by default and at most) and PAGE_MAX_BYTES.
      const maxResults = queryInt(req, 'maxResults');
      if (maxResults !== undefined && maxResults < 0) throw errors.invalidArgument(`Invalid value for maxResults: ${maxResults}`, 'maxResults');
      const hash = queryHash('storageObject', bucket, prefix);
      const res = store.list({
        kind: 'storageObject', scope: { parent: bucketName(bucket) }, order: [{ path: ['name'], desc: false }],
        predicate: o => String(o.name).startsWith(prefix), after: decodePageToken(queryString(req, 'pageToken'), hash),
        limit: pageSize(maxResults, 1000, 1000), maxBytes: PAGE_MAX_BYTES,
      });
      const items = res.rows.map(view);
      return json({ kind: 'storage#objects', ...(res.more && res.last ? { nextPageToken: encodePageToken(hash, res.last) } : {}), ...(items.length ? { items } : {}) });
    },
  });
  const getObject: MethodSpec = {
    query: ['generation', 'ifGenerationMatch', 'ifMetagenerationMatch', 'projection', 'userProject'],
    handler: req => {
      const obj = svc.object(req.params.bucket, req.params.object);
      if (queryString(req, 'alt') === 'media') return { body: undefined, bytes: { data: svc.content(obj), contentType: String(obj.contentType) } };
      return json(view(obj));
    },
  };
  app.route('GET', '/storage/v1/b/{bucket}/o/{object=**}', getObject);
  app.route('GET', '/download/storage/v1/b/{bucket}/o/{object=**}', getObject);
  app.route('DELETE', '/storage/v1/b/{bucket}/o/{object=**}', {
    query: ['generation', 'ifGenerationMatch', 'userProject'],
    handler: req => {
      svc.object(req.params.bucket, req.params.object);
      store.tx(w => w.delete(objectName(req.params.bucket, req.params.object)));
      return { body: undefined, bytes: { data: Buffer.alloc(0), contentType: 'application/json' }, status: 204 };
    },
  });
  app.route('POST', '/upload/storage/v1/b/{bucket}/o', {
    rawBody: true,
    query: ['name', 'ifGenerationMatch', 'ifGenerationNotMatch', 'predefinedAcl', 'projection', 'userProject', 'contentEncoding', 'kmsKeyName', 'upload_id'],
    handler: req => upload(req),
  });
  app.route('PUT', '/upload/storage/v1/b/{bucket}/o', { rawBody: true, query: ['upload_id', 'name'], handler: req => upload(req) });

  function upload(req: ApiRequest): ApiReply {
    const bucket = req.params.bucket;
    const type = queryString(req, 'uploadType') ?? (queryString(req, 'upload_id') ? 'resumable' : 'media');
    const body = req.body as Buffer;
    const ctype = String(req.headers['content-type'] ?? 'application/octet-stream');
    if (type === 'media') {
      const name = queryString(req, 'name');
      if (!name) throw errors.invalidArgument('Required parameter: name', 'name');
      return json(svc.putObject(bucket, name, body, ctype));
    }
    if (type === 'multipart') {
      const parts = parseMultipart(body, ctype);
      const r = objectResource(parts.metadata);
      return json(svc.putObject(bucket, r.name ?? queryString(req, 'name') ?? '', parts.data, r.contentType ?? parts.mediaType, r.metadata));
    }
    if (type === 'resumable') {
      const id = queryString(req, 'upload_id');
      if (!id) {
        svc.bucket(bucket);
        const r = objectResource(body.length ? parseJson(body, 'resumable upload metadata') : {});
        const name = r.name ?? queryString(req, 'name') ?? '';
        if (!name) throw errors.invalidArgument('Required parameter: name', 'name');
        checkObjectName(name);
        const headerType = req.headers['x-upload-content-type'];
        const contentType = r.contentType ?? (typeof headerType === 'string' ? headerType : 'application/octet-stream');
        const uploadId = svc.uploads.start({ bucket, name, contentType, metadata: r.metadata });
        const host = String(req.headers.host ?? '127.0.0.1');
        return { body: {}, headers: { location: `http://${host}/upload/storage/v1/b/${bucket}/o?uploadType=resumable&upload_id=${uploadId}` } };
      }
      // Unknown, expired (a week, as Cloud Storage) and evicted sessions answer alike.
      const gone = () => new ApiError('NOT_FOUND', `No such upload session: ${id}`);
      // `Content-Range: bytes */*` without bytes asks how much has arrived (a client resuming a session URI):
      // nothing until the one request that carries the object, so 308 without a Range header.
      const range = req.headers['content-range'];
      if (!body.length && typeof range === 'string' && /^bytes \*\/(\*|[1-9]\d*)$/.test(range.trim())) {
        if (!svc.uploads.has(id)) throw gone();
        return { status: 308, body: undefined, bytes: { data: Buffer.alloc(0), contentType: 'text/plain' } };
      }
      const u = svc.uploads.take(id);
      if (!u) throw gone();
      return json(svc.putObject(u.bucket, u.name, body, u.contentType, u.metadata));
    }
    throw errors.invalidArgument(`Unsupported uploadType "${type}"`, 'uploadType');
  }
}

/** A bucket as the API shows it: the owning project is Gantry's bookkeeping. */
const strip = (b: Obj): Obj => omit(b, 'project');
