// google.iam.v1 policy methods: stored and returned, not enforced (Gantry is a local emulator).
import { errors } from './errors.js';
import { hex } from './ids.js';
import type { ApiContext } from './context.js';
import type { MethodSpec } from '../server/api.js';
import { checkLocation } from './locations.js';
import { notFound } from './standard-methods.js';
import type { ApiSchema } from './schema.js';
import type { Store } from '../store/store.js';

/**
 * Whether a policy etag a client sent back is the current one. An etag is bytes: clients send it in either base64
 * alphabet (gcloud's apitools uses the URL-safe one), so the bytes are compared, not the text.
 */
export function sameEtag(given: unknown, current: unknown): boolean {
  return Buffer.from(String(given), 'base64').equals(Buffer.from(String(current), 'base64'));
}

/** What the policy methods need of an API: its store and schema, and how a request's name finds the resource. */
export interface IamTarget {
  store: Store;
  /** The API's schema, when it has the IAM messages; without one (Resource Manager) a body need only be an object. */
  schema?: ApiSchema;
  /** The stored name of the resource `name` addresses; throws NOT_FOUND (or the API's own error) when there is none. */
  resolve(name: string): string;
  /** The schema's names of google.iam.v1's messages, when it prefixes them (Cloud Run v2's `GoogleIamV1…`). */
  prefix?: string;
}

/** Policy methods of resources named by location-scoped names of the given kinds (Cloud Deploy's). */
export function iamMethods(ctx: ApiContext, kinds: string[]) {
  return policyMethods({
    store: ctx.store,
    schema: ctx.schema,
    resolve: name => {
      checkLocation(ctx, name);
      const row = ctx.store.get(name);
      if (!row || !kinds.includes(row.kind)) throw notFound(ctx, kindOfName(name), name);
      return name;
    },
  });
}

/** getIamPolicy, setIamPolicy and testIamPermissions over a resource `resolve` finds; the policy is kept by its stored name. */
export function policyMethods(t: IamTarget) {
  // A policy belongs to one incarnation of its resource (its creation time): a resource deleted and made again under
  // the same name starts with the default policy, as Google drops a policy with its resource.
  const incarnation = (name: string) => t.store.get(name)?.createTime ?? '';
  const policyOf = (name: string): Record<string, unknown> => {
    const stored = t.store.getMeta('iam:' + name);
    const { gantryOf, ...policy } = stored ? JSON.parse(stored) as Record<string, unknown> : { gantryOf: undefined };
    return stored && (gantryOf === undefined || gantryOf === incarnation(name)) ? policy : { version: 1, etag: 'ACAB' };
  };
  const decode = (message: string, body: unknown): Record<string, unknown> => {
    return t.schema ? t.schema.decode(`${t.prefix ?? ''}${message}`, body ?? {}) : objectBody(body);
  };
  const answer = (body: Record<string, unknown>) => (t.schema ? { body, message: `${t.prefix ?? ''}Policy`, schema: t.schema } : { body });
  return {
    get: {
      query: ['options.requestedPolicyVersion'],
      readsOnly: true,
      handler: req => {
        const name = t.resolve(req.params.resource);
        // Resource Manager's form is a POST whose body holds `options`; it must at least be an object.
        if (req.method === 'POST') objectBody(req.body);
        return answer(policyOf(name));
      },
    } satisfies MethodSpec,
    set: {
      handler: req => {
        const name = t.resolve(req.params.resource);
        const policy = decode('SetIamPolicyRequest', req.body).policy as Record<string, unknown> | undefined;
        // `policy` is REQUIRED in google.iam.v1.SetIamPolicyRequest.
        if (!policy || typeof policy !== 'object' || Array.isArray(policy)) throw errors.invalidArgument('policy is required', 'policy');
        const current = policyOf(name);
        // IAM's own words for a stale read-modify-write.
        if (policy.etag !== undefined && !sameEtag(policy.etag, current.etag)) throw errors.aborted('There were concurrent policy changes. Please retry the whole read-modify-write with exponential backoff.', 'ETAG_MISMATCH');
        const stored = { version: policy.version ?? 1, ...policy, etag: Buffer.from(hex(12), 'hex').toString('base64') };
        t.store.tx(w => w.setMeta('iam:' + name, JSON.stringify({ ...stored, gantryOf: incarnation(name) })));
        return answer(stored);
      },
    } satisfies MethodSpec,
    test: {
      readsOnly: true,
      handler: req => {
        t.resolve(req.params.resource);
        const body = decode('TestIamPermissionsRequest', req.body);
        const permissions = (body.permissions as string[] | undefined) ?? [];
        return { body: permissions.length ? { permissions } : {} };
      },
    } satisfies MethodSpec,
  };
}

function objectBody(body: unknown): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (typeof body !== 'object' || Array.isArray(body)) throw errors.invalidArgument('Invalid JSON payload received. The request body must be a JSON object.', '');
  return body as Record<string, unknown>;
}

/** The kind a resource name is of, from its collection: `…/deliveryPipelines/p` → `DeliveryPipeline`. */
function kindOfName(name: string): string {
  const parts = name.split('/');
  const collection = parts[parts.length - 2] ?? '';
  return collection.endsWith('ies') ? collection.slice(0, -3) + 'y' : collection.replace(/s$/, '');
}
