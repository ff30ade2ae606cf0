// A request for a served app that reached an instance which does not run it (another instance sharing the database
// does its project's work): passed on whole to the instance that does, which serves it as if it had come there first.
import { request, type IncomingMessage, type ServerResponse } from 'node:http';

/** Marks a forwarded request: the instance it reaches serves it itself, so stale holder records never loop. */
export const FORWARDED_HEADER = 'x-gantry-forwarded';

export function forwardTo(base: string, req: IncomingMessage, res: ServerResponse): void {
  const to = new URL(base);
  const upstream = request({ host: to.hostname.replace(/^\[|\]$/g, ''), port: to.port, method: req.method, path: req.url, headers: { ...req.headers, [FORWARDED_HEADER]: '1' } }, up => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
    up.pipe(res);
  });
  upstream.on('error', e => {
    if (res.headersSent) { res.destroy(); return; }
    res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`502 Bad Gateway: the Gantry instance serving apps (${base}) did not answer (${e.message})\n`);
  });
  req.pipe(upstream);
}
