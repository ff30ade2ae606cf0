// What runs for a Cloud Run container, job task or service revision alike: its image, command, args and working
// directory, its env with secret values read, and its secret volumes written as files under the unit's own directory.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { TaskSpec } from '../../executors/executor.js';
import { ApiError } from '../../google/errors.js';
import type { SecretAccessor } from '../secretmanager/index.js';
import { resolveSecret } from './secret-aliases.js';
import type { Obj } from './meta.js';

/** Whose secrets a container reads: its project, and gcloud's aliases of long-form secret names. */
export interface SecretScope { project: string; projectNumber: string; secretAliases?: Map<string, string> }

/**
 * The executor's spec for the first container of a v1 pod spec (`containers`, `volumes`): `env` set last over the
 * container's own (Cloud Run's reserved variables), `dir` holding secret volumes. Throws an ApiError naming a secret
 * that cannot be read, before anything runs (Cloud Run fails the task or revision the same way).
 */
export function containerSpec(pod: Obj, scope: SecretScope, secrets: SecretAccessor, dir: string, env: Record<string, string>, labels: Record<string, string>): TaskSpec {
  const c = ((pod.containers ?? []) as Obj[])[0] ?? {};
  const all: Record<string, string> = {};
  const secret = (ref: string, version: string) => readSecret(scope, secrets, ref, version);
  for (const e of (c.env ?? []) as Obj[]) {
    const ref = ((e.valueFrom ?? {}) as Obj).secretKeyRef as Obj | undefined;
    all[String(e.name)] = ref ? secret(String(ref.name ?? ((ref.localObjectReference ?? {}) as Obj).name), String(ref.key)).toString('utf8') : String(e.value ?? '');
  }
  Object.assign(all, env);
  const mounts: NonNullable<TaskSpec['mounts']> = [];
  const volumes = new Map(((pod.volumes ?? []) as Obj[]).map(v => [String(v.name), v]));
  for (const m of (c.volumeMounts ?? []) as Obj[]) {
    const vol = volumes.get(String(m.name));
    const host = join(dir, String(m.name));
    if (vol?.secret) {
      const s = vol.secret as Obj;
      const items = (s.items ?? [{ key: 'latest', path: String(s.secretName) }]) as Obj[];
      mkdirSync(host, { recursive: true });
      for (const it of items) {
        const path = String(it.path ?? it.key);
        if (path.includes('..') || path.startsWith('/')) continue;
        mkdirSync(join(host, path, '..'), { recursive: true });
        writeFileSync(join(host, path), secret(String(s.secretName), String(it.key ?? 'latest')), { mode: Number(it.mode ?? s.defaultMode ?? 0o444) & 0o777 });
      }
    } else {
      mkdirSync(host, { recursive: true });
    }
    mounts.push({ hostPath: host, path: String(m.mountPath), readOnly: !!vol?.secret });
  }
  return {
    image: String(c.image ?? ''), command: (c.command ?? []) as string[], args: (c.args ?? []) as string[], env: all,
    workingDir: c.workingDir as string | undefined, timeoutMs: 0,
    ...(mounts.length ? { mounts } : {}),
    labels,
  };
}

function readSecret(scope: SecretScope, secrets: SecretAccessor, ref: string, version: string): Buffer {
  const secret = resolveSecret(ref, scope.secretAliases);
  try {
    return secrets.access(scope.project, secret, version);
  } catch (e) {
    if (e instanceof ApiError) {
      const name = secret.startsWith('projects/') ? secret : `projects/${scope.projectNumber}/secrets/${secret}`;
      throw new ApiError(e.code, `Secret ${name}/versions/${version} was not found or could not be accessed: ${e.message}`);
    }
    throw e;
  }
}
