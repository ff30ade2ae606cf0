// Calls to Gantry's APIs, the same REST calls the Google clients make. A bearer token (Gantry off loopback) comes in
// the URL's fragment once (`/console#token=…`, never sent to the server), and is kept for the tab's session.
const TOKEN_KEY = 'gantry.token';

function takeTokenFromFragment(): void {
  const m = /(?:^#|&)token=([^&]+)/.exec(location.hash);
  if (!m) return;
  sessionStorage.setItem(TOKEN_KEY, decodeURIComponent(m[1]));
  history.replaceState(null, '', location.pathname + location.search + '#/');
}
takeTokenFromFragment();

export function authHeaders(): Record<string, string> {
  const token = sessionStorage.getItem(TOKEN_KEY);
  return token ? { authorization: `Bearer ${token}` } : {};
}

/** A Google error (`google.rpc.Status`) as the console shows it. */
export class ApiError extends Error {
  constructor(message: string, readonly httpStatus: number, readonly status: string) { super(message); }
}

async function failure(r: Response): Promise<ApiError> {
  const text = await r.text();
  try {
    const e = (JSON.parse(text) as { error: { status?: string; message?: string } }).error;
    return new ApiError(`${e.status ?? r.status}: ${e.message ?? ''}`, r.status, e.status ?? '');
  } catch {
    return new ApiError(`HTTP ${r.status}: ${text.slice(0, 200)}`, r.status, '');
  }
}

export type Json = Record<string, any>;

export async function call<T = Json>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { ...authHeaders(), ...(body === undefined ? {} : { 'content-type': 'application/json' }) };
  const r = await fetch(path, { method, headers, body: body === undefined ? undefined : JSON.stringify(body) });
  if (!r.ok) throw await failure(r);
  const text = await r.text();
  return (text ? JSON.parse(text) : {}) as T;
}

export const get = <T = Json>(path: string) => call<T>('GET', path);
export const post = <T = Json>(path: string, body: unknown = {}) => call<T>('POST', path, body);

/** Text (a log viewer's lines). */
export async function getText(path: string): Promise<string> {
  const r = await fetch(path, { headers: authHeaders() });
  if (!r.ok) throw await failure(r);
  return r.text();
}

/** The items of a list, following page tokens for at most `pages` pages of 500 (a page stays bounded at any scale). */
export async function list<T = Json>(path: string, field: string, pages = 2): Promise<T[]> {
  const out: T[] = [];
  let token = '';
  for (let i = 0; i < pages; i++) {
    const sep = path.includes('?') ? '&' : '?';
    const page = await get<Json>(`${path}${sep}pageSize=500${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
    out.push(...((page[field] ?? []) as T[]));
    token = page.nextPageToken ?? '';
    if (!token) break;
  }
  return out;
}

/** The path and query of a URL Gantry handed out (a log viewer's), fetched from this origin whatever host it names. */
export function localPath(url: string): string {
  try {
    const u = new URL(url, location.href);
    return u.pathname + u.search;
  } catch {
    return url;
  }
}
