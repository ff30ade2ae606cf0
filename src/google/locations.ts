// google.cloud.location.Locations: the regions an API offers, for every project. The list is the source of truth:
// every method of a location-scoped API refuses a location not in it, as Google does.
import { queryInt, queryList, queryString, type MethodSpec } from '../server/api.js';
import type { ApiContext } from './context.js';
import { errors } from './errors.js';
import { evaluate, parseFilter } from './filter.js';
import { pageSize } from './paging.js';

export const REGIONS: Record<string, string> = {
  'asia-east1': 'Taiwan', 'asia-northeast1': 'Tokyo', 'asia-south1': 'Mumbai', 'asia-southeast1': 'Singapore',
  'australia-southeast1': 'Sydney', 'europe-north1': 'Finland', 'europe-west1': 'Belgium', 'europe-west2': 'London',
  'europe-west3': 'Frankfurt', 'europe-west4': 'Netherlands', 'northamerica-northeast1': 'Montréal',
  'southamerica-east1': 'São Paulo', 'us-central1': 'Iowa', 'us-east1': 'South Carolina', 'us-east4': 'Northern Virginia',
  'us-west1': 'Oregon', 'us-west2': 'Los Angeles',
};

/** A location id: what Google's region and zone names look like (`us-central1`, `europe-west4`, `global`). */
const LOCATION_ID = /^[a-z][a-z0-9-]{0,62}$/;

/**
 * The locations a Gantry serves: `REGIONS` unless configured. `-` (every location) is never one of them; lists accept
 * it as a wildcard (AIP-159).
 */
export class Locations {
  private readonly set: ReadonlySet<string>;

  /** Throws an Error naming the first id that is not a location id (for a command-line flag). */
  constructor(ids: readonly string[] = Object.keys(REGIONS)) {
    const bad = ids.find(id => !LOCATION_ID.test(id) || id.endsWith('-'));
    if (bad !== undefined) throw new Error(`"${bad}" is not a location id (lowercase letters, digits and hyphens, e.g. us-central1)`);
    if (!ids.length) throw new Error('at least one location is needed');
    this.set = new Set(ids);
  }

  has(id: string): boolean { return this.set.has(id); }

  ids(): string[] { return [...this.set]; }

  /**
   * Refuses, as Google does, a request naming (in `name`, `projects/{p}/locations/{l}/…`) a location this server does
   * not offer: PERMISSION_DENIED `Location {l} is not found or access is unauthorized.`. `-` passes only when
   * `wildcard` (lists).
   */
  check(name: string, service: string, opts: { wildcard?: boolean } = {}): void {
    // The fourth segment, found by scanning (every request of a located API passes here).
    const a = name.indexOf('/'), b = a < 0 ? -1 : name.indexOf('/', a + 1), c = b < 0 ? -1 : name.indexOf('/', b + 1);
    if (c < 0) return;
    const d = name.indexOf('/', c + 1);
    const id = name.slice(c + 1, d < 0 ? undefined : d);
    if (this.set.has(id) || (opts.wildcard && id === '-')) return;
    throw errors.locationDenied(id, service);
  }
}

const DEFAULT = new Locations();

/** The locations of an API context: its own when configured, else `REGIONS`. */
export function locationsOf(ctx: ApiContext): Locations {
  return ctx.locations ?? DEFAULT;
}

/** Checks the location of `name` against the context's locations (see `Locations.check`). */
export function checkLocation(ctx: ApiContext, name: string, opts: { wildcard?: boolean } = {}): void {
  locationsOf(ctx).check(name, ctx.svc.serviceName, opts);
}

/**
 * `spec` behind the location check, for any method of a location-scoped API: the path variable holding
 * `projects/{p}/locations/{l}…` must name a served location; `-` passes only for a GET of a collection under it
 * (a list). Wrapping every route an API registers puts all its methods, custom verbs included, behind the check.
 */
export function locationScoped(ctx: ApiContext, spec: MethodSpec): MethodSpec {
  return {
    ...spec,
    handler: req => {
      for (const key in req.params) {
        const value = req.params[key];
        if (!value.startsWith('projects/')) continue;
        // On every request: the served case is a scan and a set lookup, no split or regex.
        const a = value.indexOf('/', 9);
        if (a < 0 || !value.startsWith('locations/', a + 1)) continue;
        const b = value.indexOf('/', a + 11);
        if (locationsOf(ctx).has(value.slice(a + 11, b < 0 ? undefined : b))) continue;
        const named = req.path.replace(/^\/v\d[^/]*\//, '').replace(/:[^/]*$/, '');
        checkLocation(ctx, value, { wildcard: req.method === 'GET' && named !== value });
      }
      return spec.handler(req);
    },
  };
}

export function locationMethods(ctx: ApiContext) {
  const location = (project: string, id: string) => ({
    name: `projects/${project}/locations/${id}`, locationId: id, ...(REGIONS[id] ? { displayName: REGIONS[id] } : {}),
  });
  return {
    list: {
      query: ['filter', 'pageSize', 'pageToken', 'extraLocationTypes'],
      handler: req => {
        queryList(req, 'extraLocationTypes');
        const project = req.params.name.split('/')[1];
        const ast = parseFilter(ctx.schema, 'Location', queryString(req, 'filter'));
        const all = locationsOf(ctx).ids().map(id => location(project, id)).filter(l => !ast || evaluate(ast, l, ctx.schema));
        const size = pageSize(queryInt(req, 'pageSize'), 1000, 1000);
        const start = Number(queryString(req, 'pageToken') || 0);
        if (!Number.isInteger(start) || start < 0) throw errors.invalidArgument('Invalid page token.', 'page_token');
        const page = all.slice(start, start + size);
        const body: Record<string, unknown> = { locations: page };
        if (start + size < all.length) body.nextPageToken = String(start + size);
        return { body };
      },
    } satisfies MethodSpec,
    get: {
      handler: req => {
        const [, project, , id] = req.params.name.split('/');
        checkLocation(ctx, req.params.name);
        return { body: location(project, id) };
      },
    } satisfies MethodSpec,
  };
}
