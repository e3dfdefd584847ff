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
import { createHash, createHmac, timingSafeEqual } from 'node:crypto'
import type { CiphersuiteImpl } from 'ts-mls'
import { ed25519Sign, ed25519Verify } from '../crypto/ed25519.js'
import { hkdfExpand, hkdfExtract } from '../crypto/hkdf.js'

/** Suite ids whose hash is SHA-256 and whose signature is Ed25519. */
export const NODE_CRYPTO_SUITES: ReadonlySet<number> = new Set([1, 3])

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
        return ed25519Sign(signKey, message)
      },
      verify: async (publicKey, message, signature) => ed25519Verify(publicKey, message, signature),
    },
  }
}
