// Requests to a served unit: the headers Cloud Run's front end sends an app, and the forwarding itself. Shared by every
// API whose host names Gantry serves (App Hosting backends, Cloud Run services).
import { request, type IncomingMessage, type OutgoingHttpHeaders, type ServerResponse } from 'node:http';

/** The host name a request to a served app names: its Host without the port, lower case, `.localhost` dropped. */
export function servedHost(req: IncomingMessage): string {
  return String(req.headers.host ?? '').replace(/:\d+$/, '').toLowerCase().replace(/\.localhost$/, '');
}

/** What the proxy knows of Gantry's own credentials: the token its guard checked (when one is set). */
export interface ProxyOptions { authToken?: string }

/**
 * The headers an app is sent: the client's, less what was meant for Gantry itself, with the forwarding headers
 * Gantry sets (as Cloud Run's front end does) in place of any the client sent. With `--auth-token`, the guard let
 * the request in only because `Authorization` held exactly Gantry's token: it is removed, so an app never holds a
 * credential for the whole API. Without a token, Gantry consumes no credential and the app's own `Authorization`
 * passes unchanged. `Proxy-Authorization` is for the proxy (Gantry), never the app. `Forwarded`, `X-Forwarded-*` and
 * `X-Real-IP` from the client would let it claim another address or host: they are replaced or dropped.
 */
export function forwardedHeaders(req: IncomingMessage, host: string, opts: ProxyOptions): OutgoingHttpHeaders {
  const headers: OutgoingHttpHeaders = {};
  for (const [k, v] of Object.entries(req.headers)) {
    if (v === undefined || k === 'forwarded' || k === 'x-real-ip' || k.startsWith('x-forwarded-') || k === 'proxy-authorization' || k === 'x-gantry-forwarded') continue;
    if (k === 'authorization' && opts.authToken) continue;
    headers[k] = v;
  }
  const ip = req.socket.remoteAddress ?? '127.0.0.1';
  const node = ip.includes(':') ? `"[${ip}]"` : ip;
  return {
    ...headers, host, forwarded: `for=${node};host=${host};proto=http`,
    'x-forwarded-host': host, 'x-forwarded-proto': 'http', 'x-forwarded-for': ip,
  };
}

/** Forwards a request to the app on `port`, as Cloud Run's front end would (see `forwardedHeaders`). */
export function proxyTo(port: number, req: IncomingMessage, res: ServerResponse, host: string, opts: ProxyOptions): void {
  const headers = forwardedHeaders(req, host, opts);
  const upstream = request({ host: '127.0.0.1', port, method: req.method, path: req.url, headers }, up => {
    res.writeHead(up.statusCode ?? 502, up.statusMessage, up.headers);
    up.pipe(res);
  });
  upstream.on('error', e => {
    if (res.headersSent) { res.destroy(); return; }
    res.writeHead(502, { 'content-type': 'text/plain; charset=utf-8' });
    res.end(`502 Bad Gateway: the app did not answer (${e.message})\n`);
  });
  req.pipe(upstream);
}

/**
 * Sends an answer that does not read the request's body (a page, a simulated answer) once that body has been read and
 * dropped: a socket closed with unread bytes is reset, and the answer lost. The server's request timeout bounds how long.
 */
export function afterBody(req: IncomingMessage, send: () => void): void {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (!hasBody || req.complete) { req.resume(); send(); return; }
  req.once('end', send);
  req.resume();
}
