/**
 * The crypto backend contract: everything SFrame needs (AEAD and HKDF) from
 * one provider, so the same SFrame code runs on node:crypto (media path) or
 * on noble (browser-shared), and tests can compare the two byte for byte.
 * This file imports neither implementation.
 */
import type { Aead, AeadAlgorithm } from './aead.js'
import type { HashName } from './hash.js'

/** AEAD and HKDF from one implementation. Implementations are stateless apart from caches. */
export interface CryptoBackend {
  /** 'node' or 'noble', for logs and test names. */
  readonly name: string
  /** The `Aead` for `algorithm`; the same instance on every call. */
  aead: (algorithm: AeadAlgorithm) => Aead
  /** HKDF-Extract (RFC 5869 section 2.2): Nh bytes; empty salt = Nh zero bytes. */
  hkdfExtract: (hash: HashName, salt: Uint8Array, ikm: Uint8Array) => Uint8Array
  /**
   * HKDF-Expand (RFC 5869 section 2.3): `length` bytes.
   * @throws TooLargeError when length exceeds 255 * Nh.
   */
  hkdfExpand: (hash: HashName, prk: Uint8Array, info: Uint8Array, length: number) => Uint8Array
}

/** Memoizes one `Aead` per algorithm object so hot paths do not rebuild it per frame. */
export function aeadCache (create: (algorithm: AeadAlgorithm) => Aead): (algorithm: AeadAlgorithm) => Aead {
  const cache = new Map<AeadAlgorithm, Aead>()
  return (algorithm) => {
    let aead = cache.get(algorithm)
    if (aead === undefined) {
      aead = create(algorithm)
      cache.set(algorithm, aead)
    }
    return aead
  }
}
