// The small parts of Google's platform APIs that deploy tooling calls around the APIs Gantry implements, answered
// as a project where everything is allowed: Service Usage (every service ENABLED), Resource Manager v1 projects (the
// made-up project number, a stored project IAM policy), IAM service accounts, and Firebase Management web apps.
// firebase-tools calls all of them before it deploys to App Hosting.
import { policyMethods } from '../../google/iam.js';
import type { App } from '../../server/app.js';
import type { MethodSpec } from '../../server/api.js';
import type { BaseContext } from '../../google/context.js';
import { ApiError, errors } from '../../google/errors.js';
import { hex, newUuid } from '../../google/ids.js';

type Obj = Record<string, unknown>;
const PROJECT_ID = /^[a-z][a-z0-9-]{4,28}[a-z0-9]$|^[0-9]{1,20}$/;
const SA_KIND = 'iam.serviceAccount';
const WEBAPP_KIND = 'firebase.webApp';
const FIREBASE_OP_KIND = 'firebase.operation';

function body(req: { body: unknown }): Obj {
  const b = req.body ?? {};
  if (typeof b !== 'object' || Array.isArray(b) || b === null) throw errors.invalidArgument('Invalid JSON payload received. The request body must be a JSON object.', '');
  return b as Obj;
}

function project(p: string): string {
  if (!PROJECT_ID.test(p)) throw errors.invalidArgument(`Invalid project id "${p.slice(0, 100)}".`, 'project_id');
  return p;
}

export function registerPlatform(app: App, base: BaseContext): void {
  const { store, projects, clock } = base;
  const r = (m: string, t: string, spec: MethodSpec) => app.route(m, t, spec);
  const id = (p: string) => projects.resolve(project(p));

  // Service Usage: every service is enabled (`gcloud services`, firebase-tools' ensureApiEnabled).
  const service = (p: string, name: string) => ({ name: `projects/${projects.number(id(p))}/services/${name}`, parent: `projects/${projects.number(id(p))}`, config: { name }, state: 'ENABLED' });
  r('GET', '/v1/projects/{project}/services/{service}', { handler: req => ({ body: service(req.params.project, req.params.service) }) });
  r('POST', '/v1/projects/{project}/services/{service}:enable', {
    handler: req => ({ body: { name: `operations/noop.DONE_OPERATION`, done: true, response: { '@type': 'type.googleapis.com/google.api.serviceusage.v1.EnableServiceResponse', service: service(req.params.project, req.params.service) } } }),
  });
  // `gcloud services enable A B` (more than one service) batch-enables: at most 20 ids, as Service Usage allows.
  r('POST', '/v1/projects/{project}/services:batchEnable', {
    handler: req => {
      const ids = body(req).serviceIds;
      if (!Array.isArray(ids) || ids.length === 0 || ids.some(s => typeof s !== 'string' || !/^[a-z0-9.-]{1,253}$/.test(s))) {
        throw errors.invalidArgument('serviceIds must list the services to enable, e.g. "clouddeploy.googleapis.com".', 'service_ids');
      }
      if (ids.length > 20) throw errors.invalidArgument(`At most 20 services can be enabled in one request; got ${ids.length}.`, 'service_ids');
      const services = (ids as string[]).map(s => service(req.params.project, s));
      return { body: { name: `operations/noop.DONE_OPERATION`, done: true, response: { '@type': 'type.googleapis.com/google.api.serviceusage.v1.BatchEnableServicesResponse', services } } };
    },
  });

  // Resource Manager v1: the project with Gantry's stable made-up number; its IAM policy kept by the shared IAM methods.
  r('GET', '/v1/projects/{project}', {
    handler: req => {
      const p = id(req.params.project);
      return { body: { projectNumber: projects.number(p), projectId: p, lifecycleState: 'ACTIVE', name: p, createTime: '2020-01-01T00:00:00.000Z', parent: { type: 'organization', id: '0' } } };
    },
  });
  const iam = policyMethods({ store, resolve: name => `projects/${id(name.slice('projects/'.length))}` });
  r('POST', '/v1/{resource=projects/*}:getIamPolicy', iam.get);
  r('POST', '/v1/{resource=projects/*}:setIamPolicy', iam.set);
  r('POST', '/v1/{resource=projects/*}:testIamPermissions', iam.test);
  const testPermissions: MethodSpec = { handler: req => { const perms = body(req).permissions; return { body: Array.isArray(perms) && perms.length ? { permissions: perms } : {} }; } };

  // IAM service accounts: created ones are kept; each project's default App Hosting account is created on request.
  const saName = (p: string, email: string) => `projects/${id(p)}/serviceAccounts/${email}`;
  const getSa = (p: string, email: string): Obj => {
    const sa = store.getParsed<Obj>(saName(p, email));
    if (!sa) throw new ApiError('NOT_FOUND', `Unknown service account: ${email}`);
    return sa;
  };
  r('GET', '/v1/projects/{project}/serviceAccounts/{account}', { handler: req => ({ body: getSa(req.params.project, req.params.account) }) });
  r('POST', '/v1/projects/{project}/serviceAccounts/{account}:testIamPermissions', { handler: req => { getSa(req.params.project, req.params.account); return testPermissions.handler(req); } });
  r('POST', '/v1/projects/{project}/serviceAccounts', {
    handler: req => {
      const b = body(req);
      const accountId = String(b.accountId ?? '');
      if (!/^[a-z](?:[-a-z0-9]{4,28}[a-z0-9])$/.test(accountId)) throw errors.invalidArgument(`Invalid account id "${accountId.slice(0, 100)}": 6 to 30 lowercase letters, digits and hyphens, starting with a letter.`, 'account_id');
      const p = id(req.params.project);
      const email = `${accountId}@${p}.iam.gserviceaccount.com`;
      const name = saName(p, email);
      if (store.get(name)) throw new ApiError('ALREADY_EXISTS', `Service account ${accountId} already exists within project projects/${p}.`);
      const given = (b.serviceAccount ?? {}) as Obj;
      const sa = {
        name, projectId: p, uniqueId: String(BigInt('0x' + hex(15))), email, oauth2ClientId: String(BigInt('0x' + hex(15))), etag: 'MDEwMjE5MjA=',
        ...(given.displayName ? { displayName: String(given.displayName) } : {}), ...(given.description ? { description: String(given.description) } : {}),
      };
      store.tx(w => w.put(SA_KIND, name, `projects/${p}`, sa, clock.timestamp(), false));
      return { body: sa };
    },
  });

  // Firebase Management v1beta1 web apps (an App Hosting backend's appId) and their operations.
  r('GET', '/v1beta1/projects/{project}/webApps', {
    query: ['pageSize', 'pageToken', 'showDeleted'],
    handler: req => {
      const apps = store.children(WEBAPP_KIND, `projects/${id(req.params.project)}`);
      return { body: apps.length ? { apps } : {} };
    },
  });
  r('POST', '/v1beta1/projects/{project}/webApps', {
    handler: req => {
      const b = body(req);
      const p = id(req.params.project);
      const appId = `1:${projects.number(p)}:web:${hex(22)}`;
      const webApp = { name: `projects/${p}/webApps/${appId}`, appId, displayName: String(b.displayName ?? ''), projectId: p, state: 'ACTIVE', apiKeyId: newUuid(), webId: hex(22) };
      const op = { name: `operations/workflows/${Buffer.from(newUuid()).toString('base64url')}`, done: true, response: { '@type': 'type.googleapis.com/google.firebase.service.v1beta1.WebApp', ...webApp } };
      store.tx(w => {
        w.put(WEBAPP_KIND, webApp.name, `projects/${p}`, webApp, clock.timestamp(), false);
        w.put(FIREBASE_OP_KIND, op.name, 'operations', op, clock.timestamp(), false);
      });
      return { body: op };
    },
  });
  r('GET', '/v1beta1/{name=operations/**}', {
    handler: req => {
      const op = store.getParsed<Obj>(req.params.name);
      if (!op || store.get(req.params.name)?.kind !== FIREBASE_OP_KIND) throw errors.notFound('Operation', req.params.name);
      return { body: op };
    },
  });
  r('GET', '/v1beta1/projects/{project}/webApps/{app}/config', {
    handler: req => {
      const p = req.params.project === '-' ? undefined : id(req.params.project);
      const found = p ? store.getParsed<Obj>(`projects/${p}/webApps/${req.params.app}`) : undefined;
      const projectId = String(found?.projectId ?? p ?? req.params.app.split(':')[1] ?? '');
      return { body: { projectId, appId: req.params.app, apiKey: 'gantry-local-api-key', authDomain: `${projectId}.firebaseapp.com`, storageBucket: `${projectId}.firebasestorage.app`, messagingSenderId: projects.number(projectId) } };
    },
  });
}
