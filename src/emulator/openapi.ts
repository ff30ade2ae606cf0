// Gantry's own control API as an OpenAPI 3.1 document (served at /gantry/v1/openapi.json). Each operation names the
// router template it documents (`x-gantry-route`), and a test checks that every /gantry/v1 route is here.
import { VERSION } from '../version.js';

const json = (schema: Record<string, unknown>, description = 'OK') => ({ description, content: { 'application/json': { schema } } });
const status = { $ref: '#/components/schemas/Status' };
const errorsOf = { default: json({ type: 'object', properties: { error: status } }, 'A google.rpc.Status error') };
const obj = (properties: Record<string, unknown>, required: string[] = []) => ({ type: 'object', properties, ...(required.length ? { required } : {}) });
const str = { type: 'string' };

export function controlApiDocument(): Record<string, unknown> {
  const clock = obj({ mode: { enum: ['real', 'virtual'] }, now: { type: 'string', format: 'date-time' } });
  const health = obj({
    status: { const: 'SERVING' }, version: str,
    apis: { type: 'array', items: obj({ name: str, versions: { type: 'array', items: str }, grpcServices: { type: 'array', items: str } }) },
    executors: obj({ enabled: { type: 'array', items: { enum: ['simulated', 'process', 'container'] } }, default: str, containerEngine: { enum: ['REACHABLE', 'UNREACHABLE'] } }),
    clock,
  });
  const outcome = obj({ name: str, scope: str, rules: str });
  return {
    openapi: '3.1.0',
    info: { title: 'Gantry control API', version: VERSION, description: "Gantry's own API: health, the event feed, the clock and scripted outcomes. Google's APIs are served beside it." },
    paths: {
      '/gantry/v1/healthz': { get: { 'x-gantry-route': 'GET /gantry/v1/healthz', summary: 'Health, version, APIs, executors and the clock', responses: { 200: json(health), ...errorsOf } } },
      '/gantry/v1/info': { get: { 'x-gantry-route': 'GET /gantry/v1/info', summary: 'healthz, and where this Gantry listens and keeps its state', responses: { 200: json({ allOf: [health, obj({ url: str, ephemeral: { type: 'boolean' }, dataDir: str, tlsCertFile: str, pid: { type: 'integer' }, node: str, startTime: { type: 'string', format: 'date-time' } })] }), ...errorsOf } } },
      '/gantry/v1/projects': { get: { 'x-gantry-route': 'GET /gantry/v1/projects', summary: 'The projects that hold resources (the console lists them)', responses: { 200: json(obj({ projects: { type: 'array', items: str } })), ...errorsOf } } },
      '/gantry/v1/openapi.json': { get: { 'x-gantry-route': 'GET /gantry/v1/openapi.json', summary: 'This document', responses: { 200: json({ type: 'object' }) } } },
      '/gantry/v1/events': {
        get: {
          'x-gantry-route': 'GET /gantry/v1/events', summary: 'Every resource change, as server-sent events (event: put | delete)',
          parameters: [
            { name: 'project', in: 'query', schema: str, description: 'only resources of this project' },
            { name: 'kind', in: 'query', schema: { type: 'array', items: str }, description: 'only these kinds (rollout, jobRun, release, …)' },
            { name: 'prefix', in: 'query', schema: str, description: 'only names starting with this' },
          ],
          responses: { 200: { description: 'A stream of events', content: { 'text/event-stream': { schema: obj({ id: { type: 'integer' }, type: { enum: ['put', 'delete'] }, kind: str, name: str, time: { type: 'string', format: 'date-time' }, state: str }) } } }, ...errorsOf },
        },
      },
      '/gantry/v1/reset': {
        post: {
          'x-gantry-route': 'POST /gantry/v1/reset', summary: "Forgets all state, or one project's; answers once that scope's running tasks have exited and its controllers are idle (the clock is kept)",
          requestBody: { content: { 'application/json': { schema: obj({ project: str }) } } },
          responses: { 200: json(obj({ project: str, resources: { type: 'integer' }, tasksStopped: { type: 'integer' } })), ...errorsOf },
        },
      },
      '/gantry/v1/snapshot': {
        get: {
          'x-gantry-route': 'GET /gantry/v1/snapshot', summary: "The whole state, or one project's, as newline-delimited JSON (resources, log entries, project numbers, stored objects' bytes)",
          parameters: [{ name: 'project', in: 'query', schema: str }],
          responses: { 200: { description: 'One JSON object per line, a header first', content: { 'application/x-ndjson': { schema: str } } }, ...errorsOf },
        },
      },
      '/gantry/v1/snapshot:import': {
        post: {
          'x-gantry-route': 'POST /gantry/v1/snapshot:import', summary: "Replaces the state (or one project's) with a snapshot's: the scope is reset, filled, and its unfinished work resumes",
          parameters: [{ name: 'project', in: 'query', schema: str }],
          requestBody: { content: { 'application/x-ndjson': { schema: str } } },
          responses: { 200: json(obj({ project: str, resources: { type: 'integer' }, logEntries: { type: 'integer' } })), ...errorsOf },
        },
      },
      '/gantry/v1/clock': { get: { 'x-gantry-route': 'GET /gantry/v1/clock', summary: 'The clock', responses: { 200: json(clock), ...errorsOf } } },
      '/gantry/v1/clock:freeze': { post: { 'x-gantry-route': 'POST /gantry/v1/clock:freeze', summary: 'Stops time where it is (virtual mode): timers wait for an advance', responses: { 200: json(clock), ...errorsOf } } },
      '/gantry/v1/clock:unfreeze': { post: { 'x-gantry-route': 'POST /gantry/v1/clock:unfreeze', summary: 'Lets time run again (real mode) from the frozen instant, never back', responses: { 200: json(clock), ...errorsOf } } },
      '/gantry/v1/clock:advance': {
        post: {
          'x-gantry-route': 'POST /gantry/v1/clock:advance', summary: 'Moves the virtual clock by a duration or to an instant; answers once every consequence has settled',
          requestBody: { content: { 'application/json': { schema: { oneOf: [obj({ duration: { ...str, examples: ['90s', '10m', '1h30m'] } }, ['duration']), obj({ to: { type: 'string', format: 'date-time' } }, ['to'])] } } } },
          responses: { 200: json(clock), ...errorsOf },
        },
      },
      '/gantry/v1/outcomes': {
        get: {
          'x-gantry-route': 'GET /gantry/v1/outcomes', summary: 'Scripted outcome rules, oldest first, a page at a time (AIP-158)',
          parameters: [{ name: 'pageSize', in: 'query', schema: { type: 'integer', minimum: 0, maximum: 1000 }, description: 'at most this many (default and cap 1000)' }, { name: 'pageToken', in: 'query', schema: str }],
          responses: { 200: json(obj({ outcomes: { type: 'array', items: outcome }, nextPageToken: str })), ...errorsOf },
        },
        post: {
          'x-gantry-route': 'POST /gantry/v1/outcomes', summary: 'Adds outcome rules for the work under a resource name prefix',
          requestBody: { content: { 'application/json': { schema: obj({ scope: str, rules: { ...str, examples: ['stable/verify=fail:EXECUTION_FAILED@1'] } }, ['rules']) } } },
          responses: { 200: json(outcome), ...errorsOf },
        },
      },
      '/gantry/v1/gantry/outcomes/{id}': {
        delete: { 'x-gantry-route': 'DELETE /gantry/v1/{name=gantry/outcomes/*}', summary: 'Removes outcome rules', parameters: [{ name: 'id', in: 'path', required: true, schema: str }], responses: { 200: json({ type: 'object' }), ...errorsOf } },
      },
      '/gantry/v1/logs/viewer': {
        get: {
          'x-gantry-route': 'GET /gantry/v1/logs/viewer', summary: 'Log entries as text (where Cloud Run logUri points)',
          parameters: [{ name: 'project', in: 'query', required: true, schema: str }, { name: 'advancedFilter', in: 'query', schema: str }],
          responses: { 200: { description: 'The newest 5,000 matching lines', content: { 'text/plain': { schema: str } } }, ...errorsOf },
        },
      },
      '/gantry/v1/cloud-build/{builds}/{id}': {
        get: {
          'x-gantry-route': 'GET /gantry/v1/cloud-build/{builds}/{id}', summary: "A Cloud Build log URL (App Hosting's buildLogsUri): redirects to the log viewer",
          parameters: [{ name: 'builds', in: 'path', required: true, schema: { ...str, examples: ['builds;region=us-central1'] } }, { name: 'id', in: 'path', required: true, schema: str }, { name: 'project', in: 'query', required: true, schema: str }],
          responses: { 302: { description: 'To the log viewer' }, ...errorsOf },
        },
      },
    },
    components: {
      schemas: {
        Status: obj({ code: { type: 'integer' }, message: str, status: str, details: { type: 'array', items: { type: 'object' } } }, ['code', 'message']),
      },
    },
  };
}
