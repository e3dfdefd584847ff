/**
 * SFrame key derivation (RFC 9605 section 4.4.2): from a base key and a KID,
 *
 *   sframe_secret = HKDF-Extract("", base_key)
 *   sframe_key    = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret key "  || KID || suite, Nk)
 *   sframe_salt   = HKDF-Expand(sframe_secret, "SFrame 1.0 Secret salt " || KID || suite, Nn)
 *
 * with KID as 8 bytes and the suite as 2 bytes, both big-endian.
 */
import { MalformedError } from '../../errors.js'
import type { CryptoBackend } from '../backend.js'
import { MAX_UINT64 } from '../bytes.js'
import type { SFrameCipherSuite } from './suites.js'

const KEY_LABEL = new TextEncoder().encode('SFrame 1.0 Secret key ')
const SALT_LABEL = new TextEncoder().encode('SFrame 1.0 Secret salt ')
const EMPTY = new Uint8Array(0)

/** Keys derived for one (base key, KID, suite): what protect/unprotect need. */
export interface SFrameKeyMaterial {
  readonly suite: SFrameCipherSuite
  /** The KID these keys belong to; part of the labels, so keys differ per KID. */
  readonly kid: bigint
  /** `sframe_key`, Nk bytes (16 or 32 for GCM suites, 48 for CTR + HMAC suites). */
  readonly key: Uint8Array
  /** `sframe_salt`, Nn = 12 bytes, XORed with the CTR to form nonces. */
  readonly salt: Uint8Array
}

function label (prefix: Uint8Array, kid: bigint, suiteId: number): Uint8Array {
  if (kid < 0n || kid > MAX_UINT64) throw new MalformedError(`SFrame KID ${kid} is outside [0, 2^64 - 1]`)
  const out = new Uint8Array(prefix.byteLength + 10)
  out.set(prefix)
  const view = new DataView(out.buffer)
  view.setBigUint64(prefix.byteLength, kid, false)
  view.setUint16(prefix.byteLength + 8, suiteId, false)
  return out
}

/**
 * The key label: "SFrame 1.0 Secret key " || KID (8 bytes BE) || suite (2 bytes BE), 32 bytes.
 * @throws MalformedError when kid is outside [0, 2^64 - 1].
 */
export function sframeKeyLabel (kid: bigint, suiteId: number): Uint8Array {
  return label(KEY_LABEL, kid, suiteId)
}

/**
 * The salt label: "SFrame 1.0 Secret salt " || KID (8 bytes BE) || suite (2 bytes BE), 33 bytes.
 * @throws MalformedError when kid is outside [0, 2^64 - 1].
 */
export function sframeSaltLabel (kid: bigint, suiteId: number): Uint8Array {
  return label(SALT_LABEL, kid, suiteId)
}

/**
 * sframe_secret = HKDF-Extract("", base_key) with the suite's hash: Nh bytes.
 * @throws MalformedError when the base key is empty (always a caller bug).
 */
export function sframeSecret (backend: CryptoBackend, suite: SFrameCipherSuite, baseKey: Uint8Array): Uint8Array {
  if (baseKey.byteLength === 0) throw new MalformedError('SFrame base key is empty')
  return backend.hkdfExtract(suite.hash, EMPTY, baseKey)
}

/**
 * Derives `sframe_key` and `sframe_salt` for `kid` under `suite` from
 * `baseKey` (any non-empty length; with MLS it is the Nk-byte exporter output
 * of section 5.2).
 * @throws MalformedError when the base key is empty or kid is outside [0, 2^64 - 1].
 */
export function deriveSFrameKeyMaterial (backend: CryptoBackend, suite: SFrameCipherSuite, kid: bigint, baseKey: Uint8Array): SFrameKeyMaterial {
  const keyLabel = sframeKeyLabel(kid, suite.id)
  const saltLabel = sframeSaltLabel(kid, suite.id)
  const secret = sframeSecret(backend, suite, baseKey)
  return Object.freeze({
    suite,
    kid,
    key: backend.hkdfExpand(suite.hash, secret, keyLabel, suite.nk),
    salt: backend.hkdfExpand(suite.hash, secret, saltLabel, suite.nn)
  })
}
