/**
 * LatencyHistogram (the relay's allocation-free bucket counter) and the
 * queue delay and forward latency RelayNode records with it.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { LATENCY_BUCKETS_MS, LatencyHistogram } from '../../src/relay/latency-histogram.js'
import { RelayNode } from '../../src/relay/relay-node.js'
import { SubscriberQueue } from '../../src/relay/subscriber-queue.js'
import { makeTrack, TrackContext } from '../../src/wire/track.js'
import { makeChunk, makeLink } from './helpers.js'

describe('LatencyHistogram', () => {
  it('refuses bounds that are empty, not finite, not positive or not strictly ascending', () => {
    expect(() => new LatencyHistogram([])).toThrow(RangeError)
    expect(() => new LatencyHistogram([0, 1])).toThrow(RangeError)
    expect(() => new LatencyHistogram([1, Number.POSITIVE_INFINITY])).toThrow(RangeError)
    expect(() => new LatencyHistogram([1, Number.NaN])).toThrow(RangeError)
    expect(() => new LatencyHistogram([2, 2])).toThrow(RangeError)
    expect(() => new LatencyHistogram([2, 1])).toThrow(RangeError)
  })

  it('defaults to buckets from 0.5 ms to 2 s', () => {
    const h = new LatencyHistogram()
    expect(h.boundsMs).toEqual(LATENCY_BUCKETS_MS)
    expect(h.boundsMs[0]).toBe(0.5)
    expect(h.boundsMs[h.boundsMs.length - 1]).toBe(2000)
  })

  it('counts a value equal to a bound in that bound\'s bucket (Prometheus le), above every bound only in +Inf', () => {
    const h = new LatencyHistogram([1, 10])
    h.observe(1)
    h.observe(10)
    h.observe(10.5)
    expect(h.snapshot()).toEqual({ boundsMs: [1, 10], cumulative: [1, 2, 3], count: 3, sumMs: 21.5 })
  })

  it('counts negative and NaN durations as 0', () => {
    const h = new LatencyHistogram([1])
    h.observe(-5)
    h.observe(Number.NaN)
    expect(h.snapshot()).toEqual({ boundsMs: [1], cumulative: [2, 2], count: 2, sumMs: 0 })
  })

  it('matches a direct count of the values under each bound, for any bounds and values', () => {
    const boundsArb = fc.uniqueArray(fc.double({ min: 0.001, max: 1e6, noNaN: true }), { minLength: 1, maxLength: 16 })
      .map((b) => [...b].sort((x, y) => x - y))
    const valueArb = fc.oneof(fc.double({ min: -1e3, max: 1e7, noNaN: true }), fc.constant(Number.NaN))
    fc.assert(fc.property(boundsArb, fc.array(valueArb, { maxLength: 200 }), (bounds, values) => {
      const h = new LatencyHistogram(bounds)
      for (const v of values) h.observe(v)
      const snap = h.snapshot()
      const clamped = values.map((v) => v > 0 ? v : 0)
      expect(snap.count).toBe(values.length)
      expect(h.count).toBe(values.length)
      expect(snap.cumulative).toHaveLength(bounds.length + 1)
      for (let i = 0; i < bounds.length; i++) expect(snap.cumulative[i]).toBe(clamped.filter((v) => v <= bounds[i]).length)
      expect(snap.cumulative[bounds.length]).toBe(values.length)
      for (let i = 1; i < snap.cumulative.length; i++) expect(snap.cumulative[i]).toBeGreaterThanOrEqual(snap.cumulative[i - 1])
      expect(snap.sumMs).toBeCloseTo(clamped.reduce((a, v) => a + v, 0), 3)
    }))
  })

  it('hands out a copy: later observations leave an earlier snapshot alone', () => {
    const h = new LatencyHistogram([1])
    const before = h.snapshot()
    h.observe(0.5)
    expect(before).toEqual({ boundsMs: [1], cumulative: [0, 0], count: 0, sumMs: 0 })
  })
})

describe('SubscriberQueue times', () => {
  it('hands out each taken frame\'s own times, whatever the pushes, drops, evictions and takes', () => {
    interface F { byteLength: number, at: number, live: boolean }
    const op = fc.oneof(
      fc.record({ kind: fc.constant('push' as const), size: fc.integer({ min: 1, max: 40 }), track: fc.integer({ min: 0, max: 2 }), keyframe: fc.boolean(), live: fc.boolean() }),
      fc.record({ kind: fc.constant('take' as const), max: fc.integer({ min: 1, max: 120 }) }),
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 80 }), (ops) => {
      const q = new SubscriberQueue<F>(100, 5)
      let now = 0
      for (const o of ops) {
        now++
        if (o.kind === 'push') {
          q.push({ byteLength: o.size, at: now, live: o.live }, o.track, o.keyframe, now, o.live ? now - 0.5 : Number.NaN)
          continue
        }
        const told: Array<[number, number | 'replay']> = []
        const out = q.take(o.max, { taken: (queuedAt, ingestAt) => { told.push([queuedAt, Number.isNaN(ingestAt) ? 'replay' : ingestAt]) } })
        expect(told).toEqual(out.map((f) => [f.at, f.live ? f.at - 0.5 : 'replay']))
      }
    }))
  })
})

describe('RelayNode latency histograms', () => {
  const S = 'owner/latency'
  const VIDEO = makeTrack(0, TrackContext.video)

  function relay (): RelayNode {
    const r = new RelayNode()
    r.openStream(S)
    r.setPublisherLeaf(S, 'alice', 0)
    return r
  }

  it('records queue delay from forward and forward latency from ingest, both up to the take that writes', () => {
    const r = relay()
    const { id } = r.subscribe(S, 'bob', makeLink(S).sealer, 0)
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 0, keyframe: true }), 10, 7)
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 1 }), 12, 12)
    expect(r.take(id, Infinity, 13)).toHaveLength(2)
    // queue delay: 13-10 and 13-12; forward latency: 13-7 and 13-12.
    expect(r.queueDelay.snapshot()).toMatchObject({ count: 2, sumMs: 4 })
    expect(r.forwardLatency.snapshot()).toMatchObject({ count: 2, sumMs: 7 })
    expect(r.stats().latency.forwardLatency.count).toBe(2)
  })

  it('records nothing for a take without a time, an empty take or an unknown id', () => {
    const r = relay()
    const { id } = r.subscribe(S, 'bob', makeLink(S).sealer, 0)
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 0, keyframe: true }), 1)
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 1 }), 1)
    expect(r.take(id, 1)).toHaveLength(1)
    expect(r.take(id, Infinity, 2)).toHaveLength(1)
    expect(r.take(id, Infinity, 3)).toEqual([])
    expect(r.take(999, Infinity, 4)).toEqual([])
    expect(r.queueDelay.snapshot()).toMatchObject({ count: 1, sumMs: 1 })
    expect(r.forwardLatency.snapshot()).toMatchObject({ count: 1, sumMs: 1 })
  })

  it('counts a replayed GOP in the queue delay from the subscription, not in the forward latency', () => {
    const r = relay()
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 0, keyframe: true }), 0)
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 1 }), 1)
    const { id } = r.subscribe(S, 'bob', makeLink(S).sealer, 1000)
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 2 }), 1001)
    expect(r.take(id, Infinity, 1002)).toHaveLength(3)
    expect(r.queueDelay.snapshot()).toMatchObject({ count: 3, sumMs: 2 + 2 + 1 })
    expect(r.forwardLatency.snapshot()).toMatchObject({ count: 1, sumMs: 1 })
  })

  it('keeps each frame\'s times through partial takes and keyframe evictions', () => {
    const r = new RelayNode({ subscriberQueueFrames: 3 })
    r.openStream(S)
    r.setPublisherLeaf(S, 'alice', 0)
    const audio = makeTrack(0, TrackContext.audio)
    const { id } = r.subscribe(S, 'bob', makeLink(S).sealer, 0)
    r.forward(S, 'alice', makeChunk(S, { track: audio, sequence: 0, keyframe: true }), 1)
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 0, keyframe: true }), 2)
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 1 }), 3)
    // Full: the video keyframe evicts video's queued frames (times 2 and 3) and takes their place.
    r.forward(S, 'alice', makeChunk(S, { track: VIDEO, sequence: 2, keyframe: true }), 4)
    expect(r.take(id, 1, 10)).toHaveLength(1)
    expect(r.queueDelay.snapshot()).toMatchObject({ count: 1, sumMs: 9 })
    expect(r.take(id, Infinity, 10)).toHaveLength(1)
    expect(r.queueDelay.snapshot()).toMatchObject({ count: 2, sumMs: 9 + 6 })
  })
})
