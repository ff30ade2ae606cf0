// Byte-level helpers of the storage API: CRC32C as Cloud Storage reports it, multipart/related upload bodies,
// HTTP Range requests of downloads and Content-Range headers of resumable upload chunks.
import { ApiError, errors } from '../../google/errors.js';
import { checkRequestText } from '../../google/text.js';

// CRC32C (Castagnoli), base64 big-endian, as Cloud Storage reports it. Slicing-by-8 tables.
const TABLES = (() => {
  const t = Array.from({ length: 8 }, () => new Uint32Array(256));
  for (let i = 0; i < 256; i++) {
    let c = i;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0x82f63b78 ^ (c >>> 1) : c >>> 1;
    t[0][i] = c >>> 0;
  }
  for (let i = 0; i < 256; i++) for (let k = 1; k < 8; k++) t[k][i] = (t[0][t[k - 1][i] & 0xff] ^ (t[k - 1][i] >>> 8)) >>> 0;
  return t;
})();

export function crc32c(data: Buffer): string {
  const [t0, t1, t2, t3, t4, t5, t6, t7] = TABLES;
  let c = 0xffffffff;
  let i = 0;
  const n8 = data.length - (data.length % 8);
  for (; i < n8; i += 8) {
    const a = (c ^ (data[i] | (data[i + 1] << 8) | (data[i + 2] << 16) | (data[i + 3] << 24))) >>> 0;
    c = t7[a & 0xff] ^ t6[(a >>> 8) & 0xff] ^ t5[(a >>> 16) & 0xff] ^ t4[a >>> 24]
      ^ t3[data[i + 4]] ^ t2[data[i + 5]] ^ t1[data[i + 6]] ^ t0[data[i + 7]];
  }
  for (; i < data.length; i++) c = t0[(c ^ data[i]) & 0xff] ^ (c >>> 8);
  const out = Buffer.alloc(4);
  out.writeUInt32BE((c ^ 0xffffffff) >>> 0);
  return out.toString('base64');
}

export function parseJson(body: Buffer, what: string): unknown {
  const text = body.toString();
  let v: unknown;
  try { v = JSON.parse(text); } catch { throw errors.invalidArgument(`${what} is not JSON`, 'body'); }
  // As any JSON request's: no NUL or half of a surrogate pair in its text (a `\u` escape is how one gets in).
  if (text.includes('\\u')) checkRequestText(v);
  return v;
}

/** multipart/related: a JSON metadata part, then the media part. */
export function parseMultipart(body: Buffer, contentType: string): { metadata: unknown; data: Buffer; mediaType: string } {
  // gcloud quotes the boundary with single quotes, most clients with double quotes or none.
  const m = /boundary=(?:"([^"]{1,200})"|'([^']{1,200})'|([^;\s]{1,200}))/.exec(contentType);
  if (!m) throw errors.invalidArgument('multipart upload without a boundary', 'content-type');
  const boundary = Buffer.from(`--${m[1] ?? m[2] ?? m[3]}`);
  // Parts start after the boundary line's own line break.
  const skipEol = (i: number) => (body[i] === 13 && body[i + 1] === 10 ? i + 2 : body[i] === 10 ? i + 1 : i);
  const parts: Buffer[] = [];
  let at = body.indexOf(boundary);
  while (at >= 0 && parts.length < 2) {
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

/** A decimal that may be absurdly long: Infinity past 2^53 (so it compares as "beyond any object"). */
function bigDecimal(s: string): number {
  return s.length > 15 ? Infinity : Number(s);
}

/**
 * The byte range a download's `Range` header asks for, within an object of `size` bytes: undefined for the whole
 * object (no header, a header that is not one `bytes=` range, or an empty object), or [first, last] inclusive.
 * A range starting past the end is 416, as Cloud Storage answers.
 */
export function downloadRange(header: string | string[] | undefined, size: number): [number, number] | undefined {
  if (typeof header !== 'string' || size === 0) return undefined;
  const m = /^\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*$/i.exec(header.slice(0, 100));
  if (!m || (m[1] === '' && m[2] === '')) return undefined; // syntactically not one range: ignored (RFC 9110)
  if (m[1] === '') {
    // Suffix: the last N bytes.
    const n = bigDecimal(m[2]);
    if (n === 0) throw unsatisfiable(size);
    return [Math.max(0, size - Math.min(n, size)), size - 1];
  }
  const first = bigDecimal(m[1]);
  const last = m[2] === '' ? Infinity : bigDecimal(m[2]);
  if (last < first) return undefined; // invalid range: ignored
  if (first >= size) throw unsatisfiable(size);
  return [first, Math.min(last, size - 1)];
}

/** The 416 answer; `contentRange` carries `bytes *\/size` to the route. */
export class RangeNotSatisfiable extends ApiError {
  constructor(readonly size: number) {
    super('OUT_OF_RANGE', 'The requested range cannot be satisfied.', [], 416);
  }
}
const unsatisfiable = (size: number) => new RangeNotSatisfiable(size);

/**
 * A resumable upload chunk's `Content-Range`: `bytes first-last/total`, `bytes first-last/*` (total unknown yet),
 * `bytes first-*\/…` (this request carries everything from `first` on: @google-cloud/storage's single-request
 * form), `bytes *\/total` (finalize with nothing more) or `bytes *\/*` (a status query). Undefined when absent.
 */
export function uploadRange(header: string | string[] | undefined): { first?: number; last?: number; rest?: boolean; total?: number } | undefined {
  if (header === undefined) return undefined;
  if (typeof header !== 'string') throw errors.invalidArgument('Repeated Content-Range header.', 'content-range');
  const m = /^\s*bytes\s+(?:(\d{1,15})-(\d{1,15}|\*)|\*)\/(\d{1,15}|\*)\s*$/i.exec(header.slice(0, 100));
  if (!m) throw errors.invalidArgument(`Invalid Content-Range header: ${header.slice(0, 100)}`, 'content-range');
  const r: { first?: number; last?: number; rest?: boolean; total?: number } = {};
  if (m[1] !== undefined) {
    r.first = Number(m[1]);
    if (m[2] === '*') r.rest = true;
    else {
      r.last = Number(m[2]);
      if (r.last < r.first) throw errors.invalidArgument(`Invalid Content-Range header: ${header.slice(0, 100)}`, 'content-range');
    }
  }
  if (m[3] !== '*') r.total = Number(m[3]);
  if (r.total !== undefined && r.last !== undefined && r.last >= r.total) {
    throw errors.invalidArgument(`Invalid Content-Range header: ${header.slice(0, 100)}`, 'content-range');
  }
  return r;
}
