// Cloud Run service writes shared by both API versions (v2 converts to the v1 form first): create, replace, delete,
// each in one transaction that also makes the revision a template change calls for, checks the traffic against the
// service's revisions, and derives the status (conditions, latest revisions, resolved traffic, URLs).
import type { Clock } from '../../engine/clock.js';
import type { Projects } from '../../google/projects.js';
import type { ExecutorPolicy } from '../../policy/executors.js';
import type { Store, Writer } from '../../store/store.js';
import { ApiError, errors, resourceInfo, type FieldViolation } from '../../google/errors.js';
import { newUuid } from '../../google/ids.js';
import { computeServiceAccount } from '../../google/project-number.js';
import { CALLER, L } from './service.js';
import { regionKey } from './names.js';
import { nowMicros, resourceVersion, setCondition, type Condition, type Obj } from './meta.js';
import type { Scope } from './jobs.js';
import { applyTemplateDefaults, validateService, type TrafficTarget } from './service-validate.js';
import {
  applyActive, applyReadiness, K, KNATIVE_V1, knativeSelfLink, makeRevision, readyStatus, REVISION_KIND, revisionKey, revisionName,
  SERVICE_KIND, serviceKey, type Readiness, type RevisionReadiness,
} from './revisions.js';
import { primaryUrl, serviceUrls, tagUrl, type ServiceAddress } from './service-urls.js';

export interface RunServicesDeps {
  store: Store;
  clock: Clock;
  projects: Projects;
  /** Decides whether each new revision can serve (default: ready at once). */
  readiness: RevisionReadiness;
  /** Most revisions kept per service (Cloud Run keeps 1000): beyond it the oldest that serve nothing are deleted. */
  maxRevisions?: number;
  /** The operator's executors: a `gantry.dev/executor` annotation may choose among them, never widen them. */
  executors?: ExecutorPolicy;
  /** Where a revision's log lines can be read (its `status.logUrl`, v2 `logUri`). */
  logUri?(project: string, region: string, service: string, revision: string): string;
}

export const MAX_REVISIONS = 1000;

/** Gantry's bookkeeping on a stored service (never shown: `v1View` drops it). */
export interface ServiceBookkeeping {
  project: string;
  /** Revisions ever made (their numbers). */
  revisionCount: number;
  /** Revisions there are now (counted once for a service stored before it was kept). */
  live?: number;
}

/** Annotations the server owns: what a client sends back of them on replace is ignored. */
const SERVER_ANNOTATIONS = new Set<string>([K.creator, K.lastModifier, 'run.googleapis.com/urls', 'run.googleapis.com/ingress-status',
  L.operationId, 'run.googleapis.com/satisfiesPzs', L.creator, L.lastModifier]);
const SERVER_LABELS = new Set<string>([L.location, L.lastUpdatedTime]);

/** Cloud Run's 404 for services and revisions. */
export function serviceNotFound(kind: 'SERVICE' | 'REVISION', id: string, s: Scope): ApiError {
  return new ApiError('NOT_FOUND', `Resource '${id}' of kind '${kind}' in region '${s.region}' in project '${s.asNamed}' does not exist.`,
    [resourceInfo(`run.googleapis.com/${kind === 'SERVICE' ? 'Service' : 'Revision'}`, id)]);
}

export function addressOf(svc: Obj): ServiceAddress {
  const meta = svc.metadata as Obj;
  return { service: String(meta.name), projectNumber: String(meta.namespace), region: String(((meta.labels ?? {}) as Obj)[L.location]) };
}

export class RunServices {
  constructor(private d: RunServicesDeps) {}

  get(s: Scope, id: string): Obj {
    const svc = this.d.store.getParsed<Obj>(serviceKey(s, id));
    if (!svc) throw serviceNotFound('SERVICE', id, s);
    return svc;
  }

  /** A service's revisions, oldest first. */
  revisions(s: Scope, id: string): Obj[] {
    return this.d.store.children(REVISION_KIND, serviceKey(s, id))
      .sort((a, b) => String((a.metadata as Obj).creationTimestamp).localeCompare(String((b.metadata as Obj).creationTimestamp)));
  }

  revision(s: Scope, id: string): Obj {
    const rev = this.d.store.getParsed<Obj>(revisionKey(s, id));
    if (!rev) throw serviceNotFound('REVISION', id, s);
    return rev;
  }

  create(s: Scope, input: Obj, dryRun: boolean): Obj {
    const id = String(((input.metadata ?? {}) as Obj).name ?? '');
    validateService(input, '');
    if (this.d.store.get(serviceKey(s, id))) throw new ApiError('ALREADY_EXISTS', `Resource '${id}' already exists.`, [resourceInfo('run.googleapis.com/Service', id)]);
    return this.write(s, id, input, undefined, dryRun);
  }

  /**
   * Replaces a service's spec, labels and annotations (v1 replaceService; a stale resourceVersion is refused).
   * `current`: the service as the caller read it in this same turn, its own copy (this write takes it over).
   */
  replace(s: Scope, id: string, input: Obj, dryRun: boolean, current?: Obj): Obj {
    const meta = (input.metadata ??= {}) as Obj;
    if (meta.name === undefined) meta.name = id;
    validateService(input, id);
    const existing = current ?? this.get(s, id);
    const rv = (existing.metadata as Obj).resourceVersion;
    if (meta.resourceVersion !== undefined && meta.resourceVersion !== '' && meta.resourceVersion !== rv) {
      throw new ApiError('ABORTED', `The service '${id}' was modified since resourceVersion ${String(meta.resourceVersion).slice(0, 40)} (now ${String(rv)}); read it again and retry.`);
    }
    return this.write(s, id, input, existing, dryRun);
  }

  delete(s: Scope, id: string, dryRun: boolean): Obj {
    const svc = this.get(s, id);
    if (!dryRun) {
      this.d.store.tx(w => {
        for (const rev of this.revisions(s, id)) w.delete(revisionKey(s, String((rev.metadata as Obj).name)));
        w.delete(serviceKey(s, id));
      });
    }
    return svc;
  }

  /** Deletes a revision that takes no traffic and has no tag (Cloud Run refuses to delete one that serves). */
  deleteRevision(s: Scope, id: string, dryRun: boolean): Obj {
    const rev = this.revision(s, id);
    const svcId = String(((rev.metadata as Obj).labels as Obj)[K.service]);
    const svc = this.d.store.getParsed<Obj>(serviceKey(s, svcId));
    if (svc) {
      const named = [...((svc.spec as Obj).traffic ?? []) as TrafficTarget[], ...(((svc.status as Obj | undefined)?.traffic ?? []) as TrafficTarget[])]
        .some(t => t.revisionName === id && ((t.percent ?? 0) > 0 || !!t.tag));
      if (named) throw errors.failedPrecondition(`Revision '${id}' cannot be deleted because it is serving traffic or has a tag in service '${svcId}'; move its traffic and tags to another revision first.`, `revisions/${id}`);
      if ((svc.status as Obj | undefined)?.latestCreatedRevisionName === id) {
        throw errors.failedPrecondition(`Revision '${id}' cannot be deleted because it is the latest revision of service '${svcId}'; deploy a newer one first.`, `revisions/${id}`);
      }
    }
    if (!dryRun) {
      this.d.store.tx(w => {
        w.delete(revisionKey(s, id));
        if (svc) {
          const book = svc.gantry as ServiceBookkeeping;
          if (book.live !== undefined) book.live--;
          this.settle(w, s, svc, nowMicros(this.d.clock), undefined, id);
        }
      });
    }
    return rev;
  }

  /** The serving layer's later verdict on a revision `RevisionReadiness` answered 'pending' for. */
  settleRevision(key: string, verdict: Readiness): void {
    this.d.store.tx(w => {
      const rev = this.d.store.getParsed<Obj>(key);
      if (!rev) return;
      const [, project, , region] = key.split('/');
      const s: Scope = { project, region, asNamed: project };
      const now = nowMicros(this.d.clock);
      applyReadiness(rev, verdict, now);
      this.saveRevision(w, s, rev);
      const svc = this.d.store.getParsed<Obj>(serviceKey(s, String(((rev.metadata as Obj).labels as Obj)[K.service])));
      if (svc) this.settle(w, s, svc, now, rev);
    });
  }

  /** `existing` is the caller's own copy of the stored service (parsed for this write): it becomes the new one. */
  private write(s: Scope, id: string, input: Obj, existing: Obj | undefined, dryRun: boolean): Obj {
    const meta = (input.metadata ?? {}) as Obj;
    this.checkNamespace(s, meta);
    const now = nowMicros(this.d.clock);
    const spec = (input.spec ?? {}) as Obj;
    this.d.executors?.checkAnnotations(meta.annotations, 'metadata.annotations', `Service ${id}`);
    this.d.executors?.checkAnnotations(((spec.template as Obj | undefined)?.metadata as Obj | undefined)?.annotations, 'spec.template.metadata.annotations', `Service ${id}`);
    const template = structuredClone(spec.template) as Obj;
    applyTemplateDefaults(template, computeServiceAccount(s.project));
    const given = (spec.traffic ?? []) as TrafficTarget[];
    const traffic: TrafficTarget[] = given.length
      ? given.map(t => ({ ...(t.latestRevision ? { latestRevision: true } : { revisionName: t.revisionName }), percent: t.percent ?? 0, ...(t.tag ? { tag: t.tag } : {}) }))
      : [{ percent: 100, latestRevision: true }];
    const nextSpec: Obj = { template, traffic };
    const address: ServiceAddress = { service: id, projectNumber: this.d.projects.number(s.project), region: s.region };

    const next: Obj = existing ?? {
      apiVersion: KNATIVE_V1, kind: 'Service',
      metadata: { name: id, namespace: address.projectNumber, selfLink: knativeSelfLink(this.d.projects, s.project, 'services', id), uid: newUuid(), generation: 0, creationTimestamp: now },
      status: {},
      gantry: { project: s.project, revisionCount: 0 } satisfies ServiceBookkeeping,
    };
    const nm = next.metadata as Obj;
    const creator = ((nm.annotations ?? {}) as Obj)[K.creator];
    const keep = (m: unknown, server: Set<string>) => Object.fromEntries(Object.entries((m ?? {}) as Obj).filter(([k]) => !server.has(k)));
    nm.labels = { ...keep(meta.labels, SERVER_LABELS), [L.location]: s.region };
    nm.annotations = {
      'run.googleapis.com/ingress': 'all', ...keep(meta.annotations, SERVER_ANNOTATIONS),
      [K.creator]: creator ?? CALLER, [K.lastModifier]: CALLER,
      'run.googleapis.com/urls': JSON.stringify(serviceUrls(address)),
    };
    (nm.annotations as Obj)['run.googleapis.com/ingress-status'] = (nm.annotations as Obj)['run.googleapis.com/ingress'];
    // nextSpec's JSON is its template's and its traffic's: the template, compared first, is serialised once.
    const was = existing?.spec as Obj | undefined;
    const templateChanged = !was || JSON.stringify(template) !== JSON.stringify(was.template);
    const specChanged = templateChanged || Object.keys(was).join() !== 'template,traffic' || JSON.stringify(traffic) !== JSON.stringify(was.traffic);
    if (specChanged) nm.generation = Number(nm.generation ?? 0) + 1;
    next.spec = nextSpec;
    const book = next.gantry as ServiceBookkeeping;

    let made: Obj | undefined;
    if (templateChanged) {
      const number = book.revisionCount + 1;
      const named = String(((template.metadata ?? {}) as Obj).name ?? '');
      let name = named || revisionName(id, number);
      for (let i = 0; !named && this.d.store.get(revisionKey(s, name)) && i < 20; i++) name = revisionName(id, number);
      if (this.d.store.get(revisionKey(s, name))) {
        throw new ApiError('ALREADY_EXISTS', `Revision named '${name}' with different configuration already exists.`, [resourceInfo('run.googleapis.com/Revision', name)]);
      }
      book.live = this.liveCount(s, id, existing) + 1;
      book.revisionCount = number;
      made = makeRevision({ service: next, template, name, number, now, projects: this.d.projects, project: s.project, region: s.region });
      if (this.d.logUri) (made.status as Obj).logUrl = this.d.logUri(s.project, s.region, id, name);
      ((next.status ??= {}) as Obj).latestCreatedRevisionName = name;
    }
    const v: FieldViolation[] = [];
    const madeName = made ? String((made.metadata as Obj).name) : undefined;
    for (const [i, t] of traffic.entries()) {
      // A revision of this service: the one just made, or one stored with this service's label.
      const named = t.revisionName && t.revisionName !== madeName ? this.d.store.getParsed<Obj>(revisionKey(s, t.revisionName)) : undefined;
      const ours = !t.revisionName || t.revisionName === madeName || (named && ((named.metadata as Obj).labels as Obj)[K.service] === id);
      if (!ours) v.push({ field: `spec.traffic[${i}].revisionName`, description: `Revision '${t.revisionName!.slice(0, 100)}' referenced in traffic not found.` });
    }
    if (v.length) throw errors.invalidFields(v.map(x => `${x.field}: ${x.description}`).join(' '), v);
    if (dryRun) return next;

    return this.d.store.tx(w => {
      this.d.projects.remember(w, s.project);
      if (made) {
        const subject = { key: revisionKey(s, String((made.metadata as Obj).name)), project: s.project, region: s.region, service: id, revision: String((made.metadata as Obj).name), resource: made, serviceResource: next };
        applyReadiness(made, this.d.readiness.assess(subject), now);
      }
      // Settling saves the new revision (`fresh`) with whether it serves.
      return this.settle(w, s, next, now, made);
    });
  }

  /** How many revisions a service has (its bookkeeping, or counted once for a service stored before that was kept). */
  private liveCount(s: Scope, id: string, svc: Obj | undefined): number {
    const live = (svc?.gantry as ServiceBookkeeping | undefined)?.live;
    return live ?? (svc ? this.d.store.children(REVISION_KIND, serviceKey(s, id)).length : 0);
  }

  /**
   * Derives the service's status, marks which revisions serve, and saves both. Only the revisions that can change are
   * read: the one just made or settled, those its traffic names now and named before, and the latest ready one (all
   * of them only when that one is gone). `removed` is a revision just deleted.
   */
  private settle(w: Writer, s: Scope, svc: Obj, now: string, fresh?: Obj, removed?: string): Obj {
    const id = String((svc.metadata as Obj).name);
    const status = (svc.status ??= {}) as Obj;
    const cache = new Map<string, Obj | undefined>();
    if (removed) cache.set(removed, undefined);
    if (fresh) cache.set(String((fresh.metadata as Obj).name), fresh);
    const get = (name: string) => {
      if (!cache.has(name)) cache.set(name, this.d.store.getParsed<Obj>(revisionKey(s, name)));
      return cache.get(name);
    };
    const created = (r: Obj) => String((r.metadata as Obj).creationTimestamp);
    const before = new Set([...(((status.traffic ?? []) as TrafficTarget[]).map(t => t.revisionName)), ...(((svc.spec as Obj).traffic ?? []) as TrafficTarget[]).map(t => t.revisionName)]
      .filter((n): n is string => !!n));
    const latestReady = (): Obj | undefined => {
      const prev = status.latestReadyRevisionName as string | undefined;
      let best = prev ? get(prev) : undefined;
      if (best && readyStatus(best) !== 'True') best = undefined;
      if (prev && !best) {
        // The latest ready revision is gone (deleted, retired): the newest ready one is looked for among them all.
        for (const r of this.d.store.children(REVISION_KIND, serviceKey(s, id))) if (!cache.has(String((r.metadata as Obj).name))) cache.set(String((r.metadata as Obj).name), r);
      }
      for (const r of cache.values()) if (r && readyStatus(r) === 'True' && (!best || created(r) > created(best))) best = r;
      return best;
    };
    const serving = deriveStatus(svc, { get, latestReady }, now);
    // Past the bound, the oldest revisions that serve nothing (and are not the latest) go, as Cloud Run retires them:
    // a tenth of the bound at once (a service at the bound would otherwise look for its oldest on every write), and
    // only the oldest few are read to find them.
    const book = svc.gantry as ServiceBookkeeping;
    const max = this.d.maxRevisions ?? MAX_REVISIONS;
    if ((book.live ?? 0) > max) {
      const keep = new Set([...serving, status.latestCreatedRevisionName, status.latestReadyRevisionName, fresh ? String((fresh.metadata as Obj).name) : undefined]);
      let excess = (book.live ?? 0) - (max - Math.floor(max / 10));
      const oldest = this.d.store.list({ kind: REVISION_KIND, scope: { parent: serviceKey(s, id) }, order: [{ path: ['metadata', 'creationTimestamp'], desc: false }], limit: excess + keep.size }).rows;
      for (const r of oldest) {
        if (excess <= 0) break;
        const name = String((r.metadata as Obj).name);
        if (keep.has(name)) continue;
        w.delete(revisionKey(s, name));
        cache.set(name, undefined);
        excess--;
        book.live = (book.live ?? 0) - 1;
      }
    }
    for (const name of new Set([...before, ...serving, ...(fresh ? [String((fresh.metadata as Obj).name)] : [])])) {
      const rev = get(name);
      if (rev && (applyActive(rev, serving.has(name), now) || rev === fresh)) this.saveRevision(w, s, rev);
    }
    const meta = svc.metadata as Obj;
    meta.resourceVersion = resourceVersion(nowMicros(this.d.clock));
    const ready = readyOf(svc);
    w.put(SERVICE_KIND, serviceKey(s, id), regionKey(s), svc, String(meta.creationTimestamp), ready === 'Unknown');
    return svc;
  }

  private saveRevision(w: Writer, s: Scope, rev: Obj): void {
    const meta = rev.metadata as Obj;
    meta.resourceVersion = resourceVersion(nowMicros(this.d.clock));
    w.put(REVISION_KIND, revisionKey(s, String(meta.name)), serviceKey(s, String((meta.labels as Obj)[K.service])), rev, String(meta.creationTimestamp), readyStatus(rev) === 'Unknown');
  }

  private checkNamespace(s: Scope, meta: Obj): void {
    const ns = meta.namespace;
    if (ns === undefined || ns === '') return;
    if (this.d.projects.resolve(String(ns)) !== s.project && String(ns) !== this.d.projects.number(s.project)) {
      throw errors.invalidArgument(`metadata.namespace '${String(ns).slice(0, 100)}' does not match the namespace in the URL, '${s.asNamed}'.`, 'metadata.namespace');
    }
  }
}

function readyOf(svc: Obj): Condition['status'] | undefined {
  return (((svc.status as Obj | undefined)?.conditions ?? []) as Condition[]).find(c => c.type === 'Ready')?.status;
}

const notReady = (name: string, rev: Obj | undefined) => {
  const c = (((rev?.status as Obj | undefined)?.conditions ?? []) as Condition[]).find(x => x.type === 'Ready');
  return `Revision '${name}' is not ready and cannot serve traffic.${c?.message ? ` ${c.message}` : ''}`;
};

/**
 * Knative's derivation, in place: latest created and ready revisions, ConfigurationsReady (the latest created
 * revision's readiness), RoutesReady (every traffic target resolves to a ready revision; until then the last
 * resolved traffic stays), Ready (both), and the URLs. Answers the revisions that serve (a percent or a tag).
 */
/** The revisions a status is derived from: any by name, and the newest ready one. */
export interface RevisionLookup { get(name: string): Obj | undefined; latestReady(): Obj | undefined }

export function deriveStatus(svc: Obj, revs: RevisionLookup, now: string): Set<string> {
  const meta = svc.metadata as Obj;
  const status = (svc.status ??= {}) as Obj;
  const conditions = (status.conditions ??= []) as Condition[];
  const address = addressOf(svc);
  const latestCreated = status.latestCreatedRevisionName as string | undefined;
  const latestReady = revs.latestReady();
  if (latestReady) status.latestReadyRevisionName = String((latestReady.metadata as Obj).name); else delete status.latestReadyRevisionName;

  const created = latestCreated ? revs.get(latestCreated) : undefined;
  const cs = readyStatus(created) ?? 'Unknown';
  if (cs === 'True') setCondition(conditions, { type: 'ConfigurationsReady', status: 'True' }, now);
  else if (cs === 'False') setCondition(conditions, { type: 'ConfigurationsReady', status: 'False', reason: 'RevisionFailed', message: notReady(latestCreated!, created) }, now);
  else setCondition(conditions, { type: 'ConfigurationsReady', status: 'Unknown', reason: 'RevisionMissing', message: `Revision '${latestCreated ?? ''}' is not ready yet.` }, now);

  const resolved: TrafficTarget[] = [];
  let route: Omit<Condition, 'lastTransitionTime'> = { type: 'RoutesReady', status: 'True' };
  const fail = (c: Omit<Condition, 'lastTransitionTime'>) => { if (route.status !== 'False') route = c; };
  for (const t of ((svc.spec as Obj).traffic ?? []) as TrafficTarget[]) {
    const name = t.latestRevision ? status.latestReadyRevisionName as string | undefined : t.revisionName!;
    if (!name) {
      if (cs === 'False') fail({ type: 'RoutesReady', status: 'False', reason: 'RevisionFailed', message: `Configuration '${address.service}' does not have any ready Revision.` });
      else if (route.status === 'True') route = { type: 'RoutesReady', status: 'Unknown', reason: 'RevisionMissing', message: `Configuration '${address.service}' is waiting for a Revision to become ready.` };
      continue;
    }
    const rs = readyStatus(revs.get(name));
    if (rs === 'False' || rs === undefined) fail({ type: 'RoutesReady', status: 'False', reason: 'RevisionFailed', message: rs === undefined ? `Revision '${name}' referenced in traffic not found.` : notReady(name, revs.get(name)) });
    else if (rs === 'Unknown' && route.status === 'True') route = { type: 'RoutesReady', status: 'Unknown', reason: 'RevisionMissing', message: `Revision '${name}' is not ready yet.` };
    resolved.push({ revisionName: name, percent: t.percent ?? 0, ...(t.latestRevision ? { latestRevision: true } : {}), ...(t.tag ? { tag: t.tag, url: tagUrl(address, t.tag) } : {}) });
  }
  setCondition(conditions, route, now);
  if (route.status === 'True') status.traffic = resolved;

  const config = conditions.find(c => c.type === 'ConfigurationsReady')!;
  const failed = [config, conditions.find(c => c.type === 'RoutesReady')!].find(c => c.status === 'False');
  if (failed) setCondition(conditions, { type: 'Ready', status: 'False', reason: failed.reason, message: failed.message }, now);
  else if (config.status === 'True' && route.status === 'True') setCondition(conditions, { type: 'Ready', status: 'True' }, now);
  else setCondition(conditions, { type: 'Ready', status: 'Unknown', reason: 'Deploying', message: 'Deploying revision.' }, now);
  // Ready first, as Cloud Run lists them.
  status.conditions = [conditions.find(c => c.type === 'Ready')!, ...conditions.filter(c => c.type !== 'Ready')];
  status.observedGeneration = meta.generation;
  status.url = primaryUrl(address);
  status.address = { url: primaryUrl(address) };

  const serving = new Set<string>();
  for (const t of (status.traffic ?? []) as TrafficTarget[]) if (t.revisionName && ((t.percent ?? 0) > 0 || t.tag)) serving.add(t.revisionName);
  return serving;
}
