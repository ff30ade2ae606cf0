// Cloud Run Admin API v2 for jobs, executions and tasks: the same stored resources as v1 in the v2 shape, with
// long-running operations that finish when the work does (a job once Ready settles, a run once its execution ends).
import { policyMethods } from '../../google/iam.js';
import type { App } from '../../server/app.js';
import { queryBool, queryInt, queryString, type ApiRequest, type MethodSpec } from '../../server/api.js';
import type { Projects } from '../../google/projects.js';
import type { Locations } from '../../google/locations.js';
import type { Clock } from '../../engine/clock.js';
import type { Store, Scope as StoreScope } from '../../store/store.js';
import { ApiError, errors } from '../../google/errors.js';
import { newUuid } from '../../google/ids.js';
import { decodePageToken, encodePageToken, PAGE_MAX_BYTES, pageSize, queryHash } from '../../google/paging.js';
import { parseDurationMs } from '../../google/time.js';
import { EXECUTION, JOB, L, PROTO_PACKAGE, SERVICE, TASK, schemaV1, schemaV2 } from './service.js';
import { executionKey, jobKey, regionKey, taskKey } from './names.js';
import { conditionOf, type Condition, type Obj } from './meta.js';
import { runNotFound, type RunJobs, type Scope } from './jobs.js';
import { isTerminal } from './controller.js';
import { v1FromV2, v1Overrides, v2Execution, v2Job, v2Task } from './v2-convert.js';
import type { Overrides } from './executions.js';
import { waitForResource } from '../../store/wait.js';
import { v2Service } from './services-v2-convert.js';

export interface V2Deps { store: Store; clock: Clock; projects: Projects; jobs: RunJobs; locations: Locations }

const OP = 'run.operation';
const T = (m: string) => `type.googleapis.com/${PROTO_PACKAGE}.${m}`;
const P = 'projects/*/locations/*';

/** The project and region a v2 name is under; `-` as the location passes only for a list (`wildcard`). */
export function v2Scope(d: { projects: Projects; locations: Locations }, name: string, wildcard = false): Scope {
  const [, p, , region] = name.split('/');
  if (p === '-') throw errors.invalidArgument('A project cannot be the wildcard "-".', 'name');
  d.locations.check(name, SERVICE, { wildcard });
  return { project: d.projects.resolve(p), region, asNamed: p };
}

/** A v2 long-running operation: done once its target settles (jobs, executions, services) or at once (deletes). */
export interface StoredOp { name: string; verb: 'create' | 'update' | 'delete' | 'run' | 'cancel'; kind: 'job' | 'execution' | 'service' | 'revision'; target: string; id: string; job: string; generation?: number; snapshot?: Obj; createTime: string }

/** Stores a new operation and answers it as it stands now (shared by every v2 resource of Cloud Run). */
export function createOperation(d: { store: Store; clock: Clock }, s: Scope, op: Omit<StoredOp, 'name' | 'createTime'>): Obj {
  const id = newUuid();
  const stored: StoredOp = { ...op, name: `projects/${s.asNamed}/locations/${s.region}/operations/${id}`, createTime: d.clock.timestamp() };
  d.store.tx(w => w.put(OP, `${regionKey(s)}/operations/${id}`, regionKey(s), stored, stored.createTime, false));
  return opView(d, stored, s);
}

export function registerRunV2(app: App, d: V2Deps): void {
  /** `-` as the location passes only for a list (`wildcard`), as every location-scoped API of Gantry has it. */
  const scopeOf = (name: string, wildcard = false): Scope => v2Scope(d, name, wildcard);
  /** Under `locations/-` a listed resource is named in its own region. */
  const namesOf = (s: Scope) => (o: Obj) => ({ project: s.asNamed, region: s.region === '-' ? String(((o.metadata as Obj).labels as Obj)[L.location]) : s.region });
  /** Every parent under the scope's region, or under every region of the project for `-`. */
  const under = (s: Scope, collection: string): StoreScope => ({ parentPrefix: s.region === '-' ? `projects/${s.project}/locations/` : `${regionKey(s)}/${collection}/` });
  const names = (s: Scope) => ({ project: s.asNamed, region: s.region });
  const reply = (body: Obj, message: string) => ({ body, message, schema: schemaV2 });
  const validateOnly = (req: ApiRequest) => queryBool(req, 'validateOnly') || (req.body as Obj | undefined)?.validateOnly === true;

  const newOp = (s: Scope, op: Omit<StoredOp, 'name' | 'createTime'>): Obj => createOperation(d, s, op);
  const checkEtag = (given: unknown, o: Obj, kind: string) => {
    if (given === undefined || given === '') return;
    const current = (kind === 'job' ? v2Job(o, { project: '', region: '' }) : v2Execution(o, { project: '', region: '' })).etag;
    if (given !== current) throw new ApiError('ABORTED', `The etag ${String(given).slice(0, 40)} does not match the current etag ${String(current)}; read the resource again and retry.`);
  };
  const r = (method: string, path: string, spec: MethodSpec) => app.route(method, path, spec);

  r('POST', `/v2/{parent=${P}}/jobs`, {
    query: ['jobId', 'validateOnly'],
    handler: req => {
      const s = scopeOf(req.params.parent);
      const body = schemaV2.decode('GoogleCloudRunV2Job', req.body ?? {}, 'job');
      const id = queryString(req, 'jobId') ?? String(body.name ?? '').split('/').pop() ?? '';
      if (!id) throw errors.invalidArgument('job_id is required.', 'job_id');
      const job = d.jobs.create(s, v1FromV2(body, id), validateOnly(req));
      if (validateOnly(req)) return reply({ name: `projects/${s.asNamed}/locations/${s.region}/operations/validate-only`, done: true, response: { '@type': T('Job'), ...v2Job(job, names(s)) } }, 'GoogleLongrunningOperation');
      return reply(newOp(s, { verb: 'create', kind: 'job', target: jobKey(s, id), id, job: id, generation: 1 }), 'GoogleLongrunningOperation');
    },
  });
  r('GET', `/v2/{parent=${P}}/jobs`, {
    query: ['pageSize', 'pageToken', 'showDeleted'],
    handler: req => {
      const s = scopeOf(req.params.parent, true);
      queryBool(req, 'showDeleted');
      const scope: StoreScope = s.region === '-' ? { grandparent: `projects/${s.project}` } : { parent: regionKey(s) };
      return reply(page(d, req, JOB, scope, 'jobs', o => v2Job(o, namesOf(s)(o))), 'GoogleCloudRunV2ListJobsResponse');
    },
  });
  r('GET', `/v2/{name=${P}/jobs/*}`, { handler: req => { const { s, id } = split(req.params.name); return reply(v2Job(d.jobs.get(s, id), names(s)), 'GoogleCloudRunV2Job'); } });
  r('PATCH', `/v2/{job.name=${P}/jobs/*}`, {
    query: ['validateOnly', 'allowMissing', 'updateMask'],
    handler: req => {
      const { s, id } = split(req.params['job.name']);
      const body = schemaV2.decode('GoogleCloudRunV2Job', req.body ?? {}, 'job');
      const exists = !!d.store.get(jobKey(s, id));
      if (!exists && !queryBool(req, 'allowMissing')) throw runNotFound('job', id, s);
      const current = exists ? d.jobs.get(s, id) : undefined;
      // etag is output-only in the schema (decoding drops it): the request's own is what a client sends back.
      if (current) checkEtag((req.body as Obj | undefined)?.etag, current, 'job');
      const input = v1FromV2(body, id);
      const job = current ? d.jobs.replace(s, id, input, validateOnly(req)) : d.jobs.create(s, input, validateOnly(req));
      if (validateOnly(req)) return reply({ name: `projects/${s.asNamed}/locations/${s.region}/operations/validate-only`, done: true, response: { '@type': T('Job'), ...v2Job(job, names(s)) } }, 'GoogleLongrunningOperation');
      return reply(newOp(s, { verb: current ? 'update' : 'create', kind: 'job', target: jobKey(s, id), id, job: id, generation: Number((job.metadata as Obj).generation) }), 'GoogleLongrunningOperation');
    },
  });
  // Who may run a job: kept, not enforced (google.iam.v1, as every API of Gantry keeps it), one policy per job
  // whichever API version asks (gcloud's `run jobs add-iam-policy-binding` speaks v1's projects.locations.jobs).
  const resolveJob = (name: string) => { const { s, id } = split(name); d.jobs.get(s, id); return jobKey(s, id); };
  for (const [v, iam] of [
    ['v2', policyMethods({ store: d.store, schema: schemaV2, prefix: 'GoogleIamV1', resolve: resolveJob })],
    ['v1', policyMethods({ store: d.store, schema: schemaV1, resolve: resolveJob })],
  ] as const) {
    r('GET', `/${v}/{resource=${P}/jobs/*}:getIamPolicy`, iam.get);
    r('POST', `/${v}/{resource=${P}/jobs/*}:setIamPolicy`, iam.set);
    r('POST', `/${v}/{resource=${P}/jobs/*}:testIamPermissions`, iam.test);
  }
  r('DELETE', `/v2/{name=${P}/jobs/*}`, {
    query: ['etag', 'validateOnly'],
    handler: req => {
      const { s, id } = split(req.params.name);
      const job = d.jobs.get(s, id);
      checkEtag(queryString(req, 'etag'), job, 'job');
      const snapshot = { ...v2Job(job, names(s)), deleteTime: d.clock.timestamp() };
      if (validateOnly(req)) return reply({ name: `projects/${s.asNamed}/locations/${s.region}/operations/validate-only`, done: true, response: { '@type': T('Job'), ...snapshot } }, 'GoogleLongrunningOperation');
      d.jobs.delete(s, id, false);
      return reply(newOp(s, { verb: 'delete', kind: 'job', target: jobKey(s, id), id, job: id, snapshot }), 'GoogleLongrunningOperation');
    },
  });
  r('POST', `/v2/{name=${P}/jobs/*}:run`, {
    handler: req => {
      const { s, id } = split(req.params.name);
      const body = schemaV2.decode('GoogleCloudRunV2RunJobRequest', req.body ?? {}, '');
      const overrides = v1Overrides(body.overrides as Obj | undefined) as Overrides;
      checkEtag(body.etag, d.jobs.get(s, id), 'job');
      if (body.validateOnly) return reply({ name: `projects/${s.asNamed}/locations/${s.region}/operations/validate-only`, done: true }, 'GoogleLongrunningOperation');
      const { execution } = d.jobs.run(s, id, overrides);
      const exId = String((execution.metadata as Obj).name);
      return reply(newOp(s, { verb: 'run', kind: 'execution', target: executionKey(s, exId), id: exId, job: id }), 'GoogleLongrunningOperation');
    },
  });

  r('GET', `/v2/{parent=${P}/jobs/*}/executions`, {
    query: ['pageSize', 'pageToken', 'showDeleted'],
    handler: req => {
      const s = scopeOf(req.params.parent, true);
      const id = req.params.parent.split('/')[5];
      queryBool(req, 'showDeleted');
      if (s.region === '-' && id !== '-') throw errors.invalidArgument('A job can be named only in a location; list every job\'s executions with jobs/- under locations/-.', 'parent');
      if (id !== '-') d.jobs.get(s, id);
      const scope: StoreScope = id !== '-' ? { parent: jobKey(s, id) } : under(s, 'jobs');
      return reply(page(d, req, EXECUTION, scope, 'executions', o => v2Execution(o, namesOf(s)(o))), 'GoogleCloudRunV2ListExecutionsResponse');
    },
  });
  const execution = (name: string) => {
    const [, , , , , job, , ex] = name.split('/');
    const s = scopeOf(name);
    const found = d.jobs.execution(s, ex);
    if (String(((found.execution.metadata as Obj).labels as Obj)[L.job]) !== job) throw runNotFound('execution', ex, s);
    return { s, ex, ...found };
  };
  r('GET', `/v2/{name=${P}/jobs/*/executions/*}`, { handler: req => { const e = execution(req.params.name); return reply(v2Execution(e.execution, names(e.s)), 'GoogleCloudRunV2Execution'); } });
  r('DELETE', `/v2/{name=${P}/jobs/*/executions/*}`, {
    query: ['etag', 'validateOnly'],
    handler: req => {
      const e = execution(req.params.name);
      checkEtag(queryString(req, 'etag'), e.execution, 'execution');
      const snapshot: Obj = { ...v2Execution(e.execution, names(e.s)), deleteTime: d.clock.timestamp() };
      if (!validateOnly(req)) d.jobs.deleteExecution(e.s, e.ex);
      return reply(newOp(e.s, { verb: 'delete', kind: 'execution', target: e.key, id: e.ex, job: String(snapshot.job), snapshot }), 'GoogleLongrunningOperation');
    },
  });
  r('POST', `/v2/{name=${P}/jobs/*/executions/*}:cancel`, {
    handler: req => {
      const e = execution(req.params.name);
      const body = schemaV2.decode('GoogleCloudRunV2CancelExecutionRequest', req.body ?? {}, '');
      checkEtag(body.etag, e.execution, 'execution');
      if (!body.validateOnly) d.jobs.cancel(e.s, e.ex);
      return reply(newOp(e.s, { verb: 'cancel', kind: 'execution', target: e.key, id: e.ex, job: String(((e.execution.metadata as Obj).labels as Obj)[L.job]) }), 'GoogleLongrunningOperation');
    },
  });

  r('GET', `/v2/{parent=${P}/jobs/*/executions/*}/tasks`, {
    query: ['pageSize', 'pageToken', 'showDeleted'],
    handler: req => {
      const [, , , , , job, , ex] = req.params.parent.split('/');
      const s = scopeOf(req.params.parent, true);
      queryBool(req, 'showDeleted');
      let scope: StoreScope;
      let match: ((o: Obj) => boolean) | undefined;
      // Each task's execution annotations (its secret aliases), read once per execution of the page.
      const annotations = new Map<string, unknown>();
      const annotationsOf = (o: Obj) => {
        const key = executionKey({ project: s.project, region: namesOf(s)(o).region }, String(((o.metadata as Obj).labels as Obj)[L.execution]));
        if (!annotations.has(key)) annotations.set(key, (d.store.getParsed<Obj>(key)?.metadata as Obj | undefined)?.annotations);
        return annotations.get(key);
      };
      if (ex !== '-') {
        if (s.region === '-') throw errors.invalidArgument('An execution can be named only in a location; list every execution\'s tasks with executions/- under locations/-.', 'parent');
        const e = execution(req.params.parent);
        scope = { parent: e.key };
      } else {
        scope = under(s, 'executions');
        if (job !== '-') match = o => ((o.metadata as Obj).labels as Obj)[L.job] === job;
      }
      return reply(page(d, req, TASK, scope, 'tasks', o => v2Task(o, namesOf(s)(o), annotationsOf(o)), match, 'asc'), 'GoogleCloudRunV2ListTasksResponse');
    },
  });
  r('GET', `/v2/{name=${P}/jobs/*/executions/*/tasks/*}`, {
    handler: req => {
      const e = execution(req.params.name);
      const id = req.params.name.split('/').pop()!;
      const task = d.store.getParsed<Obj>(taskKey(e.s, id));
      if (!task || ((task.metadata as Obj).labels as Obj)[L.execution] !== e.ex) throw runNotFound('task', id, e.s);
      return reply(v2Task(task, names(e.s), (e.execution.metadata as Obj).annotations), 'GoogleCloudRunV2Task');
    },
  });

  const findOp = (name: string): { op: StoredOp; s: Scope } => {
    const s = scopeOf(name);
    const op = d.store.getParsed<StoredOp>(`${regionKey(s)}/operations/${name.split('/').pop()}`);
    if (!op) throw errors.notFound('run.googleapis.com/Operation', name, `Operation '${name}' was not found.`);
    return { op, s };
  };
  r('GET', `/v2/{name=${P}/operations/*}`, { handler: req => { const { op, s } = findOp(req.params.name); return reply(opView(d, op, s), 'GoogleLongrunningOperation'); } });
  r('DELETE', `/v2/{name=${P}/operations/*}`, {
    handler: req => {
      const { s } = findOp(req.params.name);
      d.store.tx(w => w.delete(`${regionKey(s)}/operations/${req.params.name.split('/').pop()}`));
      return { body: {} };
    },
  });
  r('GET', `/v2/{name=${P}}/operations`, {
    query: ['filter', 'pageSize', 'pageToken', 'returnPartialSuccess'],
    handler: req => {
      const s = scopeOf(req.params.name);
      if (queryString(req, 'filter')) throw errors.invalidArgument('Filtering operations is not supported.', 'filter');
      const res = page(d, req, OP, { parent: regionKey(s) }, 'operations', o => opView(d, o as unknown as StoredOp, s));
      return reply(res, 'GoogleLongrunningListOperationsResponse');
    },
  });
  r('POST', `/v2/{name=${P}/operations/*}:wait`, {
    readsOnly: true,
    handler: async req => {
      const body = schemaV2.decode('GoogleLongrunningWaitOperationRequest', req.body ?? {}, '');
      const timeoutMs = body.timeout === undefined ? 60_000 : parseDurationMs(String(body.timeout));
      if (timeoutMs === undefined || timeoutMs < 0) throw errors.invalidArgument(`Invalid timeout '${String(body.timeout).slice(0, 40)}'.`, 'timeout');
      const { op, s } = findOp(req.params.name);
      // Each change of a running execution (every task's start and end) asks only whether it is done; the view is made
      // once, for the answer.
      await waitForResource(d.store, op.target, () => opView(d, op, s, true), v => v.done === true, timeoutMs, req.signal);
      return reply(opView(d, op, s), 'GoogleLongrunningOperation');
    },
  });

  function split(name: string): { s: Scope; id: string } {
    return { s: scopeOf(name), id: name.split('/')[5] };
  }
}

/**
 * An operation as it stands now: done once its resource settled (or at once for deletes and cancels). `doneOnly`: an
 * unfinished run's operation is answered without its metadata (a waiter's check).
 */
function opView(d: { store: Store }, op: StoredOp, s: Scope, doneOnly = false): Obj {
  const n = { project: s.asNamed, region: s.region };
  const out: Obj = { name: op.name };
  if (op.snapshot) {
    const type = T({ job: 'Job', execution: 'Execution', service: 'Service', revision: 'Revision' }[op.kind]);
    return { ...out, metadata: { '@type': type, ...op.snapshot }, done: true, response: { '@type': type, ...op.snapshot } };
  }
  const stored = d.store.getParsed<Obj>(op.target);
  if (!stored) return { ...out, done: true, error: { code: 5, message: `The ${op.kind} '${op.id}' was deleted before the operation finished.` } };
  if (op.kind === 'service') {
    const view = v2Service(stored, n);
    out.metadata = { '@type': T('Service'), ...view };
    const status = (stored.status ?? {}) as Obj;
    const ready = conditionOf((status.conditions ?? []) as Condition[], 'Ready');
    if (!ready || ready.status === 'Unknown' || Number(status.observedGeneration) < Number(op.generation ?? 1)) return { ...out, done: false };
    // A revision that cannot become ready fails the operation with Cloud Run's message (the service stays).
    if (ready.status === 'False') return { ...out, done: true, error: { code: 9, message: ready.message ?? 'The service could not be made ready.' } };
    return { ...out, done: true, response: { '@type': T('Service'), ...view } };
  }
  if (op.kind === 'job') {
    const view = v2Job(stored, n);
    out.metadata = { '@type': T('Job'), ...view };
    const status = (stored.status ?? {}) as Obj;
    const ready = conditionOf((status.conditions ?? []) as Condition[], 'Ready');
    const settled = ready && ready.status !== 'Unknown' && Number(status.observedGeneration) >= Number(op.generation ?? 1);
    if (!settled) return { ...out, done: false };
    if (ready.status === 'False') return { ...out, done: true, error: { code: 13, message: ready.message ?? 'The job could not be made ready.' } };
    return { ...out, done: true, response: { '@type': T('Job'), ...view } };
  }
  if (doneOnly && op.verb !== 'cancel' && !isTerminal(stored)) return { ...out, done: false };
  const view = v2Execution(stored, n);
  out.metadata = { '@type': T('Execution'), ...view };
  if (op.verb === 'cancel') return { ...out, done: true, response: { '@type': T('Execution'), ...view } };
  if (!isTerminal(stored)) return { ...out, done: false };
  const completed = conditionOf(((stored.status as Obj).conditions ?? []) as Condition[], 'Completed')!;
  // A user's cancel ends a run's operation without an error (as observed on Google); task failures carry one.
  if (completed.status === 'False' && completed.reason !== 'Cancelled') {
    const timedOut = /timeout was reached/.test(completed.message ?? '');
    return { ...out, done: true, error: { code: timedOut ? 4 : 10, message: completed.message ?? 'The execution failed.' } };
  }
  return { ...out, done: true, response: { '@type': T('Execution'), ...view } };
}

/** An AIP-158 page of stored resources in their v2 shape: newest first, tasks by index. */
export function page(d: { store: Store }, req: ApiRequest, kind: string, scope: StoreScope, field: string, view: (o: Obj) => Obj, match?: (o: Obj) => boolean, order: 'asc' | 'desc' = 'desc'): Obj {
  const hash = queryHash(kind, JSON.stringify(scope), field);
  const res = d.store.list({
    kind, scope, order: [{ path: ['createTime'], desc: order === 'desc' }], predicate: match,
    after: decodePageToken(queryString(req, 'pageToken'), hash), limit: pageSize(queryInt(req, 'pageSize'), 100, 1000), maxBytes: PAGE_MAX_BYTES,
  });
  const body: Obj = {};
  if (res.rows.length) body[field] = res.rows.map(view);
  if (res.more && res.last) body.nextPageToken = encodePageToken(hash, res.last);
  return body;
}
