/** Link header v1 codec (protocol/link-seal.md section 3): layout, round trips, hostile bytes. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError, isFabricError, MalformedError } from '../../src/errors.js'
import { decodeLinkHeader, encodeLinkHeader, LINK_HEADER_LENGTH, LinkKind } from '../../src/wire/link-header.js'
import { hex, errorOf } from './helpers.js'

const MAX = 2n ** 64n - 1n

describe('link header v1', () => {
  it('lays out version, kind, reserved and a big-endian u64 sequence in 12 bytes', () => {
    expect(LINK_HEADER_LENGTH).toBe(12)
    expect(hex(encodeLinkHeader(LinkKind.MediaChunk, 0x0102030405060708n))).toBe('0101' + '0000' + '0102030405060708')
    expect(hex(encodeLinkHeader(LinkKind.MediaChunk, MAX))).toBe('01010000' + 'ff'.repeat(8))
  })

  it('round-trips any sequence, also written at an offset', () => {
    fc.assert(fc.property(fc.bigInt({ min: 0n, max: MAX }), fc.nat({ max: 8 }), (sequence, offset) => {
      const out = new Uint8Array(offset + LINK_HEADER_LENGTH + 4)
      encodeLinkHeader(LinkKind.MediaChunk, sequence, out, offset)
      expect(decodeLinkHeader(out.subarray(offset))).toEqual({ version: 1, kind: LinkKind.MediaChunk, sequence })
    }))
  })

  it('refuses other versions with UNSUPPORTED_VERSION, reserved kinds and a set reserved field with MalformedError', () => {
    const good = encodeLinkHeader(LinkKind.MediaChunk, 5n)
    for (const version of [0, 2, 255]) {
      const bad = good.slice()
      bad[0] = version
      expect(isFabricError(errorOf(() => decodeLinkHeader(bad)), 'UNSUPPORTED_VERSION')).toBe(true)
    }
    for (const kind of [0, 2, 255]) {
      const bad = good.slice()
      bad[1] = kind
      expect(() => decodeLinkHeader(bad)).toThrow(MalformedError)
    }
    for (const at of [2, 3]) {
      const bad = good.slice()
      bad[at] = 1
      expect(() => decodeLinkHeader(bad)).toThrow(MalformedError)
    }
    expect(() => decodeLinkHeader(good.subarray(0, 11))).toThrow(MalformedError)
    expect(() => encodeLinkHeader(LinkKind.MediaChunk, -1n)).toThrow(MalformedError)
    expect(() => encodeLinkHeader(LinkKind.MediaChunk, MAX + 1n)).toThrow(MalformedError)
    expect(() => encodeLinkHeader(2 as LinkKind, 0n)).toThrow(MalformedError)
  })

  it('decodes random bytes or throws a FabricError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 16 }), (bytes) => {
      try {
        const header = decodeLinkHeader(bytes)
        expect(hex(encodeLinkHeader(header.kind, header.sequence))).toBe(hex(bytes.subarray(0, 12)))
      } catch (err) {
        expect(err).toBeInstanceOf(FabricError)
        expect(['MALFORMED', 'UNSUPPORTED_VERSION']).toContain((err as FabricError).code)
      }
    }), { numRuns: 3000 })
  })
})
