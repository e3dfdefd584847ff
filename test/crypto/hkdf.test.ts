/** HKDF on node:crypto: RFC 5869 known answers and agreement with @noble/hashes. */
import { expand, extract } from '@noble/hashes/hkdf.js'
import { sha256, sha512 } from '@noble/hashes/sha2.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { TooLargeError } from '../../src/errors.js'
import { nobleBackend } from '../../src/crypto/backend-noble.js'
import { hkdf, hkdfExpand, hkdfExtract } from '../../src/platform/node/hkdf.js'
import { fromHex, hex } from './helpers.js'

describe('RFC 5869 appendix A', () => {
  it('test case 1 (SHA-256)', () => {
    const ikm = new Uint8Array(22).fill(0x0b)
    const salt = fromHex('000102030405060708090a0b0c')
    const info = fromHex('f0f1f2f3f4f5f6f7f8f9')
    const prk = hkdfExtract('sha256', salt, ikm)
    expect(hex(prk)).toBe('077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5')
    expect(hex(hkdfExpand('sha256', prk, info, 42))).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865')
    expect(hex(hkdf('sha256', ikm, salt, info, 42))).toBe('3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865')
  })

  it('test case 3 (SHA-256, empty salt and info)', () => {
    const ikm = new Uint8Array(22).fill(0x0b)
    const prk = hkdfExtract('sha256', new Uint8Array(0), ikm)
    expect(hex(prk)).toBe('19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04')
    expect(hex(hkdfExpand('sha256', prk, new Uint8Array(0), 42))).toBe('8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8')
  })
})

describe('node vs noble', () => {
  it('extract and expand agree for SHA-256 and SHA-512 on random inputs', () => {
    fc.assert(fc.property(
      fc.constantFrom('sha256' as const, 'sha512' as const),
      fc.uint8Array({ maxLength: 80 }),
      fc.uint8Array({ maxLength: 80 }),
      fc.uint8Array({ maxLength: 80 }),
      fc.integer({ min: 1, max: 300 }),
      (hash, salt, ikm, info, length) => {
        const h = hash === 'sha256' ? sha256 : sha512
        const prk = hkdfExtract(hash, salt, ikm)
        expect(hex(prk)).toBe(hex(extract(h, ikm, salt)))
        expect(hex(prk)).toBe(hex(nobleBackend.hkdfExtract(hash, salt, ikm)))
        expect(hex(hkdfExpand(hash, prk, info, length))).toBe(hex(expand(h, prk, info, length)))
      }), { numRuns: 200 })
  })

  it('both refuse more than 255 * Nh output bytes with TooLargeError', () => {
    const prk = new Uint8Array(32)
    expect(hkdfExpand('sha256', prk, new Uint8Array(0), 255 * 32).byteLength).toBe(8160)
    expect(() => hkdfExpand('sha256', prk, new Uint8Array(0), 255 * 32 + 1)).toThrow(TooLargeError)
    expect(() => nobleBackend.hkdfExpand('sha256', prk, new Uint8Array(0), 255 * 32 + 1)).toThrow(TooLargeError)
    expect(() => hkdfExpand('sha512', prk, new Uint8Array(0), 255 * 64 + 1)).toThrow(TooLargeError)
  })
})
