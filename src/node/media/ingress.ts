/**
 * Media ingress (/fabric/av/publish/1, protocol/control.md section 4.1): the publish channels
 * of members. A channel is admitted by its open (a member with a known MLS
 * leaf, on a stream the relay carries); each chunk after it is checked for
 * membership again and handed to the relay synchronously (MediaRouter); the
 * relay's keyframe requests come back on it as PublisherNotices. When a
 * member's last publish channel on a stream ends, its tracks and GOP caches
 * are released.
 */
import { FabricError } from '../../errors.js'
import type { RelayNode } from '../../relay/relay-node.js'
import type { ChannelOptions, FrameChannel } from '../../transport/channel.js'
import { MAX_AV_MESSAGE, MAX_MEDIA_FRAME } from '../../wire/limits.js'
import { decodePublishOpen, encodeOpenResult, encodePublisherNotice } from '../../wire/messages.js'
import { streamKey, type StreamKey } from '../../wire/stream-tag.js'
import { short, type Logger } from '../log.js'
import { CLOSE_GRACE_MS, OPEN_DEADLINE_MS } from '../stream-deadlines.js'
import type { TrafficTap } from '../traffic-tap.js'
import { relayClock, type AvCounters } from './counters.js'
import { publisherKeyframeRequest } from './keyframe-request.js'
import type { MediaPolicy } from './membership.js'
import { endMediaChannel } from './refusal.js'
import type { StreamPuller } from './egress.js'
import type { MediaRouter, MediaSource } from './router.js'

/**
 * Longest time one media frame may take to arrive once begun, ms: a 1 MiB
 * keyframe over a 1 Mbit/s uplink takes ~8 s; a half-sent frame held
 * longer is parked memory, and the channel is reset.
 */
export const MEDIA_FRAME_DEADLINE_MS = 30_000

/**
 * How publish channels are read. Until the peer is known to be a member its
 * frames are bounded by the open message's size (MAX_AV_MESSAGE); the clock
 * stamps each transport read as the chunks' ingest time.
 */
export const PUBLISH_CHANNEL: ChannelOptions = { maxFrameLength: MAX_AV_MESSAGE, frameDeadlineMs: MEDIA_FRAME_DEADLINE_MS, clock: relayClock }

/** Options of MediaIngress. */
export interface MediaIngressOptions {
  relay: RelayNode
  policy: MediaPolicy
  router: MediaRouter
  counters: AvCounters
  /**
   * Where a stream at home on another node of the fabric comes from (with
   * its roster); none: a stream the relay does not carry is NOT_FOUND.
   */
  puller?: StreamPuller
  /** Records every chunk received (audits). */
  tap?: TrafficTap
  log: Logger
}

/** A member's admitted publish channel. */
class Publisher implements MediaSource {
  constructor (readonly stream: StreamKey, readonly identity: string, readonly channel: FrameChannel) {}

  requestKeyframe (track: number): void {
    this.channel.write(publisherKeyframeRequest(track))
  }
}

export class MediaIngress {
  private readonly relay: RelayNode
  private readonly policy: MediaPolicy
  private readonly router: MediaRouter
  private readonly counters: AvCounters
  private readonly puller: StreamPuller | undefined
  private readonly tap: TrafficTap | undefined
  private readonly log: Logger
  private readonly publishers = new Set<Publisher>()

  constructor (opts: MediaIngressOptions) {
    this.relay = opts.relay
    this.policy = opts.policy
    this.router = opts.router
    this.counters = opts.counters
    this.puller = opts.puller
    this.tap = opts.tap
    this.log = opts.log
  }

  /** Publish channels admitted and live now. */
  get count (): number { return this.publishers.size }

  /** Publish channels live on `stream`. */
  countOn (stream: StreamKey): number {
    let n = 0
    for (const p of this.publishers) if (p.stream === stream) n++
    return n
  }

  /** Takes a publish channel a peer opened (read with PUBLISH_CHANNEL); it serves it until it ends. */
  readonly accept = (channel: FrameChannel): void => { void this.serve(channel) }

  /** Resets the publish channels of `identity` on `stream` with `err` (a member removed). */
  closeMember (stream: StreamKey, identity: string, err: Error): void {
    for (const p of this.publishers) if (p.stream === stream && p.identity === identity) p.channel.abort(err)
  }

  /** Resets every publish channel of `stream` with `err` (the stream ended). */
  closeStream (stream: StreamKey, err: Error): void {
    for (const p of this.publishers) if (p.stream === stream) p.channel.abort(err)
  }

  /**
   * The node stops: every publisher is told where to go (NodeGoingAway:
   * `reason`, other nodes' `addresses`, `retryAfterMs`), then its channel
   * closes (reset if the publisher does not close its side in CLOSE_GRACE_MS);
   * each releases its tracks as it ends.
   */
  stop (reason = 'the node is stopping', addresses: readonly string[] = [], retryAfterMs = 0): void {
    const notice = encodePublisherNotice({ goingAway: { reason, addresses: [...addresses], retryAfterMs } })
    for (const p of this.publishers) {
      try { p.channel.write(notice) } catch {}
      p.channel.closeOrReset(CLOSE_GRACE_MS)
    }
  }

  private async serve (channel: FrameChannel): Promise<void> {
    const identity = channel.remotePeer
    let publisher: Publisher | undefined
    try {
      const open = decodePublishOpen(await channel.next(OPEN_DEADLINE_MS))
      const key = streamKey(open.owner, open.stream)
      await this.puller?.ensure(key, identity)
      this.policy.requireMember(key, identity)
      if (!this.relay.hasStream(key)) throw new FabricError('NOT_FOUND', `stream ${key} is not open`)
      const leaf = this.policy.publisherLeaf(key, identity)
      // Set at every open, not once per member: a member removed and re-added has a new leaf.
      this.relay.setPublisherLeaf(key, identity, leaf)
      publisher = new Publisher(key, identity, channel)
      this.publishers.add(publisher)
      this.router.addSource(publisher)
      this.counters.publishStreams++
      channel.maxFrameLength = MAX_MEDIA_FRAME
      channel.write(encodeOpenResult({ relayPublicKey: new Uint8Array(0) }))
      this.log.info({ event: 'publish.open', peer: short(identity), stream: key, leaf }, 'publish stream open')
      for await (const chunk of channel.rest()) {
        this.tap?.record('in', chunk)
        if (!this.policy.isMember(key, identity)) throw new FabricError('NOT_MEMBER', 'no longer a member of the stream')
        this.router.forward(publisher, chunk, channel.lastReadAtMs)
      }
      await channel.close()
    } catch (err) {
      endMediaChannel(channel, 'publish', publisher === undefined, err, this.counters, this.log)
    } finally {
      if (publisher !== undefined) this.ended(publisher)
    }
  }

  /**
   * A publish channel ended: once the identity has no other publish channel
   * on that stream, its tracks and GOP caches are released, so a member that
   * stops publishing holds no cache memory however long it stays.
   */
  private ended (p: Publisher): void {
    this.publishers.delete(p)
    this.router.removeSource(p)
    this.log.info({ event: 'publish.closed', peer: short(p.identity), stream: p.stream }, 'publish stream closed')
    for (const other of this.publishers) if (other.stream === p.stream && other.identity === p.identity) return
    this.relay.releasePublisher(p.stream, p.identity)
  }
}
