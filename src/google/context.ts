// What every API module is built from: the store, the clock, operations and its schema.
import type { Clock } from '../engine/clock.js';
import type { Store } from '../store/store.js';
import type { Locations } from './locations.js';
import type { Operations, OperationService } from './operations.js';
import type { ApiSchema } from './schema.js';

export interface ApiContext {
  store: Store;
  clock: Clock;
  ops: Operations;
  schema: ApiSchema;
  svc: OperationService & { serviceName: string };
  /** The locations the API serves (location-scoped APIs); `REGIONS` when absent. */
  locations?: Locations;
}
