/**
 * GroupServiceCore: the sans-IO core of the group service, the MLS delivery
 * service of design.md (protocol id /fabric/group/1, protocol/group.proto).
 * Per fabric stream it keeps the MLS epoch, the roster, the committer and the
 * pending joiners; it orders Commits (the first valid Commit for the current
 * epoch wins, RFC 9420 section 12.4), fans them out with the Welcomes of the
 * joiners (section 12.4.3.1), and tells members when every one of them has
 * moved to the new epoch (design.md "Transition").
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
 * TOO_LARGE against the roster, and last the `inspectCommit` checks
 * (MALFORMED, or STALE_EPOCH when the Commit's own epoch differs), because
 * parsing is the costly step.
 *
 * Bounds (group/limits.ts, overridable per instance): streams per node and
 * pending joiners per stream refuse create/join with TOO_LARGE; members per
 * stream refuse a commit with TOO_LARGE. Wire bounds on names, identities
 * and MLS messages (src/wire/limits.ts) are checked again here.
 *
 * Lifecycle of a conn: unbound after `opened`; bound to one stream by its
 * first create/join; after its stream closes it answers every request with
 * NOT_FOUND until the shell reports it `closed`. Events for conns never
 * opened are ignored. EpochReady is not sent for epoch 0: no key retires.
 *
 * v1 limits, by design:
 * - An identity listed in `added` without a pending joiner conn (it never
 *   joined here, or its conn closed) still enters the roster, but gets no
 *   Welcome from this node and cannot bind a conn later (`join` answers
 *   ALREADY_EXISTS for members): the committer should remove it.
 * - A member whose conn closed stays in the roster until the committer
 *   commits its removal; it still counts for EpochReady, so that epoch ends
 *   by timeout.
 * - The committer cannot be removed by a commit; its `leave` or conn close
 *   ends the stream for everyone.
 */
import { MAX_ROSTER } from '../wire/limits.js'
import type { AckEpoch, CreateStream, GroupClientMessage, GroupServerMessage, JoinStream, SubmitCommit } from '../wire/pb/group.js'
import {
  DEFAULT_EPOCH_READY_TIMEOUT_MS, GROUP_PROTOCOL_VERSION, MAX_MEMBERS_PER_STREAM, MAX_PENDING_JOINERS_PER_STREAM,
  MAX_STREAMS_PER_NODE,
} from './group/limits.js'
import {
  commitMessage, epochReadyMessage, errorMessage, joinRequestedMessage, leaveRequestedMessage, okMessage,
  rosterMessage, welcomeMessage,
} from './group/messages.js'
import { equalBytes } from '../session/bytes.js'
import { Refusal, checkCommitShape, checkGroupId, checkStreamName, clientBody } from './group/validate.js'

export {
  DEFAULT_EPOCH_READY_TIMEOUT_MS, GROUP_PROTOCOL_VERSION, MAX_MEMBERS_PER_STREAM, MAX_PENDING_JOINERS_PER_STREAM,
  MAX_STREAMS_PER_NODE,
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
 *   which is the member's MLS credential identity (design.md "MLS").
 * - `message`: a decoded, size-checked client message arrived on `conn`.
 * - `closed`: `conn` is gone (either side closed it or it reset). Also sent
 *   after the shell carried out a `close` action, so the core can forget it.
 * - `tick`: time passed; the shell sends it periodically (a few times per
 *   epochReadyTimeoutMs is plenty).
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
 *   only `members`, clear GOP caches since `epoch` changed. `members` is in
 *   roster order, committer first.
 * - `streamClosed`: `stream` no longer exists; the relay drops it.
 */
export type GroupAction =
  | { kind: 'send', conn: ConnId, message: GroupServerMessage }
  | { kind: 'close', conn: ConnId }
  | { kind: 'roster', stream: string, epoch: bigint, members: string[], added: string[], removed: string[] }
  | { kind: 'streamClosed', stream: string }

/** What `inspectCommit` reads from a Commit's PublicMessage framing (RFC 9420 section 6.2). */
export interface CommitInfo {
  /** The MLS group id the Commit is for. */
  groupId: Uint8Array
  /** The epoch the Commit was created in (it starts epoch + 1). */
  epoch: bigint
}

/**
 * Reads the group id and epoch of an MLSMessage carrying a PublicMessage
 * Commit. Must be pure. Any throw means the bytes are not such a message and
 * is reported to the committer as MALFORMED.
 */
export type InspectCommit = (commit: Uint8Array) => CommitInfo

/** Construction options of a GroupServiceCore. */
export interface GroupServiceOptions {
  /** Parser of submitted Commits; see InspectCommit. */
  inspectCommit: InspectCommit
  /** Wait in ms from the start of an epoch until EpochReady is sent without every ack; default 2000. */
  epochReadyTimeoutMs?: number
  /** Bound on streams hosted at once; default MAX_STREAMS_PER_NODE. */
  maxStreams?: number
  /** Bound on pending joiners per stream; default MAX_PENDING_JOINERS_PER_STREAM. */
  maxPendingJoiners?: number
  /** Bound on members per stream; default MAX_MEMBERS_PER_STREAM, at most the wire's MAX_ROSTER. */
  maxMembers?: number
}

/** A stream's roster as `GroupServiceCore.roster` reports it (fresh copies). */
export interface GroupRoster {
  /** Current MLS epoch; 0 at creation, +1 per accepted Commit. */
  epoch: bigint
  /** Member identities (libp2p peer ids) in roster order, committer first. */
  members: string[]
  /** Identity of the only member allowed to commit (the creator in v1). */
  committer: string
}

interface Member {
  /** Undefined when the member was added without a conn here, or its conn closed. */
  conn: ConnId | undefined
  /** LeaveRequested was already sent for it, so a leave then a close ask once. */
  leaveRequested: boolean
}

interface StreamState {
  readonly name: string
  readonly groupId: Uint8Array
  readonly committer: string
  epoch: bigint
  /** In roster order; Map keeps insertion order, so the creator stays first. */
  readonly members: Map<string, Member>
  /** Joiner identity -> its conn, awaiting an Add. */
  readonly pending: Map<string, ConnId>
  /** Every conn bound to this stream: members, pending joiners, removed members. */
  readonly conns: Set<ConnId>
  /** Non-committer members that acked the current epoch. */
  readonly acks: Set<string>
  epochStartMs: number
  /** EpochReady went out for the current epoch (or none is due, as at epoch 0). */
  epochReady: boolean
}

type ConnState =
  | { phase: 'unbound', peer: string }
  | { phase: 'bound', peer: string, stream: StreamState }
  /** Its stream closed and a `close` went out; requests get NOT_FOUND until the shell reports it closed. */
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
  private readonly inspectCommit: InspectCommit
  private readonly epochReadyTimeoutMs: number
  private readonly maxStreams: number
  private readonly maxPendingJoiners: number
  private readonly maxMembers: number
  private readonly conns = new Map<ConnId, ConnState>()
  private readonly byName = new Map<string, StreamState>()

  /**
   * @param opts see GroupServiceOptions
   * @throws RangeError when a bound or the timeout is not a positive number, or maxMembers exceeds MAX_ROSTER
   */
  constructor (opts: GroupServiceOptions) {
    this.inspectCommit = opts.inspectCommit
    this.epochReadyTimeoutMs = positive('epochReadyTimeoutMs', opts.epochReadyTimeoutMs ?? DEFAULT_EPOCH_READY_TIMEOUT_MS)
    this.maxStreams = positive('maxStreams', opts.maxStreams ?? MAX_STREAMS_PER_NODE)
    this.maxPendingJoiners = positive('maxPendingJoiners', opts.maxPendingJoiners ?? MAX_PENDING_JOINERS_PER_STREAM)
    this.maxMembers = positive('maxMembers', opts.maxMembers ?? MAX_MEMBERS_PER_STREAM)
    // A larger roster could not be encoded as one Roster message.
    if (this.maxMembers > MAX_ROSTER) throw new RangeError(`maxMembers ${this.maxMembers} exceeds the wire's MAX_ROSTER ${MAX_ROSTER}`)
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
        // A repeated `opened` is a shell bug; keeping the first binding stops
        // it from silently rebinding a member's conn to another peer.
        if (!this.conns.has(event.conn)) this.conns.set(event.conn, { phase: 'unbound', peer: event.peer })
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
  isMember (stream: string, identity: string): boolean {
    return this.byName.get(stream)?.members.has(identity) ?? false
  }

  /** The current roster of `stream`, or undefined when no such stream exists. */
  roster (stream: string): GroupRoster | undefined {
    const s = this.byName.get(stream)
    if (s === undefined) return undefined
    return { epoch: s.epoch, members: [...s.members.keys()], committer: s.committer }
  }

  /** Names of the streams hosted now, in creation order. */
  streams (): string[] {
    return [...this.byName.keys()]
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
      if (requestId !== 0n) out.push(send(conn, errorMessage(requestId, err.code, err.message, err.currentEpoch)))
      return
    }
    out.push(...staged)
  }

  private dispatch (conn: ConnId, state: ConnState, message: GroupClientMessage, nowMs: number, out: GroupAction[]): void {
    if (state.phase === 'closing') throw new Refusal('NOT_FOUND', 'stream closed', state.epoch)
    const epoch = state.phase === 'bound' ? state.stream.epoch : 0n
    if (message.version !== GROUP_PROTOCOL_VERSION) {
      throw new Refusal('UNSUPPORTED_VERSION', `group protocol version ${message.version} unsupported, expected ${GROUP_PROTOCOL_VERSION}`, epoch)
    }
    const body = clientBody(message, epoch)
    const requestId = message.requestId
    if (state.phase === 'unbound') {
      if (body.kind === 'create') return this.create(conn, state.peer, requestId, body.create, nowMs, out)
      if (body.kind === 'join') return this.join(conn, state.peer, requestId, body.join, out)
      throw new Refusal('INVALID_STATE', `the first message on a group stream must be create or join, got ${body.kind}`, 0n)
    }
    const stream = state.stream
    const role = roleOf(stream, state.peer, conn)
    switch (body.kind) {
      case 'create':
      case 'join':
        throw new Refusal('INVALID_STATE', `this group stream is already bound to stream ${stream.name}`, stream.epoch)
      case 'commit':
        return this.commit(conn, role, requestId, stream, body.commit, nowMs, out)
      case 'ack':
        return this.ack(conn, state.peer, role, requestId, stream, body.ack, out)
      case 'leave':
        return this.leave(conn, state.peer, role, requestId, stream, out)
    }
  }

  private create (conn: ConnId, peer: string, requestId: bigint, req: CreateStream, nowMs: number, out: GroupAction[]): void {
    checkStreamName(req.stream)
    checkGroupId(req.groupId)
    const existing = this.byName.get(req.stream)
    if (existing !== undefined) throw new Refusal('ALREADY_EXISTS', `stream ${req.stream} already exists`, existing.epoch)
    if (this.byName.size >= this.maxStreams) {
      throw new Refusal('TOO_LARGE', `this node hosts ${this.byName.size} streams, limit ${this.maxStreams}`, 0n)
    }
    const stream: StreamState = {
      name: req.stream,
      // Copied: the decoded id may view a larger frame buffer that would stay alive with it.
      groupId: req.groupId.slice(),
      committer: peer,
      epoch: 0n,
      members: new Map([[peer, { conn, leaveRequested: false }]]),
      pending: new Map(),
      conns: new Set([conn]),
      acks: new Set(),
      epochStartMs: nowMs,
      // Epoch 0 retires no previous key, so no EpochReady is due for it.
      epochReady: true,
    }
    this.byName.set(stream.name, stream)
    this.conns.set(conn, { phase: 'bound', peer, stream })
    reply(out, conn, requestId, 0n)
    out.push(send(conn, rosterMessage(0n, [peer], peer)))
    out.push({ kind: 'roster', stream: stream.name, epoch: 0n, members: [peer], added: [peer], removed: [] })
  }

  private join (conn: ConnId, peer: string, requestId: bigint, req: JoinStream, out: GroupAction[]): void {
    checkStreamName(req.stream)
    const stream = this.byName.get(req.stream)
    if (stream === undefined) throw new Refusal('NOT_FOUND', `no stream ${req.stream}`, 0n)
    if (stream.members.has(peer)) throw new Refusal('ALREADY_EXISTS', `${peer} is already a member of ${stream.name}`, stream.epoch)
    if (stream.pending.has(peer)) throw new Refusal('ALREADY_EXISTS', `a join of ${peer} to ${stream.name} is already pending`, stream.epoch)
    if (stream.pending.size >= this.maxPendingJoiners) {
      throw new Refusal('TOO_LARGE', `${stream.name} has ${stream.pending.size} pending joiners, limit ${this.maxPendingJoiners}`, stream.epoch)
    }
    stream.pending.set(peer, conn)
    stream.conns.add(conn)
    this.conns.set(conn, { phase: 'bound', peer, stream })
    out.push(send(this.committerConn(stream), joinRequestedMessage(peer)))
    reply(out, conn, requestId, stream.epoch)
  }

  private commit (conn: ConnId, role: Role, requestId: bigint, stream: StreamState, req: SubmitCommit, nowMs: number, out: GroupAction[]): void {
    const epoch = stream.epoch
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.name}`, epoch)
    if (role !== 'committer') throw new Refusal('NOT_COMMITTER', `only ${stream.committer} commits to ${stream.name}`, epoch)
    if (req.epoch !== epoch) throw new Refusal('STALE_EPOCH', `commit for epoch ${req.epoch}, current epoch is ${epoch}`, epoch)
    checkCommitShape(req, this.maxMembers, epoch)
    for (const identity of req.added) {
      if (stream.members.has(identity)) throw new Refusal('ALREADY_EXISTS', `${identity} is already a member of ${stream.name}`, epoch)
    }
    for (const identity of req.removed) {
      if (identity === stream.committer) throw new Refusal('NOT_MEMBER', 'the committer cannot remove itself; it leaves, which closes the stream', epoch)
      if (!stream.members.has(identity)) throw new Refusal('NOT_MEMBER', `${identity} is not a member of ${stream.name}`, epoch)
    }
    const size = stream.members.size - req.removed.length + req.added.length
    if (size > this.maxMembers) throw new Refusal('TOO_LARGE', `commit leaves ${size} members, limit ${this.maxMembers}`, epoch)
    this.checkInspection(stream, req.commit)

    const before = [...stream.members]
    const next = epoch + 1n
    stream.epoch = next
    for (const identity of req.removed) stream.members.delete(identity)
    for (const identity of req.added) {
      stream.members.set(identity, { conn: stream.pending.get(identity), leaveRequested: false })
      stream.pending.delete(identity)
    }
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
    out.push({ kind: 'roster', stream: stream.name, epoch: next, members, added: [...req.added], removed: [...req.removed] })
    // A commit that leaves the committer alone needs no ack to finish.
    this.maybeEpochReady(stream, out)
  }

  /** Refuses unless `inspectCommit` parses `commit` as a Commit of this group at its current epoch. */
  private checkInspection (stream: StreamState, commit: Uint8Array): void {
    let info: CommitInfo
    try {
      info = this.inspectCommit(commit)
    } catch (err) {
      const why = err instanceof Error ? err.message : String(err)
      throw new Refusal('MALFORMED', `commit does not parse: ${why}`, stream.epoch)
    }
    // Guards a faulty inspector as well, so it cannot make the core throw.
    if (typeof info !== 'object' || info === null || typeof info.epoch !== 'bigint' || !(info.groupId instanceof Uint8Array)) {
      throw new Refusal('MALFORMED', 'commit inspection returned no group id and epoch', stream.epoch)
    }
    if (!equalBytes(info.groupId, stream.groupId)) throw new Refusal('MALFORMED', `commit is for another MLS group than ${stream.name}`, stream.epoch)
    if (info.epoch !== stream.epoch) {
      throw new Refusal('STALE_EPOCH', `commit was created in epoch ${info.epoch}, current epoch is ${stream.epoch}`, stream.epoch)
    }
  }

  private ack (conn: ConnId, peer: string, role: Role, requestId: bigint, stream: StreamState, req: AckEpoch, out: GroupAction[]): void {
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.name}`, stream.epoch)
    if (req.epoch > stream.epoch) throw new Refusal('STALE_EPOCH', `ack for epoch ${req.epoch}, current epoch is ${stream.epoch}`, stream.epoch)
    reply(out, conn, requestId, stream.epoch)
    // Old-epoch acks arrive routinely after a quick second commit; the
    // committer needs no ack since it made the epoch.
    if (req.epoch < stream.epoch || role === 'committer') return
    stream.acks.add(peer)
    this.maybeEpochReady(stream, out)
  }

  private leave (conn: ConnId, peer: string, role: Role, requestId: bigint, stream: StreamState, out: GroupAction[]): void {
    if (role === 'pending' || role === 'outsider') throw new Refusal('NOT_MEMBER', `not a member of ${stream.name}`, stream.epoch)
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
        break
      case 'outsider':
        break
    }
  }

  private onTick (nowMs: number, out: GroupAction[]): void {
    for (const stream of this.byName.values()) {
      if (!stream.epochReady && nowMs - stream.epochStartMs >= this.epochReadyTimeoutMs) this.sendEpochReady(stream, out)
    }
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
   * and a `close`, and the name becomes free for a new `create`.
   */
  private closeStream (stream: StreamState, out: GroupAction[]): void {
    for (const conn of stream.conns) {
      const state = this.conns.get(conn)
      if (state === undefined) continue
      this.conns.set(conn, { phase: 'closing', peer: state.peer, epoch: stream.epoch })
      out.push(send(conn, errorMessage(0n, 'NOT_FOUND', 'stream closed', stream.epoch)))
      out.push({ kind: 'close', conn })
    }
    stream.conns.clear()
    this.byName.delete(stream.name)
    out.push({ kind: 'streamClosed', stream: stream.name })
  }

  /** The committer's conn; it always has one, since losing it closes the stream. */
  private committerConn (stream: StreamState): ConnId {
    return stream.members.get(stream.committer)!.conn!
  }
}

function roleOf (stream: StreamState, peer: string, conn: ConnId): Role {
  const member = stream.members.get(peer)
  if (member !== undefined && member.conn === conn) return peer === stream.committer ? 'committer' : 'member'
  if (stream.pending.get(peer) === conn) return 'pending'
  return 'outsider'
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
