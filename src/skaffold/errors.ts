// The one error type the Skaffold engine throws. `kind` is what callers branch on (Cloud Deploy maps it to a
// failure cause); the message follows Skaffold's own wording where Skaffold has one, so users recognise it.

export type SkaffoldErrorKind =
  | 'CONFIG_NOT_FOUND'
  | 'INVALID_CONFIG'
  | 'PROFILE_NOT_FOUND'
  | 'MODULE_NOT_FOUND'
  | 'MANIFEST_NOT_FOUND'
  | 'TOOL_NOT_FOUND'
  | 'TOOL_FAILED'
  | 'REMOTE_NOT_FOUND';

export class SkaffoldError extends Error {
  constructor(message: string, readonly kind: SkaffoldErrorKind) {
    super(message);
    this.name = 'SkaffoldError';
  }
}

/** Prefixes the message of a SkaffoldError (keeping its kind), or turns anything else into one of `kind`. */
export function wrap(err: unknown, prefix: string, kind: SkaffoldErrorKind): SkaffoldError {
  if (err instanceof SkaffoldError) return new SkaffoldError(`${prefix}: ${err.message}`, err.kind);
  return new SkaffoldError(`${prefix}: ${err instanceof Error ? err.message : String(err)}`, kind);
}

/** The yaml library's messages end with a source excerpt; the first line already says where. */
export function firstLine(m: string): string {
  return m.split('\n')[0].replace(/:$/, '');
}

/** Why a remote reference is refused: the render never leaves the machine. */
export const OFFLINE = 'Gantry renders offline and never fetches anything from the network';

/** A reference as shown in a message: at most 200 characters of it. */
export function shown(ref: string): string {
  return ref.length > 200 ? `${ref.slice(0, 200)}…` : ref;
}

/** `<what> "<ref>" [<where> ]is remote: Gantry renders offline…` (INVALID_CONFIG). */
export function remoteRefused(what: string, ref: string, where?: string): SkaffoldError {
  return new SkaffoldError(`${what} "${shown(ref)}"${where ? ` ${where}` : ''} is remote: ${OFFLINE}`, 'INVALID_CONFIG');
}
