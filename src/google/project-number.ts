// Project numbers, and the names Google writes with them. Real services put the project *number* where they
// name resources of other services (Cloud Build builds, the default compute service account, Cloud Run URLs);
// Gantry has no Resource Manager, so each project id gets a stable made-up number, the same on every server.
import { etagOf, newUuid } from './ids.js';
import { memoized } from './memo.js';

/**
 * The project number of `project`: the project itself when it is already a number (`projects/123…`), else a
 * 12-digit number derived from the id (first digit not 0), stable across restarts and servers.
 */
export function projectNumber(project: string): string {
  return /^[0-9]+$/.test(project) ? project : derivedNumber(project);
}
// Asked on every deploy and build record: remembered, for a bounded number of projects.
const derivedNumber = memoized(project => String(BigInt('0x' + etagOf(project)) % 900_000_000_000n + 100_000_000_000n));

/**
 * The name of a Cloud Build build, as Cloud Deploy reports the build that ran a job or a render
 * (`JobRun.*JobRun.build`, `Rollout.deployingBuild`, `Release.targetRenders[].renderingBuild`):
 * `projects/{projectNumber}/locations/{location}/builds/{uuid}`, a new build id unless one is given.
 */
export function cloudBuildName(project: string, location: string, buildId: string = newUuid()): string {
  return `projects/${projectNumber(project)}/locations/${location}/builds/${buildId}`;
}

/** The project's default compute service account, `{projectNumber}-compute@developer.gserviceaccount.com`. */
export function computeServiceAccount(project: string): string {
  return `${projectNumber(project)}-compute@developer.gserviceaccount.com`;
}
