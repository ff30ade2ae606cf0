// What App Hosting asks of Cloud Run: a backend serves through its managed Cloud Run service (the backend's
// `managedResources.runService`), each build deployed as a revision of it and the backend's traffic that service's
// traffic. Cloud Run implements it (src/apis/run/managed-services.ts); App Hosting only holds this interface.
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { TaskSpec } from '../../executors/executor.js';

/** What an instance runs: made by Cloud Run from the revision's container, then App Hosting's say (its artifact). */
export type BuildInstance = Omit<TaskSpec, 'timeoutMs'>;

export interface BuildRevision {
  /** The backend's Cloud Run service: `projects/{project}/locations/{region}/services/{backend}`. */
  service: string;
  /** The build's store name; Cloud Run asks App Hosting what it runs (its artifact) through a revision source. */
  build: string;
  /** The revision's id, `{backend}-{build id}` (Cloud Run's own name when that is too long). */
  revision?: string;
  /** The image the revision names (the build's `image`). */
  image: string;
  /** The executor the revision runs with (the build's). */
  executor: string;
}

export type BuildRevisionResult = { ok: true; revision: string } | { ok: false; revision?: string; message: string };

export interface BuildRun {
  /**
   * How a build's revision runs: given the build and the spec Cloud Run made from the revision's container, the spec
   * to run (its artifact and start command), or undefined when the build is not one to run that way.
   */
  runs(source: (build: string, service: string, spec: BuildInstance) => BuildInstance | undefined): void;
  /**
   * Makes the build's revision (the service, on first use) without moving traffic to it, and resolves once the
   * revision is ready or has failed with Cloud Run's reason.
   */
  deploy(req: BuildRevision): Promise<BuildRevisionResult>;
  /** Sets the service's traffic to these revisions (percents summing to 100). */
  route(service: string, splits: { revision: string; percent: number }[]): void;
  /** The service's traffic as it is now, by revision (empty when the service does not exist). */
  routed(service: string): { revision: string; percent: number }[];
  /** Resolves once the revision answers (starting it if it is scaled to zero); rejects when it cannot start. */
  warm(service: string, revision: string): Promise<void>;
  /** Deletes a revision, unless it still serves (Cloud Run's rule); answers whether it did. */
  removeRevision(service: string, revision: string): boolean;
  /** Deletes the service and its revisions. */
  remove(service: string): void;
  /** Serves a request to the backend's host name by the service's traffic. */
  serve(service: string, host: string, req: IncomingMessage, res: ServerResponse): void;
}
