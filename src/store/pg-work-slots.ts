// The work lease on PostgreSQL: one session advisory lock per work slot, taken on an instance's feed connection, so
// PostgreSQL frees an instance's slots the moment its session ends (a stop, a crash, the keepalives giving up on a
// lost network). Each instance also holds a shared "member" lock there: pg_locks then says how many instances are
// alive, and each aims at its share, ceil(WORK_SLOTS / members). Every interval an instance below its share takes free
// slots, and one above it hands over slots with nothing under way that cannot move.
import { HOLDER_META, WORK_SLOTS, slotOfName, type WorkLease } from '../engine/work-lease.js';

/** Slot i is the advisory lock SLOT_BASE + i; the member lock comes right after the last slot. */
const SLOT_BASE = 0x67616e7472790010n;
const MEMBER = SLOT_BASE + BigInt(WORK_SLOTS);
const KEY_HIGH = Number(SLOT_BASE >> 32n);
const KEY_LOW = Number(SLOT_BASE & 0xffffffffn);

type Query = (text: string, values?: (string | null)[]) => Promise<Record<string, unknown>[]>;

export interface WorkSlotsDeps {
  /** A query on the feed connection (the session that holds the locks). */
  query: Query;
  /** Whether the feed connection is open now. */
  connected(): boolean;
  getMeta(key: string): string | undefined;
  /** Hears each time the feed connection (and with it every lock of its session) is gone. */
  onConnectionLost(fn: () => void): void;
}

export class PgWorkSlots implements WorkLease {
  private held = new Set<number>();
  private member = false;
  /** Bumped when the connection is lost: an answer to a query sent before then is about locks that are gone. */
  private epoch = 0;
  private trying?: Promise<void>;
  private taken: ((slots: number[]) => void)[] = [];
  private lost: ((slots: number[], handedOver: boolean) => void)[] = [];
  private busy: (slot: number) => boolean = () => false;
  private timer: NodeJS.Timeout;
  private closed = false;

  constructor(private d: WorkSlotsDeps, intervalMs: number) {
    this.timer = setInterval(() => void this.tick(), intervalMs);
    this.timer.unref();
    d.onConnectionLost(() => {
      this.epoch++;
      this.member = false;
      const slots = this.slots();
      this.held.clear();
      if (slots.length) for (const fn of this.lost) fn(slots, false);
    });
  }

  works(name: string): boolean { return this.held.size > 0 && this.held.has(slotOfName(name)); }
  slots(): number[] { return [...this.held].sort((a, b) => a - b); }
  onTaken(fn: (slots: number[]) => void): void { this.taken.push(fn); }
  onLost(fn: (slots: number[], handedOver: boolean) => void): void { this.lost.push(fn); }
  busyWith(fn: (slot: number) => boolean): void { this.busy = fn; }

  holderOf(name: string): string | undefined {
    const slot = slotOfName(name);
    return this.held.has(slot) ? undefined : this.d.getMeta(HOLDER_META + slot);
  }

  close(): void {
    this.closed = true;
    clearInterval(this.timer);
  }

  /** One look at who holds what, then the slots taken or handed over (one tick at a time). */
  tick(): Promise<void> {
    if (this.trying || this.closed || !this.d.connected()) return this.trying ?? Promise.resolve();
    this.trying = this.step().catch(() => undefined).finally(() => { this.trying = undefined; });
    return this.trying;
  }

  private async step(): Promise<void> {
    const epoch = this.epoch;
    const stale = () => this.closed || epoch !== this.epoch;
    if (!this.member) {
      await this.d.query(`SELECT pg_advisory_lock_shared(${MEMBER})`);
      if (stale()) return;
      this.member = true;
    }
    // Advisory locks on one bigint show in pg_locks as classid (high half), objid (low half), objsubid 1.
    const rows = await this.d.query(`SELECT objid::bigint - ${KEY_LOW} AS slot, count(*) AS n, bool_or(pid = pg_backend_pid()) AS mine
      FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = ${KEY_HIGH}
        AND database = (SELECT oid FROM pg_database WHERE datname = current_database())
        AND objid::bigint BETWEEN ${KEY_LOW} AND ${KEY_LOW + WORK_SLOTS} GROUP BY 1`);
    if (stale()) return;
    let members = 1;
    const takenByAny = new Set<number>();
    const mine = new Set<number>();
    let member = false;
    for (const r of rows) {
      const slot = Number(r.slot);
      if (slot === WORK_SLOTS) { members = Math.max(1, Number(r.n)); member = r.mine === true; } else {
        takenByAny.add(slot);
        if (r.mine === true) mine.add(slot);
      }
    }
    // What this instance believes is checked against what its session holds. They differ only when a session ended
    // unnoticed (a connection replaced before its loss was heard): slots it no longer holds may be worked elsewhere
    // already, so their work stops now; a lock it holds unknowingly is given back.
    if (!member) this.member = false;
    const gone = this.slots().filter(s => !mine.has(s));
    for (const s of gone) this.held.delete(s);
    if (gone.length) for (const fn of this.lost) fn(gone, false);
    const unknown = [...mine].filter(s => !this.held.has(s));
    if (unknown.length) {
      await this.d.query(`SELECT pg_advisory_unlock(${SLOT_BASE} + s) FROM unnest($1::int[]) AS s`, [`{${unknown.join(',')}}`]);
      return;
    }
    if (!this.member) return;
    const share = Math.ceil(WORK_SLOTS / members);
    if (this.held.size < share) {
      const free = shuffled([...Array(WORK_SLOTS).keys()].filter(s => !takenByAny.has(s))).slice(0, share - this.held.size);
      if (!free.length) return;
      const got = await this.d.query(`SELECT s, pg_try_advisory_lock(${SLOT_BASE} + s) AS ok FROM unnest($1::int[]) AS s`, [`{${free.join(',')}}`]);
      if (stale()) return;
      const slots = got.filter(r => r.ok === true).map(r => Number(r.s));
      for (const s of slots) this.held.add(s);
      if (slots.length) for (const fn of this.taken) fn(slots.sort((a, b) => a - b));
    } else if (this.held.size > share) {
      const give = this.slots().filter(s => !this.busy(s)).slice(0, this.held.size - share);
      if (!give.length) return;
      // The work stops first (listeners run now, synchronously), then the locks go: the next holder never overlaps it.
      for (const s of give) this.held.delete(s);
      for (const fn of this.lost) fn(give, true);
      await this.d.query(`SELECT pg_advisory_unlock(${SLOT_BASE} + s) FROM unnest($1::int[]) AS s`, [`{${give.join(',')}}`]);
    }
  }
}

/** A query's scalar subquery: how many instances hold the members' lock now. */
export const MEMBERS_SQL = `(SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND granted AND objsubid = 1 AND classid = ${KEY_HIGH}
  AND objid::bigint = ${KEY_LOW + WORK_SLOTS} AND database = (SELECT oid FROM pg_database WHERE datname = current_database()))`;

function shuffled<T>(xs: T[]): T[] {
  for (let i = xs.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [xs[i], xs[j]] = [xs[j], xs[i]];
  }
  return xs;
}
