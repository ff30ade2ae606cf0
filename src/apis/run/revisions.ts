// Cloud Run revisions: the immutable snapshot each template change of a service makes, named
// `{service}-{NNNNN}-{xyz}` (numbered per service) unless the template names it, and whether it can serve.
// Readiness is decided in ONE place, the `RevisionReadiness` a Gantry is built with: by default a revision is ready at
// once; the serving layer can answer 'pending' and settle it later through `RunServices.settleRevision`.
import { randomInt } from 'node:crypto';
import type { Projects } from '../../google/projects.js';
import type { Store } from '../../store/store.js';
import { watchName } from '../../store/name-watch.js';
import { newUuid } from '../../google/ids.js';
import { CALLER, L } from './service.js';
import { resourceVersion, setCondition, type Condition, type Obj } from './meta.js';

/** Store kinds of services and their revisions. */
export const SERVICE_KIND = 'run.service';
export const REVISION_KIND = 'run.revision';
export const KNATIVE_V1 = 'serving.knative.dev/v1';
export const KNATIVE_PREFIX = '/apis/serving.knative.dev/v1';

/** Labels Knative and Cloud Run put on revisions (gcloud lists a service's revisions by `service`). */
export const K = {
  service: 'serving.knative.dev/service',
  serviceUid: 'serving.knative.dev/serviceUid',
  configuration: 'serving.knative.dev/configuration',
  configurationGeneration: 'serving.knative.dev/configurationGeneration',
  route: 'serving.knative.dev/route',
  creator: 'serving.knative.dev/creator',
  lastModifier: 'serving.knative.dev/lastModifier',
  nonce: 'client.knative.dev/nonce',
} as const;

/** A readiness verdict: ready now, failed with Cloud Run's reason and message, or not known yet. */
export type Readiness =
  | { state: 'ready' }
  | { state: 'failed'; reason: string; message: string }
  | { state: 'pending'; message?: string };

/** The revision a readiness decision is about. */
export interface RevisionSubject {
  /** Store key: `projects/{id}/locations/{region}/revisions/{revision}`. */
  key: string;
  project: string;
  region: string;
  service: string;
  revision: string;
  /** The stored v1 Revision (its spec: containers, env, command). */
  resource: Obj;
  /** The v1 Service it belongs to, as it is being written (its annotations may choose the executor). */
  serviceResource?: Obj;
}

/**
 * Decides whether a just-made revision can serve. Called once per revision, inside the write that makes it; a
 * 'pending' answer leaves Ready Unknown (the service reconciling) until `RunServices.settleRevision` is called.
 */
export interface RevisionReadiness {
  assess(revision: RevisionSubject): Readiness;
}

/** The default: every revision is ready the moment it is made (no process runs it). */
export const READY_AT_ONCE: RevisionReadiness = { assess: () => ({ state: 'ready' }) };

const ALNUM = 'abcdefghijklmnopqrstuvwxyz0123456789';

/** `web-00002-x7q`: the service, its revision number (five digits), three random characters. */
export function revisionName(service: string, n: number): string {
  let suffix = '';
  for (let i = 0; i < 3; i++) suffix += ALNUM[randomInt(ALNUM.length)];
  return `${service}-${String(n).padStart(5, '0')}-${suffix}`;
}

export function revisionKey(r: { project: string; region: string }, id: string): string { return `projects/${r.project}/locations/${r.region}/revisions/${id}`; }
export function serviceKey(r: { project: string; region: string }, id: string): string { return `projects/${r.project}/locations/${r.region}/services/${id}`; }

export function knativeSelfLink(projects: Projects, project: string, collection: 'services' | 'revisions' | 'routes' | 'configurations', id: string): string {
  return `${KNATIVE_PREFIX}/namespaces/${projects.number(project)}/${collection}/${id}`;
}

export interface NewRevision { service: Obj; template: Obj; name: string; number: number; now: string; projects: Projects; project: string; region: string }

/** The v1 Revision a template makes: the template's spec, labels and annotations, and Knative's own labels. */
export function makeRevision(r: NewRevision): Obj {
  const smeta = r.service.metadata as Obj;
  const tmeta = (r.template.metadata ?? {}) as Obj;
  const svc = String(smeta.name);
  return {
    apiVersion: KNATIVE_V1, kind: 'Revision',
    metadata: {
      name: r.name, namespace: r.projects.number(r.project), selfLink: knativeSelfLink(r.projects, r.project, 'revisions', r.name), uid: newUuid(),
      resourceVersion: resourceVersion(r.now), generation: 1, creationTimestamp: r.now,
      labels: {
        ...((tmeta.labels ?? {}) as Obj), [K.service]: svc, [K.serviceUid]: smeta.uid, [K.configuration]: svc,
        [K.configurationGeneration]: String(r.number), [L.location]: r.region,
      },
      annotations: { ...((tmeta.annotations ?? {}) as Obj), [K.creator]: CALLER },
      ownerReferences: [{ kind: 'Configuration', name: svc, uid: smeta.uid, apiVersion: KNATIVE_V1, controller: true, blockOwnerDeletion: true }],
    },
    spec: structuredClone(r.template.spec),
    status: { observedGeneration: 1, conditions: [] },
  };
}

/** Writes a verdict into a revision's Knative conditions (Ready, ContainerHealthy, ResourcesAvailable). */
export function applyReadiness(rev: Obj, verdict: Readiness, now: string): void {
  const status = (rev.status ??= {}) as Obj;
  const conditions = (status.conditions ??= []) as Condition[];
  if (verdict.state === 'ready') {
    for (const type of ['Ready', 'ContainerHealthy', 'ResourcesAvailable']) setCondition(conditions, { type, status: 'True' }, now);
  } else if (verdict.state === 'failed') {
    setCondition(conditions, { type: 'Ready', status: 'False', reason: verdict.reason, message: verdict.message }, now);
    setCondition(conditions, { type: 'ContainerHealthy', status: 'False', reason: verdict.reason, message: verdict.message }, now);
    setCondition(conditions, { type: 'ResourcesAvailable', status: 'True' }, now);
  } else {
    setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: 'Deploying', ...(verdict.message ? { message: verdict.message } : {}) }, now);
    setCondition(conditions, { type: 'ContainerHealthy', status: 'Unknown', reason: 'Deploying' }, now);
    setCondition(conditions, { type: 'ResourcesAvailable', status: 'Unknown', reason: 'Deploying' }, now);
  }
}

/** `Active`: whether the revision takes traffic (by percent or tag), as Knative marks it. */
export function applyActive(rev: Obj, serving: boolean, now: string): boolean {
  const conditions = (((rev.status ??= {}) as Obj).conditions ??= []) as Condition[];
  const labels = ((rev.metadata as Obj).labels ??= {}) as Obj;
  const before = JSON.stringify([conditions, labels]);
  if (serving) setCondition(conditions, { type: 'Active', status: 'True' }, now);
  else setCondition(conditions, { type: 'Active', status: 'False', reason: 'Reserve', message: 'Revision is not receiving traffic.', severity: 'Info' }, now);
  if (serving) labels[K.route] = labels[K.configuration]; else delete labels[K.route];
  return JSON.stringify([conditions, labels]) !== before;
}

export function readyStatus(rev: Obj | undefined): Condition['status'] | undefined {
  return (((rev?.status as Obj | undefined)?.conditions ?? []) as Condition[]).find(c => c.type === 'Ready')?.status;
}

/** How long a deploy waits for its revision to answer (Cloud Run's startup probe allows 240 s, then the deploy fails). */
const READY_WAIT_MS = 300_000;

/** Resolves with the revision's Ready condition once it is True or False (or after the wait, Unknown). */
export function waitReady(store: Store, key: string): Promise<{ status: string; message?: string }> {
  const read = () => {
    const c = ((((store.getFrozen<Obj>(key)?.status as Obj | undefined)?.conditions ?? []) as Obj[]).find(x => x.type === 'Ready'));
    return { status: String(c?.status ?? 'Unknown'), ...(c?.message ? { message: String(c.message) } : {}) };
  };
  const now = read();
  if (now.status !== 'Unknown') return Promise.resolve(now);
  return new Promise(resolve => {
    const done = (r: { status: string; message?: string }) => { off(); clearTimeout(timer); resolve(r); };
    const off = watchName(store, key, c => {
      if (c.kind !== REVISION_KIND) return;
      if (c.op === 'delete') return done({ status: 'False', message: 'the revision was deleted' });
      const r = read();
      if (r.status !== 'Unknown') done(r);
    });
    const timer = setTimeout(() => done(read()), READY_WAIT_MS);
    timer.unref();
  });
}
