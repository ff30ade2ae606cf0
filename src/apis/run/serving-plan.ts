// What a stored Cloud Run service asks of the serving layer, as a pure function of the stored resource: the host
// names that reach it, how its traffic splits across revisions, and which revision each tag reaches. It reads the
// resolved `status.traffic` (not `spec.traffic`), so a revision that failed to become ready never takes a share:
// the last traffic that resolved keeps serving, as Cloud Run keeps it.
import type { Obj } from './meta.js';
import type { TrafficTarget } from './service-validate.js';
import { addressOf, type ServiceBookkeeping } from './services.js';
import { deterministicHost, legacyHost, tagHost } from './service-urls.js';

export interface ServingPlan {
  /** Project id, region and service name (the store key is `projects/{project}/locations/{region}/services/{service}`). */
  project: string;
  region: string;
  service: string;
  /** The service's own host names: `{service}-{number}.{region}.run.app` and `{service}-{hash}-{code}.a.run.app`. */
  hosts: string[];
  /** Revisions that take a share of the service's hosts, percent > 0, summing to 100 (empty before any is ready). */
  split: { revision: string; percent: number }[];
  /** Tag → the revision it reaches. */
  tags: Record<string, string>;
  /** Tag host name (`{tag}---{service}-{number}.{region}.run.app`) → the revision it reaches. */
  tagHosts: Record<string, string>;
}

export function servingPlan(service: Obj): ServingPlan {
  const a = addressOf(service);
  const book = service.gantry as ServiceBookkeeping | undefined;
  const split = new Map<string, number>();
  const tags: Record<string, string> = {};
  const tagHosts: Record<string, string> = {};
  for (const t of (((service.status as Obj | undefined)?.traffic ?? []) as TrafficTarget[])) {
    if (!t.revisionName) continue;
    if ((t.percent ?? 0) > 0) split.set(t.revisionName, (split.get(t.revisionName) ?? 0) + (t.percent ?? 0));
    if (t.tag) { tags[t.tag] = t.revisionName; tagHosts[tagHost(a, t.tag)] = t.revisionName; }
  }
  return {
    project: book?.project ?? a.projectNumber, region: a.region, service: a.service,
    hosts: [deterministicHost(a), legacyHost(a)],
    split: [...split].map(([revision, percent]) => ({ revision, percent })),
    tags, tagHosts,
  };
}
