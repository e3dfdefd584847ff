import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError, MalformedError, TooLargeError, isFabricError } from '../../src/errors.js'
import {
  CHUNK_META_LENGTH, MIN_CHUNK_LENGTH, chunkIsDiscardable, chunkIsKeyframe, chunkSequence, chunkSpatialLayer,
  chunkStreamTag, chunkTemporalLayer, chunkTimestampUs, chunkTrack, decodeChunkMeta, encodeChunk,
  encodeChunkMeta, encodeChunkMetaInto, makeTrack, MAX_TRACK, parseChunk, trackContext, trackLeafIndex, TrackContext,
  validateChunk, type ChunkMeta
} from '../../src/wire/chunk.js'
import { MAX_CHUNK_PAYLOAD, MAX_LEAF_INDEX } from '../../src/wire/limits.js'
import { streamTag } from '../../src/wire/stream-tag.js'
import { bytes, chunkMeta, onlyFabricErrors, u64 } from './arbitraries.js'
import { hex } from '../crypto/helpers.js'

const unhex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s.replace(/\s+/g, ''), 'hex'))

const lobby: ChunkMeta = {
  keyframe: true,
  discardable: false,
  spatialLayer: 1,
  temporalLayer: 0,
  streamTag: 0x5e2e0677154fe3c8n,
  track: makeTrack(3, TrackContext.video),
  sequence: 42,
  timestampUs: 1_700_000_000_123_456n
}

// The worked example of protocol/chunk.md; the doc and this test must agree.
const DOC_OWNER = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN'
const LOBBY_HEX = '01 01 10 00 5e2e0677154fe3c8 00000300 0000002a 00060a2418202240 deadbeef'

describe('chunk metadata', () => {
  it('encodes the worked example of protocol/chunk.md', () => {
    expect(streamTag(`${DOC_OWNER}/lobby`)).toBe(lobby.streamTag)
    expect(hex(encodeChunk(lobby, unhex('deadbeef')))).toBe(LOBBY_HEX.replace(/\s+/g, ''))
  })

  it('round-trips every field over its full range', () => {
    fc.assert(fc.property(chunkMeta, meta => {
      const b = encodeChunkMeta(meta)
      expect(b.length).toBe(CHUNK_META_LENGTH)
      expect(decodeChunkMeta(b)).toEqual(meta)
    }), { numRuns: 2000 })
  })

  it('writes into a caller buffer at an offset, touching only its 28 bytes', () => {
    fc.assert(fc.property(chunkMeta, fc.integer({ min: 0, max: 40 }), (meta, offset) => {
      const out = new Uint8Array(offset + CHUNK_META_LENGTH + 5).fill(0xaa)
      expect(encodeChunkMetaInto(meta, out, offset)).toBe(offset + CHUNK_META_LENGTH)
      expect(out.subarray(0, offset).every(x => x === 0xaa)).toBe(true)
      expect(out.subarray(offset + CHUNK_META_LENGTH).every(x => x === 0xaa)).toBe(true)
      expect(decodeChunkMeta(out.subarray(offset))).toEqual(meta)
    }))
  })

  it('refuses out-of-range fields with RangeError', () => {
    const bad: Array<Partial<ChunkMeta>> = [
      { spatialLayer: 16 }, { spatialLayer: -1 }, { temporalLayer: 16 }, { temporalLayer: 1.5 },
      { track: 2 ** 32 }, { track: -1 }, { track: MAX_TRACK + 1 }, { sequence: 2 ** 32 }, { sequence: NaN },
      { streamTag: 2n ** 64n }, { streamTag: -1n }, { timestampUs: 2n ** 64n }, { timestampUs: -1n },
      { keyframe: true, discardable: true }
    ]
    for (const patch of bad) expect(() => encodeChunkMeta({ ...lobby, ...patch })).toThrow(RangeError)
    expect(() => encodeChunkMetaInto(lobby, new Uint8Array(30), 3)).toThrow(RangeError)
    expect(() => encodeChunkMetaInto(lobby, new Uint8Array(30), -1)).toThrow(RangeError)
  })

  it('builds tracks from leaf index and context', () => {
    expect(makeTrack(MAX_LEAF_INDEX, 0xff)).toBe(MAX_TRACK)
    expect(MAX_TRACK).toBe(0x00ffffff)
    expect(trackLeafIndex(makeTrack(1234, TrackContext.screen))).toBe(1234)
    expect(trackContext(makeTrack(1234, TrackContext.screen))).toBe(2)
    expect(() => makeTrack(MAX_LEAF_INDEX + 1, 0)).toThrow(RangeError)
    expect(() => makeTrack(2 ** 24, 0)).toThrow(RangeError)
    expect(() => makeTrack(0, 256)).toThrow(RangeError)
  })
})

describe('whole chunks', () => {
  it('refuses a track naming a leaf above MAX_LEAF_INDEX (MALFORMED) when validating, parsing and decoding', () => {
    const chunk = encodeChunk({ ...lobby, track: MAX_TRACK }, new Uint8Array(4))
    expect(parseChunk(chunk, lobby.streamTag).meta.track).toBe(MAX_TRACK)
    for (const leaf of [MAX_LEAF_INDEX + 1, 0xffffff]) {
      const bad = Uint8Array.from(chunk)
      new DataView(bad.buffer).setUint32(12, leaf * 256 + TrackContext.audio)
      expect(() => validateChunk(bad, lobby.streamTag)).toThrow(MalformedError)
      expect(() => validateChunk(bad)).toThrow(/names leaf/)
      expect(() => parseChunk(bad, lobby.streamTag)).toThrow(MalformedError)
      expect(() => decodeChunkMeta(bad)).toThrow(MalformedError)
    }
  })

  it('round-trips through encodeChunk and parseChunk with views', () => {
    fc.assert(fc.property(chunkMeta, bytes(1, 300), (meta, payload) => {
      const chunk = encodeChunk(meta, payload)
      const parsed = parseChunk(chunk, meta.streamTag)
      expect(parsed.meta).toEqual(meta)
      expect(parsed.payload).toEqual(payload)
      expect(parsed.payload.buffer).toBe(chunk.buffer)
      expect(parsed.metaBytes).toEqual(encodeChunkMeta(meta))
    }))
  })

  it('accessors agree with decodeChunkMeta', () => {
    fc.assert(fc.property(chunkMeta, bytes(1, 40), (meta, payload) => {
      const chunk = encodeChunk(meta, payload)
      validateChunk(chunk, meta.streamTag)
      const d = decodeChunkMeta(chunk)
      expect(chunkIsKeyframe(chunk)).toBe(d.keyframe)
      expect(chunkIsDiscardable(chunk)).toBe(d.discardable)
      expect(chunkSpatialLayer(chunk)).toBe(d.spatialLayer)
      expect(chunkTemporalLayer(chunk)).toBe(d.temporalLayer)
      expect(chunkTrack(chunk)).toBe(d.track)
      expect(chunkSequence(chunk)).toBe(d.sequence)
      expect(chunkTimestampUs(chunk)).toBe(d.timestampUs)
      expect(chunkStreamTag(chunk)).toBe(d.streamTag)
    }), { numRuns: 1000 })
  })

  it('accepts payloads of exactly 1 and MAX_CHUNK_PAYLOAD bytes, refuses 0 and one more', () => {
    validateChunk(encodeChunk(lobby, new Uint8Array(1)))
    validateChunk(encodeChunk(lobby, new Uint8Array(MAX_CHUNK_PAYLOAD)))
    expect(() => encodeChunk(lobby, new Uint8Array(0))).toThrow(RangeError)
    expect(() => encodeChunk(lobby, new Uint8Array(MAX_CHUNK_PAYLOAD + 1))).toThrow(TooLargeError)
    const big = new Uint8Array(CHUNK_META_LENGTH + MAX_CHUNK_PAYLOAD + 1)
    encodeChunkMetaInto(lobby, big, 0)
    expect(() => validateChunk(big)).toThrow(TooLargeError)
    expect(() => validateChunk(encodeChunkMeta(lobby))).toThrow(MalformedError)
  })

  it('checks the stream tag, including when the expected tag alternates', () => {
    fc.assert(fc.property(chunkMeta, u64, (meta, other) => {
      const chunk = encodeChunk(meta, new Uint8Array([7]))
      validateChunk(chunk, meta.streamTag)
      if (other !== meta.streamTag) {
        expect(() => validateChunk(chunk, other)).toThrow(/stream tag/)
        expect(() => validateChunk(chunk, other)).toThrow(MalformedError)
      }
      validateChunk(chunk, meta.streamTag)
    }))
    // Same high half, different low half, and the reverse.
    const chunk = encodeChunk({ ...lobby, streamTag: 0x0000000100000002n }, new Uint8Array([1]))
    expect(() => validateChunk(chunk, 0x0000000100000003n)).toThrow(MalformedError)
    expect(() => validateChunk(chunk, 0x0000000200000002n)).toThrow(MalformedError)
    expect(() => validateChunk(chunk, -1n)).toThrow(RangeError)
  })
})

describe('hostile chunks', () => {
  const good = encodeChunk(lobby, unhex('deadbeef'))

  it('rejects a wrong version with UNSUPPORTED_VERSION', () => {
    for (const v of [0, 2, 255]) {
      const b = good.slice()
      b[0] = v
      for (const f of [() => validateChunk(b), () => decodeChunkMeta(b), () => parseChunk(b)]) {
        expect(f).toThrow(FabricError)
        try { f() } catch (err) { expect(isFabricError(err, 'UNSUPPORTED_VERSION')).toBe(true) }
      }
    }
  })

  it('rejects every unknown flag bit and any reserved byte but 0', () => {
    for (let bit = 2; bit < 8; bit++) {
      const b = good.slice()
      b[1] |= 1 << bit
      expect(() => validateChunk(b)).toThrow(MalformedError)
      expect(() => decodeChunkMeta(b)).toThrow(MalformedError)
    }
    const both = good.slice()
    both[1] = 0x03
    expect(() => validateChunk(both)).toThrow(MalformedError)
    for (let v = 1; v < 256; v++) {
      const b = good.slice()
      b[3] = v
      expect(() => validateChunk(b)).toThrow(MalformedError)
    }
  })

  it('random bytes only ever raise FabricErrors', () => {
    fc.assert(fc.property(bytes(0, 64), fc.option(u64), (b, tag) => {
      onlyFabricErrors(() => validateChunk(b, tag ?? undefined))
      onlyFabricErrors(() => parseChunk(b))
      onlyFabricErrors(() => decodeChunkMeta(b))
      for (const f of [chunkIsKeyframe, chunkIsDiscardable, chunkTrack, chunkSequence, chunkTimestampUs, chunkStreamTag, chunkSpatialLayer, chunkTemporalLayer]) {
        onlyFabricErrors(() => f(b))
      }
    }), { numRuns: 3000 })
  })

  it('random bytes after a version byte of 1 only ever raise FabricErrors', () => {
    fc.assert(fc.property(bytes(0, 64), b => {
      const withVersion = new Uint8Array([1, ...b])
      const r = onlyFabricErrors(() => parseChunk(withVersion))
      if (!(r instanceof FabricError)) expect(encodeChunk(r.meta, r.payload)).toEqual(withVersion)
    }), { numRuns: 3000 })
  })

  it('truncations and bit flips of a valid chunk only ever raise FabricErrors', () => {
    fc.assert(fc.property(chunkMeta, bytes(1, 20), fc.nat(), fc.nat(7), (meta, payload, at, bit) => {
      const chunk = encodeChunk(meta, payload)
      onlyFabricErrors(() => parseChunk(chunk.subarray(0, at % (chunk.length + 1))))
      const flipped = chunk.slice()
      flipped[at % chunk.length] ^= 1 << bit
      onlyFabricErrors(() => parseChunk(flipped, meta.streamTag))
    }), { numRuns: 2000 })
  })

  it('accessors refuse input shorter than the metadata with MalformedError', () => {
    for (let n = 0; n < CHUNK_META_LENGTH; n++) {
      expect(() => chunkTrack(new Uint8Array(n))).toThrow(MalformedError)
      expect(() => chunkTimestampUs(new Uint8Array(n))).toThrow(MalformedError)
    }
    expect(MIN_CHUNK_LENGTH).toBe(29)
  })
})
