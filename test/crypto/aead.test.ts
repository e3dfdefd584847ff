/** AEAD backends: known answers, node vs noble byte equality, tamper detection. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuthenticationError, MalformedError } from '../../src/errors.js'
import { AEAD_AES_128_GCM, AEAD_AES_256_GCM, ALL_AEAD_ALGORITHMS } from '../../src/crypto/aead.js'
import { createNobleAead } from '../../src/crypto/aead-noble.js'
import { createNodeAead } from '../../src/platform/node/aead-node.js'
import { fromHex, hex } from './helpers.js'

describe('AES-GCM known answers (GCM spec test cases 1-2)', () => {
  for (const create of [createNodeAead, createNobleAead]) {
    it(create.name, () => {
      const aead = create(AEAD_AES_128_GCM)
      const zeroKey = new Uint8Array(16)
      const zeroNonce = new Uint8Array(12)
      expect(hex(aead.seal(zeroKey, zeroNonce, new Uint8Array(0), new Uint8Array(0)))).toBe('58e2fccefa7e3061367f1d57a4e7455a')
      expect(hex(aead.seal(zeroKey, zeroNonce, new Uint8Array(0), new Uint8Array(16))))
        .toBe('0388dace60b6a392f328c2b971b2fe78' + 'ab6e47d42cec13bdf53a67b21257bddf')
    })
  }
})

const arbCase = (keyLength: number) => fc.record({
  key: fc.uint8Array({ minLength: keyLength, maxLength: keyLength }),
  nonce: fc.uint8Array({ minLength: 12, maxLength: 12 }),
  aad: fc.uint8Array({ maxLength: 64 }),
  plaintext: fc.uint8Array({ maxLength: 2048 }),
  prefix: fc.uint8Array({ maxLength: 17 })
})

describe.each(ALL_AEAD_ALGORITHMS.map((a) => [a.name, a] as const))('%s', (_name, algorithm) => {
  const node = createNodeAead(algorithm)
  const noble = createNobleAead(algorithm)

  it('reports its sizes', () => {
    for (const aead of [node, noble]) {
      expect(aead.keyLength).toBe(algorithm.keyLength)
      expect(aead.nonceLength).toBe(12)
      expect(aead.tagLength).toBe(algorithm.tagLength)
    }
  })

  it('node and noble seal to identical bytes and open each other', () => {
    fc.assert(fc.property(arbCase(algorithm.keyLength), ({ key, nonce, aad, plaintext, prefix }) => {
      const a = node.seal(key, nonce, aad, plaintext, prefix)
      const b = noble.seal(key, nonce, aad, plaintext, prefix)
      expect(hex(a)).toBe(hex(b))
      expect(a.byteLength).toBe(prefix.byteLength + plaintext.byteLength + algorithm.tagLength)
      expect(hex(a.subarray(0, prefix.byteLength))).toBe(hex(prefix))
      const sealed = a.subarray(prefix.byteLength)
      expect(hex(node.open(key, nonce, aad, sealed))).toBe(hex(plaintext))
      expect(hex(noble.open(key, nonce, aad, sealed))).toBe(hex(plaintext))
    }), { numRuns: 150 })
  })

  it('refuses any flipped bit of sealed bytes or AAD with AuthenticationError on both backends', () => {
    fc.assert(fc.property(arbCase(algorithm.keyLength), fc.nat(), fc.integer({ min: 0, max: 7 }), fc.boolean(), ({ key, nonce, aad, plaintext }, at, bit, inAad) => {
      const sealed = node.seal(key, nonce, aad, plaintext)
      let badSealed = sealed
      let badAad = aad
      if (inAad && aad.byteLength > 0) {
        badAad = aad.slice()
        badAad[at % aad.byteLength] ^= 1 << bit
      } else {
        badSealed = sealed.slice()
        badSealed[at % sealed.byteLength] ^= 1 << bit
      }
      for (const aead of [node, noble]) expect(() => aead.open(key, nonce, badAad, badSealed)).toThrow(AuthenticationError)
    }), { numRuns: 100 })
  })

  it('refuses a wrong key, a wrong nonce and input shorter than the tag', () => {
    const key = new Uint8Array(algorithm.keyLength).fill(7)
    const nonce = new Uint8Array(12).fill(9)
    const sealed = node.seal(key, nonce, new Uint8Array(0), new Uint8Array([1, 2, 3]))
    // The last key byte: for CTR + HMAC only the auth key half is authenticated
    // (RFC 9605 section 4.5.1), so a wrong enc key alone would decrypt to garbage.
    const otherKey = key.slice()
    otherKey[key.byteLength - 1] ^= 1
    const otherNonce = nonce.slice()
    otherNonce[11] ^= 1
    for (const aead of [node, noble]) {
      expect(() => aead.open(otherKey, nonce, new Uint8Array(0), sealed)).toThrow(AuthenticationError)
      expect(() => aead.open(key, otherNonce, new Uint8Array(0), sealed)).toThrow(AuthenticationError)
      expect(() => aead.open(key, nonce, new Uint8Array(0), sealed.subarray(0, algorithm.tagLength - 1))).toThrow(AuthenticationError)
    }
  })

  it('throws MalformedError for wrong key or nonce lengths', () => {
    for (const aead of [node, noble]) {
      expect(() => aead.seal(new Uint8Array(algorithm.keyLength + 1), new Uint8Array(12), new Uint8Array(0), new Uint8Array(0))).toThrow(MalformedError)
      expect(() => aead.seal(new Uint8Array(algorithm.keyLength), new Uint8Array(8), new Uint8Array(0), new Uint8Array(0))).toThrow(MalformedError)
      expect(() => aead.open(new Uint8Array(3), new Uint8Array(12), new Uint8Array(0), new Uint8Array(32))).toThrow(MalformedError)
    }
  })
})

describe('node backend input handling', () => {
  it('works on unaligned views into larger buffers without copying them first', () => {
    const backing = new Uint8Array(200).map((_, i) => i)
    const key = backing.subarray(3, 3 + 32)
    const nonce = backing.subarray(41, 53)
    const aad = backing.subarray(60, 77)
    const pt = backing.subarray(101, 190)
    for (const algorithm of [AEAD_AES_128_GCM, AEAD_AES_256_GCM]) {
      const k = key.subarray(0, algorithm.keyLength)
      const sealed = createNodeAead(algorithm).seal(k, nonce, aad, pt)
      expect(hex(sealed)).toBe(hex(createNobleAead(algorithm).seal(k.slice(), nonce.slice(), aad.slice(), pt.slice())))
      expect(hex(createNodeAead(algorithm).open(k, nonce, aad, sealed))).toBe(hex(pt))
    }
    expect(fromHex(hex(backing))).toEqual(new Uint8Array(200).map((_, i) => i))
  })
})
