// The SQL of a list query. Its text depends only on the query's structure, never on what a client chose: JSON paths,
// directions and values are bound parameters, except the few fields an index covers (INDEXED_FIELDS), which the
// planner must see as literals. So the statements a server ever prepares are a small fixed set (by kind class, scope,
// indexed equalities, bound equalities or not, number of sort keys, a cursor or not), however many
// distinct orderBys and filters clients send: a statement's native memory is freed only when V8 collects it, so a new
// text per client-chosen order grew RSS by hundreds of MB before the collector caught up.
import { INDEXED_FIELDS } from './migrations.js';
import type { ListQuery } from './store.js';
import { splitEqualities } from './page.js';

/** Sort keys a query may have (order.ts allows 8). */
export const ORDER_SLOTS = 8;
/** Equalities pushed into SQL by bound path; any more are checked on the parsed row. */
const EQUALITY_SLOTS = 4;

export interface ListSql {
  /** What the SQL text depends on, short: the statement cache's key (the text is made only when it misses). */
  shape: string;
  sql(): string;
  params: Record<string, unknown>;
  /** The page cursor of a result row (sort-key values, then name): what `after` binds on the next page. */
  cursor(row: Record<string, unknown>): unknown[];
  /** Equalities SQL does not check (past the bound slots), checked on each parsed row. */
  residual: { path: string[]; value: string | number | boolean }[];
}

/** A sort term written literally: the store's creation time (a column), or an indexed JSON field. */
function literalSortExpr(kind: string, path: string[]): string | undefined {
  if (path.length === 1 && path[0] === 'createTime') return 'create_time';
  if (path.length === 1 && INDEXED_FIELDS[kind]?.order.includes(path[0])) return `coalesce(json_extract(data, ${sqlString(jsonPath(path))}), '')`;
  return undefined;
}

export function listSql(q: ListQuery): ListSql {
  const indexed = INDEXED_FIELDS[q.kind];
  const params: Record<string, unknown> = {};
  // A kind with partial indexes (`WHERE kind = 'rollout'`) is a literal so the planner may use them; kinds are the
  // code's own names, never a client's.
  const where: string[] = [indexed ? `kind = ${sqlString(q.kind)}` : 'kind = @kind'];
  const shape: string[] = [indexed ? q.kind : '*'];
  if (!indexed) params.kind = q.kind;

  // Equalities on indexed fields are literal (in a fixed order, one per field); the rest go to bound slots.
  const { literal, bound: boundEq } = splitEqualities(q);
  const literalEq = literal.map(l => l.field);
  for (const l of literal) params[`eq_${l.field}`] = sqlValue(l.value);

  shape.push(literalEq.join('+'));
  // Unordered with indexed equalities to narrow by, the scope is a filter (unary +), so the planner takes the
  // equalities' index rather than walk the scope's in creation order.
  const unordered = q.unordered === true && q.order.length === 0 && !q.after;
  const filter = unordered && literalEq.length ? '+' : '';
  if (unordered) shape.push('u');
  if ('parent' in q.scope) { where.push(`${filter}parent = @parent`); params.parent = q.scope.parent; shape.push('p'); }
  else if ('grandparent' in q.scope) { where.push(`${filter}grandparent = @grandparent`); params.grandparent = q.scope.grandparent; shape.push('g'); }
  else {
    shape.push(q.scope.parentGlob !== undefined ? 'P*' : 'P');
    // With indexed equalities to narrow by, a prefix is a filter, not the access path (unary + keeps it off the
    // index), so an index on the equal fields (e.g. rollouts by target and state) can serve the query.
    const col = literalEq.length ? '+parent' : 'parent';
    where.push(`${col} >= @lo AND ${col} < @hi`);
    params.lo = q.scope.parentPrefix;
    params.hi = q.scope.parentPrefix + '\uffff';
    // Parents under the prefix that do not fit the pattern are skipped before their JSON is read.
    if (q.scope.parentGlob !== undefined) { where.push('parent GLOB @glob'); params.glob = q.scope.parentGlob; }
  }
  for (const f of literalEq) where.push(`json_extract(data, ${sqlString(jsonPath([f]))}) = @eq_${f}`);
  shape.push(boundEq.length ? 'e' : '', q.after ? 'a' : '');
  if (boundEq.length) {
    for (let i = 0; i < EQUALITY_SLOTS; i++) {
      const e = boundEq[i];
      params[`ep${i}`] = e ? jsonPath(e.path) : null;
      params[`ev${i}`] = e ? sqlValue(e.value) : null;
      where.push(`(@ep${i} IS NULL OR json_extract(data, @ep${i}) = @ev${i})`);
    }
  }
  const residual = boundEq.slice(EQUALITY_SLOTS);

  if (unordered) {
    return { shape: shape.join('|'), params, residual, cursor: r => [r.k0, r.k1], sql: () => `SELECT data, create_time AS k0, name AS k1 FROM resources WHERE ${where.join(' AND ')}` };
  }

  // No order, or one key an index serves: literal terms, and the name tie-breaker in the same direction, so one
  // index walk serves the whole order.
  const single = q.order.length === 0 ? { expr: 'create_time', desc: false }
    : q.order.length === 1 ? { expr: literalSortExpr(q.kind, q.order[0].path), desc: q.order[0].desc } : undefined;
  if (single?.expr !== undefined) {
    const { expr, desc } = single;
    if (q.after) {
      params.a0 = q.after[0] ?? '';
      params.a1 = q.after[1] ?? '';
    }
    return {
      shape: shape.join('|') + `|${expr}|${desc ? 'd' : ''}`, params, residual, cursor: r => [r.k0, r.k1],
      sql: () => {
        // Keyset pagination: rows strictly after the previous page's last sort tuple (a row value, so indexes apply).
        const after = q.after ? [`(${expr}, name) ${desc ? '<' : '>'} (@a0, @a1)`] : [];
        const dir = desc ? 'DESC' : 'ASC';
        return `SELECT data, ${expr} AS k0, name AS k1 FROM resources WHERE ${[...where, ...after].join(' AND ')} ORDER BY ${expr} ${dir}, name ${dir}`;
      },
    };
  }

  // Any other order: one slot per key, each choosing by parameter the creation time or a JSON path, then the name;
  // each slot's direction is a parameter too (its ascending term is NULL when it runs descending, and the other way
  // round). So the text depends only on how many keys there are.
  const n = q.order.length;
  if (n > ORDER_SLOTS) throw new Error(`at most ${ORDER_SLOTS} sort keys`);
  q.order.forEach((k, i) => {
    const created = k.path.length === 1 && k.path[0] === 'createTime';
    params[`s${i}`] = created ? 1 : 2;
    params[`p${i}`] = created ? null : jsonPath(k.path);
    params[`d${i}`] = k.desc ? 1 : 0;
  });
  params[`d${n}`] = q.order[n - 1].desc ? 1 : 0;
  if (q.after) for (let i = 0; i <= n; i++) params[`a${i}`] = q.after[i] ?? '';
  return {
    shape: shape.join('|') + `|${n}`, params, residual, cursor: r => Array.from({ length: n + 1 }, (_, i) => r[`k${i}`]),
    sql: () => {
      const slots = Array.from({ length: n + 1 }, (_, i) => i);
      const slot = (i: number) => (i === n ? 'name' : `(CASE @s${i} WHEN 1 THEN create_time ELSE coalesce(json_extract(data, @p${i}), '') END)`);
      // Rows after the cursor: equal on every earlier slot and past it on this one.
      const after = q.after ? ['(' + slots.map(i => '(' + [
        ...slots.slice(0, i).map(j => `${slot(j)} = @a${j}`),
        `(CASE WHEN @d${i} THEN ${slot(i)} < @a${i} ELSE ${slot(i)} > @a${i} END)`,
      ].join(' AND ') + ')').join(' OR ') + ')'] : [];
      return `SELECT data, ${slots.map(i => `${slot(i)} AS k${i}`).join(', ')} FROM resources WHERE ${[...where, ...after].join(' AND ')}
        ORDER BY ${slots.map(i => `(CASE WHEN @d${i} THEN NULL ELSE ${slot(i)} END) ASC, (CASE WHEN @d${i} THEN ${slot(i)} END) DESC`).join(', ')}`;
    },
  };
}

/**
 * A JSON path. Field names are written as `.name` (the text expression indexes are declared with); any other segment
 * (a map key from a client's orderBy) is a JSON-quoted label, so no key is read as path syntax.
 */
export function jsonPath(path: string[]): string {
  return '$' + path.map(s => (/^[A-Za-z_][A-Za-z0-9_]*$/.test(s) ? '.' + s : '.' + JSON.stringify(s))).join('');
}

function sqlString(s: string): string { return `'${s.replace(/'/g, "''")}'`; }

/** SQLite has no booleans: json_extract gives 1 or 0. */
function sqlValue(v: string | number | boolean): string | number { return typeof v === 'boolean' ? Number(v) : v; }
