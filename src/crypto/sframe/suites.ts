/**
 * The SFrame cipher suites of RFC 9605 section 4.5 (IANA "SFrame Cipher
 * Suites", values 0x0001..0x0005) and their parameters: hash for key
 * derivation, key/nonce/tag sizes, and the AEAD that seals frames.
 */
import { FabricError } from '../../errors.js'
import {
  AEAD_AES_128_CTR_HMAC_SHA256_32, AEAD_AES_128_CTR_HMAC_SHA256_64, AEAD_AES_128_CTR_HMAC_SHA256_80,
  AEAD_AES_128_GCM, AEAD_AES_256_GCM, type AeadAlgorithm
} from '../aead.js'
import { HASH_LENGTH, type HashName } from '../hash.js'

/** RFC 9605 cipher suite values (2 bytes on the wire of the key labels). */
export const SFrameSuiteId = Object.freeze({
  AES_128_CTR_HMAC_SHA256_80: 0x0001,
  AES_128_CTR_HMAC_SHA256_64: 0x0002,
  AES_128_CTR_HMAC_SHA256_32: 0x0003,
  AES_128_GCM_SHA256_128: 0x0004,
  AES_256_GCM_SHA512_128: 0x0005
} as const)

/** fabric's default suite (protocol/sframe.md section 1): AES_128_GCM_SHA256_128. */
export const DEFAULT_SFRAME_SUITE = SFrameSuiteId.AES_128_GCM_SHA256_128

/** One cipher suite's parameters, named as in RFC 9605 section 4.5. */
export interface SFrameCipherSuite {
  /** Suite value, 0x0001..0x0005. */
  readonly id: number
  /** IANA name, e.g. "AES_128_GCM_SHA256_128". */
  readonly name: string
  /** Hash for HKDF key derivation (section 4.4.2). */
  readonly hash: HashName
  /** Hash output bytes. */
  readonly nh: number
  /** Derived `sframe_key` bytes: the AEAD key (enc_key || auth_key for CTR + HMAC suites). */
  readonly nk: number
  /** Nonce and `sframe_salt` bytes: 12. */
  readonly nn: number
  /** Tag bytes appended to the ciphertext. */
  readonly nt: number
  /** The AEAD that seals frames under this suite. */
  readonly aead: AeadAlgorithm
}

function suite (id: number, name: string, hash: HashName, aead: AeadAlgorithm): SFrameCipherSuite {
  return Object.freeze({ id, name, hash, nh: HASH_LENGTH[hash], nk: aead.keyLength, nn: aead.nonceLength, nt: aead.tagLength, aead })
}

const SUITES: ReadonlyMap<number, SFrameCipherSuite> = new Map([
  suite(SFrameSuiteId.AES_128_CTR_HMAC_SHA256_80, 'AES_128_CTR_HMAC_SHA256_80', 'sha256', AEAD_AES_128_CTR_HMAC_SHA256_80),
  suite(SFrameSuiteId.AES_128_CTR_HMAC_SHA256_64, 'AES_128_CTR_HMAC_SHA256_64', 'sha256', AEAD_AES_128_CTR_HMAC_SHA256_64),
  suite(SFrameSuiteId.AES_128_CTR_HMAC_SHA256_32, 'AES_128_CTR_HMAC_SHA256_32', 'sha256', AEAD_AES_128_CTR_HMAC_SHA256_32),
  suite(SFrameSuiteId.AES_128_GCM_SHA256_128, 'AES_128_GCM_SHA256_128', 'sha256', AEAD_AES_128_GCM),
  suite(SFrameSuiteId.AES_256_GCM_SHA512_128, 'AES_256_GCM_SHA512_128', 'sha512', AEAD_AES_256_GCM)
].map((s) => [s.id, s]))

/** Every supported suite, in suite-value order. */
export const SFRAME_SUITES: readonly SFrameCipherSuite[] = Object.freeze([...SUITES.values()])

/**
 * The parameters of suite `id` (0x0001..0x0005).
 * @throws FabricError('UNSUPPORTED_SUITE') for any other value.
 */
export function sframeSuite (id: number): SFrameCipherSuite {
  const found = SUITES.get(id)
  if (found === undefined) throw new FabricError('UNSUPPORTED_SUITE', `SFrame cipher suite ${id} is not supported (have 1..5)`)
  return found
}
