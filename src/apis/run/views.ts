// What clients see of stored Run resources: the v1 object without the controller's bookkeeping.
import type { Obj } from './meta.js';

export function v1View(stored: Obj): Obj {
  if (!('gantry' in stored)) return stored;
  const { gantry: _, ...rest } = stored;
  return rest;
}
