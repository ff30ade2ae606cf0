import { test } from 'node:test';
import assert from 'node:assert/strict';
import { applyDeployParameters, SkaffoldError } from '../../src/skaffold/index.js';

const MANIFEST = `# a comment that stays
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web   # trailing comment, no marker
spec:
  replicas: 1 # from-param: \${replicas}
  template:
    spec:
      containers:
        - name: web
          image: nginx:1.7.1 # from-param: \${image}:\${tag}
          env:
            - name: ENV
              value: "dev" # from-param: \${env}
            - name: NOTE
              value: keep # from-param: \${unknown}
          args: # from-param: \${args}
            - --a
            - --b
          ports: [8080] # from-param: \${ports}
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: cfg
data:
  greeting: hello # from-param: \${greeting}
  spaced: x #from-param: \${greeting}
`;

test('a marked scalar takes the parameter value; everything else stays byte-identical', () => {
  const out = applyDeployParameters(MANIFEST, { replicas: '3', env: 'prod', greeting: 'hi: there' });
  const expected = MANIFEST
    .replace('replicas: 1 #', 'replicas: 3 #')
    .replace('value: "dev" #', 'value: "prod" #')
    // A value that cannot be written plain gets double quotes.
    .replace('greeting: hello #', 'greeting: "hi: there" #');
  assert.equal(out, expected);
});

test('patterns: given setters are substituted, the others read off the current value', () => {
  const out = applyDeployParameters(MANIFEST, { image: 'ubuntu' });
  assert.match(out, /image: ubuntu:1.7.1 # from-param: \$\{image\}:\$\{tag\}\n/);
  assert.match(applyDeployParameters(MANIFEST, { image: 'ubuntu', tag: '24.04' }), /image: ubuntu:24.04 #/);
  assert.throws(() => applyDeployParameters('x: plain # from-param: ${a}-${b}\n', { a: '1' }),
    (e: unknown) => e instanceof SkaffoldError && e.kind === 'INVALID_CONFIG' && e.message === 'values for setters [${b}] must be provided');
});

test('unknown parameters, no parameters and near-miss markers leave the text alone', () => {
  assert.equal(applyDeployParameters(MANIFEST, {}), MANIFEST);
  assert.equal(applyDeployParameters(MANIFEST, { nothing: 'x' }), MANIFEST);
  assert.equal(applyDeployParameters('a: b # from-param ${greeting}\n', { greeting: 'x' }), 'a: b # from-param ${greeting}\n');
});

test('a list whose key is marked takes a YAML list', () => {
  let out = applyDeployParameters(MANIFEST, { args: '[--x, "--y=1 2", "k: v"]' });
  assert.match(out, /args: # from-param: \$\{args\}\n {12}- --x\n {12}- --y=1 2\n {12}- "k: v"\n {10}ports:/);
  out = applyDeployParameters(MANIFEST, { args: '' });
  assert.match(out, /args: # from-param: \$\{args\}\n {12}\[\]\n {10}ports:/);
  out = applyDeployParameters(MANIFEST, { ports: '[80, 443]' });
  assert.match(out, /ports: \[80, 443\] # from-param: \$\{ports\}\n/);
  assert.throws(() => applyDeployParameters(MANIFEST, { ports: 'not-a-list' }), /input to array setter must be an array of values, but found "not-a-list"/);
  assert.throws(() => applyDeployParameters('l: # from-param: x-${a}\n  - 1\n', { a: '[2]' }), /invalid setter pattern for array node/);
});

test('values that YAML reads as numbers or booleans stay plain in a plain field', () => {
  const out = applyDeployParameters('a: 1 # from-param: ${n}\nb: "1" # from-param: ${n}\nc: x # from-param: ${e}\n', { n: '5', e: '' });
  assert.equal(out, 'a: 5 # from-param: ${n}\nb: "5" # from-param: ${n}\nc: "" # from-param: ${e}\n');
});

test('invalid YAML is INVALID_CONFIG', () => {
  assert.throws(() => applyDeployParameters('a: [ # from-param: ${x}\n', { x: '1' }),
    (e: unknown) => e instanceof SkaffoldError && e.kind === 'INVALID_CONFIG' && e.message.startsWith('applying deploy parameters: '));
});
