import { createProposal, encodeMlsMessage } from 'ts-mls'
import { describe, it, expect } from 'vitest'
import { RawMember } from './admission/raw.js'
import fc from 'fast-check'
import { AvSession, type PendingCommit } from '../../src/session/av-session.js'
import { inspectCommit } from '../../src/session/inspect.js'
import { generateKeyPackage } from '../../src/session/key-package.js'
import { decodeKid, TrackContext } from '../../src/session/kid.js'
import { FabricError, MalformedError } from '../../src/errors.js'
import { MAX_GROUP_ID_BYTES } from '../../src/session/limits.js'
import { GROUP_ID_LENGTH, MAX_GROUP_ID, MAX_STREAM_NAME } from '../../src/wire/limits.js'
import { streamGroupId, streamKey } from '../../src/wire/stream-tag.js'
import { expectCode, expectCodeSync, hex, makeJoiner, peer, peerId, STREAM, wire, type Joiner } from './helpers.js'

const now = Date.now()

/** Tests not about admission run on an open stream of peer(0). */
const OPEN = { admission: 'open' } as const

/** peer(0)'s open stream `stream` (default STREAM). */
async function openGroup (options: { cipherSuite?: number, stream?: string } = {}): Promise<AvSession> {
  return await AvSession.create({ identity: peer(0), stream: options.stream ?? STREAM, admission: OPEN, nowMs: now, ...(options.cipherSuite === undefined ? {} : { cipherSuite: options.cipherSuite }) })
}

/** The creator plus `n` joiners added in one Commit; every session built from bytes only. */
async function groupOf (n: number, stream = STREAM): Promise<{ creator: AvSession, joined: AvSession[], add: PendingCommit }> {
  const creator = await openGroup({ stream })
  const expectation = { owner: peerId(0), stream }
  const joiners = await Promise.all(Array.from({ length: n }, async (_, i) => await makeJoiner(i + 1, now, { expect: expectation })))
  const add = await creator.prepareAdd(joiners.map(j => wire(j.keyPackage)), { nowMs: now })
  await creator.applyPending(add, now)
  const joined = await Promise.all(joiners.map(async j => await j.join(add.welcome!, now)))
  return { creator, joined, add }
}

async function baseKeys (sessions: AvSession[]): Promise<string[]> {
  return await Promise.all(sessions.map(async s => hex(await s.exportSFrameBaseKey())))
}

describe('AvSession: joining', () => {
  it('adds several joiners with ONE Commit and ONE Welcome, each joining from bytes only', async () => {
    const creator = await openGroup()
    expect(creator.epoch).toBe(0n)
    expect(creator.ownLeafIndex).toBe(0)
    const epoch0Key = hex(await creator.exportSFrameBaseKey())

    const joiners: Joiner[] = await Promise.all([1, 2, 3, 4].map(async i => await makeJoiner(i, now)))
    const add = await creator.prepareAdd(joiners.map(j => wire(j.keyPackage)), {
      nowMs: now,
      expectedIdentities: joiners.map(j => j.identity),
    })
    expect(add.fromEpoch).toBe(0n)
    expect(add.epoch).toBe(1n)
    expect(add.addedIdentities).toEqual([1, 2, 3, 4].map(peerId))
    expect(add.welcome).toBeInstanceOf(Uint8Array)

    const outcome = await creator.applyPending(add, now)
    expect(outcome).toEqual({ epoch: 1n, removedSelf: false, added: [1, 2, 3, 4].map(peerId), removed: [] })

    const joined = await Promise.all(joiners.map(async j => await j.join(add.welcome!, now)))
    const all = [creator, ...joined]
    for (const s of all) expect(s.epoch).toBe(1n)
    expect(new Set(all.map(s => s.ownLeafIndex)).size).toBe(5)
    const roster = creator.members()
    expect(roster.map(m => m.identity)).toEqual([0, 1, 2, 3, 4].map(peerId))
    for (const s of joined) {
      expect(s.members()).toEqual(roster)
      expect(s.identityOf(s.ownLeafIndex)).toBe(s.identity)
      expect(s.leafIndexOf(peerId(0))).toBe(0)
      expect(hex(s.groupId)).toBe(hex(creator.groupId))
    }
    expect(creator.identityOf(99)).toBeUndefined()
    expect(creator.leafIndexOf('nobody')).toBeUndefined()

    const keys = await baseKeys(all)
    expect(new Set(keys).size).toBe(1)
    expect(keys[0]).not.toBe(epoch0Key)
    expect(keys[0]).toHaveLength(32)
    // The key ring follows every epoch change.
    for (const s of all) expect(hex(s.keyRing.current()!.baseKey)).toBe(keys[0])
  })

  it('derives one base key per epoch, the same at every member and new at every epoch', async () => {
    const { creator, joined } = await groupOf(2)
    const seen = new Set<string>(await baseKeys([creator]))
    const more = await Promise.all([3, 4].map(async i => await makeJoiner(i, now)))
    const add = await creator.prepareAdd(more.map(j => wire(j.keyPackage)), { nowMs: now })
    await creator.applyPending(add, now + 100)
    for (const s of joined) {
      const o = await s.processCommit(wire(add.commit), now + 100)
      expect(o).toEqual({ epoch: 2n, removedSelf: false, added: [peerId(3), peerId(4)], removed: [] })
    }
    const late = await Promise.all(more.map(async j => await j.join(add.welcome!, now + 100)))
    const all = [creator, ...joined, ...late]
    const keys = await baseKeys(all)
    expect(new Set(keys).size).toBe(1)
    expect(seen.has(keys[0]!)).toBe(false)

    // Members that lived through epoch 1 still hold its key inside the window; joiners of epoch 2 never had it.
    const e1 = creator.keyRing.baseKeyForEpoch(1n, now + 200)
    expect(e1).toBeDefined()
    expect(hex(joined[0]!.keyRing.baseKeyForEpoch(1n, now + 200)!.baseKey)).toBe(hex(e1!.baseKey))
    expect(late[0]!.keyRing.baseKeyForEpoch(1n, now + 200)).toBeUndefined()
    expect(creator.keyRing.baseKeyForEpoch(1n, now + 100 + 10_000)).toBeUndefined()
  })

  it('lets a receiver find the key a sender KID names', async () => {
    const { creator, joined } = await groupOf(1)
    const bob = joined[0]!
    const kid = bob.ownKid(TrackContext.screen)
    expect(decodeKid(kid)).toEqual({ context: 2, senderLeafIndex: bob.ownLeafIndex, epochLowBits: 1 })
    const found = creator.baseKeyForKid(kid, now)
    expect(found?.epoch).toBe(1n)
    expect(found?.senderLeafIndex).toBe(bob.ownLeafIndex)
    expect(hex(found!.baseKey)).toBe(hex(await bob.exportSFrameBaseKey()))
  })

  it('runs on another available suite (3, ChaCha20-Poly1305) and refuses unknown ones', async () => {
    const creator = await openGroup({ cipherSuite: 3 })
    expect(creator.cipherSuite).toBe(3)
    const bob = await makeJoiner(1, now)
    const plain = await creator.prepareAdd([wire(bob.keyPackage)], { nowMs: now }).catch((e: unknown) => e)
    expect(plain).toMatchObject({ code: 'UNSUPPORTED_SUITE' })
    const carol = await generateKeyPackage(peer(2), { nowMs: now, cipherSuite: 3 })
    const add = await creator.prepareAdd([carol.keyPackage], { nowMs: now })
    await creator.applyPending(add, now)
    const s = await AvSession.joinFromWelcome({
      welcome: add.welcome!, keyPackage: carol.keyPackage, privateState: carol.privateState, identity: peerId(2), nowMs: now,
      expect: { owner: peerId(0), stream: STREAM },
    })
    expect(hex(await s.exportSFrameBaseKey())).toBe(hex(await creator.exportSFrameBaseKey()))
    await expectCode(AvSession.create({ identity: peer(0), stream: STREAM, admission: OPEN, nowMs: now, cipherSuite: 9999 }), 'UNSUPPORTED_SUITE')
    // Suites that sign with anything but Ed25519 cannot carry a fabric identity (2: P-256, 4: Ed448, 85: ML-DSA-87).
    for (const suite of [2, 4, 85]) {
      await expectCode(AvSession.create({ identity: peer(0), stream: STREAM, admission: OPEN, nowMs: now, cipherSuite: suite }), 'UNSUPPORTED_SUITE')
      await expectCode(generateKeyPackage(peer(1), { nowMs: now, cipherSuite: suite }), 'UNSUPPORTED_SUITE')
    }
  })

  it('derives the 32-byte group id from owner and stream name, within the wire bound CreateStream carries', async () => {
    expect(MAX_GROUP_ID_BYTES).toBe(MAX_GROUP_ID)
    const a = await openGroup()
    expect(a.groupId).toHaveLength(GROUP_ID_LENGTH)
    expect(GROUP_ID_LENGTH).toBeLessThanOrEqual(MAX_GROUP_ID)
    expect(hex(a.groupId)).toBe(hex(streamGroupId(streamKey(peerId(0), STREAM))))
    expect(a.owner).toBe(peerId(0))
    expect(a.stream).toBe(STREAM)
    expect(a.streamKey).toBe(`${peerId(0)}/${STREAM}`)
    // Another name under the same owner, or the same name under another owner, is another group.
    const b = await openGroup({ stream: 'room2' })
    const c = await AvSession.create({ identity: peer(1), stream: STREAM, admission: OPEN, nowMs: now })
    expect(new Set([a, b, c].map(s => hex(s.groupId))).size).toBe(3)
    expect(hex(c.groupId)).toBe(hex(streamGroupId(streamKey(peerId(1), STREAM))))
    // The longest name still gives 32 bytes; an over-long, empty or ill-formed one is refused.
    const longest = await openGroup({ stream: 'x'.repeat(MAX_STREAM_NAME) })
    expect(longest.groupId).toHaveLength(GROUP_ID_LENGTH)
    await expectCode(openGroup({ stream: 'x'.repeat(MAX_STREAM_NAME + 1) }), 'TOO_LARGE')
    await expectCode(openGroup({ stream: '' }), 'MALFORMED')
    await expectCode(openGroup({ stream: 'a/b' }), 'MALFORMED')
  })

  it('refuses bad Welcome inputs with typed errors', async () => {
    const creator = await openGroup()
    const bob = await generateKeyPackage(peer(1), { nowMs: now })
    const carol = await generateKeyPackage(peer(2), { nowMs: now })
    const add = await creator.prepareAdd([wire(bob.keyPackage)], { nowMs: now })
    const join = async (over: Partial<Parameters<typeof AvSession.joinFromWelcome>[0]>): Promise<AvSession> =>
      await AvSession.joinFromWelcome({
        welcome: add.welcome!, keyPackage: bob.keyPackage, privateState: bob.privateState, identity: peerId(1), nowMs: now,
        expect: { owner: peerId(0), stream: STREAM }, ...over,
      })
    await expectCode(join({ identity: peerId(2) }), 'IDENTITY_MISMATCH')
    await expectCode(join({ keyPackage: carol.keyPackage, privateState: carol.privateState, identity: peerId(2) }), 'NOT_FOUND')
    await expectCode(join({ welcome: Uint8Array.of(1, 2, 3) }), 'MALFORMED')
    await expectCode(join({ welcome: add.commit }), 'MALFORMED')
    // The wrong private keys cannot open the group secrets.
    await expectCode(join({ privateState: carol.privateState }), 'AUTH_FAILED')
    // The good inputs still work afterwards.
    await creator.applyPending(add, now)
    const s = await join({})
    expect(s.epoch).toBe(1n)
  })
})

describe('AvSession: removal', () => {
  it('a removed member sees removedSelf, cannot derive the new key, and is dead', async () => {
    const { creator, joined } = await groupOf(3)
    const [bob, carol, dave] = joined as [AvSession, AvSession, AvSession]
    const carolLastKey = hex(await carol.exportSFrameBaseKey())
    const carolLeaf = carol.ownLeafIndex

    const rm = await creator.prepareRemove([peerId(2)])
    expect(rm.welcome).toBeUndefined()
    expect(rm.removedIdentities).toEqual([peerId(2)])
    expect(inspectCommit(rm.commit).removedLeafIndices).toEqual([carolLeaf])
    await creator.applyPending(rm, now)
    for (const s of [bob, dave]) {
      expect(await s.processCommit(wire(rm.commit), now)).toEqual({ epoch: 2n, removedSelf: false, added: [], removed: [peerId(2)] })
      expect(s.leafIndexOf(peerId(2))).toBeUndefined()
    }
    const outcome = await carol.processCommit(wire(rm.commit), now)
    expect(outcome).toEqual({ epoch: 2n, removedSelf: true, added: [], removed: [peerId(2)] })
    expect(carol.removed).toBe(true)

    const newKeys = await baseKeys([creator, bob, dave])
    expect(new Set(newKeys).size).toBe(1)
    expect(newKeys[0]).not.toBe(carolLastKey)
    expect(carol.epoch).toBe(1n)
    expect(carol.keyRing.size).toBe(0)

    await expectCode(carol.exportSFrameBaseKey(), 'REMOVED')
    await expectCode(carol.processCommit(wire(rm.commit), now), 'REMOVED')
    await expectCode(carol.prepareRemove([peerId(1)]), 'REMOVED')
    await expectCode(carol.prepareAdd([new Uint8Array(4)], { nowMs: now }), 'REMOVED')
    expectCodeSync(() => carol.members(), 'REMOVED')
    expectCodeSync(() => carol.ownKid(0), 'REMOVED')

    // The group goes on without her.
    const eve = await makeJoiner(5, now)
    const add = await creator.prepareAdd([wire(eve.keyPackage)], { nowMs: now })
    await creator.applyPending(add, now)
    await bob.processCommit(wire(add.commit), now)
    await dave.processCommit(wire(add.commit), now)
    const eveSession = await eve.join(add.welcome!, now)
    expect(new Set(await baseKeys([creator, bob, dave, eveSession])).size).toBe(1)
  })

  it('refuses removals of non-members and of oneself', async () => {
    const { creator } = await groupOf(1)
    await expectCode(creator.prepareRemove(['nobody']), 'NOT_MEMBER')
    await expectCode(creator.prepareRemove([peerId(0)]), 'INVALID_STATE')
    await expectCode(creator.prepareRemove([]), 'INVALID_STATE')
    await expectCode(creator.prepareRemove([peerId(1), peerId(1)]), 'INVALID_STATE')
    expect(creator.pending).toBeUndefined()
  })
})

describe('AvSession: pending Commits and stale epochs', () => {
  it('changes nothing until applyPending, and allows one pending Commit at a time', async () => {
    const { creator, joined } = await groupOf(1)
    const keyBefore = hex(await creator.exportSFrameBaseKey())
    const rosterBefore = creator.members()
    const carol = await makeJoiner(2, now)
    const p = await creator.prepareAdd([wire(carol.keyPackage)], { nowMs: now })
    expect(creator.pending).toBe(p)
    expect(creator.epoch).toBe(1n)
    expect(creator.members()).toEqual(rosterBefore)
    expect(hex(await creator.exportSFrameBaseKey())).toBe(keyBefore)
    expect(creator.keyRing.currentEpoch).toBe(1n)
    await expectCode(creator.prepareRemove([peerId(1)]), 'INVALID_STATE')
    await expectCode(creator.prepareAdd([wire(carol.keyPackage)], { nowMs: now }), 'INVALID_STATE')

    creator.discardPending(p)
    expect(creator.pending).toBeUndefined()
    await expectCode(creator.applyPending(p, now), 'INVALID_STATE')
    expect(hex(await creator.exportSFrameBaseKey())).toBe(keyBefore)

    // The state survived the discard: a fresh Commit works for every member.
    const q = await creator.prepareAdd([wire(carol.keyPackage)], { nowMs: now })
    await creator.applyPending(q, now)
    await joined[0]!.processCommit(wire(q.commit), now)
    const carolSession = await carol.join(q.welcome!, now)
    expect(new Set(await baseKeys([creator, joined[0]!, carolSession])).size).toBe(1)
  })

  it('applies its own pending Commit when the group service echoes it back', async () => {
    const { creator } = await groupOf(1)
    const p = await creator.prepareRemove([peerId(1)])
    const o = await creator.processCommit(wire(p.commit), now)
    expect(o).toEqual({ epoch: 2n, removedSelf: false, added: [], removed: [peerId(1)] })
    expect(creator.pending).toBeUndefined()
  })

  it('refuses stale and competing Commits with STALE_EPOCH; the loser\'s pending Commit gives way to the winner, and it retries', async () => {
    const { creator, joined } = await groupOf(3)
    const [bob, carol, dave] = joined as [AvSession, AvSession, AvSession]
    // Two members commit in epoch 1; the group service accepts the creator's.
    const winner = await creator.prepareRemove([peerId(3)])
    const loser = await bob.prepareRemove([peerId(2)])
    expect(inspectCommit(winner.commit).epoch).toBe(1n)
    expect(inspectCommit(loser.commit).epoch).toBe(1n)
    await creator.applyPending(winner, now)
    await carol.processCommit(wire(winner.commit), now)
    await dave.processCommit(wire(winner.commit), now)

    // The losing Commit, created in epoch 1, is now stale everywhere.
    await expectCode(creator.processCommit(wire(loser.commit), now), 'STALE_EPOCH')
    await expectCode(carol.processCommit(wire(loser.commit), now), 'STALE_EPOCH')
    // Replaying the accepted Commit is stale too.
    await expectCode(carol.processCommit(wire(winner.commit), now), 'STALE_EPOCH')

    // The winner, delivered to the loser, tells it its own Commit lost the
    // epoch: the pending one is discarded and the winner processed.
    expect((await bob.processCommit(wire(winner.commit), now)).epoch).toBe(2n)
    expect(bob.pending).toBeUndefined()
    expect(() => { bob.discardPending(loser) }).toThrow(/no Commit is pending/)

    // Retry in the new epoch.
    const retry = await bob.prepareRemove([peerId(2)])
    expect(retry.fromEpoch).toBe(2n)
    await bob.applyPending(retry, now)
    expect((await creator.processCommit(wire(retry.commit), now)).removed).toEqual([peerId(2)])
    expect((await carol.processCommit(wire(retry.commit), now)).removedSelf).toBe(true)
    expect(new Set(await baseKeys([creator, bob])).size).toBe(1)
  })

  it('refuses a Commit from a future epoch with STALE_EPOCH', async () => {
    const { creator, joined } = await groupOf(2)
    const [bob, carol] = joined as [AvSession, AvSession]
    const c1 = await creator.prepareRemove([peerId(2)])
    await creator.applyPending(c1, now)
    await bob.processCommit(wire(c1.commit), now)
    const dave = await makeJoiner(4, now)
    const c2 = await creator.prepareAdd([wire(dave.keyPackage)], { nowMs: now })
    await creator.applyPending(c2, now)
    // carol missed c1: c2 was made in epoch 2, she is in epoch 1.
    await expectCode(carol.processCommit(wire(c2.commit), now), 'STALE_EPOCH')
    expect(carol.epoch).toBe(1n)
  })
})

describe('AvSession: KeyPackage checks in prepareAdd', () => {
  it('refuses members twice, wrong identities, expired, foreign-suite and garbage KeyPackages, leaving nothing pending', async () => {
    const { creator } = await groupOf(1)
    const again = await generateKeyPackage(peer(1), { nowMs: now })
    await expectCode(creator.prepareAdd([again.keyPackage], { nowMs: now }), 'ALREADY_EXISTS')
    const carol = await generateKeyPackage(peer(2), { nowMs: now })
    await expectCode(creator.prepareAdd([carol.keyPackage, carol.keyPackage], { nowMs: now }), 'ALREADY_EXISTS')
    await expectCode(creator.prepareAdd([carol.keyPackage], { nowMs: now, expectedIdentities: [peerId(3)] }), 'IDENTITY_MISMATCH')
    await expectCode(creator.prepareAdd([carol.keyPackage], { nowMs: now + 365 * 24 * 3600 * 1000 }), 'MALFORMED')
    const chacha = await generateKeyPackage(peer(3), { nowMs: now, cipherSuite: 3 })
    await expectCode(creator.prepareAdd([chacha.keyPackage], { nowMs: now }), 'UNSUPPORTED_SUITE')
    await expectCode(creator.prepareAdd([Uint8Array.of(0, 1, 0, 5, 9)], { nowMs: now }), 'MALFORMED')
    await expectCode(creator.prepareAdd([new Uint8Array(70_000)], { nowMs: now }), 'TOO_LARGE')
    await expectCode(creator.prepareAdd([], { nowMs: now }), 'INVALID_STATE')
    expect(creator.pending).toBeUndefined()
    const ok = await creator.prepareAdd([carol.keyPackage], { nowMs: now, expectedIdentities: [peerId(2)] })
    expect(ok.addedIdentities).toEqual([peerId(2)])
  })
})

describe('AvSession: processCommit input checks', () => {
  it('refuses garbage, Commits of another group, non-Commits and altered Commits', async () => {
    const { creator, joined } = await groupOf(1)
    const bob = joined[0]!
    await expectCode(bob.processCommit(Uint8Array.of(1, 2, 3), now), 'MALFORMED')
    await expectCode(bob.processCommit(new Uint8Array(1024 * 1024 + 1), now), 'TOO_LARGE')

    // Another stream of the same owner is another group (its id derives from the name).
    const other = await groupOf(1, 'other-room')
    const foreign = await other.creator.prepareRemove([peerId(1)])
    await expectCode(bob.processCommit(wire(foreign.commit), now), 'MALFORMED')

    const carol = await generateKeyPackage(peer(2), { nowMs: now })
    await expectCode(bob.processCommit(carol.keyPackage, now), 'MALFORMED')

    const p = await creator.prepareAdd([carol.keyPackage], { nowMs: now })
    await expectCode(bob.processCommit(wire(p.welcome!), now), 'MALFORMED')
    const altered = wire(p.commit)
    altered[altered.length - 40]! ^= 0x01
    await expect(bob.processCommit(altered, now)).rejects.toSatisfy((e: unknown) => e instanceof FabricError && ['AUTH_FAILED', 'MALFORMED'].includes(e.code))
    expect(bob.epoch).toBe(1n)
    await creator.applyPending(p, now)
    expect((await bob.processCommit(wire(p.commit), now)).added).toEqual([peerId(2)])
  })
})

describe('AvSession: altered Commits', () => {
  it('refuses any single-byte change of a Commit with a typed error and keeps its state', async () => {
    const { creator, joined } = await groupOf(1)
    const bob = joined[0]!
    const carol = await generateKeyPackage(peer(2), { nowMs: now })
    const p = await creator.prepareAdd([carol.keyPackage], { nowMs: now })
    const keyBefore = hex(await bob.exportSFrameBaseKey())
    await fc.assert(fc.asyncProperty(
      fc.nat({ max: p.commit.length - 1 }),
      fc.integer({ min: 1, max: 255 }),
      async (at, x) => {
        const bytes = wire(p.commit)
        bytes[at]! ^= x
        await expect(bob.processCommit(bytes, now)).rejects.toSatisfy((e: unknown) =>
          e instanceof FabricError && ['MALFORMED', 'AUTH_FAILED', 'STALE_EPOCH', 'INVALID_STATE'].includes(e.code))
      },
    ), { numRuns: 60 })
    expect(bob.epoch).toBe(1n)
    expect(hex(await bob.exportSFrameBaseKey())).toBe(keyBefore)
    await creator.applyPending(p, now)
    expect((await bob.processCommit(wire(p.commit), now)).epoch).toBe(2n)
  })
})

describe('inspectCommit', () => {
  it('reads group id, epoch, sender and roster changes without group state', async () => {
    const creator = await openGroup({ stream: 'stream-1' })
    const js = await Promise.all([1, 2].map(async i => await makeJoiner(i, now)))
    const add = await creator.prepareAdd(js.map(j => wire(j.keyPackage)), { nowMs: now })
    const info = inspectCommit(add.commit)
    expect(hex(info.groupId)).toBe(hex(streamGroupId(streamKey(peerId(0), 'stream-1'))))
    expect(info.epoch).toBe(0n)
    expect(info.senderType).toBe('member')
    expect(info.senderLeafIndex).toBe(0)
    expect(info.contentType).toBe('commit')
    expect(info.addedIdentities).toEqual([peerId(1), peerId(2)])
    expect(info.removedLeafIndices).toEqual([])
    expect(info.proposalRefs).toBe(0)
    await creator.applyPending(add, now)
    const rm = await creator.prepareRemove([peerId(2)])
    expect(inspectCommit(rm.commit)).toMatchObject({ epoch: 1n, removedLeafIndices: [2], addedIdentities: [] })
  })

  it('refuses Welcomes, KeyPackages and garbage with MalformedError or TooLargeError only', async () => {
    const creator = await openGroup()
    const bob = await generateKeyPackage(peer(1), { nowMs: now })
    const add = await creator.prepareAdd([bob.keyPackage], { nowMs: now })
    expect(() => inspectCommit(add.welcome!)).toThrow(MalformedError)
    // A PublicMessage proposal is not a Commit: the group service must not order it as one.
    const raw = await RawMember.createGroup(peer(7), 'proposals', { admission: 'open' }, now)
    const proposal = await createProposal(raw.state, true, { proposalType: 'remove', remove: { removed: 0 } }, raw.cs)
    expect(() => inspectCommit(encodeMlsMessage(proposal.message))).toThrow(/expected a Commit, got proposal/)
    expect(() => inspectCommit(bob.keyPackage)).toThrow(MalformedError)
    expectCodeSync(() => inspectCommit(new Uint8Array(1024 * 1024 + 1)), 'TOO_LARGE')
    fc.assert(fc.property(
      fc.oneof(
        fc.uint8Array({ maxLength: 400 }),
        // Behind an MLSMessage PublicMessage header (version mls10, wire format 1).
        fc.uint8Array({ maxLength: 400 }).map(b => Uint8Array.of(0, 1, 0, 1, ...b)),
        fc.nat({ max: add.commit.length - 1 }).map(n => add.commit.subarray(0, n)),
      ),
      bytes => {
        try {
          inspectCommit(bytes)
        } catch (err) {
          expect(err).toBeInstanceOf(MalformedError)
        }
      },
    ), { numRuns: 300 })
  })
})
