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
  schema: ApiSchema;
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
  return {
    get: { query: ['options.requestedPolicyVersion'], handler: req => ({ body: policyOf(t.resolve(req.params.resource)), message: `${t.prefix ?? ''}Policy`, schema: t.schema }) } satisfies MethodSpec,
    set: {
      handler: req => {
        const name = t.resolve(req.params.resource);
        const body = t.schema.decode(`${t.prefix ?? ''}SetIamPolicyRequest`, req.body ?? {});
        const policy = (body.policy ?? {}) as Record<string, unknown>;
        const current = policyOf(name);
        if (policy.etag !== undefined && !sameEtag(policy.etag, current.etag)) throw errors.aborted('The policy etag does not match the current policy; read it again and retry.', 'ETAG_MISMATCH');
        const stored = { version: policy.version ?? 1, ...policy, etag: Buffer.from(hex(12), 'hex').toString('base64') };
        t.store.tx(w => w.setMeta('iam:' + name, JSON.stringify({ ...stored, gantryOf: incarnation(name) })));
        return { body: stored, message: `${t.prefix ?? ''}Policy`, schema: t.schema };
      },
    } satisfies MethodSpec,
    test: {
      handler: req => {
        t.resolve(req.params.resource);
        const body = t.schema.decode(`${t.prefix ?? ''}TestIamPermissionsRequest`, req.body ?? {});
        const permissions = (body.permissions as string[] | undefined) ?? [];
        return { body: permissions.length ? { permissions } : {} };
      },
    } satisfies MethodSpec,
  };
}

/** The kind a resource name is of, from its collection: `…/deliveryPipelines/p` → `DeliveryPipeline`. */
function kindOfName(name: string): string {
  const parts = name.split('/');
  const collection = parts[parts.length - 2] ?? '';
  return collection.endsWith('ies') ? collection.slice(0, -3) + 'y' : collection.replace(/s$/, '');
}
