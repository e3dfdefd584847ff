/**
 * Size bounds for the bytes the session layer accepts from other processes.
 * Each is checked before any parsing, so an oversized input costs nothing
 * beyond its length check.
 */
import { TooLargeError } from '../errors.js'

// The wire bounds of protocol/limits.md, under the names this layer uses, so
// the session never admits what the control protocols cannot carry: the
// largest encoded MLSMessage Commit (1 MiB), Welcome (1 MiB, accepted or
// produced) and KeyPackage (64 KiB); the longest credential identity (a
// libp2p peer id string, 128 bytes of UTF-8) and MLS group id (256 bytes; a
// fabric bound, RFC 9420 leaves the length open).
export {
  MAX_COMMIT as MAX_COMMIT_BYTES,
  MAX_WELCOME as MAX_WELCOME_BYTES,
  MAX_KEY_PACKAGE as MAX_KEY_PACKAGE_BYTES,
  MAX_IDENTITY as MAX_IDENTITY_BYTES,
  MAX_GROUP_ID as MAX_GROUP_ID_BYTES,
  // Most KeyPackages one `prepareAdd` call takes (one Commit, one Welcome):
  // the wire's bound on the identities a Commit adds, 256.
  MAX_ADDED_PER_COMMIT as MAX_ADDS_PER_COMMIT,
} from '../wire/limits.js'

/** Largest serialised private KeyPackage state accepted, in bytes (4 KiB). */
export const MAX_PRIVATE_STATE_BYTES = 4 * 1024

/**
 * Throws TooLargeError when `bytes` is longer than `limit`.
 *
 * @param what  name of the input, used in the error message
 * @param bytes the input
 * @param limit bound in bytes, inclusive
 * @throws TooLargeError
 */
export function checkSize (what: string, bytes: Uint8Array, limit: number): void {
  if (bytes.length > limit) throw new TooLargeError(what, bytes.length, limit)
}
