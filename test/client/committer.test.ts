import { afterEach, describe, expect, it, vi } from 'vitest'
import { Committer } from '../../src/client/committer.js'
import { FabricError } from '../../src/errors.js'
import { AvSession, type PendingCommit } from '../../src/session/av-session.js'
import { copy, makeJoiner, peer, type Joiner } from './helpers.js'
import { sleep, within } from '../timing.js'
import { hex } from '../crypto/helpers.js'


interface Harness {
  committer: Committer
  session: AvSession
  fetches: string[]
  submits: PendingCommit[]
  applied: PendingCommit[]
  failed: Array<{ identities: string[], err: Error }>
}

interface HarnessOptions {
  session: AvSession
  joiners: Joiner[]
  /** Identities whose KeyPackage fetch fails. */
  missing?: string[]
  /** Decides each submit (n counts from 0); default: accept. */
  submit?: (p: PendingCommit, n: number) => Promise<void>
  applied?: (p: PendingCommit) => Promise<void>
  batchWindowMs?: number
}

function harness (o: HarnessOptions): Harness {
  const h: Harness = { committer: undefined as unknown as Committer, session: o.session, fetches: [], submits: [], applied: [], failed: [] }
  h.committer = new Committer({
    session: o.session,
    fetchKeyPackage: async (identity) => {
      h.fetches.push(identity)
      if (o.missing?.includes(identity)) throw new FabricError('NO_KEY_PACKAGE', `no KeyPackage for ${identity}`)
      const j = o.joiners.find((x) => x.identity === identity)
      if (j === undefined) throw new FabricError('NO_KEY_PACKAGE', `unknown ${identity}`)
      return copy(j.keyPackage)
    },
    submit: async (p) => {
      const n = h.submits.length
      h.submits.push(p)
      await o.submit?.(p, n)
    },
    applied: async (p) => {
      h.applied.push(p)
      await o.applied?.(p)
    },
    failed: (identities, err) => { h.failed.push({ identities, err }) },
  }, o.batchWindowMs ?? 30)
  return h
}

const committers: Committer[] = []
afterEach(() => { for (const c of committers.splice(0)) c.stop() })

function track (h: Harness): Harness {
  committers.push(h.committer)
  return h
}

describe('Committer with real MLS sessions', () => {
  it('batches join requests arriving within the window into ONE Commit adding them all', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const joiners = await Promise.all([1, 2, 3].map(async (i) => await makeJoiner(peer(i))))
    const prepareAdd = vi.spyOn(session, 'prepareAdd')
    const h = track(harness({ session, joiners, batchWindowMs: 150 }))

    h.committer.requestJoin(peer(1))
    await sleep(10)
    h.committer.requestJoin(peer(2))
    h.committer.requestJoin(peer(1)) // a repeated request joins nothing twice
    await sleep(10)
    h.committer.requestJoin(peer(3))
    await within(h.committer.idle(), 10_000, 'committer idle')

    expect(h.submits).toHaveLength(1)
    expect(prepareAdd).toHaveBeenCalledTimes(1)
    expect(prepareAdd.mock.calls[0][0]).toHaveLength(3)
    const commit = h.submits[0]
    expect(commit.addedIdentities).toEqual([peer(1), peer(2), peer(3)])
    expect(commit.fromEpoch).toBe(0n)
    expect(h.applied).toEqual([commit])
    expect(h.failed).toEqual([])
    expect(session.epoch).toBe(1n)
    expect(session.pending).toBeUndefined()
    expect(h.committer.commits).toBe(1)
    expect(h.committer.added).toBe(3)

    // One Welcome serves every joiner, and they all share the new epoch's key.
    const joined = await Promise.all(joiners.map(async (j) => await j.join(commit.welcome!)))
    const keys = await Promise.all([session, ...joined].map(async (s) => hex(await s.exportSFrameBaseKey())))
    expect(new Set(keys).size).toBe(1)
  })

  it('requests in different windows make separate Commits, and members already in are skipped', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const joiners = await Promise.all([1, 2].map(async (i) => await makeJoiner(peer(i))))
    const h = track(harness({ session, joiners }))
    h.committer.requestJoin(peer(1))
    await within(h.committer.idle(), 10_000, 'first commit')
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    await within(h.committer.idle(), 10_000, 'second commit')
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1)], [peer(2)]])
    expect(h.fetches).toEqual([peer(1), peer(2)])
    expect(session.epoch).toBe(2n)
  })

  it('discards a Commit refused as STALE_EPOCH and commits the same joins again', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const joiners = await Promise.all([1, 2].map(async (i) => await makeJoiner(peer(i))))
    const seenAtSubmit: Array<{ pendingIsThis: boolean, epoch: bigint }> = []
    const h = track(harness({
      session,
      joiners,
      submit: async (p, n) => {
        seenAtSubmit.push({ pendingIsThis: session.pending === p, epoch: session.epoch })
        if (n === 0) throw new FabricError('STALE_EPOCH', 'another Commit won epoch 0')
      },
    }))
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    await within(h.committer.idle(), 10_000, 'committer idle')

    expect(h.submits).toHaveLength(2)
    expect(h.submits[0]).not.toBe(h.submits[1])
    expect(seenAtSubmit).toEqual([{ pendingIsThis: true, epoch: 0n }, { pendingIsThis: true, epoch: 0n }])
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1), peer(2)], [peer(1), peer(2)]])
    expect(h.failed).toEqual([])
    expect(h.applied).toEqual([h.submits[1]])
    expect(session.epoch).toBe(1n)
    expect(session.pending).toBeUndefined()
    expect(h.committer.commits).toBe(1)
    // The accepted Commit's Welcome works.
    const joined = await joiners[0].join(h.submits[1].welcome!)
    expect(hex(await joined.exportSFrameBaseKey())).toBe(hex(await session.exportSFrameBaseKey()))
  })

  it('after losing an epoch to another member\'s Commit, catches up and commits on top of it', async () => {
    const alice = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const bobJ = await makeJoiner(peer(1))
    const addBob = await alice.prepareAdd([bobJ.keyPackage], { nowMs: Date.now() })
    await alice.applyPending(addBob, Date.now())
    const bob = await bobJ.join(addBob.welcome!)
    const carolJ = await makeJoiner(peer(2))
    const daveJ = await makeJoiner(peer(3))

    // Bob's Commit (adding Dave) reaches the group service first.
    const bobsCommit = await bob.prepareAdd([daveJ.keyPackage], { nowMs: Date.now() })
    await bob.applyPending(bobsCommit, Date.now())
    let caughtUp: Promise<unknown> | undefined
    const h = track(harness({
      session: alice,
      joiners: [carolJ],
      submit: async (p, n) => {
        if (n === 0) {
          // Refused; the winning Commit is delivered right after.
          setTimeout(() => { caughtUp = alice.processCommit(copy(bobsCommit.commit), Date.now()) }, 0)
          throw new FabricError('STALE_EPOCH', `epoch ${p.fromEpoch} already has a Commit`)
        }
      },
    }))
    h.committer.requestJoin(peer(2))
    await within(h.committer.idle(), 10_000, 'committer idle')
    await caughtUp

    expect(h.submits.map((p) => p.fromEpoch)).toEqual([1n, 2n])
    expect(h.submits[1].addedIdentities).toEqual([peer(2)])
    expect(alice.epoch).toBe(3n)
    expect(alice.members().map((m) => m.identity).sort()).toEqual([peer(0), peer(1), peer(2), peer(3)].sort())

    // Everyone converges on epoch 3.
    await bob.processCommit(copy(h.submits[1].commit), Date.now())
    const dave = await daveJ.join(bobsCommit.welcome!)
    await dave.processCommit(copy(h.submits[1].commit), Date.now())
    const carol = await carolJ.join(h.submits[1].welcome!)
    const keys = await Promise.all([alice, bob, carol, dave].map(async (s) => hex(await s.exportSFrameBaseKey())))
    expect(new Set(keys).size).toBe(1)
  })

  it('a failed KeyPackage fetch for one identity does not hold up the others', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const joiners = await Promise.all([1, 3].map(async (i) => await makeJoiner(peer(i))))
    const h = track(harness({ session, joiners, missing: [peer(2)] }))
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    h.committer.requestJoin(peer(3))
    await within(h.committer.idle(), 10_000, 'committer idle')

    expect(h.fetches).toEqual([peer(1), peer(2), peer(3)])
    expect(h.submits).toHaveLength(1)
    expect(h.submits[0].addedIdentities).toEqual([peer(1), peer(3)])
    expect(h.failed).toHaveLength(1)
    expect(h.failed[0].identities).toEqual([peer(2)])
    expect((h.failed[0].err as FabricError).code).toBe('NO_KEY_PACKAGE')
    expect(session.epoch).toBe(1n)
  })

  it('makes no Commit when no KeyPackage could be fetched', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const h = track(harness({ session, joiners: [], missing: [peer(1), peer(2)] }))
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits).toEqual([])
    expect(h.failed.map((f) => f.identities)).toEqual([[peer(1)], [peer(2)]])
    expect(session.epoch).toBe(0n)
  })

  it('reports a Commit refused for another reason, discards it and does not retry', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const joiners = [await makeJoiner(peer(1))]
    const h = track(harness({ session, joiners, submit: async () => { throw new FabricError('NOT_COMMITTER', 'not yours') } }))
    h.committer.requestJoin(peer(1))
    await within(h.committer.idle(), 10_000, 'committer idle')
    await sleep(100)
    expect(h.submits).toHaveLength(1)
    expect(h.failed).toHaveLength(1)
    expect(h.failed[0].identities).toEqual([peer(1)])
    expect((h.failed[0].err as FabricError).code).toBe('NOT_COMMITTER')
    expect(session.pending).toBeUndefined()
    expect(session.epoch).toBe(0n)
    expect(h.applied).toEqual([])
  })

  it('commits removals before joins queued in the same window', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const joiners = await Promise.all([1, 2].map(async (i) => await makeJoiner(peer(i))))
    const h = track(harness({ session, joiners }))
    h.committer.requestJoin(peer(1))
    await within(h.committer.idle(), 10_000, 'first commit')
    h.committer.requestJoin(peer(2))
    h.committer.requestRemoval(peer(1))
    h.committer.requestRemoval(peer(9)) // not a member: ignored
    await within(h.committer.idle(), 10_000, 'second window')
    expect(h.submits.map((p) => [p.removedIdentities, p.addedIdentities])).toEqual([
      [[], [peer(1)]],
      [[peer(1)], []],
      [[], [peer(2)]],
    ])
    expect(session.members().map((m) => m.identity)).toEqual([peer(0), peer(2)])
    expect(h.failed).toEqual([])
  })

  it('keeps committing after the app\'s applied callback throws', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const joiners = await Promise.all([1, 2].map(async (i) => await makeJoiner(peer(i))))
    const h = track(harness({
      session,
      joiners,
      applied: async (p) => { if (p.addedIdentities.includes(peer(1))) throw new Error('listener bug') },
    }))
    h.committer.requestJoin(peer(1))
    await within(h.committer.idle(), 10_000, 'first commit')
    expect(session.epoch).toBe(1n)
    h.committer.requestJoin(peer(2))
    await within(h.committer.idle(), 10_000, 'second commit')
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1)], [peer(2)]])
    expect(session.epoch).toBe(2n)
    expect(h.committer.commits).toBe(2)
    // The throw is reported, not swallowed.
    expect(h.failed.map((f) => [f.identities, f.err.message])).toEqual([[[], 'listener bug']])
  })

  it('stop() cancels the pending batch', async () => {
    const session = await AvSession.create({ identity: peer(0), nowMs: Date.now() })
    const h = track(harness({ session, joiners: [await makeJoiner(peer(1))] }))
    h.committer.requestJoin(peer(1))
    h.committer.stop()
    await sleep(100)
    expect(h.fetches).toEqual([])
    expect(h.submits).toEqual([])
  })
})
