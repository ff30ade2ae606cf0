import { test } from 'node:test';
import assert from 'node:assert/strict';
import YAML from 'yaml';
import { applyEdits, imageEdits, parseReference, replacementFor, sanitizeImageName, selectorsFor, tagsByImageName } from '../../src/skaffold/images.js';

const D = `sha256:${'b'.repeat(64)}`;

test('image references parse as distribution/reference does', () => {
  assert.deepEqual(parseReference('nginx'), { baseName: 'nginx', domain: '', path: 'nginx', repo: '', name: '', tag: '', digest: '' });
  const r = parseReference(`localhost:5000/team/app:v1.2@${D}`);
  assert.equal(r.baseName, 'localhost:5000/team/app');
  assert.equal(r.domain, 'localhost:5000');
  assert.equal(r.repo, 'localhost:5000/team');
  assert.equal(r.name, 'app');
  assert.equal(r.tag, 'v1.2');
  assert.equal(r.digest, D);
  assert.equal(parseReference('library/nginx:1').domain, 'library');
  assert.equal(parseReference('Gcr.io/P/App:TAG').baseName, 'gcr.io/p/app'); // names are lowercased, tags are not
  assert.equal(sanitizeImageName('ko://github.com/Org/Cmd:Tag'), 'github.com/org/cmd:Tag');
  for (const bad of ['', 'a b', 'app:', 'app@sha256:abc', `app@md5:${'b'.repeat(32)}`, `app@sha256:${'B'.repeat(64)}`, 'x'.repeat(2000)]) {
    assert.throws(() => parseReference(bad), Error, bad);
  }
});

test('replacement matches by name without tag; digest-pinned references are kept', () => {
  const tags = tagsByImageName([{ image: 'gcr.io/p/app', tag: `gcr.io/p/app:v2@${D}` }, { image: 'worker', tag: 'worker:7' }]);
  assert.equal(replacementFor('gcr.io/p/app', tags), `gcr.io/p/app:v2@${D}`);
  assert.equal(replacementFor('gcr.io/p/app:dev', tags), `gcr.io/p/app:v2@${D}`);
  assert.equal(replacementFor(`gcr.io/p/app@${D}`, tags), undefined);
  assert.equal(replacementFor('gcr.io/p/app-two:dev', tags), undefined);
  assert.equal(replacementFor('gcr.io/p/other', tags), undefined);
  assert.equal(replacementFor('worker:latest', tags), 'worker:7');
  // Skaffold v1 helm image strategies leave "<artifact>:<artifact>" and "<artifact>/<artifact>:<artifact>".
  assert.equal(replacementFor('worker/worker:worker', tags), 'worker:7');
});

function replaced(manifest: string, builds: { image: string; tag: string }[], configs: Record<string, unknown>[] = []) {
  const doc = YAML.parseDocument(manifest);
  return applyEdits(manifest, imageEdits(doc, selectorsFor(configs), tagsByImageName(builds)));
}

test('only image fields of allowlisted kinds are replaced', () => {
  const builds = [{ image: 'app', tag: 'app:v1' }];
  const job = 'apiVersion: batch/v1\nkind: Job\nmetadata:\n  annotations:\n    image: app\nspec:\n  template:\n    spec:\n      containers:\n        - image: app # keep me\n';
  assert.equal(replaced(job, builds), job.replace(/image: app/g, 'image: app:v1'));
  const cm = 'apiVersion: v1\nkind: ConfigMap\ndata:\n  image: app\n';
  assert.equal(replaced(cm, builds), cm);
  const crd = 'apiVersion: example.com/v1\nkind: Widget\nspec:\n  template:\n    image: app\n';
  assert.equal(replaced(crd, builds), crd);
  // A config's resourceSelector can add a kind (with a field path) or deny one.
  const allow = [{ resourceSelector: { allow: [{ groupKind: 'Widget.example.com', image: ['.spec.template.*.image', '.spec.template.image'] }] } }];
  assert.equal(replaced(crd, builds, allow), crd.replace('image: app', 'image: app:v1'));
  const deny = [{ resourceSelector: { deny: [{ groupKind: 'Job.batch', image: ['.*'] }] } }];
  assert.equal(replaced(job, builds, deny), job);
  // Config Connector kinds are always looked into.
  const kcc = 'apiVersion: run.cnrm.cloud.google.com/v1beta1\nkind: RunService\nspec:\n  template:\n    containers:\n      - image: "app"\n';
  assert.equal(replaced(kcc, builds), kcc.replace('"app"', '"app:v1"'));
  // Confluent kinds only at their listed paths.
  const kafka = 'apiVersion: platform.confluent.io/v1beta1\nkind: Kafka\nspec:\n  image:\n    application: app\n    other: app\n';
  assert.equal(replaced(kafka, builds), kafka.replace('application: app', 'application: app:v1'));
});

test('quoting styles and block scalars are handled', () => {
  const pod = "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: 'app'\n    - image: app\n    - image: >-\n        app\n    - {name: x, image: app}\n";
  assert.equal(replaced(pod, [{ image: 'app', tag: 'app:v1' }]),
    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: 'app:v1'\n    - image: app:v1\n    - image: \"app:v1\"\n    - {name: x, image: app:v1}\n");
  // A value plain style cannot hold (here a flow indicator inside a flow mapping) is double-quoted.
  assert.equal(replaced(pod, [{ image: 'app', tag: 'app:v1,x' }]),
    "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n    - image: 'app:v1,x'\n    - image: \"app:v1,x\"\n    - image: \"app:v1,x\"\n    - {name: x, image: \"app:v1,x\"}\n");
});

test('an alias to an image is replaced where it is used', () => {
  const pod = 'apiVersion: v1\nkind: Pod\nmetadata:\n  annotations:\n    img: &img app\nspec:\n  containers:\n    - image: *img\n';
  assert.equal(replaced(pod, [{ image: 'app', tag: 'app:v1' }]), pod.replace('*img', '"app:v1"'));
});
