/**
 * The member page's pure parts (src/web/meters.ts, page-state.ts): rate
 * windows against a reference model, bounded lists, the pixel digest's
 * math, roster-to-tiles diffing, and how ids, safety codes and errors are
 * shown.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError } from '../../src/errors.js'
import { diffTiles, errorInfo, formatSafetyCode, hexPrefix, luma, pixelDigest, pushBounded, RateWindow, shortId } from '../../src/web/meters.js'
import { LOG_LINES_KEPT, logLine, newPageState, resetForJoin } from '../../src/web/page-state.js'

/** Events at non-decreasing times (ms) with sizes (bytes), and a reading time at or after the last. */
const events = fc.array(fc.tuple(fc.integer({ min: 0, max: 500 }), fc.integer({ min: 0, max: 100_000 })), { maxLength: 300 })
  .chain((steps) => fc.integer({ min: 0, max: 5_000 }).map((after) => {
    let t = 0
    const list = steps.map(([dt, bytes]) => ({ t: (t += dt), bytes }))
    return { list, now: t + after }
  }))

describe('RateWindow', () => {
  it('reads the events of the window ending now (after the last `capacity`), as a reference list does', () => {
    fc.assert(fc.property(events, fc.integer({ min: 1, max: 10_000 }), fc.integer({ min: 1, max: 400 }), ({ list, now }, windowMs, capacity) => {
      const w = new RateWindow(windowMs, capacity)
      for (const e of list) w.add(e.t, e.bytes)
      const kept = list.slice(-capacity).filter((e) => e.t > now - windowMs)
      const bytes = kept.reduce((s, e) => s + e.bytes, 0)
      expect(w.perSecond(now)).toBeCloseTo(kept.length * 1000 / windowMs, 9)
      expect(w.kbps(now)).toBeCloseTo(bytes * 8 / windowMs, 6)
      expect(w.size).toBe(kept.length)
      expect(w.size).toBeLessThanOrEqual(capacity)
    }))
  })

  it('reads a steady 30 fps at 800 kbit/s as such', () => {
    const w = new RateWindow(2_000)
    const frameBytes = 800_000 / 8 / 30
    for (let i = 0; i < 300; i++) w.add(i * 1000 / 30, frameBytes)
    const now = 299 * 1000 / 30
    // Within one frame of the window either way (the fence post at its start).
    expect(Math.abs(w.perSecond(now) - 30)).toBeLessThanOrEqual(0.5)
    expect(Math.abs(w.kbps(now) - 800)).toBeLessThanOrEqual(800 / 60 + 1e-9)
    expect(w.perSecond(now + 2_000)).toBe(0)
  })

  it('refuses a bad window or capacity', () => {
    expect(() => new RateWindow(0)).toThrow(RangeError)
    expect(() => new RateWindow(1_000, 0)).toThrow(RangeError)
    expect(() => new RateWindow(1_000, 1.5)).toThrow(RangeError)
  })
})

describe('pushBounded', () => {
  it('keeps the last `max` items pushed, in place', () => {
    fc.assert(fc.property(fc.array(fc.integer()), fc.integer({ min: 1, max: 20 }), (items, max) => {
      const list: number[] = []
      for (const item of items) {
        pushBounded(list, item, max)
        expect(list.length).toBeLessThanOrEqual(max)
      }
      expect(list).toEqual(items.slice(-max))
    }))
  })
})

describe('pixelDigest', () => {
  const rgba = fc.array(fc.integer({ min: 0, max: 255 }), { maxLength: 400 })

  it('has a mean within 0..255, a variance within 0..127.5², and equal hashes for equal pictures', () => {
    fc.assert(fc.property(rgba, (bytes) => {
      const d = pixelDigest(Uint8ClampedArray.from(bytes))
      expect(d.mean).toBeGreaterThanOrEqual(0)
      expect(d.mean).toBeLessThanOrEqual(255 + 1e-9)
      expect(d.variance).toBeGreaterThanOrEqual(0)
      expect(d.variance).toBeLessThanOrEqual(127.5 ** 2 + 1e-6)
      expect(d.hash).toMatch(/^[0-9a-f]{8}$/)
      expect(pixelDigest(bytes).hash).toBe(d.hash)
    }))
  })

  it('reads a one-colour picture as variance 0 at its luma, whatever its alpha', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 0, max: 255 }), fc.integer({ min: 1, max: 64 }),
      (r, g, b, a, pixels) => {
        const d = pixelDigest(Array.from({ length: pixels }, () => [r, g, b, a]).flat())
        expect(d.mean).toBeCloseTo(luma(r, g, b), 9)
        expect(d.variance).toBeCloseTo(0, 6)
      }))
  })

  it('reads half black, half white as mean 127.5 and variance 127.5², and tells the two orders apart by hash', () => {
    const black = [0, 0, 0, 255]
    const white = [255, 255, 255, 255]
    const a = pixelDigest([...black, ...white])
    const b = pixelDigest([...white, ...black])
    expect(a.mean).toBeCloseTo(127.5, 9)
    expect(a.variance).toBeCloseTo(127.5 ** 2, 6)
    expect(a.hash).not.toBe(b.hash)
    expect(pixelDigest([])).toEqual({ hash: '811c9dc5', mean: 0, variance: 0 })
  })
})

describe('diffTiles', () => {
  const ids = fc.array(fc.constantFrom<string>('a', 'b', 'c', 'd', 'e', 'f'), { maxLength: 8 })

  it('adds and removes exactly what makes the tiles the roster less self', () => {
    fc.assert(fc.property(ids, ids, fc.constantFrom('a', 'b', 'z'), (current, roster, self) => {
      const { add, remove } = diffTiles(current, roster, self)
      const after = new Set(current)
      for (const r of remove) {
        expect(after.has(r)).toBe(true)
        after.delete(r)
      }
      for (const x of add) {
        expect(after.has(x)).toBe(false)
        after.add(x)
      }
      expect([...after].sort()).toEqual([...new Set(roster.filter((m) => m !== self))].sort())
      expect(new Set(add).size).toBe(add.length)
      expect(new Set(remove).size).toBe(remove.length)
    }))
  })
})

describe('how the page shows things', () => {
  it('shortens a peer id to its last 6 characters', () => {
    expect(shortId('12D3KooWG89U28aXPEP5uQtPJe292AQMFpeL7R9rrjJB2EXufbGU')).toBe('XufbGU')
  })

  it('groups a safety code in fives without losing a digit', () => {
    fc.assert(fc.property(fc.stringMatching(/^\d{1,40}$/), (code) => {
      const shown = formatSafetyCode(code)
      expect(shown.replaceAll(' ', '')).toBe(code)
      for (const group of shown.split(' ')) expect(group.length).toBeLessThanOrEqual(5)
    }))
    expect(formatSafetyCode('123456789012345678901234567890')).toBe('12345 67890 12345 67890 12345 67890')
  })

  it('takes a hex prefix as Node would', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 40 }), fc.integer({ min: 0, max: 90 }), (bytes, chars) => {
      expect(hexPrefix(bytes, chars)).toBe(Buffer.from(bytes).toString('hex').slice(0, chars))
    }))
  })

  it("shows a FabricError's code, and INTERNAL for anything else", () => {
    expect(errorInfo(new FabricError('NOT_ADMITTED', 'no'))).toEqual({ code: 'NOT_ADMITTED', message: 'no' })
    expect(errorInfo(new Error('boom'))).toEqual({ code: 'INTERNAL', message: 'boom' })
    expect(errorInfo('text')).toEqual({ code: 'INTERNAL', message: 'text' })
    expect(errorInfo(undefined).code).toBe('INTERNAL')
  })
})

describe('window.fabricPage state', () => {
  const methods = { canvasDigest: () => undefined, join: async () => {}, leave: async () => {} }

  it('keeps its log bounded', () => {
    const page = newPageState('me', methods)
    for (let i = 0; i < LOG_LINES_KEPT + 50; i++) logLine(page, i, `line ${i}`)
    expect(page.log.length).toBe(LOG_LINES_KEPT)
    expect(page.log.at(-1)).toMatch(/line 149$/)
  })

  it('clears one join\'s values before the next, keeping the identity, the log and the latency array itself', () => {
    const page = newPageState('me', methods)
    const samples = page.latency.samples
    Object.assign(page, { state: 'error', error: { code: 'TIMEOUT', message: 'x' }, stream: 'o/s', roster: ['me', 'you'], epoch: '3', safetyCode: '1'.repeat(30) })
    page.tiles.you = { framesReceived: 1, framesDecoded: 1, decodeErrors: 0, skipped: 0, decryptFailures: 0, width: 1, height: 1, fps: 1, kbps: 1 }
    page.sent.frames = 5
    samples.push(12)
    logLine(page, 0, 'kept')
    resetForJoin(page)
    expect(page).toMatchObject({ peerId: 'me', roster: [], epoch: '', safetyCode: '', tiles: {}, timings: {}, error: undefined, stream: undefined })
    expect(page.sent.frames).toBe(0)
    expect(page.latency.samples).toBe(samples)
    expect(samples).toEqual([])
    expect(page.log).toHaveLength(1)
  })
})
