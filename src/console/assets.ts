// The web console's files, served at /console: the page and its style (console/), its compiled modules
// (dist/console/, from console/src by `tsc -p console`) and Preact, the one library it runs on. Read once, kept in
// memory (a fixed, small set), and sent with a Content-Security-Policy that lets the page run only its own scripts
// and talk only to this origin. The files hold no data, so they are the one thing served without the bearer token.
import { readFileSync, readdirSync, existsSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { App } from '../server/app.js';
import { errors } from '../google/errors.js';

const PAGE_DIR = fileURLToPath(new URL('../../../console/', import.meta.url));
const MODULE_DIR = fileURLToPath(new URL('../../console/', import.meta.url));

const TYPES: Record<string, string> = { '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8', '.html': 'text/html; charset=utf-8', '.svg': 'image/svg+xml' };

interface Asset { data: Buffer; type: string; etag: string }

/** GET and HEAD of these paths are the console's files (and `/`, which leads a browser to them). */
export function isConsoleAsset(method: string | undefined, url: string | undefined): boolean {
  return (method === 'GET' || method === 'HEAD') && url !== undefined && (url === '/' || url === '/console' || url.startsWith('/console/') || url.startsWith('/console?'));
}

function asset(data: Buffer, type: string): Asset {
  return { data, type, etag: `"${createHash('sha256').update(data).digest('base64url').slice(0, 22)}"` };
}

/** Every file the console is made of, by its path under /console. */
function loadAssets(): { files: Map<string, Asset>; csp: string } {
  const files = new Map<string, Asset>();
  const preact = dirname(createRequire(import.meta.url).resolve('preact/package.json'));
  const vendor: Record<string, string> = {
    'vendor/preact.js': 'dist/preact.module.js',
    'vendor/hooks.js': 'hooks/dist/hooks.module.js',
    'vendor/jsx-runtime.js': 'jsx-runtime/dist/jsxRuntime.module.js',
  };
  for (const [path, file] of Object.entries(vendor)) {
    // Their source-map comments name files not served here.
    files.set(path, asset(Buffer.from(readFileSync(join(preact, file), 'utf8').replace(/\n\/\/# sourceMappingURL=.*$/m, '')), TYPES['.js']));
  }
  if (existsSync(MODULE_DIR)) {
    for (const f of readdirSync(MODULE_DIR, { recursive: true, encoding: 'utf8' })) {
      if (f.endsWith('.js')) files.set(`app/${f.replace(/\\/g, '/')}`, asset(readFileSync(join(MODULE_DIR, f)), TYPES['.js']));
    }
  }
  files.set('style.css', asset(readFileSync(join(PAGE_DIR, 'style.css')), TYPES['.css']));
  files.set('icon.svg', asset(readFileSync(join(PAGE_DIR, 'icon.svg')), TYPES['.svg']));
  const html = readFileSync(join(PAGE_DIR, 'index.html'), 'utf8');
  files.set('', asset(Buffer.from(html), TYPES['.html']));
  // The import map is the page's one inline script: allowed by its hash, nothing else inline runs.
  const importMap = /<script type="importmap">([\s\S]*?)<\/script>/.exec(html)?.[1] ?? '';
  const hash = createHash('sha256').update(importMap).digest('base64');
  const csp = [
    "default-src 'none'", `script-src 'self' 'sha256-${hash}'`, "style-src 'self'", "img-src 'self' data:", "connect-src 'self'",
    "base-uri 'none'", "form-action 'none'", "frame-ancestors 'none'",
  ].join('; ');
  return { files, csp };
}

export function registerConsole(app: App): void {
  app.allowAnonymous(isConsoleAsset);
  let loaded: ReturnType<typeof loadAssets> | undefined;
  const serve = (path: string, ifNoneMatch: string | string[] | undefined) => {
    loaded ??= loadAssets();
    if (!loaded.files.has('app/main.js')) throw errors.failedPrecondition('The console is not built: run `npm run build`.');
    const a = loaded.files.get(path);
    if (!a) throw errors.notFound('console file', path);
    const headers: Record<string, string> = {
      etag: a.etag, 'cache-control': 'no-cache', 'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer',
      ...(path === '' ? { 'content-security-policy': loaded.csp, 'x-frame-options': 'DENY' } : {}),
    };
    if (ifNoneMatch === a.etag) return { status: 304, body: undefined, bytes: { data: Buffer.alloc(0), contentType: a.type }, headers };
    return { body: undefined, bytes: { data: a.data, contentType: a.type }, headers };
  };
  // A browser opening Gantry's address lands on the console; other clients get the 404 of an unknown path.
  app.route('GET', '/', {
    handler: req => {
      if (!/\btext\/html\b/.test(String(req.headers.accept ?? ''))) throw errors.routeNotFound('GET', '/');
      return { status: 302, body: undefined, bytes: { data: Buffer.alloc(0), contentType: 'text/plain' }, headers: { location: '/console', 'cache-control': 'no-store' } };
    },
  });
  app.route('GET', '/console', { handler: req => serve('', req.headers['if-none-match']) });
  app.route('GET', '/console/{path=**}', { handler: req => serve(req.params.path ?? '', req.headers['if-none-match']) });
}
