import { describe, expect, it } from 'vitest'
import { MalformedError } from '../../src/errors.js'
import { ClipSource, ivfFrameRate } from '../../src/media/clip-source.js'
import { parseIvf, type IvfFile } from '../../src/media/ivf.js'
import { fixtureBytes } from './helpers.js'

const alice = (): IvfFile => parseIvf(fixtureBytes('alice'))

describe('ivfFrameRate', () => {
  it('is 30 fps for the fixtures (timebase 1/30, pts step 1)', () => {
    expect(ivfFrameRate(alice())).toBe(30)
  })

  it('uses the pts step, so a 1/1000 timebase with ms pts is still 30 fps', () => {
    const file = alice()
    const ms: IvfFile = {
      header: { ...file.header, timebaseDen: 1000, timebaseNum: 1 },
      frames: file.frames.map((f, i) => ({ pts: BigInt(Math.round(i * 1000 / 30)), data: f.data })),
    }
    expect(ivfFrameRate(ms)).toBeCloseTo(30, 1)
  })

  it('rejects absurd rates', () => {
    const file = alice()
    expect(() => ivfFrameRate({ ...file, header: { ...file.header, timebaseDen: 1_000_000 } })).toThrow(MalformedError)
  })
})

describe('ClipSource', () => {
  it('plays once at the clip rate, then ends', () => {
    const src = ClipSource.fromIvf(alice())
    expect(src.fps).toBe(30)
    expect(src.frameIntervalMs).toBeCloseTo(33.333, 3)
    expect(src.durationMs).toBeCloseTo(4000, 6)
    const out = []
    for (let f = src.next(); f !== undefined; f = src.next()) out.push(f)
    expect(out).toHaveLength(120)
    expect(out.map(f => f.index)).toEqual(out.map(f => f.seq))
    expect(out.filter(f => f.keyframe).map(f => f.index)).toEqual([0, 30, 60, 90])
    expect(out[90]!.ptsMs).toBeCloseTo(3000, 6)
    expect(src.done).toBe(true)
    expect(src.next()).toBeUndefined()
  })

  it('loops back to frame 0 while seq and ptsMs keep rising', () => {
    const file = alice()
    const src = ClipSource.fromIvf(file, { loop: true })
    const out = Array.from({ length: 250 }, () => src.next()!)
    expect(out[120]).toMatchObject({ index: 0, seq: 120, keyframe: true })
    expect(out[120]!.data).toBe(file.frames[0]!.data)
    expect(out[249]).toMatchObject({ index: 9, seq: 249 })
    expect(out[240]!.ptsMs).toBeCloseTo(8000, 6)
    expect(src.done).toBe(false)
  })

  it('requestKeyframe jumps to the next keyframe and reports the skip', () => {
    const src = ClipSource.fromIvf(alice())
    for (let i = 0; i < 37; i++) src.next()
    expect(src.framesUntilKeyframe()).toBe(23)
    expect(src.requestKeyframe()).toEqual({ skipped: 23, index: 60 })
    const f = src.next()!
    expect(f).toMatchObject({ index: 60, seq: 37, keyframe: true })
    expect(f.ptsMs).toBeCloseTo(37 * 1000 / 30, 6)
  })

  it('requestKeyframe skips nothing when the next frame is already a keyframe', () => {
    const src = ClipSource.fromIvf(alice())
    expect(src.requestKeyframe()).toEqual({ skipped: 0, index: 0 })
    for (let i = 0; i < 30; i++) src.next()
    expect(src.requestKeyframe()).toEqual({ skipped: 0, index: 30 })
    expect(src.next()).toMatchObject({ index: 30, keyframe: true })
  })

  it('after the last keyframe, a looping source wraps to frame 0', () => {
    const src = ClipSource.fromIvf(alice(), { loop: true })
    for (let i = 0; i < 100; i++) src.next()
    expect(src.requestKeyframe()).toEqual({ skipped: 20, index: 0 })
    expect(src.next()).toMatchObject({ index: 0, seq: 100, keyframe: true })
    for (let i = 1; i < 120; i++) src.next()
    expect(src.requestKeyframe()).toEqual({ skipped: 0, index: 0 })
  })

  it('after the last keyframe, a non-looping source ends', () => {
    const src = ClipSource.fromIvf(alice())
    for (let i = 0; i < 100; i++) src.next()
    expect(src.framesUntilKeyframe()).toBeNull()
    expect(src.requestKeyframe()).toEqual({ skipped: 20, index: null })
    expect(src.done).toBe(true)
    expect(src.next()).toBeUndefined()
    expect(src.requestKeyframe()).toEqual({ skipped: 0, index: null })
  })

  it('reset restarts at frame 0 and seq 0', () => {
    const src = ClipSource.fromIvf(alice())
    for (let i = 0; i < 50; i++) src.next()
    src.reset()
    expect(src.next()).toMatchObject({ index: 0, seq: 0, ptsMs: 0 })
  })

  it('refuses clips that cannot be played', () => {
    const frames = alice().frames.map(f => f.data)
    expect(() => new ClipSource([], { fps: 30 })).toThrow(MalformedError)
    expect(() => new ClipSource(frames.slice(1), { fps: 30 })).toThrow(/keyframe/)
    expect(() => new ClipSource(frames, { fps: 0 })).toThrow(MalformedError)
    expect(() => new ClipSource(frames, { fps: Number.NaN })).toThrow(MalformedError)
    expect(() => new ClipSource([frames[0]!, new Uint8Array(1)], { fps: 30 })).toThrow(MalformedError)
  })
})
