// Cloud Run Admin API v1 (Knative serving.knative.dev/v1) for services, revisions, and the routes and configurations
// Knative derives from a service: what gcloud's `run deploy` and `run services|revisions` speak. Region from the host
// (as for jobs), the namespace is the project id or number.
import type { App } from '../../server/app.js';
import { queryString, type ApiRequest, type MethodSpec } from '../../server/api.js';
import type { Projects } from '../../google/projects.js';
import type { Locations } from '../../google/locations.js';
import type { Store, Scope as StoreScope } from '../../store/store.js';
import { errors } from '../../google/errors.js';
import { SERVICE, schemaV1 } from './service.js';
import type { Obj } from './meta.js';
import { regionOf } from './region.js';
import { v1View } from './views.js';
import type { Scope } from './jobs.js';
import { deleted, list } from './v1.js';
import { KNATIVE_PREFIX, KNATIVE_V1, K, knativeSelfLink, REVISION_KIND, SERVICE_KIND } from './revisions.js';
import type { RunServices } from './services.js';

export interface ServicesV1Deps { store: Store; projects: Projects; services: RunServices; locations: Locations; defaultRegion: string }

const LIST_QUERY = ['labelSelector', 'limit', 'continue', 'fieldSelector', 'includeUninitialized', 'resourceVersion', 'watch'];

/** The metadata of a resource a service owns (its Configuration, its Route): the service's, named in `collection`. */
function ownedMetadata(projects: Projects, project: string, svc: Obj, collection: 'routes' | 'configurations'): Obj {
  const meta = svc.metadata as Obj;
  return {
    name: meta.name, namespace: meta.namespace, selfLink: knativeSelfLink(projects, project, collection, String(meta.name)), uid: meta.uid,
    resourceVersion: meta.resourceVersion, generation: meta.generation, creationTimestamp: meta.creationTimestamp,
    labels: { ...((meta.labels ?? {}) as Obj), [K.service]: meta.name, [K.serviceUid]: meta.uid },
    annotations: meta.annotations,
    ownerReferences: [{ kind: 'Service', name: meta.name, uid: meta.uid, apiVersion: KNATIVE_V1, controller: true, blockOwnerDeletion: true }],
  };
}

/** The Knative Configuration a service owns: its template and latest revisions. */
export function configurationView(projects: Projects, project: string, svc: Obj): Obj {
  const status = (svc.status ?? {}) as Obj;
  const ready = ((status.conditions ?? []) as Obj[]).find(c => c.type === 'ConfigurationsReady');
  return {
    apiVersion: KNATIVE_V1, kind: 'Configuration',
    metadata: ownedMetadata(projects, project, svc, 'configurations'),
    spec: { template: (svc.spec as Obj).template },
    status: {
      observedGeneration: status.observedGeneration, conditions: ready ? [{ ...ready, type: 'Ready' }] : [],
      ...(status.latestCreatedRevisionName ? { latestCreatedRevisionName: status.latestCreatedRevisionName } : {}),
      ...(status.latestReadyRevisionName ? { latestReadyRevisionName: status.latestReadyRevisionName } : {}),
    },
  };
}

/** The Knative Route a service owns: its traffic, resolved, and its URL. */
export function routeView(projects: Projects, project: string, svc: Obj): Obj {
  const meta = svc.metadata as Obj;
  const status = (svc.status ?? {}) as Obj;
  const ready = ((status.conditions ?? []) as Obj[]).find(c => c.type === 'RoutesReady');
  return {
    apiVersion: KNATIVE_V1, kind: 'Route',
    metadata: ownedMetadata(projects, project, svc, 'routes'),
    spec: { traffic: (((svc.spec as Obj).traffic ?? []) as Obj[]).map(t => (t.latestRevision ? { configurationName: meta.name, ...t } : t)) },
    status: {
      observedGeneration: status.observedGeneration, conditions: ready ? [{ ...ready, type: 'Ready' }] : [],
      ...(status.traffic ? { traffic: status.traffic } : {}), url: status.url, address: status.address,
    },
  };
}

/** One of v1's two addressings of the same resources: Knative's `namespaces/{ns}` (region from the host) and `projects/{p}/locations/{region}`. */
interface Form {
  collection(c: string): string;
  item(c: string): string;
  /** `list`: the project form's `locations/-` (every region) is allowed. */
  scope(req: ApiRequest, list?: boolean): Scope;
  id(req: ApiRequest): string;
}

export function registerServicesV1(app: App, d: ServicesV1Deps): void {
  const NS = `${KNATIVE_PREFIX}/namespaces/{ns}`;
  const knative: Form = {
    collection: c => `${NS}/${c}`, item: c => `${NS}/${c}/{name}`, id: req => req.params.name,
    scope: req => {
      const ns = req.params.ns;
      const region = regionOf(req, d.defaultRegion);
      if (!d.locations.has(region)) throw errors.locationDenied(region, SERVICE);
      return { project: d.projects.resolve(ns), region, asNamed: ns };
    },
  };
  const projectScoped: Form = {
    collection: c => `/v1/{parent=projects/*/locations/*}/${c}`, item: c => `/v1/{name=projects/*/locations/*/${c}/*}`, id: req => req.params.name.split('/')[5],
    scope: (req, list = false) => {
      const [, p, , region] = (req.params.parent ?? req.params.name).split('/');
      if (!(list && region === '-') && !d.locations.has(region)) throw errors.locationDenied(region, SERVICE);
      return { project: d.projects.resolve(p), region, asNamed: p };
    },
  };
  const dryRun = (req: ApiRequest): boolean => {
    const v = queryString(req, 'dryRun');
    if (v === undefined || v === '') return false;
    if (v !== 'all') throw errors.invalidArgument(`Invalid dryRun value '${v.slice(0, 40)}': the only value is 'all'.`, 'dry_run');
    return true;
  };
  const decodeService = (req: ApiRequest): Obj => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) throw errors.invalidArgument('The request body must be a Service.', '');
    return schemaV1.decode('Service', req.body, '');
  };
  const r = (method: string, path: string, spec: MethodSpec) => app.route(method, path, spec);
  /** Under `locations/-`, every region of the project (services' parents are regions, revisions' are services). */
  const everywhere = (s: Scope, kind: string): StoreScope | undefined =>
    s.region !== '-' ? undefined : kind === SERVICE_KIND ? { grandparent: `projects/${s.project}` } : { parentPrefix: `projects/${s.project}/locations/` };
  const listed = (req: ApiRequest, f: Form, kind: string, listKind: string, view?: (p: Projects, project: string, o: Obj) => Obj) => {
    const s = f.scope(req, true);
    return list(d, req, s, kind, listKind, KNATIVE_V1, view ? o => view(d.projects, s.project, o) : v1View, everywhere(s, kind));
  };

  for (const f of [knative, projectScoped]) {
    r('POST', f.collection('services'), { query: ['dryRun'], handler: req => ({ body: v1View(d.services.create(f.scope(req), decodeService(req), dryRun(req))) }) });
    r('GET', f.collection('services'), { query: LIST_QUERY, handler: req => listed(req, f, SERVICE_KIND, 'ServiceList') });
    r('GET', f.item('services'), { handler: req => ({ body: v1View(d.services.get(f.scope(req), f.id(req))) }) });
    r('PUT', f.item('services'), { query: ['dryRun'], handler: req => ({ body: v1View(d.services.replace(f.scope(req), f.id(req), decodeService(req), dryRun(req))) }) });
    r('DELETE', f.item('services'), {
      query: ['dryRun', 'propagationPolicy', 'apiVersion', 'kind'],
      handler: req => {
        const svc = d.services.delete(f.scope(req), f.id(req), dryRun(req));
        return { body: deleted(f.id(req), 'services', String((svc.metadata as Obj).uid), 'serving.knative.dev') };
      },
    });
    r('GET', f.collection('revisions'), { query: LIST_QUERY, handler: req => listed(req, f, REVISION_KIND, 'RevisionList') });
    r('GET', f.item('revisions'), { handler: req => ({ body: d.services.revision(f.scope(req), f.id(req)) }) });
    r('DELETE', f.item('revisions'), {
      query: ['dryRun', 'propagationPolicy', 'apiVersion', 'kind'],
      handler: req => {
        const rev = d.services.deleteRevision(f.scope(req), f.id(req), dryRun(req));
        return { body: deleted(f.id(req), 'revisions', String((rev.metadata as Obj).uid), 'serving.knative.dev') };
      },
    });
    r('GET', f.collection('routes'), { query: LIST_QUERY, handler: req => listed(req, f, SERVICE_KIND, 'RouteList', routeView) });
    r('GET', f.item('routes'), { handler: req => { const s = f.scope(req); return { body: routeView(d.projects, s.project, d.services.get(s, f.id(req))) }; } });
    r('GET', f.collection('configurations'), { query: LIST_QUERY, handler: req => listed(req, f, SERVICE_KIND, 'ConfigurationList', configurationView) });
    r('GET', f.item('configurations'), { handler: req => { const s = f.scope(req); return { body: configurationView(d.projects, s.project, d.services.get(s, f.id(req))) }; } });
  }
}
