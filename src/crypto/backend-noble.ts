/** The @noble `CryptoBackend`: pure JavaScript, for browser-shared code and cross-checks. */
import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import { TooLargeError } from '../errors.js'
import { createNobleAead } from './aead-noble.js'
import { aeadCache, type CryptoBackend } from './backend.js'
import { HASH_LENGTH, type HashName } from './hash.js'

const HASHES = { sha256, sha512 } as const

/** AEAD on @noble/ciphers, HKDF on @noble/hashes. */
export const nobleBackend: CryptoBackend = Object.freeze({
  name: 'noble',
  aead: aeadCache(createNobleAead),
  hkdfExtract (hash: HashName, salt: Uint8Array, ikm: Uint8Array): Uint8Array {
    return extract(HASHES[hash], ikm, salt)
  },
  hkdfExpand (hash: HashName, prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
    // Check here so both backends throw the same typed error.
    const limit = 255 * HASH_LENGTH[hash]
    if (!Number.isInteger(length) || length < 0 || length > limit) throw new TooLargeError('HKDF-Expand output', length, limit)
    return expand(HASHES[hash], prk, info, length)
  }
})
