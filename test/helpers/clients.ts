// Official clients pointed at a Gantry.
import { google, type clouddeploy_v1 } from 'googleapis';
import { OAuth2Client } from 'google-auth-library';
import { CloudDeployClient } from '@google-cloud/deploy';
import * as grpc from '@grpc/grpc-js';

export function fakeAuth(): OAuth2Client {
  const auth = new OAuth2Client();
  auth.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3600_000 });
  return auth;
}

export function googleapisDeploy(url: string): clouddeploy_v1.Clouddeploy {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3600_000 });
  return google.clouddeploy({ version: 'v1', rootUrl: url + '/', auth });
}

/**
 * Options that point a GAPIC client (any `@google-cloud/*` library) at a Gantry: on its default transport, gRPC over
 * cleartext HTTP/2 on Gantry's one port; or, with `rest`, gax's REST fallback.
 */
export function gapicOptions(url: string, transport: 'grpc' | 'rest' = 'grpc'): Record<string, unknown> {
  const u = new URL(url);
  return transport === 'grpc'
    ? { apiEndpoint: u.hostname, port: Number(u.port), sslCreds: grpc.credentials.createInsecure(), authClient: fakeAuth() }
    : { apiEndpoint: u.hostname, port: Number(u.port), protocol: 'http', fallback: true, authClient: fakeAuth() };
}

export function gapicDeploy(url: string, transport: 'grpc' | 'rest' = 'grpc'): CloudDeployClient {
  return new CloudDeployClient(gapicOptions(url, transport) as ConstructorParameters<typeof CloudDeployClient>[0]);
}

/** The google.rpc.Status a googleapis call failed with. */
export async function googleError(p: Promise<unknown>): Promise<{ code: number; status: string; message: string; details?: Record<string, unknown>[] }> {
  try {
    await p;
  } catch (e) {
    const err = (e as { response?: { data?: { error?: { code: number; status: string; message: string; details?: Record<string, unknown>[] } } } }).response?.data?.error;
    if (err) return err;
    throw e;
  }
  throw new Error('expected the call to fail');
}

import type { run_v1, run_v2 } from 'googleapis';

export function googleapisRun(url: string, version: 'v1'): run_v1.Run;
export function googleapisRun(url: string, version: 'v2'): run_v2.Run;
export function googleapisRun(url: string, version: 'v1' | 'v2'): run_v1.Run | run_v2.Run {
  const auth = new google.auth.OAuth2();
  auth.setCredentials({ access_token: 'test-token', expiry_date: Date.now() + 3600_000 });
  return version === 'v1' ? google.run({ version: 'v1', rootUrl: url + '/', auth }) : google.run({ version: 'v2', rootUrl: url + '/', auth });
}
