// Work to do once the open transaction commits: what must not happen for writes that may still be undone, such as
// starting a process for a task attempt the transaction marks started (a Gantry killed before the commit would find
// no record of it, and run it again). Held by both stores; a savepoint that rolls back drops what it added.
export class AfterCommit {
  private fns: (() => void)[] = [];

  /** Where a savepoint starts: undo(mark) drops what was added after. */
  get mark(): number { return this.fns.length; }

  add(fn: () => void): void { this.fns.push(fn); }

  /** Drops what was added since `mark` (0: everything; the transaction rolled back). */
  undo(mark = 0): void { this.fns.length = mark; }

  /** Runs what was added, in order, once the transaction committed; every one runs, the first error is thrown after. */
  run(): void {
    const fns = this.fns;
    this.fns = [];
    let failed: unknown;
    for (const fn of fns) {
      try { fn(); } catch (e) { failed ??= e; }
    }
    if (failed !== undefined) throw failed;
  }
}
