// google.cloud.location.Locations: the regions an API offers, for every project.
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

export function locationMethods(ctx: ApiContext) {
  const location = (project: string, id: string) => ({ name: `projects/${project}/locations/${id}`, locationId: id, displayName: REGIONS[id] });
  return {
    list: {
      query: ['filter', 'pageSize', 'pageToken', 'extraLocationTypes'],
      handler: req => {
        queryList(req, 'extraLocationTypes');
        const project = req.params.name.split('/')[1];
        const ast = parseFilter(ctx.schema, 'Location', queryString(req, 'filter'));
        const all = Object.keys(REGIONS).map(id => location(project, id)).filter(l => !ast || evaluate(ast, l, ctx.schema));
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
        if (!REGIONS[id]) throw errors.notFound('locations.googleapis.com/Location', req.params.name, `Location '${req.params.name}' was not found`);
        return { body: location(project, id) };
      },
    } satisfies MethodSpec,
  };
}
