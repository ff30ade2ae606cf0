// App Hosting's managed Cloud Run services (src/apis/apphosting/run-service.ts): each backend's builds deployed as
// revisions of one Cloud Run service through the same writes `gcloud run services replace` makes, so what App Hosting
// serves is an ordinary service (`gcloud run services describe` shows it) and runs, routes and logs as any does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { ApiError } from '../../google/errors.js';
import type { Projects } from '../../google/projects.js';
import type { Store } from '../../store/store.js';
import { EXECUTOR_ANNOTATION } from '../../policy/executors.js';
import type { BuildInstance, BuildRevision, BuildRevisionResult, BuildRun } from '../apphosting/run-service.js';
import type { Scope } from './jobs.js';
import type { RevisionServing } from './revision-serving.js';
import type { RunServices } from './services.js';
import type { TrafficTarget } from './service-validate.js';
import { K, KNATIVE_V1, revisionKey, serviceKey, waitReady } from './revisions.js';
import type { Obj } from './meta.js';

/** The template annotation naming the App Hosting build a revision runs (what its revision source reads). */
export const BUILD_ANNOTATION = 'gantry.dev/apphosting-build';
/** Cloud Run's longest revision name. */
const MAX_REVISION_NAME = 63;

export class BuildServices implements BuildRun {
  constructor(private d: { store: Store; projects: Projects; services: RunServices; serving: RevisionServing }) {}

  runs(source: (build: string, service: string, spec: BuildInstance) => BuildInstance | undefined): void {
    this.d.serving.addSource((key, rev, spec) => {
      const meta = rev.metadata as Obj;
      const build = (meta.annotations as Obj | undefined)?.[BUILD_ANNOTATION];
      if (typeof build !== 'string') return undefined;
      const [, project, , region] = key.split('/');
      return source(build, serviceKey({ project, region }, String((meta.labels as Obj)[K.service])), spec);
    });
  }

  async deploy(req: BuildRevision): Promise<BuildRevisionResult> {
    const { s, id } = this.parse(req.service);
    const existing = this.find(s, id);
    const named = req.revision && req.revision.length <= MAX_REVISION_NAME ? req.revision : undefined;
    try {
      let revision = named;
      // Deployed already (a restarted Gantry deploying the same build again): its readiness is what is waited for.
      if (!named || !this.d.store.get(revisionKey(s, named))) {
        const template = {
          metadata: { ...(named ? { name: named } : {}), annotations: { [EXECUTOR_ANNOTATION]: req.executor, [BUILD_ANNOTATION]: req.build } },
          spec: { containers: [{ image: req.image, ports: [{ name: 'http1', containerPort: 8080 }] }] },
        };
        const held = existing ? explicit(existing) : [];
        // The new revision takes no traffic: App Hosting moves it with a rollout (the first one serves, as Cloud Run needs one).
        const input = this.input(id, existing, template, held.length ? held : [{ latestRevision: true, percent: 100 }]);
        const svc = existing ? this.d.services.replace(s, id, input, false) : this.d.services.create(s, input, false);
        revision = String((svc.status as Obj).latestCreatedRevisionName);
      }
      const ready = await waitReady(this.d.store, revisionKey(s, revision!));
      if (ready.status === 'True') return { ok: true, revision: revision! };
      return { ok: false, revision, message: ready.message ?? `The revision ${revision} did not become ready in time.` };
    } catch (e) {
      if (e instanceof ApiError) return { ok: false, message: `Cloud Run refused the revision: ${e.message}` };
      throw e;
    }
  }

  route(service: string, splits: { revision: string; percent: number }[]): void {
    const { s, id } = this.parse(service);
    const svc = this.find(s, id);
    if (!svc) return;
    const traffic = splits.map(x => ({ revisionName: x.revision, percent: x.percent }));
    if (JSON.stringify(traffic) === JSON.stringify((svc.spec as Obj).traffic)) return;
    this.d.services.replace(s, id, this.input(id, svc, (svc.spec as Obj).template as Obj, traffic), false);
  }

  routed(service: string): { revision: string; percent: number }[] {
    const { s, id } = this.parse(service);
    const svc = this.find(s, id);
    return svc ? explicit(svc).filter(t => t.percent).map(t => ({ revision: t.revisionName!, percent: t.percent! })) : [];
  }

  async warm(service: string, revision: string): Promise<void> {
    await this.d.serving.warm(revisionKey(this.parse(service).s, revision));
  }

  removeRevision(service: string, revision: string): boolean {
    try {
      this.d.services.deleteRevision(this.parse(service).s, revision, false);
      return true;
    } catch (e) {
      if (e instanceof ApiError) return false;
      throw e;
    }
  }

  remove(service: string): void {
    const { s, id } = this.parse(service);
    if (this.find(s, id)) this.d.services.delete(s, id, false);
  }

  serve(service: string, host: string, req: IncomingMessage, res: ServerResponse): void {
    const { s, id } = this.parse(service);
    this.d.serving.serveService(serviceKey(s, id), host, req, res);
  }

  private parse(service: string): { s: Scope; id: string } {
    const [, project, , region, , id] = service.split('/');
    return { s: { project: this.d.projects.resolve(project), region, asNamed: project }, id };
  }

  private find(s: Scope, id: string): Obj | undefined {
    return this.d.store.getParsed<Obj>(serviceKey(s, id));
  }

  /** A replaceService body: the service's own labels and annotations kept, this template and traffic. */
  private input(id: string, existing: Obj | undefined, template: Obj, traffic: TrafficTarget[]): Obj {
    const meta = (existing?.metadata ?? {}) as Obj;
    return {
      apiVersion: KNATIVE_V1, kind: 'Service',
      metadata: { name: id, ...(meta.labels ? { labels: meta.labels } : {}), ...(meta.annotations ? { annotations: meta.annotations } : {}) },
      spec: { template: structuredClone(template), traffic },
    };
  }
}

/** A service's resolved traffic as explicit revisions (a `latestRevision` target pinned to the revision it reached). */
function explicit(svc: Obj): TrafficTarget[] {
  return (((svc.status as Obj | undefined)?.traffic ?? []) as TrafficTarget[])
    .filter(t => t.revisionName && ((t.percent ?? 0) > 0 || t.tag))
    .map(t => ({ revisionName: t.revisionName, percent: t.percent ?? 0, ...(t.tag ? { tag: t.tag } : {}) }));
}
