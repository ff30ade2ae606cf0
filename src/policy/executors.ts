// Which executors may run work on this Gantry: the operator's `--executor` and `--allow-executors`,
// nothing else. An annotation on a resource can choose among them, never widen them.
import { errors } from '../google/errors.js';

export type ExecutorMode = 'simulated' | 'process' | 'container';
export const EXECUTOR_MODES: readonly ExecutorMode[] = ['simulated', 'process', 'container'];
/** The annotation a target or pipeline uses to choose its executor. */
export const EXECUTOR_ANNOTATION = 'gantry.dev/executor';

export class ExecutorPolicy {
  readonly enabled: ReadonlySet<ExecutorMode>;

  /** Simulated work runs no command, so it is always allowed. */
  constructor(readonly defaultMode: ExecutorMode, allowed: readonly ExecutorMode[] = []) {
    this.enabled = new Set<ExecutorMode>(['simulated', defaultMode, ...allowed]);
  }

  /**
   * Checks a resource's executor annotation: an unknown mode is INVALID_ARGUMENT, one the operator did not
   * enable is FAILED_PRECONDITION. `field` is the annotations field as the request names it.
   */
  checkAnnotations(annotations: unknown, field: string, subject: string): void {
    const value = (annotations as Record<string, unknown> | undefined)?.[EXECUTOR_ANNOTATION];
    if (value === undefined) return;
    if (!(EXECUTOR_MODES as readonly string[]).includes(String(value))) {
      throw errors.invalidArgument(`${field}["${EXECUTOR_ANNOTATION}"] must be one of ${EXECUTOR_MODES.join(', ')}, got "${String(value).slice(0, 100)}".`, field);
    }
    const mode = value as ExecutorMode;
    if (!this.enabled.has(mode)) {
      throw errors.failedPrecondition(
        `${subject} asks for the ${mode} executor, which this Gantry does not enable: the operator starts Gantry with --executor ${mode} or --allow-executors ${mode} to let it run commands.`,
        subject, 'EXECUTOR');
    }
  }
}

/** Parses a comma-separated executor list (flag value); throws an Error naming a bad entry. */
export function parseExecutorList(value: string): ExecutorMode[] {
  const out: ExecutorMode[] = [];
  for (const part of value.split(',').map(s => s.trim()).filter(Boolean)) {
    if (!(EXECUTOR_MODES as readonly string[]).includes(part)) throw new Error(`unknown executor "${part}" (simulated, process or container)`);
    out.push(part as ExecutorMode);
  }
  return out;
}
