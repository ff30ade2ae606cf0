// App Hosting's controllers. Builds: BUILDING → BUILT → DEPLOYING → READY, or FAILED at the step that failed, each
// step real (an executor builds; the deploy makes the build a revision of the backend's Cloud Run service, ready
// once it answers) or simulated (scripted outcomes on the clock). Rollouts: QUEUED → PENDING_BUILD → PROGRESSING →
// SUCCEEDED (or FAILED), moving the service's traffic and `traffic.current` to their build. Traffic: pinned targets,
// the service's traffic kept equal to `traffic.current` (Cloud Run runs what it routes to), and automatic rollouts of
// `rolloutPolicy.codebaseBranch`.
import type { Controller, ReconcileContext } from '../../engine/controllers.js';
import type { Clock } from '../../engine/clock.js';
import { pickRule, type Rule, type RuleGrammar } from '../../engine/outcomes.js';
import type { Executor } from '../../executors/executor.js';
import { ApiError } from '../../google/errors.js';
import type { Operation, Operations } from '../../google/operations.js';
import type { Store, Writer } from '../../store/store.js';
import type { Logger } from '../../server/log.js';
import type { Decisions } from '../../engine/decisions.js';
import type { ExecutorMode } from '../../policy/executors.js';
import { EXECUTOR_ANNOTATION, EXECUTOR_MODES } from '../../policy/executors.js';
import { BuildFailure, type Builder } from './builder.js';
import { putResource } from './resources.js';
import { ServeError } from '../../serving/instances.js';
import type { BuildRun } from './run-service.js';
import { BUILD_TERMINAL, buildLabel, KIND, ROLLOUT_TERMINAL, viewOf, type BuildBook, type Version } from './service.js';
import { pendingTarget, putTraffic, splitsOf } from './traffic.js';

type Obj = Record<string, unknown>;

/** Scripted outcomes of simulated builds: `<build|deploy|*>=<succeed|fail["message"]>[@N][~DURATION]`. */
export const BUILD_RULES: RuleGrammar<'succeed' | 'fail'> = {
  shape: '<build|deploy|*>',
  example: 'build=fail (every build fails), deploy=succeed~30s',
  selectors: [{ pattern: /^(build|deploy)$/ }],
  outcomes: ['succeed', 'fail'],
};

/** How often a backend's rollout branch is looked at for new commits. */
export const POLL_MS = 5_000;
/** Real builds (install and build steps) that run at once; the others wait their turn in BUILDING. */
export const MAX_CONCURRENT_BUILDS = 4;
/** Google's code for a failed build or rollout (the Status in `errors`/`error`). */
const FAILED_CODE = 9;

export interface AppHostingControllerDeps {
  store: Store;
  clock: Clock;
  ops: Operations;
  log: Logger;
  builder: Builder;
  /** Cloud Run, where each build is a revision of the backend's service. */
  run: BuildRun;
  /** The backend's managed Cloud Run service (`managedResources.runService`). */
  serviceOf(backend: string): string;
  /** Where a browser on this machine opens the backend (its host name under `.localhost`). */
  localUrl(backend: string): string;
  executors: Record<string, Executor>;
  defaultExecutor: ExecutorMode;
  /** How long a simulated step takes unless scripted. */
  stepMs(): number;
  /** The debug log of controller decisions. */
  decisions?: Decisions;
  rules(build: string): Rule<'succeed' | 'fail'>[][];
  /** A build's log line (Cloud Build's `build` resource). */
  buildLog(build: Obj, step: number, name: string, line: string): void;
  /** Creates a build and its rollout for a new commit of a backend's rollout branch. */
  autoRollout(backend: string, commit: string): void;
  /** The branch head of a backend's repository, for rolloutPolicy. */
  branchHead(backend: Obj, branch: string): Promise<string | undefined>;
}

interface Work { cancelled: boolean; current?: { cancel(): void } }

export class AppHostingController {
  private work = new Map<string, Work>();
  private slots = { free: MAX_CONCURRENT_BUILDS, waiting: [] as (() => void)[] };
  /** When each backend's rollout branch was last looked at, and the backends being looked at now. */
  private polled = new Map<string, number>();
  private polling = new Set<string>();

  constructor(private d: AppHostingControllerDeps) {}

  controllers(): Controller[] {
    return [
      { kind: KIND.build, reconcile: (name, ctx) => this.reconcileBuild(name, ctx) },
      { kind: KIND.rollout, reconcile: (name, ctx) => this.reconcileRollout(name, ctx) },
      { kind: KIND.traffic, reconcile: (name, ctx) => this.reconcileTraffic(name, ctx) },
    ];
  }

  /**
   * The executor a backend's builds use: its `gantry.dev/executor` annotation, else the default. One the operator
   * did not enable is kept as asked (never swapped for another): the build then fails without running anything.
   */
  modeOf(backend: Obj | undefined): ExecutorMode {
    const asked = (backend?.annotations as Obj | undefined)?.[EXECUTOR_ANNOTATION];
    return asked && (EXECUTOR_MODES as readonly unknown[]).includes(asked) ? asked as ExecutorMode : this.d.defaultExecutor;
  }

  // ---- builds ----

  private reconcileBuild(name: string, ctx: ReconcileContext): void | Promise<unknown> {
    const b = this.d.store.getParsed<Obj>(name);
    if (!b || b.deleteTime !== undefined) {
      this.cancelWork(name);
      const revision = (b?.gantry as BuildBook | undefined)?.revision;
      if (revision) this.d.run.removeRevision(this.d.serviceOf(name.split('/builds/')[0]), revision);
      if (b && !BUILD_TERMINAL.has(String(b.state)) && b.reconciling) {
        // Deleted while under way: the work stops, its operation ends.
        this.d.store.tx(w => {
          this.completeOp(w, b, 'Build', { error: new ApiError('ABORTED', `The build ${name} was deleted before it finished.`) });
          putResource(w, KIND.build, { ...b, reconciling: false }, this.d.clock.timestamp(), false);
        });
      }
      return;
    }
    if (BUILD_TERMINAL.has(String(b.state))) return;
    if (this.work.has(name)) return;
    const book = (b.gantry ?? {}) as BuildBook;
    const backend = this.d.store.getParsed<Obj>(name.split('/builds/')[0]);
    if (!backend) return;
    if (!book.executor) {
      // The executor is chosen once, when work starts, and kept: a restart carries on the same way.
      this.d.store.tx(w => {
        putResource(w, KIND.build, { ...b, gantry: { ...book, executor: this.modeOf(backend), step: 'resolve' } }, this.d.clock.timestamp(), true);
        this.progress(w, b, 'Building');
      });
      return;
    }
    const codebase = (b.source as Obj).codebase as Obj | undefined;
    if (book.step === 'resolve') {
      if (!codebase || codebase.hash) return this.setStep(name, 'build');
      return this.async(name, async () => {
        const info = await this.d.builder.resolveCodebase(backend, { branch: codebase.branch as string | undefined, commit: codebase.commit as string | undefined });
        this.update(name, x => { x.source = { codebase: { ...((x.source as Obj).codebase as Obj), ...info } }; (x.gantry as BuildBook).step = 'build'; });
      });
    }
    if (book.executor === 'simulated') return this.simulatedStep(name, b, book, ctx);
    if (b.state === 'BUILDING') return this.realBuild(name, b, backend, book);
    if (b.state === 'BUILT') return this.setState(name, 'DEPLOYING', 'Deploying');
    if (b.state === 'DEPLOYING') return this.realDeploy(name);
  }

  private simulatedStep(name: string, b: Obj, book: BuildBook, ctx: ReconcileContext): void | Promise<unknown> {
    const step = b.state === 'BUILDING' ? 'build' : 'deploy';
    if (b.state === 'BUILT') return this.setState(name, 'DEPLOYING', 'Deploying');
    const now = this.d.clock.now();
    if (book.until === undefined || book.rule !== step) {
      const rule = pickRule(this.d.rules(name), [step], 1);
      const until = now + (rule?.durationMs ?? this.d.stepMs());
      this.d.decisions?.say(`App Hosting: ${buildLabel(name)} simulated ${step} step started (${(until - now) / 1000}s, ${rule?.outcome ?? 'succeed'})`);
      this.update(name, x => { Object.assign(x.gantry as BuildBook, { rule: step, until, outcome: rule?.outcome ?? 'succeed', message: rule?.message }); });
      ctx.wakeAt(until);
      return;
    }
    if (now < book.until) { ctx.wakeAt(book.until); return; }
    const outcome = book.outcome;
    if (outcome === 'fail') {
      return this.fail(name, new BuildFailure(book.message ?? (step === 'build' ? 'The build step failed (scripted by an outcome rule).' : 'The new revision failed to start (scripted by an outcome rule).'), step === 'build' ? 'CLOUD_BUILD' : 'CLOUD_RUN'));
    }
    if (step === 'build') {
      this.update(name, x => {
        x.state = 'BUILT';
        x.image = imageOf(name, `sha256:${Buffer.from(name).toString('hex').slice(0, 64).padEnd(64, '0')}`);
        Object.assign(x.gantry as BuildBook, { until: undefined, rule: undefined });
      }, 'Built');
    } else {
      return this.async(name, async () => { await this.deployRevision(name); this.ready(name); });
    }
  }

  private realBuild(name: string, b: Obj, backend: Obj, book: BuildBook): Promise<unknown> {
    const executor = this.d.executors[book.executor!];
    const work: Work = { cancelled: false };
    return this.async(name, async () => {
      if (!executor) throw new BuildFailure(`The ${book.executor} executor is not enabled on this Gantry, so nothing was built (the operator enables it with --executor ${book.executor} or --allow-executors ${book.executor}).`, 'CLOUD_BUILD');
      const [, project] = name.split('/');
      const source = b.source as Obj;
      if (source.container) {
        // A ready image: nothing to build; it runs as it is (with the container executor).
        this.update(name, x => { x.state = 'BUILT'; x.image = String((source.container as Obj).image); (x.gantry as BuildBook).run = { command: [], env: {} }; }, 'Built');
        return;
      }
      await this.slot(name);
      let out;
      try {
        if (work.cancelled) return;
        out = await this.d.builder.build({
          name, project, backend, build: b, environment: b.environment as string | undefined, hash: ((source.codebase as Obj | undefined)?.hash as string | undefined),
        }, executor, (step, stepName, _stream, line) => this.d.buildLog(b, step, stepName, line), work);
      } finally {
        this.release();
      }
      this.update(name, x => {
        x.state = 'BUILT';
        x.image = imageOf(name, `sha256:${out.digest}`);
        x.config = { ...((x.config as Obj | undefined) ?? {}), ...(Object.keys(out.config.runConfig).length ? { runConfig: { ...out.config.runConfig, ...((x.config as Obj | undefined)?.runConfig as Obj | undefined) } } : {}), ...(out.effectiveEnv.length ? { effectiveEnv: out.effectiveEnv } : {}) };
        Object.assign(x.gantry as BuildBook, { artifact: out.artifact, run: out.run });
      }, 'Built');
    }, work);
  }

  private realDeploy(name: string): Promise<unknown> {
    return this.async(name, async () => {
      await this.deployRevision(name);
      // Ready: the revision answered. It keeps running only while the service routes to it (or a rollout warms it).
      this.ready(name);
    });
  }

  /** Deploys the build as a revision of its backend's Cloud Run service (no traffic yet); ServeError when it cannot serve. */
  private async deployRevision(name: string): Promise<string> {
    const b = this.d.store.getParsed<Obj>(name);
    const book = (b?.gantry ?? {}) as BuildBook;
    if (!b) throw new ServeError(`The build ${name} no longer exists.`);
    if (book.revision && b.state === 'READY') return book.revision;
    const backend = name.split('/builds/')[0];
    const out = await this.d.run.deploy({ service: this.d.serviceOf(backend), build: name, revision: revisionIdOf(name), image: String(b.image ?? ''), executor: String(book.executor) });
    if (out.revision) this.setRevision(name, out.revision);
    if (!out.ok) throw new ServeError(out.message);
    return out.revision;
  }

  /** Records a build's revision (a READY build's too: a build made before builds were revisions gets one later). */
  private setRevision(name: string, revision: string): void {
    this.d.store.tx(w => {
      const b = this.d.store.getParsed<Obj>(name);
      if (!b || (b.gantry as BuildBook | undefined)?.revision === revision) return;
      b.gantry = { ...((b.gantry ?? {}) as BuildBook), revision };
      // Server bookkeeping only: no etag or updateTime change a client could see.
      w.put(KIND.build, name, name.split('/builds/')[0], b, String(b.createTime), !BUILD_TERMINAL.has(String(b.state)));
    });
  }

  private ready(name: string): void {
    this.update(name, x => {
      x.state = 'READY';
      x.reconciling = false;
      Object.assign(x.gantry as BuildBook, { until: undefined, rule: undefined, step: 'done' });
    }, undefined, (w, x) => this.completeOp(w, x, 'Build', {}));
    this.enqueueRollouts(name.split('/builds/')[0]);
  }

  private fail(name: string, e: BuildFailure | ServeError | Error): void {
    const b = this.d.store.getParsed<Obj>(name);
    if (!b || BUILD_TERMINAL.has(String(b.state))) return;
    const source = e instanceof BuildFailure ? e.source : e instanceof ServeError ? 'CLOUD_RUN' : 'CLOUD_BUILD';
    const [, project, , region, , backend] = name.split('/');
    const revision = (b.gantry as BuildBook).revision ?? revisionIdOf(name) ?? name.split('/').pop();
    const cloudResource = source === 'CLOUD_BUILD' ? `projects/${project}/locations/${region}/builds/${(b.gantry as BuildBook).logId}` : `projects/${project}/locations/${region}/services/${backend}/revisions/${revision}`;
    const message = `${e.message}${source === 'CLOUD_BUILD' && b.buildLogsUri ? ` The build log is at ${String(b.buildLogsUri)}` : ''}`;
    this.d.buildLog(b, 0, 'result', `FAILED: ${e.message}`);
    this.update(name, x => {
      x.state = 'FAILED';
      x.reconciling = false;
      x.errors = [{ error: { code: FAILED_CODE, message }, errorSource: source, cloudResource }];
      Object.assign(x.gantry as BuildBook, { until: undefined, rule: undefined, step: 'done' });
    }, undefined, (w, x) => this.completeOp(w, x, 'Build', {}));
    this.enqueueRollouts(name.split('/builds/')[0]);
  }

  /** Runs a build's asynchronous step once (tracked by the runtime); a BuildFailure fails the build. */
  private async(name: string, fn: () => Promise<void>, work: Work = { cancelled: false }): Promise<unknown> {
    this.work.set(name, work);
    return fn().catch(e => {
      if (work.cancelled) return;
      if (e instanceof BuildFailure || e instanceof ServeError) this.fail(name, e);
      else { this.d.log.error(`App Hosting build ${name}: ${(e as Error).stack ?? e}`); this.fail(name, new BuildFailure(`Internal error: ${(e as Error).message}`, 'CLOUD_BUILD')); }
    }).finally(() => {
      if (this.work.get(name) === work) this.work.delete(name);
      // The next step (or nothing, when terminal) is taken from the stored state.
      if (!work.cancelled) this.nudge(KIND.build, name);
    });
  }

  /** Waits for one of the build slots (saying so on the build's operation while it waits). */
  private async slot(name: string): Promise<void> {
    if (this.slots.free > 0) { this.slots.free--; return; }
    this.d.store.tx(w => { const b = this.d.store.getParsed<Obj>(name); if (b) this.progress(w, b, 'Waiting for a free build slot'); });
    await new Promise<void>(resolve => this.slots.waiting.push(resolve));
  }

  private release(): void {
    const next = this.slots.waiting.shift();
    if (next) next(); else this.slots.free++;
  }

  private nudge: (kind: string, name: string) => void = () => undefined;
  /** How the controller asks for a reconcile outside a reconcile (after asynchronous work ends). */
  setNudge(fn: (kind: string, name: string) => void): void { this.nudge = fn; }

  private cancelWork(name: string): void {
    const w = this.work.get(name);
    if (!w) return;
    w.cancelled = true;
    w.current?.cancel();
    this.work.delete(name);
  }

  private setStep(name: string, step: string): void {
    this.update(name, x => { (x.gantry as BuildBook).step = step; });
  }

  private setState(name: string, state: string, status: string): void {
    this.update(name, x => { x.state = state; }, status);
  }

  /** Reads, changes and stores a build in one transaction; `status` goes to its operation's statusMessage. */
  private update(name: string, change: (b: Obj) => void, status?: string, also?: (w: Writer, b: Obj) => void): void {
    this.d.store.tx(w => {
      const b = this.d.store.getParsed<Obj>(name);
      if (!b || b.deleteTime !== undefined || BUILD_TERMINAL.has(String(b.state))) return;
      b.gantry = { ...((b.gantry ?? {}) as BuildBook) };
      const was = b.state;
      change(b);
      if (b.state !== was) {
        const error = ((b.errors as Obj[] | undefined)?.[0]?.error as Obj | undefined)?.message;
        this.d.decisions?.say(`App Hosting: ${buildLabel(name)} is ${String(b.state)}${error ? `: ${String(error)}` : ''}`);
      }
      putResource(w, KIND.build, b, this.d.clock.timestamp(), !BUILD_TERMINAL.has(String(b.state)));
      if (status) this.progress(w, b, status);
      also?.(w, b);
    });
  }

  private progress(w: Writer, r: Obj, status: string): void {
    const opName = (r.gantry as { op?: string } | undefined)?.op;
    const op = opName ? this.d.store.getParsed<Operation>(opName) : undefined;
    if (!op || op.done) return;
    op.metadata.statusMessage = status;
    w.put('operation', op.name, op.name.slice(0, op.name.indexOf('/operations/')), op, String(op.metadata.createTime), true);
  }

  /** Completes a resource's create operation with the resource as its response (an error only when given). */
  private completeOp(w: Writer, r: Obj, message: 'Build' | 'Rollout', result: { error?: ApiError }): void {
    const opName = (r.gantry as { op?: string } | undefined)?.op;
    if (!opName) return;
    const op = this.d.store.getParsed<Operation>(opName);
    if (!op || op.done) return;
    const v = (op.metadata.apiVersion === 'v1' ? 'v1' : 'v1beta') as Version;
    this.d.ops.complete(w, opName, result.error ? { error: result.error } : { response: { type: `google.firebase.apphosting.${v}.${message}`, value: viewOf(v, message)(r) } });
  }

  // ---- rollouts ----

  private enqueueRollouts(backend: string): void {
    for (const r of this.d.store.children(KIND.rollout, backend)) if (!ROLLOUT_TERMINAL.has(String(r.state))) this.nudge(KIND.rollout, String(r.name));
    this.nudge(KIND.traffic, `${backend}/traffic`);
  }

  private reconcileRollout(name: string, _ctx: ReconcileContext): void | Promise<unknown> {
    const r = this.d.store.getParsed<Obj>(name);
    if (!r || ROLLOUT_TERMINAL.has(String(r.state)) || this.work.has(name)) return;
    const backend = name.split('/rollouts/')[0];
    if (r.state === 'QUEUED') {
      const ahead = this.d.store.children(KIND.rollout, backend).some(o => o.name !== name && !ROLLOUT_TERMINAL.has(String(o.state)) && o.state !== 'QUEUED');
      const earlier = this.d.store.children(KIND.rollout, backend).some(o => o.name !== name && o.state === 'QUEUED' && String(o.createTime) < String(r.createTime));
      if (ahead || earlier) return;
      return this.updateRollout(name, x => { x.state = 'PENDING_BUILD'; });
    }
    const build = this.d.store.getParsed<Obj>(String(r.build));
    if (!build || build.deleteTime !== undefined) return this.endRollout(name, 'FAILED', `The build ${String(r.build)} was deleted.`);
    if (r.state === 'PENDING_BUILD') {
      if (build.state === 'FAILED') {
        const why = ((build.errors as Obj[] | undefined)?.[0]?.error as Obj | undefined)?.message;
        return this.endRollout(name, 'FAILED', `The build ${String(r.build)} failed${why ? `: ${String(why)}` : '.'}`);
      }
      if (build.state === 'READY') return this.updateRollout(name, x => { x.state = 'PROGRESSING'; });
      return;
    }
    if (r.state === 'PROGRESSING') {
      const work: Work = { cancelled: false };
      this.work.set(name, work);
      return this.routeTo(backend, [{ build: String(r.build), percent: 100 }], true).then(
        () => { if (!work.cancelled) this.shiftTraffic(name, String(r.build)); },
        // The service goes back to what `traffic.current` says when the traffic is reconciled.
        (e: Error) => { if (!work.cancelled) this.endRollout(name, 'FAILED', `The build ${String(r.build)} could not serve: ${e.message}`); },
      ).finally(() => { if (this.work.get(name) === work) this.work.delete(name); });
    }
  }

  /** The rollout's build takes all traffic; the rollout succeeds. */
  private shiftTraffic(name: string, build: string): void {
    const backend = name.split('/rollouts/')[0];
    this.d.store.tx(w => {
      const t = this.d.store.getParsed<Obj>(`${backend}/traffic`);
      if (!t) return;
      t.current = { splits: [{ build, percent: 100 }] };
      // A rollout supersedes a pinned target.
      delete t.target;
      putTraffic(w, t, this.d.clock.timestamp());
    });
    this.endRollout(name, 'SUCCEEDED');
    this.d.log.info(`App Hosting: backend ${backend.split('/').pop()} serves build ${build.split('/').pop()} at ${this.d.localUrl(backend)}`);
  }

  private endRollout(name: string, state: 'SUCCEEDED' | 'FAILED', message?: string): void {
    this.updateRollout(name, x => {
      x.state = state;
      x.reconciling = false;
      if (message) x.error = { code: FAILED_CODE, message };
    }, (w, x) => this.completeOp(w, x, 'Rollout', {}));
    this.enqueueRollouts(name.split('/rollouts/')[0]);
  }

  private updateRollout(name: string, change: (r: Obj) => void, also?: (w: Writer, r: Obj) => void): void {
    this.d.store.tx(w => {
      const r = this.d.store.getParsed<Obj>(name);
      if (!r || ROLLOUT_TERMINAL.has(String(r.state))) return;
      change(r);
      putResource(w, KIND.rollout, r, this.d.clock.timestamp(), !ROLLOUT_TERMINAL.has(String(r.state)));
      also?.(w, r);
    });
  }

  // ---- traffic and serving ----

  private reconcileTraffic(name: string, ctx: ReconcileContext): void | Promise<unknown> {
    const backend = name.slice(0, -'/traffic'.length);
    const t = this.d.store.getParsed<Obj>(name);
    if (!t) {
      // The backend is gone: so is its Cloud Run service (and what ran of it).
      this.d.run.remove(this.d.serviceOf(backend));
      return;
    }
    const work: Promise<unknown>[] = [];
    const target = pendingTarget(t);
    if (target && !this.work.has(name)) work.push(this.applyTarget(name, target));
    else if (!target && !this.work.has(name)) { const routing = this.keepRouted(backend, t); if (routing) work.push(routing); }
    const policy = t.rolloutPolicy as Obj | undefined;
    if (policy?.codebaseBranch && !policy.disabled) work.push(this.pollBranch(name, backend, String(policy.codebaseBranch), ctx));
    return work.length ? Promise.all(work) : undefined;
  }

  /** Starts the target's builds, then makes them current and completes the patches waiting for it. */
  private async applyTarget(name: string, target: Obj): Promise<void> {
    const work: Work = { cancelled: false };
    this.work.set(name, work);
    try {
      // Builds not READY yet: the traffic is reconciled again when they are.
      if (splitsOf(target).some(x => this.d.store.getParsed<Obj>(x.build)?.state !== 'READY')) return;
      await this.routeTo(name.slice(0, -'/traffic'.length), splitsOf(target), true).catch((e: Error) => this.d.log.warn(`App Hosting: ${name}: ${e.message}`));
      if (work.cancelled) return;
      this.d.store.tx(w => {
        const t = this.d.store.getParsed<Obj>(name);
        if (!t || JSON.stringify(t.target) !== JSON.stringify(target)) return;
        if (splitsOf(target).some(x => this.d.store.getParsed<Obj>(x.build)?.state !== 'READY')) return;
        t.current = { splits: splitsOf(target) };
        const ops = ((t.gantry as Obj | undefined)?.ops ?? []) as string[];
        t.gantry = { ...(t.gantry as Obj), ops: [] };
        putTraffic(w, t, this.d.clock.timestamp());
        for (const op of ops) {
          const o = this.d.store.getParsed<Operation>(op);
          const v = (o?.metadata.apiVersion === 'v1' ? 'v1' : 'v1beta') as Version;
          this.d.ops.complete(w, op, { response: { type: `google.firebase.apphosting.${v}.Traffic`, value: viewOf(v, 'Traffic')(t) } });
        }
      });
    } finally {
      if (this.work.get(name) === work) this.work.delete(name);
    }
  }

  /**
   * Routes the backend's service to revisions of these builds (deploying the revision of a READY build that has none:
   * one made before builds were revisions); with `warm`, resolves once each answers. Rejects when one cannot serve.
   */
  private async routeTo(backend: string, splits: { build: string; percent: number }[], warm: boolean): Promise<void> {
    const service = this.d.serviceOf(backend);
    const routed: { revision: string; percent: number }[] = [];
    for (const s of splits) {
      const b = this.d.store.getParsed<Obj>(s.build);
      const revision = (b?.gantry as BuildBook | undefined)?.revision ?? await this.deployRevision(s.build);
      routed.push({ revision, percent: s.percent });
    }
    this.d.run.route(service, routed);
    if (warm) await Promise.all(routed.map(x => this.d.run.warm(service, x.revision)));
  }

  /**
   * Keeps the service's traffic what `traffic.current` says (after a restart, a failed rollout, a change made to the
   * service directly), unless a rollout is moving it now.
   */
  private keepRouted(backend: string, t: Obj): Promise<void> | undefined {
    const splits = splitsOf(t.current as Obj | undefined);
    if (!splits.length) return undefined;
    if (this.d.store.children(KIND.rollout, backend).some(r => this.work.has(String(r.name)) || r.state === 'PROGRESSING')) return undefined;
    const want = splits.map(s => ({ revision: (this.d.store.getParsed<Obj>(s.build)?.gantry as BuildBook | undefined)?.revision, percent: s.percent }));
    const have = this.d.run.routed(this.d.serviceOf(backend));
    const same = want.length === have.length && want.every(w => have.some(h => h.revision === w.revision && h.percent === w.percent));
    if (same) return undefined;
    return this.routeTo(backend, splits, false).catch((e: Error) => this.d.log.warn(`App Hosting: ${backend}: its traffic could not be routed: ${e.message}`));
  }

  /** Looks at the rollout branch; a commit not seen before gets a build and a rollout. */
  private async pollBranch(name: string, backend: string, branch: string, ctx: ReconcileContext): Promise<void> {
    const now = this.d.clock.now();
    const last = this.polled.get(name);
    if (last !== undefined && now < last + POLL_MS) { ctx.wakeAt(last + POLL_MS); return; }
    if (this.polling.has(name)) return;
    const b = this.d.store.getParsed<Obj>(backend);
    if (!b) return;
    this.polling.add(name);
    this.polled.set(name, now);
    if (this.polled.size > 10_000) this.polled.clear();
    try {
      const seenOf = (t: Obj | undefined) => ((t?.gantry as Obj | undefined)?.seen ?? {}) as { branch?: string; commit?: string };
      const before = JSON.stringify(seenOf(this.d.store.getParsed<Obj>(name)));
      let head: string | undefined;
      try { head = await this.d.branchHead(b, branch); } catch (e) { this.d.log.warn(`App Hosting: ${backend}: branch ${branch} could not be read: ${(e as Error).message}`); }
      const t = this.d.store.getParsed<Obj>(name);
      const seen = seenOf(t);
      const policy = t?.rolloutPolicy as Obj | undefined;
      // A patch that set a new baseline (or changed the policy) while git was read wins over this older look.
      const stale = JSON.stringify(seen) !== before || policy?.codebaseBranch !== branch || policy?.disabled === true;
      if (t && head && !stale && (seen.branch !== branch || seen.commit !== head)) {
        // The baseline is the head recorded when the policy was set (traffic.ts); only traffic stored without one
        // (an older Gantry's) takes the first look's head as its baseline. Later commits roll out.
        const first = seen.branch !== branch;
        this.d.store.tx(w => {
          t.gantry = { ...(t.gantry as Obj), seen: { branch, commit: head } };
          // Server bookkeeping only: no etag or updateTime change a client could see.
          w.put(KIND.traffic, name, backend, t, String(t.createTime), !!t.reconciling);
        });
        if (!first) this.d.autoRollout(backend, head);
      }
    } finally {
      this.polling.delete(name);
    }
    ctx.wakeAt(now + POLL_MS);
  }
}

/** The Artifact Registry-shaped name of a build's content-addressed artifact. */
export function imageOf(build: string, digest: string): string {
  const [, project, , region, , backend] = build.split('/');
  return `${region}-docker.pkg.dev/${project}/firebaseapphosting-images/${backend}@${digest}`;
}

/** A build's revision id, `{backend}-{build id}` as App Hosting names them; undefined when that is no DNS label of ≤ 63. */
export function revisionIdOf(build: string): string | undefined {
  const [, , , , , backend, , id] = build.split('/');
  const name = `${backend}-${id}`;
  return name.length <= 63 && /^[a-z]([-a-z0-9]*[a-z0-9])?$/.test(name) ? name : undefined;
}
