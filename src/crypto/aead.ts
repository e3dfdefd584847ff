/**
 * The AEAD backend contract and the algorithms fabric uses: AES-GCM (RFC 5116)
 * and the SFrame AES-CTR + HMAC construction (RFC 9605 section 4.5.1). Two
 * backends implement it: node:crypto (aead-node.ts, the media path) and
 * @noble/ciphers (aead-noble.ts, browser-shared code and cross-checks). This
 * file imports neither, so browser code can depend on it.
 */
import { MalformedError } from '../errors.js'
import type { HashName } from './hash.js'

/** AES-GCM with a 12-byte nonce and a 16-byte tag (RFC 5116 AEAD_AES_128_GCM / AEAD_AES_256_GCM). */
export interface AesGcmAlgorithm {
  readonly kind: 'aes-gcm'
  readonly name: string
  /** AES key bytes: 16 or 32. */
  readonly keyLength: 16 | 32
  readonly nonceLength: 12
  readonly tagLength: 16
}

/**
 * AES-CTR encryption then a truncated HMAC tag over lengths, nonce, AAD and
 * ciphertext (RFC 9605 section 4.5.1). The key is enc_key || auth_key.
 */
export interface AesCtrHmacAlgorithm {
  readonly kind: 'aes-ctr-hmac'
  readonly name: string
  /** AES key bytes (Nka): 16 or 32; the first bytes of the key. */
  readonly encKeyLength: 16 | 32
  /** HMAC hash; the auth key is as long as its output (Nh). */
  readonly hash: HashName
  /** Total key bytes (Nk) = encKeyLength + hash output length. */
  readonly keyLength: number
  readonly nonceLength: 12
  /** Truncated HMAC tag bytes (Nt): 10, 8 or 4. */
  readonly tagLength: number
}

/** Any algorithm an `Aead` backend can be asked for. */
export type AeadAlgorithm = AesGcmAlgorithm | AesCtrHmacAlgorithm

function gcm (keyLength: 16 | 32): AesGcmAlgorithm {
  return Object.freeze({ kind: 'aes-gcm', name: `AES-${keyLength * 8}-GCM`, keyLength, nonceLength: 12, tagLength: 16 })
}

function ctrHmac (encKeyLength: 16 | 32, hash: HashName, tagLength: number): AesCtrHmacAlgorithm {
  const authKeyLength = hash === 'sha256' ? 32 : 64
  return Object.freeze({
    kind: 'aes-ctr-hmac',
    name: `AES-${encKeyLength * 8}-CTR-HMAC-${hash.toUpperCase()}-${tagLength * 8}`,
    encKeyLength,
    hash,
    keyLength: encKeyLength + authKeyLength,
    nonceLength: 12,
    tagLength
  })
}

/** AES-128-GCM: 16-byte key, 12-byte nonce, 16-byte tag. */
export const AEAD_AES_128_GCM = gcm(16)
/** AES-256-GCM: 32-byte key, 12-byte nonce, 16-byte tag. */
export const AEAD_AES_256_GCM = gcm(32)
/** RFC 9605 suite 0x0001's AEAD: 48-byte key (16 AES + 32 HMAC-SHA256), 10-byte tag. */
export const AEAD_AES_128_CTR_HMAC_SHA256_80 = ctrHmac(16, 'sha256', 10)
/** RFC 9605 suite 0x0002's AEAD: 48-byte key, 8-byte tag. */
export const AEAD_AES_128_CTR_HMAC_SHA256_64 = ctrHmac(16, 'sha256', 8)
/** RFC 9605 suite 0x0003's AEAD: 48-byte key, 4-byte tag. */
export const AEAD_AES_128_CTR_HMAC_SHA256_32 = ctrHmac(16, 'sha256', 4)
/**
 * The 256-bit sibling of section 4.5.1 (draft-barnes-sframe-iana-256, vector
 * "cipher_suite" 6): 96-byte key (32 AES-256 + 64 HMAC-SHA512), 10-byte tag.
 * AEAD level only; no SFrame suite uses it yet.
 */
export const AEAD_AES_256_CTR_HMAC_SHA512_80 = ctrHmac(32, 'sha512', 10)
/** As AEAD_AES_256_CTR_HMAC_SHA512_80 with an 8-byte tag (vector suite 7). */
export const AEAD_AES_256_CTR_HMAC_SHA512_64 = ctrHmac(32, 'sha512', 8)
/** As AEAD_AES_256_CTR_HMAC_SHA512_80 with a 4-byte tag (vector suite 8). */
export const AEAD_AES_256_CTR_HMAC_SHA512_32 = ctrHmac(32, 'sha512', 4)

/** Every algorithm above, for tests and backend self-checks. */
export const ALL_AEAD_ALGORITHMS: readonly AeadAlgorithm[] = Object.freeze([
  AEAD_AES_128_GCM, AEAD_AES_256_GCM,
  AEAD_AES_128_CTR_HMAC_SHA256_80, AEAD_AES_128_CTR_HMAC_SHA256_64, AEAD_AES_128_CTR_HMAC_SHA256_32,
  AEAD_AES_256_CTR_HMAC_SHA512_80, AEAD_AES_256_CTR_HMAC_SHA512_64, AEAD_AES_256_CTR_HMAC_SHA512_32
])

/**
 * One AEAD algorithm on one backend. Stateless: keys travel with each call,
 * so one instance serves every key. Outputs are plain Uint8Arrays (never
 * node Buffers, whose slice() would share memory), owned by the caller; a
 * small output may be a view into a shared slab, so read it through its
 * byteOffset/byteLength, never through `.buffer` alone.
 */
export interface Aead {
  readonly algorithm: AeadAlgorithm
  /** Key bytes (Nk). */
  readonly keyLength: number
  /** Nonce bytes (Nn); 12 for every algorithm here. */
  readonly nonceLength: number
  /** Tag bytes (Nt) appended to the ciphertext. */
  readonly tagLength: number
  /**
   * Encrypts and authenticates. Returns `prefix || ciphertext || tag`, one
   * new array of prefix + plaintext + tagLength bytes; `prefix` (default
   * empty) lets a caller put a clear header in front without a second copy.
   * @throws MalformedError when key or nonce has the wrong length.
   */
  seal: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, plaintext: Uint8Array, prefix?: Uint8Array) => Uint8Array
  /**
   * Verifies and decrypts `ciphertext || tag`. Returns the plaintext
   * (sealed - tagLength bytes); nothing is returned before the tag verifies.
   * @throws AuthenticationError when the tag does not verify or sealed is shorter than the tag.
   * @throws MalformedError when key or nonce has the wrong length.
   */
  open: (key: Uint8Array, nonce: Uint8Array, aad: Uint8Array, sealed: Uint8Array) => Uint8Array
}

/**
 * Checks key and nonce lengths for `algorithm`, so both backends fail the same
 * typed way instead of with their own library errors.
 * @throws MalformedError on a wrong length.
 */
export function checkKeyAndNonce (algorithm: AeadAlgorithm, key: Uint8Array, nonce: Uint8Array): void {
  if (key.byteLength !== algorithm.keyLength) throw new MalformedError(`${algorithm.name} key is ${key.byteLength} bytes, expected ${algorithm.keyLength}`)
  if (nonce.byteLength !== algorithm.nonceLength) throw new MalformedError(`${algorithm.name} nonce is ${nonce.byteLength} bytes, expected ${algorithm.nonceLength}`)
}
