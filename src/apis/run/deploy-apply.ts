// Cloud Deploy's deploys to Cloud Run targets, applied to Gantry's own Cloud Run: the rendered Knative Service (or
// Cloud Run Job) replaces the stored one as `gcloud run services replace` would (the new revision runs where any
// revision does: the manifest's `gantry.dev/executor`, else Gantry's default), and the deploy ends when that revision
// is ready (it serves its share) or is not (the deploy fails with Cloud Run's reason; traffic stays where it was).
import { yaml } from '../../lazy-deps.js';
import { ApiError } from '../../google/errors.js';
import type { Store } from '../../store/store.js';
import type { CloudRunApplied, CloudRunApply, CloudRunDeployer } from '../clouddeploy/cloud-run-deploys.js';
import type { RunJobs, Scope } from './jobs.js';
import type { RunServices } from './services.js';
import { revisionKey, waitReady } from './revisions.js';
import type { Obj } from './meta.js';

/** Parsed manifests kept (a release's manifest is deployed by each of its rollouts: parsed once, copied per deploy). */
const PARSED_MANIFESTS = 64;

export class RunDeploys implements CloudRunDeployer {
  private parsed = new Map<string, Obj[] | Error>();

  constructor(private d: { store: Store; services: RunServices; jobs: RunJobs }) {}

  /** The Cloud Run resources of a manifest, or why it cannot be read. */
  private resources(manifest: string): Obj[] | Error {
    let out = this.parsed.get(manifest);
    if (out === undefined) {
      try {
        out = (yaml().parseAllDocuments(manifest).map(x => x.toJS() as unknown).filter(x => x && typeof x === 'object') as Obj[])
          .filter(d => (d.kind === 'Service' && String(d.apiVersion ?? '').startsWith('serving.knative.dev/')) || (d.kind === 'Job' && String(d.apiVersion ?? '').startsWith('run.googleapis.com/')));
      } catch (e) {
        out = e as Error;
      }
      if (this.parsed.size >= PARSED_MANIFESTS) this.parsed.delete(this.parsed.keys().next().value!);
      this.parsed.set(manifest, out);
    }
    return out;
  }

  async apply(req: CloudRunApply): Promise<CloudRunApplied> {
    const docs = this.resources(req.manifest);
    if (docs instanceof Error) return failed(`The rendered manifest is not valid YAML: ${docs.message}`);
    if (docs.length !== 1) return failed(`The rendered manifest holds ${docs.length} Cloud Run resources; a Cloud Run target deploys exactly one Service or Job.`);
    const doc = structuredClone(docs[0]);
    const s: Scope = { project: req.project, region: req.region, asNamed: req.project };
    const meta = (doc.metadata ??= {}) as Obj;
    const name = String(meta.name ?? '');
    delete meta.namespace;
    try {
      if (doc.kind === 'Job') return this.applyJob(s, name, doc);
      return await this.applyService(s, name, doc, req.previousRevision);
    } catch (e) {
      if (e instanceof ApiError) return failed(`Cloud Run refused the service "${name}": ${e.message}`);
      throw e;
    }
  }

  private applyJob(s: Scope, name: string, doc: Obj): CloudRunApplied {
    if (found(() => this.d.jobs.get(s, name))) this.d.jobs.replace(s, name, doc, false);
    else this.d.jobs.create(s, doc, false);
    return { ok: true, cloudRun: { job: `projects/${s.project}/locations/${s.region}/jobs/${name}` } };
  }

  private async applyService(s: Scope, name: string, doc: Obj, previous: string | undefined): Promise<CloudRunApplied> {
    const before = found(() => this.d.services.get(s, name));
    const serving = before ? servingRevision(before) : undefined;
    const prior = previous ?? serving;
    // A canary's `{tag: prior}` names no revision: it is the one serving before the rollout (docs/fidelity.md).
    const traffic = ((doc.spec as Obj | undefined)?.traffic ?? []) as Obj[];
    for (const t of traffic) if (!t.revisionName && !t.latestRevision) {
      if (!prior) return failed(`The manifest sends ${String(t.percent ?? 0)}% to the revision that served before (tag "${String(t.tag ?? '')}"), but service "${name}" has none.`);
      t.revisionName = prior;
    }
    const svc = before ? this.d.services.replace(s, name, doc, false, before) : this.d.services.create(s, doc, false);
    const status = (svc.status ?? {}) as Obj;
    const revision = String(status.latestCreatedRevisionName ?? '');
    // The service's status already says when the new revision is ready (a simulated one is at once): no read of it.
    const ready: { status: string; message?: string } = status.latestReadyRevisionName === revision ? { status: 'True' } : await waitReady(this.d.store, revisionKey(s, revision));
    const serviceName = `projects/${s.project}/locations/${s.region}/services/${name}`;
    if (ready.status !== 'True') {
      return { ok: false, cause: 'EXECUTION_FAILED', message: `Cloud Run service "${name}" did not become ready: revision "${revision}" ${ready.message ? `failed: ${ready.message}` : 'did not become ready in time.'}` };
    }
    // The service's URLs are its address's, set by the write above: no later write changes them.
    const urls = JSON.parse(String(((svc.metadata as Obj).annotations as Obj | undefined)?.['run.googleapis.com/urls'] ?? '[]')) as string[];
    return {
      ok: true,
      cloudRun: {
        service: serviceName, serviceUrls: urls, revision,
        ...(traffic.length && prior && prior !== revision ? { previousRevision: `${serviceName}/revisions/${prior}` } : {}),
      },
    };
  }
}

function failed(message: string): CloudRunApplied { return { ok: false, cause: 'EXECUTION_FAILED', message }; }

/** What `get` answers, or undefined when it is NOT_FOUND. */
function found<T>(get: () => T): T | undefined {
  try { return get(); } catch (e) { if (e instanceof ApiError && e.code === 'NOT_FOUND') return undefined; throw e; }
}


/** The revision taking the largest share of a service's traffic (what a canary's "prior" is). */
function servingRevision(svc: Obj): string | undefined {
  let best: { name: string; percent: number } | undefined;
  for (const t of (((svc.status as Obj | undefined)?.traffic ?? []) as Obj[])) {
    const p = Number(t.percent ?? 0);
    if (t.revisionName && p > 0 && (!best || p > best.percent)) best = { name: String(t.revisionName), percent: p };
  }
  return best?.name;
}
