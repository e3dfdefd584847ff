/**
 * GroupServiceCore: the sans-IO core of the group service, the MLS delivery
 * service of protocol/control.md section 3 (protocol id /fabric/group/1, protocol/group.proto).
 * Per fabric stream it keeps the MLS epoch, the roster with each member's
 * leaf index, the designated committer, the pending joiners and a bounded
 * log of recent Commits; it orders Commits (the first valid Commit for the
 * current epoch from the designated committer wins, RFC 9420 section 12.4),
 * fans them out with the Welcomes of the joiners (section 12.4.3.1), and
 * tells members when every live one of them has moved to the new epoch
 * (protocol/sequences.md section 3).
 *
 * Streams are addressed by owner and name (StreamKey, wire/stream-tag.ts):
 * `create` makes the stream of the sender's own identity, so no one can take
 * another owner's name. Who may join is not this core's decision: the
 * committer decides by the group's admission policy (protocol/admission.md)
 * and either commits the Add or sends `deny`; the core only carries the
 * request and the answer, and keeps the quotas that protect the node.
 *
 * Survival (protocol/survival.md):
 * - Every member can commit; one at a time is designated: the creator
 *   first, then, whenever the designated one leaves or its group stream
 *   breaks, the live member with the lowest leaf index. The new one is told
 *   by a Roster naming it and is handed every pending join and departure
 *   again, so none is lost; a Commit from anyone else is refused
 *   NOT_COMMITTER, and a join is added at most once (it leaves the pending
 *   set with the Commit that adds it).
 * - A member whose group stream breaks is away, not gone: it keeps its leaf,
 *   no longer counts for EpochReady, and may `resume` on a new group stream
 *   within the grace period, getting the Commits it missed from the log.
 *   After the grace period the committer is asked to remove it; departures
 *   found in one tick are asked for together, so they can share a Commit.
 * - The stream ends when its owner ends it (`end`), or when no member is
 *   live and none is still expected back (every one left, or has been away
 *   longer than the grace period).
 * - `snapshot` and `restore` carry a stream across a node restart: after
 *   `restore` every member is away from the restore time, so members that
 *   reconnect in time resume where they were.
 *
 * It is a pure, deterministic state machine: `handle` takes one event and the
 * current time and returns the actions the I/O shell must carry out, in order.
 * It owns no sockets, timers or tasks and never reads a clock; the shell
 * feeds it `tick`s. It never parses MLS itself: the shell plugs in
 * `inspectCommit` (ts-mls in production, a fake in unit tests).
 *
 * Reply rule: every request with request_id != 0 on a conn the core knows
 * gets exactly one reply, `ok` or `error`, echoing request_id; with
 * request_id 0 the request takes effect but nothing answers it, errors
 * included. Error codes are FabricError codes (src/errors.ts).
 *
 * Refusal order of a commit, so racing clients see a predictable code:
 * NOT_MEMBER / NOT_COMMITTER, then STALE_EPOCH on the declared epoch, then
 * MALFORMED / TOO_LARGE on the shape, then ALREADY_EXISTS / NOT_MEMBER /
 * QUOTA_EXCEEDED against the roster, and last the `inspectCommit` checks
 * (MALFORMED, or STALE_EPOCH when the Commit's own epoch differs), because
 * parsing is the costly step. The core reads the Commit's Add and Remove
 * proposals itself and refuses a SubmitCommit whose `added` or `removed`
 * disagree, so the roster and leaf indices it keeps are the ones the MLS
 * group has (the relay holds each member to tracks of its own leaf).
 *
 * Quotas (group/limits.ts, overridable per instance), each refused with
 * QUOTA_EXCEEDED: streams per node and per owner; pending joiners per
 * stream and pending joins per identity (which also expire); group streams
 * per identity; members per stream. An unbound stream that does not send
 * create, join or resume in time is closed. The Commit log is bounded per
 * stream in entries and bytes.
 *
 * Lifecycle of a conn: unbound after `opened`; bound to one stream by its
 * first create/join/resume; after its stream closes, its join is denied or
 * expires, or a newer resume replaces it, it answers every request with
 * NOT_FOUND until the shell reports it `closed`. Events for conns never
 * opened are ignored. EpochReady is not sent for epoch 0: no key retires.
 */
import type { ErrorCode } from '../errors.js'
import { MAX_ADDED_PER_COMMIT, MAX_ROSTER } from '../wire/limits.js'
import type { AckEpoch, CreateStream, DenyJoin, GroupClientMessage, GroupServerMessage, JoinStream, ResumeStream, SubmitCommit } from '../wire/pb/group.js'
import { streamKey, type StreamKey } from '../wire/stream-tag.js'
import { validateIdentity } from '../wire/identity.js'
import { MAX_CONTROL_FRAME } from '../wire/limits.js'
import { PROTOCOL_VERSION } from '../wire/message-codec.js'
import {
  DEFAULT_BIND_TIMEOUT_MS, DEFAULT_COMMIT_LOG_BYTES, DEFAULT_COMMIT_LOG_ENTRIES, DEFAULT_EPOCH_READY_TIMEOUT_MS,
  DEFAULT_MEMBER_GRACE_MS, DEFAULT_PENDING_JOIN_TIMEOUT_MS, FETCHES_PER_PENDING_JOIN,
  MAX_GROUP_REQUEST_FRAME, MAX_GROUP_STREAMS_PER_IDENTITY, MAX_MEMBERS_PER_STREAM,
  MAX_PENDING_JOINERS_PER_STREAM, MAX_PENDING_JOINS_PER_IDENTITY, MAX_STREAMS_PER_IDENTITY, MAX_STREAMS_PER_NODE,
} from './group/limits.js'
import {
  commitMessage, epochReadyMessage, errorMessage, goingAwayMessage, joinRequestedMessage, joinWithdrawnMessage, leaveRequestedMessage,
  okMessage, rosterMessage, welcomeMessage,
} from './group/messages.js'
import { CommitLog } from './group/commit-log.js'
import { equalBytes } from '../session/bytes.js'
import { Refusal, checkCommitShape, checkGroupId, checkStreamAddress, clientBody } from './group/validate.js'

export {
  DEFAULT_BIND_TIMEOUT_MS, DEFAULT_COMMIT_LOG_BYTES, DEFAULT_COMMIT_LOG_ENTRIES, DEFAULT_EPOCH_READY_TIMEOUT_MS,
  DEFAULT_MEMBER_GRACE_MS, DEFAULT_PENDING_JOIN_TIMEOUT_MS, FETCHES_PER_PENDING_JOIN,
  MAX_GROUP_REQUEST_FRAME, MAX_GROUP_STREAMS_PER_IDENTITY, MAX_MEMBERS_PER_STREAM,
  MAX_PENDING_JOINERS_PER_STREAM, MAX_PENDING_JOINS_PER_IDENTITY, MAX_STREAMS_PER_IDENTITY, MAX_STREAMS_PER_NODE,
} from './group/limits.js'

/**
 * Shell-chosen id of one long-lived /fabric/group/1 libp2p stream of one
 * peer. Unique among open conns; the shell must not reuse an id before it
 * has reported the conn `closed`.
 */
export type ConnId = number

/**
 * An input to the core.
 * - `opened`: a conn was accepted; `peer` is the authenticated libp2p peer id,
 *   which is the member's MLS credential identity (protocol/mls.md section 2).
 * - `message`: a decoded, size-checked client message arrived on `conn`.
 * - `closed`: `conn` is gone (either side closed it or it reset). Also sent
 *   after the shell carried out a `close` action, so the core can forget it.
 * - `tick`: time passed; the shell sends it periodically (a few times per
 *   second is plenty: every timeout here is a second or more).
 * - `going-away`: the node is about to stop; every bound conn is sent a
 *   GoingAway notice with `reason`, `addresses` (other nodes to go to) and
 *   `retryAfterMs` (protocol/survival.md section 5).
 * Events for a conn never `opened`, or already `closed`, are ignored.
 */
export type GroupEvent =
  | { kind: 'opened', conn: ConnId, peer: string }
  | { kind: 'message', conn: ConnId, message: GroupClientMessage }
  | { kind: 'closed', conn: ConnId }
  | { kind: 'tick' }
  | { kind: 'going-away', reason: string, addresses: readonly string[], retryAfterMs: number }

/**
 * An output of the core, to be carried out in order.
 * - `send`: encode `message` and write it on `conn`.
 * - `close`: close `conn` after writing what was sent before; the shell then
 *   reports it `closed`.
 * - `roster`: the membership of `stream` changed (create or accepted commit);
 *   the node updates the relay: drop the subscriptions of `removed`, admit
 *   only `members`, hold each member to tracks of its leaf (`leaves`),
 *   clear GOP caches since `epoch` changed. `members` is in roster order.
 * - `committer`: the designated committer of `stream` changed to
 *   `committer` (undefined: no member is live to take the role), whose
 *   group stream is `conn`: the shell raises that conn's frame bound
 *   (`frameBoundOf`), since Commits and Welcomes come on it now.
 * - `persist`: the durable state of `stream` changed (created, or a Commit
 *   accepted); the shell stores `snapshot(stream)` before it carries out the
 *   actions after this one, so no member ever holds an epoch the store lacks.
 * - `streamClosed`: `stream` no longer exists; the relay drops it and the
 *   shell deletes its stored state.
 */
export type GroupAction =
  | { kind: 'send', conn: ConnId, message: GroupServerMessage }
  | { kind: 'close', conn: ConnId }
  | { kind: 'roster', stream: StreamKey, epoch: bigint, members: string[], added: string[], removed: string[], leaves: ReadonlyMap<string, number> }
  | { kind: 'committer', stream: StreamKey, epoch: bigint, committer: string | undefined, conn?: ConnId }
  | { kind: 'persist', stream: StreamKey }
  | { kind: 'streamClosed', stream: StreamKey }

/** What `inspectCommit` reads from a Commit's PublicMessage framing (RFC 9420 section 6.2). */
export interface CommitInfo {
  /** The MLS group id the Commit is for. */
  groupId: Uint8Array
  /** The epoch the Commit was created in (it starts epoch + 1). */
  epoch: bigint
  /** Leaf index of the member that sent it. */
  senderLeafIndex?: number
  /** Identities of the KeyPackages its Add proposals carry, in order. */
  addedIdentities: string[]
  /** Leaf indices its Remove proposals name, in order. */
  removedLeafIndices: number[]
  /** Proposals it includes by reference (fabric sends none). */
  proposalRefs: number
}

/**
 * Reads a Commit's group id, epoch, sender and Add/Remove proposals from an
 * MLSMessage carrying a PublicMessage Commit. Must be pure. Any throw means
 * the bytes are not such a message and is reported to the committer as
 * MALFORMED.
 */
export type InspectCommit = (commit: Uint8Array) => CommitInfo

/** Construction options of a GroupServiceCore; every bound defaults to group/limits.ts. */
export interface GroupServiceOptions {
  /** Parser of submitted Commits; see InspectCommit. */
  inspectCommit: InspectCommit
  /** Wait in ms from the start of an epoch until EpochReady is sent without every ack; default 2000. */
  epochReadyTimeoutMs?: number
  /** Bound on streams hosted at once; default MAX_STREAMS_PER_NODE (1024). */
  maxStreams?: number
  /** Bound on streams one identity owns at once; default MAX_STREAMS_PER_IDENTITY (8). */
  maxStreamsPerIdentity?: number
  /** Bound on pending joiners per stream; default MAX_PENDING_JOINERS_PER_STREAM (256), at most the wire's MAX_ADDED_PER_COMMIT. */
  maxPendingJoiners?: number
  /** Bound on joins one identity has pending across streams; default MAX_PENDING_JOINS_PER_IDENTITY (16). */
  maxPendingJoinsPerIdentity?: number
  /** Time a join waits for its Add or denial, ms; default 120 000. */
  pendingJoinTimeoutMs?: number
  /** Time a new group stream has to send create or join, ms; default 10 000. */
  bindTimeoutMs?: number
  /** Bound on group streams one identity holds open; default MAX_GROUP_STREAMS_PER_IDENTITY (64). */
  maxGroupStreamsPerIdentity?: number
  /** Bound on members per stream; default MAX_MEMBERS_PER_STREAM (1024), at most the wire's MAX_ROSTER. */
  maxMembers?: number
  /** How long a member whose group stream broke may resume before its removal is asked for, ms; default 10 000. */
  memberGraceMs?: number
  /** Commits kept per stream for resuming members; default DEFAULT_COMMIT_LOG_ENTRIES (64). */
  commitLogEntries?: number
  /** Bytes of Commits kept per stream; default DEFAULT_COMMIT_LOG_BYTES (256 KiB). */
  commitLogBytes?: number
}

/**
 * The durable state of one stream (what `persist` stores and `restore`
 * takes): enough to go on after a node restart. Pending joins are not kept:
 * their joiners' group streams died with the node, and they ask again.
 */
export interface StreamSnapshot {
  readonly key: StreamKey
  readonly owner: string
  readonly groupId: Uint8Array
  readonly epoch: bigint
  /** Members in roster order with their leaf indices. */
  readonly members: ReadonlyArray<{ readonly identity: string, readonly leaf: number }>
  /** The Commit log, oldest first. */
  readonly log: ReadonlyArray<{ readonly epoch: bigint, readonly commit: Uint8Array }>
}

/** A stream's roster as `GroupServiceCore.roster` reports it (fresh copies). */
export interface GroupRoster {
  /** Current MLS epoch; 0 at creation, +1 per accepted Commit. */
  epoch: bigint
  /** Member identities (libp2p peer ids) in roster order. */
  members: string[]
  /** The stream's owner (its creator). */
  owner: string
  /** Identity of the member designated to commit now; '' while no member is live. */
  committer: string
  /** Joins waiting for the committer. */
  pending: number
  /** Members whose group stream is gone (within the grace period or past it). */
  away: string[]
}

/** Counters of the core, updated live. */
export interface GroupCounters {
  /** Requests refused, by error code. */
  refused: Record<string, number>
  /** Joins the committer denied. */
  denied: number
  /** Joins that waited past pendingJoinTimeoutMs. */
  expiredJoins: number
  /** Group streams closed because they never sent create or join in time. */
  unboundClosed: number
  /** Group streams refused at open for the per-identity bound. */
  streamsRefused: number
  /** Times the committer role moved to another member. */
  handovers: number
  /** Members that resumed on a new group stream. */
  resumed: number
  /** Resumes answered REJOIN_NEEDED. */
  rejoinsNeeded: number
  /** Removals asked for because a member stayed away past the grace period. */
  graceExpired: number
}

interface Member {
  /** Undefined when the member was added without a conn here, or its conn closed (it is away). */
  conn: ConnId | undefined
  /** Since when it is away (ms, the core's clock); undefined while it has a conn. */
  awaySinceMs: number | undefined
  /** Its departure is under way: it left, or stayed away past the grace period; committers are asked to remove it. */
  leaveRequested: boolean
  /** The member's MLS leaf index (the leftmost free leaf when it was added, RFC 9420 section 12.1.1). */
  leaf: number
}

interface Pending {
  readonly conn: ConnId
  readonly sinceMs: number
  /** The Redemption it presented, handed again to a new committer. */
  readonly redemption: Uint8Array<ArrayBuffer>
  /** KeyPackage fetches the committer may still make for this joiner. */
  fetchesLeft: number
}

interface StreamState {
  readonly key: StreamKey
  readonly groupId: Uint8Array
  readonly owner: string
  /** The designated committer: a live member, or undefined while none is live. */
  committer: string | undefined
  epoch: bigint
  /** Recent accepted Commits, for resuming members. */
  readonly log: CommitLog
  /** In roster order; Map keeps insertion order, so the creator stays first. */
  readonly members: Map<string, Member>
  /** Occupied leaves: leaf index -> identity (undefined: blank). */
  readonly leaves: Array<string | undefined>
  /** Joiner identity -> its pending join. */
  readonly pending: Map<string, Pending>
  /** Every conn bound to this stream: members, pending joiners, removed members. */
  readonly conns: Set<ConnId>
  /** Members that acked the current epoch. */
  readonly acks: Set<string>
  epochStartMs: number
  /** EpochReady went out for the current epoch (or none is due, as at epoch 0). */
  epochReady: boolean
}

type ConnState =
  | { phase: 'unbound', peer: string, sinceMs: number }
  | { phase: 'bound', peer: string, stream: StreamState }
  /** Its binding ended and a `close` went out; requests get NOT_FOUND until the shell reports it closed. */
  | { phase: 'closing', peer: string, epoch: bigint }

/**
 * How a bound conn relates to its stream. Derived from the stream each time
 * rather than stored on the conn, so it can never disagree with the roster.
 * `outsider` is a removed member whose conn is still open.
 */
type Role = 'committer' | 'member' | 'pending' | 'outsider'

/**
 * The group service state machine: one per node, holding every stream the
 * node hosts. Synchronous; the shell serialises events into `handle`.
 */
export class GroupServiceCore {
  readonly counters: GroupCounters = {
    refused: {}, denied: 0, expiredJoins: 0, unboundClosed: 0, streamsRefused: 0, handovers: 0, resumed: 0, rejoinsNeeded: 0, graceExpired: 0,
  }
  private readonly inspectCommit: InspectCommit
  private readonly epochReadyTimeoutMs: number
  private readonly maxStreams: number
  private readonly maxStreamsPerIdentity: number
  private readonly maxPendingJoiners: number
  private readonly maxPendingJoinsPerIdentity: number
  private readonly pendingJoinTimeoutMs: number
  private readonly bindTimeoutMs: number
  private readonly maxGroupStreamsPerIdentity: number
  private readonly maxMembers: number
  private readonly memberGraceMs: number
  private readonly commitLogEntries: number
  private readonly commitLogBytes: number
  private readonly conns = new Map<ConnId, ConnState>()
  private readonly byKey = new Map<StreamKey, StreamState>()
  /** Per identity: streams it owns, joins it has pending, group streams it holds. */
  private readonly owned = new Map<string, number>()
  private readonly pendingJoins = new Map<string, number>()
  private readonly openConns = new Map<string, number>()
  /** Conns that count against their peer's group-stream bound (all but those refused at open). */
  private readonly countedConns = new Set<ConnId>()
  /** When each open conn was opened, in `opened` events counted (a resume never displaces a newer conn). */
  private readonly openOrder = new Map<ConnId, number>()
  private opened = 0

  /**
   * @param opts see GroupServiceOptions
   * @throws RangeError when a bound or a timeout is not a positive number, maxMembers exceeds MAX_ROSTER,
   *   or maxPendingJoiners exceeds MAX_ADDED_PER_COMMIT
   */
  constructor (opts: GroupServiceOptions) {
    this.inspectCommit = opts.inspectCommit
    this.epochReadyTimeoutMs = positive('epochReadyTimeoutMs', opts.epochReadyTimeoutMs ?? DEFAULT_EPOCH_READY_TIMEOUT_MS)
    this.maxStreams = positive('maxStreams', opts.maxStreams ?? MAX_STREAMS_PER_NODE)
    this.maxStreamsPerIdentity = positive('maxStreamsPerIdentity', opts.maxStreamsPerIdentity ?? MAX_STREAMS_PER_IDENTITY)
    this.maxPendingJoiners = positive('maxPendingJoiners', opts.maxPendingJoiners ?? MAX_PENDING_JOINERS_PER_STREAM)
    this.maxPendingJoinsPerIdentity = positive('maxPendingJoinsPerIdentity', opts.maxPendingJoinsPerIdentity ?? MAX_PENDING_JOINS_PER_IDENTITY)
    this.pendingJoinTimeoutMs = positive('pendingJoinTimeoutMs', opts.pendingJoinTimeoutMs ?? DEFAULT_PENDING_JOIN_TIMEOUT_MS)
    this.bindTimeoutMs = positive('bindTimeoutMs', opts.bindTimeoutMs ?? DEFAULT_BIND_TIMEOUT_MS)
    this.maxGroupStreamsPerIdentity = positive('maxGroupStreamsPerIdentity', opts.maxGroupStreamsPerIdentity ?? MAX_GROUP_STREAMS_PER_IDENTITY)
    this.maxMembers = positive('maxMembers', opts.maxMembers ?? MAX_MEMBERS_PER_STREAM)
    this.memberGraceMs = positive('memberGraceMs', opts.memberGraceMs ?? DEFAULT_MEMBER_GRACE_MS)
    this.commitLogEntries = positive('commitLogEntries', opts.commitLogEntries ?? DEFAULT_COMMIT_LOG_ENTRIES)
    this.commitLogBytes = positive('commitLogBytes', opts.commitLogBytes ?? DEFAULT_COMMIT_LOG_BYTES)
    // A larger roster could not be encoded as one Roster message.
    if (this.maxMembers > MAX_ROSTER) throw new RangeError(`maxMembers ${this.maxMembers} exceeds the wire's MAX_ROSTER ${MAX_ROSTER}`)
    // More waiting joiners than one Commit may add could not all be admitted at once.
    if (this.maxPendingJoiners > MAX_ADDED_PER_COMMIT) throw new RangeError(`maxPendingJoiners ${this.maxPendingJoiners} exceeds the wire's MAX_ADDED_PER_COMMIT ${MAX_ADDED_PER_COMMIT}`)
  }

  /**
   * Applies one event and returns the actions it causes, in the order the
   * shell must carry them out (per conn, sends must keep this order).
   * Never throws for any event sequence: refusals become error replies and
   * a throwing `inspectCommit` becomes MALFORMED.
   *
   * @param nowMs the shell's monotonic clock in ms; only differences matter
   */
  handle (event: GroupEvent, nowMs: number): GroupAction[] {
    const out: GroupAction[] = []
    switch (event.kind) {
      case 'opened':
        this.onOpened(event.conn, event.peer, nowMs, out)
        break
      case 'message':
        this.onMessage(event.conn, event.message, nowMs, out)
        break
      case 'closed':
        this.onClosed(event.conn, nowMs, out)
        break
      case 'tick':
        this.onTick(nowMs, out)
        break
      case 'going-away':
        this.onGoingAway(event.reason, event.addresses, event.retryAfterMs, out)
        break
    }
    return out
  }

  /** True when `identity` is in the current roster of `stream` (pending joiners and removed members are not). */
  isMember (stream: StreamKey, identity: string): boolean {
    return this.byKey.get(stream)?.members.has(identity) ?? false
  }

  /** The MLS leaf index of member `identity` of `stream`, or undefined for a non-member. */
  leafIndexOf (stream: StreamKey, identity: string): number | undefined {
    return this.byKey.get(stream)?.members.get(identity)?.leaf
  }

  /** The current roster of `stream`, or undefined when no such stream exists. */
  roster (stream: StreamKey): GroupRoster | undefined {
    const s = this.byKey.get(stream)
    if (s === undefined) return undefined
    const away: string[] = []
    for (const [identity, m] of s.members) if (m.conn === undefined) away.push(identity)
    return { epoch: s.epoch, members: [...s.members.keys()], owner: s.owner, committer: s.committer ?? '', pending: s.pending.size, away }
  }

  /** The roster and leaves of `stream` as a `roster` action reports them (for a shell that restored it), or undefined. */
  rosterAction (stream: StreamKey): Extract<GroupAction, { kind: 'roster' }> | undefined {
    const s = this.byKey.get(stream)
    if (s === undefined) return undefined
    return { kind: 'roster', stream: s.key, epoch: s.epoch, members: [...s.members.keys()], added: [], removed: [], leaves: leavesOf(s) }
  }

  /** Addresses of the streams hosted now, in creation order. */
  streams (): StreamKey[] {
    return [...this.byKey.keys()]
  }

  /** Group streams open now, and joins pending now, over every stream. */
  load (): { conns: number, pendingJoins: number } {
    let pendingJoins = 0
    for (const s of this.byKey.values()) pendingJoins += s.pending.size
    return { conns: this.conns.size, pendingJoins }
  }

  /**
   * The durable state of `stream` (see StreamSnapshot), or undefined when no
   * such stream exists. Byte fields are the core's own: store them, do not alter them.
   */
  snapshot (stream: StreamKey): StreamSnapshot | undefined {
    const s = this.byKey.get(stream)
    if (s === undefined) return undefined
    return {
      key: s.key,
      owner: s.owner,
      groupId: s.groupId,
      epoch: s.epoch,
      members: [...s.members].map(([identity, m]) => ({ identity, leaf: m.leaf })),
      log: s.log.all().map((e) => ({ epoch: e.epoch, commit: e.commit })),
    }
  }

  /**
   * Takes back streams from a previous run of the node (their snapshots).
   * Every member is away from `nowMs`, so it may resume within the grace
   * period; no committer is designated until one does. Snapshots that do
   * not hold together (a member on two leaves, a leaf out of range, a
   * member that is no identity, an address that is not the owner's, a
   * stream already hosted or over a quota) are skipped and returned, so a
   * damaged store costs only them.
   *
   * @returns the keys of the snapshots refused
   */
  restore (snapshots: readonly StreamSnapshot[], nowMs: number): StreamKey[] {
    const refused: StreamKey[] = []
    for (const snap of snapshots) {
      if (!this.restoreOne(snap, nowMs)) refused.push(snap.key)
    }
    return refused
  }

  private restoreOne (snap: StreamSnapshot, nowMs: number): boolean {
    if (this.byKey.has(snap.key) || this.byKey.size >= this.maxStreams) return false
    const owned = this.owned.get(snap.owner) ?? 0
    if (owned >= this.maxStreamsPerIdentity) return false
    if (snap.members.length === 0 || snap.members.length > this.maxMembers || snap.groupId.byteLength === 0) return false
    try {
      if (streamKey(snap.owner, snap.key.slice(snap.key.indexOf('/') + 1)) !== snap.key) return false
    } catch {
      return false
    }
    const members = new Map<string, Member>()
    const leaves: Array<string | undefined> = []
    for (const { identity, leaf } of snap.members) {
      if (members.has(identity) || !Number.isInteger(leaf) || leaf < 0 || leaf >= this.maxMembers * 2 || leaves[leaf] !== undefined) return false
      // A Roster naming it could not be encoded, so no member would ever hear one.
      if (!isIdentity(identity)) return false
      members.set(identity, { conn: undefined, awaySinceMs: nowMs, leaveRequested: false, leaf })
      leaves[leaf] = identity
    }
    const log = new CommitLog(this.commitLogEntries, this.commitLogBytes)
    for (const e of snap.log) log.append(e.epoch, e.commit)
    const stream: StreamState = {
      key: snap.key,
      groupId: snap.groupId,
      owner: snap.owner,
      committer: undefined,
      epoch: snap.epoch,
      log,
      members,
      leaves,
      pending: new Map(),
      conns: new Set(),
      acks: new Set(),
      epochStartMs: nowMs,
      epochReady: true,
    }
    this.byKey.set(snap.key, stream)
    this.owned.set(snap.owner, owned + 1)
    return true
  }

  /**
   * The frame bound the shell applies to `conn`'s next frames: the
   * designated committer's stream carries Commits and Welcomes
   * (MAX_CONTROL_FRAME); every other stream carries only small requests
   * (MAX_GROUP_REQUEST_FRAME). The shell applies it after each of the
   * conn's own messages and, through the `committer` action's `conn`, when
   * the role moves to it.
   */
  frameBoundOf (conn: ConnId): number {
    const state = this.conns.get(conn)
    if (state?.phase !== 'bound') return MAX_GROUP_REQUEST_FRAME
    return roleOf(state.stream, state.peer, conn) === 'committer' ? MAX_CONTROL_FRAME : MAX_GROUP_REQUEST_FRAME
  }

  /**
   * The directory's fetch rule (protocol/control.md "Directory"): `requester`
   * may fetch a KeyPackage of `identity` only while it is the committer of a
   * stream that `identity` is waiting to join, and at most
   * FETCHES_PER_PENDING_JOIN times per join. Counts the fetch when it says
   * yes; so a KeyPackage cannot be drained by anyone the joiner did not ask.
   */
  authorizeFetch (requester: string, identity: string): boolean {
    for (const s of this.byKey.values()) {
      if (s.committer !== requester) continue
      const p = s.pending.get(identity)
      if (p !== undefined && p.fetchesLeft > 0) {
        p.fetchesLeft--
        return true
      }
    }
    return false
  }

  private onOpened (conn: ConnId, peer: string, nowMs: number, out: GroupAction[]): void {
    // A repeated `opened` is a shell bug; keeping the first binding stops it
    // from silently rebinding a member's conn to another peer.
    if (this.conns.has(conn)) return
    const held = this.openConns.get(peer) ?? 0
    if (held >= this.maxGroupStreamsPerIdentity) {
      this.counters.streamsRefused++
      this.count('QUOTA_EXCEEDED')
      this.conns.set(conn, { phase: 'closing', peer, epoch: 0n })
      out.push(send(conn, errorMessage(0n, 'QUOTA_EXCEEDED', `${peer} holds ${held} group streams on this node, limit ${this.maxGroupStreamsPerIdentity}`, 0n)))
      out.push({ kind: 'close', conn })
      return
    }
    this.openConns.set(peer, held + 1)
    this.countedConns.add(conn)
    this.conns.set(conn, { phase: 'unbound', peer, sinceMs: nowMs })
    this.openOrder.set(conn, ++this.opened)
  }

  private onMessage (conn: ConnId, message: GroupClientMessage, nowMs: number, out: GroupAction[]): void {
    const state = this.conns.get(conn)
    if (state === undefined) return
    const requestId = message.requestId
    // Handlers stage their actions and only refuse before staging any, but
    // staging keeps a late refusal from leaking half a fan-out.
    const staged: GroupAction[] = []
    try {
      this.dispatch(conn, state, message, nowMs, staged)
    } catch (err) {
      if (!(err instanceof Refusal)) throw err
      this.count(err.code)
      if (requestId !== 0n) out.push(send(conn, errorMessage(requestId, err.code, err.message, err.currentEpoch)))
      return
    }
    out.push(...staged)
  }

  private dispatch (conn: ConnId, state: ConnState, message: GroupClientMessage, nowMs: number, out: GroupAction[]): void {
    if (state.phase === 'closing') throw new Refusal('NOT_FOUND', 'this group stream is closing', state.epoch)
    const epoch = state.phase === 'bound' ? state.stream.epoch : 0n
    if (message.version !== PROTOCOL_VERSION) {
      throw new Refusal('UNSUPPORTED_VERSION', `group protocol version ${message.version} unsupported, expected ${PROTOCOL_VERSION}`, epoch)
    }
    const body = clientBody(message, epoch)
    const requestId = message.requestId
    if (state.phase === 'unbound') {
      if (body.kind === 'create') return this.create(conn, state.peer, requestId, body.create, nowMs, out)
      if (body.kind === 'join') return this.join(conn, state.peer, requestId, body.join, nowMs, out)
      if (body.kind === 'resume') return this.resume(conn, state.peer, requestId, body.resume, nowMs, out)
      throw new Refusal('INVALID_STATE', `the first message on a group stream must be create, join or resume, got ${body.kind}`, 0n)
    }
    const stream = state.stream
    const role = roleOf(stream, state.peer, conn)
    switch (body.kind) {
      case 'create':
      case 'join':
      case 'resume':
        throw new Refusal('INVALID_STATE', `this group stream is already bound to stream ${stream.key}`, stream.epoch)
      case 'commit':
        return this.commit(conn, role, requestId, stream, body.commit, nowMs, out)
      case 'ack':
        return this.ack(conn, state.peer, role, requestId, stream, body.ack, out)
      case 'leave':
        return this.leave(conn, state.peer, role, requestId, stream, nowMs, out)
      case 'deny':
        return this.deny(conn, role, requestId, stream, body.deny, out)
      case 'end':
        return this.end(conn, state.peer, role, requestId, stream, out)
    }
  }

  private create (conn: ConnId, peer: string, requestId: bigint, req: CreateStream, nowMs: number, out: GroupAction[]): void {
    const key = checkStreamAddress(peer, req.stream)
    checkGroupId(req.groupId)
    const existing = this.byKey.get(key)
    if (existing !== undefined) throw new Refusal('ALREADY_EXISTS', `stream ${key} already exists`, existing.epoch)
    if (this.byKey.size >= this.maxStreams) {
      throw new Refusal('QUOTA_EXCEEDED', `this node hosts ${this.byKey.size} streams, limit ${this.maxStreams}`, 0n)
    }
    const owned = this.owned.get(peer) ?? 0
    if (owned >= this.maxStreamsPerIdentity) {
      throw new Refusal('QUOTA_EXCEEDED', `${peer} owns ${owned} streams on this node, limit ${this.maxStreamsPerIdentity}`, 0n)
    }
    const stream: StreamState = {
      key,
      // Copied: the decoded id may view a larger frame buffer that would stay alive with it.
      groupId: req.groupId.slice(),
      owner: peer,
      committer: peer,
      epoch: 0n,
      log: new CommitLog(this.commitLogEntries, this.commitLogBytes),
      members: new Map([[peer, { conn, awaySinceMs: undefined, leaveRequested: false, leaf: 0 }]]),
      leaves: [peer],
      pending: new Map(),
      conns: new Set([conn]),
      acks: new Set(),
      epochStartMs: nowMs,
      // Epoch 0 retires no previous key, so no EpochReady is due for it.
      epochReady: true,
    }
    this.byKey.set(key, stream)
    this.owned.set(peer, owned + 1)
    this.conns.set(conn, { phase: 'bound', peer, stream })
    out.push({ kind: 'persist', stream: key })
    reply(out, conn, requestId, 0n)
    out.push(send(conn, rosterMessage(0n, [peer], peer)))
    out.push({ kind: 'roster', stream: key, epoch: 0n, members: [peer], added: [peer], removed: [], leaves: leavesOf(stream) })
    out.push({ kind: 'committer', stream: key, epoch: 0n, committer: peer, conn })
  }

  private join (conn: ConnId, peer: string, requestId: bigint, req: JoinStream, nowMs: number, out: GroupAction[]): void {
    const key = checkStreamAddress(req.owner, req.stream)
    const stream = this.byKey.get(key)
    if (stream === undefined) throw new Refusal('NOT_FOUND', `no stream ${key}`, 0n)
    const member = stream.members.get(peer)
    // A member that is away (a process that restarted without its state) or
    // whose departure is under way may join again with a fresh KeyPackage:
    // its old leaf is removed first, then it is added as any joiner.
    if (member !== undefined && !member.leaveRequested && member.conn !== undefined) throw new Refusal('ALREADY_EXISTS', `${peer} is already a member of ${key}`, stream.epoch)
    if (stream.pending.has(peer)) throw new Refusal('ALREADY_EXISTS', `a join of ${peer} to ${key} is already pending`, stream.epoch)
    if (stream.pending.size >= this.maxPendingJoiners) {
      throw new Refusal('QUOTA_EXCEEDED', `${key} has ${stream.pending.size} pending joiners, limit ${this.maxPendingJoiners}`, stream.epoch)
    }
    const mine = this.pendingJoins.get(peer) ?? 0
    if (mine >= this.maxPendingJoinsPerIdentity) {
      throw new Refusal('QUOTA_EXCEEDED', `${peer} has ${mine} joins pending, limit ${this.maxPendingJoinsPerIdentity}`, stream.epoch)
    }
    // Copied: the redemption views the request's frame buffer.
    const redemption = req.redemption.slice()
    stream.pending.set(peer, { conn, sinceMs: nowMs, redemption, fetchesLeft: FETCHES_PER_PENDING_JOIN })
    this.pendingJoins.set(peer, mine + 1)
    stream.conns.add(conn)
    this.conns.set(conn, { phase: 'bound', peer, stream })
    if (member !== undefined) this.requestLeave(stream, peer, out)
    this.toCommitter(stream, out, joinRequestedMessage(peer, redemption))
    reply(out, conn, requestId, stream.epoch)
    // Its old leaf is no longer expected back: with no other member live or
    // expected, nobody could add it, and the stream ends now (the joiner is told).
    if (member !== undefined) this.maybeEnd(stream, nowMs, out)
  }

  /**
   * Rebinds a member to a new group stream (protocol/survival.md section 3):
   * ok with the current epoch, then the Commits it missed, then the roster.
   * A member that still has a conn (its old stream is half-open) has that
   * conn closed: the newer stream wins.
   */
  private resume (conn: ConnId, peer: string, requestId: bigint, req: ResumeStream, nowMs: number, out: GroupAction[]): void {
    const key = checkStreamAddress(req.owner, req.stream)
    const stream = this.byKey.get(key)
    if (stream === undefined) throw new Refusal('NOT_FOUND', `no stream ${key}`, 0n)
    const member = stream.members.get(peer)
    if (member === undefined) throw new Refusal('NOT_MEMBER', `${peer} is not a member of ${key}`, stream.epoch)
    if (member.leaveRequested) {
      this.counters.rejoinsNeeded++
      throw new Refusal('REJOIN_NEEDED', `the departure of ${peer} from ${key} is under way; join again`, stream.epoch)
    }
    const missed = stream.log.since(req.epoch, stream.epoch)
    if (missed === undefined) {
      // Its leaf can never catch up: ask for its removal, so it can rejoin.
      this.counters.rejoinsNeeded++
      const refusal = new Refusal('REJOIN_NEEDED', `the Commits from epoch ${req.epoch} to ${stream.epoch} are no longer kept; join again`, stream.epoch)
      this.count(refusal.code)
      if (requestId !== 0n) out.push(send(conn, errorMessage(requestId, refusal.code, refusal.message, refusal.currentEpoch)))
      this.requestLeave(stream, peer, out)
      // It is no longer expected back: with no other member live or expected, the stream ends now.
      this.maybeEnd(stream, nowMs, out)
      return
    }
    const old = member.conn
    // A resume from an earlier reconnect attempt that arrives late must not
    // take over the newer stream (the member has moved on from it).
    if (old !== undefined && (this.openOrder.get(conn) ?? 0) < (this.openOrder.get(old) ?? 0)) {
      throw new Refusal('INVALID_STATE', 'a newer group stream of this member is bound to the stream', stream.epoch)
    }
    if (old !== undefined) {
      stream.conns.delete(old)
      this.conns.set(old, { phase: 'closing', peer, epoch: stream.epoch })
      out.push(send(old, errorMessage(0n, 'NOT_FOUND', 'a newer group stream of this member took over', stream.epoch)))
      out.push({ kind: 'close', conn: old })
    }
    member.conn = conn
    member.awaySinceMs = undefined
    stream.conns.add(conn)
    this.conns.set(conn, { phase: 'bound', peer, stream })
    this.counters.resumed++
    reply(out, conn, requestId, stream.epoch)
    for (const e of missed) out.push(send(conn, commitMessage(e.epoch, e.commit as Uint8Array<ArrayBuffer>)))
    if (this.designate(stream, out)) return
    out.push(send(conn, rosterMessage(stream.epoch, [...stream.members.keys()], stream.committer!)))
    // A committer whose old stream was half-open lost what was sent on it:
    // its pending joins and departures go to it again.
    if (stream.committer === peer) this.handOver(stream, conn, out)
  }

  private deny (conn: ConnId, role: Role, requestId: bigint, stream: StreamState, req: DenyJoin, out: GroupAction[]): void {
    if (role !== 'committer') throw new Refusal(role === 'member' ? 'NOT_COMMITTER' : 'NOT_MEMBER', `only the designated committer decides joins to ${stream.key}`, stream.epoch)
    const p = stream.pending.get(req.identity)
    if (p === undefined) throw new Refusal('NOT_FOUND', `no join of ${req.identity} is pending`, stream.epoch)
    this.counters.denied++
    reply(out, conn, requestId, stream.epoch)
    this.endJoin(stream, req.identity, p, 'NOT_ADMITTED', req.reason === '' ? 'the stream\'s admission policy does not admit you' : req.reason, out)
  }

  private commit (conn: ConnId, role: Role, requestId: bigint, stream: StreamState, req: SubmitCommit, nowMs: number, out: GroupAction[]): void {
    const epoch = stream.epoch
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.key}`, epoch)
    if (role !== 'committer') throw new Refusal('NOT_COMMITTER', `${stream.committer ?? 'nobody'} is the designated committer of ${stream.key}`, epoch)
    if (req.epoch !== epoch) throw new Refusal('STALE_EPOCH', `commit for epoch ${req.epoch}, current epoch is ${epoch}`, epoch)
    checkCommitShape(req, this.maxMembers, epoch)
    for (const identity of req.added) {
      if (stream.members.has(identity)) throw new Refusal('ALREADY_EXISTS', `${identity} is already a member of ${stream.key}`, epoch)
    }
    for (const identity of req.removed) {
      if (identity === stream.committer) throw new Refusal('NOT_MEMBER', 'the committer cannot remove itself; it leaves, and the next committer removes it', epoch)
      if (!stream.members.has(identity)) throw new Refusal('NOT_MEMBER', `${identity} is not a member of ${stream.key}`, epoch)
    }
    const size = stream.members.size - req.removed.length + req.added.length
    if (size > this.maxMembers) throw new Refusal('QUOTA_EXCEEDED', `commit leaves ${size} members, limit ${this.maxMembers}`, epoch)
    const info = this.checkInspection(stream, req)

    const committer = stream.committer!
    const before = [...stream.members]
    const next = epoch + 1n
    stream.epoch = next
    // Copied: the Commit views the request's frame buffer, and the log keeps it.
    const commitBytes = req.commit.slice()
    stream.log.append(next, commitBytes)
    // RFC 9420 section 12.3: Removes apply before Adds, and an Add takes the leftmost blank leaf.
    for (const leaf of info.removedLeafIndices) stream.leaves[leaf] = undefined
    for (const identity of req.removed) stream.members.delete(identity)
    for (const identity of req.added) {
      const leaf = leftmostBlank(stream.leaves)
      stream.leaves[leaf] = identity
      const p = stream.pending.get(identity)
      stream.members.set(identity, { conn: p?.conn, awaySinceMs: p === undefined ? nowMs : undefined, leaveRequested: false, leaf })
      if (p !== undefined) {
        stream.pending.delete(identity)
        this.releasePendingSlot(identity)
      }
    }
    while (stream.leaves.length > 0 && stream.leaves[stream.leaves.length - 1] === undefined) stream.leaves.pop()
    stream.acks.clear()
    stream.epochStartMs = nowMs
    stream.epochReady = false

    // Stored before anyone hears of the new epoch, so a restart never forgets an epoch a member holds.
    out.push({ kind: 'persist', stream: stream.key })
    reply(out, conn, requestId, next)
    // Removed members get the Commit too: processing it is how their MLS
    // state learns of the removal (RFC 9420 section 12.4.2).
    for (const [identity, member] of before) {
      if (identity !== committer && member.conn !== undefined) out.push(send(member.conn, commitMessage(next, commitBytes)))
    }
    for (const identity of req.added) {
      const joinerConn = stream.members.get(identity)?.conn
      if (joinerConn !== undefined) out.push(send(joinerConn, welcomeMessage(next, req.welcome)))
    }
    const members = [...stream.members.keys()]
    this.toMembers(stream, out, rosterMessage(next, members, committer))
    out.push({ kind: 'roster', stream: stream.key, epoch: next, members, added: [...req.added], removed: [...req.removed], leaves: leavesOf(stream) })
    // A commit that leaves the committer alone needs no ack to finish.
    this.maybeEpochReady(stream, out)
    this.maybeEnd(stream, nowMs, out)
  }

  /**
   * Parses the Commit (the costly step, so last) and refuses it unless it is
   * a Commit of this group at its current epoch, from the committer's leaf,
   * with no proposal by reference, whose Adds and Removes are exactly the
   * request's `added` and `removed`.
   */
  private checkInspection (stream: StreamState, req: SubmitCommit): CommitInfo {
    let info: CommitInfo
    try {
      info = this.inspectCommit(req.commit)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new Refusal('MALFORMED', `commit does not parse: ${why}`, stream.epoch)
    }
    // Guards a faulty inspector as well, so it cannot make the core throw.
    if (typeof info !== 'object' || info === null || typeof info.epoch !== 'bigint' || !(info.groupId instanceof Uint8Array) ||
      !Array.isArray(info.addedIdentities) || !Array.isArray(info.removedLeafIndices)) {
      throw new Refusal('MALFORMED', 'commit inspection returned no group id, epoch and proposals', stream.epoch)
    }
    if (!equalBytes(info.groupId, stream.groupId)) throw new Refusal('MALFORMED', `commit is for another MLS group than ${stream.key}`, stream.epoch)
    if (info.epoch !== stream.epoch) {
      throw new Refusal('STALE_EPOCH', `commit was created in epoch ${info.epoch}, current epoch is ${stream.epoch}`, stream.epoch)
    }
    const committerLeaf = stream.members.get(stream.committer!)!.leaf
    if (info.senderLeafIndex !== committerLeaf) throw new Refusal('MALFORMED', 'commit is not from the committer\'s leaf', stream.epoch)
    if (info.proposalRefs !== 0) throw new Refusal('MALFORMED', 'commit includes proposals by reference', stream.epoch)
    if (info.addedIdentities.length !== req.added.length || info.addedIdentities.some((id, i) => id !== req.added[i])) {
      throw new Refusal('MALFORMED', 'commit.added is not the Commit\'s Add proposals', stream.epoch)
    }
    const removed = new Set(req.removed)
    const seen = new Set<number>()
    for (const leaf of info.removedLeafIndices) {
      const identity = stream.leaves[leaf]
      if (identity === undefined || !removed.has(identity) || seen.has(leaf)) {
        throw new Refusal('MALFORMED', 'commit.removed is not the Commit\'s Remove proposals', stream.epoch)
      }
      seen.add(leaf)
    }
    if (seen.size !== removed.size) throw new Refusal('MALFORMED', 'commit.removed is not the Commit\'s Remove proposals', stream.epoch)
    return info
  }

  private ack (conn: ConnId, peer: string, role: Role, requestId: bigint, stream: StreamState, req: AckEpoch, out: GroupAction[]): void {
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.key}`, stream.epoch)
    if (req.epoch > stream.epoch) throw new Refusal('STALE_EPOCH', `ack for epoch ${req.epoch}, current epoch is ${stream.epoch}`, stream.epoch)
    reply(out, conn, requestId, stream.epoch)
    // Old-epoch acks arrive routinely after a quick second commit.
    if (req.epoch < stream.epoch) return
    stream.acks.add(peer)
    this.maybeEpochReady(stream, out)
  }

  /**
   * An explicit leave: its removal is asked for at once (no grace period).
   * A leaving committer hands the role on first, so the next one removes it.
   */
  private leave (conn: ConnId, peer: string, role: Role, requestId: bigint, stream: StreamState, nowMs: number, out: GroupAction[]): void {
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.key}`, stream.epoch)
    reply(out, conn, requestId, stream.epoch)
    // Once per membership: a repeated leave asks nothing more. A leaving
    // committer is handed over by requestLeave, and the new one is handed this departure.
    this.requestLeave(stream, peer, out)
    this.maybeEpochReady(stream, out)
    this.maybeEnd(stream, nowMs, out)
  }

  /** The owner ends the stream for everyone. */
  private end (conn: ConnId, peer: string, role: Role, requestId: bigint, stream: StreamState, out: GroupAction[]): void {
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.key}`, stream.epoch)
    if (peer !== stream.owner) throw new Refusal('NOT_COMMITTER', `only the owner ${stream.owner} ends ${stream.key}`, stream.epoch)
    reply(out, conn, requestId, stream.epoch)
    this.closeStream(stream, 'stream ended by its owner', out)
  }

  private onClosed (conn: ConnId, nowMs: number, out: GroupAction[]): void {
    const state = this.conns.get(conn)
    if (state === undefined) return
    this.conns.delete(conn)
    this.openOrder.delete(conn)
    if (this.countedConns.delete(conn)) decrement(this.openConns, state.peer)
    if (state.phase !== 'bound') return
    const stream = state.stream
    const role = roleOf(stream, state.peer, conn)
    stream.conns.delete(conn)
    switch (role) {
      case 'committer':
      case 'member': {
        const member = stream.members.get(state.peer)!
        member.conn = undefined
        member.awaySinceMs = nowMs
        stream.acks.delete(state.peer)
        if (role === 'committer') this.designate(stream, out)
        this.maybeEpochReady(stream, out)
        this.maybeEnd(stream, nowMs, out)
        break
      }
      case 'pending':
        stream.pending.delete(state.peer)
        this.releasePendingSlot(state.peer)
        this.toCommitter(stream, out, joinWithdrawnMessage(state.peer))
        break
      case 'outsider':
        break
    }
  }

  private onTick (nowMs: number, out: GroupAction[]): void {
    for (const stream of [...this.byKey.values()]) {
      if (!stream.epochReady && nowMs - stream.epochStartMs >= this.epochReadyTimeoutMs) this.sendEpochReady(stream, out)
      for (const [identity, p] of stream.pending) {
        if (nowMs - p.sinceMs < this.pendingJoinTimeoutMs) continue
        this.counters.expiredJoins++
        this.endJoin(stream, identity, p, 'TIMEOUT', `the committer did not answer within ${this.pendingJoinTimeoutMs} ms`, out)
        this.toCommitter(stream, out, joinWithdrawnMessage(identity))
      }
      // Every member past its grace in this tick is asked for in one go, so
      // the committer can remove them with one Commit.
      for (const [identity, m] of stream.members) {
        if (m.conn !== undefined || m.leaveRequested || nowMs - m.awaySinceMs! < this.memberGraceMs) continue
        this.counters.graceExpired++
        this.requestLeave(stream, identity, out)
      }
      this.maybeEnd(stream, nowMs, out)
    }
    for (const [conn, state] of this.conns) {
      if (state.phase !== 'unbound' || nowMs - state.sinceMs < this.bindTimeoutMs) continue
      this.counters.unboundClosed++
      this.conns.set(conn, { phase: 'closing', peer: state.peer, epoch: 0n })
      out.push(send(conn, errorMessage(0n, 'TIMEOUT', `no create, join or resume within ${this.bindTimeoutMs} ms`, 0n)))
      out.push({ kind: 'close', conn })
    }
  }

  private onGoingAway (reason: string, addresses: readonly string[], retryAfterMs: number, out: GroupAction[]): void {
    const message = goingAwayMessage(reason, addresses, retryAfterMs)
    for (const [conn, state] of this.conns) if (state.phase === 'bound') out.push(send(conn, message))
  }

  /** Ends a pending join with an unsolicited error and closes the joiner's stream. */
  private endJoin (stream: StreamState, identity: string, p: Pending, code: ErrorCode, message: string, out: GroupAction[]): void {
    stream.pending.delete(identity)
    stream.conns.delete(p.conn)
    this.releasePendingSlot(identity)
    this.conns.set(p.conn, { phase: 'closing', peer: identity, epoch: stream.epoch })
    out.push(send(p.conn, errorMessage(0n, code, message, stream.epoch)))
    out.push({ kind: 'close', conn: p.conn })
  }

  /** Marks `identity`'s departure under way and asks the committer, once per membership, to commit its removal. */
  private requestLeave (stream: StreamState, identity: string, out: GroupAction[]): void {
    const member = stream.members.get(identity)
    if (member === undefined || member.leaveRequested) return
    member.leaveRequested = true
    out.push(...this.leaveRequest(stream, identity))
    // A departing committer cannot remove itself: the role moves on.
    if (identity === stream.committer) this.designate(stream, out)
  }

  /** The LeaveRequested for `identity` to the committer, if one is designated (a new one is handed it by `designate`). */
  private leaveRequest (stream: StreamState, identity: string): GroupAction[] {
    if (stream.committer === undefined || stream.committer === identity) return []
    return [send(this.committerConn(stream), leaveRequestedMessage(identity))]
  }

  /**
   * Keeps a live committer designated (protocol/survival.md section 2): when
   * the current one is gone (away, leaving, removed), the live member with
   * the lowest leaf index whose departure is not under way takes the role.
   * The members are told with a Roster naming it, and it is handed every
   * pending join and departure. With no such member, nobody commits until
   * one resumes.
   *
   * @returns true when the committer changed (a Roster went to every live member)
   */
  private designate (stream: StreamState, out: GroupAction[]): boolean {
    const current = stream.committer === undefined ? undefined : stream.members.get(stream.committer)
    if (current !== undefined && current.conn !== undefined && !current.leaveRequested) return false
    let next: string | undefined
    let lowest = Infinity
    for (const [identity, m] of stream.members) {
      if (m.conn !== undefined && !m.leaveRequested && m.leaf < lowest) {
        next = identity
        lowest = m.leaf
      }
    }
    if (next === stream.committer) return false
    stream.committer = next
    const conn = next === undefined ? undefined : this.committerConn(stream)
    out.push({ kind: 'committer', stream: stream.key, epoch: stream.epoch, committer: next, conn })
    if (next === undefined || conn === undefined) return false
    this.counters.handovers++
    this.toMembers(stream, out, rosterMessage(stream.epoch, [...stream.members.keys()], next))
    this.handOver(stream, conn, out)
    return true
  }

  /** Sends the committer on `conn` every departure under way (but its own) and every pending join. */
  private handOver (stream: StreamState, conn: ConnId, out: GroupAction[]): void {
    for (const [identity, m] of stream.members) {
      if (m.leaveRequested && identity !== stream.committer) out.push(send(conn, leaveRequestedMessage(identity)))
    }
    for (const [identity, p] of stream.pending) out.push(send(conn, joinRequestedMessage(identity, p.redemption)))
  }

  /**
   * Ends `stream` when no member is live and none is still expected back:
   * every one has left, or has been away longer than the grace period.
   */
  private maybeEnd (stream: StreamState, nowMs: number, out: GroupAction[]): void {
    if (!this.byKey.has(stream.key)) return
    for (const m of stream.members.values()) {
      if (m.leaveRequested) continue
      if (m.conn !== undefined || nowMs - m.awaySinceMs! < this.memberGraceMs) return
    }
    // Members still connected but leaving are told the stream ended, as are joiners.
    this.closeStream(stream, 'stream closed: its last member left', out)
  }

  private maybeEpochReady (stream: StreamState, out: GroupAction[]): void {
    if (stream.epochReady) return
    for (const [identity, m] of stream.members) {
      // Away members and the committer (it made the epoch) are not waited for.
      if (m.conn !== undefined && identity !== stream.committer && !stream.acks.has(identity)) return
    }
    this.sendEpochReady(stream, out)
  }

  private sendEpochReady (stream: StreamState, out: GroupAction[]): void {
    stream.epochReady = true
    this.toMembers(stream, out, epochReadyMessage(stream.epoch))
  }

  /** Sends `message` to every member with a conn, in roster order. */
  private toMembers (stream: StreamState, out: GroupAction[], message: GroupServerMessage): void {
    for (const member of stream.members.values()) {
      if (member.conn !== undefined) out.push(send(member.conn, message))
    }
  }

  /** Sends `message` to the designated committer, if there is one (a new one is handed what it needs by `designate`). */
  private toCommitter (stream: StreamState, out: GroupAction[], message: GroupServerMessage): void {
    if (stream.committer !== undefined) out.push(send(this.committerConn(stream), message))
  }

  /**
   * Ends `stream`: every conn still bound to it gets an unsolicited NOT_FOUND
   * with `why` and a `close`, and the address becomes free for its owner's next `create`.
   */
  private closeStream (stream: StreamState, why: string, out: GroupAction[]): void {
    for (const conn of stream.conns) {
      const state = this.conns.get(conn)
      if (state === undefined) continue
      this.conns.set(conn, { phase: 'closing', peer: state.peer, epoch: stream.epoch })
      out.push(send(conn, errorMessage(0n, 'NOT_FOUND', why, stream.epoch)))
      out.push({ kind: 'close', conn })
    }
    for (const identity of stream.pending.keys()) this.releasePendingSlot(identity)
    stream.pending.clear()
    stream.conns.clear()
    this.byKey.delete(stream.key)
    decrement(this.owned, stream.owner)
    out.push({ kind: 'streamClosed', stream: stream.key })
  }

  /** The designated committer's conn; a designated committer always has one (losing it moves the role). */
  private committerConn (stream: StreamState): ConnId {
    return stream.members.get(stream.committer!)!.conn!
  }

  private releasePendingSlot (identity: string): void {
    decrement(this.pendingJoins, identity)
  }

  private count (code: string): void {
    this.counters.refused[code] = (this.counters.refused[code] ?? 0) + 1
  }
}

function roleOf (stream: StreamState, peer: string, conn: ConnId): Role {
  const member = stream.members.get(peer)
  if (member !== undefined && member.conn === conn) return peer === stream.committer ? 'committer' : 'member'
  if (stream.pending.get(peer)?.conn === conn) return 'pending'
  return 'outsider'
}

function isIdentity (identity: string): boolean {
  try {
    validateIdentity(identity)
    return true
  } catch {
    return false
  }
}

function leftmostBlank (leaves: ReadonlyArray<string | undefined>): number {
  for (let i = 0; i < leaves.length; i++) if (leaves[i] === undefined) return i
  return leaves.length
}

function leavesOf (stream: StreamState): Map<string, number> {
  const m = new Map<string, number>()
  for (const [identity, member] of stream.members) m.set(identity, member.leaf)
  return m
}

function decrement (m: Map<string, number>, key: string): void {
  const n = (m.get(key) ?? 0) - 1
  if (n > 0) m.set(key, n)
  else m.delete(key)
}

function send (conn: ConnId, message: GroupServerMessage): GroupAction {
  return { kind: 'send', conn, message }
}

function reply (out: GroupAction[], conn: ConnId, requestId: bigint, epoch: bigint): void {
  if (requestId !== 0n) out.push(send(conn, okMessage(requestId, epoch)))
}

function positive (name: string, value: number): number {
  if (!(value > 0) || !Number.isFinite(value)) throw new RangeError(`${name} must be a positive number, got ${value}`)
  return value
}
