/** The link seal: layout, round trips, replay handling, forgery, sequence exhaustion. */
import { gcm } from '@noble/ciphers/aes.js'
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuthenticationError, FabricError, isFabricError, MalformedError, ReplayError } from '../../src/errors.js'
import { LINK_SEAL_OVERHEAD, LinkOpener, LinkSealer } from '../../src/crypto/link-seal.js'
import { deriveTransitKey, generateLinkKeyPair, type TransitKey } from '../../src/crypto/transit-key.js'
import { decodeLinkHeader } from '../../src/wire/link-header.js'
import { concatBytes } from '../../src/crypto/bytes.js'
import { hex, errorOf } from './helpers.js'

const MAX = 2n ** 64n - 1n

function transit (seed = 1): TransitKey {
  return { key: new Uint8Array(16).fill(seed), salt: new Uint8Array(12).map((_, i) => i * 17 + seed) }
}

function chunk (n: number, size = 40): Uint8Array {
  return new Uint8Array(size).fill(n & 0xff)
}

describe('LinkSealer', () => {
  it('seals header || ciphertext || tag with nonce = salt XOR sequence and AAD = header', () => {
    const key = transit(3)
    const sealer = new LinkSealer(key)
    for (let i = 0n; i < 5n; i++) {
      expect(sealer.nextSequence).toBe(i)
      const plain = chunk(Number(i), 100 + Number(i))
      const sealed = sealer.seal(plain)
      expect(sealed.constructor).toBe(Uint8Array)
      expect(sealed.byteLength).toBe(plain.byteLength + LINK_SEAL_OVERHEAD)
      expect(decodeLinkHeader(sealed)).toEqual({ version: 1, kind: 1, sequence: i })
      // Independent check with noble: rebuild the nonce by hand.
      const nonce = key.salt.slice()
      for (let b = 0; b < 8; b++) nonce[4 + b] ^= Number((i >> BigInt(8 * (7 - b))) & 0xffn)
      expect(hex(gcm(key.key, nonce, sealed.subarray(0, 12)).decrypt(sealed.subarray(12)))).toBe(hex(plain))
    }
  })

  it('sealParts gives the same bytes as seal, in three pieces', () => {
    const a = new LinkSealer(transit())
    const b = new LinkSealer(transit())
    for (const size of [0, 1, 1000, 70_000]) {
      const plain = new Uint8Array(size).map((_, i) => i * 7)
      const whole = a.seal(plain)
      const parts = b.sealParts(plain)
      expect(parts.header.byteLength).toBe(12)
      expect(parts.tag.byteLength).toBe(16)
      expect(parts.byteLength).toBe(whole.byteLength)
      expect(hex(concatBytes(parts.header, parts.ciphertext, parts.tag))).toBe(hex(whole))
    }
    expect(a.nextSequence).toBe(4n)
  })

  it('throws CTR_EXHAUSTED after sequence 2^64 - 1 rather than reuse a nonce', () => {
    const sealer = new LinkSealer(transit(), { firstSequence: MAX })
    const opener = new LinkOpener(transit())
    expect(hex(opener.open(sealer.seal(chunk(1))))).toBe(hex(chunk(1)))
    expect(opener.lastSequence).toBe(MAX)
    expect(isFabricError(errorOf(() => sealer.seal(chunk(2))), 'CTR_EXHAUSTED')).toBe(true)
    expect(isFabricError(errorOf(() => sealer.sealParts(chunk(2))), 'CTR_EXHAUSTED')).toBe(true)
    expect(() => new LinkSealer(transit(), { firstSequence: -1n })).toThrow(MalformedError)
  })

  it('refuses transit keys of the wrong size', () => {
    expect(() => new LinkSealer({ key: new Uint8Array(32), salt: new Uint8Array(12) })).toThrow(MalformedError)
    expect(() => new LinkOpener({ key: new Uint8Array(16), salt: new Uint8Array(8) })).toThrow(MalformedError)
  })
})

describe('LinkOpener', () => {
  it('round-trips with keys from a real X25519 agreement', () => {
    const subscriber = generateLinkKeyPair()
    const relay = generateLinkKeyPair()
    const common = { subscriberPublicKey: subscriber.publicKey, relayPublicKey: relay.publicKey, stream: 'room-1' }
    const sealer = new LinkSealer(deriveTransitKey({ ...common, privateKey: relay.privateKey, peerPublicKey: subscriber.publicKey }))
    const opener = new LinkOpener(deriveTransitKey({ ...common, privateKey: subscriber.privateKey, peerPublicKey: relay.publicKey }))
    const other = new LinkOpener(deriveTransitKey({ ...common, stream: 'room-2', privateKey: subscriber.privateKey, peerPublicKey: relay.publicKey }))
    for (let i = 0; i < 10; i++) {
      const sealed = sealer.seal(chunk(i))
      expect(() => other.open(sealed)).toThrow(AuthenticationError)
      const opened = opener.open(sealed)
      expect(opened.constructor).toBe(Uint8Array)
      expect(hex(opened)).toBe(hex(chunk(i)))
    }
  })

  it('refuses duplicates, accepts gaps and reordering within the window, refuses what fell out of it', () => {
    const sealer = new LinkSealer(transit())
    const opener = new LinkOpener(transit(), { windowSize: 64 })
    const packets = Array.from({ length: 200 }, (_, i) => sealer.seal(chunk(i)))
    opener.open(packets[0])
    expect(() => opener.open(packets[0])).toThrow(ReplayError)
    opener.open(packets[10]) // gap: 1..9 dropped
    opener.open(packets[4]) // late, still inside the window
    expect(() => opener.open(packets[4])).toThrow(ReplayError)
    opener.open(packets[100])
    expect(opener.highestSequence).toBe(100n)
    expect(opener.lastSequence).toBe(100n)
    expect(() => opener.open(packets[36])).toThrow(/older than/) // 100 - 36 = 64: outside a 64-wide window
    expect(hex(opener.open(packets[37]))).toBe(hex(chunk(37)))
    expect(opener.lastSequence).toBe(37n)
    expect(opener.highestSequence).toBe(100n)
    expect(() => opener.open(packets[37])).toThrow(ReplayError)
  })

  it('a forged packet (bad tag) does not advance or mark the window', () => {
    const sealer = new LinkSealer(transit())
    const opener = new LinkOpener(transit(), { windowSize: 16 })
    const packets = Array.from({ length: 5 }, (_, i) => sealer.seal(chunk(i)))
    opener.open(packets[0])
    // Far ahead: had it been accepted, packets 1..4 would now be stale.
    const aheadSealer = new LinkSealer(transit(9), { firstSequence: 1_000_000n })
    expect(() => opener.open(aheadSealer.seal(chunk(0)))).toThrow(AuthenticationError)
    // Same sequence as a genuine packet still to come, with one tag bit flipped.
    const forged = packets[2].slice()
    forged[forged.byteLength - 1] ^= 1
    expect(() => opener.open(forged)).toThrow(AuthenticationError)
    expect(opener.highestSequence).toBe(0n)
    for (const i of [1, 2, 3, 4]) expect(hex(opener.open(packets[i]))).toBe(hex(chunk(i)))
  })

  it('refuses altered header fields with the right error', () => {
    const sealer = new LinkSealer(transit())
    const opener = new LinkOpener(transit())
    const sealed = sealer.seal(chunk(1))
    const alter = (at: number, value: number): Uint8Array => {
      const copy = sealed.slice()
      copy[at] = value
      return copy
    }
    expect(isFabricError(errorOf(() => opener.open(alter(0, 2))), 'UNSUPPORTED_VERSION')).toBe(true)
    expect(() => opener.open(alter(1, 2))).toThrow(MalformedError)
    expect(() => opener.open(alter(3, 1))).toThrow(MalformedError)
    expect(() => opener.open(alter(11, 1))).toThrow(AuthenticationError) // sequence 1: nonce and AAD no longer match
    expect(() => opener.open(alter(20, sealed[20] ^ 4))).toThrow(AuthenticationError)
    expect(() => opener.open(sealed.subarray(0, 27))).toThrow(MalformedError)
    expect(() => opener.open(sealed.subarray(0, 5))).toThrow(MalformedError)
    expect(hex(opener.open(sealed))).toBe(hex(chunk(1)))
  })

  it('never throws anything but a FabricError on random or mangled input, and never accepts it', () => {
    const sealer = new LinkSealer(transit())
    const genuine = sealer.seal(chunk(7))
    fc.assert(fc.property(fc.oneof(
      fc.uint8Array({ maxLength: 80 }),
      fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })).map(([at, x]) => {
        const copy = genuine.slice()
        copy[at % copy.byteLength] ^= x
        return copy
      })
    ), (bytes) => {
      const opener = new LinkOpener(transit())
      expect(errorOf(() => opener.open(bytes))).toBeInstanceOf(FabricError)
      expect(opener.highestSequence).toBeUndefined()
    }), { numRuns: 500 })
  })

  it('delivers exactly what a Set-based model accepts, for shuffled, duplicated and dropped packets', () => {
    fc.assert(fc.property(fc.array(fc.integer({ min: 0, max: 150 }), { maxLength: 200 }), fc.integer({ min: 1, max: 64 }), (order, width) => {
      const sealer = new LinkSealer(transit())
      const packets = Array.from({ length: 151 }, (_, i) => sealer.seal(chunk(i, 4)))
      const opener = new LinkOpener(transit(), { windowSize: width })
      const seen = new Set<number>()
      let highest = -1
      for (const i of order) {
        const expected = !seen.has(i) && (highest < 0 || i > highest - width)
        const err = errorOf(() => {
          expect(hex(opener.open(packets[i]))).toBe(hex(chunk(i, 4)))
        })
        if (expected) {
          expect(err).toBeUndefined()
          seen.add(i)
          highest = Math.max(highest, i)
        } else {
          expect(err).toBeInstanceOf(ReplayError)
        }
      }
    }), { numRuns: 100 })
  })
})
