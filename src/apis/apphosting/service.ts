// Firebase App Hosting's identity, its two versions and their schemas, and the store kinds of its resources.
// One stored form (v1beta's, the superset) serves both versions: v1 answers are pruned to v1's fields.
import { fileURLToPath } from 'node:url';
import { ApiSchema } from '../../google/schema.js';
import type { Resource } from '../../google/standard-methods.js';

export const SERVICE = 'firebaseapphosting.googleapis.com';
export type Version = 'v1' | 'v1beta';
export const VERSIONS: Version[] = ['v1', 'v1beta'];

const load = (v: Version) => new ApiSchema(fileURLToPath(new URL(`../../../../schemas/firebaseapphosting-${v}.json`, import.meta.url)), `google.firebase.apphosting.${v}`);
export const SCHEMAS: Record<Version, ApiSchema> = { v1: load('v1'), v1beta: load('v1beta') };

export const KIND = {
  backend: 'apphosting.backend',
  build: 'apphosting.build',
  rollout: 'apphosting.rollout',
  traffic: 'apphosting.traffic',
  domain: 'apphosting.domain',
} as const;

export const BUILD_TERMINAL = new Set(['READY', 'FAILED']);
export const ROLLOUT_TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'CANCELLED']);

/** Server bookkeeping kept in a resource's hidden `gantry` field (never shown). */
export interface BuildBook {
  /** The create operation, completed when the build is READY or FAILED. */
  op?: string;
  /** The step under way: fetch, install, build, deploy. */
  step?: string;
  /** Directory of the built app (content-addressed) once BUILT. */
  artifact?: string;
  /** How the app starts: argv, working directory and runtime env. */
  run?: { command: string[]; env: Record<string, string> };
  /** The executor chosen for the build's steps and its serving. */
  executor?: string;
  /** The build's revision of the backend's Cloud Run service, once deployed. */
  revision?: string;
  /** Cloud Build id standing for the build's log (`buildLogsUri`). */
  logId?: string;
  /** Simulated outcome scripts: the rule that decided the build. */
  rule?: string;
  /** When a simulated step ends (virtual or real clock, ms), and how. */
  until?: number;
  outcome?: 'succeed' | 'fail';
  /** What a scripted failure says, when its rule gives a message. */
  message?: string;
}

export interface RolloutBook { op?: string }

/** A backend's public host name, `{backend}--{project}.{region}.hosted.app`: the only name its app is served at. */
export function backendHost(backend: string): string {
  const [, project, , region, , id] = backend.split('/');
  return `${id}--${project}.${region}.hosted.app`;
}

/** A build as the log names it: `build {backend}/{id}`. */
export function buildLabel(name: string): string {
  const p = name.split('/');
  return `build ${p[5]}/${p[7]}`;
}

/** What a client of `version` sees of a stored resource. */
export function viewOf(version: Version, message: string): (r: Resource) => Resource {
  const schema = SCHEMAS[version];
  return r => {
    const { gantry: _, ...shown } = r;
    // A backend's uri is derived from its name, never taken as stored (a snapshot may carry any host).
    if (message === 'Backend' && typeof shown.name === 'string') shown.uri = backendHost(shown.name);
    if (version === 'v1') return schema.prune(message, shown);
    // v1beta keeps the deprecated single error of a build: the first of `errors`.
    if (message === 'Build' && Array.isArray(shown.errors) && shown.errors.length) {
      const first = shown.errors[0] as { error?: unknown; errorSource?: string };
      return { ...shown, error: first.error, ...(first.errorSource ? { errorSource: first.errorSource } : {}) };
    }
    return shown;
  };
}

/** `projects/{p}/locations/{l}/backends/{b}` of any name under a backend. */
export function backendOf(name: string): string {
  return name.split('/').slice(0, 6).join('/');
}
