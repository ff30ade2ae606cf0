// Gantry's own control API under /gantry/v1: health, and the clock (read, advance in virtual mode).
import type { App } from '../server/app.js';
import type { Clock } from '../engine/clock.js';
import { VirtualClock } from '../engine/clock.js';
import type { ControllerRuntime } from '../engine/controllers.js';
import { errors } from '../google/errors.js';
import { parseDurationMs, parseTimestamp } from '../google/time.js';

export function registerEmulator(app: App, clock: Clock, runtime: ControllerRuntime): void {
  const view = () => ({ mode: clock.mode, now: new Date(clock.now()).toISOString() });
  app.route('GET', '/gantry/v1/healthz', { handler: () => ({ body: { status: 'SERVING' } }) });
  app.route('GET', '/gantry/v1/clock', { handler: () => ({ body: view() }) });
  app.route('POST', '/gantry/v1/clock:advance', {
    handler: async req => {
      if (!(clock instanceof VirtualClock)) throw errors.failedPrecondition('The clock is real; start Gantry with --clock=virtual to move it.', 'clock');
      const body = (req.body ?? {}) as { duration?: unknown; to?: unknown };
      if (body.to !== undefined) {
        const t = typeof body.to === 'string' ? parseTimestamp(body.to) : undefined;
        if (t === undefined) throw errors.invalidArgument(`Invalid value at 'to' (RFC 3339 timestamp), ${JSON.stringify(body.to)}`, 'to');
        const ms = Number(t / 1_000_000n);
        if (ms < clock.now()) throw errors.invalidArgument('The clock cannot move backwards.', 'to');
        await settle(clock, runtime, ms);
      } else {
        const ms = typeof body.duration === 'string' ? parseDurationMs(body.duration) : undefined;
        if (ms === undefined || ms < 0) throw errors.invalidArgument(`Invalid value at 'duration' (type.googleapis.com/google.protobuf.Duration), ${JSON.stringify(body.duration)}`, 'duration');
        await settle(clock, runtime, clock.now() + ms);
      }
      return { body: view() };
    },
  });
}

/** Advances in steps, letting controllers react to each timer before the next fires. */
async function settle(clock: VirtualClock, runtime: ControllerRuntime, target: number): Promise<void> {
  await runtime.idle();
  for (let i = 0; i < 100_000; i++) {
    const next = clock.nextDue();
    if (next === undefined || next > target) break;
    clock.set(next);
    await runtime.idle();
  }
  clock.set(target);
  await runtime.idle();
}
