// Controller decisions at debug level (`--log-level debug`): why a resource waits, what started, how it ended. A
// resource that keeps waiting for the same reason is said once per change of reason, never on every reconcile.
import type { Logger } from '../server/log.js';

/** Resources whose last line is remembered; the oldest is forgotten beyond this (it may then be said again). */
const REMEMBERED = 10_000;

export class Decisions {
  private last = new Map<string, string>();

  constructor(private log: Logger) {}

  /** Whether decisions are logged at all: callers skip working out a line nobody reads. */
  get enabled(): boolean { return this.log.level === 'debug'; }

  /** Logs `line`. */
  say(line: string): void { if (this.enabled) this.log.debug(line); }

  /** Logs `line` about `resource` unless it is the line last said about it (none: nothing to say for now). */
  sayOnce(resource: string, line: string | undefined): void {
    if (!this.enabled) return;
    if (line === undefined) { this.last.delete(resource); return; }
    if (this.last.get(resource) === line) return;
    this.last.delete(resource);
    this.last.set(resource, line);
    if (this.last.size > REMEMBERED) this.last.delete(this.last.keys().next().value!);
    this.log.debug(line);
  }
}
