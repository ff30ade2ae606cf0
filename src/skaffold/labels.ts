// Labels set on rendered manifests, as Skaffold's labelsSetter does (pkg/skaffold/kubernetes/manifest/labels.go,
// visitor.go TransformAllowlist/TransformDenylist): in a kind on the transform allowlist (Pod, Deployment, Job,
// Cloud Run services and jobs, …) every `metadata` mapping gets them — the resource's own and its pod, job or
// revision templates' — except the denylisted paths (a batch Job's pod template, a StatefulSet's
// volumeClaimTemplates); in any other kind only the resource's own `metadata`. A key the manifest already sets is
// never overwritten. Documents are re-serialized (comments kept, long lines not folded), as Skaffold re-encodes.
import type { Document, Node as YNode, YAMLMap, YAMLSeq } from 'yaml';
import { yaml } from '../lazy-deps.js';
import { SkaffoldError, firstLine } from './errors.js';
import { groupOf, selectorsFor } from './images.js';

const DENY: Record<string, string[]> = {
  'batch/Job': ['.spec.template.metadata'],
  'apps/StatefulSet': ['.spec.volumeClaimTemplates.metadata'],
};

/** The manifests with `labels` added to every resource (see above). */
export function setManifestLabels(manifests: string, labels: Record<string, string>): string {
  if (!manifests.trim() || Object.keys(labels).length === 0) return manifests;
  const docs = yaml().parseAllDocuments(manifests);
  if (!Array.isArray(docs)) return manifests;
  const allow = selectorsFor([]).allow;
  const out: string[] = [];
  for (const doc of docs) {
    const err = doc.errors[0];
    if (err) throw new SkaffoldError(`setting labels in manifests: ${firstLine(err.message)}`, 'INVALID_CONFIG');
    if (doc.contents === null) continue;
    labelDoc(doc, labels, allow);
    const text = doc.toString({ lineWidth: 0 });
    // A document that began with `---` prints it again; the others are separated here.
    out.push(out.length && !text.startsWith('---') ? `---\n${text}` : text);
  }
  return out.join('');
}

function labelDoc(doc: Document, labels: Record<string, string>, allow: Map<string, unknown>) {
  const root = doc.contents;
  if (!yaml().isMap(root)) return;
  const str = (k: string) => { const v = root.get(k, true); return yaml().isScalar(v) && typeof v.value === 'string' ? v.value : undefined; };
  const apiVersion = str('apiVersion'), kind = str('kind');
  const key = `${groupOf(apiVersion ?? '')}/${kind ?? ''}`;
  const deep = kind !== undefined && allow.has(key);
  const denied = DENY[key] ?? [];
  const setOn = (meta: YAMLMap) => {
    const existing = meta.get('labels', true);
    if (existing === undefined || (yaml().isScalar(existing) && existing.value === null)) {
      meta.set('labels', doc.createNode({ ...labels }));
      return;
    }
    if (!yaml().isMap(existing)) return;
    for (const [k, v] of Object.entries(labels)) if (!existing.has(k)) existing.set(k, v);
  };
  const visit = (node: unknown, navpath: string) => {
    if (yaml().isSeq(node as YNode)) { for (const item of (node as YAMLSeq).items) visit(item, navpath); return; }
    if (!yaml().isMap(node as YNode)) return;
    for (const pair of (node as YAMLMap).items) {
      if (!yaml().isScalar(pair.key)) continue;
      const path = `${navpath}.${String(pair.key.value)}`;
      if (pair.key.value === 'metadata' && yaml().isMap(pair.value)) {
        if (!denied.includes(path)) setOn(pair.value);
        continue;
      }
      if (deep) visit(pair.value, path);
    }
  };
  visit(root, '');
}
