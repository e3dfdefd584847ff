/**
 * Test harness of GroupServiceCore, shared by the core's unit and property
 * tests (group-core.test.ts) and the survival tests (group-survival.test.ts):
 * a fake Commit format the core can inspect, a driver with a manual clock,
 * and helpers that pick messages out of the core's actions.
 */
import { expect } from 'vitest'
import {
  GroupServiceCore, type CommitInfo, type ConnId, type GroupAction, type GroupServiceOptions,
} from '../../src/node/group-core.js'
import type { GroupClientMessage, GroupServerMessage, SubmitCommit } from '../../src/wire/pb/group.js'
import { streamKey, type StreamKey } from '../../src/wire/stream-tag.js'
// A tiny stand-in for an MLS PublicMessage Commit: 'C' || JSON of what the
// core reads from one (group id, epoch, sender leaf, the identities its Adds
// carry, the leaves its Removes name, proposals by reference). The unit under
// test is the state machine, not MLS parsing; test/node/leaf-tracking.test.ts
// runs the core on real Commits.
export const GID = new Uint8Array([0x67, 0x69, 0x64])
export const OTHER_GID = new Uint8Array([0x78])
export const WELCOME = new Uint8Array([0x57, 1, 2, 3])
export const NONE = new Uint8Array()

/** What a fake Commit says about itself; unset fields default to an honest Commit of the committer (leaf 0). */
export interface FakeCommit {
  epoch: bigint
  groupId?: Uint8Array
  /** Sender leaf; null for a Commit with no member sender. */
  sender?: number | null
  added?: string[]
  removed?: number[]
  refs?: number
}

export function testCommit (c: FakeCommit): Uint8Array<ArrayBuffer> {
  const json = JSON.stringify({
    e: c.epoch.toString(), g: Buffer.from(c.groupId ?? GID).toString('hex'), s: c.sender === undefined ? 0 : c.sender,
    a: c.added ?? [], r: c.removed ?? [], p: c.refs ?? 0,
  })
  return new Uint8Array(Buffer.from(`C${json}`, 'utf8'))
}

export function inspectTestCommit (bytes: Uint8Array): CommitInfo {
  if (bytes.byteLength < 2 || bytes[0] !== 0x43) throw new Error('not a test commit')
  const o = JSON.parse(Buffer.from(bytes.subarray(1)).toString('utf8')) as { e: string, g: string, s: number | null, a: string[], r: number[], p: number }
  return {
    epoch: BigInt(o.e),
    groupId: new Uint8Array(Buffer.from(o.g, 'hex')),
    ...(o.s === null ? {} : { senderLeafIndex: o.s }),
    addedIdentities: o.a,
    removedLeafIndices: o.r,
    proposalRefs: o.p,
  }
}

export type Body = Omit<GroupClientMessage, 'version' | 'requestId'>

export const ALICE = 'alice'
export const BOB = 'bob'
export const CAROL = 'carol'
export const DAVE = 'dave'
export const EVE = 'eve'

/** Alice's stream 's', where most tests happen. */
export const S = streamKey(ALICE, 's')

/** Drives one core with a manual clock and fresh request ids. */
export class Harness {
  readonly core: GroupServiceCore
  now = 0
  private nextRequestId = 1n
  private readonly peers = new Map<ConnId, string>()

  constructor (opts: Partial<GroupServiceOptions> = {}) {
    this.core = new GroupServiceCore({ inspectCommit: inspectTestCommit, ...opts })
  }

  open (conn: ConnId, peer: string): GroupAction[] {
    this.peers.set(conn, peer)
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
  /** Joins `owner`'s stream `stream` (default alice's 's'). */
  join (conn: ConnId, owner = ALICE, stream = 's', redemption: Uint8Array<ArrayBuffer> = NONE): GroupAction[] {
    return this.send(conn, { join: { stream, owner, redemption } }).actions
  }

  ack (conn: ConnId, epoch: bigint): GroupAction[] { return this.send(conn, { ack: { epoch } }).actions }
  leave (conn: ConnId): GroupAction[] { return this.send(conn, { leave: {} }).actions }
  deny (conn: ConnId, identity: string, reason = ''): GroupAction[] { return this.send(conn, { deny: { identity, reason } }).actions }
  /** Resumes membership of `owner`'s stream `stream` (default alice's 's') from MLS epoch `epoch`. */
  resume (conn: ConnId, epoch: bigint, owner = ALICE, stream = 's'): GroupAction[] {
    return this.send(conn, { resume: { stream, owner, epoch } }).actions
  }

  end (conn: ConnId): GroupAction[] { return this.send(conn, { end: {} }).actions }

  goingAway (reason: string, addresses: readonly string[], retryAfterMs: number): GroupAction[] {
    return this.core.handle({ kind: 'going-away', reason, addresses, retryAfterMs }, this.now)
  }

  /**
   * The SubmitCommit `conn`'s member would send on `stream`: by default a
   * Commit whose own proposals are exactly `change.added` and the leaves of
   * `change.removed`, from the sender's leaf; `mls` makes it say otherwise.
   */
  submitCommit (conn: ConnId, epoch: bigint, change: Partial<SubmitCommit> = {}, mls: Partial<FakeCommit> = {}, stream: StreamKey = S): SubmitCommit {
    const added = change.added ?? []
    const removed = change.removed ?? []
    const leafOf = (id: string): number => this.core.leafIndexOf(stream, id) ?? 999
    return {
      epoch,
      commit: testCommit({ epoch, added, removed: removed.map(leafOf), sender: leafOf(this.peers.get(conn) ?? ''), ...mls }),
      welcome: added.length > 0 ? WELCOME : NONE,
      added,
      removed,
      ...change,
    }
  }

  commit (conn: ConnId, epoch: bigint, change: Partial<SubmitCommit> = {}, mls: Partial<FakeCommit> = {}, stream: StreamKey = S): GroupAction[] {
    return this.send(conn, { commit: this.submitCommit(conn, epoch, change, mls, stream) }).actions
  }
}

/** Messages sent to `conn`, in order. */
export function to (actions: GroupAction[], conn: ConnId): GroupServerMessage[] {
  return actions.flatMap(a => a.kind === 'send' && a.conn === conn ? [a.message] : [])
}

export function only (actions: GroupAction[], conn: ConnId): GroupServerMessage {
  const messages = to(actions, conn)
  expect(messages).toHaveLength(1)
  return messages[0]!
}

export function errorCode (actions: GroupAction[], conn: ConnId): string | undefined {
  return only(actions, conn).error?.code
}

export function rosterActions (actions: GroupAction[]): GroupAction[] {
  return actions.filter(a => a.kind === 'roster')
}

export function joinRequested (identity: string, redemption: Uint8Array<ArrayBuffer> = NONE): GroupServerMessage {
  return { version: 1, requestId: 0n, joinRequested: { identity, redemption } }
}

export function joinWithdrawn (identity: string): GroupServerMessage {
  return { version: 1, requestId: 0n, joinWithdrawn: { identity } }
}

export function leaveRequested (identity: string): GroupServerMessage {
  return { version: 1, requestId: 0n, leaveRequested: { identity } }
}

export function rosterOf (epoch: bigint, members: string[], committer: string): GroupServerMessage {
  return { version: 1, requestId: 0n, roster: { epoch, members, committer } }
}

export function epochReady (epoch: bigint): GroupServerMessage {
  return { version: 1, requestId: 0n, epochReady: { epoch } }
}

/** The name of each body in `messages` (ok, error, roster...), for checking the order of what a conn got. */
export function kinds (messages: GroupServerMessage[]): string[] {
  return messages.map(m => Object.keys(m).filter(k => k !== 'version' && k !== 'requestId')[0]!)
}

/** Stream alice/s at epoch 1: alice (conn 1, committer, leaf 0) and bob (conn 2, leaf 1). */
export function aliceAndBob (opts: Partial<GroupServiceOptions> = {}): Harness {
  const h = new Harness(opts)
  h.open(1, ALICE)
  h.open(2, BOB)
  h.create(1)
  h.join(2)
  h.commit(1, 0n, { added: [BOB] })
  return h
}
