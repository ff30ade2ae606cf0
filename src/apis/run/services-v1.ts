// Cloud Run Admin API v1 (Knative serving.knative.dev/v1) for services, revisions, and the routes and configurations
// Knative derives from a service: what gcloud's `run deploy` and `run services|revisions` speak. Region from the host
// (as for jobs), the namespace is the project id or number.
import type { App } from '../../server/app.js';
import { queryString, type ApiRequest, type MethodSpec } from '../../server/api.js';
import type { Projects } from '../../google/projects.js';
import type { Locations } from '../../google/locations.js';
import type { Store } from '../../store/store.js';
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

/** The Knative Configuration a service owns: its template and latest revisions. */
export function configurationView(projects: Projects, project: string, svc: Obj): Obj {
  const meta = svc.metadata as Obj;
  const status = (svc.status ?? {}) as Obj;
  const ready = ((status.conditions ?? []) as Obj[]).find(c => c.type === 'ConfigurationsReady');
  return {
    apiVersion: KNATIVE_V1, kind: 'Configuration',
    metadata: {
      name: meta.name, namespace: meta.namespace, selfLink: knativeSelfLink(projects, project, 'configurations', String(meta.name)), uid: meta.uid,
      resourceVersion: meta.resourceVersion, generation: meta.generation, creationTimestamp: meta.creationTimestamp,
      labels: { ...((meta.labels ?? {}) as Obj), [K.service]: meta.name, [K.serviceUid]: meta.uid },
      annotations: meta.annotations,
      ownerReferences: [{ kind: 'Service', name: meta.name, uid: meta.uid, apiVersion: KNATIVE_V1, controller: true, blockOwnerDeletion: true }],
    },
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
    metadata: {
      name: meta.name, namespace: meta.namespace, selfLink: knativeSelfLink(projects, project, 'routes', String(meta.name)), uid: meta.uid,
      resourceVersion: meta.resourceVersion, generation: meta.generation, creationTimestamp: meta.creationTimestamp,
      labels: { ...((meta.labels ?? {}) as Obj), [K.service]: meta.name, [K.serviceUid]: meta.uid },
      annotations: meta.annotations,
      ownerReferences: [{ kind: 'Service', name: meta.name, uid: meta.uid, apiVersion: KNATIVE_V1, controller: true, blockOwnerDeletion: true }],
    },
    spec: { traffic: (((svc.spec as Obj).traffic ?? []) as Obj[]).map(t => (t.latestRevision ? { configurationName: meta.name, ...t } : t)) },
    status: {
      observedGeneration: status.observedGeneration, conditions: ready ? [{ ...ready, type: 'Ready' }] : [],
      ...(status.traffic ? { traffic: status.traffic } : {}), url: status.url, address: status.address,
    },
  };
}

export function registerServicesV1(app: App, d: ServicesV1Deps): void {
  const scope = (req: ApiRequest): Scope => {
    const ns = req.params.ns;
    const region = regionOf(req, d.defaultRegion);
    if (!d.locations.has(region)) throw errors.locationDenied(region, SERVICE);
    return { project: d.projects.resolve(ns), region, asNamed: ns };
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
  const NS = `${KNATIVE_PREFIX}/namespaces/{ns}`;
  const r = (method: string, path: string, spec: MethodSpec) => app.route(method, path, spec);
  const derived = (view: (p: Projects, project: string, svc: Obj) => Obj) => (s: Scope) => (o: Obj) => view(d.projects, s.project, o);

  r('POST', `${NS}/services`, { query: ['dryRun'], handler: req => ({ body: v1View(d.services.create(scope(req), decodeService(req), dryRun(req))) }) });
  r('GET', `${NS}/services`, { query: LIST_QUERY, handler: req => list(d, req, scope(req), SERVICE_KIND, 'ServiceList', KNATIVE_V1) });
  r('GET', `${NS}/services/{name}`, { handler: req => ({ body: v1View(d.services.get(scope(req), req.params.name)) }) });
  r('PUT', `${NS}/services/{name}`, { query: ['dryRun'], handler: req => ({ body: v1View(d.services.replace(scope(req), req.params.name, decodeService(req), dryRun(req))) }) });
  r('DELETE', `${NS}/services/{name}`, {
    query: ['dryRun', 'propagationPolicy', 'apiVersion', 'kind'],
    handler: req => {
      const svc = d.services.delete(scope(req), req.params.name, dryRun(req));
      return { body: deleted(req.params.name, 'services', String((svc.metadata as Obj).uid), 'serving.knative.dev') };
    },
  });

  // v1's project-scoped form, which `gcloud run services list` uses (`locations/-`: every region).
  r('GET', '/v1/{parent=projects/*/locations/*}/services', {
    query: LIST_QUERY,
    handler: req => {
      const [, p, , region] = req.params.parent.split('/');
      if (region !== '-' && !d.locations.has(region)) throw errors.locationDenied(region, SERVICE);
      const s: Scope = { project: d.projects.resolve(p), region, asNamed: p };
      return list(d, req, s, SERVICE_KIND, 'ServiceList', KNATIVE_V1, v1View, region === '-' ? { grandparent: `projects/${s.project}` } : undefined);
    },
  });
  r('GET', '/v1/{name=projects/*/locations/*/services/*}', {
    handler: req => {
      const [, p, , region, , id] = req.params.name.split('/');
      if (!d.locations.has(region)) throw errors.locationDenied(region, SERVICE);
      return { body: v1View(d.services.get({ project: d.projects.resolve(p), region, asNamed: p }, id)) };
    },
  });

  r('GET', `${NS}/revisions`, { query: LIST_QUERY, handler: req => list(d, req, scope(req), REVISION_KIND, 'RevisionList', KNATIVE_V1) });
  r('GET', `${NS}/revisions/{name}`, { handler: req => ({ body: d.services.revision(scope(req), req.params.name) }) });
  r('DELETE', `${NS}/revisions/{name}`, {
    query: ['dryRun', 'propagationPolicy', 'apiVersion', 'kind'],
    handler: req => {
      const rev = d.services.deleteRevision(scope(req), req.params.name, dryRun(req));
      return { body: deleted(req.params.name, 'revisions', String((rev.metadata as Obj).uid), 'serving.knative.dev') };
    },
  });

  r('GET', `${NS}/routes`, { query: LIST_QUERY, handler: req => { const s = scope(req); return list(d, req, s, SERVICE_KIND, 'RouteList', KNATIVE_V1, derived(routeView)(s)); } });
  r('GET', `${NS}/routes/{name}`, { handler: req => { const s = scope(req); return { body: routeView(d.projects, s.project, d.services.get(s, req.params.name)) }; } });
  r('GET', `${NS}/configurations`, { query: LIST_QUERY, handler: req => { const s = scope(req); return list(d, req, s, SERVICE_KIND, 'ConfigurationList', KNATIVE_V1, derived(configurationView)(s)); } });
  r('GET', `${NS}/configurations/{name}`, { handler: req => { const s = scope(req); return { body: configurationView(d.projects, s.project, d.services.get(s, req.params.name)) }; } });
}
