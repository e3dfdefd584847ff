import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { KeyframeCache } from '../../src/relay/keyframe-cache.js'

const chunk = (size: number): Uint8Array => new Uint8Array(size)

describe('KeyframeCache', () => {
  it('caches nothing until the first keyframe', () => {
    const c = new KeyframeCache(1000, 10)
    c.add(chunk(10), false)
    c.add(chunk(10), false)
    expect(c.snapshot()).toEqual([])
    expect(c.cachedBytes).toBe(0)
  })

  it('holds the GOP from the last keyframe on, by reference and in order', () => {
    const c = new KeyframeCache(1000, 10)
    const k = chunk(50)
    const d1 = chunk(10)
    const d2 = chunk(20)
    c.add(chunk(5), false)
    c.add(k, true)
    c.add(d1, false)
    c.add(d2, false)
    const gop = c.snapshot()
    expect(gop).toHaveLength(3)
    expect(gop[0]).toBe(k)
    expect(gop[1]).toBe(d1)
    expect(gop[2]).toBe(d2)
    expect(c.cachedBytes).toBe(80)
  })

  it('a new keyframe starts a new GOP', () => {
    const c = new KeyframeCache(1000, 10)
    c.add(chunk(50), true)
    c.add(chunk(10), false)
    const k2 = chunk(40)
    c.add(k2, true)
    expect(c.snapshot()).toEqual([k2])
    expect(c.snapshot()[0]).toBe(k2)
    expect(c.cachedBytes).toBe(40)
  })

  it('a GOP that outgrows the byte bound is dropped whole until the next keyframe', () => {
    const c = new KeyframeCache(100, 10)
    c.add(chunk(60), true)
    c.add(chunk(30), false)
    expect(c.cachedBytes).toBe(90)
    c.add(chunk(20), false)
    expect(c.snapshot()).toEqual([])
    expect(c.cachedBytes).toBe(0)
    // Later deltas of the broken GOP are not cached either.
    c.add(chunk(1), false)
    expect(c.snapshot()).toEqual([])
    const k = chunk(10)
    c.add(k, true)
    expect(c.snapshot()).toEqual([k])
  })

  it('a GOP that outgrows the chunk bound is dropped whole until the next keyframe', () => {
    const c = new KeyframeCache(1_000_000, 3)
    c.add(chunk(1), true)
    c.add(chunk(1), false)
    c.add(chunk(1), false)
    expect(c.snapshot()).toHaveLength(3)
    c.add(chunk(1), false)
    expect(c.snapshot()).toEqual([])
    c.add(chunk(1), false)
    expect(c.snapshot()).toEqual([])
    c.add(chunk(1), true)
    expect(c.snapshot()).toHaveLength(1)
  })

  it('a keyframe larger than the bound leaves the cache empty', () => {
    const c = new KeyframeCache(100, 10)
    c.add(chunk(10), true)
    c.add(chunk(101), true)
    expect(c.snapshot()).toEqual([])
    c.add(chunk(5), false)
    expect(c.snapshot()).toEqual([])
  })

  it('clear() forgets the GOP and ignores deltas until the next keyframe', () => {
    const c = new KeyframeCache(1000, 10)
    c.add(chunk(10), true)
    c.add(chunk(10), false)
    c.clear()
    expect(c.snapshot()).toEqual([])
    expect(c.cachedBytes).toBe(0)
    c.add(chunk(10), false)
    expect(c.snapshot()).toEqual([])
    c.add(chunk(10), true)
    expect(c.snapshot()).toHaveLength(1)
  })

  it('is always empty or exactly the whole run since the last keyframe, within its bounds', () => {
    const op = fc.oneof(
      { weight: 6, arbitrary: fc.record({ clear: fc.constant(false), size: fc.integer({ min: 1, max: 60 }), keyframe: fc.boolean() }) },
      { weight: 1, arbitrary: fc.record({ clear: fc.constant(true), size: fc.constant(0), keyframe: fc.constant(false) }) },
    )
    fc.assert(fc.property(fc.integer({ min: 1, max: 200 }), fc.integer({ min: 1, max: 6 }), fc.array(op, { maxLength: 80, size: 'max' }), (maxBytes, maxChunks, ops) => {
      const c = new KeyframeCache(maxBytes, maxChunks)
      let run: Uint8Array[] = []
      let valid = false
      for (const o of ops) {
        if (o.clear) {
          c.clear()
          run = []
          valid = false
        } else {
          const x = chunk(o.size)
          c.add(x, o.keyframe)
          if (o.keyframe) {
            run = []
            valid = true
          }
          if (valid) run.push(x)
        }
        const bytes = run.reduce((n, y) => n + y.byteLength, 0)
        const expected = valid && bytes <= maxBytes && run.length <= maxChunks ? run : []
        const snap = c.snapshot()
        expect(snap.length).toBe(expected.length)
        for (let i = 0; i < snap.length; i++) expect(snap[i]).toBe(expected[i])
        expect(c.cachedBytes).toBe(snap.reduce((n, y) => n + y.byteLength, 0))
        expect(c.cachedBytes).toBeLessThanOrEqual(maxBytes)
        expect(snap.length).toBeLessThanOrEqual(maxChunks)
      }
    }), { numRuns: 300 })
  })
})
