/**
 * GroupServiceCore: the sans-IO core of the group service, the MLS delivery
 * service of protocol/control.md section 3 (protocol id /fabric/group/1, protocol/group.proto).
 * Per fabric stream it keeps the MLS epoch, the roster with each member's
 * leaf index, the committer and the pending joiners; it orders Commits (the
 * first valid Commit for the current epoch wins, RFC 9420 section 12.4),
 * fans them out with the Welcomes of the joiners (section 12.4.3.1), and
 * tells members when every one of them has moved to the new epoch
 * (protocol/sequences.md section 3).
 *
 * Streams are addressed by owner and name (StreamKey, wire/stream-tag.ts):
 * `create` makes the stream of the sender's own identity, so no one can take
 * another owner's name. Who may join is not this core's decision: the
 * committer decides by the group's admission policy (protocol/admission.md)
 * and either commits the Add or sends `deny`; the core only carries the
 * request and the answer, and keeps the quotas that protect the node.
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
 * create or join in time is closed.
 *
 * Lifecycle of a conn: unbound after `opened`; bound to one stream by its
 * first create/join; after its stream closes, or its join is denied or
 * expires, it answers every request with NOT_FOUND until the shell reports it
 * `closed`. Events for conns never opened are ignored. EpochReady is not sent
 * for epoch 0: no key retires.
 *
 * v1 limits, by design:
 * - A member whose conn closed stays in the roster until the committer
 *   commits its removal; it still counts for EpochReady, so that epoch ends
 *   by timeout.
 * - The committer cannot be removed by a commit; its `leave` or conn close
 *   ends the stream for everyone.
 */
import type { ErrorCode } from '../errors.js'
import { MAX_ADDED_PER_COMMIT, MAX_ROSTER } from '../wire/limits.js'
import type { AckEpoch, CreateStream, DenyJoin, GroupClientMessage, GroupServerMessage, JoinStream, SubmitCommit } from '../wire/pb/group.js'
import { streamKey, type StreamKey } from '../wire/stream-tag.js'
import { MAX_CONTROL_FRAME } from '../wire/limits.js'
import { PROTOCOL_VERSION } from '../wire/message-codec.js'
import {
  DEFAULT_BIND_TIMEOUT_MS, DEFAULT_EPOCH_READY_TIMEOUT_MS, DEFAULT_PENDING_JOIN_TIMEOUT_MS, FETCHES_PER_PENDING_JOIN,
  MAX_GROUP_REQUEST_FRAME, MAX_GROUP_STREAMS_PER_IDENTITY, MAX_MEMBERS_PER_STREAM,
  MAX_PENDING_JOINERS_PER_STREAM, MAX_PENDING_JOINS_PER_IDENTITY, MAX_STREAMS_PER_IDENTITY, MAX_STREAMS_PER_NODE,
} from './group/limits.js'
import {
  commitMessage, epochReadyMessage, errorMessage, joinRequestedMessage, joinWithdrawnMessage, leaveRequestedMessage,
  okMessage, rosterMessage, welcomeMessage,
} from './group/messages.js'
import { equalBytes } from '../session/bytes.js'
import { Refusal, checkCommitShape, checkGroupId, checkStreamAddress, clientBody } from './group/validate.js'

export {
  DEFAULT_BIND_TIMEOUT_MS, DEFAULT_EPOCH_READY_TIMEOUT_MS, DEFAULT_PENDING_JOIN_TIMEOUT_MS, FETCHES_PER_PENDING_JOIN,
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
 * Events for a conn never `opened`, or already `closed`, are ignored.
 */
export type GroupEvent =
  | { kind: 'opened', conn: ConnId, peer: string }
  | { kind: 'message', conn: ConnId, message: GroupClientMessage }
  | { kind: 'closed', conn: ConnId }
  | { kind: 'tick' }

/**
 * An output of the core, to be carried out in order.
 * - `send`: encode `message` and write it on `conn`.
 * - `close`: close `conn` after writing what was sent before; the shell then
 *   reports it `closed`.
 * - `roster`: the membership of `stream` changed (create or accepted commit);
 *   the node updates the relay: drop the subscriptions of `removed`, admit
 *   only `members`, hold each member to tracks of its leaf (`leaves`),
 *   clear GOP caches since `epoch` changed. `members` is in roster order,
 *   committer first.
 * - `streamClosed`: `stream` no longer exists; the relay drops it.
 */
export type GroupAction =
  | { kind: 'send', conn: ConnId, message: GroupServerMessage }
  | { kind: 'close', conn: ConnId }
  | { kind: 'roster', stream: StreamKey, epoch: bigint, members: string[], added: string[], removed: string[], leaves: ReadonlyMap<string, number> }
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
}

/** A stream's roster as `GroupServiceCore.roster` reports it (fresh copies). */
export interface GroupRoster {
  /** Current MLS epoch; 0 at creation, +1 per accepted Commit. */
  epoch: bigint
  /** Member identities (libp2p peer ids) in roster order, committer first. */
  members: string[]
  /** Identity of the only member allowed to commit (the owner in v1). */
  committer: string
  /** Joins waiting for the committer. */
  pending: number
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
}

interface Member {
  /** Undefined when the member was added without a conn here, or its conn closed. */
  conn: ConnId | undefined
  /** LeaveRequested was already sent for it, so a leave then a close ask once. */
  leaveRequested: boolean
  /** The member's MLS leaf index (the leftmost free leaf when it was added, RFC 9420 section 12.1.1). */
  leaf: number
}

interface Pending {
  readonly conn: ConnId
  readonly sinceMs: number
  /** KeyPackage fetches the committer may still make for this joiner. */
  fetchesLeft: number
}

interface StreamState {
  readonly key: StreamKey
  readonly groupId: Uint8Array
  readonly committer: string
  epoch: bigint
  /** In roster order; Map keeps insertion order, so the creator stays first. */
  readonly members: Map<string, Member>
  /** Occupied leaves: leaf index -> identity (undefined: blank). */
  readonly leaves: Array<string | undefined>
  /** Joiner identity -> its pending join. */
  readonly pending: Map<string, Pending>
  /** Every conn bound to this stream: members, pending joiners, removed members. */
  readonly conns: Set<ConnId>
  /** Non-committer members that acked the current epoch. */
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
  readonly counters: GroupCounters = { refused: {}, denied: 0, expiredJoins: 0, unboundClosed: 0, streamsRefused: 0 }
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
  private readonly conns = new Map<ConnId, ConnState>()
  private readonly byKey = new Map<StreamKey, StreamState>()
  /** Per identity: streams it owns, joins it has pending, group streams it holds. */
  private readonly owned = new Map<string, number>()
  private readonly pendingJoins = new Map<string, number>()
  private readonly openConns = new Map<string, number>()
  /** Conns that count against their peer's group-stream bound (all but those refused at open). */
  private readonly countedConns = new Set<ConnId>()

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
        this.onClosed(event.conn, out)
        break
      case 'tick':
        this.onTick(nowMs, out)
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
    return { epoch: s.epoch, members: [...s.members.keys()], committer: s.committer, pending: s.pending.size }
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
   * The frame bound the shell applies to `conn`'s next frames: a
   * committer's stream carries Commits and Welcomes (MAX_CONTROL_FRAME);
   * every other stream carries only small requests (MAX_GROUP_REQUEST_FRAME).
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
      throw new Refusal('INVALID_STATE', `the first message on a group stream must be create or join, got ${body.kind}`, 0n)
    }
    const stream = state.stream
    const role = roleOf(stream, state.peer, conn)
    switch (body.kind) {
      case 'create':
      case 'join':
        throw new Refusal('INVALID_STATE', `this group stream is already bound to stream ${stream.key}`, stream.epoch)
      case 'commit':
        return this.commit(conn, role, requestId, stream, body.commit, nowMs, out)
      case 'ack':
        return this.ack(conn, state.peer, role, requestId, stream, body.ack, out)
      case 'leave':
        return this.leave(conn, state.peer, role, requestId, stream, out)
      case 'deny':
        return this.deny(conn, role, requestId, stream, body.deny, out)
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
      committer: peer,
      epoch: 0n,
      members: new Map([[peer, { conn, leaveRequested: false, leaf: 0 }]]),
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
    reply(out, conn, requestId, 0n)
    out.push(send(conn, rosterMessage(0n, [peer], peer)))
    out.push({ kind: 'roster', stream: key, epoch: 0n, members: [peer], added: [peer], removed: [], leaves: leavesOf(stream) })
  }

  private join (conn: ConnId, peer: string, requestId: bigint, req: JoinStream, nowMs: number, out: GroupAction[]): void {
    const key = checkStreamAddress(req.owner, req.stream)
    const stream = this.byKey.get(key)
    if (stream === undefined) throw new Refusal('NOT_FOUND', `no stream ${key}`, 0n)
    if (stream.members.has(peer)) throw new Refusal('ALREADY_EXISTS', `${peer} is already a member of ${key}`, stream.epoch)
    if (stream.pending.has(peer)) throw new Refusal('ALREADY_EXISTS', `a join of ${peer} to ${key} is already pending`, stream.epoch)
    if (stream.pending.size >= this.maxPendingJoiners) {
      throw new Refusal('QUOTA_EXCEEDED', `${key} has ${stream.pending.size} pending joiners, limit ${this.maxPendingJoiners}`, stream.epoch)
    }
    const mine = this.pendingJoins.get(peer) ?? 0
    if (mine >= this.maxPendingJoinsPerIdentity) {
      throw new Refusal('QUOTA_EXCEEDED', `${peer} has ${mine} joins pending, limit ${this.maxPendingJoinsPerIdentity}`, stream.epoch)
    }
    stream.pending.set(peer, { conn, sinceMs: nowMs, fetchesLeft: FETCHES_PER_PENDING_JOIN })
    this.pendingJoins.set(peer, mine + 1)
    stream.conns.add(conn)
    this.conns.set(conn, { phase: 'bound', peer, stream })
    // Copied: the redemption views the request's frame buffer.
    out.push(send(this.committerConn(stream), joinRequestedMessage(peer, req.redemption.slice())))
    reply(out, conn, requestId, stream.epoch)
  }

  private deny (conn: ConnId, role: Role, requestId: bigint, stream: StreamState, req: DenyJoin, out: GroupAction[]): void {
    if (role !== 'committer') throw new Refusal(role === 'member' ? 'NOT_COMMITTER' : 'NOT_MEMBER', `only ${stream.committer} decides joins to ${stream.key}`, stream.epoch)
    const p = stream.pending.get(req.identity)
    if (p === undefined) throw new Refusal('NOT_FOUND', `no join of ${req.identity} is pending`, stream.epoch)
    this.counters.denied++
    reply(out, conn, requestId, stream.epoch)
    this.endJoin(stream, req.identity, p, 'NOT_ADMITTED', req.reason === '' ? 'the stream\'s admission policy does not admit you' : req.reason, out)
  }

  private commit (conn: ConnId, role: Role, requestId: bigint, stream: StreamState, req: SubmitCommit, nowMs: number, out: GroupAction[]): void {
    const epoch = stream.epoch
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.key}`, epoch)
    if (role !== 'committer') throw new Refusal('NOT_COMMITTER', `only ${stream.committer} commits to ${stream.key}`, epoch)
    if (req.epoch !== epoch) throw new Refusal('STALE_EPOCH', `commit for epoch ${req.epoch}, current epoch is ${epoch}`, epoch)
    checkCommitShape(req, this.maxMembers, epoch)
    for (const identity of req.added) {
      if (stream.members.has(identity)) throw new Refusal('ALREADY_EXISTS', `${identity} is already a member of ${stream.key}`, epoch)
    }
    for (const identity of req.removed) {
      if (identity === stream.committer) throw new Refusal('NOT_MEMBER', 'the committer cannot remove itself; it leaves, which closes the stream', epoch)
      if (!stream.members.has(identity)) throw new Refusal('NOT_MEMBER', `${identity} is not a member of ${stream.key}`, epoch)
    }
    const size = stream.members.size - req.removed.length + req.added.length
    if (size > this.maxMembers) throw new Refusal('QUOTA_EXCEEDED', `commit leaves ${size} members, limit ${this.maxMembers}`, epoch)
    const info = this.checkInspection(stream, req)

    const before = [...stream.members]
    const next = epoch + 1n
    stream.epoch = next
    // RFC 9420 section 12.3: Removes apply before Adds, and an Add takes the leftmost blank leaf.
    for (const leaf of info.removedLeafIndices) stream.leaves[leaf] = undefined
    for (const identity of req.removed) stream.members.delete(identity)
    for (const identity of req.added) {
      const leaf = leftmostBlank(stream.leaves)
      stream.leaves[leaf] = identity
      const p = stream.pending.get(identity)
      stream.members.set(identity, { conn: p?.conn, leaveRequested: false, leaf })
      if (p !== undefined) {
        stream.pending.delete(identity)
        this.releasePendingSlot(identity)
      }
    }
    while (stream.leaves.length > 0 && stream.leaves[stream.leaves.length - 1] === undefined) stream.leaves.pop()
    stream.acks.clear()
    stream.epochStartMs = nowMs
    stream.epochReady = false

    reply(out, conn, requestId, next)
    // Removed members get the Commit too: processing it is how their MLS
    // state learns of the removal (RFC 9420 section 12.4.2).
    for (const [identity, member] of before) {
      if (identity !== stream.committer && member.conn !== undefined) out.push(send(member.conn, commitMessage(next, req.commit)))
    }
    for (const identity of req.added) {
      const joinerConn = stream.members.get(identity)?.conn
      if (joinerConn !== undefined) out.push(send(joinerConn, welcomeMessage(next, req.welcome)))
    }
    const members = [...stream.members.keys()]
    this.toMembers(stream, out, rosterMessage(next, members, stream.committer))
    out.push({ kind: 'roster', stream: stream.key, epoch: next, members, added: [...req.added], removed: [...req.removed], leaves: leavesOf(stream) })
    // A commit that leaves the committer alone needs no ack to finish.
    this.maybeEpochReady(stream, out)
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
    const committerLeaf = stream.members.get(stream.committer)!.leaf
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
    // Old-epoch acks arrive routinely after a quick second commit; the
    // committer needs no ack since it made the epoch.
    if (req.epoch < stream.epoch || role === 'committer') return
    stream.acks.add(peer)
    this.maybeEpochReady(stream, out)
  }

  private leave (conn: ConnId, peer: string, role: Role, requestId: bigint, stream: StreamState, out: GroupAction[]): void {
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.key}`, stream.epoch)
    reply(out, conn, requestId, stream.epoch)
    if (role === 'committer') {
      // v1 has one committer and no hand-over: nobody could commit after it.
      this.closeStream(stream, out)
      return
    }
    this.requestLeave(stream, peer, out)
  }

  private onClosed (conn: ConnId, out: GroupAction[]): void {
    const state = this.conns.get(conn)
    if (state === undefined) return
    this.conns.delete(conn)
    if (this.countedConns.delete(conn)) decrement(this.openConns, state.peer)
    if (state.phase !== 'bound') return
    const stream = state.stream
    const role = roleOf(stream, state.peer, conn)
    stream.conns.delete(conn)
    switch (role) {
      case 'committer':
        this.closeStream(stream, out)
        break
      case 'member':
        stream.members.get(state.peer)!.conn = undefined
        this.requestLeave(stream, state.peer, out)
        break
      case 'pending':
        stream.pending.delete(state.peer)
        this.releasePendingSlot(state.peer)
        out.push(send(this.committerConn(stream), joinWithdrawnMessage(state.peer)))
        break
      case 'outsider':
        break
    }
  }

  private onTick (nowMs: number, out: GroupAction[]): void {
    for (const stream of this.byKey.values()) {
      if (!stream.epochReady && nowMs - stream.epochStartMs >= this.epochReadyTimeoutMs) this.sendEpochReady(stream, out)
      for (const [identity, p] of stream.pending) {
        if (nowMs - p.sinceMs < this.pendingJoinTimeoutMs) continue
        this.counters.expiredJoins++
        this.endJoin(stream, identity, p, 'TIMEOUT', `the committer did not answer within ${this.pendingJoinTimeoutMs} ms`, out)
        out.push(send(this.committerConn(stream), joinWithdrawnMessage(identity)))
      }
    }
    for (const [conn, state] of this.conns) {
      if (state.phase !== 'unbound' || nowMs - state.sinceMs < this.bindTimeoutMs) continue
      this.counters.unboundClosed++
      this.conns.set(conn, { phase: 'closing', peer: state.peer, epoch: 0n })
      out.push(send(conn, errorMessage(0n, 'TIMEOUT', `no create or join within ${this.bindTimeoutMs} ms`, 0n)))
      out.push({ kind: 'close', conn })
    }
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

  /** Asks the committer, once per membership, to commit the removal of `identity`. */
  private requestLeave (stream: StreamState, identity: string, out: GroupAction[]): void {
    const member = stream.members.get(identity)
    if (member === undefined || member.leaveRequested) return
    member.leaveRequested = true
    out.push(send(this.committerConn(stream), leaveRequestedMessage(identity)))
  }

  private maybeEpochReady (stream: StreamState, out: GroupAction[]): void {
    if (stream.epochReady) return
    for (const identity of stream.members.keys()) {
      if (identity !== stream.committer && !stream.acks.has(identity)) return
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

  /**
   * Ends `stream`: every conn still bound to it gets an unsolicited NOT_FOUND
   * and a `close`, and the address becomes free for its owner's next `create`.
   */
  private closeStream (stream: StreamState, out: GroupAction[]): void {
    for (const conn of stream.conns) {
      const state = this.conns.get(conn)
      if (state === undefined) continue
      this.conns.set(conn, { phase: 'closing', peer: state.peer, epoch: stream.epoch })
      out.push(send(conn, errorMessage(0n, 'NOT_FOUND', 'stream closed', stream.epoch)))
      out.push({ kind: 'close', conn })
    }
    for (const identity of stream.pending.keys()) this.releasePendingSlot(identity)
    stream.pending.clear()
    stream.conns.clear()
    this.byKey.delete(stream.key)
    decrement(this.owned, stream.committer)
    out.push({ kind: 'streamClosed', stream: stream.key })
  }

  /** The committer's conn; it always has one, since losing it closes the stream. */
  private committerConn (stream: StreamState): ConnId {
    return stream.members.get(stream.committer)!.conn!
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
