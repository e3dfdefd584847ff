/** SFrame header codec (RFC 9605 section 4.3): round trips, canonical form, hostile bytes. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError, MalformedError } from '../../src/errors.js'
import {
  decodeSFrameHeader, encodeSFrameHeader, encodeSFrameHeaderInto, SFRAME_HEADER_MAX_LENGTH, sframeHeaderLength
} from '../../src/crypto/sframe/header.js'
import { fromHex, hex } from './helpers.js'

const MAX = 2n ** 64n - 1n
// Mix tiny values (inline in the config byte), byte-boundary values and the full range.
const arbValue = fc.oneof(
  fc.bigInt({ min: 0n, max: 7n }),
  fc.integer({ min: 1, max: 8 }).chain((n) => fc.constantFrom(2n ** BigInt(8 * n) - 1n, 2n ** BigInt(8 * (n - 1)), 8n)),
  fc.bigInt({ min: 0n, max: MAX })
)

describe('SFrame header codec', () => {
  it('round-trips any KID and CTR in [0, 2^64 - 1], with trailing bytes ignored', () => {
    fc.assert(fc.property(arbValue, arbValue, fc.uint8Array({ maxLength: 8 }), (kid, ctr, tail) => {
      const encoded = encodeSFrameHeader(kid, ctr)
      expect(encoded.byteLength).toBe(sframeHeaderLength(kid, ctr))
      expect(encoded.byteLength).toBeLessThanOrEqual(SFRAME_HEADER_MAX_LENGTH)
      const withTail = new Uint8Array(encoded.byteLength + tail.byteLength)
      withTail.set(encoded)
      withTail.set(tail, encoded.byteLength)
      expect(decodeSFrameHeader(withTail)).toEqual({ kid, ctr, length: encoded.byteLength })
    }), { numRuns: 2000 })
  })

  it('encodes into a buffer at an offset', () => {
    const out = new Uint8Array(20).fill(0xee)
    expect(encodeSFrameHeaderInto(0x123n, 0x4567n, out, 2)).toBe(5)
    expect(hex(out.subarray(0, 8))).toBe('eeee99012345' + '67ee')
    expect(decodeSFrameHeader(out, 2)).toEqual({ kid: 0x123n, ctr: 0x4567n, length: 5 })
    expect(() => encodeSFrameHeaderInto(MAX, MAX, new Uint8Array(16))).toThrow(RangeError)
  })

  it('uses the config byte alone for KID and CTR below 8', () => {
    expect(hex(encodeSFrameHeader(7n, 7n))).toBe('77')
    expect(hex(encodeSFrameHeader(8n, 0n))).toBe('8008')
    expect(hex(encodeSFrameHeader(MAX, MAX))).toBe('ff' + 'ff'.repeat(16))
  })

  it('refuses KID or CTR outside [0, 2^64 - 1] with MalformedError', () => {
    expect(() => encodeSFrameHeader(-1n, 0n)).toThrow(MalformedError)
    expect(() => encodeSFrameHeader(0n, MAX + 1n)).toThrow(MalformedError)
    expect(() => sframeHeaderLength(MAX + 1n, 0n)).toThrow(MalformedError)
  })

  it('decodes any byte string to the canonical header of its prefix, or throws MalformedError and nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 20 }), fc.nat({ max: 3 }), (bytes, offset) => {
      try {
        const header = decodeSFrameHeader(bytes, offset)
        expect(offset + header.length).toBeLessThanOrEqual(bytes.byteLength)
        expect(hex(encodeSFrameHeader(header.kid, header.ctr))).toBe(hex(bytes.subarray(offset, offset + header.length)))
      } catch (err) {
        expect(err).toBeInstanceOf(MalformedError)
      }
    }), { numRuns: 5000 })
  })

  it('throws MalformedError for every truncation of a valid header', () => {
    fc.assert(fc.property(arbValue, arbValue, (kid, ctr) => {
      const encoded = encodeSFrameHeader(kid, ctr)
      for (let cut = 0; cut < encoded.byteLength; cut++) {
        expect(() => decodeSFrameHeader(encoded.subarray(0, cut))).toThrow(MalformedError)
      }
    }), { numRuns: 300 })
  })

  it('refuses non-minimal encodings', () => {
    for (const bad of ['8005', '0805', '900010', '09' + '0001', 'f0' + '00'.repeat(8), '80ff08']) {
      const bytes = fromHex(bad)
      let error: unknown
      try { decodeSFrameHeader(bytes) } catch (err) { error = err }
      // '80ff08' is valid (KID 255, CTR 0 inline, then payload): it must decode.
      if (bad === '80ff08') expect(error).toBeUndefined()
      else expect(error, bad).toBeInstanceOf(MalformedError)
    }
  })

  it('throws a FabricError with code MALFORMED', () => {
    try {
      decodeSFrameHeader(new Uint8Array(0))
      expect.unreachable()
    } catch (err) {
      expect(err).toBeInstanceOf(FabricError)
      expect((err as FabricError).code).toBe('MALFORMED')
    }
  })
})
