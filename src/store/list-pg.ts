// The SQL of a list query on PostgreSQL, ordering exactly as SQLite does (list-sql.ts): names and parents compare
// bytewise (COLLATE "C"); a JSON sort key orders numbers (booleans as 1 and 0) before text, a missing key as '', so
// a page token means the same row on either store. Paths and values are parameters; the text depends only on the
// query's structure (scope, indexed equalities, number of bound equalities, sort keys and their directions, a cursor
// or not), so the statements an instance prepares are a bounded set.
import { INDEXED_FIELDS } from './migrations.js';
import { ORDER_SLOTS } from './list-sql.js';
import type { ListQuery } from './store.js';
import { splitEqualities } from './page.js';

const EQUALITY_SLOTS = 4;

export interface PgListSql {
  shape: string;
  sql: string;
  /** Positional parameters ($1…), as text (libpq's text format). */
  values: (string | null)[];
  /** The page cursor of a result row. */
  cursor(row: Record<string, unknown>): unknown[];
  residual: { path: string[]; value: string | number | boolean }[];
}

/** A PostgreSQL text[] literal (each item quoted, so none is read as syntax: a JSON path's segments, say). */
export function pgArray(items: string[]): string {
  return '{' + items.map(s => '"' + s.replace(/["\\]/g, m => '\\' + m) + '"').join(',') + '}';
}

/** An SQLite GLOB pattern (`*`, `?`, `[...]`) as an anchored POSIX regular expression. */
export function globRegex(glob: string): string {
  let out = '^';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') out += '.*';
    else if (c === '?') out += '.';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 2);
      if (end < 0) { out += '\\['; continue; }
      let body = glob.slice(i + 1, end);
      if (body.startsWith('^')) body = '\\' + body;
      out += '[' + body.replace(/\\/g, '\\\\') + ']';
      i = end;
    } else out += /[.^$+(){}|\\]/.test(c) ? '\\' + c : c;
  }
  return out + '$';
}

/** The expression of an indexed JSON sort field: the same text the migrations index. */
export function indexedSortExpr(field: string): string {
  return `(coalesce(doc->>'${field}', '') COLLATE "C")`;
}

/** Named parameters written `@name::type` become `$n::type`, in order of first use. */
function positional(sql: string, params: Record<string, unknown>): { sql: string; values: (string | null)[] } {
  const order = new Map<string, number>();
  const values: (string | null)[] = [];
  const text = sql.replace(/@([A-Za-z_0-9]+)/g, (_, name: string) => {
    let n = order.get(name);
    if (n === undefined) {
      if (!(name in params)) throw new Error(`list-pg: no parameter ${name}`);
      const v = params[name];
      values.push(v === null || v === undefined ? null : typeof v === 'string' ? v : String(v));
      n = values.length;
      order.set(name, n);
    }
    return `$${n}`;
  });
  return { sql: text, values };
}

export function listPg(q: ListQuery): PgListSql {
  const indexed = INDEXED_FIELDS[q.kind];
  const params: Record<string, unknown> = { kind: q.kind };
  const where: string[] = ['kind = @kind::text'];
  const shape: string[] = [];

  const { literal, bound: boundEq } = splitEqualities(q);
  const literalEq = literal.map(l => l.field);
  for (const l of literal) params[`eq_${l.field}`] = JSON.stringify(l.value);
  // Partial indexes (`WHERE kind = 'rollout'`) need the kind written out for the planner to use them.
  if (indexed) where.push(`kind = '${q.kind}'`);
  shape.push(indexed ? q.kind : '*', literalEq.join('+'));
  for (const f of literalEq) where.push(`doc->'${f}' = @eq_${f}::jsonb`);

  if ('parent' in q.scope) { where.push('parent = @parent::text'); params.parent = q.scope.parent; shape.push('p'); }
  else if ('grandparent' in q.scope) { where.push('grandparent = @grandparent::text'); params.grandparent = q.scope.grandparent; shape.push('g'); }
  else {
    shape.push(q.scope.parentGlob !== undefined ? 'P*' : 'P');
    // With indexed equalities to narrow by, a prefix is a filter, not the access path (as in SQLite's `+parent`): the
    // planner, misjudging a prefix's rows, walked every rollout under it rather than a target's few.
    const col = literalEq.length ? "(parent || '')" : 'parent';
    where.push(`${col} >= @lo::text AND ${col} < @hi::text`);
    params.lo = q.scope.parentPrefix;
    params.hi = q.scope.parentPrefix + '\uffff';
    if (q.scope.parentGlob !== undefined) { where.push('parent ~ @glob::text'); params.glob = globRegex(q.scope.parentGlob); }
  }
  const bound = boundEq.slice(0, EQUALITY_SLOTS);
  bound.forEach((e, i) => {
    params[`ep${i}`] = pgArray(e.path);
    params[`ev${i}`] = JSON.stringify(e.value);
    where.push(`doc #> @ep${i}::text[] = @ev${i}::jsonb`);
  });
  shape.push(String(bound.length), q.after ? 'a' : '');
  const residual = boundEq.slice(EQUALITY_SLOTS);

  // No order, or one key an index serves: one index walk, keyset-paged by a row comparison.
  const single = q.order.length === 0 ? { expr: 'create_time', desc: false }
    : q.order.length === 1 ? { expr: literalSortExpr(q.kind, q.order[0].path), desc: q.order[0].desc } : undefined;
  if (single?.expr !== undefined) {
    const { expr, desc } = single;
    const dir = desc ? 'DESC' : 'ASC';
    if (q.after) {
      params.a0 = String(q.after[0] ?? '');
      params.a1 = String(q.after[1] ?? '');
      where.push(`(${expr}, name) ${desc ? '<' : '>'} (@a0::text, @a1::text)`);
    }
    const { sql, values } = positional(
      `SELECT data, ${expr} AS k0, name AS k1 FROM resources WHERE ${where.join(' AND ')} ORDER BY ${expr} ${dir}, name ${dir}`, params);
    return { shape: shape.join('|') + `|${expr}|${dir}`, sql, values, residual, cursor: r => [r.k0, r.k1] };
  }

  // Any other order: each key is a pair, a number (n) or else a text (t), so numbers sort before text as in SQLite.
  const n = q.order.length;
  if (n > ORDER_SLOTS) throw new Error(`at most ${ORDER_SLOTS} sort keys`);
  const slots: { n: string; t: string; desc: boolean; created: boolean }[] = q.order.map((k, i) => {
    if (k.path.length === 1 && k.path[0] === 'createTime') return { n: 'NULL::numeric', t: 'create_time', desc: k.desc, created: true };
    params[`p${i}`] = pgArray(k.path);
    const v = `(doc #> @p${i}::text[])`;
    return {
      n: `(CASE jsonb_typeof(${v}) WHEN 'number' THEN (${v})::numeric WHEN 'boolean' THEN (CASE WHEN ${v} = 'true'::jsonb THEN 1 ELSE 0 END)::numeric END)`,
      t: `((CASE WHEN jsonb_typeof(${v}) IN ('number', 'boolean') THEN NULL WHEN jsonb_typeof(${v}) = 'string' THEN ${v} #>> '{}' WHEN ${v} IS NULL OR jsonb_typeof(${v}) = 'null' THEN '' ELSE (${v})::text END) COLLATE "C")`,
      desc: k.desc, created: false,
    };
  });
  const lastDesc = q.order[n - 1].desc;
  const keys = slots.map((s, i) => `${s.n} AS n${i}, ${s.t} AS t${i}`).join(', ');
  if (q.after) {
    const terms: string[] = [];
    slots.forEach((_, i) => {
      const a = q.after![i];
      params[`an${i}`] = typeof a === 'number' ? a : null;
      params[`at${i}`] = typeof a === 'number' ? null : String(a ?? '');
    });
    params.aname = String(q.after[n] ?? '');
    const eq = (i: number) => `coalesce(CASE WHEN @an${i}::numeric IS NOT NULL THEN k.n${i} = @an${i}::numeric ELSE (k.n${i} IS NULL AND k.t${i} = @at${i}::text) END, false)`;
    const past = (i: number) => slots[i].desc
      ? `coalesce(CASE WHEN @an${i}::numeric IS NOT NULL THEN k.n${i} < @an${i}::numeric ELSE (k.n${i} IS NOT NULL OR k.t${i} < @at${i}::text) END, false)`
      : `coalesce(CASE WHEN @an${i}::numeric IS NOT NULL THEN (k.n${i} > @an${i}::numeric OR k.n${i} IS NULL) ELSE (k.n${i} IS NULL AND k.t${i} > @at${i}::text) END, false)`;
    for (let i = 0; i <= n; i++) {
      const before = Array.from({ length: i }, (_, j) => eq(j));
      before.push(i === n ? `name ${lastDesc ? '<' : '>'} @aname::text` : past(i));
      terms.push('(' + before.join(' AND ') + ')');
    }
    where.push('(' + terms.join(' OR ') + ')');
  }
  const order = slots.map((s, i) => (s.desc ? `k.n${i} DESC NULLS FIRST, k.t${i} DESC` : `k.n${i} ASC NULLS LAST, k.t${i} ASC`));
  order.push(`name ${lastDesc ? 'DESC' : 'ASC'}`);
  const { sql, values } = positional(
    `SELECT data, ${slots.map((_, i) => `k.n${i}, k.t${i}`).join(', ')}, name AS kname FROM resources, LATERAL (SELECT ${keys}) k WHERE ${where.join(' AND ')} ORDER BY ${order.join(', ')}`,
    params);
  return {
    shape: shape.join('|') + '|' + slots.map(s => (s.created ? 'c' : '') + (s.desc ? 'd' : 'a')).join(''), sql, values, residual,
    cursor: r => [...slots.map((_, i) => (r[`n${i}`] !== null && r[`n${i}`] !== undefined ? Number(r[`n${i}`]) : r[`t${i}`])), r.kname],
  };
}

function literalSortExpr(kind: string, path: string[]): string | undefined {
  if (path.length === 1 && path[0] === 'createTime') return 'create_time';
  if (path.length === 1 && INDEXED_FIELDS[kind]?.order.includes(path[0])) return indexedSortExpr(path[0]);
  return undefined;
}
