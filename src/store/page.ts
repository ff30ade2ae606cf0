// What every store's list shares around its SQL: which equalities an index serves, and how fetched rows become a page
// (the residual equalities and the predicate checked on each row, the limit and the byte bound, the cursor).
import { INDEXED_FIELDS } from './migrations.js';
import type { ListQuery, ListResult } from './store.js';

type Equality = NonNullable<ListQuery['equalities']>[number];

/** Splits a query's equalities: one per indexed field (in the index's order), written literally; the rest bound. */
export function splitEqualities(q: ListQuery): { literal: { field: string; value: Equality['value'] }[]; bound: Equality[] } {
  const indexed = INDEXED_FIELDS[q.kind];
  const literal: { field: string; value: Equality['value'] }[] = [];
  const bound: Equality[] = [];
  for (const e of q.equalities ?? []) {
    const field = e.path.length === 1 && indexed?.equal.includes(e.path[0]) ? e.path[0] : undefined;
    if (field !== undefined && !literal.some(l => l.field === field)) literal.push({ field, value: e.value });
    else bound.push(e);
  }
  literal.sort((a, b) => indexed!.equal.indexOf(a.field) - indexed!.equal.indexOf(b.field));
  return { literal, bound };
}

/** Whether a parsed row holds `value` at `path`, as json_extract would compare it. */
export function holds(row: Record<string, unknown>, path: string[], value: string | number | boolean): boolean {
  let v: unknown = row;
  for (const seg of path) v = v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[seg] : undefined;
  return v === value;
}

/** A page being filled from rows in order. */
export class PageBuilder {
  readonly rows: Record<string, unknown>[] = [];
  private last?: unknown[];
  private bytes = 0;
  private full = false;

  constructor(private q: ListQuery, private residual: Equality[]) {}

  /**
   * Offers the next row (its stored JSON, and its cursor); answers false once the page is full, which this row then
   * proves is not the last (`more`).
   */
  offer(data: string, cursor: () => unknown[]): boolean {
    const obj = JSON.parse(data) as Record<string, unknown>;
    if (this.residual.length && !this.residual.every(e => holds(obj, e.path, e.value))) return true;
    if (this.q.predicate && !this.q.predicate(obj)) return true;
    // Characters stand for bytes (as in the row cache): no per-row byte count on the list path.
    const size = this.q.maxBytes === undefined ? 0 : data.length;
    // A page ends at the limit, or before the row that would take it past maxBytes (but holds at least one row);
    // either way this matching row exists, so the cursor of the last row returned continues exactly here.
    if (this.rows.length === this.q.limit || (this.q.maxBytes !== undefined && this.rows.length > 0 && this.bytes + size > this.q.maxBytes)) {
      this.full = true;
      return false;
    }
    this.rows.push(obj);
    this.bytes += size;
    this.last = cursor();
    return true;
  }

  result(): ListResult { return { rows: this.rows, last: this.last, more: this.full }; }
}
