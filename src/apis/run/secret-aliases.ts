// Secrets named by their long form (`--set-secrets=X=projects/NUMBER/secrets/S:V`, a secret of any project): Cloud
// Run v1 has no field for them, so gcloud names each by an alias (`S[:5]-UUID`) in `secretKeyRef.name` and
// `secret.secretName`, and maps aliases to secrets in the template's `run.googleapis.com/secrets` annotation
// (`alias:projects/NUMBER/secrets/S,…`; gcloud's command_lib/run/secrets_mapping.py). Reading a secret goes through it.

type Obj = Record<string, unknown>;

export const SECRETS_ANNOTATION = 'run.googleapis.com/secrets';

/** The aliases an annotations map declares (none when absent or malformed). */
export function secretAliases(annotations: unknown): Map<string, string> {
  const out = new Map<string, string>();
  const value = annotations && typeof annotations === 'object' ? (annotations as Obj)[SECRETS_ANNOTATION] : undefined;
  if (typeof value !== 'string') return out;
  for (const pair of value.split(',')) {
    const at = pair.indexOf(':');
    const alias = pair.slice(0, at).trim();
    const secret = pair.slice(at + 1).trim();
    if (at > 0 && /^projects\/[^/]+\/secrets\/[^/]+$/.test(secret)) out.set(alias, secret);
  }
  return out;
}

/** The secret a v1 reference names: the alias's secret, else the name itself (a secret of the job's project). */
export function resolveSecret(name: string, aliases: Map<string, string> | undefined): string {
  return aliases?.get(name) ?? name;
}
