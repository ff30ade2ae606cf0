// What every API module is built from: the store, the clock, operations and its schema.
import type { Clock } from '../engine/clock.js';
import type { Store } from '../store/store.js';
import type { Locations } from './locations.js';
import type { Operations, OperationService } from './operations.js';
import type { ApiSchema } from './schema.js';
import type { Projects } from './projects.js';

/** What Gantry hands every API module; each builds its own ApiContext (schema, service) from it. */
export interface BaseContext {
  store: Store;
  clock: Clock;
  ops: Operations;
  projects: Projects;
  /** Gantry's own HTTP origin (`http://127.0.0.1:8080`), known once it listens. */
  origin(): string;
}

export interface ApiContext {
  store: Store;
  clock: Clock;
  ops: Operations;
  schema: ApiSchema;
  svc: OperationService & { serviceName: string };
  /** The locations the API serves (location-scoped APIs); `REGIONS` when absent. */
  locations?: Locations;
}
