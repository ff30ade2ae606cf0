// Cloud Deploy's Pub/Sub notifications (spec §11.1): messages with attributes only, published to the topics
// `clouddeploy-resources`, `-operations`, `-approvals` and `-advances` of the resource's project when they exist, as
// Cloud Deploy publishes to them. Gantry publishes to a Pub/Sub emulator (PUBSUB_EMULATOR_HOST) through the official
// client; events come from the store's change feed, so every way a resource changes is seen.
import type { Store } from '../../store/store.js';
import type { Projects } from '../../google/projects.js';
import type { Logger } from '../../server/log.js';
import { awaitingAdvance, type Rollout } from './rollouts.js';

type Obj = Record<string, unknown>;
export type Attributes = Record<string, string>;

export interface Publisher {
  /** Queues a message for `projects/{project}/topics/{topic}`, sent only if the topic exists. */
  publish(project: string, topic: string, attributes: Attributes): void;
  close(): Promise<void>;
}

const RESOURCE_TYPES: Record<string, string> = {
  deliveryPipeline: 'DeliveryPipeline', target: 'Target', release: 'Release', rollout: 'Rollout', jobRun: 'JobRun',
  automation: 'Automation', customTargetType: 'CustomTargetType',
};
/** Most queued messages; beyond it messages are dropped (and said so in the log). */
const MAX_QUEUE = 10_000;

/** gRPC NOT_FOUND: the topic does not exist, which is how a project says it wants no such messages. */
const NOT_FOUND = 5;

/**
 * The official client against the emulator at `host`. Each message is published to its topic directly, with no
 * existence lookup to go stale: a topic created a moment ago gets the next message, and a missing one answers
 * NOT_FOUND, which is no error here.
 */
export async function emulatorPublisher(host: string, log: Logger): Promise<Publisher> {
  const { PubSub } = await import('@google-cloud/pubsub');
  const clients = new Map<string, InstanceType<typeof PubSub>>();
  let queued = 0;
  const client = (project: string) => {
    let c = clients.get(project);
    if (!c) { c = new PubSub({ projectId: project, apiEndpoint: host, emulatorMode: true }); clients.set(project, c); }
    return c;
  };
  let chain = Promise.resolve();
  return {
    publish(project, topic, attributes) {
      if (queued >= MAX_QUEUE) { log.warn(`Pub/Sub: ${MAX_QUEUE} messages are waiting; dropping one for ${topic}`); return; }
      queued++;
      // One at a time, in order: subscribers see a rollout's events as they happened.
      chain = chain.then(async () => {
        try {
          await client(project).topic(topic).publishMessage({ data: Buffer.alloc(0), attributes });
        } catch (e) {
          if ((e as { code?: number }).code === NOT_FOUND) log.debug(`Pub/Sub: no topic projects/${project}/topics/${topic}; message not sent`);
          else log.warn(`Pub/Sub: publishing to projects/${project}/topics/${topic} failed: ${(e as Error).message}`);
        } finally {
          queued--;
        }
      });
    },
    async close() {
      await chain;
      await Promise.all([...clients.values()].map(c => c.close()));
    },
  };
}

interface Seen { state?: string; approvalState?: string; renderState?: string; awaiting?: boolean; project: string; attrs: Attributes }

/** Watches the store and publishes Cloud Deploy's notifications. */
/**
 * `working`: whether this instance does the work of a resource's project (instances sharing a database publish once,
 * from the instance that works for the project).
 */
export function deployNotifications(store: Store, projects: Projects, publisher: Publisher, startedAt: string, working: (name: string) => boolean = () => true): void {
  const seen = new Map<string, Seen>();
  const remember = (name: string, s: Seen) => {
    if (seen.size >= 100_000) seen.delete(seen.keys().next().value as string);
    seen.set(name, s);
  };
  store.onChange(c => {
    const type = RESOURCE_TYPES[c.kind];
    if (!type || !working(c.name)) return;
    const before = seen.get(c.name);
    if (c.op === 'delete') {
      if (before) publisher.publish(before.project, 'clouddeploy-resources', { ...before.attrs, Action: 'Delete' });
      seen.delete(c.name);
      return;
    }
    const r = store.getParsed<Obj>(c.name);
    if (!r) return;
    const project = projects.resolve(c.name.split('/')[1]);
    const base = attributesOf(c.name, type, r, projects);
    // Created: the first write of a resource (those with updateTime say so themselves; the others are new when
    // made after this Gantry started and not seen yet).
    const created = r.updateTime !== undefined ? r.updateTime === r.createTime : !before && String(r.createTime) >= startedAt;
    publisher.publish(project, 'clouddeploy-resources', { ...base, Action: created ? 'Create' : 'Update' });
    const now: Seen = { project, attrs: base, state: r.state as string | undefined, approvalState: r.approvalState as string | undefined, renderState: r.renderState as string | undefined };
    const op = (action: string) => publisher.publish(project, 'clouddeploy-operations', { ...base, Action: action });
    if (type === 'Release' && now.renderState !== before?.renderState) {
      const action = { IN_PROGRESS: 'Start', SUCCEEDED: 'Succeed', FAILED: 'Failure' }[String(now.renderState)];
      if (action) op(action);
    }
    if (type === 'JobRun' && now.state !== before?.state) {
      const action = { IN_PROGRESS: 'Start', SUCCEEDED: 'Succeed', FAILED: 'Failure', TERMINATED: 'Terminated' }[String(now.state)];
      if (action) op(action);
    }
    if (type === 'Rollout') {
      const ro = r as unknown as Rollout;
      if (now.state !== before?.state) {
        const action = { IN_PROGRESS: 'Start', SUCCEEDED: 'Succeed', FAILED: 'Failure', CANCELLED: 'Cancelled' }[String(now.state)];
        if (action && !(action === 'Start' && before?.state === 'IN_PROGRESS')) op(action);
      }
      if (now.approvalState !== before?.approvalState || (now.state === 'PENDING_APPROVAL') !== (before?.state === 'PENDING_APPROVAL')) {
        const action = now.state === 'PENDING_APPROVAL' && now.approvalState === 'NEEDS_APPROVAL' ? 'Required'
          : now.approvalState === 'APPROVED' && before?.approvalState !== 'APPROVED' ? 'Approve'
            : now.approvalState === 'REJECTED' && before?.approvalState !== 'REJECTED' ? 'Reject' : undefined;
        if (action) publisher.publish(project, 'clouddeploy-approvals', { ...base, Action: action });
      }
      now.awaiting = awaitingAdvance(ro);
      if (now.awaiting && !before?.awaiting) {
        const next = ro.phases.find(p => p.state === 'PENDING');
        publisher.publish(project, 'clouddeploy-advances', { ...base, Action: 'Required', ...(next ? { PhaseId: next.id } : {}) });
      } else if (!now.awaiting && before?.awaiting && now.state === 'IN_PROGRESS') {
        publisher.publish(project, 'clouddeploy-advances', { ...base, Action: 'Advance' });
      }
    }
    remember(c.name, now);
  });
}

/** The attributes Cloud Deploy puts on a message about `name` (names carry the project number). */
export function attributesOf(name: string, type: string, r: Obj, projects: Projects): Attributes {
  const parts = name.split('/');
  const project = projects.resolve(parts[1]);
  const number = projects.number(project);
  const numbered = [parts[0], number, ...parts.slice(2)].join('/');
  const at = (collection: string) => { const i = parts.indexOf(collection); return i >= 0 ? parts[i + 1] : undefined; };
  const a: Attributes = { ResourceType: type, Resource: numbered, Location: parts[3], ProjectNumber: number };
  const pipeline = at('deliveryPipelines');
  if (pipeline && type !== 'DeliveryPipeline') a.DeliveryPipelineId = pipeline;
  const release = at('releases');
  if (release && type !== 'Release') a.ReleaseId = release;
  const rollout = at('rollouts');
  if (rollout && type !== 'Rollout') { a.RolloutId = rollout; a.Rollout = numbered.slice(0, numbered.indexOf(`/rollouts/${rollout}`) + `/rollouts/${rollout}`.length); }
  if (type === 'Rollout') { a.RolloutId = parts[parts.length - 1]; a.Rollout = numbered; }
  if (type === 'Release') a.ReleaseId = parts[parts.length - 1];
  if (type === 'DeliveryPipeline') a.DeliveryPipelineId = parts[parts.length - 1];
  if (type === 'Target') a.TargetId = parts[parts.length - 1];
  if (typeof r.targetId === 'string' && type !== 'Target') a.TargetId = r.targetId;
  if (type === 'JobRun') {
    a.JobRunId = parts[parts.length - 1];
    if (typeof r.phaseId === 'string') a.PhaseId = r.phaseId;
    if (typeof r.jobId === 'string') a.JobId = r.jobId;
  }
  return a;
}
