/**
 * Member identities on the wire: the canonical string form of a libp2p peer
 * id (base58btc, as PeerId.toString() yields), which is also the MLS
 * credential identity (protocol/mls.md section 2). The wire checks only shape and size;
 * whether the string is a real peer id, and whose, is the services' check.
 */
import { MalformedError, TooLargeError } from '../errors.js'
import { MAX_IDENTITY } from './limits.js'
import { utf8ByteLength } from './text.js'

// base58btc and the CID multibase forms libp2p prints are all alphanumeric;
// anything else cannot be a canonical peer id string.
const IDENTITY = /^[A-Za-z0-9]+$/

/**
 * Checks an identity: 1..128 characters of [A-Za-z0-9].
 * @throws TooLargeError when longer than MAX_IDENTITY (128) characters
 * @throws MalformedError when empty, not a string, or outside the charset
 */
export function validateIdentity (identity: string): void {
  if (typeof identity !== 'string') throw new MalformedError('identity is not a string')
  if (identity.length > MAX_IDENTITY) throw new TooLargeError('identity', utf8ByteLength(identity), MAX_IDENTITY)
  if (!IDENTITY.test(identity)) {
    throw new MalformedError(identity.length === 0 ? 'identity is empty' : 'identity must be [A-Za-z0-9]+')
  }
}
