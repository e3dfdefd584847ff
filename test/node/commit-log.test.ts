/**
 * CommitLog (src/node/group/commit-log.ts): the bounded log of a stream's
 * recent Commits that resuming members catch up from. Unit tests of each
 * rule, and a property over random appends against a model of the whole
 * history: the bounds always hold, the log is consecutive, and `since`
 * returns exactly the Commits a member missed, or undefined.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { CommitLog } from '../../src/node/group/commit-log.js'

/** A Commit of `n` bytes, each its epoch's low byte, so entries are told apart. */
function commitOf (epoch: bigint, n = 4): Uint8Array {
  return new Uint8Array(n).fill(Number(epoch & 0xffn))
}

function epochs (log: CommitLog): bigint[] {
  return log.all().map(e => e.epoch)
}

/** A log holding the Commits of epochs `from`..`to`, each `n` bytes. */
function filled (from: bigint, to: bigint, maxEntries = 64, maxBytes = 1 << 20, n = 4): CommitLog {
  const log = new CommitLog(maxEntries, maxBytes)
  for (let e = from; e <= to; e++) log.append(e, commitOf(e, n))
  return log
}

describe('CommitLog', () => {
  it('refuses bounds that are not positive integers', () => {
    for (const [entries, bytes] of [[0, 1], [1, 0], [-1, 1], [1, -5], [1.5, 1], [1, 2.5], [Number.NaN, 1], [1, Number.POSITIVE_INFINITY]]) {
      expect(() => new CommitLog(entries!, bytes!), `${entries} ${bytes}`).toThrow(RangeError)
    }
    expect(() => new CommitLog(1, 1)).not.toThrow()
  })

  it('keeps consecutive Commits oldest first, by reference, and counts their bytes', () => {
    const log = new CommitLog(8, 1024)
    const first = commitOf(1n, 3)
    log.append(1n, first)
    log.append(2n, commitOf(2n, 5))
    expect(epochs(log)).toEqual([1n, 2n])
    expect(log.all()[0]!.commit).toBe(first)
    expect(log.size).toBe(8)
    log.clear()
    expect(log.all()).toEqual([])
    expect(log.size).toBe(0)
  })

  it('since returns the Commits after `from` up to `to`, oldest first; none when they are equal', () => {
    const log = filled(3n, 7n)
    expect(log.since(7n, 7n)).toEqual([])
    expect(log.since(6n, 7n)?.map(e => e.epoch)).toEqual([7n])
    expect(log.since(2n, 7n)?.map(e => e.epoch)).toEqual([3n, 4n, 5n, 6n, 7n])
    expect(log.since(4n, 7n)).toEqual([{ epoch: 5n, commit: commitOf(5n) }, { epoch: 6n, commit: commitOf(6n) }, { epoch: 7n, commit: commitOf(7n) }])
    // Equal epochs need nothing, whatever the log holds.
    expect(new CommitLog(1, 1).since(9n, 9n)).toEqual([])
  })

  it('since is undefined when the log lacks any of them, or the member claims to be ahead', () => {
    const log = filled(3n, 7n)
    expect(log.since(1n, 7n)).toBeUndefined()   // epoch 2's Commit is not held
    expect(log.since(8n, 7n)).toBeUndefined()   // ahead of the stream
    expect(log.since(6n, 9n)).toBeUndefined()   // past what is held
    expect(new CommitLog(4, 64).since(0n, 1n)).toBeUndefined()
  })

  it('evicts the oldest entries beyond the entry bound', () => {
    const log = filled(1n, 5n, 3)
    expect(epochs(log)).toEqual([3n, 4n, 5n])
    expect(log.size).toBe(12)
    expect(log.since(2n, 5n)?.length).toBe(3)
    expect(log.since(1n, 5n)).toBeUndefined()
  })

  it('evicts the oldest entries beyond the byte bound', () => {
    const log = filled(1n, 5n, 64, 10)
    expect(epochs(log)).toEqual([4n, 5n])   // two 4-byte Commits fit in 10 bytes, three do not
    expect(log.size).toBe(8)
    log.append(6n, commitOf(6n, 10))           // exactly the bound: it alone stays
    expect(epochs(log)).toEqual([6n])
    expect(log.size).toBe(10)
    expect(log.since(5n, 6n)?.map(e => e.epoch)).toEqual([6n])
  })

  it('keeps no Commit larger than the byte bound, and clears the log for it, so no hole is left', () => {
    const log = filled(1n, 3n, 64, 10)
    log.append(4n, commitOf(4n, 11))
    expect(log.all()).toEqual([])
    expect(log.size).toBe(0)
    expect(log.since(3n, 4n)).toBeUndefined()
    // The next Commit starts the log afresh.
    log.append(5n, commitOf(5n))
    expect(epochs(log)).toEqual([5n])
    expect(log.since(4n, 5n)?.map(e => e.epoch)).toEqual([5n])
    expect(log.since(3n, 5n)).toBeUndefined()
  })

  it('clears itself before a Commit that does not follow the last one (a hole, or an epoch again)', () => {
    const log = filled(1n, 3n)
    log.append(6n, commitOf(6n))
    expect(epochs(log)).toEqual([6n])
    expect(log.size).toBe(4)
    expect(log.since(3n, 6n)).toBeUndefined()
    log.append(6n, commitOf(6n, 2))
    expect(epochs(log)).toEqual([6n])
    expect(log.size).toBe(2)
    log.append(2n, commitOf(2n))
    expect(epochs(log)).toEqual([2n])
  })

  it('property: within both bounds, consecutive, and since gives exactly the missed Commits or undefined', () => {
    // Each op appends the next epoch's Commit (mostly), or jumps ahead, or repeats the last epoch.
    const op = fc.record({
      step: fc.oneof({ weight: 8, arbitrary: fc.constant(1) }, fc.integer({ min: 2, max: 4 }), fc.constant(0)),
      bytes: fc.oneof({ weight: 4, arbitrary: fc.integer({ min: 1, max: 16 }) }, fc.integer({ min: 17, max: 80 })),
    })
    fc.assert(fc.property(fc.integer({ min: 1, max: 8 }), fc.integer({ min: 1, max: 64 }), fc.bigInt({ min: 0n, max: 1000n }), fc.array(op, { maxLength: 40 }),
      (maxEntries, maxBytes, start, ops) => {
        const log = new CommitLog(maxEntries, maxBytes)
        // The model: every Commit appended, by epoch (the last one appended for an epoch wins).
        const history = new Map<bigint, Uint8Array>()
        let epoch = start
        let sinceHole = start // the first epoch appended since the history last broke
        for (const { step, bytes } of ops) {
          if (step !== 1) sinceHole = epoch + BigInt(step)
          epoch += BigInt(step)
          const commit = commitOf(epoch, bytes)
          history.set(epoch, commit)
          log.append(epoch, commit)
          const held = log.all()
          // The bounds.
          expect(held.length).toBeLessThanOrEqual(maxEntries)
          expect(log.size).toBeLessThanOrEqual(maxBytes)
          expect(log.size).toBe(held.reduce((n, e) => n + e.commit.byteLength, 0))
          // Consecutive, newest last, each the Commit appended for its epoch, none from before a hole.
          held.forEach((e, i) => {
            if (i > 0) expect(e.epoch).toBe(held[i - 1]!.epoch + 1n)
            expect(e.commit).toBe(history.get(e.epoch))
            expect(e.epoch).toBeGreaterThanOrEqual(sinceHole)
          })
          // The newest Commit is kept whenever it fits alone.
          if (bytes <= maxBytes) expect(held.at(-1)?.epoch).toBe(epoch)
          else expect(held).toEqual([])
          // since, for every `from` around what is held: exactly the Commits of (from, epoch], or undefined exactly when one is missing.
          const first = held[0]?.epoch ?? epoch + 1n
          for (let from = epoch - BigInt(maxEntries) - 2n; from <= epoch + 1n; from++) {
            const got = log.since(from, epoch)
            if (from > epoch) expect(got).toBeUndefined()
            else if (from === epoch) expect(got).toEqual([])
            else if (from + 1n < first) expect(got).toBeUndefined()
            else expect(got?.map(e => e.commit)).toEqual(Array.from({ length: Number(epoch - from) }, (_, i) => history.get(from + 1n + BigInt(i))))
          }
        }
      }), { numRuns: 300 })
  })
})
