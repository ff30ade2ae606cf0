// Every REST method of the Google APIs whose paths Gantry answers, served or not (schemas/*.methods.json, generated
// from gcloud's API clients by scripts/gen-methods.py). A request for a method Gantry does not serve is answered
// 501 UNIMPLEMENTED naming the method, instead of a 404 that reads as "no such resource".
import { readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface ApiMethod {
  /** The HTTP verb. */
  httpMethod: string;
  /** The path template: `/v1/projects/*\/locations/*\/deployPolicies`, one `*` per segment, `:verb` for custom verbs. */
  path: string;
  /** The gRPC method (`google.cloud.deploy.v1.CloudDeploy.ListDeployPolicies`) or discovery id (`storage.objects.compose`). */
  method: string;
}

export interface ApiMethods {
  /** The API's host, e.g. `clouddeploy.googleapis.com`. */
  host: string;
  methods: ApiMethod[];
}

const SCHEMAS = fileURLToPath(new URL('../../../schemas/', import.meta.url));

let loaded: ApiMethods[] | undefined;

/** The method tables in `schemas/` (read once per process). */
export function googleApiMethods(): ApiMethods[] {
  loaded ??= readdirSync(SCHEMAS).filter(f => f.endsWith('.methods.json')).sort()
    .map(f => JSON.parse(readFileSync(SCHEMAS + f, 'utf8')) as ApiMethods);
  return loaded;
}
