// Google's Cloud Deploy quickstart pages, as a user follows them: our stand-ins for the page's files (under
// test/fixtures/deploy-quickstarts/NAME, with the page's names, stages and placeholders) copied to a fresh directory,
// with only the placeholders the page tells the user to fill in (PROJECT_ID, PROJECT_NUMBER) replaced, and the
// rollout states gcloud reports.
import { cpSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { tempDir } from './server.js';
import type { Gcloud } from './gcloud.js';

/** The image the pages' Cloud Run variants deploy (`--images=my-app-image=…`). */
export const HELLO_IMAGE = 'my-app-image=us-docker.pkg.dev/cloudrun/container/hello@sha256:95ade4b17adcd07623b0a0c68359e344fe54e65d0cb01b989e24c39f2fcd296a';

/**
 * What stands for Google's hello image when the process executor deploys it (`--image-dir`): a Procfile app that
 * answers as the image does, so a page's Cloud Run service really serves.
 */
export function helloImageDir(): { image: string; path: string } {
  const path = tempDir('hello-image-');
  mkdirSync(path, { recursive: true });
  writeFileSync(join(path, 'server.js'), "require('http').createServer((q, s) => s.end('Hello World!\\n')).listen(process.env.PORT);\n");
  writeFileSync(join(path, 'Procfile'), 'web: node server.js\n');
  return { image: HELLO_IMAGE.slice(HELLO_IMAGE.indexOf('=') + 1).replace(/@sha256:.*$/, ''), path };
}

/** A copy of quickstart `name`'s files with `fill` (placeholder → value) applied to each. */
export function quickstartDir(name: string, fill: Record<string, string>): string {
  const from = fileURLToPath(new URL(`../../../test/fixtures/deploy-quickstarts/${name}`, import.meta.url));
  const dir = join(tempDir('quickstart-'), name);
  cpSync(from, dir, { recursive: true });
  for (const f of readdirSync(dir)) {
    let text = readFileSync(join(dir, f), 'utf8');
    for (const [k, v] of Object.entries(fill)) text = text.replaceAll(k, v);
    writeFileSync(join(dir, f), text);
  }
  return dir;
}

export interface RolloutView { name: string; state: string; phases: { id: string; state: string }[]; targetId: string }

/** `gcloud deploy rollouts list` of a release: each rollout's id, state and phase states, e.g. "r-to-prod-0001 IN_PROGRESS canary-50=SKIPPED stable=PENDING". */
export async function rolloutStates(gcloud: Gcloud, release: string, pipeline: string): Promise<string[]> {
  const list = await gcloud.json<RolloutView[]>(['deploy', 'rollouts', 'list', `--release=${release}`, `--delivery-pipeline=${pipeline}`, '--region=us-central1']);
  return list.map(r => [r.name.split('/').pop(), r.state, ...r.phases.map(p => `${p.id}=${p.state}`)].join(' ')).sort();
}
