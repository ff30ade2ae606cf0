// The kinds of stored row a snapshot may carry, each with the shape of its name and its parent: a snapshot is
// untrusted input, so an imported row must be one Gantry itself could have stored. A kind Gantry stores and this
// table lacks makes its own exports fail to import (the snapshot round-trip tests catch that).
import { OPERATION_KIND } from '../google/operations.js';
import { KIND as APPHOSTING } from '../apis/apphosting/service.js';
import { EXECUTION, JOB, TASK } from '../apis/run/service.js';
import { LINK_KIND } from '../apis/developerconnect/index.js';
import { OUTCOME_SCRIPT_KIND } from './outcome-scripts.js';

interface KindShape {
  /** The name's segments: a literal, or `*` for any one id. */
  name: string;
  /**
   * The parent: the name without its last `n` segments (default 2, its collection and id), or a template whose
   * `{i}` is the name's i-th segment.
   */
  parent?: number | string;
}

const LOC = 'projects/*/locations/*';
const PIPELINE = `${LOC}/deliveryPipelines/*`;
const ROLLOUT = `${PIPELINE}/releases/*/rollouts/*`;
const BACKEND = `${LOC}/backends/*`;

export const SNAPSHOT_KINDS: Record<string, KindShape> = {
  // Cloud Deploy (and every API's long-running operations under a location)
  target: { name: `${LOC}/targets/*` },
  deliveryPipeline: { name: PIPELINE },
  release: { name: `${PIPELINE}/releases/*` },
  rollout: { name: ROLLOUT },
  jobRun: { name: `${ROLLOUT}/jobRuns/*` },
  jobRunExec: { name: `${ROLLOUT}/jobRuns/*/~exec`, parent: 1 },
  automation: { name: `${PIPELINE}/automations/*` },
  automationRun: { name: `${PIPELINE}/automationRuns/*` },
  customTargetType: { name: `${LOC}/customTargetTypes/*` },
  deployPolicy: { name: `${LOC}/deployPolicies/*` },
  [OPERATION_KIND]: { name: `${LOC}/operations/*` },
  // Cloud Run (v1's flat collections: an execution's parent is its job, a task's its execution)
  [JOB]: { name: `${LOC}/jobs/*` },
  [EXECUTION]: { name: `${LOC}/executions/*`, parent: 'projects/{1}/locations/{3}/jobs/*' },
  [TASK]: { name: `${LOC}/tasks/*`, parent: 'projects/{1}/locations/{3}/executions/*' },
  'run.operation': { name: `${LOC}/operations/*` },
  // Secret Manager
  'sm.secret': { name: 'projects/*/secrets/*' },
  'sm.version': { name: 'projects/*/secrets/*/versions/*' },
  // Cloud Storage (object ids are URI-encoded object names)
  storageBucket: { name: 'storage/buckets/*', parent: 1 },
  storageObject: { name: 'storage/buckets/*/objects/*' },
  // App Hosting
  [APPHOSTING.backend]: { name: BACKEND },
  [APPHOSTING.build]: { name: `${BACKEND}/builds/*` },
  [APPHOSTING.rollout]: { name: `${BACKEND}/rollouts/*` },
  [APPHOSTING.traffic]: { name: `${BACKEND}/traffic`, parent: 1 },
  [APPHOSTING.domain]: { name: `${BACKEND}/domains/*` },
  // Developer Connect
  'devconnect.connection': { name: `${LOC}/connections/*` },
  [LINK_KIND]: { name: `${LOC}/connections/*/gitRepositoryLinks/*` },
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

/** One segment of a stored name: not empty, not a dot segment, no control characters, bounded. */
function validId(s: string): boolean {
  return s.length > 0 && s.length <= 4096 && s !== '.' && s !== '..' && !/[\x00-\x1f\x7f]/.test(s);
}

function matches(template: string[], segs: string[]): boolean {
  return template.length === segs.length && template.every((t, i) => t === '*' ? validId(segs[i]) : t === segs[i]);
}
