import { describe, it, expect } from 'vitest'
import fc from 'fast-check'
import { decodeKid, encodeKid, KID_MAX, KID_MAX_CONTEXT, KID_SENDER_BITS, TrackContext } from '../../src/session/kid.js'
import { MalformedError } from '../../src/errors.js'
import { MAX_LEAF_INDEX } from '../../src/wire/limits.js'
import { makeTrack, MAX_TRACK, trackContext, trackLeafIndex } from '../../src/wire/track.js'

describe('SFrame KID for MLS (RFC 9605 section 5.2)', () => {
  it('packs context, sender and epoch bits at the documented offsets', () => {
    // (1 << 24) + (3 << 8) + (258 mod 256)
    expect(encodeKid({ context: TrackContext.audio, senderLeafIndex: 3, epoch: 258n })).toBe(16_777_986n)
    expect(encodeKid({ context: 0, senderLeafIndex: 0, epoch: 0n })).toBe(0n)
    expect(encodeKid({ context: KID_MAX_CONTEXT, senderLeafIndex: MAX_LEAF_INDEX, epoch: 255n })).toBe(KID_MAX)
    expect(decodeKid(16_777_986n)).toEqual({ context: 1, senderLeafIndex: 3, epochLowBits: 2 })
  })

  it('round-trips every field combination, keeping the low 8 epoch bits', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: KID_MAX_CONTEXT }),
      fc.integer({ min: 0, max: MAX_LEAF_INDEX }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      (context, senderLeafIndex, epoch) => {
        const kid = encodeKid({ context, senderLeafIndex, epoch })
        expect(kid >= 0n && kid <= KID_MAX).toBe(true)
        expect(decodeKid(kid)).toEqual({ context, senderLeafIndex, epochLowBits: Number(epoch % 256n) })
      },
    ))
  })

  it('decodes every 32-bit KID and re-encodes it to itself', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: KID_MAX }), kid => {
      const d = decodeKid(kid)
      expect(encodeKid({ context: d.context, senderLeafIndex: d.senderLeafIndex, epoch: BigInt(d.epochLowBits) })).toBe(kid)
    }))
  })

  it('refuses out-of-range fields with MalformedError', () => {
    const bad = [
      { context: 256, senderLeafIndex: 0, epoch: 0n },
      { context: -1, senderLeafIndex: 0, epoch: 0n },
      { context: 1.5, senderLeafIndex: 0, epoch: 0n },
      { context: 0, senderLeafIndex: 65_536, epoch: 0n },
      { context: 0, senderLeafIndex: -1, epoch: 0n },
      { context: 0, senderLeafIndex: 0, epoch: -1n },
    ]
    for (const f of bad) expect(() => encodeKid(f)).toThrow(MalformedError)
    expect(() => decodeKid(-1n)).toThrow(MalformedError)
    expect(() => decodeKid(KID_MAX + 1n)).toThrow(MalformedError)
    fc.assert(fc.property(fc.bigInt({ min: KID_MAX + 1n, max: 1n << 64n }), kid => {
      expect(() => decodeKid(kid)).toThrow(MalformedError)
    }))
  })

  it('carries exactly the leaf indices the wire allows (MAX_LEAF_INDEX, 2^16 - 1)', () => {
    expect(MAX_LEAF_INDEX).toBe(65_535)
    expect(MAX_LEAF_INDEX).toBe(2 ** KID_SENDER_BITS - 1)
    expect(MAX_TRACK).toBe(MAX_LEAF_INDEX * 256 + 255)
  })

  it('names every leaf in range as the track does: makeTrack/trackLeafIndex round-trip and the KID agrees', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: MAX_LEAF_INDEX }),
      fc.integer({ min: 0, max: KID_MAX_CONTEXT }),
      fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
      (leaf, context, epoch) => {
        const track = makeTrack(leaf, context)
        expect(track).toBeLessThanOrEqual(MAX_TRACK)
        expect(trackLeafIndex(track)).toBe(leaf)
        expect(trackContext(track)).toBe(context)
        const d = decodeKid(encodeKid({ context, senderLeafIndex: leaf, epoch }))
        expect(d.senderLeafIndex).toBe(leaf)
        // The receiver's KID check (frame-decryptor.ts) compares exactly this.
        expect(makeTrack(d.senderLeafIndex, d.context)).toBe(track)
      },
    ), { numRuns: 1000 })
    for (const leaf of [0, 1, MAX_LEAF_INDEX - 1, MAX_LEAF_INDEX]) expect(trackLeafIndex(makeTrack(leaf, 0))).toBe(leaf)
  })

  it('refuses leaf MAX_LEAF_INDEX + 1 in a KID and in a track', () => {
    expect(() => encodeKid({ context: 0, senderLeafIndex: MAX_LEAF_INDEX + 1, epoch: 0n })).toThrow(MalformedError)
    expect(() => makeTrack(MAX_LEAF_INDEX + 1, 0)).toThrow(RangeError)
  })
})
