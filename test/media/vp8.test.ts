import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import { MalformedError } from '../../src/errors.js'
import { isVp8Keyframe, vp8FrameInfo } from '../../src/media/vp8.js'

// RFC 6386 §9.1 frame tag: bit 0 frame type, bits 1-3 version, bit 4 show_frame, bits 5-23 partition size.
function tag (opts: { key: boolean, version?: number, show?: boolean, part: number }): number[] {
  const raw = (opts.key ? 0 : 1) | ((opts.version ?? 0) << 1) | ((opts.show ?? true) ? 16 : 0) | (opts.part << 5)
  return [raw & 0xff, (raw >> 8) & 0xff, (raw >> 16) & 0xff]
}

function keyframe (width: number, height: number, part = 4, hScale = 0, vScale = 0): Uint8Array {
  const h = width | (hScale << 14)
  const v = height | (vScale << 14)
  return new Uint8Array([...tag({ key: true, part }), 0x9d, 0x01, 0x2a, h & 0xff, h >> 8, v & 0xff, v >> 8, ...new Array<number>(part).fill(0)])
}

describe('vp8FrameInfo (RFC 6386 §9.1)', () => {
  it('reads a keyframe header', () => {
    expect(vp8FrameInfo(keyframe(640, 360, 4, 1, 2))).toEqual({
      keyframe: true, version: 0, showFrame: true, firstPartitionBytes: 4,
      width: 640, height: 360, horizontalScale: 1, verticalScale: 2,
    })
    expect(isVp8Keyframe(keyframe(16383, 1))).toBe(true)
  })

  it('reads an interframe header without dimensions', () => {
    const f = new Uint8Array([...tag({ key: false, version: 3, show: false, part: 2 }), 0, 0])
    expect(vp8FrameInfo(f)).toEqual({ keyframe: false, version: 3, showFrame: false, firstPartitionBytes: 2 })
    expect(isVp8Keyframe(f)).toBe(false)
  })

  it('throws MalformedError on short or inconsistent frames', () => {
    expect(() => vp8FrameInfo(new Uint8Array(0))).toThrow(MalformedError)
    expect(() => vp8FrameInfo(new Uint8Array([1, 0]))).toThrow(MalformedError)
    expect(() => isVp8Keyframe(keyframe(640, 360).subarray(0, 9))).toThrow(MalformedError)
    const badStart = keyframe(640, 360); badStart[4] = 0x02
    expect(() => vp8FrameInfo(badStart)).toThrow(/start code/)
    expect(() => vp8FrameInfo(keyframe(0, 360))).toThrow(MalformedError)
    expect(() => vp8FrameInfo(keyframe(640, 360, 4).subarray(0, 13))).toThrow(/partition/)
    expect(() => vp8FrameInfo(new Uint8Array(tag({ key: false, part: 1 })))).toThrow(/partition/)
  })

  it('random bytes give a result or MalformedError, nothing else', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 32 }), (bytes) => {
      try {
        const info = vp8FrameInfo(bytes)
        expect(info.keyframe).toBe((bytes[0]! & 1) === 0)
      } catch (err) {
        expect(err).toBeInstanceOf(MalformedError)
      }
    }), { numRuns: 1000 })
  })
})
