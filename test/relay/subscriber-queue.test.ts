import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { SubscriberQueue } from '../../src/relay/subscriber-queue.js'

/** A frame of `size` bytes whose first byte tags it, so frames can be told apart by identity. */
function frame (size: number, tag = 0): Uint8Array {
  const f = new Uint8Array(size)
  if (size > 0) f[0] = tag & 0xff
  return f
}

describe('SubscriberQueue: bounds and order', () => {
  it('refuses non-positive bounds', () => {
    expect(() => new SubscriberQueue(0, 10)).toThrow(RangeError)
    expect(() => new SubscriberQueue(10, 0)).toThrow(RangeError)
    expect(() => new SubscriberQueue(-1, 10)).toThrow(RangeError)
    expect(() => new SubscriberQueue(Number.NaN, 10)).toThrow(RangeError)
  })

  it('returns queued frames oldest first, the very same arrays, and empties itself', () => {
    const q = new SubscriberQueue(1000, 10)
    const frames = [frame(10, 1), frame(20, 2), frame(30, 3)]
    q.push(frames[0], 1, true)
    q.push(frames[1], 2, true)
    q.push(frames[2], 1, false)
    expect(q.length).toBe(3)
    expect(q.queuedBytes).toBe(60)
    const out = q.take()
    expect(out).toHaveLength(3)
    for (let i = 0; i < 3; i++) expect(out[i]).toBe(frames[i])
    expect(q.length).toBe(0)
    expect(q.queuedBytes).toBe(0)
    expect(q.take()).toEqual([])
  })

  it('take(maxBytes) stops before the frame that would exceed maxBytes', () => {
    const q = new SubscriberQueue(1000, 10)
    const frames = [frame(40), frame(40), frame(40), frame(40)]
    for (const f of frames) q.push(f, 0, false)
    const first = q.take(100)
    expect(first).toHaveLength(2)
    expect(first[0]).toBe(frames[0])
    expect(first[1]).toBe(frames[1])
    expect(q.queuedBytes).toBe(80)
    const exact = q.take(80)
    expect(exact).toHaveLength(2)
    expect(exact[0]).toBe(frames[2])
    expect(q.length).toBe(0)
  })

  it('take(maxBytes) returns one frame even when that frame alone is larger than maxBytes', () => {
    const q = new SubscriberQueue(1000, 10)
    const big = frame(500)
    const small = frame(5)
    q.push(big, 0, true)
    q.push(small, 0, false)
    const out = q.take(10)
    expect(out).toHaveLength(1)
    expect(out[0]).toBe(big)
    expect(q.take(0)).toEqual([small])
  })

  it('never holds more than maxFrames frames, whatever their size', () => {
    const q = new SubscriberQueue(1_000_000, 3)
    expect(q.push(frame(1), 0, false)).toBe('queued')
    expect(q.push(frame(1), 1, false)).toBe('queued')
    expect(q.push(frame(1), 2, false)).toBe('queued')
    expect(q.push(frame(1), 3, false)).toBe('dropped')
    expect(q.length).toBe(3)
    expect(q.isDropping(3)).toBe(true)
    expect(q.isDropping(0)).toBe(false)
  })

  it('clear() empties the queue without counting drops', () => {
    const q = new SubscriberQueue(100, 10)
    q.push(frame(10), 0, true)
    q.push(frame(10), 0, false)
    q.clear()
    expect(q.length).toBe(0)
    expect(q.queuedBytes).toBe(0)
    expect(q.counters).toEqual({ queued: 2, dropped: 0, droppedBytes: 0, overflows: 0, skipped: 0 })
  })
})

describe('SubscriberQueue: drop until keyframe, per track', () => {
  it('a track that overflowed drops its delta frames until its next keyframe, even once room is back', () => {
    const q = new SubscriberQueue(100, 100)
    expect(q.push(frame(60), 1, true)).toBe('queued')
    expect(q.push(frame(60), 1, false)).toBe('dropped')
    expect(q.isDropping(1)).toBe(true)
    expect(q.counters.overflows).toBe(1)

    q.take()
    expect(q.queuedBytes).toBe(0)
    expect(q.wouldRefuse(1, false)).toBe(true)
    expect(q.push(frame(10), 1, false)).toBe('dropped')
    expect(q.push(frame(10), 1, false)).toBe('dropped')
    // Still one overflow: the track entered the dropping state once.
    expect(q.counters).toEqual({ queued: 1, dropped: 3, droppedBytes: 80, overflows: 1, skipped: 0 })

    expect(q.wouldRefuse(1, true)).toBe(false)
    expect(q.push(frame(10), 1, true)).toBe('queued')
    expect(q.isDropping(1)).toBe(false)
    expect(q.push(frame(10), 1, false)).toBe('queued')
  })

  it('the drop state of one track leaves the other tracks carrying on', () => {
    const q = new SubscriberQueue(100, 100)
    q.push(frame(90), 1, true)
    expect(q.push(frame(20), 1, false)).toBe('dropped')
    expect(q.push(frame(5), 2, false)).toBe('queued')
    expect(q.isDropping(2)).toBe(false)
    q.take()
    expect(q.push(frame(5), 2, false)).toBe('queued')
    expect(q.push(frame(5), 1, false)).toBe('dropped')
  })

  it('a track joined mid-GOP skips its deltas until its first keyframe, then follows the drop policy', () => {
    const q = new SubscriberQueue(100, 100)
    q.waitForKeyframe(1)
    expect(q.isDropping(1)).toBe(true)
    expect(q.wouldRefuse(1, false)).toBe(true)
    expect(q.push(frame(10), 1, false)).toBe('skipped')
    expect(q.push(frame(10), 2, false)).toBe('queued')
    expect(q.push(frame(10), 1, true)).toBe('queued')
    expect(q.push(frame(10), 1, false)).toBe('queued')
    expect(q.counters).toEqual({ queued: 3, dropped: 0, droppedBytes: 0, overflows: 0, skipped: 1 })
    // Later overflows are drops as usual.
    expect(q.push(frame(80), 1, false)).toBe('dropped')
    expect(q.counters).toMatchObject({ dropped: 1, overflows: 1, skipped: 1 })
  })

  it('wouldRefuse has no side effects', () => {
    const q = new SubscriberQueue(10, 10)
    q.push(frame(20), 4, false)
    const before = { ...q.counters }
    for (let i = 0; i < 5; i++) {
      q.wouldRefuse(4, false)
      q.wouldRefuse(5, false)
    }
    expect(q.counters).toEqual(before)
    expect(q.isDropping(4)).toBe(true)
    expect(q.isDropping(5)).toBe(false)
  })

  it('a keyframe that does not fit evicts its own track\'s queued frames and nothing else', () => {
    const q = new SubscriberQueue(100, 100)
    const a1 = frame(30, 1)
    const b1 = frame(20, 2)
    const a2 = frame(30, 3)
    const b2 = frame(10, 4)
    q.push(a1, 1, true)
    q.push(b1, 2, true)
    q.push(a2, 1, false)
    q.push(b2, 2, false)
    expect(q.queuedBytes).toBe(90)
    const key = frame(60, 5)
    expect(q.push(key, 1, true)).toBe('queued')
    expect(q.counters.dropped).toBe(2)
    expect(q.counters.droppedBytes).toBe(60)
    expect(q.counters.overflows).toBe(0)
    const out = q.take()
    expect(out).toHaveLength(3)
    expect(out[0]).toBe(b1)
    expect(out[1]).toBe(b2)
    expect(out[2]).toBe(key)
  })

  it('a keyframe that does not fit even alone is dropped, its track waits, other tracks keep their frames', () => {
    const q = new SubscriberQueue(100, 100)
    const a1 = frame(30, 1)
    const b1 = frame(50, 2)
    q.push(a1, 1, true)
    q.push(b1, 2, true)
    expect(q.push(frame(60), 1, true)).toBe('dropped')
    // a1 was evicted in the attempt, b1 stays.
    expect(q.counters).toEqual({ queued: 2, dropped: 2, droppedBytes: 90, overflows: 1, skipped: 0 })
    expect(q.isDropping(1)).toBe(true)
    expect(q.isDropping(2)).toBe(false)
    const out = q.take()
    expect(out).toHaveLength(1)
    expect(out[0]).toBe(b1)
  })

  it('a keyframe evicts its own track to satisfy the frame bound too', () => {
    const q = new SubscriberQueue(1000, 3)
    const a1 = frame(1, 1)
    const b1 = frame(1, 2)
    const a2 = frame(1, 3)
    q.push(a1, 1, true)
    q.push(b1, 2, true)
    q.push(a2, 1, false)
    const key = frame(1, 4)
    expect(q.push(key, 1, true)).toBe('queued')
    const out = q.take()
    expect(out).toEqual([b1, key])
    expect(out[0]).toBe(b1)
    expect(out[1]).toBe(key)
  })
})

type Op =
  | { kind: 'push', track: number, size: number, keyframe: boolean }
  | { kind: 'take', maxBytes: number | undefined }

const opArb = (maxBytes: number): fc.Arbitrary<Op> => fc.oneof(
  { weight: 4, arbitrary: fc.record({ kind: fc.constant('push' as const), track: fc.integer({ min: 0, max: 3 }), size: fc.integer({ min: 1, max: maxBytes + 10 }), keyframe: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('take' as const), maxBytes: fc.option(fc.integer({ min: 0, max: maxBytes + 10 }), { nil: undefined }) }) },
)

describe('SubscriberQueue: properties', () => {
  it('keeps its bounds, its counters, the per-track keyframe policy and FIFO order under any push/take sequence', () => {
    const scenario = fc.record({ maxBytes: fc.integer({ min: 1, max: 300 }), maxFrames: fc.integer({ min: 1, max: 8 }) })
      .chain(({ maxBytes, maxFrames }) => fc.record({
        maxBytes: fc.constant(maxBytes),
        maxFrames: fc.constant(maxFrames),
        ops: fc.array(opArb(maxBytes), { minLength: 1, maxLength: 120, size: 'max' }),
      }))
    let evictions = 0
    let drops = 0
    fc.assert(fc.property(scenario, ({ maxBytes, maxFrames, ops }) => {
      const q = new SubscriberQueue(maxBytes, maxFrames)
      // Reference view of what the queue holds: each frame and its track, oldest first.
      let model: Array<{ f: Uint8Array, track: number }> = []
      const waiting = new Set<number>()
      let taken = 0
      let evictedTotal = 0
      let tag = 0
      for (const op of ops) {
        if (op.kind === 'push') {
          const f = frame(op.size, tag++)
          const droppedBefore = q.counters.dropped
          const modelBytes = model.reduce((n, x) => n + x.f.byteLength, 0)
          const fitsNow = modelBytes + op.size <= maxBytes && model.length < maxFrames
          const outcome = q.push(f, op.track, op.keyframe)
          const droppedNow = q.counters.dropped - droppedBefore
          const evicted = droppedNow - (outcome === 'dropped' ? 1 : 0)
          if (!op.keyframe) {
            // A delta frame never evicts anything.
            expect(evicted).toBe(0)
            if (waiting.has(op.track)) expect(outcome).toBe('dropped')
            // No needless drops: a delta of a healthy track that fits is queued.
            else if (fitsNow) expect(outcome).toBe('queued')
          } else {
            const own = model.filter((x) => x.track === op.track)
            const ownBytes = own.reduce((n, x) => n + x.f.byteLength, 0)
            const fitsAfterEviction = modelBytes - ownBytes + op.size <= maxBytes && model.length - own.length < maxFrames
            // A keyframe is queued exactly when it fits, after evicting its own track if need be.
            expect(outcome).toBe(fitsNow || fitsAfterEviction ? 'queued' : 'dropped')
            if (fitsNow) {
              expect(outcome).toBe('queued')
              expect(evicted).toBe(0)
            }
            if (evicted > 0) {
              // Only and all of the keyframe's own track goes.
              expect(evicted).toBe(own.length)
              model = model.filter((x) => x.track !== op.track)
              evictedTotal += evicted
              evictions++
            }
          }
          if (outcome === 'queued') {
            model.push({ f, track: op.track })
            if (op.keyframe) waiting.delete(op.track)
          } else {
            waiting.add(op.track)
            drops++
          }
        } else {
          const out = q.take(op.maxBytes)
          const limit = op.maxBytes ?? Infinity
          if (model.length > 0) expect(out.length).toBeGreaterThanOrEqual(1)
          const total = out.reduce((n, f) => n + f.byteLength, 0)
          if (out.length > 1) expect(total).toBeLessThanOrEqual(limit)
          // Greedy: the next frame, if any, would not have fit.
          if (out.length < model.length) expect(total + model[out.length].f.byteLength).toBeGreaterThan(limit)
          for (let i = 0; i < out.length; i++) expect(out[i]).toBe(model[i].f)
          model = model.slice(out.length)
          taken += out.length
        }
        expect(q.queuedBytes).toBeLessThanOrEqual(maxBytes)
        expect(q.length).toBeLessThanOrEqual(maxFrames)
        expect(q.length).toBe(model.length)
        expect(q.queuedBytes).toBe(model.reduce((n, x) => n + x.f.byteLength, 0))
        // Evicted frames were queued once and are counted as dropped since.
        expect(q.counters.queued - taken - evictedTotal).toBe(q.length)
        if (evictedTotal === 0) expect(q.counters.queued - taken).toBe(q.length)
        for (let t = 0; t <= 3; t++) expect(q.isDropping(t)).toBe(waiting.has(t))
      }
    }), { numRuns: 300 })
    // The generated runs reached the interesting paths.
    expect(evictions).toBeGreaterThan(0)
    expect(drops).toBeGreaterThan(0)
  })
})
