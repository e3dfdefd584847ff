/** SFrame protect/unprotect, sender and receiver (RFC 9605 section 4.4): round trips, tampering, key handling. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuthenticationError, FabricError, isFabricError, MalformedError, UnknownKidError } from '../../src/errors.js'
import { nobleBackend } from '../../src/crypto/backend-noble.js'
import { nodeBackend } from '../../src/platform/node/backend-node.js'
import { decodeSFrameHeader } from '../../src/crypto/sframe/header.js'
import { deriveSFrameKeyMaterial } from '../../src/crypto/sframe/keys.js'
import { sframeProtect, sframeUnprotect } from '../../src/crypto/sframe/protect.js'
import { SFrameReceiver } from '../../src/crypto/sframe/receiver.js'
import { SFrameSender } from '../../src/crypto/sframe/sender.js'
import { DEFAULT_SFRAME_SUITE, SFRAME_SUITES, sframeSuite, SFrameSuiteId } from '../../src/crypto/sframe/suites.js'
import { backends, hex, errorOf } from './helpers.js'

const MAX = 2n ** 64n - 1n
const arbSuite = fc.constantFrom(...SFRAME_SUITES)
const arbU64 = fc.oneof(fc.bigInt({ min: 0n, max: 300n }), fc.bigInt({ min: 0n, max: MAX }))
const arbFrame = fc.record({
  suite: arbSuite,
  kid: arbU64,
  ctr: arbU64,
  baseKey: fc.uint8Array({ minLength: 16, maxLength: 64 }),
  metadata: fc.uint8Array({ maxLength: 48 }),
  plaintext: fc.uint8Array({ maxLength: 1500 })
})

describe('suites', () => {
  it('has the five RFC 9605 suites with their sizes; 0x0004 is the default', () => {
    expect(SFRAME_SUITES.map((s) => [s.id, s.name, s.nh, s.nk, s.nn, s.nt])).toEqual([
      [1, 'AES_128_CTR_HMAC_SHA256_80', 32, 48, 12, 10],
      [2, 'AES_128_CTR_HMAC_SHA256_64', 32, 48, 12, 8],
      [3, 'AES_128_CTR_HMAC_SHA256_32', 32, 48, 12, 4],
      [4, 'AES_128_GCM_SHA256_128', 32, 16, 12, 16],
      [5, 'AES_256_GCM_SHA512_128', 64, 32, 12, 16]
    ])
    expect(DEFAULT_SFRAME_SUITE).toBe(SFrameSuiteId.AES_128_GCM_SHA256_128)
  })

  it('refuses other suite values with UNSUPPORTED_SUITE everywhere a suite is chosen', () => {
    for (const id of [0, 6, 7, 8, 0xf000, 0xffff]) {
      expect(() => sframeSuite(id)).toThrow(FabricError)
      expect(isFabricError(errorOf(() => sframeSuite(id)), 'UNSUPPORTED_SUITE')).toBe(true)
      expect(isFabricError(errorOf(() => new SFrameSender({ backend: nodeBackend, suite: id, kid: 1n, baseKey: new Uint8Array(16) })), 'UNSUPPORTED_SUITE')).toBe(true)
      expect(isFabricError(errorOf(() => new SFrameReceiver({ backend: nodeBackend, suite: id, lookup: () => undefined })), 'UNSUPPORTED_SUITE')).toBe(true)
    }
  })
})

describe('protect / unprotect', () => {
  it('round-trips on both backends, byte-identical, each opening the other', () => {
    fc.assert(fc.property(arbFrame, ({ suite, kid, ctr, baseKey, metadata, plaintext }) => {
      const nodeKeys = deriveSFrameKeyMaterial(nodeBackend, suite, kid, baseKey)
      const nobleKeys = deriveSFrameKeyMaterial(nobleBackend, suite, kid, baseKey)
      expect(hex(nodeKeys.key)).toBe(hex(nobleKeys.key))
      expect(hex(nodeKeys.salt)).toBe(hex(nobleKeys.salt))
      const a = sframeProtect(nodeBackend, nodeKeys, ctr, metadata, plaintext)
      const b = sframeProtect(nobleBackend, nobleKeys, ctr, metadata, plaintext)
      expect(hex(a)).toBe(hex(b))
      const header = decodeSFrameHeader(a)
      expect(a.byteLength).toBe(header.length + plaintext.byteLength + suite.nt)
      for (const [backend, keys] of [[nodeBackend, nobleKeys], [nobleBackend, nodeKeys]] as const) {
        const opened = sframeUnprotect(backend, keys, metadata, a)
        expect(hex(opened.plaintext)).toBe(hex(plaintext))
        expect(opened).toMatchObject({ kid, ctr, headerLength: header.length })
      }
    }), { numRuns: 150 })
  })

  it('any flipped bit of the SFrame or metadata is refused; with header KID intact it is an AuthenticationError', () => {
    fc.assert(fc.property(arbFrame, fc.nat(), fc.integer({ min: 0, max: 7 }), fc.boolean(), ({ suite, kid, ctr, baseKey, metadata, plaintext }, at, bit, inMetadata) => {
      const keys = deriveSFrameKeyMaterial(nodeBackend, suite, kid, baseKey)
      const sframe = sframeProtect(nodeBackend, keys, ctr, metadata, plaintext)
      let badFrame = sframe
      let badMetadata = metadata
      if (inMetadata && metadata.byteLength > 0) {
        badMetadata = metadata.slice()
        badMetadata[at % metadata.byteLength] ^= 1 << bit
      } else {
        badFrame = sframe.slice()
        badFrame[at % sframe.byteLength] ^= 1 << bit
      }
      for (const backend of backends) {
        const err = errorOf(() => sframeUnprotect(backend, keys, badMetadata, badFrame))
        expect(err).toBeInstanceOf(FabricError)
        let parsed: ReturnType<typeof decodeSFrameHeader> | undefined
        try { parsed = decodeSFrameHeader(badFrame) } catch { parsed = undefined }
        if (parsed === undefined) expect(err).toBeInstanceOf(MalformedError)
        else if (parsed.kid !== kid) expect(err).toBeInstanceOf(UnknownKidError)
        else if (badFrame.byteLength - parsed.length < suite.nt) expect(err).toBeInstanceOf(MalformedError)
        else expect(err).toBeInstanceOf(AuthenticationError)
      }
    }), { numRuns: 300 })
  })

  it('refuses an altered CTR, altered metadata and altered ciphertext with AuthenticationError', () => {
    const keys = deriveSFrameKeyMaterial(nodeBackend, sframeSuite(4), 0x123n, new Uint8Array(16).fill(1))
    const metadata = new Uint8Array([1, 2, 3])
    const sframe = sframeProtect(nodeBackend, keys, 0x4567n, metadata, new Uint8Array(100).fill(5))
    const badCtr = sframe.slice()
    badCtr[4] ^= 1
    const badBody = sframe.slice()
    badBody[50] ^= 0x80
    for (const backend of backends) {
      expect(() => sframeUnprotect(backend, keys, metadata, badCtr)).toThrow(AuthenticationError)
      expect(() => sframeUnprotect(backend, keys, new Uint8Array([1, 2, 4]), sframe)).toThrow(AuthenticationError)
      expect(() => sframeUnprotect(backend, keys, new Uint8Array(0), sframe)).toThrow(AuthenticationError)
      expect(() => sframeUnprotect(backend, keys, metadata, badBody)).toThrow(AuthenticationError)
      expect(() => sframeUnprotect(backend, keys, metadata, sframe.subarray(0, 5 + 15))).toThrow(MalformedError)
      expect(hex(sframeUnprotect(backend, keys, metadata, sframe.subarray(0, sframe.byteLength)).plaintext)).toBe('05'.repeat(100))
    }
  })

  it('keys differ per KID and per suite, so a frame never opens under another KID', () => {
    const baseKey = new Uint8Array(16).fill(3)
    const a = deriveSFrameKeyMaterial(nodeBackend, sframeSuite(4), 1n, baseKey)
    const b = deriveSFrameKeyMaterial(nodeBackend, sframeSuite(4), 2n, baseKey)
    expect(hex(a.key)).not.toBe(hex(b.key))
    expect(hex(a.salt)).not.toBe(hex(b.salt))
    const frame = sframeProtect(nodeBackend, a, 0n, new Uint8Array(0), new Uint8Array([9]))
    expect(() => sframeUnprotect(nodeBackend, b, new Uint8Array(0), frame)).toThrow(UnknownKidError)
    expect(() => deriveSFrameKeyMaterial(nodeBackend, sframeSuite(4), 1n, new Uint8Array(0))).toThrow(MalformedError)
  })
})

describe('SFrameSender', () => {
  it('uses CTR 0, 1, 2, ... under its KID', () => {
    const baseKey = new Uint8Array(16).fill(4)
    const sender = new SFrameSender({ backend: nodeBackend, kid: 300n, baseKey })
    expect(sender.kid).toBe(300n)
    expect(sender.suiteId).toBe(4)
    const receiver = new SFrameReceiver({ backend: nodeBackend, lookup: (kid) => kid === 300n ? baseKey : undefined })
    for (let i = 0n; i < 20n; i++) {
      expect(sender.nextCtr).toBe(i)
      const frame = sender.protect(new Uint8Array([Number(i)]), new Uint8Array([42, Number(i)]))
      expect(decodeSFrameHeader(frame)).toMatchObject({ kid: 300n, ctr: i })
      const opened = receiver.unprotect(new Uint8Array([Number(i)]), frame)
      expect(opened.ctr).toBe(i)
      expect([...opened.plaintext]).toEqual([42, Number(i)])
    }
  })

  it('throws CTR_EXHAUSTED instead of reusing a CTR', () => {
    const sender = new SFrameSender({ backend: nodeBackend, kid: 1n, baseKey: new Uint8Array(16), firstCtr: MAX - 1n })
    sender.protect(new Uint8Array(0), new Uint8Array(1))
    const last = sender.protect(new Uint8Array(0), new Uint8Array(1))
    expect(decodeSFrameHeader(last).ctr).toBe(MAX)
    expect(sender.nextCtr).toBe(MAX + 1n)
    for (let i = 0; i < 2; i++) {
      const err = errorOf(() => sender.protect(new Uint8Array(0), new Uint8Array(1)))
      expect(isFabricError(err, 'CTR_EXHAUSTED')).toBe(true)
    }
    expect(() => new SFrameSender({ backend: nodeBackend, kid: 1n, baseKey: new Uint8Array(16), firstCtr: -1n })).toThrow(MalformedError)
    expect(() => new SFrameSender({ backend: nodeBackend, kid: MAX + 1n, baseKey: new Uint8Array(16) })).toThrow(MalformedError)
  })
})

describe('SFrameReceiver', () => {
  const metadata = new Uint8Array([7, 7])

  it('refuses a KID the lookup does not know with UnknownKidError', () => {
    const sender = new SFrameSender({ backend: nodeBackend, kid: 9n, baseKey: new Uint8Array(16) })
    const receiver = new SFrameReceiver({ backend: nodeBackend, lookup: () => undefined })
    const err = errorOf(() => receiver.unprotect(metadata, sender.protect(metadata, new Uint8Array(3))))
    expect(err).toBeInstanceOf(UnknownKidError)
    expect((err as UnknownKidError).kid).toBe(9n)
  })

  it('follows the caller\'s key ring: a changed or removed base key takes effect on the next frame', () => {
    const ring = new Map<bigint, Uint8Array>([[5n, new Uint8Array(16).fill(1)]])
    const receiver = new SFrameReceiver({ backend: nodeBackend, lookup: (kid) => ring.get(kid) })
    const old = new SFrameSender({ backend: nodeBackend, kid: 5n, baseKey: new Uint8Array(16).fill(1) })
    const oldFrame = old.protect(metadata, new Uint8Array([1]))
    expect([...receiver.unprotect(metadata, oldFrame).plaintext]).toEqual([1])
    ring.set(5n, new Uint8Array(16).fill(2))
    expect(() => receiver.unprotect(metadata, oldFrame)).toThrow(AuthenticationError)
    const fresh = new SFrameSender({ backend: nodeBackend, kid: 5n, baseKey: new Uint8Array(16).fill(2) })
    expect([...receiver.unprotect(metadata, fresh.protect(metadata, new Uint8Array([2]))).plaintext]).toEqual([2])
    ring.delete(5n)
    expect(() => receiver.unprotect(metadata, fresh.protect(metadata, new Uint8Array([3])))).toThrow(UnknownKidError)
    expect(receiver.cachedKids).toBe(0)
  })

  it('keeps at most cacheSize KIDs of derived keys and still opens evicted ones', () => {
    const baseKey = new Uint8Array(16).fill(8)
    const receiver = new SFrameReceiver({ backend: nodeBackend, lookup: () => baseKey, cacheSize: 2 })
    const senders = [1n, 2n, 3n, 4n].map((kid) => new SFrameSender({ backend: nodeBackend, kid, baseKey }))
    for (let round = 0; round < 3; round++) {
      for (const sender of senders) {
        expect(receiver.unprotect(metadata, sender.protect(metadata, new Uint8Array([round]))).kid).toBe(sender.kid)
        expect(receiver.cachedKids).toBeLessThanOrEqual(2)
      }
    }
    receiver.forget(4n)
    expect(receiver.cachedKids).toBe(1)
  })

  it('works with every suite on both backends, including frames from the other backend', () => {
    for (const suite of SFRAME_SUITES) {
      for (const [sendOn, receiveOn] of [[nodeBackend, nobleBackend], [nobleBackend, nodeBackend]] as const) {
        const baseKey = new Uint8Array(suite.nk).fill(suite.id)
        const sender = new SFrameSender({ backend: sendOn, suite: suite.id, kid: 1000n, baseKey })
        const receiver = new SFrameReceiver({ backend: receiveOn, suite: suite.id, lookup: () => baseKey })
        const payload = new Uint8Array(333).map((_, i) => i)
        expect(hex(receiver.unprotect(metadata, sender.protect(metadata, payload)).plaintext)).toBe(hex(payload))
      }
    }
  })

  it('refuses frames sealed under another suite', () => {
    const baseKey = new Uint8Array(16)
    const sender = new SFrameSender({ backend: nodeBackend, suite: 4, kid: 1n, baseKey })
    const receiver = new SFrameReceiver({ backend: nodeBackend, suite: 5, lookup: () => baseKey })
    expect(() => receiver.unprotect(metadata, sender.protect(metadata, new Uint8Array(10)))).toThrow(AuthenticationError)
  })
})
