/** The sliding replay window against a Set-based model. */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { MalformedError, ReplayError } from '../../src/errors.js'
import { DEFAULT_REPLAY_WINDOW, ReplayWindow } from '../../src/crypto/replay-window.js'

const MAX = 2n ** 64n - 1n

/** The specification, written as plainly as possible. */
class ModelWindow {
  readonly seen = new Set<bigint>()
  highest: bigint | undefined
  constructor (readonly width: number) {}
  acceptable (s: bigint): boolean {
    if (this.seen.has(s)) return false
    return this.highest === undefined || s > this.highest - BigInt(this.width)
  }

  accept (s: bigint): void {
    this.seen.add(s)
    if (this.highest === undefined || s > this.highest) this.highest = s
  }
}

function accepts (window: ReplayWindow, s: bigint): boolean {
  try {
    window.check(s)
    return true
  } catch (err) {
    expect(err).toBeInstanceOf(ReplayError)
    expect((err as ReplayError).sequence).toBe(s)
    return false
  }
}

describe('ReplayWindow', () => {
  it('agrees with a Set-based model on random sequences, check() never mutating', () => {
    const arbBase = fc.constantFrom(0n, 1000n, MAX - 5000n)
    const arbStep = fc.oneof(
      { weight: 6, arbitrary: fc.integer({ min: -70, max: 70 }) },
      { weight: 1, arbitrary: fc.integer({ min: -3000, max: 3000 }) }
    )
    fc.assert(fc.property(fc.integer({ min: 1, max: 100 }), arbBase, fc.array(arbStep, { maxLength: 400 }), fc.array(fc.boolean(), { maxLength: 400 }), (width, base, steps, verified) => {
      const window = new ReplayWindow(width)
      const model = new ModelWindow(width)
      let cursor = base + 2000n
      steps.forEach((step, i) => {
        cursor += BigInt(step)
        if (cursor < 0n) cursor = 0n
        if (cursor > MAX) cursor = MAX
        const expected = model.acceptable(cursor)
        expect(accepts(window, cursor)).toBe(expected)
        // A packet whose tag failed is checked but never accepted.
        if (expected && (verified[i] ?? true)) {
          window.accept(cursor)
          model.accept(cursor)
          expect(window.highest).toBe(model.highest)
          expect(accepts(window, cursor)).toBe(false)
        }
      })
    }), { numRuns: 300 })
  })

  it('accepts gaps and reordering inside the window, refuses duplicates and stale sequences (default width 1024)', () => {
    const window = new ReplayWindow()
    expect(window.width).toBe(DEFAULT_REPLAY_WINDOW)
    expect(window.highest).toBeUndefined()
    for (const s of [0n, 1n, 5n, 3n, 2000n]) window.accept(s)
    expect(() => window.accept(5n)).toThrow(ReplayError)
    expect(() => window.check(2000n)).toThrow(ReplayError)
    expect(() => window.check(976n)).toThrow(/older than/)
    window.accept(977n)
    window.accept(1999n)
    window.accept(1500n)
    expect(() => window.accept(1500n)).toThrow(/already accepted/)
    expect(window.highest).toBe(2000n)
    window.accept(2000n + 5000n)
    expect(() => window.check(2000n)).toThrow(ReplayError)
    window.accept(7000n - 1023n)
  })

  it('handles the top of the 64-bit range and refuses values outside it', () => {
    const window = new ReplayWindow(8)
    window.accept(MAX)
    window.accept(MAX - 7n)
    expect(() => window.check(MAX - 8n)).toThrow(ReplayError)
    expect(() => window.check(MAX + 1n)).toThrow(MalformedError)
    expect(() => window.check(-1n)).toThrow(MalformedError)
  })

  it('refuses widths outside [1, 2^20]', () => {
    for (const width of [0, -1, 1.5, 2 ** 20 + 1, Number.NaN]) expect(() => new ReplayWindow(width)).toThrow(RangeError)
    expect(new ReplayWindow(1).width).toBe(1)
  })
})
