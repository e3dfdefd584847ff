/**
 * Ed25519 (RFC 8032) for the signatures fabric makes with a member's
 * identity key: MLS leaf and message signatures (the key is the member's MLS
 * signature key, session/identity.ts) and fabric's own signed statements
 * (admission policies, invitations). Keys travel as raw bytes: a 32-byte
 * seed (private) and a 32-byte point (public). The work is done by the
 * default `CryptoBackend` (default-backend.ts): node:crypto in Node
 * processes (src/platform/node/ed25519.ts), @noble/curves in browsers.
 */
import { defaultCryptoBackend } from './default-backend.js'

// The lengths of an Ed25519 seed (private key) and public key (32 bytes) and
// of a signature (64 bytes), as the wire states them (wire/limits.ts), under
// the names the crypto and session code use.
export { ED25519_KEY_BYTES as ED25519_KEY_LENGTH, ED25519_SIGNATURE_BYTES as ED25519_SIGNATURE_LENGTH } from '../wire/limits.js'

/**
 * Signs `message` with the Ed25519 key whose seed is `seed`.
 *
 * @param seed 32-byte seed; the same array object is best reused (the node backend caches its import)
 * @returns a 64-byte signature
 * @throws RangeError when the seed is not 32 bytes
 */
export function ed25519Sign (seed: Uint8Array, message: Uint8Array): Uint8Array {
  return defaultCryptoBackend().ed25519.sign(seed, message)
}

/**
 * Verifies an Ed25519 signature. Never throws: a key or signature of the
 * wrong length, or a key that is not a valid point, verifies nothing.
 */
export function ed25519Verify (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  return defaultCryptoBackend().ed25519.verify(publicKey, message, signature)
}

/**
 * The 32-byte public key of a seed.
 *
 * @throws RangeError when the seed is not 32 bytes
 */
export function ed25519PublicKey (seed: Uint8Array): Uint8Array {
  return defaultCryptoBackend().ed25519.publicKey(seed)
}
