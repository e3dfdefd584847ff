/**
 * Safety codes members compare out of band, as DAVE shows them: the epoch
 * code, from the MLS epoch authenticator (RFC 9420 section 8.7), is the same
 * for every member of an epoch exactly when they share its key schedule,
 * so a node that split the group or slipped in a member shows up as a
 * different code; the identity fingerprint names one member's key.
 */
import { defaultCryptoBackend } from '../../crypto/default-backend.js'
import { publicKeyOfPeerId } from '../identity.js'

/** Digits of an epoch code: 30, in six groups of five. */
export const EPOCH_CODE_DIGITS = 30

/** Digits of an identity fingerprint: 20, in four groups of five. */
export const FINGERPRINT_DIGITS = 20

/** "fabric identity fingerprint v1" || 0x00: the fingerprint hash's domain. */
const FINGERPRINT_DOMAIN = new TextEncoder().encode('fabric identity fingerprint v1\0')

/**
 * Digits from bytes: each group of five digits is a 5-byte big-endian
 * number mod 100 000 (the bias of 2^40 mod 10^5 is below 10^-7).
 *
 * @param groups how many 5-digit groups; needs 5 * groups bytes
 * @throws RangeError when `bytes` is too short
 */
export function digitGroups (bytes: Uint8Array, groups: number): string {
  if (bytes.length < 5 * groups) throw new RangeError(`${groups} digit groups need ${5 * groups} bytes, got ${bytes.length}`)
  const out: string[] = []
  for (let g = 0; g < groups; g++) {
    let n = 0
    for (let i = 0; i < 5; i++) n = n * 256 + bytes[5 * g + i]!
    out.push(String(n % 100_000).padStart(5, '0'))
  }
  return out.join(' ')
}

/**
 * The epoch code: 30 digits from the first 30 bytes of the epoch
 * authenticator (every MLS suite's is at least 32 bytes).
 */
export function epochCode (epochAuthenticator: Uint8Array): string {
  return digitGroups(epochAuthenticator, EPOCH_CODE_DIGITS / 5)
}

/**
 * A member's fingerprint: 20 digits from SHA-256("fabric identity
 * fingerprint v1" || 0x00 || its Ed25519 public key).
 *
 * @throws MalformedError when `peerId` is not an Ed25519 peer id
 */
export function identityFingerprint (peerId: string): string {
  const digest = defaultCryptoBackend().digest('sha256', FINGERPRINT_DOMAIN, publicKeyOfPeerId(peerId))
  return digitGroups(digest, FINGERPRINT_DIGITS / 5)
}
