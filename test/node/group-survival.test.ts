/**
 * Survival of GroupServiceCore (protocol/survival.md): the designated
 * committer handed over when it leaves or its group stream breaks, members
 * away within the grace period and resuming from the Commit log, rejoining,
 * the owner's end, streams ending with their last member, snapshot and
 * restore across a node restart, the GoingAway notice and the `persist`
 * actions that must come before anyone hears of a new epoch.
 */
import { describe, expect, it } from 'vitest'
import { GroupServiceCore, type GroupAction, type StreamSnapshot } from '../../src/node/group-core.js'
import { MAX_CONTROL_FRAME } from '../../src/wire/limits.js'
import { streamKey } from '../../src/wire/stream-tag.js'
import {
  ALICE, BOB, CAROL, DAVE, EVE, GID, Harness, NONE, S, aliceAndBob, epochReady, errorCode, inspectTestCommit, joinRequested,
  kinds, leaveRequested, only, rosterOf, to,
} from './group-harness.js'

const GRACE = 1000

/** Alice's stream at epoch 2: alice (conn 1, leaf 0, committer), bob (conn 2, leaf 1), carol (conn 3, leaf 2). */
function trio (opts: ConstructorParameters<typeof Harness>[0] = {}): Harness {
  const h = aliceAndBob({ memberGraceMs: GRACE, ...opts })
  h.open(3, CAROL)
  h.join(3)
  h.commit(1, 1n, { added: [CAROL] })
  return h
}

/** The `committer` actions: the new committer and the conn whose frame bound the shell raises. */
function committerActions (actions: GroupAction[]): GroupAction[] {
  return actions.filter(a => a.kind === 'committer')
}

function sendsOf (actions: GroupAction[], kind: 'leaveRequested' | 'joinRequested' | 'goingAway' | 'roster' | 'epochReady'): GroupAction[] {
  return actions.filter(a => a.kind === 'send' && a.message[kind] !== undefined)
}

describe('survival: the designated committer moves', () => {
  it('when the committer\'s conn closes: Roster naming the next to live members, pending joins and departures re-sent to it', () => {
    const h = trio()
    h.open(4, DAVE)
    h.join(4)                  // pending
    h.leave(3)                 // carol's departure is under way
    const actions = h.close(1)
    expect(committerActions(actions)).toEqual([{ kind: 'committer', stream: S, epoch: 2n, committer: BOB, conn: 2 }])
    const roster = rosterOf(2n, [ALICE, BOB, CAROL], BOB)
    expect(to(actions, 2)).toEqual([roster, leaveRequested(CAROL), joinRequested(DAVE)])
    // Carol is still connected while she leaves: she hears of the new committer too.
    expect(to(actions, 3)[0]).toEqual(roster)
    expect(to(actions, 4)).toEqual([])
    expect(h.core.roster(S)).toMatchObject({ committer: BOB, away: [ALICE], pending: 1 })
    expect(h.core.counters.handovers).toBe(1)
    expect(h.core.frameBoundOf(2)).toBe(MAX_CONTROL_FRAME)
    // The directory follows the role: bob may fetch dave's KeyPackage now, alice no more.
    expect(h.core.authorizeFetch(ALICE, DAVE)).toBe(false)
    expect(h.core.authorizeFetch(BOB, DAVE)).toBe(true)

    // Alice comes back: she is a member again, not the committer, and her Commit is refused.
    h.open(5, ALICE)
    expect(to(h.resume(5, 2n), 5)).toEqual([expect.objectContaining({ ok: { epoch: 2n } }), roster])
    expect(only(h.commit(5, 2n), 5).error).toMatchObject({ code: 'NOT_COMMITTER', currentEpoch: 2n })
    expect(errorCode(h.deny(5, DAVE), 5)).toBe('NOT_COMMITTER')
    // Bob's Commit is accepted: it removes carol and adds dave.
    const commit = h.commit(2, 2n, { removed: [CAROL], added: [DAVE] })
    expect(to(commit, 2)[0]?.ok).toEqual({ epoch: 3n })
    expect(to(commit, 4)[0]?.welcome?.epoch).toBe(3n)
    expect(to(commit, 5)[0]?.commit?.epoch).toBe(3n)
    expect(h.core.roster(S)).toMatchObject({ epoch: 3n, members: [ALICE, BOB, DAVE], committer: BOB, pending: 0 })
  })

  it('when the committer leaves: the next is handed its departure and removes it; the old one\'s Commit is refused', () => {
    const h = trio()
    h.open(4, DAVE)
    h.join(4)
    const { actions, requestId } = h.send(1, { leave: {} })
    expect(to(actions, 1)[0]).toEqual({ version: 1, requestId, ok: { epoch: 2n } })
    expect(committerActions(actions)).toEqual([{ kind: 'committer', stream: S, epoch: 2n, committer: BOB, conn: 2 }])
    const roster = rosterOf(2n, [ALICE, BOB, CAROL], BOB)
    for (const conn of [1, 3]) expect(to(actions, conn).at(-1)).toEqual(roster)
    expect(to(actions, 2)).toEqual([roster, leaveRequested(ALICE), joinRequested(DAVE)])
    expect(actions.some(a => a.kind === 'streamClosed' || a.kind === 'close')).toBe(false)

    expect(only(h.commit(1, 2n), 1).error).toMatchObject({ code: 'NOT_COMMITTER' })
    // Nobody, not even the new committer, is asked twice for alice.
    expect(sendsOf(h.leave(1), 'leaveRequested')).toEqual([])
    const removal = h.commit(2, 2n, { removed: [ALICE] })
    expect(to(removal, 2)[0]?.ok).toEqual({ epoch: 3n })
    expect(h.core.roster(S)).toMatchObject({ members: [BOB, CAROL], owner: ALICE, committer: BOB, pending: 1 })
    // The owner is gone from the roster, yet the stream goes on under bob.
    expect(h.core.streams()).toEqual([S])
  })

  it('goes to the live member with the lowest leaf whose departure is not under way, not the next in roster order', () => {
    const h = trio()
    h.commit(1, 2n, { removed: [BOB] })    // leaf 1 is blank
    h.open(4, DAVE)
    h.join(4)
    h.commit(1, 3n, { added: [DAVE] })     // dave takes leaf 1; roster order alice, carol, dave
    expect(h.core.leafIndexOf(S, DAVE)).toBe(1)
    expect(committerActions(h.leave(1))).toEqual([{ kind: 'committer', stream: S, epoch: 4n, committer: DAVE, conn: 4 }])

    // Away and leaving members are skipped: with dave away and carol leaving, eve (leaf 3) takes it.
    const g = trio()
    g.open(5, EVE)
    g.join(5)
    g.commit(1, 2n, { added: [EVE] })
    g.close(2)                              // bob away
    g.leave(3)                              // carol leaving
    const handover = g.close(1)
    expect(committerActions(handover)).toEqual([{ kind: 'committer', stream: S, epoch: 3n, committer: EVE, conn: 5 }])
    expect(to(handover, 5)).toEqual(expect.arrayContaining([rosterOf(3n, [ALICE, BOB, CAROL, EVE], EVE), leaveRequested(CAROL)]))
    expect(g.core.frameBoundOf(5)).toBe(MAX_CONTROL_FRAME)
  })

  it('waits with no committer while no member is live, and designates the first that resumes', () => {
    const h = trio()
    h.leave(3)
    h.close(2)
    const last = h.close(1)
    expect(committerActions(last)).toEqual([{ kind: 'committer', stream: S, epoch: 2n, committer: undefined, conn: undefined }])
    expect(h.core.roster(S)).toMatchObject({ committer: '', away: [ALICE, BOB] })
    // A join waits for a committer; nobody is told yet.
    h.open(4, DAVE)
    expect(to(h.join(4), 4)).toEqual([expect.objectContaining({ ok: { epoch: 2n } })])
    expect(h.core.authorizeFetch(ALICE, DAVE)).toBe(false)
    // Bob resumes: he is designated, told by the Roster, and handed the departure and the join.
    h.open(5, BOB)
    const { actions, requestId } = h.send(5, { resume: { stream: 's', owner: ALICE, epoch: 2n } })
    expect(committerActions(actions)).toEqual([{ kind: 'committer', stream: S, epoch: 2n, committer: BOB, conn: 5 }])
    expect(to(actions, 5)).toEqual([
      { version: 1, requestId, ok: { epoch: 2n } },
      rosterOf(2n, [ALICE, BOB, CAROL], BOB),
      leaveRequested(CAROL),
      joinRequested(DAVE),
    ])
    expect(to(actions, 3)).toEqual([rosterOf(2n, [ALICE, BOB, CAROL], BOB)])
    // Alice resuming later does not take the role back, though her leaf is lower.
    h.open(6, ALICE)
    const back = h.resume(6, 2n)
    expect(committerActions(back)).toEqual([])
    expect(to(back, 6).at(-1)).toEqual(rosterOf(2n, [ALICE, BOB, CAROL], BOB))
    expect(to(back, 5)).toEqual([])
  })
})

describe('survival: away members', () => {
  it('are not counted for EpochReady: only live members\' acks are waited for', () => {
    const h = trio()
    h.close(2)                                 // bob away before the epoch
    h.commit(1, 2n)
    expect(to(h.ack(3, 3n), 3)).toEqual([expect.objectContaining({ ok: { epoch: 3n } }), epochReady(3n)])
    // A member that goes away while the epoch waits for it releases the wait.
    h.open(4, BOB)
    h.resume(4, 3n)
    h.commit(1, 3n)
    expect(sendsOf(h.ack(3, 4n), 'epochReady')).toEqual([])
    expect(h.close(4)).toEqual([
      { kind: 'send', conn: 1, message: epochReady(4n) },
      { kind: 'send', conn: 3, message: epochReady(4n) },
    ])
  })

  it('have their removal asked once the grace period passes, once, and together when they expire in one tick', () => {
    const h = trio()
    h.open(4, DAVE)
    h.join(4)
    h.commit(1, 2n, { added: [DAVE] })
    h.close(2)
    h.close(3)
    h.tick(GRACE / 2)
    h.close(4)                                   // dave goes later
    expect(sendsOf(h.tick(GRACE / 2 - 1), 'leaveRequested')).toEqual([])
    // Bob and carol expire in the same tick: both are asked in it, so one Commit can remove both.
    const expiry = h.tick(1)
    expect(to(expiry, 1)).toEqual([leaveRequested(BOB), leaveRequested(CAROL)])
    expect(h.core.counters.graceExpired).toBe(2)
    expect(to(h.tick(GRACE / 2 - 1), 1)).toEqual([])
    expect(to(h.tick(1), 1)).toEqual([leaveRequested(DAVE)])
    // Never again, however long they stay away.
    expect(sendsOf(h.tick(10 * GRACE), 'leaveRequested')).toEqual([])
    expect(h.core.counters.graceExpired).toBe(3)
    expect(h.core.streams()).toEqual([S])
  })

  it('that resume within the grace period are not asked for; the grace period defaults to 10 s', () => {
    const d = aliceAndBob()
    d.close(2)
    expect(sendsOf(d.tick(9_999), 'leaveRequested')).toEqual([])
    expect(to(d.tick(1), 1)).toEqual([leaveRequested(BOB)])

    const h = trio()
    h.close(2)
    h.tick(GRACE - 1)
    h.open(4, BOB)
    h.resume(4, 2n)
    expect(sendsOf(h.tick(10 * GRACE), 'leaveRequested')).toEqual([])
    expect(h.core.roster(S)?.away).toEqual([])
  })
})

describe('survival: resume', () => {
  it('answers ok, sends every missed Commit in order, then the roster; the member is live again', () => {
    const h = trio()
    h.close(2)
    const missed = [h.submitCommit(1, 2n), h.submitCommit(1, 3n)]
    h.send(1, { commit: missed[0] })
    h.send(1, { commit: missed[1] })
    h.open(4, BOB)
    const { actions, requestId } = h.send(4, { resume: { stream: 's', owner: ALICE, epoch: 2n } })
    expect(to(actions, 4)).toEqual([
      { version: 1, requestId, ok: { epoch: 4n } },
      { version: 1, requestId: 0n, commit: { epoch: 3n, commit: missed[0]!.commit } },
      { version: 1, requestId: 0n, commit: { epoch: 4n, commit: missed[1]!.commit } },
      rosterOf(4n, [ALICE, BOB, CAROL], ALICE),
    ])
    // Only the resumer hears of it.
    expect(actions.every(a => a.kind === 'send' && a.conn === 4)).toBe(true)
    expect(h.core.roster(S)?.away).toEqual([])
    expect(h.core.counters.resumed).toBe(1)
    expect(to(h.ack(4, 4n), 4)[0]?.ok).toEqual({ epoch: 4n })
    // Bound now: a second resume or a join on the same conn is refused.
    expect(errorCode(h.resume(4, 4n), 4)).toBe('INVALID_STATE')
  })

  it('closes a still-open older conn of the member with NOT_FOUND: the newer stream wins', () => {
    const h = trio()
    h.open(4, BOB)
    const actions = h.resume(4, 2n)
    expect(to(actions, 2)).toEqual([{ version: 1, requestId: 0n, error: { code: 'NOT_FOUND', message: expect.any(String), currentEpoch: 2n } }])
    expect(actions).toContainEqual({ kind: 'close', conn: 2 })
    expect(errorCode(h.ack(2, 2n), 2)).toBe('NOT_FOUND')
    // The old conn closing later does not make bob away.
    expect(h.close(2)).toEqual([])
    expect(h.core.roster(S)?.away).toEqual([])
    expect(to(h.commit(1, 2n), 4)[0]?.commit?.epoch).toBe(3n)
    // The committer, resuming, stays the committer on its new conn.
    h.open(5, ALICE)
    const again = h.resume(5, 3n)
    expect(committerActions(again)).toEqual([])
    expect(again).toContainEqual({ kind: 'close', conn: 1 })
    expect(to(h.commit(5, 3n), 5)[0]?.ok).toEqual({ epoch: 4n })
  })

  it('answers REJOIN_NEEDED when the Commit log no longer holds what the member missed, and asks for its removal', () => {
    const h = trio({ commitLogEntries: 2 })
    h.close(2)
    h.commit(1, 2n)
    h.commit(1, 3n)
    h.commit(1, 4n)                            // the log holds the Commits of epochs 4 and 5
    h.open(4, BOB)
    const { actions, requestId } = h.send(4, { resume: { stream: 's', owner: ALICE, epoch: 2n } })
    expect(to(actions, 4)).toEqual([{ version: 1, requestId, error: { code: 'REJOIN_NEEDED', message: expect.any(String), currentEpoch: 5n } }])
    expect(to(actions, 1)).toEqual([leaveRequested(BOB)])
    expect(h.core.counters.rejoinsNeeded).toBe(1)
    expect(h.core.counters.refused.REJOIN_NEEDED).toBe(1)
    // Asked once: the grace period passing asks nothing more.
    expect(sendsOf(h.tick(2 * GRACE), 'leaveRequested')).toEqual([])
    // The conn is still unbound: it may join again (a rejoin).
    expect(to(h.join(4), 1)).toEqual([joinRequested(BOB)])
    // One epoch behind is within the log.
    const k = trio({ commitLogEntries: 2 })
    k.close(2)
    k.commit(1, 2n)
    k.commit(1, 3n)
    k.open(4, BOB)
    expect(kinds(to(k.resume(4, 2n), 4))).toEqual(['ok', 'commit', 'commit', 'roster'])
  })

  it('answers REJOIN_NEEDED when a Commit is over the log\'s byte bound, or the member claims an epoch ahead of the stream', () => {
    const h = trio({ commitLogBytes: 16 })
    h.close(2)
    const big = h.submitCommit(1, 2n)
    expect(big.commit.byteLength).toBeGreaterThan(16)
    h.send(1, { commit: big })
    expect(h.core.roster(S)?.epoch).toBe(3n)
    expect(h.core.snapshot(S)?.log).toEqual([])  // too large to keep: the log is empty, with no hole
    h.open(4, BOB)
    expect(errorCode(h.resume(4, 2n), 4)).toBe('REJOIN_NEEDED')
    const k = trio()
    k.open(4, BOB)
    expect(errorCode(k.resume(4, 3n), 4)).toBe('REJOIN_NEEDED')
  })

  it('answers REJOIN_NEEDED while the member\'s departure is under way, NOT_MEMBER once removed, NOT_FOUND for no stream', () => {
    const h = trio()
    h.leave(2)
    h.open(4, BOB)
    expect(only(h.resume(4, 2n), 4).error).toMatchObject({ code: 'REJOIN_NEEDED', currentEpoch: 2n })
    h.commit(1, 2n, { removed: [BOB] })
    expect(only(h.resume(4, 3n), 4).error).toMatchObject({ code: 'NOT_MEMBER', currentEpoch: 3n })
    h.open(5, DAVE)
    expect(errorCode(h.resume(5, 3n), 5)).toBe('NOT_MEMBER')
    expect(only(h.resume(5, 0n, ALICE, 'missing'), 5).error).toMatchObject({ code: 'NOT_FOUND', currentEpoch: 0n })
    expect(errorCode(h.resume(5, 0n, ALICE, 'bad name'), 5)).toBe('MALFORMED')
    expect(h.core.counters.resumed).toBe(0)
  })
})

describe('survival: rejoin', () => {
  it('a member whose departure is under way may join again; the committer removes the old leaf, then adds it', () => {
    const h = trio()
    h.leave(2)
    h.open(4, BOB)
    const join = h.join(4)
    expect(to(join, 1)).toEqual([joinRequested(BOB)])
    expect(to(join, 4)).toEqual([expect.objectContaining({ ok: { epoch: 2n } })])
    expect(h.core.roster(S)).toMatchObject({ members: [ALICE, BOB, CAROL], pending: 1 })
    h.open(5, BOB)
    expect(errorCode(h.join(5), 5)).toBe('ALREADY_EXISTS')     // one join at a time
    // Old leaf and new one cannot be in one Commit (it would name bob twice).
    expect(errorCode(h.commit(1, 2n, { removed: [BOB], added: [BOB] }), 1)).toBe('MALFORMED')
    h.commit(1, 2n, { removed: [BOB] })
    const add = h.commit(1, 3n, { added: [BOB] })
    expect(to(add, 4)[0]?.welcome?.epoch).toBe(4n)
    expect(h.core.leafIndexOf(S, BOB)).toBe(1)
    expect(h.core.roster(S)).toMatchObject({ members: [ALICE, CAROL, BOB], pending: 0, away: [] })
    // Bob is a member in good standing again: leaving asks for him anew.
    expect(to(h.leave(4), 1)).toEqual([leaveRequested(BOB)])
  })

  it('a member that is away may join again (restarted without its state): its removal is asked, then its join', () => {
    const h = trio()
    h.close(2)
    h.open(4, BOB)
    const { actions, requestId } = h.send(4, { join: { stream: 's', owner: ALICE, redemption: NONE } })
    expect(to(actions, 1)).toEqual([leaveRequested(BOB), joinRequested(BOB)])
    expect(to(actions, 4)).toEqual([{ version: 1, requestId, ok: { epoch: 2n } }])
    // A live member may not.
    h.open(5, CAROL)
    expect(errorCode(h.join(5), 5)).toBe('ALREADY_EXISTS')
    // Its old leaf is no longer expected back: the grace period asks nothing more.
    expect(sendsOf(h.tick(2 * GRACE), 'leaveRequested')).toEqual([])
    expect(h.core.roster(S)).toMatchObject({ members: [ALICE, BOB, CAROL], away: [BOB], pending: 1 })
  })

  it('a stream whose only member is away ends when that member joins again, since nobody could add it', () => {
    const h = new Harness({ memberGraceMs: GRACE })
    h.open(1, ALICE)
    h.create(1)
    h.close(1)
    h.open(2, ALICE)
    const { actions, requestId } = h.send(2, { join: { stream: 's', owner: ALICE, redemption: NONE } })
    expect(actions).toEqual([
      { kind: 'send', conn: 2, message: { version: 1, requestId, ok: { epoch: 0n } } },
      { kind: 'send', conn: 2, message: { version: 1, requestId: 0n, error: { code: 'NOT_FOUND', message: 'stream closed: its last member left', currentEpoch: 0n } } },
      { kind: 'close', conn: 2 },
      { kind: 'streamClosed', stream: S },
    ])
    expect(h.core.load()).toEqual({ conns: 1, pendingJoins: 0 })
  })

  it('a member that stayed away past the grace period rejoins the same way', () => {
    const h = trio()
    h.close(2)
    h.tick(GRACE)
    h.open(4, BOB)
    expect(errorCode(h.resume(4, 2n), 4)).toBe('REJOIN_NEEDED')
    expect(to(h.join(4), 1)).toEqual([joinRequested(BOB)])
  })
})

describe('survival: the end of a stream', () => {
  it('end is the owner\'s alone, committer or not: NOT_COMMITTER for another member, NOT_MEMBER for a joiner', () => {
    const h = trio()
    h.open(4, DAVE)
    h.join(4)
    h.open(5, EVE)
    expect(only(h.end(2), 2).error).toMatchObject({ code: 'NOT_COMMITTER', currentEpoch: 2n })
    expect(errorCode(h.end(4), 4)).toBe('NOT_MEMBER')
    expect(errorCode(h.end(5), 5)).toBe('INVALID_STATE')
    expect(h.core.streams()).toEqual([S])
    // Alice hands the committer role over (her conn breaks), comes back, and ends the stream.
    h.close(1)
    h.open(6, ALICE)
    h.resume(6, 2n)
    expect(h.core.roster(S)?.committer).toBe(BOB)
    const { actions, requestId } = h.send(6, { end: {} })
    expect(actions[0]).toEqual({ kind: 'send', conn: 6, message: { version: 1, requestId, ok: { epoch: 2n } } })
    for (const conn of [2, 3, 4, 6]) {
      expect(to(actions, conn).at(-1)?.error).toMatchObject({ code: 'NOT_FOUND', message: 'stream ended by its owner' })
      expect(actions).toContainEqual({ kind: 'close', conn })
    }
    expect(actions.at(-1)).toEqual({ kind: 'streamClosed', stream: S })
    expect(h.core.streams()).toEqual([])
  })

  it('ends when its last member leaves, not before', () => {
    const h = trio()
    for (const conn of [1, 2]) expect(h.leave(conn).some(a => a.kind === 'streamClosed')).toBe(false)
    const last = h.leave(3)
    expect(last.at(-1)).toEqual({ kind: 'streamClosed', stream: S })
    for (const conn of [1, 2, 3]) {
      expect(to(last, conn).at(-1)?.error).toMatchObject({ code: 'NOT_FOUND', message: 'stream closed: its last member left' })
      expect(last).toContainEqual({ kind: 'close', conn })
    }
    expect(h.core.streams()).toEqual([])
  })

  it('ends when every member is away past the grace period, or leaving; not while one is still expected back', () => {
    const h = trio()
    h.leave(3)
    h.close(1)
    h.tick(GRACE / 2)
    h.close(2)
    const first = h.tick(GRACE / 2)
    // Alice is past her grace; bob is still expected back.
    expect(first.some(a => a.kind === 'streamClosed')).toBe(false)
    expect(h.core.streams()).toEqual([S])
    const end = h.tick(GRACE / 2)
    expect(end.at(-1)).toEqual({ kind: 'streamClosed', stream: S })
    // Carol, leaving but still connected, is told the stream ended.
    expect(to(end, 3).at(-1)?.error?.code).toBe('NOT_FOUND')
    expect(end).toContainEqual({ kind: 'close', conn: 3 })
    expect(h.core.streams()).toEqual([])
  })

  it('ends at once when the last member expected back is told REJOIN_NEEDED', () => {
    const h = aliceAndBob({ commitLogEntries: 1 })
    h.commit(1, 1n)                             // the log holds epoch 2's Commit only
    const snap = h.core.snapshot(S)!
    const fresh = new GroupServiceCore({ inspectCommit: inspectTestCommit })
    expect(fresh.restore([{ ...snap, members: [snap.members[0]!] }], 0)).toEqual([])
    fresh.handle({ kind: 'opened', conn: 1, peer: ALICE }, 0)
    const actions = fresh.handle({ kind: 'message', conn: 1, message: { version: 1, requestId: 1n, resume: { stream: 's', owner: ALICE, epoch: 0n } } }, 0)
    expect(actions).toEqual([
      { kind: 'send', conn: 1, message: { version: 1, requestId: 1n, error: { code: 'REJOIN_NEEDED', message: expect.any(String), currentEpoch: 2n } } },
      { kind: 'streamClosed', stream: S },
    ])
    expect(fresh.streams()).toEqual([])
  })
})

describe('survival: snapshot and restore', () => {
  /** Alice's stream at epoch 4 with a blank leaf: alice 0, carol 2, dave 1. */
  function grown (): Harness {
    const h = trio()
    h.commit(1, 2n, { removed: [BOB] })
    h.open(4, DAVE)
    h.join(4)
    h.commit(1, 3n, { added: [DAVE] })
    return h
  }

  it('round-trips a stream into a fresh core: members away, no committer until one resumes, which is designated', () => {
    const h = grown()
    const snap = h.core.snapshot(S)!
    expect(snap).toMatchObject({
      key: S, owner: ALICE, groupId: GID, epoch: 4n,
      members: [{ identity: ALICE, leaf: 0 }, { identity: CAROL, leaf: 2 }, { identity: DAVE, leaf: 1 }],
    })
    expect(snap.log.map(e => e.epoch)).toEqual([1n, 2n, 3n, 4n])

    const restarted = new Harness({ memberGraceMs: GRACE })
    restarted.now = 50_000
    expect(restarted.core.restore([snap], restarted.now)).toEqual([])
    expect(restarted.core.streams()).toEqual([S])
    expect(restarted.core.snapshot(S)).toEqual(snap)
    expect(restarted.core.roster(S)).toEqual({ epoch: 4n, members: [ALICE, CAROL, DAVE], owner: ALICE, committer: '', pending: 0, away: [ALICE, CAROL, DAVE] })
    expect(restarted.core.rosterAction(S)).toEqual({
      kind: 'roster', stream: S, epoch: 4n, members: [ALICE, CAROL, DAVE], added: [], removed: [], leaves: new Map([[ALICE, 0], [CAROL, 2], [DAVE, 1]]),
    })
    expect(restarted.core.leafIndexOf(S, DAVE)).toBe(1)
    expect(restarted.core.rosterAction('nope')).toBeUndefined()

    // Carol resumes one epoch behind: she gets the missed Commit from the restored log and is designated.
    restarted.open(3, CAROL)
    const carol = restarted.resume(3, 3n)
    expect(kinds(to(carol, 3))).toEqual(['ok', 'commit', 'roster'])
    expect(to(carol, 3)[1]?.commit).toEqual({ epoch: 4n, commit: snap.log[3]!.commit })
    expect(to(carol, 3)[2]).toEqual(rosterOf(4n, [ALICE, CAROL, DAVE], CAROL))
    expect(committerActions(carol)).toEqual([{ kind: 'committer', stream: S, epoch: 4n, committer: CAROL, conn: 3 }])
    // Dave resumes too; alice never does and is asked for after the grace period.
    restarted.open(4, DAVE)
    expect(to(restarted.resume(4, 4n), 4).at(-1)).toEqual(rosterOf(4n, [ALICE, CAROL, DAVE], CAROL))
    expect(to(restarted.tick(GRACE), 3)).toEqual([leaveRequested(ALICE)])
    const removal = restarted.commit(3, 4n, { removed: [ALICE] })
    expect(to(removal, 3)[0]?.ok).toEqual({ epoch: 5n })
    expect(to(removal, 4)[0]?.commit?.epoch).toBe(5n)
    expect(restarted.core.snapshot(S)?.log.map(e => e.epoch)).toEqual([1n, 2n, 3n, 4n, 5n])
  })

  it('refuses snapshots that do not hold together, and restores the others of the same call', () => {
    const good = grown().core.snapshot(S)!
    const other = { ...good, key: streamKey(ALICE, 'other') }
    const bad: Array<[string, StreamSnapshot]> = [
      ['member twice', { ...good, key: streamKey(ALICE, 'b1'), members: [{ identity: ALICE, leaf: 0 }, { identity: ALICE, leaf: 1 }] }],
      ['two members on a leaf', { ...good, key: streamKey(ALICE, 'b2'), members: [{ identity: ALICE, leaf: 0 }, { identity: BOB, leaf: 0 }] }],
      ['negative leaf', { ...good, key: streamKey(ALICE, 'b3'), members: [{ identity: ALICE, leaf: -1 }] }],
      ['fractional leaf', { ...good, key: streamKey(ALICE, 'b4'), members: [{ identity: ALICE, leaf: 0.5 }] }],
      ['leaf out of range', { ...good, key: streamKey(ALICE, 'b5'), members: [{ identity: ALICE, leaf: 10 }] }],
      ['no members', { ...good, key: streamKey(ALICE, 'b6'), members: [] }],
      ['empty group id', { ...good, key: streamKey(ALICE, 'b7'), groupId: new Uint8Array() }],
      ['another owner\'s address', { ...good, key: streamKey(BOB, 'b8') }],
      ['an address that is no stream address', { ...good, key: 'alice/bad name' }],
      ['too many members', { ...good, key: streamKey(ALICE, 'b9'), members: [0, 1, 2, 3].map(i => ({ identity: `m${i}`, leaf: i })) }],
      ['a member that is no identity', { ...good, key: streamKey(ALICE, 'b10'), members: [{ identity: ALICE, leaf: 0 }, { identity: 'not/a/peer', leaf: 1 }] }],
    ]
    const core = new GroupServiceCore({ inspectCommit: inspectTestCommit, maxMembers: 3 })
    const refused = core.restore([good, ...bad.map(([, s]) => s), other, good], 0)
    // The stream already hosted (the second `good`) is refused too.
    expect(refused).toEqual([...bad.map(([, s]) => s.key), good.key])
    expect(core.streams()).toEqual([S, other.key])
    expect(core.roster(S)?.members).toEqual([ALICE, CAROL, DAVE])
  })

  it('refuses snapshots over the node\'s and the owner\'s stream bounds', () => {
    const snap = grown().core.snapshot(S)!
    const named = (owner: string, name: string): StreamSnapshot => ({ ...snap, key: streamKey(owner, name), owner })
    const perOwner = new GroupServiceCore({ inspectCommit: inspectTestCommit, maxStreamsPerIdentity: 1 })
    expect(perOwner.restore([named(ALICE, 'a'), named(ALICE, 'b'), named(BOB, 'a')], 0)).toEqual([streamKey(ALICE, 'b')])
    const perNode = new GroupServiceCore({ inspectCommit: inspectTestCommit, maxStreams: 2 })
    expect(perNode.restore([named(ALICE, 'a'), named(BOB, 'a'), named(CAROL, 'a')], 0)).toEqual([streamKey(CAROL, 'a')])
    // A restored stream counts against its owner: another create is refused, ending it frees the slot.
    const h = new Harness({ maxStreamsPerIdentity: 1 })
    h.core.restore([named(ALICE, 'a')], 0)
    h.open(1, ALICE)
    expect(errorCode(h.create(1, 'b'), 1)).toBe('QUOTA_EXCEEDED')
    h.open(2, ALICE)
    h.resume(2, 4n, ALICE, 'a')
    h.end(2)
    expect(to(h.create(1, 'b'), 1)[0]?.ok).toEqual({ epoch: 0n })
  })
})

describe('survival: going away and persistence', () => {
  it('going-away sends GoingAway to every bound conn (members, joiners, removed members), and changes nothing', () => {
    const h = trio()
    h.open(4, DAVE)
    h.join(4)                                  // pending
    h.commit(1, 2n, { removed: [CAROL] })     // conn 3 is a removed member's
    h.open(5, EVE)                             // unbound
    h.open(6, EVE)
    h.tick(60_000)                             // conn 5 and 6: closed for not binding in time
    h.open(7, EVE)                             // unbound
    const before = h.core.roster(S)
    const addresses = ['/ip4/127.0.0.1/tcp/4001/p2p/node1', '/dns4/b.example/tcp/4001/p2p/node2']
    const actions = h.goingAway('x'.repeat(2000), addresses, 500)
    expect(actions.map(a => a.kind === 'send' ? a.conn : -1)).toEqual([1, 2, 3, 4])
    const notice = only(actions, 1).goingAway!
    expect(notice.addresses).toEqual(addresses)
    expect(notice.retryAfterMs).toBe(500)
    expect(notice.reason.length).toBeLessThan(2000)       // clipped to fit the wire bound
    expect(h.core.roster(S)).toEqual(before)
  })

  it('persist comes first for a create and an accepted Commit, before the reply and every send; nothing else persists', () => {
    const h = new Harness()
    h.open(1, ALICE)
    const create = h.create(1)
    expect(create.map(a => a.kind)).toEqual(['persist', 'send', 'send', 'roster', 'committer'])
    expect(create[0]).toEqual({ kind: 'persist', stream: S })
    h.open(2, BOB)
    const join = h.join(2)
    const commit = h.commit(1, 0n, { added: [BOB] })
    expect(commit[0]).toEqual({ kind: 'persist', stream: S })
    expect(commit.filter(a => a.kind === 'persist')).toHaveLength(1)
    expect(kinds(to(commit.slice(1), 1))).toEqual(['ok', 'roster'])
    expect(kinds(to(commit.slice(1), 2))).toEqual(['welcome', 'roster'])
    // Refused Commits, joins, acks, leaves, handovers, resumes and ticks change nothing stored.
    const others = [
      ...join, ...h.commit(1, 0n), ...h.ack(2, 1n), ...h.close(1), ...h.leave(2), ...h.tick(60_000),
    ]
    expect(others.filter(a => a.kind === 'persist')).toEqual([])
  })
})
