/**
 * Runs an MLS suite's hash, HMAC, HKDF (RFC 5869) and Ed25519 (RFC 8032) on
 * a `CryptoBackend`'s synchronous primitives, in place of ts-mls's WebCrypto
 * ones. Same bytes out; what changes is the cost: ts-mls derives its whole
 * secret tree and tree hashes every epoch (1,546 HKDF-Expand calls to add
 * one member at 128), and each WebCrypto call pays an importKey and a
 * thread-pool round trip. Measured on node:crypto: a Commit adding one member
 * at 32 members went from 46 to 8 ms, processing it from 35 to 4.6 ms
 * (docs/performance.md). Only suites on SHA-256 and Ed25519 (ids 1 and 3)
 * are rewired; HPKE, the AEAD and the RNG stay ts-mls's own.
 */
import type { CiphersuiteImpl } from 'ts-mls'
import type { CryptoBackend } from '../crypto/backend.js'
import { constantTimeEqual } from '../crypto/bytes.js'

/** Suite ids whose hash is SHA-256 and whose signature is Ed25519: the ones `withBackendCrypto` rewires. */
export const REWIRED_MLS_SUITES: ReadonlySet<number> = new Set([1, 3])

/**
 * `impl` with its hash, KDF and signature done by `backend` when its suite
 * is one of REWIRED_MLS_SUITES; any other suite is returned unchanged.
 * Signing keys in another encoding than a 32-byte Ed25519 seed fall back to
 * ts-mls's own signer.
 */
export function withBackendCrypto (impl: CiphersuiteImpl, suiteId: number, backend: CryptoBackend): CiphersuiteImpl {
  if (!REWIRED_MLS_SUITES.has(suiteId)) return impl
  const stock = impl.signature
  return {
    ...impl,
    hash: {
      digest: async (data) => backend.digest('sha256', data),
      mac: async (key, data) => backend.hmac('sha256', key, data),
      verifyMac: async (key, mac, data) => constantTimeEqual(backend.hmac('sha256', key, data), mac),
    },
    kdf: {
      extract: async (salt, ikm) => backend.hkdfExtract('sha256', salt, ikm),
      expand: async (prk, info, length) => backend.hkdfExpand('sha256', prk, info, length),
      size: impl.kdf.size,
    },
    signature: {
      keygen: async () => await stock.keygen(),
      sign: async (signKey, message) => {
        if (signKey.length !== 32) return await stock.sign(signKey, message)
        return backend.ed25519.sign(signKey, message)
      },
      verify: async (publicKey, message, signature) => backend.ed25519.verify(publicKey, message, signature),
    },
  }
}
