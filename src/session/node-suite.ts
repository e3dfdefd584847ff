/**
 * Synchronous node:crypto implementations of the hash, HMAC, HKDF (RFC 5869)
 * and Ed25519 (RFC 8032) that an MLS suite uses, in place of ts-mls's
 * WebCrypto ones. Same bytes out; what changes is the cost: ts-mls derives
 * its whole secret tree and tree hashes every epoch (1,546 HKDF-Expand calls
 * to add one member at 128), and each WebCrypto call pays an importKey and a
 * thread-pool round trip. Measured: a Commit adding one member at 32 members
 * went from 46 to 8 ms, processing it from 35 to 4.6 ms (docs/performance.md).
 * Only suites on SHA-256 and Ed25519 (ids 1 and 3) are rewired; HPKE, the
 * AEAD and the RNG stay ts-mls's own.
 */
import { createHash, createHmac, createPrivateKey, createPublicKey, sign as edSign, timingSafeEqual, verify as edVerify, type KeyObject } from 'node:crypto'
import type { CiphersuiteImpl } from 'ts-mls'
import { hkdfExpand, hkdfExtract } from '../crypto/hkdf.js'

/** Suite ids whose hash is SHA-256 and whose signature is Ed25519. */
export const NODE_CRYPTO_SUITES: ReadonlySet<number> = new Set([1, 3])

// DER wrapper that turns a raw Ed25519 seed into PKCS#8 (RFC 8410).
const ED25519_PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex')

/**
 * Ed25519 public key from its 32 raw bytes. Imported as a JWK (RFC 8037):
 * OpenSSL 3's DER decoder path costs ~100 µs per SPKI import here, the JWK
 * path ~7 µs, and a Welcome into a 128-member tree verifies every leaf's
 * signature, each with a fresh key.
 */
function ed25519PublicKey (raw: Uint8Array): KeyObject {
  return createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: Buffer.from(raw).toString('base64url') }, format: 'jwk' })
}

/**
 * Signing keys already imported, per seed array ts-mls hands in: a PKCS#8
 * import costs ~430 µs here against ~40 µs for the signature itself, and a
 * member signs with the same key again and again. A WeakMap keyed by the
 * array keeps no copy of the secret and lets it go with the group state.
 */
const signingKeys = new WeakMap<Uint8Array, KeyObject>()

function ed25519PrivateKey (seed: Uint8Array): KeyObject {
  let key = signingKeys.get(seed)
  if (key === undefined) {
    key = createPrivateKey({ key: Buffer.concat([ED25519_PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' })
    signingKeys.set(seed, key)
  }
  return key
}

function hmac (key: Uint8Array, data: Uint8Array): Uint8Array {
  return new Uint8Array(createHmac('sha256', key).update(data).digest())
}

/**
 * `impl` with its hash, KDF and signature done by node:crypto when its suite
 * is one of NODE_CRYPTO_SUITES; any other suite is returned unchanged.
 * Signing keys in another encoding than a 32-byte Ed25519 seed fall back to
 * ts-mls's own signer.
 */
export function withNodeCrypto (impl: CiphersuiteImpl, suiteId: number): CiphersuiteImpl {
  if (!NODE_CRYPTO_SUITES.has(suiteId)) return impl
  const stock = impl.signature
  return {
    ...impl,
    hash: {
      digest: async (data) => new Uint8Array(createHash('sha256').update(data).digest()),
      mac: async (key, data) => hmac(key, data),
      verifyMac: async (key, mac, data) => {
        const expected = hmac(key, data)
        return expected.length === mac.length && timingSafeEqual(expected, mac)
      },
    },
    kdf: {
      extract: async (salt, ikm) => hkdfExtract('sha256', salt, ikm),
      expand: async (prk, info, length) => hkdfExpand('sha256', prk, info, length),
      size: impl.kdf.size,
    },
    signature: {
      keygen: async () => await stock.keygen(),
      sign: async (signKey, message) => {
        if (signKey.length !== 32) return await stock.sign(signKey, message)
        return new Uint8Array(edSign(null, message, ed25519PrivateKey(signKey)))
      },
      verify: async (publicKey, message, signature) => {
        if (publicKey.length !== 32) return false
        try {
          return edVerify(null, message, ed25519PublicKey(publicKey), signature)
        } catch {
          return false
        }
      },
    },
  }
}
