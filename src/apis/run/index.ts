// Cloud Run jobs: one store of jobs, executions and tasks; the v1 and v2 APIs as views; the controllers that run
// tasks on Gantry's shared executors.
import { join } from 'node:path';
import type { App } from '../../server/app.js';
import type { BaseContext } from '../../google/context.js';
import type { ControllerRuntime } from '../../engine/controllers.js';
import type { Executor } from '../../executors/executor.js';
import type { ExecutorPolicy } from '../../policy/executors.js';
import type { Locations } from '../../google/locations.js';
import type { Logger } from '../../server/log.js';
import type { SecretAccessor } from '../secretmanager/index.js';
import type { LogEntryInput, LogWriter } from '../logging/index.js';
import type { RequestLogWriter } from '../logging/request-logs.js';
import { parseRules, type Rule, type RuleGrammar } from '../../engine/outcomes.js';
import { Attempts, OUTCOMES_ANNOTATION, TASK_RULES, type AttemptContext } from './attempts.js';
import { RunController } from './controller.js';
import { RunJobs } from './jobs.js';
import { registerRunV1 } from './v1.js';
import { registerRunV2 } from './v2.js';
import type { Obj } from './meta.js';
import type { RevisionReadiness } from './revisions.js';
import { RevisionServing } from './revision-serving.js';
import { RunDeploys } from './deploy-apply.js';
import { RunServices } from './services.js';
import { BuildServices } from './build-services.js';
import { registerServicesV1 } from './services-v1.js';
import { registerServicesV2 } from './services-v2.js';

export { TASK_RULES };
// What the serving layer builds on: the services, their readiness hook and the plan each stored service asks for.
export { RunServices };
export { READY_AT_ONCE, type Readiness, type RevisionReadiness, type RevisionSubject } from './revisions.js';
export { servingPlan, type ServingPlan } from './serving-plan.js';

export interface RunOptions {
  runtime: ControllerRuntime;
  executors: Record<string, Executor>;
  policy: ExecutorPolicy;
  defaultExecutor: string;
  secrets: SecretAccessor;
  logs: LogWriter & RequestLogWriter;
  entry(ctx: AttemptContext, stream: 'stdout' | 'stderr', line: string): LogEntryInput;
  /** Where a service revision's log lines can be read. */
  revisionLogUri?(project: string, region: string, service: string, revision: string): string;
  /** Where an execution's (or one task's) log lines can be read. */
  logUri(project: string, region: string, job: string, execution: string, taskIndex?: number): string;
  locations: Locations;
  /** The region of v1 requests whose host names none. */
  defaultRegion: string;
  taskMs(): number;
  /** Scripts set through Gantry's API for a resource, read with a grammar. */
  apiRules<O extends string>(resource: string, grammar: RuleGrammar<O>): Rule<O>[][];
  workRoot: string;
  log: Logger;
  /** Whether a new service revision can serve (default: the revisions' serving layer decides, by running them). */
  readiness?: RevisionReadiness;
  /** Gantry's own token, never passed on to a served revision. */
  authToken?: string;
  /** How long a revision has to answer its first request. */
  startupMs?: number;
  /** Whether this instance runs the work of the resource `name` (its project's): the others' revisions run elsewhere. */
  working?: (name: string) => boolean;
  /** The URL of the instance that runs the work of `name`, when another one does. */
  elsewhere?: (name: string) => string | undefined;
  /** The meta key where this instance records the revisions it runs (its own on a shared store). */
  servingKey?: string;
}

export interface Run {
  services: RunServices;
  /** Where Cloud Deploy's deploys to Cloud Run targets are applied. */
  deploys: RunDeploys;
  /** App Hosting's builds as revisions of each backend's managed service. */
  builds: BuildServices;
  /** At start-up, before anything runs: stops what this instance left serving when it was killed. */
  reapLeftovers(): Promise<void>;
  /** Routes every service, and serves again what served (of this instance's projects). */
  resume(): void;
  /** Stops serving the revisions `which` picks (their projects' work went to another instance). */
  stopWhere(which: (name: string) => boolean): void;
  close(): void;
}

export function registerRun(app: App, base: BaseContext, o: RunOptions): Run {
  const attempts = new Attempts({ executors: o.executors, secrets: o.secrets, logs: o.logs, entry: o.entry, volumesRoot: join(o.workRoot, 'run-volumes'), log: o.log });
  const container = o.executors.container as (Executor & { hasImage?(image: string): Promise<boolean> }) | undefined;
  const controller = new RunController({
    store: base.store, clock: base.clock, projects: base.projects, attempts, secrets: o.secrets, log: o.log, defaultExecutor: o.defaultExecutor,
    taskMs: o.taskMs, maxParallelism: 100, logUri: o.logUri, enqueue: (kind, name) => o.runtime.enqueue(kind, name), restart: o.runtime.restart, decisions: o.runtime.decisions,
    hasImage: container?.hasImage ? image => container.hasImage!(image) : undefined,
    rules: (jobKey, job) => {
      const own = ((job.metadata as Obj | undefined)?.annotations as Obj | undefined)?.[OUTCOMES_ANNOTATION];
      return [...(own !== undefined ? [parseRules(String(own), TASK_RULES, 'annotations')] : []), ...o.apiRules(jobKey, TASK_RULES)];
    },
  });
  for (const c of controller.controllers()) o.runtime.register(c);
  const jobs = new RunJobs({
    store: base.store, clock: base.clock, projects: base.projects, controller, executors: o.policy, defaultExecutor: o.defaultExecutor,
    maxActiveExecutions: 1000, logUri: o.logUri,
  });
  registerRunV1(app, { store: base.store, projects: base.projects, jobs, locations: o.locations, defaultRegion: o.defaultRegion });
  registerRunV2(app, { store: base.store, clock: base.clock, projects: base.projects, jobs, locations: o.locations });
  let services: RunServices | undefined;
  const serving = new RevisionServing({
    store: base.store, log: o.log, projects: base.projects, executors: o.executors, defaultExecutor: o.defaultExecutor, secrets: o.secrets,
    logs: o.logs, requests: o.logs, volumesRoot: join(o.workRoot, 'run-revision-volumes'), authToken: o.authToken, startupMs: o.startupMs,
    settle: (key, verdict) => services?.settleRevision(key, verdict), working: o.working, elsewhere: o.elsewhere, handlesKey: o.servingKey,
  });
  services = new RunServices({ store: base.store, clock: base.clock, projects: base.projects, readiness: o.readiness ?? serving, executors: o.policy, logUri: o.revisionLogUri });
  app.addVirtualHosts({ claims: host => serving.claims(host), serve: (req, res) => serving.serve(req, res) });
  registerServicesV1(app, { store: base.store, projects: base.projects, services, locations: o.locations, defaultRegion: o.defaultRegion });
  registerServicesV2(app, { store: base.store, clock: base.clock, projects: base.projects, services, locations: o.locations });
  return {
    services, deploys: new RunDeploys({ store: base.store, services, jobs }), builds: new BuildServices({ store: base.store, projects: base.projects, services, serving }),
    reapLeftovers: () => serving.reapLeftovers(o.runtime.restart), resume: () => serving.resume(), stopWhere: which => serving.stopWhere(which), close: () => serving.close(),
  };
}
