/**
 * Group service shell (/fabric/group/1): feeds the sans-IO GroupServiceCore
 * with channel events and carries out its actions. One channel (the
 * transport seam, src/transport/channel.ts) per member per fabric stream; a malformed frame gets an error reply and
 * the stream carries on (framing is intact); a framing error closes only
 * that member's stream. Each stream's frame bound is the one its role needs
 * (the core's frameBoundOf), and a frame must arrive whole within
 * CONTROL_FRAME_DEADLINE_MS (stream-deadlines.ts) of its first byte, so a
 * peer that parks half-frames on many streams holds neither memory nor
 * streams for long.
 *
 * Events (EventEmitter, GroupServiceEvents): 'roster' (RosterEvent) and
 * 'streamClosed' (StreamClosedEvent), the membership decisions the media
 * service enforces, emitted in the order the core decides them; 'committer'
 * when the designated committer of a stream changes.
 *
 * Durability (protocol/survival.md section 5): every stream's snapshot is
 * written to the GroupStore before any member hears of the change that made
 * it (the core's `persist` action holds back the actions after it until the
 * write is done), and `start` restores the stored streams with every member
 * away, so members that reconnect within the grace period resume. `stop`
 * first sends every member a GoingAway notice, then closes the group
 * streams gracefully.
 */
import { EventEmitter } from 'node:events'
import { isFabricError } from '../errors.js'
import { FrameBudget } from '../transport/frame-budget.js'
import type { ChannelListener, FrameChannel } from '../transport/channel.js'
import { inspectCommit } from '../session/inspect.js'
import { clipErrorText } from '../wire/message-codec.js'
import type { GroupClientMessage } from '../wire/pb/group.js'
import { GROUP_PROTOCOL } from '../wire/protocol-ids.js'
import type { StreamKey } from '../wire/stream-tag.js'
import { decodeGroupClientMessage, encodeGroupServerMessage } from '../wire/messages.js'
import { errorMessage } from './group/messages.js'
import { GroupServiceCore, MAX_GROUP_REQUEST_FRAME, type GroupAction, type GroupServiceOptions } from './group-core.js'
import type { GroupStore } from './group-store.js'
import { short, silentLogger, type Logger } from './log.js'
import { CLOSE_GRACE_MS, CONTROL_FRAME_DEADLINE_MS, GOING_AWAY_RETRY_MS } from './stream-deadlines.js'

/** How often the core's timers (EpochReady, pending joins, bind deadline) are driven, ms. */
const TICK_MS = 200

/** Group streams one connection may have open at once (libp2p's per-connection stream bound). */
export const MAX_GROUP_STREAMS_PER_CONNECTION = 32

/** The membership of a stream changed: it was created, or a Commit was accepted (the core's `roster` action). */
export interface RosterEvent {
  readonly stream: StreamKey
  /** The new epoch (0 for a stream just created). */
  readonly epoch: bigint
  /** Member identities in roster order, committer first. */
  readonly members: readonly string[]
  readonly added: readonly string[]
  readonly removed: readonly string[]
  /** Each member's MLS leaf index. */
  readonly leaves: ReadonlyMap<string, number>
  /** True when the stream was taken back from the store at start (every member away). */
  readonly restored?: boolean
}

/** The designated committer of a stream changed. */
export interface CommitterEvent {
  readonly stream: StreamKey
  readonly epoch: bigint
  /** The new committer, or undefined while no member is live. */
  readonly committer: string | undefined
}

/** A stream no longer exists (the core's `streamClosed` action). */
export interface StreamClosedEvent {
  readonly stream: StreamKey
}

/** The events of GroupService: the membership decisions the media service must enforce. */
export interface GroupServiceEvents {
  /** The membership of a stream changed. */
  roster: [event: RosterEvent]
  /** A stream ended. */
  streamClosed: [event: StreamClosedEvent]
  /** The designated committer of a stream changed. */
  committer: [event: CommitterEvent]
}

export { GOING_AWAY_RETRY_MS }

/** Options of the group service: the core's bounds and timeouts (inspectCommit is the node's). */
export type GroupServiceShellOptions = Omit<GroupServiceOptions, 'inspectCommit'> & {
  /** Where the service logs (component "group"); default silent. */
  log?: Logger
  /**
   * Bytes of frames announced but not yet whole, over all group streams;
   * default DEFAULT_IN_FLIGHT_FRAME_BYTES (64 MiB). Committers may send 2 MiB
   * frames and every identity may own streams, so a crowd of fresh
   * identities could otherwise park gigabytes until the frame deadline.
   */
  inFlightFrameBytes?: number
  /** Where streams survive a restart; default none (streams end with the process). */
  store?: GroupStore
  /** Multiaddrs (with /p2p/) of other nodes members may go to when this one stops; default none. */
  goingAwayAddresses?: () => Promise<string[]> | string[]
}

export class GroupService extends EventEmitter<GroupServiceEvents> {
  readonly core: GroupServiceCore
  /** The budget of frames under way that every group stream shares (its `refused` counts resets). */
  readonly frameBudget: FrameBudget
  /** Frames refused as malformed, across all members. */
  malformed = 0
  private readonly listener: ChannelListener
  private readonly conns = new Map<number, FrameChannel>()
  /** The authenticated peer of each conn, for log lines. */
  private readonly peers = new Map<number, string>()
  private readonly log: Logger
  private nextConn = 1
  private ticker: NodeJS.Timeout | undefined
  private readonly store: GroupStore | undefined
  private readonly goingAwayAddresses: () => Promise<string[]> | string[]
  /** Action batches waiting for a store write ahead of them, in order. */
  private readonly backlog: GroupAction[][] = []
  /** The store write the backlog waits for, if any (persist never rejects). */
  private writing: Promise<void> | undefined
  /** Store writes that failed (the stream goes on; a restart would lose its latest epochs). */
  storeFailures = 0

  /** @param listener where members open their group channels (the node's transport) */
  constructor (listener: ChannelListener, opts: GroupServiceShellOptions = {}) {
    super()
    this.listener = listener
    const { inFlightFrameBytes, log, store, goingAwayAddresses, ...core } = opts
    this.log = log ?? silentLogger()
    this.store = store
    this.goingAwayAddresses = goingAwayAddresses ?? (() => [])
    this.core = new GroupServiceCore({ ...core, inspectCommit })
    this.frameBudget = new FrameBudget(inFlightFrameBytes)
  }

  /** Restores stored streams, registers the protocol handler and starts the tick timer. */
  async start (): Promise<void> {
    await this.restore()
    await this.listener.listen(GROUP_PROTOCOL, (channel) => { void this.onChannel(channel) }, {
      maxFrameLength: MAX_GROUP_REQUEST_FRAME,
      frameDeadlineMs: CONTROL_FRAME_DEADLINE_MS,
      budget: this.frameBudget,
    }, { maxInboundChannels: MAX_GROUP_STREAMS_PER_CONNECTION })
    this.ticker = setInterval(() => { this.run(this.core.handle({ kind: 'tick' }, Date.now())) }, TICK_MS)
    this.ticker.unref()
  }

  /**
   * Stops: tells every member the node is going away (GoingAway, with the
   * other nodes' addresses), waits for pending store writes, then closes
   * every group stream gracefully and stops the handler and timer.
   */
  async stop (reason = 'the node is stopping'): Promise<void> {
    if (this.ticker !== undefined) clearInterval(this.ticker)
    let addresses: string[] = []
    try { addresses = await this.goingAwayAddresses() } catch {}
    this.run(this.core.handle({ kind: 'going-away', reason, addresses, retryAfterMs: GOING_AWAY_RETRY_MS }, Date.now()))
    while (this.writing !== undefined) await this.writing
    await this.listener.unlisten(GROUP_PROTOCOL)
    await Promise.allSettled([...this.conns.values()].map(async (f) => { await f.closeOrReset(CLOSE_GRACE_MS) }))
    this.conns.clear()
  }

  /** Takes back the streams of the store, each with every member away from now. */
  private async restore (): Promise<void> {
    if (this.store === undefined) return
    const { snapshots, damaged } = await this.store.load()
    for (const key of damaged) this.log.warn({ event: 'store.damaged', key }, 'skipped a damaged group stream record')
    const refused = this.core.restore(snapshots, Date.now())
    for (const key of refused) this.log.warn({ event: 'store.refused', stream: key }, 'skipped a stored stream that does not hold together')
    for (const key of this.core.streams()) {
      const a = this.core.rosterAction(key)!
      this.log.info({ event: 'stream.restored', stream: key, epoch: String(a.epoch), members: a.members.length }, 'stream restored')
      this.emit('roster', { stream: a.stream, epoch: a.epoch, members: a.members, added: a.members, removed: [], leaves: a.leaves, restored: true })
    }
  }

  /** True when `identity` is a current member of `stream`. */
  isMember (stream: StreamKey, identity: string): boolean {
    return this.core.isMember(stream, identity)
  }

  /**
   * The MLS leaf index of `identity` in `stream`'s group, which the relay
   * needs to refuse chunks on another leaf's tracks (MediaIngress, src/node/media/ingress.ts).
   */
  leafIndexOf (stream: StreamKey, identity: string): number | undefined {
    return this.core.leafIndexOf(stream, identity)
  }

  private async onChannel (framed: FrameChannel): Promise<void> {
    const conn = this.nextConn++
    const peer = framed.remotePeer
    this.conns.set(conn, framed)
    this.peers.set(conn, peer)
    this.run(this.core.handle({ kind: 'opened', conn, peer }, Date.now()))
    try {
      for await (const frame of framed.rest()) {
        let message
        try {
          message = decodeGroupClientMessage(frame)
        } catch (err) {
          if (!isFabricError(err)) throw err
          this.malformed++
          this.log.warn({ event: 'refusal', peer: short(peer), code: err.code, reason: clipErrorText(err.message) }, 'undecodable group message')
          framed.write(encodeGroupServerMessage(errorMessage(0n, err.code, err.message, 0n)))
          continue
        }
        this.log.debug({ event: 'request', peer: short(peer), kind: bodyOf(message) }, 'group request')
        this.run(this.core.handle({ kind: 'message', conn, message }, Date.now()))
        // A create makes this stream a committer's, which may send Commits.
        framed.maxFrameLength = this.core.frameBoundOf(conn)
      }
    } catch (err) {
      // Framing broken, a frame deadline or the frame budget: only this stream goes.
      this.log.info({ event: 'stream.reset', peer: short(peer), code: isFabricError(err) ? err.code : 'CONNECTION_LOST', reason: clipErrorText(String((err as Error)?.message ?? err)) }, 'group stream reset')
      framed.abort(err as Error)
    } finally {
      this.conns.delete(conn)
      this.run(this.core.handle({ kind: 'closed', conn }, Date.now()))
      this.peers.delete(conn)
    }
  }

  /**
   * Carries out `actions` in order after every batch before them. Runs
   * synchronously until a `persist` needs a store write; the rest of the
   * batch, and later batches, wait for it.
   */
  private run (actions: GroupAction[]): void {
    if (actions.length === 0) return
    this.backlog.push(actions)
    if (this.writing === undefined) this.pump()
  }

  /** Carries out backlogged actions until a store write must finish first; the write's end resumes it. */
  private pump (): void {
    while (this.backlog.length > 0) {
      const batch = this.backlog[0]!
      for (let a = batch.shift(); a !== undefined; a = batch.shift()) {
        if (a.kind !== 'persist') {
          this.carryOut(a)
          continue
        }
        this.writing = this.persist(a.stream).then(() => {
          this.writing = undefined
          this.pump()
        })
        return
      }
      this.backlog.shift()
    }
  }

  private async persist (stream: StreamKey): Promise<void> {
    if (this.store === undefined) return
    // The newest state: a later epoch than the action's is as good, and a stream closed since needs none.
    const snap = this.core.snapshot(stream)
    if (snap === undefined) return
    try {
      await this.store.put(snap)
    } catch (err) {
      this.storeFailures++
      this.log.error({ event: 'store.write_failed', stream, err: (err as Error).message }, 'cannot store a group stream')
    }
  }

  private carryOut (a: GroupAction): void {
    this.logAction(a)
    switch (a.kind) {
      case 'send': {
        const f = this.conns.get(a.conn)
        try { f?.write(encodeGroupServerMessage(a.message)) } catch {}
        break
      }
      case 'close':
        this.conns.get(a.conn)?.closeOrReset(CLOSE_GRACE_MS)
        break
      case 'roster':
        this.emit('roster', { stream: a.stream, epoch: a.epoch, members: a.members, added: a.added, removed: a.removed, leaves: a.leaves })
        break
      case 'streamClosed':
        this.emit('streamClosed', { stream: a.stream })
        this.store?.delete(a.stream).catch((err: unknown) => {
          this.storeFailures++
          this.log.error({ event: 'store.delete_failed', stream: a.stream, err: (err as Error).message }, 'cannot delete a group stream record')
        })
        break
      case 'committer': {
        // The new committer's Commits and Welcomes need the larger frame bound from now on.
        const f = a.conn === undefined ? undefined : this.conns.get(a.conn)
        if (f !== undefined) f.maxFrameLength = this.core.frameBoundOf(a.conn!)
        this.emit('committer', { stream: a.stream, epoch: a.epoch, committer: a.committer })
        break
      }
      case 'persist':
        break
    }
  }

  /**
   * One log line per action that says what happened: refusals (every error
   * body the service sends, with its code), join requests, Welcomes,
   * roster changes (a stream created, a Commit accepted) and streams ending.
   */
  private logAction (a: GroupAction): void {
    if (a.kind === 'send') {
      const m = a.message
      const peer = short(this.peers.get(a.conn) ?? '?')
      if (m.error !== undefined) {
        this.log.info({ event: 'refusal', peer, code: m.error.code, reason: m.error.message, epoch: String(m.error.currentEpoch), reply: m.requestId !== 0n }, 'group refusal')
      } else if (m.joinRequested !== undefined) {
        this.log.info({ event: 'join.requested', joiner: short(m.joinRequested.identity), committer: peer, invitation: m.joinRequested.redemption.byteLength > 0 }, 'join requested')
      } else if (m.welcome !== undefined) {
        this.log.info({ event: 'welcome.sent', joiner: peer, epoch: String(m.welcome.epoch) }, 'Welcome sent')
      }
    } else if (a.kind === 'roster') {
      const event = a.epoch === 0n ? 'stream.created' : 'commit.accepted'
      this.log.info({ event, stream: a.stream, epoch: String(a.epoch), members: a.members.length, added: a.added.map((id) => short(id)), removed: a.removed.map((id) => short(id)) }, event === 'stream.created' ? 'stream created' : 'Commit accepted')
    } else if (a.kind === 'streamClosed') {
      this.log.info({ event: 'stream.closed', stream: a.stream }, 'stream closed')
    } else if (a.kind === 'committer') {
      this.log.info({ event: 'committer.designated', stream: a.stream, epoch: String(a.epoch), committer: a.committer === undefined ? null : short(a.committer) }, 'committer designated')
    }
  }
}

/** The name of a client message's body, for log lines. */
function bodyOf (m: GroupClientMessage): string {
  for (const k of ['create', 'join', 'commit', 'ack', 'leave', 'deny', 'resume', 'end'] as const) if (m[k] !== undefined) return k
  return 'none'
}
