// What a start on a data directory with unfinished work found: what it resumed, what the previous Gantry left running
// that it stopped, and which task attempts it lost and failed. Said once, in a line or two at info, when the start-up
// reconciles and the checks they began have ended; a start with nothing to say says nothing.
import type { Logger } from '../server/log.js';

export type RestartFinding =
  /** Unfinished work taken up again (a rollout, job run, execution or build). */
  | 'resumed'
  /** A process or container of the previous Gantry, stopped. */
  | 'reaped'
  /** An attempt lost when the previous Gantry stopped, failed into its task's retry. */
  | 'lost-retried'
  /** An attempt lost when the previous Gantry stopped, failing its task (no retries left). */
  | 'lost-failed';

export class RestartReport {
  private found = new Map<RestartFinding, Map<string, number>>();
  private checks = new Set<Promise<unknown>>();
  private said = false;

  constructor(private log: Logger) {}

  /** Records `n` findings of one kind (`what`: a singular noun, e.g. "job run"); ignored once the report is out. */
  note(finding: RestartFinding, what: string, n = 1): void {
    if (this.said || n <= 0) return;
    const m = this.found.get(finding) ?? new Map<string, number>();
    m.set(what, (m.get(what) ?? 0) + n);
    this.found.set(finding, m);
  }

  /** A check that may note findings (re-attaching a task): the report waits for it. */
  check<T>(work: Promise<T>): Promise<T> {
    if (this.said) return work;
    this.checks.add(work);
    const end = () => { this.checks.delete(work); };
    work.then(end, end);
    return work;
  }

  /** Logs the findings once `startup` (the start-up reconciles) and every check have ended. */
  async finish(startup: Promise<void>): Promise<void> {
    await startup;
    while (this.checks.size) await Promise.allSettled([...this.checks]);
    this.said = true;
    const line = this.summary();
    if (line) this.log.info(`Restart: ${line}`);
  }

  /** The findings as one sentence, e.g. "resumed 2 job runs, 1 execution; reaped 1 process". */
  summary(): string {
    const list = (f: RestartFinding) => [...(this.found.get(f) ?? [])].map(([what, n]) => count(n, what)).join(', ');
    const parts: string[] = [];
    if (this.found.has('resumed')) parts.push(`resumed ${list('resumed')}`);
    if (this.found.has('reaped')) parts.push(`reaped ${list('reaped')} left by the previous Gantry`);
    if (this.found.has('lost-retried')) parts.push(`failed ${list('lost-retried')} lost when it stopped, into ${plural(this.total('lost-retried'), 'its retry', 'their retries')}`);
    if (this.found.has('lost-failed')) parts.push(`failed ${list('lost-failed')} lost when it stopped, with no retries left`);
    return parts.join('; ');
  }

  private total(f: RestartFinding): number { return [...(this.found.get(f)?.values() ?? [])].reduce((a, b) => a + b, 0); }
}

function count(n: number, what: string): string {
  return `${n} ${n === 1 ? what : what.endsWith('s') ? `${what}es` : `${what}s`}`;
}

function plural(n: number, one: string, many: string): string { return n === 1 ? one : many; }
