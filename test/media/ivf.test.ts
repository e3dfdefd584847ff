import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MalformedError, TooLargeError } from '../../src/errors.js'
import {
  IVF_FRAME_HEADER_BYTES, IVF_HEADER_BYTES, IVF_MAX_FRAME_BYTES, IvfWriter,
  encodeIvf, encodeIvfFrame, parseIvf, parseIvfFrameHeader, parseIvfHeader,
  type IvfHeader,
} from '../../src/media/ivf.js'
import { MEMBERS, fixtureBytes } from './helpers.js'

const u32 = fc.integer({ min: 0, max: 0xffffffff })
const header = fc.record({
  fourcc: fc.string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map(c => String.fromCharCode(c)), minLength: 4, maxLength: 4 }),
  width: fc.integer({ min: 0, max: 0xffff }),
  height: fc.integer({ min: 0, max: 0xffff }),
  timebaseDen: fc.integer({ min: 1, max: 0xffffffff }),
  timebaseNum: fc.integer({ min: 1, max: 0xffffffff }),
  frameCount: u32,
  unused: u32,
})
const frames = fc.array(fc.record({
  pts: fc.bigInt({ min: 0n, max: (1n << 64n) - 1n }),
  data: fc.uint8Array({ maxLength: 300 }),
}), { maxLength: 40 })

function concat (parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.byteLength, 0))
  let o = 0
  for (const p of parts) { out.set(p, o); o += p.byteLength }
  return out
}

function expectOnlyTypedErrors (fn: () => unknown): void {
  try {
    fn()
  } catch (err) {
    expect(err instanceof MalformedError || err instanceof TooLargeError, String(err)).toBe(true)
  }
}

describe('IVF fixtures', () => {
  it.each(MEMBERS)('%s: parse then write is byte-identical', (name) => {
    const bytes = fixtureBytes(name)
    const file = parseIvf(bytes)
    expect(file.header).toEqual({ fourcc: 'VP80', width: 640, height: 360, timebaseDen: 30, timebaseNum: 1, frameCount: 120, unused: 0 })
    expect(file.frames).toHaveLength(120)
    expect(file.frames.map(f => f.pts)).toEqual(Array.from({ length: 120 }, (_, i) => BigInt(i)))
    // Buffer.equals: vitest's deep equality is seconds-slow on 400 KB arrays.
    expect(Buffer.from(encodeIvf(file.header, file.frames)).equals(bytes)).toBe(true)
  })

  it('frame data are views into the input, not copies', () => {
    const bytes = fixtureBytes('alice')
    const { frames } = parseIvf(bytes)
    expect(frames[0]!.data.buffer).toBe(bytes.buffer)
    expect(frames[0]!.data.byteOffset).toBe(IVF_HEADER_BYTES + IVF_FRAME_HEADER_BYTES)
  })

  it('every truncation either parses a frame prefix or throws MalformedError', () => {
    const bytes = fixtureBytes('bob')
    const full = parseIvf(bytes).frames
    fc.assert(fc.property(fc.integer({ min: 0, max: bytes.byteLength - 1 }), (cut) => {
      let file
      try {
        file = parseIvf(bytes.subarray(0, cut))
      } catch (err) {
        expect(err).toBeInstanceOf(MalformedError)
        return
      }
      expect(file.frames.length).toBeLessThan(full.length)
      file.frames.forEach((f, i) => expect(f.data).toEqual(full[i]!.data))
    }), { numRuns: 300 })
  })
})

describe('IVF writer/parser properties', () => {
  it('random frame lists round-trip through encodeIvf/parseIvf', () => {
    fc.assert(fc.property(header, frames, (h, fs) => {
      const file = parseIvf(encodeIvf(h, fs))
      expect(file.header).toEqual({ ...h, frameCount: fs.length })
      expect(file.frames).toEqual(fs)
    }))
  })

  it('incremental writer output equals encodeIvf, and finalize fixes the count', () => {
    fc.assert(fc.property(header, frames, (h, fs) => {
      const w = new IvfWriter(h)
      const first = w.header()
      expect(parseIvfHeader(first).frameCount).toBe(h.frameCount)
      const body = fs.map(f => w.frame(f))
      expect(w.framesWritten).toBe(fs.length)
      expect(concat([w.finalize(), ...body])).toEqual(encodeIvf(h, fs))
    }))
  })

  it('number pts are accepted like bigint pts', () => {
    const h = { fourcc: 'VP80', width: 2, height: 2, timebaseDen: 30, timebaseNum: 1 }
    const data = new Uint8Array([1, 2, 3])
    expect(encodeIvf(h, [{ pts: 7, data }])).toEqual(encodeIvf(h, [{ pts: 7n, data }]))
  })

  it('random garbage throws only MalformedError or TooLargeError', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      expectOnlyTypedErrors(() => parseIvf(junk))
    }), { numRuns: 500 })
  })

  it('garbage after a valid header throws only MalformedError or TooLargeError', () => {
    const h = new IvfWriter({ fourcc: 'VP80', width: 16, height: 16, timebaseDen: 30, timebaseNum: 1 }).header()
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (junk) => {
      expectOnlyTypedErrors(() => parseIvf(concat([h, junk])))
    }), { numRuns: 500 })
  })
})

describe('IVF validation', () => {
  const good: IvfHeader = { fourcc: 'VP80', width: 320, height: 240, timebaseDen: 30, timebaseNum: 1, frameCount: 0, unused: 0 }
  const goodBytes = (): Uint8Array => new IvfWriter(good).header()

  it('rejects a bad signature, version, header length or zero timebase', () => {
    const mutate = (offset: number, value: number): Uint8Array => { const b = goodBytes(); b[offset] = value; return b }
    expect(() => parseIvfHeader(mutate(0, 0x45))).toThrow(MalformedError)
    expect(() => parseIvfHeader(mutate(4, 1))).toThrow(MalformedError)
    expect(() => parseIvfHeader(mutate(6, 64))).toThrow(MalformedError)
    expect(() => parseIvfHeader(mutate(16, 0))).toThrow(MalformedError)
    const zeroNum = goodBytes(); zeroNum[20] = 0
    expect(() => parseIvfHeader(zeroNum)).toThrow(MalformedError)
    expect(() => parseIvfHeader(goodBytes().subarray(0, 31))).toThrow(MalformedError)
  })

  it('refuses a declared frame size over 4 MiB before waiting for its payload', () => {
    const fh = new Uint8Array(IVF_FRAME_HEADER_BYTES)
    new DataView(fh.buffer).setUint32(0, IVF_MAX_FRAME_BYTES + 1, true)
    expect(() => parseIvfFrameHeader(fh)).toThrow(TooLargeError)
    expect(() => parseIvf(concat([goodBytes(), fh]))).toThrow(TooLargeError)
    expect(() => parseIvfFrameHeader(fh.subarray(0, 11))).toThrow(MalformedError)
  })

  it('accepts exactly 4 MiB and refuses to write 4 MiB + 1', () => {
    const big = new Uint8Array(IVF_MAX_FRAME_BYTES)
    expect(parseIvf(encodeIvf(good, [{ pts: 0, data: big }])).frames[0]!.data.byteLength).toBe(IVF_MAX_FRAME_BYTES)
    expect(() => encodeIvfFrame({ pts: 0, data: new Uint8Array(IVF_MAX_FRAME_BYTES + 1) })).toThrow(TooLargeError)
  })

  it('refuses out-of-range header fields and pts on write', () => {
    expect(() => new IvfWriter({ ...good, fourcc: 'VP8' })).toThrow(MalformedError)
    expect(() => new IvfWriter({ ...good, width: 65536 })).toThrow(MalformedError)
    expect(() => new IvfWriter({ ...good, timebaseDen: -1 })).toThrow(MalformedError)
    const data = new Uint8Array(1)
    expect(() => encodeIvfFrame({ pts: -1, data })).toThrow(MalformedError)
    expect(() => encodeIvfFrame({ pts: 1n << 64n, data })).toThrow(MalformedError)
    expect(() => encodeIvfFrame({ pts: 0.5, data })).toThrow(MalformedError)
  })
})
