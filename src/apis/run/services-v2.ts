// Cloud Run Admin API v2 for services and revisions: the same stored resources as v1 (and gcloud) in the v2 shape,
// with long-running operations (the jobs' shared ones) that finish once the service settles. gRPC's
// google.cloud.run.v2.Services and Revisions reach these routes through the transcoding front.
import { policyMethods } from '../../google/iam.js';
import type { App } from '../../server/app.js';
import { queryBool, queryString, type ApiRequest, type MethodSpec } from '../../server/api.js';
import type { Projects } from '../../google/projects.js';
import type { Locations } from '../../google/locations.js';
import type { Clock } from '../../engine/clock.js';
import type { Store, Scope as StoreScope } from '../../store/store.js';
import { ApiError, errors } from '../../google/errors.js';
import { PROTO_PACKAGE, schemaV1, schemaV2 } from './service.js';
import { regionKey } from './names.js';
import type { Obj } from './meta.js';
import type { Scope } from './jobs.js';
import { createOperation, page, v2Scope } from './v2.js';
import { K, REVISION_KIND, SERVICE_KIND, serviceKey } from './revisions.js';
import { serviceNotFound, type RunServices } from './services.js';
import { v1ServiceFromV2, v2Revision, v2Service } from './services-v2-convert.js';

export interface ServicesV2Deps { store: Store; clock: Clock; projects: Projects; services: RunServices; locations: Locations }

const T = (m: string) => `type.googleapis.com/${PROTO_PACKAGE}.${m}`;
const P = 'projects/*/locations/*';

/** `a.b_c` → `a.bC`: update masks arrive in either case. */
const camel = (path: string) => path.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());

function getPath(o: Obj, path: string[]): unknown {
  let cur: unknown = o;
  // Own fields only: a mask naming `constructor` or `toString` must not reach Object's.
  for (const p of path) cur = cur && typeof cur === 'object' && Object.hasOwn(cur, p) ? (cur as Obj)[p] : undefined;
  return cur;
}

function setPath(o: Obj, path: string[], value: unknown): void {
  let cur = o;
  for (const p of path.slice(0, -1)) cur = (Object.hasOwn(cur, p) && cur[p] && typeof cur[p] === 'object' ? cur[p] : (cur[p] = {})) as Obj;
  const last = path[path.length - 1];
  if (value === undefined) delete cur[last]; else cur[last] = value;
}

export function registerServicesV2(app: App, d: ServicesV2Deps): void {
  const names = (s: Scope) => ({ project: s.asNamed, region: s.region });
  const namesOf = (s: Scope) => (o: Obj) => ({ project: s.asNamed, region: s.region === '-' ? String(((o.metadata as Obj).labels as Obj)['cloud.googleapis.com/location']) : s.region });
  const reply = (body: Obj, message: string) => ({ body, message, schema: schemaV2 });
  const validateOnly = (req: ApiRequest) => queryBool(req, 'validateOnly') || (req.body as Obj | undefined)?.validateOnly === true;
  const validated = (s: Scope, kind: string, view: Obj) => reply({ name: `projects/${s.asNamed}/locations/${s.region}/operations/validate-only`, done: true, response: { '@type': T(kind), ...view } }, 'GoogleLongrunningOperation');
  const split = (name: string) => ({ s: v2Scope(d, name), id: name.split('/')[5] });
  const checkEtag = (given: unknown, current: Obj) => {
    if (given === undefined || given === '') return;
    const now = v2Service(current, { project: '', region: '' }).etag;
    if (given !== now) throw new ApiError('ABORTED', `The etag ${String(given).slice(0, 40)} does not match the current etag ${String(now)}; read the resource again and retry.`);
  };
  const op = (s: Scope, verb: 'create' | 'update', svc: Obj) => reply(createOperation(d, s, {
    verb, kind: 'service', target: serviceKey(s, String((svc.metadata as Obj).name)), id: String((svc.metadata as Obj).name), job: '', generation: Number((svc.metadata as Obj).generation),
  }), 'GoogleLongrunningOperation');
  const r = (method: string, path: string, spec: MethodSpec) => app.route(method, path, spec);

  r('POST', `/v2/{parent=${P}}/services`, {
    query: ['serviceId', 'validateOnly'],
    handler: req => {
      const s = v2Scope(d, req.params.parent);
      const body = schemaV2.decode('GoogleCloudRunV2Service', req.body ?? {}, 'service');
      const id = queryString(req, 'serviceId') ?? '';
      if (!id) throw errors.invalidArgument('service_id is required.', 'service_id');
      const svc = d.services.create(s, v1ServiceFromV2(body, id), validateOnly(req));
      return validateOnly(req) ? validated(s, 'Service', v2Service(svc, names(s))) : op(s, 'create', svc);
    },
  });
  r('GET', `/v2/{parent=${P}}/services`, {
    query: ['pageSize', 'pageToken', 'showDeleted'],
    handler: req => {
      const s = v2Scope(d, req.params.parent, true);
      queryBool(req, 'showDeleted');
      const scope: StoreScope = s.region === '-' ? { grandparent: `projects/${s.project}` } : { parent: regionKey(s) };
      return reply(page(d, req, SERVICE_KIND, scope, 'services', o => v2Service(o, namesOf(s)(o))), 'GoogleCloudRunV2ListServicesResponse');
    },
  });
  r('GET', `/v2/{name=${P}/services/*}`, { handler: req => { const { s, id } = split(req.params.name); return reply(v2Service(d.services.get(s, id), names(s)), 'GoogleCloudRunV2Service'); } });
  r('PATCH', `/v2/{service.name=${P}/services/*}`, {
    query: ['validateOnly', 'allowMissing', 'updateMask'],
    handler: req => {
      const { s, id } = split(req.params['service.name']);
      const body = schemaV2.decode('GoogleCloudRunV2Service', req.body ?? {}, 'service');
      const exists = !!d.store.get(serviceKey(s, id));
      if (!exists && !queryBool(req, 'allowMissing')) throw serviceNotFound('SERVICE', id, s);
      const current = exists ? d.services.get(s, id) : undefined;
      // etag is output-only in the schema (decoding drops it): the request's own is what a client sends back.
      if (current) checkEtag((req.body as Obj | undefined)?.etag, current);
      const mask = (queryString(req, 'updateMask') ?? '').split(',').map(x => x.trim()).filter(Boolean).map(camel);
      let input: Obj;
      if (current && mask.length && !mask.includes('*')) {
        // Only the masked fields change: the rest (the stored template above all, so no revision is made by a
        // traffic-only update) stays exactly as stored.
        const merged = v2Service(current, names(s));
        for (const path of mask) {
          if (!/^[a-zA-Z][a-zA-Z0-9]*(\.[a-zA-Z][a-zA-Z0-9]*)*$/.test(path)) throw errors.invalidArgument(`Invalid update_mask path '${path.slice(0, 100)}'.`, 'update_mask');
          setPath(merged, path.split('.'), structuredClone(getPath(body, path.split('.'))));
        }
        input = v1ServiceFromV2(merged, id);
        const cm = current.metadata as Obj;
        if (!mask.some(p => p === 'template' || p.startsWith('template.'))) (input.spec as Obj).template = structuredClone((current.spec as Obj).template);
        if (!mask.some(p => p === 'labels')) (input.metadata as Obj).labels = cm.labels;
        if (!mask.some(p => p === 'annotations' || ['description', 'ingress', 'launchStage', 'client', 'clientVersion'].includes(p))) (input.metadata as Obj).annotations = cm.annotations;
      } else {
        input = v1ServiceFromV2(body, id);
      }
      const svc = current ? d.services.replace(s, id, input, validateOnly(req)) : d.services.create(s, input, validateOnly(req));
      return validateOnly(req) ? validated(s, 'Service', v2Service(svc, names(s))) : op(s, current ? 'update' : 'create', svc);
    },
  });
  r('DELETE', `/v2/{name=${P}/services/*}`, {
    query: ['etag', 'validateOnly'],
    handler: req => {
      const { s, id } = split(req.params.name);
      const svc = d.services.get(s, id);
      checkEtag(queryString(req, 'etag'), svc);
      const snapshot = { ...v2Service(svc, names(s)), deleteTime: d.clock.timestamp() };
      if (validateOnly(req)) return validated(s, 'Service', snapshot);
      d.services.delete(s, id, false);
      return reply(createOperation(d, s, { verb: 'delete', kind: 'service', target: serviceKey(s, id), id, job: '', snapshot }), 'GoogleLongrunningOperation');
    },
  });
  // Who may invoke a service: kept, not enforced, one policy per service whichever version asks (gcloud's
  // `run deploy --allow-unauthenticated` sets it through v1's projects.locations.services).
  const resolve = (name: string) => { const { s, id } = split(name); d.services.get(s, id); return serviceKey(s, id); };
  for (const [v, iam] of [
    ['v2', policyMethods({ store: d.store, schema: schemaV2, prefix: 'GoogleIamV1', resolve })],
    ['v1', policyMethods({ store: d.store, schema: schemaV1, resolve })],
  ] as const) {
    r('GET', `/${v}/{resource=${P}/services/*}:getIamPolicy`, iam.get);
    r('POST', `/${v}/{resource=${P}/services/*}:setIamPolicy`, iam.set);
    r('POST', `/${v}/{resource=${P}/services/*}:testIamPermissions`, iam.test);
  }

  r('GET', `/v2/{parent=${P}/services/*}/revisions`, {
    query: ['pageSize', 'pageToken', 'showDeleted'],
    handler: req => {
      const s = v2Scope(d, req.params.parent, true);
      const id = req.params.parent.split('/')[5];
      queryBool(req, 'showDeleted');
      if (s.region === '-' && id !== '-') throw errors.invalidArgument('A service can be named only in a location; list every service\'s revisions with services/- under locations/-.', 'parent');
      if (id !== '-') d.services.get(s, id);
      const scope: StoreScope = id !== '-' ? { parent: serviceKey(s, id) } : { parentPrefix: s.region === '-' ? `projects/${s.project}/locations/` : `${regionKey(s)}/services/` };
      return reply(page(d, req, REVISION_KIND, scope, 'revisions', o => v2Revision(o, namesOf(s)(o))), 'GoogleCloudRunV2ListRevisionsResponse');
    },
  });
  const revisionOf = (name: string) => {
    const [, , , , , svc, , rev] = name.split('/');
    const s = v2Scope(d, name);
    const found = d.services.revision(s, rev);
    if (((found.metadata as Obj).labels as Obj)[K.service] !== svc) throw serviceNotFound('REVISION', rev, s);
    return { s, rev, found };
  };
  r('GET', `/v2/{name=${P}/services/*/revisions/*}`, { handler: req => { const x = revisionOf(req.params.name); return reply(v2Revision(x.found, names(x.s)), 'GoogleCloudRunV2Revision'); } });
  r('DELETE', `/v2/{name=${P}/services/*/revisions/*}`, {
    query: ['etag', 'validateOnly'],
    handler: req => {
      const x = revisionOf(req.params.name);
      const view = v2Revision(x.found, names(x.s));
      const given = queryString(req, 'etag');
      if (given && given !== view.etag) throw new ApiError('ABORTED', `The etag ${given.slice(0, 40)} does not match the current etag ${String(view.etag)}; read the resource again and retry.`);
      d.services.deleteRevision(x.s, x.rev, validateOnly(req));
      const snapshot = { ...view, deleteTime: d.clock.timestamp() };
      if (validateOnly(req)) return validated(x.s, 'Revision', snapshot);
      return reply(createOperation(d, x.s, { verb: 'delete', kind: 'revision', target: `${regionKey(x.s)}/revisions/${x.rev}`, id: x.rev, job: '', snapshot }), 'GoogleLongrunningOperation');
    },
  });
}
