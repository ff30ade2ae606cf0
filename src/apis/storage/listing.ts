// objects.list: one bucket's objects in name order (UTF-8 byte order, as Cloud Storage lists them) with prefix,
// delimiter (collapsing a "directory" into one entry of `prefixes`), includeTrailingDelimiter, startOffset,
// endOffset and matchGlob, paged by maxResults and opaque tokens.
//
// Objects are stored with their name in the store's indexed create-time column, so a page is an index walk from a
// cursor: a prefix or startOffset seeks to its first name, a collapsed directory is skipped in one seek past
// every name under it, and the walk stops at the first name past the prefix or endOffset. Work is bounded per
// page (rows examined, glob steps, bytes): a page that runs out ends early with a token, as Cloud Storage's own
// pages may.
import type { Store } from '../../store/store.js';
import { errors } from '../../google/errors.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, queryHash } from '../../google/paging.js';
import type { Glob } from './glob.js';

type Obj = Record<string, unknown>;

/** Rows one page may examine (skipped by a glob, collapsed into a prefix, …) before it ends with a token. */
export const MAX_ROWS_EXAMINED = 5000;
/** Glob match steps (character × live state) one page may spend. */
export const MAX_GLOB_STEPS = 2_000_000;

export interface ListQuery {
  bucket: string;
  /** The store parent of the bucket's objects. */
  parent: string;
  /** The store name of an object (the keyset tie-breaker). */
  rowName: (object: string) => string;
  prefix: string;
  delimiter?: string;
  includeTrailingDelimiter: boolean;
  startOffset?: string;
  endOffset?: string;
  glob?: Glob;
  maxResults: number;
  pageToken?: string;
  /** The extra query parts a token is bound to (versions, …). */
  bind: string[];
}

export interface ListPage { items: Obj[]; prefixes: string[]; nextPageToken?: string }

/** Compares in UTF-8 byte order (= code point order), the order SQLite's BINARY collation and Cloud Storage use. */
export function byteCompare(a: string, b: string): number {
  return Buffer.compare(Buffer.from(a), Buffer.from(b));
}

/**
 * A string greater than every object name that starts with `p` (names are at most 1,024 bytes of UTF-8, and
 * U+10FFFF is the greatest code point), and less than every greater name that does not: the seek past a
 * collapsed prefix.
 */
function pastPrefix(p: string): string {
  return p + '\u{10FFFF}'.repeat(Math.max(1, Math.ceil((1024 - Buffer.byteLength(p)) / 4) + 1));
}

export function listObjects(store: Store, q: ListQuery, view: (o: Obj) => Obj): ListPage {
  const hash = queryHash('storageObject', q.bucket, q.prefix, q.delimiter, q.startOffset, q.endOffset, q.glob?.pattern,
    String(q.includeTrailingDelimiter), ...q.bind);
  const cursor = decodePageToken(q.pageToken, hash);
  if (cursor && (cursor.length !== 2 || typeof cursor[0] !== 'string' || (cursor[1] !== 0 && cursor[1] !== 1) || Buffer.byteLength(cursor[0]) > 1024)) {
    throw errors.invalidArgument('The page token is invalid or does not match the query it was issued for.', 'page_token');
  }
  // Where the walk starts: after the token's position, else at the greater of prefix and startOffset (inclusive).
  let after: unknown[] | undefined;
  if (cursor) {
    const [name, skip] = cursor as [string, number];
    after = skip ? [pastPrefix(name), ''] : [name, q.rowName(name)];
  } else {
    const lower = q.startOffset !== undefined && byteCompare(q.startOffset, q.prefix) > 0 ? q.startOffset : q.prefix;
    if (lower) after = [lower, ''];
  }

  const items: Obj[] = [];
  const prefixes: string[] = [];
  const budget = { steps: MAX_GLOB_STEPS };
  let examined = 0;
  let bytes = 0;
  // The position of the last row looked at: a token resumes after it (skip: past every name under a prefix).
  let resume: [string, number] | undefined;
  const beyond = (name: string) => !name.startsWith(q.prefix) || (q.endOffset !== undefined && byteCompare(name, q.endOffset) >= 0);
  const full = () => items.length + prefixes.length >= q.maxResults || bytes > PAGE_MAX_BYTES || examined >= MAX_ROWS_EXAMINED || budget.steps <= 0;
  // Rows fetched per query: small right after a seek past a prefix (the next row may well start another), doubling
  // while rows are used one after another.
  const smallest = q.delimiter ? 8 : Math.min(256, q.maxResults + 1);
  let chunk = smallest;

  const seek = (r: [string, number]): unknown[] => (r[1] ? [pastPrefix(r[0]), ''] : [r[0], q.rowName(r[0])]);

  walk: for (;;) {
    const res = store.list({ kind: 'storageObject', scope: { parent: q.parent }, order: [{ path: ['createTime'], desc: false }], after, limit: chunk });
    for (const o of res.rows) {
      const name = String(o.name);
      if (beyond(name)) return page(undefined);
      // A full page ends here, with a token, since this row lies ahead within the query's bounds.
      if (full()) return page(resume);
      examined++;
      if (q.delimiter) {
        const at = name.indexOf(q.delimiter, q.prefix.length);
        if (at >= 0) {
          const p = name.slice(0, at + q.delimiter.length);
          if (!q.glob || q.glob.matches(p, budget)) prefixes.push(p);
          // The object named exactly like the prefix is the first under it: listed too when asked for.
          if (q.includeTrailingDelimiter && name === p && (!q.glob || q.glob.matches(name, budget))) add(o);
          resume = [p, 1];
          after = seek(resume);
          chunk = smallest;
          continue walk;
        }
      }
      resume = [name, 0];
      if (!q.glob || q.glob.matches(name, budget)) add(o);
    }
    if (!res.more || !resume) return page(undefined);
    after = seek(resume);
    chunk = Math.min(chunk * 2, 256);
  }

  function add(o: Obj): void {
    const v = view(o);
    items.push(v);
    bytes += JSON.stringify(v).length;
  }

  function page(next: [string, number] | undefined): ListPage {
    return { items, prefixes, ...(next ? { nextPageToken: encodePageToken(hash, next) } : {}) };
  }
}
