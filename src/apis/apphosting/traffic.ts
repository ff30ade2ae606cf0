// A backend's Traffic, a singleton: get, and patch of `target` (pin builds) or `rolloutPolicy` (automatic rollouts
// of a branch). A patch's operation finishes once `current` shows the change (the traffic controller's work).
import { queryBool, queryString, type ApiReply, type ApiRequest, type MethodSpec } from '../../server/api.js';
import type { ApiContext } from '../../google/context.js';
import { errors } from '../../google/errors.js';
import { applyMask } from '../../google/fieldmask.js';
import { locationOf, notFound, opReply, withEtag, type KindStrategy, type StandardMethods } from '../../google/standard-methods.js';
import { toSnake } from '../../google/schema.js';
import type { Writer } from '../../store/store.js';
import { KIND, viewOf, type Version } from './service.js';
import { validRef } from './validate.js';

type Obj = Record<string, unknown>;

export function trafficStrategy(v: Version): KindStrategy {
  return { kind: KIND.traffic, message: 'Traffic', collection: 'traffic', idParam: '', bodyField: 'traffic', view: viewOf(v, 'Traffic') };
}

/** Stores traffic (its etag and updateTime follow); `active` while `current` has yet to reach `target`. */
export function putTraffic(w: Writer, t: Obj, now: string): void {
  t.updateTime = now;
  t.reconciling = !!pendingTarget(t);
  const name = String(t.name);
  w.put(KIND.traffic, name, name.slice(0, -'/traffic'.length), withEtag(t), String(t.createTime), t.reconciling as boolean);
}

/** The target `current` has yet to reach, if any. */
export function pendingTarget(t: Obj): Obj | undefined {
  const target = t.target as Obj | undefined;
  if (!target) return undefined;
  return JSON.stringify(splitsOf(target)) === JSON.stringify(splitsOf(t.current as Obj | undefined)) ? undefined : target;
}

/** The builds a traffic set sends requests to (100 % ones; splits are all or nothing). */
export function splitsOf(set: Obj | undefined): { build: string; percent: number }[] {
  return ((set?.splits ?? []) as Obj[]).map(s => ({ build: String(s.build), percent: Number(s.percent ?? 0) })).filter(s => s.percent > 0);
}

/** The commit at a branch's head (undefined while the branch does not exist); throws when the repository cannot be read. */
export type BranchHead = (backend: Obj, branch: string) => Promise<string | undefined>;

/** The branch head recorded when a policy turns automatic rollouts on: later commits roll out. */
interface Baseline { branch: string; commit?: string }

export function patchTraffic(ctx: ApiContext, std: StandardMethods, v: Version, branchHead: BranchHead): MethodSpec {
  const view = viewOf(v, 'Traffic');
  /**
   * The patch, applied at once (nothing is awaited between reading the traffic and writing it back). When it turns
   * automatic rollouts on and the branch head is not known yet (`known`), it asks for it instead of applying.
   */
  const apply = (req: ApiRequest, known: Baseline | null | undefined): ApiReply | { ask: { backend: Obj; branch: string } } => {
    const name = req.params['traffic.name'];
    const replayed = std.replay(req, 'update', name);
    if (replayed) return replayed;
    const patch = ctx.schema.decode('Traffic', req.body ?? {}, 'traffic');
    const existing = ctx.store.getParsed<Obj>(name);
    if (!existing || ctx.store.get(name)?.kind !== KIND.traffic) throw notFound(ctx, 'Traffic', name);
    const mask = queryString(req, 'updateMask');
    const merged = applyMask(ctx.schema, 'Traffic', existing, patch, mask);
    // target and rolloutPolicy are one choice: setting one clears the other.
    const touched = (f: string) => mask === undefined || mask.trim() === '' || mask === '*' || mask.split(',').some(p => { const q = p.trim(); return q === f || q === toSnake(f) || q.startsWith(f + '.') || q.startsWith(toSnake(f) + '.'); });
    if (touched('target') && merged.target && touched('rolloutPolicy') && merged.rolloutPolicy) {
      throw errors.invalidArgument('traffic.target and traffic.rollout_policy are one choice: set only one', 'traffic');
    }
    if (touched('target') && merged.target) delete merged.rolloutPolicy;
    if (touched('rolloutPolicy') && merged.rolloutPolicy) delete merged.target;
    const backend = name.slice(0, -'/traffic'.length);
    checkTarget(ctx, backend, merged.target as Obj | undefined);
    const policy = merged.rolloutPolicy as Obj | undefined;
    if (policy) {
      if (policy.codebaseBranch !== undefined && !validRef(String(policy.codebaseBranch))) throw errors.invalidArgument(`traffic.rollout_policy.codebase_branch "${String(policy.codebaseBranch).slice(0, 100)}" is not a branch name`, 'traffic.rollout_policy.codebase_branch');
      if (policy.codebaseBranch && !(ctx.store.getParsed<Obj>(backend)?.codebase as Obj | undefined)?.repository) {
        throw errors.failedPrecondition(`Backend ${backend} has no codebase.repository: automatic rollouts need one.`, backend);
      }
      const was = (existing.rolloutPolicy as Obj | undefined)?.disabled === true;
      if (policy.disabled === true && !was) policy.disabledTime = ctx.clock.timestamp();
      else if (policy.disabled !== true) delete policy.disabledTime;
      else policy.disabledTime = (existing.rolloutPolicy as Obj).disabledTime;
    }
    for (const k of ['labels', 'annotations'] as const) if (merged[k] === undefined) delete merged[k];
    if (queryBool(req, 'validateOnly')) return opReply(ctx, std.validateOnlyOp(name, 'update', { type: `${ctx.svc.protoPackage}.Traffic`, value: view(merged) }));
    const branch = turnsOn(existing, policy);
    if (branch) {
      if (known === undefined) return { ask: { backend: ctx.store.getParsed<Obj>(backend)!, branch } };
      // Known for this branch: recorded. Unknown (the repository could not be read): the first poll records it.
      if (known?.branch === branch) merged.gantry = { ...(merged.gantry as Obj | undefined), seen: known };
    }
    const op = ctx.store.tx(w => {
      const now = ctx.clock.timestamp();
      const pending = pendingTarget(merged);
      const op = ctx.ops.create(w, ctx.svc, locationOf(name), name, 'update', pending ? undefined : { response: { type: `${ctx.svc.protoPackage}.Traffic`, value: view({ ...merged, updateTime: now, reconciling: false }) } });
      if (pending) merged.gantry = { ...(merged.gantry as Obj | undefined), ops: [...(((merged.gantry as Obj | undefined)?.ops as string[] | undefined) ?? []), op.name] };
      putTraffic(w, merged, now);
      std.rememberRequest(req, 'update', name, op, w);
      return op;
    });
    return opReply(ctx, op);
  };
  return {
    query: ['updateMask', 'requestId', 'validateOnly'],
    handler: async req => {
      const first = apply(req, undefined);
      if (!('ask' in first)) return first;
      const { backend, branch } = first.ask;
      let known: Baseline | null;
      try { known = { branch, commit: await branchHead(backend, branch) }; } catch { known = null; }
      if (known && !known.commit) delete known.commit;
      // Applied again to what is stored now: a change made meanwhile is not overwritten. (Given `known`, it never asks.)
      // After the await, outside the request's transaction: on a store other instances write too, it takes its own.
      const again = () => apply(req, known) as ApiReply;
      return ctx.store.exclusive ? ctx.store.exclusive(again) : again();
    },
  };
}

/**
 * The branch a patch turns automatic rollouts on for: newly followed, or followed again after being disabled or
 * replaced by a target. An unchanged policy keeps the baseline it has.
 */
function turnsOn(existing: Obj, policy: Obj | undefined): string | undefined {
  const branch = policy?.codebaseBranch ? String(policy.codebaseBranch) : undefined;
  if (!branch || policy?.disabled === true) return undefined;
  const was = existing.rolloutPolicy as Obj | undefined;
  const seen = (existing.gantry as Obj | undefined)?.seen as Baseline | undefined;
  return was && was.disabled !== true && String(was.codebaseBranch ?? '') === branch && seen?.branch === branch ? undefined : branch;
}

/** A target's rules: splits of this backend's builds (existing, not failed), each 0 or 100 percent, 100 in all. */
function checkTarget(ctx: ApiContext, backend: string, target: Obj | undefined): void {
  if (!target) return;
  const splits = (target.splits ?? []) as Obj[];
  if (!splits.length) throw errors.invalidArgument('traffic.target.splits is required', 'traffic.target.splits');
  let total = 0;
  splits.forEach((s, i) => {
    const at = `traffic.target.splits[${i}]`;
    const build = String(s.build ?? '');
    const percent = Number(s.percent ?? 0);
    if (percent !== 0 && percent !== 100) throw errors.invalidArgument(`${at}.percent must be 0 or 100 (it is ${percent})`, `${at}.percent`);
    total += percent;
    if (!build.startsWith(`${backend}/builds/`)) throw errors.invalidArgument(`${at}.build "${build.slice(0, 300)}" must be a build of ${backend}`, `${at}.build`);
    const b = ctx.store.getParsed<Obj>(build);
    if (!b || ctx.store.get(build)?.kind !== KIND.build || b.deleteTime !== undefined) throw errors.failedPrecondition(`Build ${build} was not found`, build);
    if (percent > 0 && b.state !== 'READY') throw errors.failedPrecondition(`Build ${build} is ${String(b.state)}: only a READY build can take traffic`, build);
  });
  if (total !== 100) throw errors.invalidArgument(`traffic.target.splits add up to ${total} percent; they must add up to 100`, 'traffic.target.splits');
}

