/**
 * RosterReplica (src/fabric/roster-replica.ts), against a model: after any
 * sequence of rosters (random epochs, random members with distinct leaves)
 * the replica holds exactly the last roster that was not stale; each change
 * it returns names as added exactly the members that are new or at another
 * leaf, and as removed exactly those gone or at another leaf (so a member
 * whose leaf changed is in both); an older epoch returns undefined and
 * changes nothing; the same epoch again is applied.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { RosterReplica, type ReplicatedMember, type RosterChange } from '../../src/fabric/roster-replica.js'

const STREAM = '12D3KooWDpJ7As7BWAwRMfu1VU2WCqNjvq387JEYKDBj4kx6nXTN/room'

/** A small pool of identities and leaves, so that members come back, leave and move between leaves often. */
const POOL = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank', 'grace']
const LEAVES = 8

/** A roster as the codec lets it through: each identity once, each leaf once, in any order. */
const rosterArb: fc.Arbitrary<ReplicatedMember[]> = fc.uniqueArray(fc.constantFrom(...POOL), { maxLength: POOL.length }).chain((ids) =>
  fc.uniqueArray(fc.integer({ min: 0, max: LEAVES - 1 }), { minLength: ids.length, maxLength: ids.length })
    .map((leaves) => ids.map((identity, i) => ({ identity, leaf: leaves[i]! }))))

/** Epochs from a narrow range, so that stale, repeated and newer ones all come up; sometimes a huge one. */
const epochArb = fc.oneof(
  { weight: 8, arbitrary: fc.bigInt({ min: 0n, max: 6n }) },
  { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }) },
)

const stepsArb = fc.array(fc.record({ epoch: epochArb, members: rosterArb }), { minLength: 1, maxLength: 25 })

const sorted = (xs: Iterable<string>): string[] => [...xs].sort()

/** What the replica must hold: the leaves of `members`. */
const leavesOf = (members: readonly ReplicatedMember[]): Map<string, number> => new Map(members.map((m) => [m.identity, m.leaf]))

/** Checks everything the replica says about itself against the model. */
function expectHolds (r: RosterReplica, epoch: bigint, leaves: ReadonlyMap<string, number>): void {
  expect(r.epoch).toBe(epoch)
  expect(r.size).toBe(leaves.size)
  for (const id of [...POOL, 'nobody']) {
    expect(r.has(id), id).toBe(leaves.has(id))
    expect(r.leafOf(id), id).toBe(leaves.get(id))
  }
}

describe('RosterReplica', () => {
  it('starts empty at epoch -1', () => {
    const r = new RosterReplica(STREAM)
    expect(r.stream).toBe(STREAM)
    expectHolds(r, -1n, new Map())
  })

  it('after any sequence of rosters holds exactly the last one that was not stale; stale ones return undefined and change nothing', () => {
    fc.assert(fc.property(stepsArb, (steps) => {
      const r = new RosterReplica(STREAM)
      let epoch = -1n
      let held = new Map<string, number>()
      for (const step of steps) {
        const change = r.apply(step.epoch, step.members)
        if (step.epoch < epoch) {
          expect(change).toBeUndefined()
        } else {
          expect(change).toBeDefined()
          epoch = step.epoch
          held = leavesOf(step.members)
        }
        expectHolds(r, epoch, held)
      }
      // The last roster applied is the one at the highest epoch seen, the last of its epoch.
      const last = [...steps].reverse().find((s) => s.epoch === epoch)!
      expect(steps.every((s) => s.epoch <= epoch)).toBe(true)
      expectHolds(r, epoch, leavesOf(last.members))
    }), { numRuns: 1000 })
  })

  it('returns as added and removed exactly the set differences, a member whose leaf changed in both', () => {
    fc.assert(fc.property(stepsArb, (steps) => {
      const r = new RosterReplica(STREAM)
      let held = new Map<string, number>()
      for (const step of steps) {
        const change = r.apply(step.epoch, step.members)
        if (change === undefined) continue
        const next = leavesOf(step.members)
        const added = [...next].filter(([id, leaf]) => held.get(id) !== leaf).map(([id]) => id)
        const removed = [...held].filter(([id, leaf]) => next.get(id) !== leaf).map(([id]) => id)
        expect(sorted(change.added)).toEqual(sorted(added))
        expect(sorted(change.removed)).toEqual(sorted(removed))
        // Each once.
        expect(new Set(change.added).size).toBe(change.added.length)
        expect(new Set(change.removed).size).toBe(change.removed.length)
        // Moved members are exactly those in both.
        const moved = [...next].filter(([id, leaf]) => held.has(id) && held.get(id) !== leaf).map(([id]) => id)
        expect(sorted(change.added.filter((id) => change.removed.includes(id)))).toEqual(sorted(moved))
        expectChangeIs(change, step.epoch, step.members)
        held = next
      }
    }), { numRuns: 1000 })
  })

  it('keeps each returned change as it was when later rosters are applied', () => {
    fc.assert(fc.property(stepsArb, (steps) => {
      const r = new RosterReplica(STREAM)
      const seen: Array<{ change: RosterChange, epoch: bigint, members: ReplicatedMember[] }> = []
      for (const step of steps) {
        const members = step.members.map((m) => ({ ...m }))
        const change = r.apply(step.epoch, members)
        // The caller's array may be reused afterwards.
        members.reverse().push({ identity: 'intruder', leaf: 99 })
        if (change !== undefined) seen.push({ change, epoch: step.epoch, members: step.members })
      }
      for (const s of seen) expectChangeIs(s.change, s.epoch, s.members)
      expect(r.has('intruder')).toBe(false)
    }), { numRuns: 300 })
  })

  it('ignores a stale epoch even when it carries another roster, and keeps applying newer ones', () => {
    const r = new RosterReplica(STREAM)
    const first = r.apply(5n, [{ identity: 'alice', leaf: 0 }, { identity: 'bob', leaf: 1 }])
    expect(first).toEqual({ stream: STREAM, epoch: 5n, members: ['alice', 'bob'], added: ['alice', 'bob'], removed: [], leaves: new Map([['alice', 0], ['bob', 1]]) })
    expect(r.apply(4n, [{ identity: 'carol', leaf: 2 }])).toBeUndefined()
    expect(r.apply(0n, [])).toBeUndefined()
    expectHolds(r, 5n, new Map([['alice', 0], ['bob', 1]]))
    const next = r.apply(6n, [{ identity: 'bob', leaf: 1 }])
    expect(next).toMatchObject({ epoch: 6n, members: ['bob'], added: [], removed: ['alice'] })
    expectHolds(r, 6n, new Map([['bob', 1]]))
  })

  it('applies the same epoch again: a roster resent within an epoch replaces the one held', () => {
    const r = new RosterReplica(STREAM)
    expect(r.apply(0n, [{ identity: 'alice', leaf: 0 }])).toMatchObject({ epoch: 0n, added: ['alice'], removed: [] })
    // The same roster again: applied, nothing changed.
    expect(r.apply(0n, [{ identity: 'alice', leaf: 0 }])).toEqual({ stream: STREAM, epoch: 0n, members: ['alice'], added: [], removed: [], leaves: new Map([['alice', 0]]) })
    // Another roster at the same epoch replaces it.
    expect(r.apply(0n, [{ identity: 'bob', leaf: 0 }, { identity: 'alice', leaf: 3 }])).toMatchObject({ epoch: 0n, members: ['bob', 'alice'], added: ['bob', 'alice'], removed: ['alice'] })
    expectHolds(r, 0n, new Map([['bob', 0], ['alice', 3]]))
  })

  it('lists a member that moved to another leaf as removed and added, and one that kept its leaf as neither', () => {
    const r = new RosterReplica(STREAM)
    r.apply(1n, [{ identity: 'alice', leaf: 0 }, { identity: 'bob', leaf: 1 }, { identity: 'carol', leaf: 2 }])
    const change = r.apply(2n, [{ identity: 'carol', leaf: 2 }, { identity: 'alice', leaf: 1 }, { identity: 'dave', leaf: 0 }])!
    expect(sorted(change.added)).toEqual(['alice', 'dave'])
    expect(sorted(change.removed)).toEqual(['alice', 'bob'])
    expect(change.members).toEqual(['carol', 'alice', 'dave'])
    expect(change.leaves).toEqual(new Map([['carol', 2], ['alice', 1], ['dave', 0]]))
  })

  it('takes an empty roster: every member removed', () => {
    const r = new RosterReplica(STREAM)
    r.apply(3n, [{ identity: 'alice', leaf: 0 }, { identity: 'bob', leaf: 1 }])
    const change = r.apply(3n, [])!
    expect(change).toEqual({ stream: STREAM, epoch: 3n, members: [], added: [], removed: ['alice', 'bob'], leaves: new Map() })
    expectHolds(r, 3n, new Map())
  })
})

/** `change` is the change of applying `members` at `epoch`: its members in order, its leaves, its stream and epoch. */
function expectChangeIs (change: RosterChange, epoch: bigint, members: readonly ReplicatedMember[]): void {
  expect(change.stream).toBe(STREAM)
  expect(change.epoch).toBe(epoch)
  expect(change.members).toEqual(members.map((m) => m.identity))
  expect(change.leaves).toEqual(leavesOf(members))
}
