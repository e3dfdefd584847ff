/**
 * The home side of roster replication (`/fabric/roster/1`, protocol/fabric.md
 * section 5): a node of the fabric relaying a stream at home here opens a
 * channel, names the stream, and gets its whole roster at once and again
 * after every change, so that it admits media only from and to current
 * members. Only nodes that proved the fabric key are served; a stream not at
 * home here is NOT_FOUND; when the stream ends the channel ends with
 * NOT_FOUND.
 */
import { FabricError, isFabricError } from '../../errors.js'
import type { ChannelListener, ChannelOptions, FrameChannel } from '../../transport/channel.js'
import { MAX_ROSTER_MESSAGE } from '../../wire/limits.js'
import { clipErrorText } from '../../wire/message-codec.js'
import { decodeRosterOpen, encodeRosterUpdate } from '../../wire/roster-messages.js'
import { FABRIC_ROSTER_PROTOCOL } from '../../wire/protocol-ids.js'
import { streamKey, type StreamKey } from '../../wire/stream-tag.js'
import { short, type Logger } from '../log.js'
import type { Startable } from '../startable.js'
import { OPEN_DEADLINE_MS } from '../stream-deadlines.js'

/** The channel's framing: a RosterOpen in, rosters out. */
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
  /** Whether `peer` is a node of this fabric (it proved the key on its current connection). */
  isFabricPeer: (peer: string) => boolean
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
}

/** Serves the rosters of the streams at home on this node to the nodes relaying them. */
export class RosterSource implements Startable {
  readonly counters: RosterSourceCounters = { open: 0, refused: 0, sent: 0 }
  private readonly opts: RosterSourceOptions
  private readonly channels = new Map<StreamKey, Set<FrameChannel>>()

  constructor (opts: RosterSourceOptions) {
    this.opts = opts
  }

  async start (): Promise<void> {
    await this.opts.listener.listen(FABRIC_ROSTER_PROTOCOL, (channel) => { void this.serve(channel) }, ROSTER_CHANNEL, { maxInboundChannels: MAX_ROSTER_CHANNELS_PER_CONNECTION })
  }

  async stop (): Promise<void> {
    await this.opts.listener.unlisten(FABRIC_ROSTER_PROTOCOL)
    for (const set of this.channels.values()) for (const c of set) c.abort(new Error('node stopping'))
    this.channels.clear()
  }

  /** The roster of `stream` changed (the group service's roster event): every node relaying it gets the new one. */
  changed (stream: StreamKey): void {
    const set = this.channels.get(stream)
    if (set === undefined) return
    const roster = this.opts.rosterOf(stream)
    if (roster === undefined) return
    const frame = rosterFrame(roster)
    for (const c of set) this.send(c, frame)
  }

  /** `stream` ended: every node relaying it is told NOT_FOUND, and its channel ends. */
  ended (stream: StreamKey): void {
    const set = this.channels.get(stream)
    if (set === undefined) return
    this.channels.delete(stream)
    const frame = encodeRosterUpdate({ error: { code: 'NOT_FOUND', message: 'stream closed' }, epoch: 0n, members: [] })
    for (const c of set) {
      this.send(c, frame)
      c.closeOrReset(OPEN_DEADLINE_MS)
    }
  }

  private async serve (channel: FrameChannel): Promise<void> {
    const peer = channel.remotePeer
    let stream: StreamKey | undefined
    try {
      if (!this.opts.isFabricPeer(peer)) throw new FabricError('NOT_ADMITTED', 'not a node of this fabric')
      const open = decodeRosterOpen(await channel.next(OPEN_DEADLINE_MS))
      const key = streamKey(open.owner, open.stream)
      const roster = this.opts.rosterOf(key)
      if (roster === undefined) throw new FabricError('NOT_FOUND', `stream ${key} is not at home here`)
      stream = key
      let set = this.channels.get(key)
      if (set === undefined) this.channels.set(key, set = new Set())
      set.add(channel)
      this.counters.open++
      this.send(channel, rosterFrame(roster))
      this.opts.log.info({ event: 'roster.replica_open', peer: short(peer), stream: key }, 'a node replicates a roster')
      // The relaying node sends nothing more; its end of the channel ends the replica.
      for await (const _ of channel.rest()) throw new FabricError('MALFORMED', 'a roster channel carries one RosterOpen')
    } catch (err) {
      if (stream === undefined) {
        this.counters.refused++
        const code = isFabricError(err) ? err.code : 'MALFORMED'
        this.opts.log.info({ event: 'roster.refused', peer: short(peer), code, reason: clipErrorText((err as Error).message) }, 'roster replication refused')
        try {
          channel.write(encodeRosterUpdate({ error: { code, message: clipErrorText((err as Error).message) }, epoch: 0n, members: [] }))
          channel.closeOrReset(OPEN_DEADLINE_MS)
        } catch { channel.abort(err as Error) }
      } else {
        channel.abort(err as Error)
      }
    } finally {
      if (stream !== undefined) {
        const set = this.channels.get(stream)
        if (set?.delete(channel) === true) this.counters.open--
        if (set?.size === 0) this.channels.delete(stream)
      }
    }
  }

  private send (channel: FrameChannel, frame: Uint8Array): void {
    if (channel.bufferedBytes + frame.byteLength > MAX_ROSTER_BACKLOG) {
      channel.abort(new FabricError('QUOTA_EXCEEDED', 'the relaying node does not read its rosters'))
      return
    }
    try {
      channel.write(frame)
      this.counters.sent++
    } catch {}
  }
}

function rosterFrame (roster: HomeRoster): Uint8Array {
  return encodeRosterUpdate({ epoch: roster.epoch, members: [...roster.leaves].map(([identity, leaf]) => ({ identity, leaf })) })
}
