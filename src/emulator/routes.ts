// Gantry's own control API under /gantry/v1: health and info, outcome scripts, and the clock (read, advance in virtual mode).
import type { App } from '../server/app.js';
import type { SwitchableClock } from '../engine/clock.js';
import type { ControllerRuntime } from '../engine/controllers.js';
import { errors } from '../google/errors.js';
import type { OutcomeScripts } from './outcome-scripts.js';
import type { GantryInfo } from './info.js';
import type { EventFeed } from './events.js';
import { controlApiDocument } from './openapi.js';
import { resetState } from './reset.js';
import { exportSnapshot, importSnapshot, type SnapshotDeps } from './snapshot.js';
import { queryInt, queryString } from '../server/api.js';
import { pageSize } from '../google/paging.js';
import { projectParam } from './params.js';
import { knownProjects } from '../google/projects.js';
import { MAX_TIMESTAMP, MAX_TIMESTAMP_MS, parseFlexibleDurationMs, parseTimestamp } from '../google/time.js';

/** The default and largest page of outcome scripts (Cloud Storage's bound; a page also stops at 4 MiB). */
const OUTCOMES_PAGE = 1000;

export function registerEmulator(app: App, clock: SwitchableClock, runtime: ControllerRuntime, outcomes: OutcomeScripts, info: GantryInfo, events: EventFeed, reset: SnapshotDeps): void {
  app.route('GET', '/gantry/v1/snapshot', {
    query: ['project'],
    handler: req => {
      const lines = exportSnapshot(reset, projectParam(queryString(req, 'project')));
      return {
        body: undefined, headers: { 'content-type': 'application/x-ndjson; charset=utf-8', 'cache-control': 'no-store' },
        stream: res => {
          // Written as the client reads it: a large state is never held whole.
          const pump = () => {
            for (let r = lines.next(); !r.done; r = lines.next()) if (!res.write(r.value)) { res.once('drain', pump); return; }
            res.end();
          };
          res.on('close', () => lines.return(undefined));
          pump();
        },
      };
    },
  });
  app.route('POST', '/gantry/v1/snapshot:import', {
    query: ['project'], rawBody: true,
    handler: async req => {
      const type = String(req.headers['content-type'] ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-ndjson' && type !== 'application/json') throw errors.invalidArgument(`A snapshot is sent as application/x-ndjson, not "${type.slice(0, 80) || 'none'}".`, '');
      const project = projectParam(queryString(req, 'project'));
      return { body: { ...(project ? { project } : {}), ...(await importSnapshot(reset, (req.body as Buffer).toString('utf8'), project)) } };
    },
  });
  app.route('POST', '/gantry/v1/reset', {
    handler: async req => {
      const body = (req.body ?? {}) as { project?: unknown };
      const extra = Object.keys(body).filter(k => k !== 'project');
      if (extra.length) throw errors.invalidArgument(`Invalid JSON payload received. Unknown name "${extra[0].slice(0, 100)}": Cannot find field.`, extra[0].slice(0, 100));
      if (body.project !== undefined && (typeof body.project !== 'string' || !/^[a-z][a-z0-9-]{0,62}$/.test(body.project))) throw errors.invalidArgument(`project must be a project id, not ${JSON.stringify(body.project).slice(0, 80)}.`, 'project');
      const r = await resetState(reset, projectParam(body.project));
      return { body: { ...(body.project ? { project: body.project } : {}), ...r } };
    },
  });
  app.route('GET', '/gantry/v1/events', events.route());
  app.route('GET', '/gantry/v1/projects', { handler: () => ({ body: { projects: knownProjects(reset.store) } }) });
  const openapi = JSON.stringify(controlApiDocument());
  app.route('GET', '/gantry/v1/openapi.json', { handler: () => ({ body: openapi, raw: true }) });
  app.route('GET', '/gantry/v1/outcomes', {
    query: ['pageSize', 'pageToken'],
    handler: req => ({ body: outcomes.page(pageSize(queryInt(req, 'pageSize'), OUTCOMES_PAGE, OUTCOMES_PAGE), queryString(req, 'pageToken')) }),
  });
  app.route('POST', '/gantry/v1/outcomes', {
    handler: req => {
      const body = (req.body ?? {}) as { scope?: unknown; rules?: unknown };
      if (typeof body.rules !== 'string' || !body.rules.trim()) throw errors.invalidArgument('rules is required, e.g. "stable/verify=fail:EXECUTION_FAILED@1".', 'rules');
      if (body.scope !== undefined && typeof body.scope !== 'string') throw errors.invalidArgument('scope must be a resource name (or "" for every rollout).', 'scope');
      return { body: outcomes.add(String(body.scope ?? ''), body.rules) };
    },
  });
  app.route('DELETE', '/gantry/v1/{name=gantry/outcomes/*}', {
    handler: req => {
      if (!outcomes.delete(req.params.name)) throw errors.notFound('gantry/OutcomeScript', req.params.name);
      return { body: {} };
    },
  });
  const view = () => ({ mode: clock.mode, now: new Date(clock.now()).toISOString() });
  app.route('GET', '/gantry/v1/healthz', { handler: async () => ({ body: await info.health() }) });
  app.route('GET', '/gantry/v1/info', { handler: async () => ({ body: await info.info() }) });
  app.route('GET', '/gantry/v1/clock', { handler: () => ({ body: view() }) });
  // Freezing stops time where it is (virtual mode); unfreezing lets it run on from there (real mode, never back).
  app.route('POST', '/gantry/v1/clock:freeze', { handler: async () => {
    // One instance's frozen clock would disagree with every other's timers and timestamps (docs/fidelity.md).
    if (info.shared) throw errors.failedPrecondition('The clock is shared by every Gantry on this PostgreSQL store and runs in real time: a virtual clock needs the embedded store.', 'clock');
    clock.freeze();
    await runtime.idle();
    return { body: view() };
  } });
  app.route('POST', '/gantry/v1/clock:unfreeze', { handler: () => { clock.unfreeze(); return { body: view() }; } });
  app.route('POST', '/gantry/v1/clock:advance', {
    handler: async req => {
      if (info.shared) throw errors.failedPrecondition('The clock is shared by every Gantry on this PostgreSQL store and runs in real time: a virtual clock needs the embedded store.', 'clock');
      if (clock.mode !== 'virtual') throw errors.failedPrecondition('The clock runs in real time: freeze it first (POST /gantry/v1/clock:freeze, or start Gantry with --clock=virtual).', 'clock');
      const body = (req.body ?? {}) as { duration?: unknown; to?: unknown };
      if (body.to !== undefined) {
        const t = typeof body.to === 'string' ? parseTimestamp(body.to) : undefined;
        if (t === undefined) throw errors.invalidArgument(`Invalid value at 'to' (RFC 3339 timestamp), ${JSON.stringify(body.to)}`, 'to');
        const ms = Number(t / 1_000_000n);
        if (ms < clock.now()) throw errors.invalidArgument('The clock cannot move backwards.', 'to');
        beforeEndOfTime(ms, 'to');
        await settle(clock, runtime, ms);
      } else {
        const ms = typeof body.duration === 'string' ? parseFlexibleDurationMs(body.duration) : undefined;
        if (ms === undefined || ms < 0) throw errors.invalidArgument(`Invalid value at 'duration': ${JSON.stringify(body.duration)} is not a duration (e.g. "600s", "10m", "1h30m").`, 'duration');
        beforeEndOfTime(clock.now() + ms, 'duration');
        await settle(clock, runtime, clock.now() + ms);
      }
      return { body: view() };
    },
  });
}

/** Refuses a move past the end of Google's timestamp range: every time Gantry then wrote would be malformed. */
function beforeEndOfTime(ms: number, field: string): void {
  if (ms > MAX_TIMESTAMP_MS) throw errors.invalidArgument(`The clock cannot move past ${MAX_TIMESTAMP}, the last instant a Google timestamp holds.`, field);
}

/** Advances in steps, letting controllers react to each timer before the next fires. */
async function settle(clock: SwitchableClock, runtime: ControllerRuntime, target: number): Promise<void> {
  await runtime.idle();
  for (let i = 0; i < 100_000; i++) {
    const next = clock.nextDue();
    if (next === undefined || next > target) break;
    clock.set(next);
    await runtime.idle();
  }
  clock.set(target);
  await runtime.idle();
}
