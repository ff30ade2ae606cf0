// The Cloud Build builds Gantry names: every Cloud Deploy job run and render, and every App Hosting build, reports
// a build (`projects/{number}/locations/{l}/builds/{uuid}`) as Google's run on Cloud Build. Each is recorded when
// named, beside the resource it works for, so Cloud Build's builds.get (src/apis/cloudbuild) can answer for it.
import type { Writer } from '../store/store.js';

export const BUILD_KIND = 'cloudbuild.build';

export interface BuildRecord {
  /** The build's name as reported, with the project number. */
  build: string;
  /** The resource whose work the build is, and its kind (`jobRun`, `release`, `apphosting.build`). */
  owner: string;
  ownerKind: string;
  createTime: string;
}

/** Where a build's record is kept: under the owner's project id, so a project's reset and snapshot take it. */
export function buildRecordName(ownerProject: string, location: string, id: string): string {
  return `projects/${ownerProject}/locations/${location}/builds/${id}`;
}

/** Records that `build` (a full build name) is the work of `owner`. */
export function recordBuild(w: Writer, build: string, owner: { name: string; kind: string }, createTime: string): void {
  const [, , , location, , id] = build.split('/');
  const project = owner.name.split('/')[1];
  const record: BuildRecord = { build, owner: owner.name, ownerKind: owner.kind, createTime };
  w.put(BUILD_KIND, buildRecordName(project, location, id), `projects/${project}/locations/${location}`, record, createTime, false);
}
