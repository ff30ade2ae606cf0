// Release sources for tests: a directory of files packed as the tar.gz gcloud uploads, stored in
// Gantry's Cloud Storage at a gs:// URL, ready to be a release's skaffoldConfigUri.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { create } from 'tar';
import { tempDir, writeTree } from './server.js';

/** The smallest real source: a Skaffold config with one Knative Service manifest and a verify stanza. */
export const MINIMAL_SOURCE: Record<string, string> = {
  'skaffold.yaml': 'apiVersion: skaffold/v4beta7\nkind: Config\nmanifests:\n  rawYaml: [service.yaml]\ndeploy:\n  cloudrun: {}\nverify:\n- name: smoke\n  container:\n    name: smoke\n    image: busybox\n    command: [/bin/true]\ncustomActions:\n- name: announce\n  containers:\n  - name: announce\n    image: busybox\n    command: [/bin/true]\n',
  'service.yaml': 'apiVersion: serving.knative.dev/v1\nkind: Service\nmetadata:\n  name: app\nspec:\n  template:\n    spec:\n      containers:\n      - image: app\n',
};

export async function uploadSource(gantryUrl: string, gsUrl: string, files: Record<string, string> = MINIMAL_SOURCE): Promise<string> {
  const dir = writeTree(tempDir('source-'), files);
  const tgz = join(tempDir('tgz-'), 'source.tgz');
  await create({ gzip: true, file: tgz, cwd: dir }, Object.keys(files));
  const [, bucket, object] = /^gs:\/\/([^/]+)\/(.+)$/.exec(gsUrl)!;
  const b = await fetch(`${gantryUrl}/storage/v1/b?project=test`, { method: 'POST', body: JSON.stringify({ name: bucket }), headers: { 'content-type': 'application/json' } });
  if (!b.ok && b.status !== 409) throw new Error(`bucket ${bucket}: ${b.status} ${await b.text()}`);
  const r = await fetch(`${gantryUrl}/upload/storage/v1/b/${bucket}/o?uploadType=media&name=${encodeURIComponent(object)}`, { method: 'POST', body: readFileSync(tgz), headers: { 'content-type': 'application/gzip' } });
  if (!r.ok) throw new Error(`upload ${gsUrl}: ${r.status} ${await r.text()}`);
  return gsUrl;
}
