// The kinds of stored row a snapshot may carry, each with the shape of its name and its parent: a snapshot is
// untrusted input, so an imported row must be one Gantry itself could have stored. A kind Gantry stores and this
// table lacks makes its own exports fail to import (the snapshot round-trip tests catch that).
import { OPERATION_KIND } from '../google/operations.js';
import { BUILD_KIND } from '../google/cloud-build.js';
import { KIND as APPHOSTING } from '../apis/apphosting/service.js';
import { EXECUTION, JOB, TASK } from '../apis/run/service.js';
import { v2Execution, v2Job, v2Task, type V2Names } from '../apis/run/v2-convert.js';
import { v2Revision, v2Service } from '../apis/run/services-v2-convert.js';
import { REVISION_KIND, SERVICE_KIND } from '../apis/run/revisions.js';
import { OUTCOME_SCRIPT_KIND } from './outcome-scripts.js';
import type { ApiSchema } from '../google/schema.js';
import { schema as DEPLOY } from '../apis/clouddeploy/service.js';
import { schemaV1 as RUN } from '../apis/run/service.js';
import { SCHEMAS as APPHOSTING_SCHEMAS } from '../apis/apphosting/service.js';
import { schema as SECRETS } from '../apis/secretmanager/index.js';
import { schema as DEVCONNECT, LINK_KIND as LINK } from '../apis/developerconnect/index.js';

interface KindShape {
  /** The name's segments: a literal, or `*` for any one id. */
  name: string;
  /**
   * The parent: the name without its last `n` segments (default 2, its collection and id), or a template whose
   * `{i}` is the name's i-th segment.
   */
  parent?: number | string;
  /** The API message its data is (type-checked on import; fields the message lacks are Gantry's own and pass). */
  message?: [ApiSchema, string];
  /**
   * What its readers need beyond the message's types (fields they take as present, Gantry's own fields): why the data
   * would fail them, or undefined.
   */
  check?: (data: Obj, segs: string[]) => string | undefined;
}

type Obj = Record<string, unknown>;

/** Cloud Run's v2 view of a stored v1 row: what every v2 read and operation shows, so it must be showable. */
function showable(view: (o: Obj, n: V2Names) => unknown): KindShape['check'] {
  return (data, segs) => {
    try { view(data, { project: segs[1], region: segs[3] }); return undefined; } catch (e) { return `its Cloud Run view cannot be made (${String((e as Error).message).slice(0, 120)}).`; }
  };
}

/** Gantry's own fields of a row: each absent or of its type. */
function fieldsOf(types: Record<string, 'string' | 'number' | 'object'>, required: string[] = []): KindShape['check'] {
  return data => {
    for (const k of required) if (data[k] === undefined) return `it needs "${k}".`;
    for (const [k, t] of Object.entries(types)) {
      const v = data[k];
      if (v !== undefined && (typeof v !== t || v === null || (t === 'object' && Array.isArray(v)))) return `"${k}" must be a ${t}.`;
    }
    return undefined;
  };
}

const AH = APPHOSTING_SCHEMAS.v1beta;

const LOC = 'projects/*/locations/*';
const PIPELINE = `${LOC}/deliveryPipelines/*`;
const ROLLOUT = `${PIPELINE}/releases/*/rollouts/*`;
const BACKEND = `${LOC}/backends/*`;

export const SNAPSHOT_KINDS: Record<string, KindShape> = {
  // Cloud Deploy (and every API's long-running operations under a location)
  target: { name: `${LOC}/targets/*`, message: [DEPLOY, 'Target'] },
  deliveryPipeline: { name: PIPELINE, message: [DEPLOY, 'DeliveryPipeline'] },
  release: { name: `${PIPELINE}/releases/*`, message: [DEPLOY, 'Release'] },
  rollout: { name: ROLLOUT, message: [DEPLOY, 'Rollout'] },
  jobRun: { name: `${ROLLOUT}/jobRuns/*`, message: [DEPLOY, 'JobRun'] },
  jobRunExec: { name: `${ROLLOUT}/jobRuns/*/~exec`, parent: 1 },
  automation: { name: `${PIPELINE}/automations/*`, message: [DEPLOY, 'Automation'] },
  automationRun: { name: `${PIPELINE}/automationRuns/*`, message: [DEPLOY, 'AutomationRun'] },
  customTargetType: { name: `${LOC}/customTargetTypes/*`, message: [DEPLOY, 'CustomTargetType'] },
  deployPolicy: { name: `${LOC}/deployPolicies/*`, message: [DEPLOY, 'DeployPolicy'] },
  [OPERATION_KIND]: { name: `${LOC}/operations/*` },
  // Cloud Run (v1's flat collections: an execution's parent is its job, a task's its execution)
  [JOB]: { name: `${LOC}/jobs/*`, message: [RUN, 'Job'], check: showable(v2Job) },
  [EXECUTION]: { name: `${LOC}/executions/*`, parent: 'projects/{1}/locations/{3}/jobs/*', message: [RUN, 'Execution'], check: showable(v2Execution) },
  [TASK]: { name: `${LOC}/tasks/*`, parent: 'projects/{1}/locations/{3}/executions/*', message: [RUN, 'Task'], check: showable(v2Task) },
  [SERVICE_KIND]: { name: `${LOC}/services/*`, message: [RUN, 'Service'], check: showable(v2Service) },
  [REVISION_KIND]: { name: `${LOC}/revisions/*`, parent: 'projects/{1}/locations/{3}/services/*', message: [RUN, 'Revision'], check: showable(v2Revision) },
  'run.operation': { name: `${LOC}/operations/*`, check: fieldsOf({ verb: 'string', kind: 'string', target: 'string', id: 'string', job: 'string', generation: 'number', snapshot: 'object' }, ['verb', 'kind', 'target', 'id']) },
  // Secret Manager
  'sm.secret': { name: 'projects/*/secrets/*', message: [SECRETS, 'Secret'] },
  'sm.version': { name: 'projects/*/secrets/*/versions/*', message: [SECRETS, 'SecretVersion'], check: fieldsOf({ data: 'string' }) },
  // Cloud Build: the record of each build Gantry names (src/google/cloud-build.ts)
  [BUILD_KIND]: { name: `${LOC}/builds/*`, check: fieldsOf({ build: 'string', owner: 'string', ownerKind: 'string', createTime: 'string' }, ['build', 'owner', 'ownerKind', 'createTime']) },
  // Cloud Storage (object ids are URI-encoded object names)
  storageBucket: { name: 'storage/buckets/*', parent: 1 },
  storageObject: { name: 'storage/buckets/*/objects/*' },
  // App Hosting
  [APPHOSTING.backend]: { name: BACKEND, message: [AH, 'Backend'] },
  [APPHOSTING.build]: { name: `${BACKEND}/builds/*`, message: [AH, 'Build'] },
  [APPHOSTING.rollout]: { name: `${BACKEND}/rollouts/*`, message: [AH, 'Rollout'] },
  [APPHOSTING.traffic]: { name: `${BACKEND}/traffic`, parent: 1, message: [AH, 'Traffic'] },
  [APPHOSTING.domain]: { name: `${BACKEND}/domains/*`, message: [AH, 'Domain'] },
  // Developer Connect
  'devconnect.connection': { name: `${LOC}/connections/*`, message: [DEVCONNECT, 'Connection'] },
  [LINK]: { name: `${LOC}/connections/*/gitRepositoryLinks/*`, message: [DEVCONNECT, 'GitRepositoryLink'] },
  // IAM and Firebase, as App Hosting's clients need them
  'iam.serviceAccount': { name: 'projects/*/serviceAccounts/*' },
  'firebase.webApp': { name: 'projects/*/webApps/*' },
  'firebase.operation': { name: 'operations/workflows/*' },
  // Gantry's own
  [OUTCOME_SCRIPT_KIND]: { name: 'gantry/outcomes/*', parent: 1 },
};

/** Why a row of this kind cannot have this name and parent; undefined when it can. */
export function checkRowName(kind: string, name: string, parent: string): string | undefined {
  const shape = Object.hasOwn(SNAPSHOT_KINDS, kind) ? SNAPSHOT_KINDS[kind] : undefined;
  if (!shape) return `"${kind.slice(0, 80)}" is not a kind of resource Gantry stores.`;
  const segs = name.split('/');
  const bad = segs.find(s => !validId(s));
  if (bad !== undefined) return `the name has an invalid segment "${bad.slice(0, 80)}".`;
  if (!matches(shape.name.split('/'), segs)) return `a ${kind} is named ${shape.name}, not "${name.slice(0, 200)}".`;
  const p = shape.parent ?? 2;
  const want = typeof p === 'number' ? segs.slice(0, -p) : p.replace(/\{(\d+)\}/g, (_, i: string) => segs[Number(i)]).split('/');
  if (!matches(want, parent.split('/'))) return `the parent of ${name.slice(0, 200)} is ${want.join('/')}, not "${parent.slice(0, 200)}".`;
  return undefined;
}

/** Whether a kind's data always carries its name: its API message has one (its controllers write it back by it). */
export function namedByMessage(kind: string): boolean {
  const m = SNAPSHOT_KINDS[kind]?.message;
  return !!m && Object.hasOwn(m[0].fields(m[1]), 'name');
}

/** Why a row's data does not fit its kind's API message (a field of the wrong type); undefined when it does. */
export function checkRowData(kind: string, name: string, data: Obj): string | undefined {
  const shape = SNAPSHOT_KINDS[kind];
  const m = shape?.message;
  const why = m?.[0].storedViolation(m[1], data as Parameters<ApiSchema['storedViolation']>[1]);
  if (why) return `the ${kind}'s data is not a ${m![1]}: ${why}`;
  const unfit = shape?.check?.(data, name.split('/'));
  return unfit && `the ${kind}'s data does not fit its readers: ${unfit}`;
}

/** One segment of a stored name: not empty, not a dot segment, no control characters, bounded. */
export function validId(s: string): boolean {
  return s.length > 0 && s.length <= 4096 && s !== '.' && s !== '..' && !/[\x00-\x1f\x7f]/.test(s);
}

function matches(template: string[], segs: string[]): boolean {
  return template.length === segs.length && template.every((t, i) => t === '*' ? validId(segs[i]) : t === segs[i]);
}
