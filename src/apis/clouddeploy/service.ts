// The Cloud Deploy API's identity and schema.
import { fileURLToPath } from 'node:url';
import { ApiSchema } from '../../google/schema.js';

export const SERVICE = 'clouddeploy.googleapis.com';
export const PROTO_PACKAGE = 'google.cloud.deploy.v1';
export const schema = new ApiSchema(fileURLToPath(new URL('../../../../schemas/clouddeploy-v1.json', import.meta.url)), PROTO_PACKAGE);

// Two revisions of `Task` are in official clients: gcloud's (`containersTask`, whose containers run side by side,
// or `config`) and googleapis' and the public docs' (`container`, one ContainerTask). Both are accepted.
schema.messages.ContainerTask ??= {
  image: { type: 'string', required: true }, command: { type: 'string', repeated: true },
  args: { type: 'string', repeated: true }, env: { type: 'map', value: { type: 'string' } },
};
schema.messages.Task.container ??= { type: 'message', message: 'ContainerTask' };
