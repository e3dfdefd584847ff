/**
 * The home side of a stream's tree links (`/fabric/roster/1`,
 * protocol/fabric.md section 5): a node of the fabric relaying a stream at
 * home here opens a channel, names the stream and offers a capacity. It
 * gets the stream's whole roster at once and again after every change, so
 * that it admits media only from and to current members, and its place in
 * the stream's relay tree (StreamPlans) whenever that changes; its
 * heartbeats feed the planner, and the channel's end fails it there. Only
 * nodes that proved the fabric key are served; a stream not at home here
 * is NOT_FOUND; when the stream ends the channel ends with NOT_FOUND.
 */
import { FabricError, isFabricError } from '../../errors.js'
import type { ChannelListener, ChannelOptions, FrameChannel } from '../../transport/channel.js'
import { MAX_ROSTER_MESSAGE } from '../../wire/limits.js'
import { clipErrorText } from '../../wire/message-codec.js'
import { decodeRosterOpen, decodeTreeHeartbeat, encodeHomeMessage } from '../../wire/roster-messages.js'
import type { Assignment, RelayLoad } from '../../fabric/index.js'
import { FABRIC_ROSTER_PROTOCOL } from '../../wire/protocol-ids.js'
import { streamKey, type StreamKey } from '../../wire/stream-tag.js'
import { short, type Logger } from '../log.js'
import type { Startable } from '../startable.js'
import { OPEN_DEADLINE_MS } from '../stream-deadlines.js'
import { StreamPlans, type TreeSettings } from './stream-plans.js'

/** The channel's framing: a RosterOpen and heartbeats in, rosters and assignments out. */
export const ROSTER_CHANNEL: ChannelOptions = { maxFrameLength: MAX_ROSTER_MESSAGE }

/**
 * Roster channels one connection may hold at once: one per stream a node
 * relays from here. A node relaying more streams than this from one home
 * is refused the rest (the transport resets the channel).
 */
export const MAX_ROSTER_CHANNELS_PER_CONNECTION = 1024

/**
 * Bytes a roster channel may hold unsent before it is reset: a relaying
 * node that stops reading rosters must not make the home hold every later
 * roster for it (a full roster is at most MAX_ROSTER_MESSAGE).
 */
export const MAX_ROSTER_BACKLOG = 4 * MAX_ROSTER_MESSAGE

/** A stream's roster as the home holds it: epoch and each member's leaf. */
export interface HomeRoster {
  readonly epoch: bigint
  readonly leaves: ReadonlyMap<string, number>
}

/** Options of RosterSource. */
export interface RosterSourceOptions {
  listener: ChannelListener
  /** The roster of a stream at home here, or undefined when it is not. */
  rosterOf: (stream: StreamKey) => HomeRoster | undefined
  /**
   * Whether `peer` is a node of this fabric (it proved the key on its
   * current connection); may wait for a proof under way (FabricService.gate).
   */
  isFabricPeer: (peer: string) => boolean | Promise<boolean>
  /** This node's peer id: the root of the trees planned here. */
  selfId: string
  /** The planner's settings. */
  tree?: TreeSettings
  /** The planner dropped `relay` from `stream`'s tree (its heartbeats stopped): this node's media links with it may go. */
  relayRemoved?: (stream: StreamKey, relay: string) => void
  /** What this node feeds its own child relays of `stream` (the root's line of the mesh report). */
  rootLoad?: (stream: StreamKey) => RelayLoad
  log: Logger
}

/** Counters of the roster channels, for stats. */
export interface RosterSourceCounters {
  /** Channels served now. */
  open: number
  /** Opens refused: not a fabric node, stream not at home here, malformed. */
  refused: number
  /** Rosters sent. */
  sent: number
  /** Assignments sent. */
  assignments: number
  /** Heartbeats received. */
  heartbeats: number
}

/** Serves the rosters of the streams at home on this node to the nodes relaying them. */
export class RosterSource implements Startable {
  readonly counters: RosterSourceCounters = { open: 0, refused: 0, sent: 0, assignments: 0, heartbeats: 0 }
  /** The relay trees of the streams at home here. */
  readonly plans: StreamPlans
  private readonly opts: RosterSourceOptions
  /** Per stream, each relaying node's channel by its peer id. */
  private readonly channels = new Map<StreamKey, Map<string, FrameChannel>>()

  constructor (opts: RosterSourceOptions) {
    this.opts = opts
    this.plans = new StreamPlans({
      ...opts.tree,
      selfId: opts.selfId,
      assign: (stream, relay, a) => { this.assign(stream, relay, a) },
      removed: (stream, relay) => { opts.relayRemoved?.(stream, relay) },
      rootLoad: opts.rootLoad,
      log: opts.log,
    })
  }

  /** Serves /fabric/roster/1. */
  async start (): Promise<void> {
    await this.opts.listener.listen(FABRIC_ROSTER_PROTOCOL, (channel) => { void this.serve(channel) }, ROSTER_CHANNEL, { maxInboundChannels: MAX_ROSTER_CHANNELS_PER_CONNECTION })
  }

  /** Stops serving, drops every plan, and resets every tree link. */
  async stop (): Promise<void> {
    await this.opts.listener.unlisten(FABRIC_ROSTER_PROTOCOL)
    this.plans.stop()
    for (const set of this.channels.values()) for (const c of set.values()) c.abort(new Error('node stopping'))
    this.channels.clear()
  }

  /** The roster of `stream` changed (the group service's roster event): every node relaying it gets the new one. */
  changed (stream: StreamKey): void {
    const set = this.channels.get(stream)
    if (set === undefined) return
    const roster = this.opts.rosterOf(stream)
    if (roster === undefined) return
    const frame = rosterFrame(roster)
    for (const c of set.values()) this.send(c, frame)
  }

  /** `stream` ended: every node relaying it is told NOT_FOUND, and its channel ends. */
  ended (stream: StreamKey): void {
    const set = this.channels.get(stream)
    if (set === undefined) return
    this.channels.delete(stream)
    this.plans.drop(stream)
    const frame = encodeHomeMessage({ roster: { error: { code: 'NOT_FOUND', message: 'stream closed' }, epoch: 0n, members: [] } })
    for (const c of set.values()) {
      this.send(c, frame)
      c.closeOrReset(OPEN_DEADLINE_MS)
    }
  }

  private async serve (channel: FrameChannel): Promise<void> {
    const peer = channel.remotePeer
    let stream: StreamKey | undefined
    try {
      if (!await this.opts.isFabricPeer(peer)) throw new FabricError('NOT_ADMITTED', 'not a node of this fabric')
      const open = decodeRosterOpen(await channel.next(OPEN_DEADLINE_MS))
      const key = streamKey(open.owner, open.stream)
      const roster = this.opts.rosterOf(key)
      if (roster === undefined) throw new FabricError('NOT_FOUND', `stream ${key} is not at home here`)
      let set = this.channels.get(key)
      if (set === undefined) this.channels.set(key, set = new Map())
      // One tree link per node and stream: a second one replaces the first.
      set.get(peer)?.abort(new FabricError('INVALID_STATE', 'replaced by a newer tree link'))
      stream = key
      set.set(peer, channel)
      this.counters.open++
      this.send(channel, rosterFrame(roster))
      this.opts.log.info({ event: 'roster.replica_open', peer: short(peer), stream: key, capacity: open.capacity }, 'a node joins a stream\'s tree')
      this.plans.join(key, peer, open.capacity)
      for await (const frame of channel.rest()) {
        const beat = decodeTreeHeartbeat(frame)
        this.counters.heartbeats++
        this.plans.heartbeat(key, peer, { framesForwarded: safe(beat.framesForwarded), bytesForwarded: safe(beat.bytesForwarded), childrenServed: beat.childrenServed }, open.capacity)
      }
    } catch (err) {
      if (stream === undefined) {
        this.counters.refused++
        const code = isFabricError(err) ? err.code : 'MALFORMED'
        this.opts.log.info({ event: 'roster.refused', peer: short(peer), code, reason: clipErrorText((err as Error).message) }, 'roster replication refused')
        try {
          channel.write(encodeHomeMessage({ roster: { error: { code, message: clipErrorText((err as Error).message) }, epoch: 0n, members: [] } }))
          channel.closeOrReset(OPEN_DEADLINE_MS)
        } catch { channel.abort(err as Error) }
      } else {
        channel.abort(err as Error)
      }
    } finally {
      if (stream !== undefined) {
        const set = this.channels.get(stream)
        if (set?.get(peer) === channel) {
          set.delete(peer)
          this.plans.fail(stream, peer)
        }
        this.counters.open--
        if (set?.size === 0) this.channels.delete(stream)
      }
    }
  }

  private assign (stream: StreamKey, relay: string, a: Assignment): void {
    const channel = this.channels.get(stream)?.get(relay)
    if (channel === undefined) return
    this.opts.log.info({ event: 'tree.assigned', stream, relay: short(relay), parent: short(a.parent), depth: a.depth }, 'a relay\'s place in the tree')
    this.send(channel, encodeHomeMessage({ assignment: { parent: a.parent, standby: a.standby ?? '', depth: a.depth } }), false)
  }

  private send (channel: FrameChannel, frame: Uint8Array, roster = true): void {
    if (channel.bufferedBytes + frame.byteLength > MAX_ROSTER_BACKLOG) {
      channel.abort(new FabricError('QUOTA_EXCEEDED', 'the relaying node does not read its rosters'))
      return
    }
    try {
      channel.write(frame)
      if (roster) this.counters.sent++
      else this.counters.assignments++
    } catch {}
  }
}

function rosterFrame (roster: HomeRoster): Uint8Array {
  return encodeHomeMessage({ roster: { epoch: roster.epoch, members: [...roster.leaves].map(([identity, leaf]) => ({ identity, leaf })) } })
}

/** A u64 counter as a number the planner takes (a safe integer; larger ones are clamped). */
function safe (n: bigint): number {
  return n > BigInt(Number.MAX_SAFE_INTEGER) ? Number.MAX_SAFE_INTEGER : Number(n)
}
