// Replacing artifact images in rendered manifests, as `skaffold render --build-artifacts` does
// (pkg/skaffold/kubernetes/manifest/images.go, visitor.go, selector.go; pkg/skaffold/docker/reference.go):
//   - only kinds on Skaffold's transform allowlist (Pod, Deployment, Job, Knative/Cloud Run services, …, Config
//     Connector kinds), adjusted by the configs' `resourceSelector`, are looked into;
//   - in those, every string field named `image` (or, for a few CRDs, the listed field paths) is parsed as an
//     image reference; when its name without tag/digest is an artifact's image, it becomes the artifact's tag;
//   - references pinned by digest are left alone.
// Edits are spliced into the manifest text, so everything else (comments, order, quoting) stays as written.
import type { Document, Node as YNode, Scalar, YAMLSeq, YAMLMap } from 'yaml';
import { yaml } from '../lazy-deps.js';
import { isObj, type Obj } from './schema.js';

// ---- github.com/distribution/reference ----
const alnum = '[a-z0-9]+';
const separator = '(?:[._]|__|[-]+)';
const dnc = '(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])';
const domainAndPort = `(?:${dnc}(?:\\.${dnc})*|\\[(?:[a-fA-F0-9:]+)\\])(?::[0-9]+)?`;
const pathComponent = `${alnum}(?:${separator}${alnum})*`;
const remoteName = `${pathComponent}(?:/${pathComponent})*`;
const namePat = `(?:${domainAndPort}/)?${remoteName}`;
const tagPat = '[\\w][\\w.-]{0,127}';
const digestPat = '[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*[:][0-9a-fA-F]{32,}';
const referencePat = `^(${namePat})(?::(${tagPat}))?(?:@(${digestPat}))?$`;
const REFERENCE = new RegExp(referencePat);
const REFERENCE_CI = new RegExp(referencePat, 'i');
const ANCHORED_NAME = new RegExp(`^(?:(${domainAndPort})/)?(${remoteName})$`);
const DIGEST_LENGTHS: Record<string, number> = { sha256: 64, sha384: 96, sha512: 128 };
// No valid reference is longer (name ≤ 255, tag ≤ 128, digest ≤ ~140): longer strings are not parsed at all,
// which also keeps the regular expressions away from pathological input.
const MAX_REFERENCE = 1024;

export interface ImageReference {
  baseName: string; domain: string; path: string; repo: string; name: string; tag: string; digest: string;
}

/** docker.SanitizeImageName: drops `ko://`, lowercases the name part (tags keep their case). */
export function sanitizeImageName(image: string): string {
  let s = image.startsWith('ko://') ? image.slice('ko://'.length) : image;
  if (s.length > MAX_REFERENCE) return s;
  const m = REFERENCE_CI.exec(s);
  if (m && m[1]) s = s.replace(m[1], m[1].toLowerCase());
  return s;
}

/** docker.ParseReference; throws like reference.Parse does on an invalid reference. */
export function parseReference(image: string): ImageReference {
  const s = sanitizeImageName(image);
  if (s.length > MAX_REFERENCE) throw new Error('invalid reference format');
  const m = REFERENCE.exec(s);
  if (!m) throw new Error(s === '' ? 'repository name must have at least one component' : 'invalid reference format');
  const [, name, tag = '', digest = ''] = m;
  if (name.length > 255) throw new Error('repository name must not be more than 255 characters');
  if (digest) {
    const [algo, hex] = digest.split(':');
    const len = DIGEST_LENGTHS[algo];
    if (!len) throw new Error('unsupported digest algorithm');
    if (hex.length !== len || !/^[a-f0-9]+$/.test(hex)) throw new Error('invalid checksum digest format');
  }
  const nm = ANCHORED_NAME.exec(name)!;
  const parts = name.split('/');
  return {
    baseName: name, domain: nm[1] ?? '', path: nm[2], tag, digest,
    repo: parts.length > 1 ? parts.slice(0, -1).join('/') : '',
    name: parts.length > 1 ? parts[parts.length - 1] : '',
  };
}

// ---- which fields are images (visitor.go TransformAllowlist/TransformDenylist, selector.go) ----

interface Filter { image: string[] }
export interface Selectors { allow: Map<string, Filter>; deny: Map<string, Filter> }

const ALL = ['.*'];
const DEFAULT_ALLOW: [string, string[]][] = [
  ['Pod', ALL], ['Service', ALL], ['DaemonSet.apps', ALL], ['Deployment.apps', ALL], ['ReplicaSet.apps', ALL],
  ['StatefulSet.apps', ALL], ['CronJob.batch', ALL], ['Job.batch', ALL], ['DaemonSet.extensions', ALL],
  ['Deployment.extensions', ALL], ['ReplicaSet.extensions', ALL], ['Service.serving.knative.dev', ALL],
  ['Fleet.agones.dev', ALL], ['GameServer.agones.dev', ALL], ['Rollout.argoproj.io', ALL], ['Workflow.argoproj.io', ALL],
  ['CronWorkflow.argoproj.io', ALL], ['WorkflowTemplate.argoproj.io', ALL], ['ClusterWorkflowTemplate.argoproj.io', ALL],
  ...['Connect', 'ControlCenter', 'Kafka', 'KsqlDB', 'SchemaRegistry', 'Zookeeper'].map(k =>
    [`${k}.platform.confluent.io`, ['.spec.image.application', '.spec.image.init']] as [string, string[]]),
  ['Job.run.googleapis.com', ALL], ['WorkerPool.run.googleapis.com', ALL],
  ['KafkaConnect.kafka.strimzi.io', ['.spec.image']],
  ['Kafka.kafka.strimzi.io', ['.spec.kafka.image', '.spec.zookeeper.image', '.spec.entityOperator.topicOperator.image',
    '.spec.entityOperator.userOperator.image', '.spec.kafkaExporter.image.']],
];
// The default denylist only restricts labels, never images.
const DEFAULT_DENY: [string, string[]][] = [['StatefulSet.apps', []], ['Job.batch', []]];
const CONFIG_CONNECTOR = /([A-Za-z]+\.)+cnrm\.cloud\.google\.com/;

/** apim.ParseGroupKind("Deployment.apps") → "apps/Deployment" (our map key). */
function gkKey(groupKind: string): string {
  const i = groupKind.indexOf('.');
  return i < 0 ? `/${groupKind}` : `${groupKind.slice(i + 1)}/${groupKind.slice(0, i)}`;
}

/** ConvertJSONPathIndex: `.spec.containers.*.image` → `.spec.containers.image`; `.*` alone means everything. */
const convertPath = (p: string) => (p === '.*' ? p : p.split('.*').join(''));

/** The allow/deny lists for these configs' `resourceSelector`s (ConsolidateTransformConfiguration). */
export function selectorsFor(configs: Obj[]): Selectors {
  const allow = new Map(DEFAULT_ALLOW.map(([gk, image]) => [gkKey(gk), { image }]));
  const deny = new Map(DEFAULT_DENY.map(([gk, image]) => [gkKey(gk), { image }]));
  const rules = (which: 'allow' | 'deny') => configs.flatMap(c => {
    const rs = isObj(c.resourceSelector) ? c.resourceSelector[which] : undefined;
    return Array.isArray(rs) ? rs.filter(isObj) : [];
  });
  for (const rf of rules('allow')) {
    const key = gkKey(String(rf.groupKind ?? ''));
    allow.set(key, { image: (Array.isArray(rf.image) ? rf.image.map(String) : []).map(convertPath) });
    deny.delete(key);
  }
  for (const rf of rules('deny')) {
    const key = gkKey(String(rf.groupKind ?? ''));
    deny.set(key, { image: (Array.isArray(rf.image) ? rf.image.map(String) : []).map(convertPath) });
    allow.delete(key);
  }
  return { allow, deny };
}

/** schema.FromAPIVersionAndKind's group: `apps/v1` → apps, `v1` → core (""), anything else → "". */
export function groupOf(apiVersion: string): string {
  const parts = apiVersion.split('/');
  return parts.length === 2 ? parts[0] : '';
}

function allowByGroupKind(sel: Selectors, key: string): boolean {
  // Skaffold also consults a denylist entry's label paths here; the default entries never deny everything.
  return sel.allow.has(key) && !(sel.deny.get(key)?.image.includes('.*'));
}

function allowByNavpath(sel: Selectors, key: string, group: string, navpath: string, k: string): boolean {
  let cc = k === 'image' && CONFIG_CONNECTOR.test(group);
  const d = sel.deny.get(key);
  if (d && d.image.some(p => p === '.*' || p === navpath)) return false;
  const a = sel.allow.get(key);
  if (a) {
    cc = false;
    if (a.image.some(p => (p === '.*' && k === 'image') || p === navpath)) return true;
  }
  return cc;
}

// ---- the replacement itself ----

export interface Build { image: string; tag: string }
export interface Edit { start: number; end: number; text: string }

/** tagsByImageName of newImageReplacer: sanitized artifact name → tag (later builds win). */
export function tagsByImageName(builds: Build[]): Map<string, string> {
  return new Map(builds.map(b => [sanitizeImageName(b.image), b.tag]));
}

/** The new tag for a manifest image, or undefined to leave it. */
export function replacementFor(image: string, tags: Map<string, string>): string | undefined {
  let parsed: ImageReference | undefined;
  try {
    parsed = parseReference(image);
  } catch {
    // Skaffold v1 `imageStrategy: helm` leftovers: "<artifact>:<artifact>" stands for the artifact itself.
    const split = image.split(':');
    if (split.length === 2 && image.startsWith(split[1]) && tags.has(split[1])) return tags.get(split[1]);
    return undefined;
  }
  // …and "<artifact>/<artifact>:<artifact>" for `helm+explicitRegistry`.
  let base = parsed.baseName;
  if (parsed.domain !== '' && parsed.domain === parsed.repo && tags.has(parsed.repo)) base = parsed.repo;
  if (parsed.digest !== '') return undefined;
  return tags.get(base);
}

/** Edits replacing artifact images in one parsed manifest (offsets into the text it was parsed from). */
export function imageEdits(doc: Document, sel: Selectors, tags: Map<string, string>): Edit[] {
  const root = doc.contents;
  if (!yaml().isMap(root) || tags.size === 0) return [];
  const get = (k: string) => {
    const v = root.get(k, true);
    return yaml().isScalar(v) && typeof v.value === 'string' ? v.value : undefined;
  };
  const apiVersion = get('apiVersion'), kind = get('kind');
  if (apiVersion === undefined || kind === undefined) return [];
  const group = groupOf(apiVersion);
  const key = `${group}/${kind}`;
  if (!allowByGroupKind(sel, key) && !CONFIG_CONNECTOR.test(group)) return [];
  const edits: Edit[] = [];
  const visit = (node: unknown, navpath: string) => {
    if (yaml().isSeq(node as YNode)) {
      for (const item of (node as YAMLSeq).items) visit(item, navpath);
      return;
    }
    if (!yaml().isMap(node as YNode)) return;
    for (const pair of (node as YAMLMap).items) {
      if (!yaml().isScalar(pair.key)) continue;
      const k = String(pair.key.value), path = `${navpath}.${k}`;
      const value = pair.value;
      const target = yaml().isAlias(value) ? value.resolve(doc) : value;
      if (allowByNavpath(sel, key, group, path, k) && yaml().isScalar(target) && typeof target.value === 'string') {
        const tag = replacementFor(target.value, tags);
        if (tag !== undefined && yaml().isScalar(value)) edits.push(scalarEdit(value, tag));
        else if (tag !== undefined && yaml().isAlias(value) && value.range) edits.push({ start: value.range[0], end: value.range[1], text: JSON.stringify(tag) });
        continue;
      }
      visit(target, path);
    }
  };
  visit(root, '');
  return edits;
}

/** Replaces a scalar's value in place, keeping its quoting style where the new value allows. */
export function scalarEdit(node: Scalar, value: string): Edit {
  const [start, end] = node.range!;
  let text: string;
  if (node.type === 'QUOTE_SINGLE') text = `'${value.replace(/'/g, "''")}'`;
  else if (node.type === 'PLAIN' && isPlainSafe(value)) text = value;
  else text = JSON.stringify(value);
  return { start, end, text };
}

/** Whether `v` can be written as a plain scalar in block or flow context and reads back as the same text. */
export function isPlainSafe(v: string): boolean {
  if (v === '' || /[\n\r\t,[\]{}#]/.test(v) || v !== v.trim()) return false;
  try {
    const d = yaml().parseDocument(`k: ${v}\n`);
    if (d.errors.length > 0 || d.warnings.length > 0 || !yaml().isMap(d.contents)) return false;
    const n = d.contents.items[0]?.value;
    return yaml().isScalar(n) && n.type === 'PLAIN' && n.range !== undefined && n.range[0] === 3 && n.range[1] === 3 + v.length;
  } catch {
    return false;
  }
}

export function applyEdits(text: string, edits: Edit[]): string {
  let out = text;
  for (const e of [...edits].sort((a, b) => b.start - a.start)) {
    // Block scalars own their trailing line break; keep it when a quoted value replaces one.
    const keepNewline = out.slice(e.start, e.end).endsWith('\n') && !e.text.endsWith('\n') ? '\n' : '';
    out = out.slice(0, e.start) + e.text + keepNewline + out.slice(e.end);
  }
  return out;
}
