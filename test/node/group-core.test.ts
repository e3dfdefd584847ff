import { describe, expect, it } from 'vitest'
import fc from 'fast-check'
import {
  GroupServiceCore, MAX_PENDING_JOINERS_PER_STREAM, MAX_STREAMS_PER_NODE,
  type ConnId, type GroupAction, type GroupServiceOptions,
} from '../../src/node/group-core.js'
import { decodeGroupServerMessage, encodeGroupServerMessage } from '../../src/wire/group-messages.js'
import { MAX_ADDED_PER_COMMIT, MAX_ERROR_MESSAGE, MAX_GROUP_ID, MAX_ROSTER } from '../../src/wire/limits.js'
import type { GroupClientMessage, GroupServerMessage, SubmitCommit } from '../../src/wire/pb/group.js'

// A tiny stand-in for an MLS PublicMessage Commit: 'C' || epoch (u64 BE) ||
// group id. The unit under test is the state machine, not MLS parsing.
const GID = new Uint8Array([0x67, 0x69, 0x64])
const OTHER_GID = new Uint8Array([0x78])
const WELCOME = new Uint8Array([0x57, 1, 2, 3])

function testCommit (epoch: bigint, groupId: Uint8Array = GID): Uint8Array<ArrayBuffer> {
  const out = new Uint8Array(9 + groupId.byteLength)
  out[0] = 0x43
  new DataView(out.buffer).setBigUint64(1, epoch)
  out.set(groupId, 9)
  return out
}

function inspectTestCommit (bytes: Uint8Array): { groupId: Uint8Array, epoch: bigint } {
  if (bytes.byteLength < 9 || bytes[0] !== 0x43) throw new Error('not a test commit')
  return { epoch: new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength).getBigUint64(1), groupId: bytes.slice(9) }
}

type Body = Omit<GroupClientMessage, 'version' | 'requestId'>

/** Drives one core with a manual clock and fresh request ids. */
class Harness {
  readonly core: GroupServiceCore
  now = 0
  private nextRequestId = 1n

  constructor (opts: Partial<GroupServiceOptions> = {}) {
    this.core = new GroupServiceCore({ inspectCommit: inspectTestCommit, ...opts })
  }

  open (conn: ConnId, peer: string): GroupAction[] {
    return this.core.handle({ kind: 'opened', conn, peer }, this.now)
  }

  close (conn: ConnId): GroupAction[] {
    return this.core.handle({ kind: 'closed', conn }, this.now)
  }

  tick (advanceMs: number): GroupAction[] {
    this.now += advanceMs
    return this.core.handle({ kind: 'tick' }, this.now)
  }

  /** Sends `body` on `conn`; returns the actions and the request id used. */
  send (conn: ConnId, body: Body, requestId: bigint = this.nextRequestId++, version = 1): { actions: GroupAction[], requestId: bigint } {
    const message: GroupClientMessage = { version, requestId, ...body }
    return { actions: this.core.handle({ kind: 'message', conn, message }, this.now), requestId }
  }

  create (conn: ConnId, stream = 's', groupId = GID): GroupAction[] { return this.send(conn, { create: { stream, groupId } }).actions }
  join (conn: ConnId, stream = 's'): GroupAction[] { return this.send(conn, { join: { stream } }).actions }
  ack (conn: ConnId, epoch: bigint): GroupAction[] { return this.send(conn, { ack: { epoch } }).actions }
  leave (conn: ConnId): GroupAction[] { return this.send(conn, { leave: {} }).actions }

  commit (conn: ConnId, epoch: bigint, change: Partial<SubmitCommit> = {}): GroupAction[] {
    const added = change.added ?? []
    const commit: SubmitCommit = {
      epoch,
      commit: testCommit(epoch),
      welcome: added.length > 0 ? WELCOME : new Uint8Array(),
      added,
      removed: [],
      ...change,
    }
    return this.send(conn, { commit }).actions
  }
}

/** Messages sent to `conn`, in order. */
function to (actions: GroupAction[], conn: ConnId): GroupServerMessage[] {
  return actions.flatMap(a => a.kind === 'send' && a.conn === conn ? [a.message] : [])
}

function only (actions: GroupAction[], conn: ConnId): GroupServerMessage {
  const messages = to(actions, conn)
  expect(messages).toHaveLength(1)
  return messages[0]!
}

function errorCode (actions: GroupAction[], conn: ConnId): string | undefined {
  return only(actions, conn).error?.code
}

const ALICE = 'alice'
const BOB = 'bob'
const CAROL = 'carol'
const DAVE = 'dave'

/** Stream 's' at epoch 1: alice (conn 1, committer) and bob (conn 2). */
function aliceAndBob (opts: Partial<GroupServiceOptions> = {}): Harness {
  const h = new Harness(opts)
  h.open(1, ALICE)
  h.open(2, BOB)
  h.create(1)
  h.join(2)
  h.commit(1, 0n, { added: [BOB] })
  return h
}

describe('GroupServiceCore: create and join', () => {
  it('create makes the sender the committer and only member at epoch 0', () => {
    const h = new Harness()
    expect(h.open(1, ALICE)).toEqual([])
    const { actions, requestId } = h.send(1, { create: { stream: 's', groupId: GID } }, 77n)
    expect(requestId).toBe(77n)
    expect(to(actions, 1)).toEqual([
      { version: 1, requestId: 77n, ok: { epoch: 0n } },
      { version: 1, requestId: 0n, roster: { epoch: 0n, members: [ALICE], committer: ALICE } },
    ])
    expect(actions.filter(a => a.kind === 'roster')).toEqual([
      { kind: 'roster', stream: 's', epoch: 0n, members: [ALICE], added: [ALICE], removed: [] },
    ])
    expect(h.core.streams()).toEqual(['s'])
    expect(h.core.roster('s')).toEqual({ epoch: 0n, members: [ALICE], committer: ALICE })
    expect(h.core.isMember('s', ALICE)).toBe(true)
    expect(h.core.isMember('s', BOB)).toBe(false)
    expect(h.core.roster('nope')).toBeUndefined()
  })

  it('refuses a create for an existing stream with ALREADY_EXISTS and its epoch', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    const { actions, requestId } = h.send(3, { create: { stream: 's', groupId: GID } })
    expect(only(actions, 3)).toMatchObject({ version: 1, requestId, error: { code: 'ALREADY_EXISTS', currentEpoch: 1n } })
    // Refused, so conn 3 is still unbound and may join.
    expect(errorCode(h.join(3), 3)).toBeUndefined()
  })

  it('refuses malformed create and join arguments', () => {
    const h = new Harness()
    h.open(1, ALICE)
    expect(errorCode(h.create(1, ''), 1)).toBe('MALFORMED')
    expect(errorCode(h.create(1, 's', new Uint8Array()), 1)).toBe('MALFORMED')
    expect(errorCode(h.create(1, 'x'.repeat(257)), 1)).toBe('TOO_LARGE')
    expect(errorCode(h.create(1, 's', new Uint8Array(MAX_GROUP_ID + 1)), 1)).toBe('TOO_LARGE')
    expect(errorCode(h.create(1, 'no spaces'), 1)).toBe('MALFORMED')
    expect(errorCode(h.join(1, ''), 1)).toBe('MALFORMED')
    expect(h.core.streams()).toEqual([])
  })

  it('requires create or join first, and only once per conn', () => {
    const h = new Harness()
    h.open(1, ALICE)
    for (const body of [{ ack: { epoch: 0n } }, { leave: {} }, { commit: { epoch: 0n, commit: testCommit(0n), welcome: new Uint8Array(), added: [], removed: [] } }]) {
      expect(errorCode(h.send(1, body).actions, 1)).toBe('INVALID_STATE')
    }
    h.create(1)
    expect(errorCode(h.create(1, 't'), 1)).toBe('INVALID_STATE')
    expect(errorCode(h.join(1, 's'), 1)).toBe('INVALID_STATE')
    expect(h.core.streams()).toEqual(['s'])
  })

  it('join routes JoinRequested to the committer and replies with the current epoch', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    const { actions, requestId } = h.send(3, { join: { stream: 's' } })
    expect(to(actions, 1)).toEqual([{ version: 1, requestId: 0n, joinRequested: { identity: CAROL } }])
    expect(to(actions, 3)).toEqual([{ version: 1, requestId, ok: { epoch: 1n } }])
    expect(to(actions, 2)).toEqual([])
    expect(h.core.isMember('s', CAROL)).toBe(false)
  })

  it('refuses a join to a missing stream, by a member, or twice while pending', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    expect(only(h.join(3, 'missing'), 3).error).toMatchObject({ code: 'NOT_FOUND', currentEpoch: 0n })
    h.open(4, BOB)
    expect(only(h.join(4), 4).error).toMatchObject({ code: 'ALREADY_EXISTS', currentEpoch: 1n })
    h.open(5, ALICE)
    expect(errorCode(h.join(5), 5)).toBe('ALREADY_EXISTS')
    h.join(3)
    h.open(6, CAROL)
    expect(errorCode(h.join(6), 6)).toBe('ALREADY_EXISTS')
  })

  it('forgets a joiner whose conn closes before it is added', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    h.join(3)
    expect(h.close(3)).toEqual([])
    // The identity is free again: a new conn may join.
    h.open(4, CAROL)
    expect(to(h.join(4), 4)[0]?.ok).toEqual({ epoch: 1n })
    expect(h.close(4)).toEqual([])
    // Added without a pending conn: in the roster, but no Welcome goes anywhere.
    const actions = h.commit(1, 1n, { added: [CAROL] })
    expect(actions.some(a => a.kind === 'send' && a.message.welcome !== undefined)).toBe(false)
    expect(h.core.roster('s')?.members).toEqual([ALICE, BOB, CAROL])
    expect(actions.some(a => a.kind === 'send' && (a.conn === 3 || a.conn === 4))).toBe(false)
  })
})

describe('GroupServiceCore: commits', () => {
  it('delivers an accepted commit: Commit to old members, Welcome to joiners, Roster to all', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    h.open(4, DAVE)
    h.join(3)
    h.join(4)
    const commit = testCommit(1n)
    const { actions, requestId } = h.send(1, { commit: { epoch: 1n, commit, welcome: WELCOME, added: [CAROL, DAVE], removed: [] } })
    const roster = { version: 1, requestId: 0n, roster: { epoch: 2n, members: [ALICE, BOB, CAROL, DAVE], committer: ALICE } }
    expect(to(actions, 1)).toEqual([{ version: 1, requestId, ok: { epoch: 2n } }, roster])
    expect(to(actions, 2)).toEqual([{ version: 1, requestId: 0n, commit: { epoch: 2n, commit } }, roster])
    for (const joiner of [3, 4]) {
      expect(to(actions, joiner)).toEqual([{ version: 1, requestId: 0n, welcome: { epoch: 2n, welcome: WELCOME } }, roster])
    }
    expect(actions.filter(a => a.kind === 'roster')).toEqual([
      { kind: 'roster', stream: 's', epoch: 2n, members: [ALICE, BOB, CAROL, DAVE], added: [CAROL, DAVE], removed: [] },
    ])
    expect(h.core.roster('s')).toEqual({ epoch: 2n, members: [ALICE, BOB, CAROL, DAVE], committer: ALICE })
    // The joiners are members now, with their conns.
    expect(to(h.ack(3, 2n), 3)[0]?.ok).toEqual({ epoch: 2n })
  })

  it('accepts the first valid commit of an epoch and refuses the next as stale, with current_epoch', () => {
    const h = aliceAndBob()
    expect(to(h.commit(1, 1n), 1)[0]?.ok).toEqual({ epoch: 2n })
    const { actions, requestId } = h.send(1, { commit: { epoch: 1n, commit: testCommit(1n), welcome: new Uint8Array(), added: [], removed: [] } })
    expect(only(actions, 1)).toEqual({
      version: 1, requestId, error: { code: 'STALE_EPOCH', message: expect.any(String), currentEpoch: 2n },
    })
    expect(only(h.commit(1, 7n), 1).error).toMatchObject({ code: 'STALE_EPOCH', currentEpoch: 2n })
    expect(h.core.roster('s')?.epoch).toBe(2n)
  })

  it('refuses a commit whose MLS epoch differs from the declared one as STALE_EPOCH', () => {
    const h = aliceAndBob()
    expect(only(h.commit(1, 1n, { commit: testCommit(0n) }), 1).error).toMatchObject({ code: 'STALE_EPOCH', currentEpoch: 1n })
  })

  it('refuses a commit from a non-committer member, a pending joiner, or an unbound conn', () => {
    const h = aliceAndBob()
    expect(only(h.commit(2, 1n), 2).error).toMatchObject({ code: 'NOT_COMMITTER', currentEpoch: 1n })
    h.open(3, CAROL)
    h.join(3)
    expect(errorCode(h.commit(3, 1n), 3)).toBe('NOT_MEMBER')
    h.open(4, DAVE)
    expect(errorCode(h.commit(4, 1n), 4)).toBe('INVALID_STATE')
    expect(h.core.roster('s')?.epoch).toBe(1n)
  })

  it('refuses malformed commits', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    h.join(3)
    const cases: Array<Partial<SubmitCommit>> = [
      { commit: new Uint8Array([1, 2, 3]) },                  // inspectCommit throws
      { commit: new Uint8Array() },
      { commit: testCommit(1n, OTHER_GID) },                    // another group
      { added: [CAROL], welcome: new Uint8Array() },            // Add without Welcome
      { welcome: WELCOME },                                     // Welcome without Add
      { added: [CAROL, CAROL] },
      { added: [CAROL], removed: [CAROL] },
      { removed: [''] },
      { removed: ['not/a/peer/id'] },
    ]
    for (const change of cases) {
      expect(only(h.commit(1, 1n, change), 1).error).toMatchObject({ code: 'MALFORMED', currentEpoch: 1n })
    }
    expect(h.core.roster('s')?.epoch).toBe(1n)
  })

  it('refuses adding a member and removing a non-member or the committer', () => {
    const h = aliceAndBob()
    expect(errorCode(h.commit(1, 1n, { added: [BOB] }), 1)).toBe('ALREADY_EXISTS')
    expect(errorCode(h.commit(1, 1n, { added: [ALICE] }), 1)).toBe('ALREADY_EXISTS')
    expect(errorCode(h.commit(1, 1n, { removed: [CAROL] }), 1)).toBe('NOT_MEMBER')
    expect(errorCode(h.commit(1, 1n, { removed: [ALICE] }), 1)).toBe('NOT_MEMBER')
    expect(h.core.roster('s')).toEqual({ epoch: 1n, members: [ALICE, BOB], committer: ALICE })
  })

  it('adds a non-member that never asked to join, without a Welcome', () => {
    const h = aliceAndBob()
    const actions = h.commit(1, 1n, { added: [CAROL] })
    expect(to(actions, 1)[0]?.ok).toEqual({ epoch: 2n })
    expect(actions.some(a => a.kind === 'send' && a.message.welcome !== undefined)).toBe(false)
    expect(h.core.isMember('s', CAROL)).toBe(true)
  })

  it('sends a removed member the Commit, then treats it as a non-member with its conn open', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    h.join(3)
    h.commit(1, 1n, { added: [CAROL] })
    const commit = testCommit(2n)
    const { actions } = h.send(1, { commit: { epoch: 2n, commit, welcome: new Uint8Array(), added: [], removed: [BOB] } })
    expect(to(actions, 2)).toEqual([{ version: 1, requestId: 0n, commit: { epoch: 3n, commit } }])
    expect(to(actions, 3)).toEqual([
      { version: 1, requestId: 0n, commit: { epoch: 3n, commit } },
      { version: 1, requestId: 0n, roster: { epoch: 3n, members: [ALICE, CAROL], committer: ALICE } },
    ])
    expect(actions.filter(a => a.kind === 'roster')).toEqual([
      { kind: 'roster', stream: 's', epoch: 3n, members: [ALICE, CAROL], added: [], removed: [BOB] },
    ])
    expect(actions.some(a => a.kind === 'close')).toBe(false)
    expect(h.core.isMember('s', BOB)).toBe(false)
    expect(errorCode(h.ack(2, 3n), 2)).toBe('NOT_MEMBER')
    expect(errorCode(h.leave(2), 2)).toBe('NOT_MEMBER')
    expect(errorCode(h.commit(2, 3n), 2)).toBe('NOT_MEMBER')
    // Its conn closing asks nobody for anything.
    expect(h.close(2)).toEqual([])
  })

  it('lets a removed identity join again on a new conn', () => {
    const h = aliceAndBob()
    h.commit(1, 1n, { removed: [BOB] })
    h.open(3, BOB)
    expect(to(h.join(3), 1)).toEqual([{ version: 1, requestId: 0n, joinRequested: { identity: BOB } }])
    const actions = h.commit(1, 2n, { added: [BOB] })
    expect(to(actions, 3)[0]?.welcome?.epoch).toBe(3n)
    expect(to(actions, 2)).toEqual([]) // the old, removed conn hears nothing more
  })
})

describe('GroupServiceCore: epoch transition', () => {
  it('sends EpochReady to all members once every non-committer member acked', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    h.join(3)
    h.commit(1, 1n, { added: [CAROL] })
    const first = h.ack(2, 2n)
    expect(to(first, 2)).toEqual([expect.objectContaining({ ok: { epoch: 2n } })])
    expect(first.some(a => a.kind === 'send' && a.message.epochReady !== undefined)).toBe(false)
    // The committer's own ack is accepted but not needed.
    expect(h.ack(1, 2n).some(a => a.kind === 'send' && a.message.epochReady !== undefined)).toBe(false)
    const last = h.ack(3, 2n)
    const ready = { version: 1, requestId: 0n, epochReady: { epoch: 2n } }
    for (const conn of [1, 2]) expect(to(last, conn)).toEqual([ready])
    expect(to(last, 3)).toEqual([expect.objectContaining({ ok: { epoch: 2n } }), ready])
    // Once per epoch: repeated acks and the timeout send nothing more.
    expect(to(h.ack(3, 2n), 3)).toHaveLength(1)
    expect(h.tick(10_000)).toEqual([])
  })

  it('ignores acks of old epochs and refuses acks of future ones', () => {
    const h = aliceAndBob()
    h.commit(1, 1n)
    const old = h.send(2, { ack: { epoch: 1n } })
    expect(old.actions).toEqual([{ kind: 'send', conn: 2, message: { version: 1, requestId: old.requestId, ok: { epoch: 2n } } }])
    expect(only(h.ack(2, 3n), 2).error).toMatchObject({ code: 'STALE_EPOCH', currentEpoch: 2n })
    h.open(3, CAROL)
    h.join(3)
    expect(errorCode(h.ack(3, 2n), 3)).toBe('NOT_MEMBER')
    expect(h.ack(2, 2n).some(a => a.kind === 'send' && a.message.epochReady?.epoch === 2n)).toBe(true)
  })

  it('sends EpochReady on tick once the timeout passed without every ack', () => {
    const h = aliceAndBob({ epochReadyTimeoutMs: 500 })
    h.tick(10_000) // epoch 1's own wait expires first
    h.commit(1, 1n)
    expect(h.tick(499)).toEqual([])
    const actions = h.tick(1)
    const ready = { version: 1, requestId: 0n, epochReady: { epoch: 2n } }
    expect(actions).toEqual([{ kind: 'send', conn: 1, message: ready }, { kind: 'send', conn: 2, message: ready }])
    expect(h.tick(10_000)).toEqual([])
    expect(h.ack(2, 2n)).toHaveLength(1) // only the ok
  })

  it('defaults the EpochReady timeout to 2000 ms', () => {
    const h = aliceAndBob()
    expect(h.tick(1999)).toEqual([])
    expect(to(h.tick(1), 2)).toEqual([{ version: 1, requestId: 0n, epochReady: { epoch: 1n } }])
  })

  it('sends EpochReady at once when a commit leaves the committer alone', () => {
    const h = aliceAndBob()
    const actions = h.commit(1, 1n, { removed: [BOB] })
    expect(to(actions, 1).map(m => Object.keys(m).filter(k => k !== 'version' && k !== 'requestId')[0]))
      .toEqual(['ok', 'roster', 'epochReady'])
  })
})

describe('GroupServiceCore: leaving and closing', () => {
  it('leave from a member asks the committer to remove it, once', () => {
    const h = aliceAndBob()
    const { actions, requestId } = h.send(2, { leave: {} })
    expect(to(actions, 1)).toEqual([{ version: 1, requestId: 0n, leaveRequested: { identity: BOB } }])
    expect(to(actions, 2)).toEqual([{ version: 1, requestId, ok: { epoch: 1n } }])
    expect(h.core.isMember('s', BOB)).toBe(true) // until the committer commits the removal
    expect(to(h.leave(2), 1)).toEqual([])
    expect(h.close(2)).toEqual([])
  })

  it('a member conn closing asks the committer to remove it', () => {
    const h = aliceAndBob()
    expect(h.close(2)).toEqual([{ kind: 'send', conn: 1, message: { version: 1, requestId: 0n, leaveRequested: { identity: BOB } } }])
    expect(h.core.isMember('s', BOB)).toBe(true)
    // The commit removing it has no conn to go to.
    const actions = h.commit(1, 1n, { removed: [BOB] })
    expect(actions.some(a => a.kind === 'send' && a.conn === 2)).toBe(false)
  })

  it('leave from a pending joiner is refused; its join stays pending', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    h.join(3)
    expect(errorCode(h.leave(3), 3)).toBe('NOT_MEMBER')
    expect(to(h.commit(1, 1n, { added: [CAROL] }), 3)[0]?.welcome).toBeDefined()
  })

  it('leave from the committer closes the stream for every bound conn', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    h.join(3)                                  // pending joiner
    h.open(4, DAVE)
    h.join(4)
    h.commit(1, 1n, { added: [DAVE] })
    h.commit(1, 2n, { removed: [DAVE] })       // conn 4 is a removed member's
    h.open(5, 'eve')                           // unbound: unaffected
    const { actions, requestId } = h.send(1, { leave: {} })
    const closed = { version: 1, requestId: 0n, error: { code: 'NOT_FOUND', message: 'stream closed', currentEpoch: 3n } }
    expect(actions[0]).toEqual({ kind: 'send', conn: 1, message: { version: 1, requestId, ok: { epoch: 3n } } })
    for (const conn of [1, 2, 3, 4]) {
      expect(to(actions, conn).at(-1)).toEqual(closed)
      expect(actions.filter(a => a.kind === 'close' && a.conn === conn)).toHaveLength(1)
    }
    expect(actions.some(a => a.kind === 'close' && a.conn === 5)).toBe(false)
    expect(actions.at(-1)).toEqual({ kind: 'streamClosed', stream: 's' })
    expect(h.core.streams()).toEqual([])
    expect(h.core.roster('s')).toBeUndefined()
    expect(h.core.isMember('s', BOB)).toBe(false)
    // Requests racing the close get NOT_FOUND; the name is free again.
    expect(only(h.ack(2, 3n), 2).error).toMatchObject({ code: 'NOT_FOUND', currentEpoch: 3n })
    for (const conn of [1, 2, 3, 4]) expect(h.close(conn)).toEqual([])
    expect(to(h.create(5), 5)[0]?.ok).toEqual({ epoch: 0n })
  })

  it('the committer conn closing closes the stream for everyone else', () => {
    const h = aliceAndBob()
    h.open(3, CAROL)
    h.join(3)
    const actions = h.close(1)
    expect(actions.some(a => a.kind === 'send' && a.conn === 1)).toBe(false)
    expect(actions.some(a => a.kind === 'close' && a.conn === 1)).toBe(false)
    for (const conn of [2, 3]) {
      expect(only(actions, conn).error).toMatchObject({ code: 'NOT_FOUND', message: 'stream closed' })
      expect(actions).toContainEqual({ kind: 'close', conn })
    }
    expect(actions.at(-1)).toEqual({ kind: 'streamClosed', stream: 's' })
    expect(h.core.streams()).toEqual([])
  })
})

describe('GroupServiceCore: robustness and bounds', () => {
  it('ignores events for unknown conns and a repeated opened', () => {
    const h = aliceAndBob()
    expect(h.send(99, { join: { stream: 's' } }).actions).toEqual([])
    expect(h.close(99)).toEqual([])
    expect(h.open(2, 'mallory')).toEqual([])
    expect(to(h.commit(1, 1n, { removed: [BOB] }), 2)[0]?.commit).toBeDefined() // conn 2 is still bob's
    h.close(2)
    expect(h.close(2)).toEqual([])
    expect(h.send(2, { leave: {} }).actions).toEqual([])
  })

  it('echoes request_id on every reply and answers nothing when it is 0', () => {
    const h = aliceAndBob()
    const big = (1n << 64n) - 1n
    expect(to(h.send(2, { ack: { epoch: 1n } }, big).actions, 2)[0]?.requestId).toBe(big)
    expect(only(h.send(2, { ack: { epoch: 9n } }, 5n).actions, 2)).toMatchObject({ requestId: 5n, error: { code: 'STALE_EPOCH' } })
    // request_id 0: refusals are silent, effects still happen.
    expect(h.send(2, { ack: { epoch: 9n } }, 0n).actions).toEqual([])
    h.open(3, CAROL)
    const silent = h.send(3, { join: { stream: 's' } }, 0n).actions
    expect(to(silent, 3)).toEqual([])
    expect(to(silent, 1)[0]?.joinRequested).toEqual({ identity: CAROL })
  })

  it('refuses other versions and messages without exactly one body', () => {
    const h = new Harness()
    h.open(1, ALICE)
    expect(errorCode(h.send(1, { create: { stream: 's', groupId: GID } }, 1n, 2).actions, 1)).toBe('UNSUPPORTED_VERSION')
    expect(errorCode(h.send(1, {}).actions, 1)).toBe('MALFORMED')
    expect(errorCode(h.send(1, { create: { stream: 's', groupId: GID }, join: { stream: 's' } }).actions, 1)).toBe('MALFORMED')
    expect(h.core.streams()).toEqual([])
  })

  it('bounds the streams per node', () => {
    expect(MAX_STREAMS_PER_NODE).toBeGreaterThan(0)
    const h = new Harness({ maxStreams: 2 })
    for (const conn of [1, 2, 3]) h.open(conn, `p${conn}`)
    h.create(1, 'a')
    h.create(2, 'b')
    expect(errorCode(h.create(3, 'c'), 3)).toBe('TOO_LARGE')
    h.leave(1)
    expect(to(h.create(3, 'c'), 3)[0]?.ok).toEqual({ epoch: 0n })
  })

  it('bounds the pending joiners per stream', () => {
    expect(MAX_PENDING_JOINERS_PER_STREAM).toBeGreaterThan(0)
    const h = new Harness({ maxPendingJoiners: 2 })
    h.open(1, ALICE)
    h.create(1)
    for (const conn of [2, 3, 4]) h.open(conn, `p${conn}`)
    h.join(2)
    h.join(3)
    expect(only(h.join(4), 4).error).toMatchObject({ code: 'TOO_LARGE', currentEpoch: 0n })
    h.close(2)
    expect(to(h.join(4), 4)[0]?.ok).toBeDefined()
  })

  it('bounds the members per stream and the adds per commit', () => {
    const h = aliceAndBob({ maxMembers: 3 })
    expect(errorCode(h.commit(1, 1n, { added: [CAROL, DAVE] }), 1)).toBe('TOO_LARGE')
    expect(to(h.commit(1, 1n, { added: [CAROL, DAVE], removed: [BOB] }), 1)[0]?.ok).toEqual({ epoch: 2n })
    const many = Array.from({ length: MAX_ADDED_PER_COMMIT + 1 }, (_, i) => `m${i}`)
    expect(errorCode(aliceAndBob().commit(1, 1n, { added: many }), 1)).toBe('TOO_LARGE')
  })

  it('rejects non-positive options', () => {
    expect(() => new GroupServiceCore({ inspectCommit: inspectTestCommit, epochReadyTimeoutMs: 0 })).toThrow(RangeError)
    expect(() => new GroupServiceCore({ inspectCommit: inspectTestCommit, maxStreams: Number.NaN })).toThrow(RangeError)
    expect(() => new GroupServiceCore({ inspectCommit: inspectTestCommit, maxMembers: MAX_ROSTER + 1 })).toThrow(RangeError)
  })

  it('maps any inspector failure to MALFORMED, with a message that fits the wire bound', () => {
    const inspectors = [
      () => { throw 'not even an Error' },
      () => { throw new Error('\u{1F4A5}'.repeat(5000)) },
      () => undefined as unknown as { groupId: Uint8Array, epoch: bigint },
    ]
    for (const inspectCommit of inspectors) {
      const h = new Harness({ inspectCommit })
      h.open(1, ALICE)
      h.create(1)
      const error = only(h.commit(1, 0n), 1).error
      expect(error?.code).toBe('MALFORMED')
      expect(Buffer.byteLength(error?.message ?? '', 'utf8')).toBeLessThanOrEqual(MAX_ERROR_MESSAGE)
      expect(h.core.roster('s')?.epoch).toBe(0n)
    }
  })
})

// ---- property: random event sequences from several conns ----

const PEERS = ['p0', 'p1', 'p2', 'p3']
const STREAMS = ['s0', 's1']
const CONNS = [1, 2, 3, 4, 5, 6]

type Step =
  | { kind: 'opened', conn: number, peer: string }
  | { kind: 'closed', conn: number }
  | { kind: 'tick', advance: number }
  | { kind: 'message', conn: number, withId: boolean, version: number, body: GenBody }

type GenBody =
  | { kind: 'create', stream: string, gid: number }
  | { kind: 'join', stream: string }
  // epochDelta is added to the stream's current epoch at run time, so many commits are valid.
  | { kind: 'commit', epochDelta: number, innerDelta: number, gid: number, added: string[], removed: string[], welcome: boolean, garbage: boolean }
  | { kind: 'ack', epochDelta: number }
  | { kind: 'leave' }
  | { kind: 'empty' }

const conn = fc.constantFrom(...CONNS)
const peer = fc.constantFrom(...PEERS)
const stream = fc.constantFrom(...STREAMS)
const peerSet = fc.subarray(PEERS)
const genBody: fc.Arbitrary<GenBody> = fc.oneof(
  fc.record({ kind: fc.constant('create' as const), stream, gid: fc.integer({ min: 0, max: 1 }) }),
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('join' as const), stream }) },
  { weight: 5, arbitrary: fc.record({
    kind: fc.constant('commit' as const),
    epochDelta: fc.oneof({ weight: 5, arbitrary: fc.constant(0) }, fc.integer({ min: -2, max: 2 })),
    innerDelta: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, fc.integer({ min: -1, max: 1 })),
    gid: fc.oneof({ weight: 8, arbitrary: fc.constant(0) }, fc.constant(1)),
    added: fc.oneof({ weight: 3, arbitrary: fc.subarray(PEERS, { maxLength: 1 }) }, peerSet),
    removed: fc.oneof({ weight: 3, arbitrary: fc.constant<string[]>([]) }, fc.subarray(PEERS, { maxLength: 1 }), peerSet),
    welcome: fc.oneof({ weight: 8, arbitrary: fc.constant(true) }, fc.boolean()),
    garbage: fc.oneof({ weight: 10, arbitrary: fc.constant(false) }, fc.constant(true)),
  }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('ack' as const), epochDelta: fc.integer({ min: -1, max: 1 }) }) },
  fc.record({ kind: fc.constant('leave' as const) }),
  fc.record({ kind: fc.constant('empty' as const) }),
)
const step: fc.Arbitrary<Step> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('opened' as const), conn, peer }) },
  fc.record({ kind: fc.constant('closed' as const), conn }),
  fc.record({ kind: fc.constant('tick' as const), advance: fc.integer({ min: 0, max: 3000 }) }),
  { weight: 10, arbitrary: fc.record({
    kind: fc.constant('message' as const),
    // The preamble makes conns 1 and 2 committers; lean on them so commits are often in order.
    conn: fc.oneof(conn, fc.constantFrom(1, 2)),
    withId: fc.oneof({ weight: 6, arbitrary: fc.constant(true) }, fc.constant(false)),
    version: fc.oneof({ weight: 20, arbitrary: fc.constant(1) }, fc.constant(2)),
    body: genBody,
  }) },
)

const GIDS = [GID, OTHER_GID]

function toMessage (core: GroupServiceCore, streamOf: Map<number, string>, c: number, body: GenBody): Body {
  const current = (): bigint => core.roster(streamOf.get(c) ?? '')?.epoch ?? 0n
  const shift = (delta: number): bigint => { const e = current() + BigInt(delta); return e < 0n ? 0n : e }
  switch (body.kind) {
    case 'create': return { create: { stream: body.stream, groupId: GIDS[body.gid]! } }
    case 'join': return { join: { stream: body.stream } }
    case 'ack': return { ack: { epoch: shift(body.epochDelta) } }
    case 'leave': return { leave: {} }
    case 'empty': return {}
    case 'commit': {
      const epoch = shift(body.epochDelta)
      const added = body.added
      return {
        commit: {
          epoch,
          commit: body.garbage ? new Uint8Array([9]) : testCommit(shift(body.epochDelta + body.innerDelta), GIDS[body.gid]!),
          welcome: (added.length > 0) === body.welcome ? WELCOME : new Uint8Array(),
          added,
          removed: body.removed,
        },
      }
    }
  }
}

describe('GroupServiceCore: property', () => {
  it('never throws, answers every request once, and only moves epochs forward', () => {
    let acceptedCommits = 0
    let readies = 0
    const commitOutcomes = new Set<string>()
    // Every run starts with all conns open and both streams created, so the
    // random part spends its steps on joins, commits, acks and closes.
    const preamble: Step[] = [
      ...CONNS.map(c => ({ kind: 'opened' as const, conn: c, peer: PEERS[(c - 1) % PEERS.length]! })),
      ...STREAMS.map((name, i) => ({ kind: 'message' as const, conn: i + 1, withId: true, version: 1, body: { kind: 'create' as const, stream: name, gid: 0 } })),
    ]
    fc.assert(fc.property(fc.array(step, { minLength: 10, maxLength: 80, size: 'max' }), fc.integer({ min: 100, max: 3000 }), (random, timeout) => {
      const steps = [...preamble, ...random]
      const core = new GroupServiceCore({ inspectCommit: inspectTestCommit, epochReadyTimeoutMs: timeout, maxPendingJoiners: 3, maxStreams: 2 })
      const open = new Set<number>()
      const streamOf = new Map<number, string>() // each conn's stream once bound, to aim epochs
      const lastEpoch = new Map<string, bigint>()
      const lastReady = new Map<number, bigint>() // per open conn: the last EpochReady it got
      let now = 0
      let nextId = 1n
      for (const s of steps) {
        let actions: GroupAction[]
        if (s.kind === 'opened') {
          if (!open.has(s.conn)) { streamOf.delete(s.conn); lastReady.delete(s.conn) }
          open.add(s.conn)
          actions = core.handle({ kind: 'opened', conn: s.conn, peer: s.peer }, now)
          expect(actions).toEqual([])
        } else if (s.kind === 'closed') {
          open.delete(s.conn)
          actions = core.handle({ kind: 'closed', conn: s.conn }, now)
        } else if (s.kind === 'tick') {
          now += s.advance
          actions = core.handle({ kind: 'tick' }, now)
        } else {
          const requestId = s.withId ? nextId++ : 0n
          const message: GroupClientMessage = { version: s.version, requestId, ...toMessage(core, streamOf, s.conn, s.body) }
          actions = core.handle({ kind: 'message', conn: s.conn, message }, now)
          const replies = actions.flatMap(a => a.kind === 'send' && a.message.requestId !== 0n ? [a] : [])
          if (!open.has(s.conn)) {
            expect(actions).toEqual([])
          } else if (requestId === 0n) {
            expect(replies).toEqual([])
          } else {
            expect(replies).toHaveLength(1)
            const reply = replies[0]!
            expect(reply.conn).toBe(s.conn)
            expect(reply.message.requestId).toBe(requestId)
            expect((reply.message.ok !== undefined) !== (reply.message.error !== undefined)).toBe(true)
            if (s.body.kind === 'commit') commitOutcomes.add(reply.message.error?.code ?? 'ok')
            if (reply.message.ok !== undefined) {
              if (s.body.kind === 'create' || s.body.kind === 'join') streamOf.set(s.conn, s.body.stream)
              if (s.body.kind === 'commit') acceptedCommits++
            }
          }
        }
        for (const a of actions) {
          if (a.kind === 'send') {
            expect(a.message.version).toBe(1)
            // Everything the core sends must pass the wire encoder's bounds, or the shell could not send it.
            expect(decodeGroupServerMessage(encodeGroupServerMessage(a.message))).toEqual(a.message)
            expect(open.has(a.conn)).toBe(true)
            const ready = a.message.epochReady
            if (ready !== undefined) {
              // A conn serves one stream life, so its EpochReadys must strictly increase.
              const previous = lastReady.get(a.conn)
              if (previous !== undefined) expect(ready.epoch).toBeGreaterThan(previous)
              lastReady.set(a.conn, ready.epoch)
              readies++
            }
          } else if (a.kind === 'close') {
            expect(open.has(a.conn)).toBe(true)
          } else if (a.kind === 'roster') {
            const previous = lastEpoch.get(a.stream)
            if (previous !== undefined) expect(a.epoch).toBeGreaterThan(previous)
            lastEpoch.set(a.stream, a.epoch)
            expect(a.members[0]).toBe(core.roster(a.stream)?.committer)
          } else {
            lastEpoch.delete(a.stream)
          }
        }
        expect(new Set(lastEpoch.keys())).toEqual(new Set(core.streams()))
        for (const name of core.streams()) {
          const roster = core.roster(name)!
          expect(roster.members).toContain(roster.committer)
          expect(roster.epoch).toBe(lastEpoch.get(name))
        }
      }
    }), { numRuns: 300 })
    // The generators must reach the interesting paths, not only refusals.
    expect(acceptedCommits).toBeGreaterThan(100)
    expect(readies).toBeGreaterThan(50)
    for (const code of ['ok', 'STALE_EPOCH', 'MALFORMED', 'ALREADY_EXISTS', 'NOT_MEMBER', 'INVALID_STATE']) expect(commitOutcomes).toContain(code)
  })
})
