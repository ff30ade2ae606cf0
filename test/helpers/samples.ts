// Where a sample test finds its sample: Google's files are never kept in this repository, so a test runs them from a
// checkout under GANTRY_SAMPLES_DIR (`$GANTRY_SAMPLES_DIR/<repository>/<path>`) when one holds the sample, and
// otherwise our stand-in under test/fixtures, written with the sample's layout and names.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));

export interface SampleDir { dir: string; google: boolean }

/**
 * The sample at `repoPath` (e.g. `cloud-deploy-samples/basic-deploy`) from GANTRY_SAMPLES_DIR if it holds `marker`
 * (a file the sample must have), else the stand-in test/fixtures/`standIn`.
 */
export function sampleDir(repoPath: string, marker: string, standIn: string): SampleDir {
  const root = process.env.GANTRY_SAMPLES_DIR;
  const checkout = root ? join(root, repoPath) : undefined;
  if (checkout && existsSync(join(checkout, marker))) return { dir: checkout, google: true };
  return { dir: join(FIXTURES, standIn), google: false };
}

/** What a test reports about the files it ran. */
export const describeSample = (s: SampleDir) => `${s.google ? "Google's sample" : 'stand-in'} ${s.dir}`;
