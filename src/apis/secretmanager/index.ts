// Secret Manager v1 (subset): what Cloud Run tasks read their secrets from. PLACEHOLDER: being written.
import type { App } from '../../server/app.js';
import type { BaseContext } from '../../google/context.js';

/** Reads a secret version's payload for other APIs (Cloud Run's secretKeyRef env vars and secret volumes). */
export interface SecretAccessor {
  /**
   * The payload of `version` (a number or `latest`) of `secret` (an id in `project`, or a full
   * `projects/{p}/secrets/{s}` name) in `project` (an id or number). Throws the ApiError Secret Manager would answer
   * AccessSecretVersion with: NOT_FOUND for a missing secret or version, FAILED_PRECONDITION for a disabled or
   * destroyed one.
   */
  access(project: string, secret: string, version: string): Buffer;
}

export function registerSecretManager(_app: App, _base: BaseContext): SecretAccessor {
  return { access: () => { throw new Error('Secret Manager is not written yet'); } };
}
