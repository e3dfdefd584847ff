import fc from 'fast-check'
import { Uint8ArrayList } from 'uint8arraylist'
import { describe, expect, it } from 'vitest'
import { MalformedError, TooLargeError } from '../../src/errors.js'
import { FrameDecoder, MAX_VARINT_LENGTH, encodeFrame, framePrefix, varintLength, writeVarint } from '../../src/wire/framing.js'
import { bytes, onlyFabricErrors } from './arbitraries.js'

/** Splits `all` at the given cut points (any order, duplicates allowed). */
function split (all: Uint8Array, cuts: number[]): Uint8Array[] {
  const points = [...new Set(cuts.map(c => c % (all.length + 1)))].sort((a, b) => a - b)
  const parts: Uint8Array[] = []
  let from = 0
  for (const p of [...points, all.length]) {
    parts.push(all.subarray(from, p))
    from = p
  }
  return parts
}

function concat (parts: Uint8Array[]): Uint8Array {
  return new Uint8ArrayList(...parts).subarray()
}

describe('varint', () => {
  it('round-trips lengths through writeVarint and the decoder, minimally encoded', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: MAX_VARINT_LENGTH }), n => {
      const prefix = framePrefix(n)
      expect(prefix.length).toBe(varintLength(n))
      if (prefix.length > 1) expect(prefix[prefix.length - 1]).not.toBe(0)
      const d = new FrameDecoder(MAX_VARINT_LENGTH)
      expect(d.push(prefix)).toEqual(n === 0 ? [new Uint8Array(0)] : [])
    }))
  })

  it('refuses lengths outside the 4-byte range', () => {
    expect(() => writeVarint(MAX_VARINT_LENGTH + 1, new Uint8Array(5), 0)).toThrow(RangeError)
    expect(() => writeVarint(-1, new Uint8Array(5), 0)).toThrow(RangeError)
    expect(() => new FrameDecoder(MAX_VARINT_LENGTH + 1)).toThrow(RangeError)
  })
})

describe('FrameDecoder', () => {
  it('returns the frames of any payload list however the transport splits it', () => {
    fc.assert(fc.property(fc.array(bytes(0, 300), { maxLength: 12 }), fc.array(fc.nat(), { maxLength: 30 }), fc.boolean(), (payloads, cuts, asList) => {
      const wire = concat(payloads.map(encodeFrame))
      const d = new FrameDecoder(300)
      const out: Uint8Array[] = []
      for (const part of split(wire, cuts)) out.push(...d.push(asList ? new Uint8ArrayList(part) : part))
      expect(out).toEqual(payloads)
      expect(d.bufferedBytes).toBe(0)
    }), { numRuns: 1000 })
  })

  it('handles frames around the 1/2/3-byte varint boundaries', () => {
    for (const n of [0, 1, 127, 128, 16383, 16384, 70000]) {
      const payload = new Uint8Array(n).fill(n & 0xff)
      const d = new FrameDecoder(70000)
      const wire = concat([framePrefix(n), payload])
      const out = [...d.push(wire.subarray(0, 1)), ...d.push(wire.subarray(1))]
      expect(out).toEqual([payload])
    }
  })

  it('accepts a frame of exactly maxFrameLength', () => {
    const d = new FrameDecoder(1000)
    expect(d.push(encodeFrame(new Uint8Array(1000)))).toHaveLength(1)
  })

  it('refuses an oversize declared length from the prefix alone, buffering nothing', () => {
    const d = new FrameDecoder(1000)
    expect(() => d.push(framePrefix(1001))).toThrow(TooLargeError)
    expect(d.bufferedBytes).toBe(0)
    const e = new FrameDecoder(1000)
    expect(() => e.push(framePrefix(MAX_VARINT_LENGTH))).toThrow(TooLargeError)
  })

  it('refuses non-minimal and over-long varints with MalformedError', () => {
    for (const bad of [[0x80, 0x00], [0x81, 0x00], [0x80, 0x80, 0x00], [0xff, 0xff, 0xff, 0x00], [0x80, 0x80, 0x80, 0x80], [0x80, 0x80, 0x80, 0x80, 0x01]]) {
      const d = new FrameDecoder(MAX_VARINT_LENGTH)
      expect(() => d.push(new Uint8Array(bad)), bad.join(',')).toThrow(MalformedError)
    }
  })

  it('waits for a varint split across pushes', () => {
    const d = new FrameDecoder(MAX_VARINT_LENGTH)
    const prefix = framePrefix(300)
    expect(d.push(prefix.subarray(0, 1))).toEqual([])
    expect(d.push(prefix.subarray(1))).toEqual([])
    expect(d.push(new Uint8Array(300))).toHaveLength(1)
  })

  it('stays poisoned with the same error after a failure', () => {
    const d = new FrameDecoder(10)
    let first: unknown
    try { d.push(new Uint8Array([0x80, 0x00])) } catch (err) { first = err }
    expect(first).toBeInstanceOf(MalformedError)
    for (let i = 0; i < 3; i++) {
      expect(() => d.push(encodeFrame(new Uint8Array(1)))).toThrow(first as Error)
    }
    const t = new FrameDecoder(10)
    expect(() => t.push(framePrefix(11))).toThrow(TooLargeError)
    expect(() => t.push(encodeFrame(new Uint8Array(1)))).toThrow(TooLargeError)
  })

  it('raises only FabricErrors on random input', () => {
    fc.assert(fc.property(fc.array(bytes(0, 40), { maxLength: 8 }), fc.integer({ min: 0, max: 5000 }), (chunks, max) => {
      const d = new FrameDecoder(max)
      for (const c of chunks) onlyFabricErrors(() => d.push(c))
    }), { numRuns: 2000 })
  })
})
