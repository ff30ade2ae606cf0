// The Cloud Deploy API's identity and schema.
import { fileURLToPath } from 'node:url';
import { ApiSchema } from '../../google/schema.js';

export const SERVICE = 'clouddeploy.googleapis.com';
export const PROTO_PACKAGE = 'google.cloud.deploy.v1';
export const schema = new ApiSchema(fileURLToPath(new URL('../../../../schemas/clouddeploy-v1.json', import.meta.url)), PROTO_PACKAGE);
