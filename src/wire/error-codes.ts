/**
 * Error codes as they travel in DirError, GroupError and AvError
 * (protocol/errors.md). The set is the ErrorCode union of src/errors.ts; a
 * peer of a later version may send codes this one does not know, which the
 * wire accepts (if well formed) and `toErrorCode` maps to INTERNAL.
 */
import type { ErrorCode } from '../errors.js'

/** Every ErrorCode, in the order of src/errors.ts. */
export const ERROR_CODES = [
  'MALFORMED', 'TOO_LARGE', 'UNSUPPORTED_VERSION', 'UNSUPPORTED_SUITE', 'AUTH_FAILED',
  'REPLAY', 'UNKNOWN_KID', 'CTR_EXHAUSTED', 'STALE_EPOCH', 'NOT_MEMBER', 'NOT_COMMITTER',
  'IDENTITY_MISMATCH', 'NO_KEY_PACKAGE', 'NOT_FOUND', 'ALREADY_EXISTS', 'REMOVED', 'REJOIN_NEEDED',
  'INVALID_STATE', 'TIMEOUT', 'NOT_ADMITTED', 'OWNER_MISMATCH', 'QUOTA_EXCEEDED', 'UNREACHABLE',
  'CONNECTION_LOST', 'INTERNAL'
] as const satisfies readonly ErrorCode[]

// Fails to compile when src/errors.ts gains a code this list lacks.
type Missing = Exclude<ErrorCode, typeof ERROR_CODES[number]>
const exhaustive: [Missing] extends [never] ? true : Missing = true
void exhaustive

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES)

/** True when `code` is one of this version's ErrorCodes. */
export function isErrorCode (code: string): code is ErrorCode {
  return KNOWN.has(code)
}

/** The ErrorCode a received wire code stands for: itself when known, else INTERNAL. */
export function toErrorCode (code: string): ErrorCode {
  return isErrorCode(code) ? code : 'INTERNAL'
}
