// Reading on behind a table ordered by `seq` (the change feed, the log entries) on the feed connection: each call to
// `read` fetches the rows after the last one seen, a page at a time; calls while a read runs make one more read after
// it, and a full page reads on. A failed read (the feed connection lost) stops until the next call.
type Rows = Record<string, unknown>[];

export class PgTail {
  private reading = false;
  private again = false;
  private stopped = false;

  constructor(private seen: string, private page: number, private query: (after: string, limit: number) => Promise<Rows>, private take: (rows: Rows) => void) {}

  read(): void {
    if (this.stopped) return;
    if (this.reading) { this.again = true; return; }
    this.reading = true;
    this.query(this.seen, this.page).then(rows => {
      this.reading = false;
      if (this.stopped) return;
      if (rows.length) {
        this.seen = String(rows[rows.length - 1].seq);
        this.take(rows);
      }
      if (rows.length === this.page || this.again) { this.again = false; this.read(); }
    }, () => { this.reading = false; });
  }

  stop(): void { this.stopped = true; }
}
