// Shared by the Skaffold engine's tests and the hostile-render tests: a source tree from a file map, the
// assertion for a SkaffoldError of a kind, and a recording HTTP server that stands in for "the network".
import assert from 'node:assert/strict';
import { mkdtempSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeTree } from './server.js';
import { SkaffoldError, type SkaffoldErrorKind } from '../../src/skaffold/index.js';

/** A new temporary source tree holding `files`. */
export function sourceTree(files: Record<string, string> = {}, prefix = 'skaffold-'): string {
  return writeTree(mkdtempSync(join(tmpdir(), prefix)), files);
}

export async function rejectsWith(p: Promise<unknown>, kind: SkaffoldErrorKind, message: RegExp): Promise<void> {
  await assert.rejects(p, (e: unknown) => {
    assert.ok(e instanceof SkaffoldError, `not a SkaffoldError: ${String(e)}`);
    assert.equal(e.kind, kind, e.message);
    assert.match(e.message, message);
    return true;
  });
}

/** An HTTP server on 127.0.0.1 that records every request (proxied or direct) and answers a manifest. */
export interface RecordingServer { host: string; hits: string[]; close(): Promise<void> }

export async function recordingServer(): Promise<RecordingServer> {
  const hits: string[] = [];
  const server: Server = createServer((req, res) => { hits.push(`${req.method} ${req.url}`); res.end('apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: fetched\n'); });
  server.on('connect', (req, socket) => { hits.push(`CONNECT ${req.url}`); socket.destroy(); });
  await new Promise<void>(r => server.listen(0, '127.0.0.1', r));
  const a = server.address();
  return { host: `127.0.0.1:${typeof a === 'object' && a ? a.port : 0}`, hits, close: () => new Promise<void>(r => server.close(() => r())) };
}
