// Parameters Gantry's own API shares across its methods.
import { errors } from '../google/errors.js';
import { PROJECT_ID } from '../google/projects.js';

/** A project id narrowing a control call (events, reset, snapshots); undefined when none was given. */
export function projectParam(v: unknown): string | undefined {
  if (v !== undefined && (typeof v !== 'string' || !PROJECT_ID.test(v))) throw errors.invalidArgument(`project must be a project id, not ${JSON.stringify(v).slice(0, 80)}.`, 'project');
  return v as string | undefined;
}
