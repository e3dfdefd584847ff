/**
 * HKDF (RFC 5869) on node:crypto HMAC, as separate Extract and Expand steps:
 * SFrame (RFC 9605 section 4.4.2) extracts once per base key and expands
 * twice, which node's one-shot hkdfSync cannot express.
 */
import { createHmac } from 'node:crypto'
import { TooLargeError } from '../../errors.js'
import { plainView } from '../../crypto/bytes.js'
import { HASH_LENGTH, type HashName } from '../../crypto/hash.js'

/**
 * HKDF-Extract(salt, IKM) -> PRK (RFC 5869 section 2.2). An empty salt
 * stands for HashLen zero bytes, as the RFC says. Returns Nh bytes (32 for
 * sha256, 64 for sha512).
 */
export function hkdfExtract (hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
  const key = salt.byteLength === 0 ? new Uint8Array(HASH_LENGTH[hash]) : salt
  return plainView(createHmac(hash, key).update(ikm).digest())
}

/**
 * HKDF-Expand(PRK, info, L) -> OKM of `length` bytes (RFC 5869 section 2.3).
 * @throws TooLargeError when length exceeds 255 * Nh.
 */
export function hkdfExpand (hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const hashLength = HASH_LENGTH[hash]
  const limit = 255 * hashLength
  if (!Number.isInteger(length) || length < 0 || length > limit) throw new TooLargeError('HKDF-Expand output', length, limit)
  const out = new Uint8Array(length)
  const counter = new Uint8Array(1)
  let previous: Uint8Array = new Uint8Array(0)
  for (let offset = 0, i = 1; offset < length; i++) {
    counter[0] = i
    previous = createHmac(hash, prk).update(previous).update(info).update(counter).digest()
    const take = Math.min(hashLength, length - offset)
    out.set(previous.subarray(0, take), offset)
    offset += take
  }
  return out
}

/**
 * HKDF-Extract then HKDF-Expand (RFC 5869 section 2): `length` bytes.
 * @throws TooLargeError when length exceeds 255 * Nh.
 */
export function hkdf (hash: HashName, ikm: Uint8Array, salt: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  return hkdfExpand(hash, hkdfExtract(hash, salt, ikm), info, length)
}
