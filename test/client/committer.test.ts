import { afterEach, describe, expect, it, vi } from 'vitest'
import { Committer, DEPARTURE_BATCH_MS, MAX_PENDING_KNOCKS, PARALLEL_FETCHES, type KnockRequest } from '../../src/client/committer.js'
import { DEFAULT_DIRECTORY_MAX_INBOUND_STREAMS } from '../../src/node/directory-service.js'
import { FabricError } from '../../src/errors.js'
import {
  parseInvitationToken, readAdmissionExtensions, readLedger, redeemInvitation, type AdmissionRules, type LedgerState,
} from '../../src/session/admission/index.js'
import { AvSession, type PendingCommit } from '../../src/session/av-session.js'
import { decodeWholeMlsMessage } from '../../src/session/mls-message.js'
import { copy, createOwner, makeJoiner, peer, type Joiner } from './helpers.js'
import { sleep, until, within } from '../timing.js'
import { hex } from '../crypto/helpers.js'

interface Harness {
  committer: Committer
  session: AvSession
  fetches: string[]
  submits: PendingCommit[]
  applied: PendingCommit[]
  failed: Array<{ identities: string[], err: Error }>
  denies: Array<{ identity: string, reason: string }>
  knocks: KnockRequest[]
}

interface HarnessOptions {
  session: AvSession
  joiners: Joiner[]
  /** Identities whose KeyPackage fetch fails. */
  missing?: string[]
  /** Decides each submit (n counts from 0); default: accept. */
  submit?: (p: PendingCommit, n: number) => Promise<void>
  applied?: (p: PendingCommit) => Promise<void>
  /** Runs before a fetched KeyPackage is handed over (to hold a fetch). */
  fetching?: (identity: string) => Promise<void>
  /** The app's knock listener; default: none (host.knock returns false). */
  knock?: (request: KnockRequest) => boolean
  batchWindowMs?: number
}

function harness (o: HarnessOptions): Harness {
  const h: Harness = { committer: undefined as unknown as Committer, session: o.session, fetches: [], submits: [], applied: [], failed: [], denies: [], knocks: [] }
  h.committer = new Committer({
    session: o.session,
    fetchKeyPackage: async (identity) => {
      h.fetches.push(identity)
      if (o.missing?.includes(identity)) throw new FabricError('NO_KEY_PACKAGE', `no KeyPackage for ${identity}`)
      const j = o.joiners.find((x) => x.identity === identity)
      if (j === undefined) throw new FabricError('NO_KEY_PACKAGE', `unknown ${identity}`)
      await o.fetching?.(identity)
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
    deny: async (identity, reason) => { h.denies.push({ identity, reason }) },
    knock: (request) => {
      h.knocks.push(request)
      return o.knock?.(request) ?? false
    },
    now: Date.now,
  }, o.batchWindowMs ?? 30)
  return h
}

const committers: Committer[] = []
afterEach(() => { for (const c of committers.splice(0)) c.stop() })

function track (h: Harness): Harness {
  committers.push(h.committer)
  return h
}

/** The admission ledger a Commit installs, read from its GroupContextExtensions proposal; undefined when it changes none. */
function ledgerOf (commit: Uint8Array): LedgerState | undefined {
  const msg = decodeWholeMlsMessage('Commit', commit)
  if (msg.wireformat !== 'mls_public_message') throw new Error('not a PublicMessage')
  const content = msg.publicMessage.content
  if (content.contentType !== 'commit') throw new Error('not a Commit')
  for (const p of content.commit.proposals) {
    if (p.proposalOrRefType === 'proposal' && p.proposal.proposalType === 'group_context_extensions') {
      return readLedger(readAdmissionExtensions(p.proposal.groupContextExtensions.extensions).ledger)
    }
  }
  return undefined
}

/** A committer of member 0's stream under `rules`, with the joiners `ids` ready to be fetched. */
async function closedStream (rules: AdmissionRules, ids: number[], o: Partial<HarnessOptions> = {}): Promise<{ h: Harness, joiners: Joiner[] }> {
  const session = await createOwner(rules)
  const joiners = await Promise.all(ids.map(async (i) => await makeJoiner(i)))
  return { h: track(harness({ session, joiners, ...o })), joiners }
}

describe('Committer with real MLS sessions', () => {
  it('fetches over no more directory streams at once than a node accepts per connection by default', () => {
    // The client cannot import the node's bound (docs/architecture.md section 2); this pins the two together.
    expect(PARALLEL_FETCHES).toBeLessThanOrEqual(DEFAULT_DIRECTORY_MAX_INBOUND_STREAMS)
  })

  it('batches join requests arriving within the window into ONE Commit adding them all', async () => {
    const session = await createOwner()
    const joiners = await Promise.all([1, 2, 3].map(async (i) => await makeJoiner(i)))
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
    expect(h.denies).toEqual([])
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
    const session = await createOwner()
    const joiners = await Promise.all([1, 2].map(async (i) => await makeJoiner(i)))
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
    const session = await createOwner()
    const joiners = await Promise.all([1, 2].map(async (i) => await makeJoiner(i)))
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
    const alice = await createOwner()
    const bobJ = await makeJoiner(1)
    const addBob = await alice.prepareAdd([bobJ.keyPackage], { nowMs: Date.now() })
    await alice.applyPending(addBob, Date.now())
    const bob = await bobJ.join(addBob.welcome!)
    const carolJ = await makeJoiner(2)
    const daveJ = await makeJoiner(3)

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
    const session = await createOwner()
    const joiners = await Promise.all([1, 3].map(async (i) => await makeJoiner(i)))
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
    const session = await createOwner()
    const h = track(harness({ session, joiners: [], missing: [peer(1), peer(2)] }))
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits).toEqual([])
    expect(h.failed.map((f) => f.identities)).toEqual([[peer(1)], [peer(2)]])
    expect(session.epoch).toBe(0n)
  })

  it('reports a Commit refused for another reason, discards it and does not retry', async () => {
    const session = await createOwner()
    const joiners = [await makeJoiner(1)]
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
    const session = await createOwner()
    const joiners = await Promise.all([1, 2].map(async (i) => await makeJoiner(i)))
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

  it('departures close together share one Commit (they wait DEPARTURE_BATCH_MS for each other)', async () => {
    const session = await createOwner()
    const joiners = await Promise.all([1, 2, 3].map(async (i) => await makeJoiner(i)))
    const h = track(harness({ session, joiners, batchWindowMs: 0 }))
    for (const i of [1, 2, 3]) h.committer.requestJoin(peer(i))
    await within(h.committer.idle(), 10_000, 'joins')
    // The clock is the test's: 0, 100 and 190 ms fall in one window, whatever the machine's load.
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] })
    try {
      h.committer.requestRemoval(peer(1))
      vi.advanceTimersByTime(100)
      h.committer.requestRemoval(peer(2))
      vi.advanceTimersByTime(90)
      h.committer.requestRemoval(peer(3))
      expect(h.submits).toHaveLength(1)
      vi.advanceTimersByTime(DEPARTURE_BATCH_MS)
    } finally {
      vi.useRealTimers()
    }
    await within(h.committer.idle(), 10_000, 'departures')
    expect(h.submits.slice(1).map((p) => p.removedIdentities)).toEqual([[peer(1), peer(2), peer(3)]])
    expect(session.members().map((m) => m.identity)).toEqual([peer(0)])
  })

  it('keeps committing after the app\'s applied callback throws', async () => {
    const session = await createOwner()
    const joiners = await Promise.all([1, 2].map(async (i) => await makeJoiner(i)))
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

  it('stop() cancels the pending batch, and later requests are ignored', async () => {
    const session = await createOwner()
    const h = track(harness({ session, joiners: [await makeJoiner(1), await makeJoiner(2)] }))
    h.committer.requestJoin(peer(1))
    h.committer.stop()
    h.committer.requestJoin(peer(2))
    // Whoever waits for the queue to settle is not left waiting for ever.
    await within(h.committer.idle(), 2_000, 'idle after stop')
    await sleep(100)
    expect(h.fetches).toEqual([])
    expect(h.submits).toEqual([])
    expect(h.denies).toEqual([])
  })
})

describe('Committer deciding joins by the admission policy', () => {
  it('denies a join the policy does not admit at once, with a reason, and never fetches its KeyPackage', async () => {
    const { h, joiners } = await closedStream({}, [1])
    h.committer.requestJoin(peer(1))
    // At once: before any window or fetch.
    expect(h.denies).toEqual([{ identity: peer(1), reason: expect.stringContaining(peer(1)) }])
    expect(h.denies[0].reason.length).toBeGreaterThan(0)
    expect(h.knocks).toEqual([]) // the policy has no knock
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.fetches).toEqual([])
    expect(h.submits).toEqual([])
    expect(h.committer.denied).toBe(1)
    expect(h.session.epoch).toBe(0n)
    expect(joiners).toHaveLength(1)
  })

  it('commits an allow-listed joiner, and denies the others of the same batch', async () => {
    const { h, joiners } = await closedStream({ allow: [peer(1)] }, [1, 2])
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1)]])
    expect(h.fetches).toEqual([peer(1)])
    expect(h.denies.map((d) => d.identity)).toEqual([peer(2)])
    // Admitted by name: no evidence, so the Commit leaves the ledger alone.
    expect(ledgerOf(h.submits[0].commit)).toBeUndefined()
    expect((await joiners[0].join(h.submits[0].welcome!)).epoch).toBe(1n)
  })

  it('commits a joiner redeeming an invitation, with the redemption as evidence in the ledger', async () => {
    const { h, joiners } = await closedStream({}, [1])
    const token = h.session.createInvitation({ nowMs: Date.now(), maxUses: 1 })
    // The joiner redeems the token it was given (text only) for its own identity.
    const redemption = redeemInvitation(parseInvitationToken(token.text), peer(1))
    h.committer.requestJoin(peer(1), redemption)
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.denies).toEqual([])
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1)]])
    const ledger = ledgerOf(h.submits[0].commit)!
    expect(ledger).toBeDefined()
    expect([...ledger.admitted.keys()]).toEqual([peer(1)])
    expect(ledger.admitted.get(peer(1))?.evidence?.joiner).toBe(peer(1))
    expect(ledger.uses.get(Buffer.from(token.invitation.id).toString('hex'))).toBe(1)
    // The joiner accepts the group: every member, itself included, has standing.
    const joined = await joiners[0].join(h.submits[0].welcome!)
    expect(hex(await joined.exportSFrameBaseKey())).toBe(hex(await h.session.exportSFrameBaseKey()))
  })

  it('denies an invitation for another identity or a forged redemption', async () => {
    const { h } = await closedStream({}, [1, 2])
    const forMember2 = h.session.createInvitation({ nowMs: Date.now(), invitee: peer(2) })
    const stolen = redeemInvitation(parseInvitationToken(forMember2.text), peer(2))
    // Member 1 presents member 2's redemption as its own.
    h.committer.requestJoin(peer(1), stolen)
    // Garbage that is no Redemption at all.
    h.committer.requestJoin(peer(3), new Uint8Array([1, 2, 3]))
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.denies.map((d) => d.identity)).toEqual([peer(1), peer(3)])
    expect(h.fetches).toEqual([])
    expect(h.submits).toEqual([])
  })

  it('two joiners redeeming one one-use invitation in the same batch: the first is committed, the other denied', async () => {
    const { h } = await closedStream({}, [1, 2])
    const token = h.session.createInvitation({ nowMs: Date.now(), maxUses: 1 })
    const parsed = parseInvitationToken(token.text)
    // Each is admissible alone, so both are queued...
    h.committer.requestJoin(peer(1), redeemInvitation(parsed, peer(1)))
    h.committer.requestJoin(peer(2), redeemInvitation(parsed, peer(2)))
    expect(h.denies).toEqual([])
    // ...and the batch grants the invitation's one use once.
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1)]])
    expect(h.fetches).toEqual([peer(1)])
    expect(h.denies.map((d) => d.identity)).toEqual([peer(2)])
    expect(h.denies[0].reason).toMatch(/\S/)
    expect(ledgerOf(h.submits[0].commit)!.uses.get(Buffer.from(parsed.invitation.id).toString('hex'))).toBe(1)
    // Spent: a later redemption of it is denied at once.
    h.committer.requestJoin(peer(3), redeemInvitation(parsed, peer(3)))
    expect(h.denies.map((d) => d.identity)).toEqual([peer(2), peer(3)])
  })
})

describe('Committer knocks', () => {
  const KNOCK: AdmissionRules = { knock: true }

  it('hands a knock to the app; approving it commits the joiner with the approval as evidence', async () => {
    const { h, joiners } = await closedStream(KNOCK, [1], { knock: () => true })
    h.committer.requestJoin(peer(1))
    expect(h.knocks.map((k) => k.identity)).toEqual([peer(1)])
    expect(h.denies).toEqual([])
    // Nothing happens until the app answers; asking again adds no second knock.
    h.committer.requestJoin(peer(1))
    await sleep(80)
    expect(h.knocks).toHaveLength(1)
    expect(h.fetches).toEqual([])
    h.knocks[0].approve()
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1)]])
    expect(ledgerOf(h.submits[0].commit)?.admitted.has(peer(1))).toBe(true)
    expect((await joiners[0].join(h.submits[0].welcome!)).epoch).toBe(1n)
    // A second answer changes nothing.
    h.knocks[0].deny('too late')
    h.knocks[0].approve()
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.denies).toEqual([])
    expect(h.submits).toHaveLength(1)
  })

  it('denying a knock denies the join, with the app\'s reason or a default one', async () => {
    const { h } = await closedStream(KNOCK, [1, 2], { knock: () => true })
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    h.knocks[0].deny('not today')
    h.knocks[1].deny()
    expect(h.denies).toEqual([{ identity: peer(1), reason: 'not today' }, { identity: peer(2), reason: expect.stringMatching(/\S/) }])
    h.knocks[0].approve() // already answered
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.fetches).toEqual([])
    expect(h.submits).toEqual([])
    expect(h.committer.denied).toBe(2)
  })

  it('denies at once when nobody listens for knocks (host.knock returns false or throws)', async () => {
    const { h } = await closedStream(KNOCK, [1, 2], { knock: (r) => { if (r.identity === peer(2)) throw new Error('listener bug'); return false } })
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    expect(h.knocks.map((k) => k.identity)).toEqual([peer(1), peer(2)])
    expect(h.denies.map((d) => d.identity)).toEqual([peer(1), peer(2)])
    expect(h.denies[0].reason).toMatch(/\S/)
    // A late answer to a knock already denied does nothing.
    h.knocks[0].approve()
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits).toEqual([])
  })

  it(`holds at most MAX_PENDING_KNOCKS (${MAX_PENDING_KNOCKS}) knocks and denies the rest at once`, async () => {
    const { h } = await closedStream(KNOCK, [], { knock: () => true })
    const ids = Array.from({ length: MAX_PENDING_KNOCKS + 2 }, (_, i) => peer(10 + i))
    for (const id of ids) h.committer.requestJoin(id)
    expect(h.knocks.map((k) => k.identity)).toEqual(ids.slice(0, MAX_PENDING_KNOCKS))
    expect(h.denies.map((d) => d.identity)).toEqual(ids.slice(MAX_PENDING_KNOCKS))
    expect(h.denies[0].reason).toContain(String(MAX_PENDING_KNOCKS))
    // Answering one frees a slot for the next knock.
    h.knocks[0].deny()
    h.committer.requestJoin(peer(100))
    expect(h.knocks.at(-1)?.identity).toBe(peer(100))
    expect(h.knocks).toHaveLength(MAX_PENDING_KNOCKS + 1)
  })
})

describe('Committer: withdrawn joins', () => {
  it('drops a queued join whose joiner went away: nothing is fetched or committed', async () => {
    const session = await createOwner()
    const h = track(harness({ session, joiners: [await makeJoiner(1), await makeJoiner(2)], batchWindowMs: 100 }))
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    h.committer.withdrawn(peer(1))
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.fetches).toEqual([peer(2)])
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(2)]])
    expect(h.denies).toEqual([])
  })

  it('drops a join withdrawn while its KeyPackage is being fetched, and does not retry it after a stale refusal', async () => {
    const session = await createOwner()
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const joiners = [await makeJoiner(1), await makeJoiner(2), await makeJoiner(3)]
    const h: Harness = track(harness({
      session,
      joiners,
      fetching: async (identity) => { if (identity === peer(1)) await gate },
      submit: async (_p, n) => {
        if (n > 0) return
        // Member 3's join ends between the refused Commit and its retry.
        h.committer.withdrawn(peer(3))
        throw new FabricError('STALE_EPOCH', 'lost epoch 0')
      },
    }))
    h.committer.requestJoin(peer(1))
    h.committer.requestJoin(peer(2))
    h.committer.requestJoin(peer(3))
    await until(() => h.fetches.length === 3, 10_000, 'fetches')
    // Member 1's join ends at the node while the Commit is being assembled.
    h.committer.withdrawn(peer(1))
    release()
    await within(h.committer.idle(), 10_000, 'committer idle')
    // Added anyway, either would be a member nobody is: no Welcome reaches
    // it, and the node calls it a member already when it asks again.
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(2), peer(3)], [peer(2)]])
    expect(session.members().map((m) => m.identity)).toEqual([peer(0), peer(2)])
    // Withdrawn is not banned: a new request is served.
    h.committer.requestJoin(peer(1))
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits.at(-1)?.addedIdentities).toEqual([peer(1)])
  })

  it('drops a pending knock: a late approval commits nothing, and the identity may knock again', async () => {
    const { h } = await closedStream({ knock: true }, [1], { knock: () => true })
    h.committer.requestJoin(peer(1))
    const first = h.knocks[0]
    h.committer.withdrawn(peer(1))
    first.approve()
    first.deny('late')
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.fetches).toEqual([])
    expect(h.submits).toEqual([])
    expect(h.denies).toEqual([])
    h.committer.requestJoin(peer(1))
    expect(h.knocks).toHaveLength(2)
    h.knocks[1].approve()
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1)]])
  })
})

describe('Committer.run', () => {
  it('runs a task after the Commit in flight, and holds queued Commits until the task is done', async () => {
    const session = await createOwner()
    const events: string[] = []
    let release!: () => void
    const gate = new Promise<void>((resolve) => { release = resolve })
    const h = track(harness({
      session,
      joiners: [await makeJoiner(1), await makeJoiner(2)],
      submit: async (p, n) => {
        events.push(`submit ${n}`)
        if (n === 0) await gate
      },
      applied: async (p) => { events.push(`applied ${p.addedIdentities.join()}`) },
    }))
    h.committer.requestJoin(peer(1))
    await until(() => h.submits.length === 1, 10_000, 'first submit')
    // The task is queued behind the Commit in flight.
    const task = h.committer.run(async () => {
      events.push('task')
      expect(session.pending).toBeUndefined()
      expect(session.epoch).toBe(1n)
      // A Commit of its own (a policy change), prepared and applied while no other is.
      const policy = await session.prepareUpdatePolicy({ admission: 'open', allow: [peer(5)] }, Date.now())
      h.committer.requestJoin(peer(2)) // queued meanwhile: must wait for the task
      await sleep(80)
      expect(h.submits).toHaveLength(1)
      await session.applyPending(policy, Date.now())
      events.push('task done')
      return 42
    })
    await sleep(50)
    expect(events).toEqual(['submit 0'])
    release()
    expect(await within(task, 10_000, 'task')).toBe(42)
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(events).toEqual(['submit 0', `applied ${peer(1)}`, 'task', 'task done', 'submit 1', `applied ${peer(2)}`])
    expect(session.epoch).toBe(3n)
    expect(session.admission.allow).toEqual([peer(5)])
  })

  it('passes a task\'s failure to its caller and keeps committing', async () => {
    const session = await createOwner()
    const h = track(harness({ session, joiners: [await makeJoiner(1)] }))
    await expect(h.committer.run(async () => { throw new FabricError('INTERNAL', 'task failed') })).rejects.toThrow('task failed')
    h.committer.requestJoin(peer(1))
    await within(h.committer.idle(), 10_000, 'committer idle')
    expect(h.submits.map((p) => p.addedIdentities)).toEqual([[peer(1)]])
    expect(h.failed).toEqual([])
  })
})
