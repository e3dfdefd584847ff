/**
 * BatchClock: one clock read shared by the batches of one scheduler run,
 * within BATCH_CLOCK_BATCHES batches and BATCH_CLOCK_BYTES bytes; a fresh
 * read for every batch outside a run.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { BATCH_CLOCK_BATCHES, BATCH_CLOCK_BYTES, BatchClock } from '../../src/dispatch/subscriber-sender.js'

/** A clock that counts its reads: each read returns the next integer. */
function countingClock (): { clock: BatchClock, reads: () => number } {
  let reads = 0
  return { clock: new BatchClock(() => ++reads), reads: () => reads }
}

describe('BatchClock', () => {
  it('reads the clock for every batch outside a run', () => {
    const { clock, reads } = countingClock()
    expect([clock.now(10), clock.now(10), clock.now(10)]).toEqual([1, 2, 3])
    expect(reads()).toBe(3)
  })

  it('shares one read within a run, up to the batch bound, and reads afresh in the next run', () => {
    const { clock } = countingClock()
    clock.beginRun()
    const times = Array.from({ length: BATCH_CLOCK_BATCHES + 1 }, () => clock.now(100))
    expect(times.slice(0, BATCH_CLOCK_BATCHES).every((t) => t === 1)).toBe(true)
    expect(times[BATCH_CLOCK_BATCHES]).toBe(2)
    clock.endRun()
    expect(clock.now(100)).toBe(3)
    clock.beginRun()
    expect(clock.now(100)).toBe(4)
  })

  it('reads afresh once the batches sharing a read hold the byte bound', () => {
    const { clock } = countingClock()
    clock.beginRun()
    expect(clock.now(BATCH_CLOCK_BYTES - 1)).toBe(1)
    expect(clock.now(1)).toBe(1)
    expect(clock.now(1)).toBe(2)
  })

  it('never lets a reading serve past its bounds, a run, or outside one, whatever the calls', () => {
    type Op = { kind: 'begin' } | { kind: 'end' } | { kind: 'now', bytes: number }
    const op: fc.Arbitrary<Op> = fc.oneof(
      fc.constant({ kind: 'begin' as const }),
      fc.constant({ kind: 'end' as const }),
      fc.record({ kind: fc.constant('now' as const), bytes: fc.integer({ min: 0, max: 80 * 1024 }) }),
    )
    fc.assert(fc.property(fc.array(op, { maxLength: 200 }), (ops) => {
      const { clock } = countingClock()
      let inRun = false
      /** Whether the previous time may be handed out again: a read made in the run under way. */
      let mayShare = false
      let prev = 0
      let sharedBatches = 0
      let sharedBytes = 0
      for (const o of ops) {
        if (o.kind === 'begin' || o.kind === 'end') {
          if (o.kind === 'begin') clock.beginRun()
          else clock.endRun()
          inRun = o.kind === 'begin'
          mayShare = false
          continue
        }
        const t = clock.now(o.bytes)
        if (t === prev) {
          expect(mayShare, 'a reading reused outside the run it was made in').toBe(true)
          expect(sharedBatches).toBeLessThan(BATCH_CLOCK_BATCHES)
          expect(sharedBytes).toBeLessThan(BATCH_CLOCK_BYTES)
          sharedBatches++
          sharedBytes += o.bytes
        } else {
          expect(t).toBe(prev + 1)
          sharedBatches = 1
          sharedBytes = o.bytes
        }
        prev = t
        mayShare = inRun
      }
    }))
  })
})
