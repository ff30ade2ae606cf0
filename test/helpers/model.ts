// The loop of the model-based tests: a seeded generator, weighted random actions, and after each one a settle and
// the invariants checked; an action the server refused must change nothing.
import assert from 'node:assert/strict';
import { isDeepStrictEqual } from 'node:util';

/** A small seeded PRNG (mulberry32): the same seed replays the same run. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => { a = (a + 0x6D2B79F5) >>> 0; let t = a; t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61); return ((t ^ (t >>> 14)) >>> 0) / 4294967296; };
}

export type Action = [weight: number, run: () => Promise<{ what: string; refused?: boolean }>];

/**
 * Runs `steps` actions picked by weight; after each, `settle()` then `check(step, what)`, whose result (the world) is
 * compared with the one before when the action was refused. GANTRY_MODEL_TRACE prints each step.
 */
export async function runModel<W>(o: { seed: number; steps: number; random: () => number; actions: Action[]; settle(): Promise<void>; check(step: number, what: string): Promise<W>; same?(a: W, b: W): boolean }): Promise<void> {
  const total = o.actions.reduce((s, [w]) => s + w, 0);
  let before = await o.check(0, 'start');
  for (let step = 1; step <= o.steps; step++) {
    let x = o.random() * total;
    const [, act] = o.actions.find(([w]) => (x -= w) < 0) ?? o.actions[0];
    const { what, refused } = await act();
    if (process.env.GANTRY_MODEL_TRACE) console.error(step, what);
    await o.settle();
    const after = await o.check(step, what);
    if (refused) assert.ok((o.same ?? isDeepStrictEqual)(after, before), `seed ${o.seed}, step ${step}: refused ${what} changed something`);
    before = after;
  }
}
