/**
 * fast-check arbitraries for the wire tests: valid values of every field
 * type, kept small so properties run fast (the bounds themselves are tested
 * one by one).
 */
import fc from 'fast-check'
import { FabricError } from '../../src/errors.js'
import { MAX_TRACK, type ChunkMeta } from '../../src/wire/chunk.js'

/** Any unsigned 64-bit value. */
export const u64 = fc.bigInt({ min: 0n, max: 2n ** 64n - 1n })

/** Any unsigned 32-bit value. */
export const u32 = fc.integer({ min: 0, max: 0xffffffff })

/** Valid stream names: [A-Za-z0-9][A-Za-z0-9._-]{0,127}. */
export const streamName = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/)

/** Valid identities: [A-Za-z0-9]{1,128}. */
export const identity = fc.stringMatching(/^[A-Za-z0-9]{1,128}$/)

/** Bytes of length min..max. */
export const bytes = (minLength: number, maxLength: number): fc.Arbitrary<Uint8Array> => fc.uint8Array({ minLength, maxLength })

/** A well-formed wire error body; messages are short Unicode text. */
export const wireError = fc.record({
  code: fc.stringMatching(/^[A-Z][A-Z0-9_]{0,31}$/),
  message: fc.string({ unit: 'grapheme', maxLength: 40 })
})

/** Valid chunk metadata over the full range of every field. */
export const chunkMeta: fc.Arbitrary<ChunkMeta> = fc.record({
  keyframe: fc.boolean(),
  discardable: fc.boolean(),
  spatialLayer: fc.integer({ min: 0, max: 15 }),
  temporalLayer: fc.integer({ min: 0, max: 15 }),
  streamTag: u64,
  track: fc.integer({ min: 0, max: MAX_TRACK }),
  sequence: u32,
  timestampUs: u64
}).map(m => m.keyframe && m.discardable ? { ...m, discardable: false } : m)

/**
 * Runs `f`; passes when it returns or throws a FabricError, fails on any
 * other exception (TypeError, RangeError... from a decoder is a bug).
 */
export function onlyFabricErrors<T> (f: () => T): T | FabricError {
  try {
    return f()
  } catch (err) {
    if (err instanceof FabricError) return err
    throw err
  }
}
