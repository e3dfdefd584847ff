/**
 * Ed25519 (RFC 8032) on node:crypto, for the signatures fabric makes with a
 * member's identity key: MLS leaf and message signatures (the key is the
 * member's MLS signature key, session/identity.ts) and fabric's own signed
 * statements (admission policies, invitations).
 *
 * Keys travel as raw bytes: a 32-byte seed (private) and a 32-byte point
 * (public). Importing them into node:crypto is the costly step, so both
 * directions take the cheapest import path measured here.
 */
import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto'
import { ED25519_KEY_LENGTH, ED25519_SIGNATURE_LENGTH } from '../../crypto/ed25519.js'

// DER wrapper that turns a raw Ed25519 seed into PKCS#8 (RFC 8410).
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/**
 * Signing keys already imported, per seed array: a PKCS#8 import costs
 * ~430 µs here against ~40 µs for a signature, and a member signs with the
 * same key again and again. A WeakMap keyed by the array keeps no copy of the
 * secret and lets the key go with its owner.
 */
const signingKeys = new WeakMap<Uint8Array, KeyObject>()

function privateKeyOf (seed: Uint8Array): KeyObject {
  let key = signingKeys.get(seed)
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
    signingKeys.set(seed, key)
  }
  return key
}

/**
 * A public key imported as a JWK (RFC 8037): OpenSSL 3's DER decoder costs
 * ~100 µs per SPKI import here, the JWK path ~7 µs, and a Welcome into a big
 * tree verifies every leaf with a fresh key.
 */
function publicKeyOf (raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
}

/**
 * Signs `message` with the Ed25519 key whose seed is `seed`.
 *
 * @param seed 32-byte seed; the same array object is best reused (its import is cached)
 * @returns a 64-byte signature
 * @throws RangeError when the seed is not 32 bytes
 */
export function ed25519Sign (seed: Uint8Array, message: Uint8Array): Uint8Array {
  if (seed.length !== ED25519_KEY_LENGTH) throw new RangeError(`Ed25519 seed must be ${ED25519_KEY_LENGTH} bytes, got ${seed.length}`)
  return new Uint8Array(sign(null, message, privateKeyOf(seed)))
}

/**
 * Verifies an Ed25519 signature. Never throws: a key or signature of the
 * wrong length, or a key that is not a valid point, verifies nothing.
 */
export function ed25519Verify (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  if (publicKey.length !== ED25519_KEY_LENGTH || signature.length !== ED25519_SIGNATURE_LENGTH) return false
  try {
    return verify(null, message, publicKeyOf(publicKey), signature)
  } catch {
    return false
  }
}

/**
 * The public key of a seed.
 *
 * @throws RangeError when the seed is not 32 bytes
 */
export function ed25519PublicKey (seed: Uint8Array): Uint8Array {
  if (seed.length !== ED25519_KEY_LENGTH) throw new RangeError(`Ed25519 seed must be ${ED25519_KEY_LENGTH} bytes, got ${seed.length}`)
  const jwk = createPublicKey(privateKeyOf(seed)).export({ format: 'jwk' })
  return new Uint8Array(Buffer.from(jwk.x as string, 'base64url'))
}
