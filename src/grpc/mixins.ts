// The mixin services (Operations, Locations, IAMPolicy). On Google each API serves them on its own host, with REST
// bindings from its service configuration (not in the protos, whose own bindings are generic). Here every API shares
// one port, so a mixin call goes to the REST version of the API the client named in its host
// (`run.localhost:PORT`), and otherwise tries each version in turn while the answer is NOT_FOUND: operation and
// resource names are unique across APIs, so at most one version knows a given one.
import { parseTemplate, type HttpBinding } from './http-rule.js';

type Rule = [HttpBinding['method'], string, string?];

/** Bindings by method, `{v}` standing for the REST version. */
const RULES: Record<string, Record<string, Rule>> = {
  'google.longrunning.Operations': {
    GetOperation: ['GET', '/{v}/{name=projects/*/locations/*/operations/*}'],
    ListOperations: ['GET', '/{v}/{name=projects/*/locations/*}/operations'],
    DeleteOperation: ['DELETE', '/{v}/{name=projects/*/locations/*/operations/*}'],
    CancelOperation: ['POST', '/{v}/{name=projects/*/locations/*/operations/*}:cancel', '*'],
    WaitOperation: ['POST', '/{v}/{name=projects/*/locations/*/operations/*}:wait', '*'],
  },
  'google.cloud.location.Locations': {
    ListLocations: ['GET', '/{v}/{name=projects/*}/locations'],
    GetLocation: ['GET', '/{v}/{name=projects/*/locations/*}'],
  },
  'google.iam.v1.IAMPolicy': {
    GetIamPolicy: ['GET', '/{v}/{resource=**}:getIamPolicy'],
    SetIamPolicy: ['POST', '/{v}/{resource=**}:setIamPolicy', '*'],
    TestIamPermissions: ['POST', '/{v}/{resource=**}:testIamPermissions', '*'],
  },
};

/** REST versions by the first label of a host name that names an API. */
const API_VERSIONS: Record<string, string> = {
  clouddeploy: 'v1', secretmanager: 'v1', developerconnect: 'v1', run: 'v2', logging: 'v2',
};
const VERSIONS = ['v1', 'v2'];

export function isMixin(service: string): boolean { return service in RULES; }

/** The bindings a mixin method is tried with, one per version, the version the host names first. */
export function mixinBindings(service: string, method: string, host: string | undefined): HttpBinding[] {
  const named = API_VERSIONS[(host ?? '').split('.')[0].toLowerCase()] ?? '';
  const key = `${service}/${method}/${named}`;
  let out = memo.get(key);
  if (!out) {
    const rule = RULES[service]?.[method];
    const versions = named ? [named, ...VERSIONS.filter(v => v !== named)] : VERSIONS;
    out = rule ? versions.map(v => ({ method: rule[0], template: parseTemplate(rule[1].replace('{v}', v)), body: rule[2] })) : [];
    memo.set(key, out); // bounded: services × methods × API_VERSIONS
  }
  return out;
}
const memo = new Map<string, HttpBinding[]>();
