// A snapshot's lines, read as the untrusted input they are: each line is checked as strictly as an API request
// (its shape, the kind and name of each resource, times, sizes, nesting), and the first bad one is a 400 naming
// its line; nothing is stored until every line has passed. Stored objects name their bytes by content address
// only: a storageObject's `gantryBlob` must be the SHA-256 of a blob line carried in the same snapshot (which is
// hashed here), so no reference can point anywhere Gantry did not verify.
import { createHash } from 'node:crypto';
import { errors, type ApiError } from '../google/errors.js';
import { MAX_JSON_DEPTH, nestingDepth } from '../google/json-depth.js';
import { parseTimestamp } from '../google/time.js';
import { MAX_RESOURCE_BYTES } from '../google/standard-methods.js';
import { PROJECT_ID, PROJECT_NUMBER_META } from '../google/projects.js';
import type { StoredRow } from '../store/store.js';
import { isContentAddress } from '../apis/storage/blobs.js';
import { checkRowData, checkRowName, namedByMessage, validId } from './snapshot-kinds.js';
import { OUTCOME_SCRIPT_KIND } from './outcome-scripts.js';

export const SNAPSHOT_FORMAT = 1;

/**
 * A line nests its payload two levels down (`{"resource":{"data":…}}`), so it may nest that much deeper than a
 * request body.
 */
const MAX_LINE_DEPTH = MAX_JSON_DEPTH + 2;
/**
 * Largest stored row. A client writes at most MAX_RESOURCE_BYTES per resource; Gantry's own fields add to it, and a
 * release copies its pipeline and targets, so a row may hold several client-sized parts.
 */
const MAX_ROW_BYTES = 8 * MAX_RESOURCE_BYTES;
/** The meta keys IAM policies are kept under (src/google/iam.ts, the project's in src/apis/platform). */
export const IAM_META = 'iam:';

export interface SnapshotContent {
  rows: StoredRow[];
  logs: { project: string; timestamp: string; log: string; data: string }[];
  meta: [string, string][];
  /** Verified blob bytes by content address. */
  blobs: Map<string, Buffer>;
}

type Obj = Record<string, unknown>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);

/** What a scoped import keeps: rows (chosen knowing all of them), and log entries and meta by project. */
export interface SnapshotScope { rows(all: StoredRow[]): (r: StoredRow) => boolean; project(p: string): boolean }

/** Every line of `text` checked; `inScope` chooses the rows, log entries and meta a scoped import keeps. */
export function readSnapshot(text: string, scope: SnapshotScope): SnapshotContent {
  const out: SnapshotContent = { rows: [], logs: [], meta: [], blobs: new Map() };
  const rows: StoredRow[] = [];
  const names = new Set<string>();
  /** Blob references of the storage objects, checked against the carried blobs once all lines are read. */
  const wants: { line: number; blob: string; size: string }[] = [];
  const lines = text.split('\n');
  let seen = 0;
  for (let i = 0; i < lines.length; i++) {
    if (!lines[i].trim()) continue;
    const bad = (why: string): ApiError => errors.invalidArgument(`Snapshot line ${i + 1}: ${why}`, 'snapshot');
    const first = seen++ === 0;
    if (nestingDepth(lines[i], MAX_LINE_DEPTH) > MAX_LINE_DEPTH) throw bad(`nested deeper than ${MAX_LINE_DEPTH} levels.`);
    let l: unknown;
    try { l = JSON.parse(lines[i]); } catch { throw bad('not JSON.'); }
    if (!isObj(l) || Object.keys(l).length !== 1) throw bad('a line is an object with one field: snapshot, resource, log, meta or blob.');
    const [key, v] = Object.entries(l)[0];
    if (first !== (key === 'snapshot')) throw bad(first ? `not a Gantry snapshot of format ${SNAPSHOT_FORMAT}.` : 'the snapshot header must be the first line only.');
    if (!isObj(v)) throw bad(`${key} must be an object.`);
    switch (key) {
      case 'snapshot':
        if (v.format !== SNAPSHOT_FORMAT) throw bad(`not a Gantry snapshot of format ${SNAPSHOT_FORMAT}.`);
        break;
      case 'resource': {
        const row = resourceRow(v, bad);
        if (names.has(row.name)) throw bad(`${row.name.slice(0, 200)} appears twice.`);
        names.add(row.name);
        if (row.kind === 'storageObject') wants.push({ line: i, ...storageObject(row, JSON.parse(row.data) as Obj, bad) });
        rows.push(row);
        break;
      }
      case 'log': {
        const { project, timestamp, log, data } = v;
        if (typeof project !== 'string' || !PROJECT_ID.test(project)) throw bad('a log entry needs the project id it belongs to.');
        if (typeof timestamp !== 'string' || parseTimestamp(timestamp) === undefined) throw bad('a log entry needs an RFC 3339 timestamp.');
        if (typeof log !== 'string' || !log.startsWith(`projects/${project}/logs/`) || !/^[^/\x00-\x1f\x7f]{1,512}$/.test(log.slice(`projects/${project}/logs/`.length))) throw bad(`a log entry's log must be projects/${project}/logs/LOG_ID.`);
        if (!isObj(data)) throw bad('a log entry\'s data must be an object.');
        const json = JSON.stringify(data);
        if (Buffer.byteLength(json) > MAX_RESOURCE_BYTES) throw bad(`a log entry may be at most ${MAX_RESOURCE_BYTES} bytes.`);
        if (scope.project(project)) out.logs.push({ project, timestamp, log, data: json });
        break;
      }
      case 'meta': {
        const { key: k, value } = v;
        if (typeof k === 'string' && k.startsWith(IAM_META)) {
          const project = iamPolicyMeta(k, value, bad);
          if (scope.project(project)) out.meta.push([k, value as string]);
          break;
        }
        if (typeof k !== 'string' || !new RegExp(`^${PROJECT_NUMBER_META.replace(/\./g, '\\.')}[1-9]\\d{0,18}$`).test(k) || typeof value !== 'string' || !PROJECT_ID.test(value)) {
          throw bad('only project numbers (project.number.N: a project id) and IAM policies (iam:RESOURCE: a policy) are carried as meta.');
        }
        if (scope.project(value)) out.meta.push([k, value]);
        break;
      }
      case 'blob': {
        const { id, data } = v;
        if (typeof id !== 'string' || !isContentAddress(id)) throw bad('a blob id is the SHA-256 of its bytes, 64 lowercase hex digits.');
        if (typeof data !== 'string' || !/^[A-Za-z0-9+/]*={0,2}$/.test(data) || data.length % 4 !== 0) throw bad('a blob\'s data must be base64.');
        const bytes = Buffer.from(data, 'base64');
        if (createHash('sha256').update(bytes).digest('hex') !== id) throw bad('the blob does not match its id.');
        out.blobs.set(id, bytes);
        break;
      }
      default:
        throw bad(`"${key.slice(0, 40)}" is an unknown kind of line.`);
    }
  }
  if (!seen) throw errors.invalidArgument(`Snapshot line 1: not a Gantry snapshot of format ${SNAPSHOT_FORMAT}.`, 'snapshot');
  // Chosen once every row is read: whether a storage object is a project's depends on its bucket's row, wherever it is.
  const keep = scope.rows(rows);
  out.rows = rows.filter(keep);
  for (const w of wants) {
    const bytes = out.blobs.get(w.blob);
    const bad = (why: string) => errors.invalidArgument(`Snapshot line ${w.line + 1}: ${why}`, 'snapshot');
    if (!bytes) throw bad(`the object's bytes (blob ${w.blob}) are not in the snapshot.`);
    if (String(bytes.length) !== w.size) throw bad(`the object's size ${w.size.slice(0, 20)} is not its blob's ${bytes.length} bytes.`);
  }
  return out;
}

/**
 * An IAM policy carried as meta (`iam:projects/{p}/…` → the policy as stored): a resource name of valid segments and a
 * policy object whose fields readers take as typed. Answers the policy's project.
 */
function iamPolicyMeta(key: string, value: unknown, bad: (why: string) => ApiError): string {
  const segs = key.slice(IAM_META.length).split('/');
  if (segs[0] !== 'projects' || !PROJECT_ID.test(segs[1] ?? '') || segs.length % 2 || !segs.every(validId)) throw bad('an IAM policy is kept under iam:projects/{project}/… (a resource name).');
  if (typeof value !== 'string' || Buffer.byteLength(value) > MAX_RESOURCE_BYTES) throw bad(`an IAM policy is a JSON string of at most ${MAX_RESOURCE_BYTES} bytes.`);
  let p: unknown;
  try { p = JSON.parse(value); } catch { throw bad('an IAM policy must be JSON.'); }
  if (!isObj(p)) throw bad('an IAM policy must be an object.');
  const bindingsOk = p.bindings === undefined || (Array.isArray(p.bindings) && p.bindings.every(b => isObj(b) && typeof b.role === 'string' && Array.isArray(b.members) && b.members.every(m => typeof m === 'string')));
  if (!bindingsOk || (p.etag !== undefined && typeof p.etag !== 'string') || (p.version !== undefined && typeof p.version !== 'number') || (p.gantryOf !== undefined && typeof p.gantryOf !== 'string')) {
    throw bad('an IAM policy has bindings of a role and members (strings), a string etag and a numeric version.');
  }
  return segs[1];
}

function resourceRow(r: Obj, bad: (why: string) => ApiError): StoredRow {
  const { name, kind, parent, createTime, active, data, ...extra } = r;
  if (Object.keys(extra).length) throw bad(`a resource has no field "${Object.keys(extra)[0].slice(0, 40)}".`);
  if (typeof name !== 'string' || typeof kind !== 'string' || typeof parent !== 'string' || typeof createTime !== 'string' || !isObj(data)) {
    throw bad('a resource needs name, kind, parent and createTime (strings) and data (an object).');
  }
  if (active !== undefined && typeof active !== 'boolean') throw bad('a resource\'s active flag is true or false.');
  const why = checkRowName(kind, name, parent);
  if (why) throw bad(why);
  // A storage object's creation time is its object name (its listing order); every other kind's is a timestamp.
  if (kind !== 'storageObject' && parseTimestamp(createTime) === undefined) throw bad(`${name.slice(0, 200)}: createTime must be an RFC 3339 timestamp.`);
  const json = JSON.stringify(data);
  if (Buffer.byteLength(json) > MAX_ROW_BYTES) throw bad(`${name.slice(0, 200)} is larger than ${MAX_ROW_BYTES} bytes.`);
  // Resources that carry their name carry this one (a reader trusts the two to agree), and those whose API message has
  // a name always carry it. (A bucket carries its id; an object is checked by storageObject.)
  if (kind === 'storageBucket' ? data.name !== name.split('/')[2] : ('name' in data || namedByMessage(kind)) && kind !== 'storageObject' && data.name !== name) {
    throw bad(`${name.slice(0, 200)}: data.name must be the resource's name.`);
  }
  const wrong = checkRowData(kind, name, data);
  if (wrong) throw bad(`${name.slice(0, 200)}: ${wrong}`);
  if (kind === OUTCOME_SCRIPT_KIND && (typeof data.scope !== 'string' || typeof data.rules !== 'string')) throw bad(`${name.slice(0, 200)}: an outcome script has a scope and rules (strings).`);
  return { name, kind, parent, createTime, active: active === true, data: json };
}

/** A storage object's row agrees with itself: its name, bucket and listing key, and a content address for its bytes. */
function storageObject(row: StoredRow, data: Obj, bad: (why: string) => ApiError): { blob: string; size: string } {
  const [, , bucket, , id] = row.name.split('/');
  let object: string;
  try { object = decodeURIComponent(id); } catch { throw bad(`${row.name.slice(0, 200)}: the object id is not URI-encoded.`); }
  if (encodeURIComponent(object) !== id || data.name !== object || data.bucket !== bucket || row.createTime !== object) {
    throw bad(`${row.name.slice(0, 200)}: the object's name, bucket and createTime must be those its resource name encodes.`);
  }
  if (typeof data.gantryBlob !== 'string' || !isContentAddress(data.gantryBlob)) throw bad(`${row.name.slice(0, 200)}: gantryBlob must be the SHA-256 of a blob carried in the snapshot.`);
  if (typeof data.size !== 'string' || !/^\d{1,20}$/.test(data.size)) throw bad(`${row.name.slice(0, 200)}: size must be a decimal string.`);
  return { blob: data.gantryBlob, size: data.size };
}
