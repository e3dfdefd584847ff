/**
 * The crypto backend contract: every primitive the member's core needs
 * (SFrame's AEAD and HKDF, the link seal's AES-128-GCM and X25519, MLS's
 * hash, HMAC and Ed25519, random bytes) from one provider, so the same code
 * runs on node:crypto (src/platform/node, the Node media path) or on
 * @noble + WebCrypto's getRandomValues (backend-noble.ts, browsers), and
 * tests can compare the two byte for byte. This file imports neither
 * implementation; default-backend.ts says which one a caller gets when it
 * passes none.
 */
import type { Aead, AeadAlgorithm } from './aead.js'
import type { HashName } from './hash.js'

/**
 * The ciphertext and tag of one detached AES-GCM seal. A caller keeps one
 * and hands it to every `AesGcmKey.sealDetached`, which overwrites both
 * fields, so the per-packet path allocates no result object.
 */
export interface GcmDetached {
  /** Ciphertext, as long as the plaintext; a new array per seal. */
  ciphertext: Uint8Array
  /** The 16-byte GCM tag; a new array per seal. */
  tag: Uint8Array
}

/** Bytes of an AES-GCM tag, as every backend seals and opens it (RFC 5116). */
export const GCM_TAG_LENGTH = 16

/**
 * One AES-GCM key (RFC 5116 AEAD_AES_128_GCM / AEAD_AES_256_GCM, 12-byte
 * nonce, 16-byte tag) imported once, for a path that seals many packets
 * under it (the link seal). Nonces are the caller's to keep unique.
 */
export interface AesGcmKey {
  /**
   * Seals `plaintext` and leaves ciphertext and tag, separately, in `out`
   * (for gather writes that never join them).
   * @throws MalformedError when the nonce is not 12 bytes.
   */
  sealDetached: (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: GcmDetached) => void
  /**
   * Seals `plaintext` into `out`: ciphertext at `offset`, the 16-byte tag
   * right after it. `out` must have plaintext + 16 bytes from `offset`.
   * @throws MalformedError when the nonce is not 12 bytes.
   */
  sealInto: (nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, out: Uint8Array, offset: number) => void
  /**
   * Verifies and decrypts `sealed` = ciphertext || tag (16); returns the
   * plaintext (sealed - 16 bytes) as a plain Uint8Array.
   * @throws AuthenticationError when the tag does not verify or sealed is shorter than the tag.
   */
  open: (nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array
}

/**
 * An X25519 private key as a backend holds it. The node backend makes
 * node:crypto KeyObjects, the portable one a small wrapper; both export
 * PKCS#8 DER (RFC 8410) and say their type, and every backend also takes
 * the raw 32-byte scalar.
 */
export interface X25519PrivateKeyHandle {
  /** 'x25519' for an X25519 key; anything else is refused. */
  readonly asymmetricKeyType?: string
  /** PKCS#8 DER: a 16-byte head then the raw 32-byte scalar (RFC 8410 section 7). */
  export: (options: { format: 'der', type: 'pkcs8' }) => Uint8Array
}

/** An X25519 private key: a backend's handle, or the raw 32 bytes. */
export type X25519PrivateKey = X25519PrivateKeyHandle | Uint8Array

/** A fresh X25519 key pair (RFC 7748). */
export interface X25519KeyPair {
  readonly privateKey: X25519PrivateKeyHandle
  /** Raw 32-byte public key (the u-coordinate). */
  readonly publicKey: Uint8Array
}

/** X25519 (RFC 7748) key agreement. */
export interface X25519Backend {
  /** A fresh ephemeral key pair. */
  generateKeyPair: () => X25519KeyPair
  /**
   * The 32-byte shared secret of `privateKey` and the raw 32-byte `publicKey`.
   * @throws MalformedError when the private key is not X25519 (or not 32 bytes
   *   raw), or the peer key is a small-order point (all-zero secret, RFC 7748 section 6.1).
   */
  sharedSecret: (privateKey: X25519PrivateKey, publicKey: Uint8Array) => Uint8Array
}

/** Ed25519 (RFC 8032) over raw keys: a 32-byte seed, a 32-byte public key, 64-byte signatures. */
export interface Ed25519Backend {
  /**
   * Signs `message`; returns 64 bytes. Reusing the same seed array may be cheaper (imports can be cached per array).
   * @throws RangeError when the seed is not 32 bytes.
   */
  sign: (seed: Uint8Array, message: Uint8Array) => Uint8Array
  /** Verifies; never throws: wrong lengths or an invalid point verify nothing. */
  verify: (publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array) => boolean
  /**
   * The 32-byte public key of a seed.
   * @throws RangeError when the seed is not 32 bytes.
   */
  publicKey: (seed: Uint8Array) => Uint8Array
}

/** Every primitive from one implementation. Implementations are stateless apart from caches. */
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
  /** HMAC (RFC 2104) of `data` under `key`: Nh bytes. */
  hmac: (hash: HashName, key: Uint8Array, data: Uint8Array) => Uint8Array
  /** The hash (FIPS 180-4) of the concatenated `parts`: Nh bytes. */
  digest: (hash: HashName, ...parts: Uint8Array[]) => Uint8Array
  /** `length` bytes from a cryptographically secure generator. */
  randomBytes: (length: number) => Uint8Array
  /**
   * A `length`-byte array whose contents are unspecified (node: pooled and
   * not zeroed). Callers write every byte before anyone reads it.
   */
  allocUnsafe: (length: number) => Uint8Array
  /**
   * `key` (16 or 32 bytes) imported once as an AES-GCM key.
   * @throws MalformedError when the key is not 16 or 32 bytes.
   */
  aesGcmKey: (key: Uint8Array) => AesGcmKey
  /** X25519 key agreement. */
  readonly x25519: X25519Backend
  /** Ed25519 signatures. */
  readonly ed25519: Ed25519Backend
  /**
   * True when MLS should run its hash, KDF and Ed25519 on this backend's
   * synchronous primitives instead of ts-mls's own provider
   * (session/mls-crypto.ts); false keeps ts-mls's default provider.
   */
  readonly replacesMlsCrypto: boolean
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
