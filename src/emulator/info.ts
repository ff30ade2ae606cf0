// What a running Gantry is: version, the APIs it serves on each transport, the executors it may use (and whether a
// container engine answers), the clock, where its state lives. Served by healthz and info, printed by tools.
import { request } from 'node:http';
import type { Clock } from '../engine/clock.js';
import type { ExecutorPolicy } from '../policy/executors.js';
import { VERSION } from '../version.js';
import { SERVICE_FILES } from '../grpc/services.js';

/** The REST APIs by service name, with their versions and the proto packages of their gRPC services (grpc/services.ts). */
const APIS = [
  { name: 'clouddeploy.googleapis.com', versions: ['v1'], grpc: 'google.cloud.deploy.' },
  { name: 'run.googleapis.com', versions: ['v1', 'v2'], grpc: 'google.cloud.run.' },
  { name: 'firebaseapphosting.googleapis.com', versions: ['v1', 'v1beta'] },
  { name: 'secretmanager.googleapis.com', versions: ['v1'], grpc: 'google.cloud.secretmanager.' },
  { name: 'logging.googleapis.com', versions: ['v2'], grpc: 'google.logging.' },
  { name: 'developerconnect.googleapis.com', versions: ['v1'], grpc: 'google.cloud.developerconnect.' },
  { name: 'storage.googleapis.com', versions: ['v1'] },
].map(a => ({ name: a.name, versions: a.versions, grpcServices: a.grpc ? Object.keys(SERVICE_FILES).filter(s => s.startsWith(a.grpc)) : [] }));

export interface InfoSources {
  clock: Clock;
  executors: ExecutorPolicy;
  dockerSocket: string;
  /** Undefined when state is kept in memory only (`--ephemeral`). */
  dataDir?: string;
  url(): string;
  tlsCertFile: string;
  /** Where resources are kept: the data directory's SQLite file, or a PostgreSQL database other instances share. */
  store: 'sqlite' | 'postgres';
  /** On a shared store: the work slots this instance holds (its projects' work; docs/scale-out.md). */
  work?: () => { slots: number[]; of: number; sole: boolean };
}

const ENGINE_CHECK_MS = 1_000;
const ENGINE_CACHE_MS = 5_000;

export class GantryInfo {
  private engine?: { at: number; reachable: Promise<boolean> };
  private readonly started = new Date().toISOString();

  constructor(private s: InfoSources) {}

  /** Whether other instances may share this one's state (a PostgreSQL store): then the clock is the real one. */
  get shared(): boolean { return this.s.store === 'postgres'; }

  /** Whether a Docker Engine API answers on the socket (checked at most every few seconds). */
  private containerEngine(): Promise<boolean> {
    const now = Date.now();
    if (!this.engine || now - this.engine.at > ENGINE_CACHE_MS) {
      this.engine = { at: now, reachable: new Promise(resolve => {
        const req = request({ socketPath: this.s.dockerSocket, path: '/_ping', timeout: ENGINE_CHECK_MS }, res => { res.resume(); resolve(res.statusCode === 200); });
        req.on('timeout', () => req.destroy());
        req.on('error', () => resolve(false));
        req.end();
      }) };
    }
    return this.engine.reachable;
  }

  async health(): Promise<Record<string, unknown>> {
    return {
      status: 'SERVING', version: VERSION,
      apis: APIS,
      executors: { enabled: [...this.s.executors.enabled], default: this.s.executors.defaultMode, containerEngine: (await this.containerEngine()) ? 'REACHABLE' : 'UNREACHABLE' },
      clock: { mode: this.s.clock.mode, now: new Date(this.s.clock.now()).toISOString() },
    };
  }

  async info(): Promise<Record<string, unknown>> {
    return {
      ...(await this.health()), url: this.s.url(), ephemeral: this.s.dataDir === undefined, ...(this.s.dataDir ? { dataDir: this.s.dataDir } : {}), store: this.s.store,
      ...(this.s.work ? { work: ((w) => ({ lease: w.slots.length ? 'HELD' : 'STANDING_BY', slots: w.slots, slotCount: w.of, soleWriter: w.sole }))(this.s.work()) } : {}), tlsCertFile: this.s.tlsCertFile,
      pid: process.pid, node: process.version, startTime: this.started,
    };
  }
}
