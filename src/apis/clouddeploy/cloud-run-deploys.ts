// What Cloud Deploy asks of Cloud Run when a rollout deploys to a Cloud Run target: apply the phase's rendered
// manifest (a Knative Service or a Cloud Run Job) in the target's project and region, and say what was deployed.
// Cloud Run implements it (src/apis/run/deploy-apply.ts); Cloud Deploy only holds this interface.

export interface CloudRunApply {
  /** Where the target deploys: `run.location` is `projects/{project}/locations/{region}`. */
  project: string;
  region: string;
  /** The rendered manifest of the phase (YAML). */
  manifest: string;
  /** The revision that served before this rollout, once a canary phase of it recorded one (`traffic: [{tag: prior}]`). */
  previousRevision?: string;
}

/** What was deployed: Cloud Deploy's `CloudRunMetadata` (service, serviceUrls, revision, previousRevision, job). */
export type CloudRunApplied =
  | { ok: true; cloudRun: Record<string, unknown> }
  | { ok: false; cause: string; message: string };

export interface CloudRunDeployer {
  /** Applies the manifest; resolves once the new revision is ready or has failed (a job: once it is stored). */
  apply(req: CloudRunApply): Promise<CloudRunApplied>;
}
