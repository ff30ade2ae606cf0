// Cloud Run v1 is regional by host name: gcloud calls `{region}-{host}` (`us-central1-run.googleapis.com`, or
// `us-central1-run.localhost:8080` through the proxy set-up); v1 paths carry no region. A host without a region
// prefix (plain `127.0.0.1`) gets Gantry's default region.
import type { ApiRequest } from '../../server/api.js';

const REGIONAL = /^([a-z]+-[a-z]+[0-9]+)-[a-z0-9]/;

export function regionOf(req: ApiRequest, fallback: string): string {
  const host = req.headers.host;
  const h = (Array.isArray(host) ? host[0] : host ?? '').toLowerCase();
  return REGIONAL.exec(h)?.[1] ?? fallback;
}
