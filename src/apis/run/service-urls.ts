// The URLs Cloud Run gives a service: the deterministic `https://{service}-{project number}.{region}.run.app` and
// the older `https://{service}-{hash}-{region code}.a.run.app`, plus `{tag}---` URLs for tagged revisions. Google's
// hash is an opaque per-project string; Gantry derives it from the project number so it never changes between runs
// (docs/fidelity.md, "Cloud Run service URLs").
import { createHash } from 'node:crypto';
import { memoized } from '../../google/memo.js';

/** Region codes of the older URLs, as Google's own services show them; other regions get a derived code. */
const REGION_CODES: Record<string, string> = {
  'us-central1': 'uc', 'us-east1': 'ue', 'us-west1': 'uw', 'europe-west1': 'ew', 'asia-northeast1': 'an',
};

/** Two letters for a region: the known code, else the first letters of its two words (`europe-north1` → `en`). */
export function regionCode(region: string): string {
  const known = REGION_CODES[region];
  if (known) return known;
  const [a = 'x', b = 'x'] = region.split('-');
  return (a[0] + b[0]).toLowerCase();
}

/** Ten lowercase letters and digits standing for the project in the older URLs (Google's hash is as long). */
export const projectHash = memoized(hashOf);

function hashOf(projectNumber: string): string {
  const digest = createHash('sha256').update(`run.app/${projectNumber}`).digest();
  const alphabet = 'abcdefghijklmnopqrstuvwxyz0123456789';
  let out = '';
  for (let i = 0; i < 10; i++) out += alphabet[digest[i] % alphabet.length];
  return out;
}

export interface ServiceAddress { service: string; projectNumber: string; region: string }

/** `web-123456789012.us-central1.run.app` */
export function deterministicHost(a: ServiceAddress): string { return `${a.service}-${a.projectNumber}.${a.region}.run.app`; }

/** `web-abcdefghij-uc.a.run.app` */
export function legacyHost(a: ServiceAddress): string { return `${a.service}-${projectHash(a.projectNumber)}-${regionCode(a.region)}.a.run.app`; }

/** `tag---web-123456789012.us-central1.run.app`: a tag reaches its revision alone. */
export function tagHost(a: ServiceAddress, tag: string): string { return `${tag}---${deterministicHost(a)}`; }

/** The URL status.url, status.address and v2 `uri` carry (the older form, as Google still answers). */
export function primaryUrl(a: ServiceAddress): string { return `https://${legacyHost(a)}`; }

/** Every URL of the service, deterministic first: the `run.googleapis.com/urls` annotation and v2 `urls`. */
export function serviceUrls(a: ServiceAddress): string[] { return [`https://${deterministicHost(a)}`, primaryUrl(a)]; }

export function tagUrl(a: ServiceAddress, tag: string): string { return `https://${tagHost(a, tag)}`; }
