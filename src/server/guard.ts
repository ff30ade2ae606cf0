// Who may talk to Gantry at all, checked before routing on every request whatever its method:
// the bearer token (when one is configured), the Host (DNS rebinding), the browser Origin and
// Fetch-Metadata headers (cross-site requests), and the body's media type (a web page can send
// text/plain without a CORS preflight, never application/json).
import { isIP } from 'node:net';
import { ApiError, errors } from '../google/errors.js';

export interface GuardOptions {
  /** When set, every request must carry `Authorization: Bearer <token>`. */
  authToken?: string;
  /** Host names (besides loopback names) requests may address; `*.example.test` matches subdomains. */
  allowHosts?: string[];
  /** Browser origins allowed to call (e.g. `http://localhost:3000`); none by default. */
  allowOrigins?: string[];
}

type Headers = Record<string, string | string[] | undefined>;

/** Loopback names: `localhost` and its subdomains, 127.0.0.0/8 and ::1. */
export function isLoopbackHost(host: string): boolean {
  const h = host.toLowerCase();
  if (h === 'localhost' || h.endsWith('.localhost')) return true;
  if (isIP(h) === 4) return h.startsWith('127.');
  return h === '::1' || h === '0:0:0:0:0:0:0:1';
}

/** The host name of a Host header value (`name:port`, `[v6]:port`), or undefined when malformed. */
export function hostName(value: string): string | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([A-Za-z0-9.-]+))(?::(\d{1,5}))?$/.exec(value.trim());
  if (!m) return undefined;
  return (m[1] ?? m[2]).toLowerCase().replace(/\.$/, '');
}

function matchesHost(name: string, patterns: string[]): boolean {
  return patterns.some(p => {
    const pat = p.toLowerCase();
    return pat.startsWith('*.') ? name.endsWith(pat.slice(1)) : name === pat;
  });
}

function one(h: string | string[] | undefined): string | undefined {
  return Array.isArray(h) ? h[0] : h;
}

export class RequestGuard {
  private hosts: string[];
  private origins: Set<string>;

  constructor(private opts: GuardOptions) {
    this.hosts = opts.allowHosts ?? [];
    this.origins = new Set((opts.allowOrigins ?? []).map(o => o.toLowerCase().replace(/\/$/, '')));
  }

  /**
   * Throws the Google error a request is refused with; returns when it may proceed. `anonymous` requests (files that
   * hold no data, like the console's) skip the token, never the Host and Origin checks.
   */
  check(headers: Headers, anonymous = false): void {
    if (!anonymous) this.checkAuth(headers);
    const hostHeader = one(headers.host);
    if (hostHeader === undefined || !this.hostAllowed(hostHeader)) {
      throw new ApiError('PERMISSION_DENIED', `Host "${clip(hostHeader ?? '')}" is not allowed: Gantry answers loopback names and the hosts given with --allow-hosts.`);
    }
    const origin = one(headers.origin);
    if (origin !== undefined && !this.sameOrigin(origin, hostHeader!) && !this.origins.has(origin.toLowerCase())) {
      throw new ApiError('PERMISSION_DENIED', `Origin "${clip(origin)}" is not allowed: browser requests from other origins need --allow-origins.`);
    }
    // Fetch Metadata: a browser marks requests a page on another site makes, even ones without Origin (GETs).
    const site = one(headers['sec-fetch-site']);
    if ((site === 'cross-site' || site === 'same-site') && !(origin !== undefined && this.origins.has(origin.toLowerCase()))) {
      throw new ApiError('PERMISSION_DENIED', 'Cross-site browser requests are not allowed (see --allow-origins).');
    }
  }

  /**
   * A proxy tunnel (CONNECT `host:port`) is served only when its host is one Gantry answers itself (loopback names,
   * --allow-hosts): the tunnel is Gantry, never a connection onwards.
   */
  checkTunnelTarget(authority: string): void {
    const m = /^(.*):(\d{1,5})$/.exec(authority);
    if (!m || hostName(authority) === undefined || Number(m[2]) > 65535) {
      throw errors.invalidArgument(`Invalid CONNECT target "${clip(authority)}": expected host:port.`, '');
    }
    if (!this.hostAllowed(authority)) {
      throw new ApiError('PERMISSION_DENIED', `CONNECT to "${clip(authority)}" is refused: Gantry is no proxy to other hosts, it serves tunnels only to itself (loopback names and the hosts given with --allow-hosts).`);
    }
  }

  /** JSON APIs take only JSON bodies: a form or text/plain body is what a page sends without a CORS preflight. */
  static checkJsonBody(headers: Headers, body: Buffer | undefined): void {
    if (!body || body.length === 0) return;
    const type = (one(headers['content-type']) ?? '').split(';')[0].trim().toLowerCase();
    if (type !== 'application/json' && !type.endsWith('+json')) {
      throw errors.invalidArgument(`Invalid JSON payload received. The request body must have Content-Type application/json, not "${clip(type || 'none', 100)}".`, '');
    }
  }

  /** Clients send the same Host on every request: the last allowed value skips the parse. */
  private lastHost = '';
  private hostAllowed(value: string): boolean {
    if (value === this.lastHost) return true;
    const name = hostName(value);
    if (!name || !(isLoopbackHost(name) || matchesHost(name, this.hosts))) return false;
    this.lastHost = value;
    return true;
  }

  /** Whether requests must carry the bearer token. */
  get needsToken(): boolean { return !!this.opts.authToken; }

  checkAuth(headers: Headers): void {
    const token = this.opts.authToken;
    if (!token) return;
    if (one(headers.authorization) !== `Bearer ${token}`) {
      throw errors.unauthenticated('Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.');
    }
  }

  private sameOrigin(origin: string, host: string): boolean {
    try {
      const u = new URL(origin);
      return (u.protocol === 'http:' || u.protocol === 'https:') && u.host.toLowerCase() === host.toLowerCase();
    } catch {
      return false;
    }
  }
}

function clip(s: string, n = 200): string { return s.length > n ? s.slice(0, n) + '…' : s; }
