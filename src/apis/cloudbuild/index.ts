// Cloud Build v1 (subset): builds.get and builds.list for the builds Gantry names (Cloud Deploy job runs and renders,
// App Hosting builds), so Google's "see the build log" step works: `gcloud builds describe ID --region R` and
// `gcloud builds log ID --region R` (which reads the lines from Cloud Logging, where Gantry writes them as Cloud
// Build does). A build's state is its owner's: it is the work of that job run, render or App Hosting build.
// Every other Cloud Build method answers UNIMPLEMENTED through the router's fallback.
import type { App } from '../../server/app.js';
import { queryInt, queryString } from '../../server/api.js';
import type { BaseContext } from '../../google/context.js';
import { errors } from '../../google/errors.js';
import type { Locations } from '../../google/locations.js';
import { decodePageToken, encodePageToken, pageSize, queryHash } from '../../google/paging.js';
import { BUILD_KIND, buildRecordName, type BuildRecord } from '../../google/cloud-build.js';

export const SERVICE = 'cloudbuild.googleapis.com';
type Obj = Record<string, unknown>;
type Status = 'QUEUED' | 'WORKING' | 'SUCCESS' | 'FAILURE' | 'CANCELLED' | 'STATUS_UNKNOWN';

interface Progress { status: Status; startTime?: string; finishTime?: string; statusDetail?: string }

const JOB_RUN_STATUS: Record<string, Status> = {
  PENDING: 'QUEUED', IN_PROGRESS: 'WORKING', SUCCEEDED: 'SUCCESS', FAILED: 'FAILURE', TERMINATING: 'WORKING', TERMINATED: 'CANCELLED',
};

/** Where the owner's work stands, as Cloud Build would report the build that did it. */
function progressOf(r: BuildRecord, owner: Obj | undefined): Progress {
  if (!owner) return { status: 'STATUS_UNKNOWN' };
  switch (r.ownerKind) {
    case 'jobRun': {
      const status = JOB_RUN_STATUS[String(owner.state)] ?? 'STATUS_UNKNOWN';
      const detail = Object.values(owner).find((v): v is Obj => typeof v === 'object' && v !== null && typeof (v as Obj).failureMessage === 'string');
      return { status, startTime: owner.startTime as string | undefined, finishTime: owner.endTime as string | undefined, ...(status === 'FAILURE' && detail ? { statusDetail: String(detail.failureMessage) } : {}) };
    }
    case 'release': {
      const renders = Object.values((owner.targetRenders ?? {}) as Record<string, Obj>).filter(t => t.renderingBuild === r.build);
      const states = renders.map(t => String(t.renderingState));
      const status: Status = states.includes('IN_PROGRESS') ? 'WORKING' : states.includes('FAILED') ? 'FAILURE' : states.length ? 'SUCCESS' : 'STATUS_UNKNOWN';
      return { status, startTime: owner.renderStartTime as string | undefined, ...(status === 'WORKING' ? {} : { finishTime: owner.renderEndTime as string | undefined }) };
    }
    case 'apphosting.build': {
      const state = String(owner.state);
      const buildFailed = ((owner.errors ?? []) as Obj[]).find(e => e.errorSource === 'CLOUD_BUILD');
      const status: Status = state === 'BUILDING' ? 'WORKING' : state === 'FAILED' ? (buildFailed ? 'FAILURE' : 'SUCCESS') : 'SUCCESS';
      const detail = buildFailed ? String((buildFailed.error as Obj | undefined)?.message ?? '') : '';
      return { status, startTime: String(owner.createTime), ...(status === 'WORKING' ? {} : { finishTime: String(owner.updateTime ?? owner.createTime) }), ...(detail ? { statusDetail: detail } : {}) };
    }
    default:
      return { status: 'STATUS_UNKNOWN' };
  }
}

export function registerCloudBuild(app: App, base: BaseContext, locations: Locations): void {
  const { store, projects } = base;
  const view = (r: BuildRecord, projectId: string): Obj => {
    const [, number, , location, , id] = r.build.split('/');
    const p = progressOf(r, store.getParsed<Obj>(r.owner));
    return {
      name: r.build, id, projectId, status: p.status, ...(p.statusDetail ? { statusDetail: p.statusDetail } : {}),
      createTime: r.createTime, ...(p.startTime ? { startTime: p.startTime } : {}), ...(p.finishTime ? { finishTime: p.finishTime } : {}),
      options: { logging: 'CLOUD_LOGGING_ONLY' },
      logUrl: `https://console.cloud.google.com/cloud-build/builds;region=${location}/${id}?project=${number}`,
    };
  };
  const scope = (project: string, location: string) => {
    if (location !== 'global' && !locations.has(location)) throw errors.locationDenied(location, SERVICE);
    return projects.resolve(project);
  };
  const get = (project: string, location: string, id: string) => {
    const p = scope(project, location);
    const r = store.getParsed<BuildRecord>(buildRecordName(p, location, id));
    if (!r) throw errors.notFound(`${SERVICE}/Build`, `projects/${project}/locations/${location}/builds/${id}`, `Requested entity was not found.`);
    return { body: view(r, p) };
  };
  const list = (project: string, location: string, req: Parameters<typeof queryString>[0]) => {
    if (queryString(req, 'filter')) throw errors.invalidArgument('Filtering builds is not supported by Gantry.', 'filter');
    const p = scope(project, location);
    const parent = `projects/${p}/locations/${location}`;
    const hash = queryHash(BUILD_KIND, parent);
    // Newest first, as Cloud Build lists.
    const res = store.list({ kind: BUILD_KIND, scope: { parent }, order: [{ path: ['createTime'], desc: true }], after: decodePageToken(queryString(req, 'pageToken'), hash), limit: pageSize(queryInt(req, 'pageSize'), 50, 1000) });
    const body: Obj = {};
    if (res.rows.length) body.builds = res.rows.map(r => view(r as unknown as BuildRecord, p));
    if (res.more && res.last) body.nextPageToken = encodePageToken(hash, res.last);
    return { body };
  };
  const q = ['pageSize', 'pageToken', 'filter', 'projectId'];
  app.route('GET', '/v1/projects/{project}/locations/{location}/builds/{id}', { query: ['projectId', 'id', 'name'], handler: req => get(req.params.project, req.params.location, req.params.id) });
  app.route('GET', '/v1/projects/{project}/builds/{id}', { query: ['name'], handler: req => get(req.params.project, 'global', req.params.id) });
  app.route('GET', '/v1/projects/{project}/locations/{location}/builds', { query: q, handler: req => list(req.params.project, req.params.location, req) });
  app.route('GET', '/v1/projects/{project}/builds', { query: q, handler: req => list(req.params.project, 'global', req) });
}
