// Cloud Run Admin API v1 (Knative-style) for jobs, executions and tasks: what gcloud speaks. Region from the host,
// the namespace is the project id or number (answers carry the number).
import type { App } from '../../server/app.js';
import { queryInt, queryString, type ApiRequest, type MethodSpec } from '../../server/api.js';
import type { Projects } from '../../google/projects.js';
import type { Locations } from '../../google/locations.js';
import type { Store, Scope as StoreScope } from '../../store/store.js';
import { errors } from '../../google/errors.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, queryHash } from '../../google/paging.js';
import { matchesSelector, parseLabelSelector, pinnedValue } from '../../google/label-selector.js';
import { EXECUTION, JOB, L, SERVICE, TASK, V1, V1_PREFIX, schemaV1 } from './service.js';
import { executionKey, jobKey, regionKey, taskKey } from './names.js';
import type { Obj } from './meta.js';
import { regionOf } from './region.js';
import { v1View } from './views.js';
import { runNotFound, type RunJobs, type Scope } from './jobs.js';
import type { Overrides } from './executions.js';
import { K, REVISION_KIND, SERVICE_KIND, serviceKey } from './revisions.js';

export interface V1Deps { store: Store; projects: Projects; jobs: RunJobs; locations: Locations; defaultRegion: string }

const LIST_QUERY = ['labelSelector', 'limit', 'continue', 'fieldSelector', 'includeUninitialized', 'resourceVersion', 'watch'];
const MAX_LIMIT = 1000;

export function registerRunV1(app: App, d: V1Deps): void {
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
  const decodeJob = (req: ApiRequest): Obj => {
    if (req.body === undefined || req.body === null || typeof req.body !== 'object' || Array.isArray(req.body)) throw errors.invalidArgument('The request body must be a Job.', '');
    return schemaV1.decode('Job', req.body, '');
  };
  const NS = `${V1_PREFIX}/namespaces/{ns}`;
  const r = (method: string, path: string, spec: MethodSpec) => app.route(method, path, spec);

  r('POST', `${NS}/jobs`, { query: ['dryRun'], handler: req => ({ body: v1View(d.jobs.create(scope(req), decodeJob(req), dryRun(req))) }) });
  r('GET', `${NS}/jobs`, { query: LIST_QUERY, handler: req => list(d, req, scope(req), JOB, 'JobsList') });
  r('GET', `${NS}/jobs/{name}`, { handler: req => ({ body: v1View(d.jobs.get(scope(req), req.params.name)) }) });
  r('PUT', `${NS}/jobs/{name}`, { query: ['dryRun'], handler: req => ({ body: v1View(d.jobs.replace(scope(req), req.params.name, decodeJob(req), dryRun(req))) }) });
  r('DELETE', `${NS}/jobs/{name}`, {
    query: ['dryRun', 'propagationPolicy', 'apiVersion', 'kind'],
    handler: req => {
      const job = d.jobs.delete(scope(req), req.params.name, dryRun(req));
      return { body: deleted(req.params.name, 'jobs', String((job.metadata as Obj).uid)) };
    },
  });
  r('POST', `${NS}/jobs/{name}:run`, {
    handler: req => {
      const body = schemaV1.decode('RunJobRequest', req.body ?? {}, '');
      return { body: v1View(d.jobs.run(scope(req), req.params.name, (body.overrides ?? {}) as Overrides).execution) };
    },
  });

  r('GET', `${NS}/executions`, { query: LIST_QUERY, handler: req => list(d, req, scope(req), EXECUTION, 'ExecutionsList') });
  r('GET', `${NS}/executions/{name}`, { handler: req => ({ body: v1View(d.jobs.execution(scope(req), req.params.name).execution) }) });
  r('DELETE', `${NS}/executions/{name}`, {
    query: ['propagationPolicy', 'apiVersion', 'kind'],
    handler: req => {
      const ex = d.jobs.deleteExecution(scope(req), req.params.name);
      return { body: deleted(req.params.name, 'executions', String((ex.metadata as Obj).uid)) };
    },
  });
  r('POST', `${NS}/executions/{name}:cancel`, {
    handler: req => {
      schemaV1.decode('CancelExecutionRequest', req.body ?? {}, '');
      const s = scope(req);
      d.jobs.cancel(s, req.params.name);
      return { body: v1View(d.jobs.execution(s, req.params.name).execution) };
    },
  });

  r('GET', `${NS}/tasks`, { query: LIST_QUERY, handler: req => list(d, req, scope(req), TASK, 'TasksList') });
  r('GET', `${NS}/tasks/{name}`, {
    handler: req => {
      const s = scope(req);
      const task = d.store.getParsed<Obj>(taskKey(s, req.params.name));
      if (!task) throw runNotFound('task', req.params.name, s);
      return { body: task };
    },
  });
}

/** The Kubernetes Status a v1 delete answers with (clients ignore it; gcloud discards it). */
export function deleted(name: string, kind: string, uid: string, group = 'run.googleapis.com'): Obj {
  return { apiVersion: 'v1', kind: 'Status', status: 'Success', details: { name, group, kind, uid } };
}

/**
 * A v1 list: newest first (as Cloud Run sorts), filtered by a label selector, paged by `limit` and `continue`. A
 * selector pinning the job (executions) or the execution (tasks) reads that one parent.
 */
export function list(d: { store: Store }, req: ApiRequest, s: Scope, kind: string, listKind: string, apiVersion = V1, view: (o: Obj) => Obj = v1View, over?: StoreScope): { body: Obj } {
  const selectorText = queryString(req, 'labelSelector');
  const selector = parseLabelSelector(selectorText);
  const limit = queryInt(req, 'limit');
  if (limit !== undefined && limit < 0) throw errors.invalidArgument('limit must not be negative.', 'limit');
  const region = regionKey(s);
  let storeScope: StoreScope;
  if (over) storeScope = over;
  else if (kind === JOB || kind === SERVICE_KIND) storeScope = { parent: region };
  else if (kind === REVISION_KIND) {
    const svc = pinnedValue(selector, K.service);
    storeScope = svc !== undefined ? { parent: serviceKey(s, svc) } : { parentPrefix: `${region}/services/` };
  } else if (kind === EXECUTION) {
    const job = pinnedValue(selector, L.job);
    storeScope = job !== undefined ? { parent: jobKey(s, job) } : { parentPrefix: `${region}/jobs/` };
  } else {
    const ex = pinnedValue(selector, L.execution);
    storeScope = ex !== undefined ? { parent: executionKey(s, ex) } : { parentPrefix: `${region}/executions/` };
  }
  const hash = queryHash(kind, region, selectorText);
  const res = d.store.list({
    kind, scope: storeScope, order: [{ path: ['createTime'], desc: true }],
    predicate: selector.length ? (o => matchesSelector(selector, (o.metadata as Obj | undefined)?.labels as Record<string, string>)) : undefined,
    after: decodeContinue(queryString(req, 'continue'), hash),
    limit: Math.min(limit || MAX_LIMIT, MAX_LIMIT), maxBytes: PAGE_MAX_BYTES,
  });
  const metadata: Obj = {};
  if (res.more && res.last) metadata.continue = encodePageToken(hash, res.last);
  return { body: { apiVersion, kind: listKind, metadata, items: res.rows.map(view) } };
}

function decodeContinue(token: string | undefined, hash: string): unknown[] | undefined {
  try {
    return decodePageToken(token, hash);
  } catch {
    throw errors.invalidArgument('The continue token is invalid or does not match the list it was issued for.', 'continue');
  }
}
