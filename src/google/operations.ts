// google.longrunning Operations: stored beside the resources they stand for, written in the same
// transaction as the resource change, completed when the work they stand for is done.
import type { Clock } from '../engine/clock.js';
import type { Store, Writer } from '../store/store.js';
import { ApiError, errors } from './errors.js';
import { hex } from './ids.js';

export const OPERATION_KIND = 'operation';

export interface Operation {
  name: string;
  metadata: Record<string, unknown>;
  done?: boolean;
  response?: Record<string, unknown>;
  error?: { code: number; message: string; details?: unknown[] };
}

export interface OperationService {
  /** Proto package of the API, e.g. google.cloud.deploy.v1. */
  protoPackage: string;
  apiVersion: string;
}

export class Operations {
  constructor(private store: Store, private clock: Clock) {}

  /** Real format: operation-{epochMillis}-{13 hex}-{8 hex}-{8 hex}. */
  newName(location: string): string {
    return `${location}/operations/operation-${this.clock.now()}-${hex(13)}-${hex(8)}-${hex(8)}`;
  }

  create(w: Writer, svc: OperationService, location: string, target: string, verb: string,
    result?: { response?: { type: string; value: object }; error?: ApiError }): Operation {
    const now = this.clock.timestamp();
    const op: Operation = {
      name: this.newName(location),
      metadata: {
        '@type': `type.googleapis.com/${svc.protoPackage}.OperationMetadata`,
        createTime: now, target, verb, apiVersion: svc.apiVersion,
      },
    };
    if (result) this.finish(op, result);
    w.put(OPERATION_KIND, op.name, location, op, now, !op.done);
    return op;
  }

  complete(w: Writer, name: string, result: { response?: { type: string; value: object }; error?: ApiError }): void {
    const op = this.store.getParsed<Operation>(name);
    if (!op || op.done) return;
    this.finish(op, result);
    w.put(OPERATION_KIND, op.name, name.slice(0, name.indexOf('/operations/')), op, String(op.metadata.createTime), false);
  }

  private finish(op: Operation, result: { response?: { type: string; value: object }; error?: ApiError }): void {
    op.done = true;
    op.metadata.endTime = this.clock.timestamp();
    if (result.error) op.error = result.error.toStatus();
    else if (result.response) op.response = { '@type': `type.googleapis.com/${result.response.type}`, ...result.response.value };
  }

  get(name: string): Operation {
    const op = this.store.getParsed<Operation>(name);
    if (!op) throw errors.notFound('Operation', name);
    return op;
  }

  cancel(name: string): void {
    const op = this.get(name);
    if (op.done) return;
    op.metadata.requestedCancellation = true;
    this.store.tx(w => {
      w.put(OPERATION_KIND, op.name, name.slice(0, name.indexOf('/operations/')), op, String(op.metadata.createTime), true);
      this.complete(w, name, { error: new ApiError('CANCELLED', 'Operation was cancelled.') });
    });
  }

  delete(name: string): void {
    this.get(name);
    this.store.tx(w => w.delete(name));
  }

  /** requestId replay: the operation first answered for (method, target, requestId), if any. */
  replayed(key: string): Operation | undefined {
    const name = this.store.getMeta('request:' + key);
    return name ? this.store.getParsed<Operation>(name) : undefined;
  }

  remember(w: Writer, key: string, op: Operation): void { w.setMeta('request:' + key, op.name); }
}
