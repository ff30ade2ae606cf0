import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { setManifestLabels } from '../../src/skaffold/index.js';

const L = { 'app.kubernetes.io/managed-by': 'google-cloud-deploy', 'deploy.cloud.google.com/release-id': 'r1' };
const parse = (s: string) => YAML.parseAllDocuments(s).map(d => d.toJS() as Record<string, any>);

test('labels go on every metadata of an allowlisted kind, never overwrite, skip Skaffold\'s denylisted paths, and only the top of other kinds', () => {
  const out = setManifestLabels(`# kept
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    deploy.cloud.google.com/release-id: mine
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx # a comment that stays, on a line longer than eighty characters, which is not folded either
---
apiVersion: batch/v1
kind: Job
metadata:
  name: once
spec:
  template:
    metadata: {}
---
apiVersion: apps/v1
kind: StatefulSet
metadata:
  name: db
spec:
  volumeClaimTemplates:
  - metadata:
      name: data
  template:
    metadata: {}
---
apiVersion: example.com/v1
kind: Widget
metadata:
  name: w
spec:
  template:
    metadata: {}
---
apiVersion: run.googleapis.com/v1
kind: Job
metadata:
  name: nightly
spec:
  template:
    metadata:
      annotations: {a: b}
`, L);
  assert.match(out, /^# kept/);
  assert.match(out, /image: nginx # a comment that stays, on a line longer than eighty characters, which is not folded either\n/);
  const [dep, job, sts, widget, runJob] = parse(out);
  assert.deepEqual(dep.metadata.labels, { ...L, 'deploy.cloud.google.com/release-id': 'mine' });
  assert.deepEqual(dep.spec.template.metadata.labels, { app: 'web', ...L });
  assert.deepEqual(dep.spec.selector, { matchLabels: { app: 'web' } });
  assert.deepEqual(job.metadata.labels, L);
  assert.deepEqual(job.spec.template.metadata, {}, 'a batch Job\'s pod template is on Skaffold\'s label denylist');
  assert.deepEqual(sts.spec.volumeClaimTemplates[0].metadata, { name: 'data' });
  assert.deepEqual(sts.spec.template.metadata.labels, L);
  assert.deepEqual(widget.metadata.labels, L);
  assert.deepEqual(widget.spec.template.metadata, {}, 'a kind off the allowlist gets labels on its own metadata only');
  assert.deepEqual(runJob.spec.template.metadata.labels, L);
  assert.equal(setManifestLabels('', L), '');
});
