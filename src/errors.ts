/**
 * Typed errors shared by every layer. Each carries a stable `code` that also
 * travels on the wire (protocol/errors.md) so a peer can tell what went wrong
 * without parsing messages.
 */
export type ErrorCode =
  | 'MALFORMED'            // bytes do not parse
  | 'TOO_LARGE'            // a declared or actual size exceeds its bound
  | 'UNSUPPORTED_VERSION'  // version field we do not speak
  | 'UNSUPPORTED_SUITE'    // cipher suite we do not implement
  | 'AUTH_FAILED'          // AEAD tag did not verify
  | 'REPLAY'               // link sequence already seen or older than the window
  | 'UNKNOWN_KID'          // no key for this SFrame KID
  | 'CTR_EXHAUSTED'        // a sender ran out of SFrame counter values for its key
  | 'STALE_EPOCH'          // a commit for an epoch that is not the current one
  | 'NOT_MEMBER'           // peer is not in the stream's roster
  | 'NOT_COMMITTER'        // only the stream's committer may do this
  | 'IDENTITY_MISMATCH'    // credential identity differs from the authenticated peer id
  | 'NO_KEY_PACKAGE'       // directory has no KeyPackage for this identity
  | 'NOT_FOUND'            // unknown stream or object
  | 'ALREADY_EXISTS'       // stream already exists
  | 'REMOVED'              // this member was removed from the group
  | 'REJOIN_NEEDED'        // a resuming member's MLS state cannot be brought current: join again with a fresh KeyPackage
  | 'INVALID_STATE'        // operation not valid in the current state
  | 'TIMEOUT'              // a bounded wait elapsed
  | 'NOT_ADMITTED'         // the stream's admission policy does not admit this identity
  | 'OWNER_MISMATCH'       // a group belongs to another owner or stream than the one asked for
  | 'QUOTA_EXCEEDED'       // a per-identity or per-node quota is used up
  | 'UNREACHABLE'          // the node could not be dialled
  | 'CONNECTION_LOST'      // the connection or stream to the node failed mid-operation
  | 'INTERNAL'             // a bug on our side

/** Base of every error fabric throws on purpose. `code` is stable; `message` is for humans. */
export class FabricError extends Error {
  readonly code: ErrorCode
  constructor (code: ErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options)
    this.code = code
    this.name = new.target.name
  }
}

/** Input bytes do not follow the layout they claim. */
export class MalformedError extends FabricError {
  constructor (message: string, options?: { cause?: unknown }) { super('MALFORMED', message, options) }
}

/** A size exceeds its documented bound; nothing was buffered beyond the bound. */
export class TooLargeError extends FabricError {
  readonly limit: number
  readonly actual: number
  constructor (what: string, actual: number, limit: number) {
    super('TOO_LARGE', `${what} is ${actual} bytes, limit ${limit}`)
    this.limit = limit
    this.actual = actual
  }
}

/** An AEAD tag failed to verify: wrong key, or the bytes were altered. */
export class AuthenticationError extends FabricError {
  constructor (message = 'authentication tag did not verify', options?: { cause?: unknown }) { super('AUTH_FAILED', message, options) }
}

/** A link sequence number was seen before, or is older than the replay window. */
export class ReplayError extends FabricError {
  readonly sequence: bigint
  constructor (sequence: bigint, why: string) {
    super('REPLAY', `link sequence ${sequence} refused: ${why}`)
    this.sequence = sequence
  }
}

/** No key is installed for the SFrame KID of a frame. */
export class UnknownKidError extends FabricError {
  readonly kid: bigint
  constructor (kid: bigint) {
    super('UNKNOWN_KID', `no key for SFrame KID ${kid}`)
    this.kid = kid
  }
}

/** True when `err` is a FabricError with one of the given codes. */
export function isFabricError (err: unknown, ...codes: ErrorCode[]): err is FabricError {
  return err instanceof FabricError && (codes.length === 0 || codes.includes(err.code))
}
