// Cloud Storage's request preconditions: ifGenerationMatch (0 = the object must not exist), ifGenerationNotMatch,
// ifMetagenerationMatch, ifMetagenerationNotMatch, and their ifSource… forms on copies. A write whose precondition
// does not hold is 412 Precondition Failed; a read is 304 Not Modified for the …NotMatch forms, as Google answers.
import { ApiError, errors, preconditionFailure } from '../../google/errors.js';
import { queryString, type ApiRequest } from '../../server/api.js';

type Obj = Record<string, unknown>;

/** An int64 query parameter (as a decimal string, without leading zeros beyond "0"), or undefined. */
export function queryInt64(req: ApiRequest, name: string, opts: { min?: bigint } = {}): bigint | undefined {
  const v = queryString(req, name);
  if (v === undefined || v === '') return undefined;
  if (!/^-?\d{1,19}$/.test(v)) throw errors.invalidArgument(`Invalid value for ${name}: ${clip(v)}`, name);
  const n = BigInt(v);
  if (n > 9223372036854775807n || n < -9223372036854775808n || (opts.min !== undefined && n < opts.min)) {
    throw errors.invalidArgument(`Invalid value for ${name}: ${clip(v)}`, name);
  }
  return n;
}

export interface Preconditions { ifGenerationMatch?: bigint; ifGenerationNotMatch?: bigint; ifMetagenerationMatch?: bigint; ifMetagenerationNotMatch?: bigint }

/** The destination (or only) object's preconditions a request carries; `prefix` is 'ifSource' for a copy's source. */
export function preconditionsOf(req: ApiRequest, prefix: 'if' | 'ifSource' = 'if'): Preconditions {
  // Generations and metagenerations are never negative: a negative precondition is malformed, not unmet.
  const min = { min: 0n };
  return {
    ifGenerationMatch: queryInt64(req, `${prefix}GenerationMatch`, min),
    ifGenerationNotMatch: queryInt64(req, `${prefix}GenerationNotMatch`, min),
    ifMetagenerationMatch: queryInt64(req, `${prefix}MetagenerationMatch`, min),
    ifMetagenerationNotMatch: queryInt64(req, `${prefix}MetagenerationNotMatch`, min),
  };
}

export function hasPreconditions(p: Preconditions): boolean {
  return Object.values(p).some(v => v !== undefined);
}

/**
 * Checks `p` against the live object (undefined when there is none). `read`: a failed …NotMatch is 304 Not
 * Modified rather than 412.
 */
export function checkPreconditions(obj: Obj | undefined, p: Preconditions, mode: 'read' | 'write' = 'write'): void {
  const generation = obj?.generation !== undefined ? BigInt(String(obj.generation)) : 0n;
  const metageneration = obj?.metageneration !== undefined ? BigInt(String(obj.metageneration)) : undefined;
  if (p.ifGenerationMatch !== undefined && p.ifGenerationMatch !== generation) throw failed('If-Match', 'ifGenerationMatch');
  if (p.ifMetagenerationMatch !== undefined && p.ifMetagenerationMatch !== metageneration) throw failed('If-Metageneration-Match', 'ifMetagenerationMatch');
  if (p.ifGenerationNotMatch !== undefined && p.ifGenerationNotMatch === generation) {
    throw mode === 'read' ? notModified() : failed('If-None-Match', 'ifGenerationNotMatch');
  }
  if (p.ifMetagenerationNotMatch !== undefined && (metageneration === undefined || p.ifMetagenerationNotMatch === metageneration)) {
    throw mode === 'read' ? notModified() : failed('If-Metageneration-Not-Match', 'ifMetagenerationNotMatch');
  }
}

/** Marks a 304 answer: the route replies with an empty body. */
export class NotModified extends Error {}
const notModified = () => new NotModified('Not Modified');

function failed(header: string, param: string): ApiError {
  const message = 'At least one of the pre-conditions you specified did not hold.';
  return new ApiError('FAILED_PRECONDITION', message, [preconditionFailure([{ type: 'conditionNotMet', subject: param, description: `${header} (${param}) did not hold.` }])], 412);
}

function clip(s: string): string { return s.length > 40 ? s.slice(0, 40) + '…' : s; }
