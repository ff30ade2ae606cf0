// google.rpc.Status errors, built in one place so every API answers with the same shape,
// HTTP mapping and typed details (AIP-193).

export type Code =
  | 'CANCELLED' | 'UNKNOWN' | 'INVALID_ARGUMENT' | 'DEADLINE_EXCEEDED' | 'NOT_FOUND' | 'ALREADY_EXISTS'
  | 'PERMISSION_DENIED' | 'RESOURCE_EXHAUSTED' | 'FAILED_PRECONDITION' | 'ABORTED' | 'OUT_OF_RANGE'
  | 'UNIMPLEMENTED' | 'INTERNAL' | 'UNAVAILABLE' | 'DATA_LOSS' | 'UNAUTHENTICATED';

export const GRPC_CODE: Record<Code, number> = {
  CANCELLED: 1, UNKNOWN: 2, INVALID_ARGUMENT: 3, DEADLINE_EXCEEDED: 4, NOT_FOUND: 5, ALREADY_EXISTS: 6,
  PERMISSION_DENIED: 7, RESOURCE_EXHAUSTED: 8, FAILED_PRECONDITION: 9, ABORTED: 10, OUT_OF_RANGE: 11,
  UNIMPLEMENTED: 12, INTERNAL: 13, UNAVAILABLE: 14, DATA_LOSS: 15, UNAUTHENTICATED: 16,
};

const HTTP_STATUS: Record<Code, number> = {
  CANCELLED: 499, UNKNOWN: 500, INVALID_ARGUMENT: 400, DEADLINE_EXCEEDED: 504, NOT_FOUND: 404, ALREADY_EXISTS: 409,
  PERMISSION_DENIED: 403, RESOURCE_EXHAUSTED: 429, FAILED_PRECONDITION: 400, ABORTED: 409, OUT_OF_RANGE: 400,
  UNIMPLEMENTED: 501, INTERNAL: 500, UNAVAILABLE: 503, DATA_LOSS: 500, UNAUTHENTICATED: 401,
};

const TYPE = 'type.googleapis.com/google.rpc.';
export interface FieldViolation { field: string; description: string }
export type Detail = Record<string, unknown> & { '@type': string };

/** Longest message an error carries: errors quote what the client sent, and must not amplify it. */
const MAX_MESSAGE = 2048;
/** Most field violations listed in one BadRequest. */
const MAX_VIOLATIONS = 20;

export class ApiError extends Error {
  readonly details: Detail[];
  /** `status` overrides the AIP-193 HTTP mapping, for transport-level refusals such as 408. */
  constructor(readonly code: Code, message: string, details: Detail[] = [], private status?: number) {
    super(message.length > MAX_MESSAGE ? message.slice(0, MAX_MESSAGE) + '…' : message);
    this.details = details;
  }
  get httpStatus(): number { return this.status ?? HTTP_STATUS[this.code]; }
  /** The google.rpc.Status as carried inside an Operation's `error`. */
  toStatus(): { code: number; message: string; details?: Detail[] } {
    return { code: GRPC_CODE[this.code], message: this.message, ...(this.details.length ? { details: this.details } : {}) };
  }
  /** The REST error body: `{"error":{code,message,status,details}}` with the HTTP code. */
  toBody(): { error: { code: number; message: string; status: Code; details?: Detail[] } } {
    return { error: { code: this.httpStatus, message: this.message, status: this.code, ...(this.details.length ? { details: this.details } : {}) } };
  }
}

/**
 * A refusal a long-running method reports in the operation it answers (done, with this `error`) rather than as the
 * call's own error: Cloud Deploy's CreateRollout refused by a deploy policy is one (gcloud then prints the bare
 * message, as Google's deploy-policy quickstart shows).
 */
export class OperationFailure extends ApiError {
  constructor(e: ApiError) { super(e.code, e.message, e.details); }
}

const DOMAIN = 'googleapis.com';

export function errorInfo(reason: string, service: string, metadata: Record<string, string> = {}): Detail {
  return { '@type': TYPE + 'ErrorInfo', reason, domain: service || DOMAIN, metadata };
}
/**
 * The type of a resource as Google names it (AIP-123, the `google.api.resource` type): the service and the
 * resource's message name. Store kinds (`deliveryPipeline`) and message names (`DeliveryPipeline`) give the same.
 */
export function resourceTypeOf(service: string, kindOrMessage: string): string {
  const slash = kindOrMessage.lastIndexOf('/');
  const svc = slash >= 0 ? kindOrMessage.slice(0, slash) : service;
  const kind = kindOrMessage.slice(slash + 1);
  return `${svc ? svc + '/' : ''}${kind.charAt(0).toUpperCase()}${kind.slice(1)}`;
}

export function resourceInfo(resourceType: string, resourceName: string, description = ''): Detail {
  return { '@type': TYPE + 'ResourceInfo', resourceType, resourceName, ...(description ? { description } : {}) };
}
export function badRequest(violations: FieldViolation[]): Detail {
  const clip = (t: string) => (t.length > 500 ? t.slice(0, 500) + '…' : t);
  return { '@type': TYPE + 'BadRequest', fieldViolations: violations.slice(0, MAX_VIOLATIONS).map(v => ({ field: clip(v.field), description: clip(v.description) })) };
}
export function preconditionFailure(violations: { type: string; subject: string; description: string }[]): Detail {
  return { '@type': TYPE + 'PreconditionFailure', violations };
}

/** The factory: one function per status, so call sites read as the error they raise. */
export const errors = {
  invalidArgument(message: string, field?: string, description?: string): ApiError {
    return new ApiError('INVALID_ARGUMENT', message, field !== undefined ? [badRequest([{ field, description: description ?? message }])] : []);
  },
  invalidFields(message: string, violations: FieldViolation[]): ApiError {
    const more = violations.length > MAX_VIOLATIONS ? ` (and ${violations.length - MAX_VIOLATIONS} more problems)` : '';
    return new ApiError('INVALID_ARGUMENT', message + more, [badRequest(violations)]);
  },
  /**
   * A missing resource, as Google's resource framework words it (`Resource '<name>' was not found`) with a ResourceInfo
   * naming its type (`clouddeploy.googleapis.com/DeliveryPipeline`, see `resourceTypeOf`) and name.
   */
  notFound(resourceType: string, name: string, message?: string): ApiError {
    return new ApiError('NOT_FOUND', message ?? `Resource '${name}' was not found`, [resourceInfo(resourceTypeOf('', resourceType), name)]);
  },
  alreadyExists(resourceType: string, name: string): ApiError {
    return new ApiError('ALREADY_EXISTS', `Resource '${name}' already exists`, [resourceInfo(resourceTypeOf('', resourceType), name)]);
  },
  /**
   * A location the service does not offer. Google's resource framework answers every method of a location it does
   * not serve (or the caller may not use) this way, whether the resource exists or not.
   */
  locationDenied(location: string, service: string): ApiError {
    return new ApiError('PERMISSION_DENIED', `Location ${location} is not found or access is unauthorized.`,
      [errorInfo('LOCATION_ACCESS_DENIED', service, { location })]);
  },
  /** A method (or a whole API) Gantry does not implement: 501, the one 5xx a request can cause. */
  unimplemented(message: string, metadata: Record<string, string>): ApiError {
    return new ApiError('UNIMPLEMENTED', message, [errorInfo('METHOD_NOT_IMPLEMENTED', 'gantry.dev', metadata)]);
  },
  failedPrecondition(message: string, subject = '', type = 'STATE'): ApiError {
    return new ApiError('FAILED_PRECONDITION', message, [preconditionFailure([{ type, subject, description: message }])]);
  },
  aborted(message: string, reason = 'ABORTED', service = ''): ApiError {
    return new ApiError('ABORTED', message, [errorInfo(reason, service)]);
  },
  unauthenticated(message: string): ApiError {
    return new ApiError('UNAUTHENTICATED', message, [errorInfo('ACCESS_TOKEN_TYPE_UNSUPPORTED', DOMAIN)]);
  },
  internal(message: string): ApiError { return new ApiError('INTERNAL', message); },
  routeNotFound(method: string, path: string): ApiError {
    const shown = path.length > 300 ? path.slice(0, 300) + '…' : path;
    return new ApiError('NOT_FOUND', `The requested URL ${shown} was not found on this server (method ${method.slice(0, 20)}).`);
  },
};
