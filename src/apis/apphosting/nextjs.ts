// What App Hosting's Next.js adapter (@apphosting/adapter-nextjs, which Google's buildpacks run for an app that
// depends on `next`) does around `npm run build`: the build runs in standalone mode without telemetry, then the
// standalone server gets the app's static assets and public files, and only that directory is the served output
// (bundle.yaml: `runCommand: node .next/standalone/server.js`, `outputFiles.serverApp.include: [.next/standalone]`).
// Gantry does the same steps itself rather than fetching the adapter.
import { cpSync, existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { OutsideError, realInside } from '../../sources/contained.js';
import { BuildFailure } from './builder.js';

type Obj = Record<string, unknown>;

/** The build environment the adapter sets: standalone output, no telemetry sent to Vercel. */
export const NEXT_BUILD_ENV: Record<string, string> = { NEXT_PRIVATE_STANDALONE: 'true', NEXT_TELEMETRY_DISABLED: '1' };

/**
 * The runtime environment: the standalone server binds `HOSTNAME` (all interfaces when unset, the container's name
 * under Docker); Gantry's apps answer on loopback only, where Gantry's proxy reaches them.
 */
export const NEXT_RUN_ENV: Record<string, string> = { HOSTNAME: '127.0.0.1', NEXT_TELEMETRY_DISABLED: '1' };

/** The adapter's entries of the app directory that stay out of the output. */
const NOT_COPIED = new Set(['.apphosting', 'apphosting.yaml', 'apphosting_preprocessed']);

/** Whether the app is built by the Next.js adapter: it depends on `next`. */
export function isNextApp(pkg: Obj | undefined): boolean {
  const has = (deps: unknown) => !!deps && typeof deps === 'object' && Object.prototype.hasOwnProperty.call(deps, 'next');
  return has(pkg?.dependencies) || has(pkg?.devDependencies);
}

/**
 * After `next build`: copies `.next/static` and the app's own files (public/ …) not already there into
 * `.next/standalone`, as the adapter's generateBuildOutput does, and returns that directory, which is what serves
 * (`node server.js` in it). Everything is resolved inside `root` (the source): a symlink may point anywhere.
 */
export function bundleNextOutput(app: string, root: string): string {
  const inside = (p: string) => {
    try { return realInside(root, p); } catch (e) {
      if (e instanceof OutsideError) throw new BuildFailure(`The Next.js output cannot be used: ${e.message}.`, 'CLOUD_BUILD');
      throw e;
    }
  };
  const standalone = inside(join(app, '.next', 'standalone'));
  const server = standalone && inside(join(standalone, 'server.js'));
  if (!standalone || !statSync(standalone).isDirectory() || !server || !statSync(server).isFile()) {
    throw new BuildFailure('The Next.js build left no .next/standalone/server.js: the output directory is not of the expected structure (a custom distDir or output mode is not supported).', 'CLOUD_BUILD');
  }
  const assets = inside(join(app, '.next', 'static'));
  if (assets && statSync(assets).isDirectory()) cpSync(assets, join(standalone, '.next', 'static'), { recursive: true, force: true, verbatimSymlinks: true });
  for (const name of readdirSync(app)) {
    if (NOT_COPIED.has(name) || existsSync(join(standalone, name))) continue;
    cpSync(join(app, name), join(standalone, name), { recursive: true, verbatimSymlinks: true });
  }
  return standalone;
}
