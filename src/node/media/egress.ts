/**
 * Media egress (/fabric/av/subscribe/1, protocol/control.md section 4.2): the subscribe
 * channels of members and trusted relays. The open is the link-seal
 * handshake (a fresh X25519 key pair per subscription, the transit key of
 * protocol/link-seal.md); the relay admits the subscription under its
 * per-identity quota before the open is answered; a SubscriberSender per
 * subscription writes what the relay queues, sealed; the subscriber's
 * keyframe requests go to the relay and on to the track's source. A stream
 * this node does not carry is pulled first (StreamPuller: the upstream node,
 * or the stream's home in a fabric).
 */
import { FabricError } from '../../errors.js'
import { LinkSealer, sealedPacket } from '../../crypto/link-seal.js'
import { generateLinkKeyPair, linkTransitKey } from '../../crypto/transit-key.js'
import { SubscriberSender, type WireFrame } from '../../dispatch/subscriber-sender.js'
import type { ChunkSealer, RelayNode } from '../../relay/relay-node.js'
import type { ChannelOptions, FrameChannel } from '../../transport/channel.js'
import { clipErrorText } from '../../wire/message-codec.js'
import { MAX_AV_MESSAGE } from '../../wire/limits.js'
import { decodeSubscribeOpen, decodeSubscriberNotice, encodeOpenResult } from '../../wire/messages.js'
import { streamKey, type StreamKey } from '../../wire/stream-tag.js'
import { short, type Logger } from '../log.js'
import { CONTROL_FRAME_DEADLINE_MS, OPEN_DEADLINE_MS } from '../stream-deadlines.js'
import type { TrafficTap } from '../traffic-tap.js'
import { relayClock, type AvCounters } from './counters.js'
import type { MediaPolicy } from './membership.js'
import { endMediaChannel } from './refusal.js'
import type { MediaRouter } from './router.js'

/** How subscribe channels are read: a subscriber only ever sends the open and small notices. */
export const SUBSCRIBE_CHANNEL: ChannelOptions = { maxFrameLength: MAX_AV_MESSAGE, frameDeadlineMs: CONTROL_FRAME_DEADLINE_MS }

/**
 * Makes a stream this node does not hold available: UpstreamLink (one
 * upstream node) or the fabric's stream links (the stream's home).
 */
export interface StreamPuller {
  /**
   * Returns once `stream` is carried here, or at once when it is or cannot
   * be had from this puller (the caller then refuses as usual).
   * @param member the peer asking, when it asks as a member (not as a
   *   trusted relay): a puller that keeps a roster replica waits briefly for
   *   a member its replica does not list yet
   * @throws FabricError when the stream cannot be had (the refusal of the node
   *   it comes from, UNREACHABLE, QUOTA_EXCEEDED)
   */
  ensure: (stream: StreamKey, member: string | undefined) => Promise<void>
  /** A trusted relay subscribed to `stream` here (the fabric links pull its members' media back from it). */
  relaySubscribed?: (stream: StreamKey, peer: string) => void
}

/** Options of MediaEgress. */
export interface MediaEgressOptions {
  relay: RelayNode
  policy: MediaPolicy
  router: MediaRouter
  counters: AvCounters
  /** Where streams this node lacks come from; none: they are NOT_FOUND. */
  upstream?: StreamPuller
  /** Records every sealed frame sent (audits). */
  tap?: TrafficTap
  log: Logger
}

/** What a node sends the relays subscribed to one stream (MediaEgress.relaysOn). */
export interface RelayFeed {
  /** Relay subscriptions live now. */
  relays: number
  /** Frames written to them (live subscriptions only). */
  frames: number
  /** Bytes written to them, framing and link seal included. */
  bytes: number
}

/** One live subscription, for stats. */
export interface LiveSubscription {
  /** The RelayNode subscriber id. */
  id: number
  identity: string
  stream: string
  /** Bytes written to the channel and not yet taken by the transport. */
  transportBuffered: number
  /** Transport writes issued (one per batch). */
  writes: number
  /** Times the sender waited for the channel to drain. */
  drainWaits: number
}

interface Subscription {
  readonly id: number
  readonly identity: string
  readonly stream: StreamKey
  readonly channel: FrameChannel
  readonly sender: SubscriberSender
  /** A trusted relay's subscription (admitted without membership). */
  readonly trusted: boolean
}

export class MediaEgress {
  private readonly relay: RelayNode
  private readonly policy: MediaPolicy
  private readonly router: MediaRouter
  private readonly counters: AvCounters
  private readonly upstream: StreamPuller | undefined
  private readonly tap: TrafficTap | undefined
  private readonly log: Logger
  private readonly subscriptions = new Map<number, Subscription>()

  constructor (opts: MediaEgressOptions) {
    this.relay = opts.relay
    this.policy = opts.policy
    this.router = opts.router
    this.counters = opts.counters
    this.upstream = opts.upstream
    this.tap = opts.tap
    this.log = opts.log
  }

  /** Subscriptions admitted and live now. */
  get count (): number { return this.subscriptions.size }

  /** Subscriptions live on `stream`; with `trusted` false, those of trusted relays are not counted. */
  countOn (stream: StreamKey, trusted = true): number {
    let n = 0
    for (const s of this.subscriptions.values()) if (s.stream === stream && (trusted || !s.trusted)) n++
    return n
  }

  /**
   * What this node sends the trusted relays subscribed to `stream` (child
   * relays in a fabric), those of `except` (a peer id) not counted: how many
   * there are now, and the frames and bytes written to them so far.
   */
  relaysOn (stream: StreamKey, except: string | undefined): RelayFeed {
    const feed: RelayFeed = { relays: 0, frames: 0, bytes: 0 }
    for (const s of this.subscriptions.values()) {
      if (s.stream !== stream || !s.trusted || s.identity === except) continue
      feed.relays++
      feed.frames += s.sender.framesSent
      feed.bytes += s.sender.bytesSent
    }
    return feed
  }

  /** True while RelayNode subscriber `id` is one of ours and live. */
  has (id: number): boolean { return this.subscriptions.has(id) }

  /** Live subscriptions, with the bytes their transport still holds. */
  live (): LiveSubscription[] {
    return [...this.subscriptions.values()].map((s) => ({
      id: s.id,
      identity: s.identity,
      stream: s.stream,
      transportBuffered: s.channel.bufferedBytes,
      writes: s.sender.writes,
      drainWaits: s.sender.drainWaits,
    }))
  }

  /** Takes a subscribe channel a peer opened (read with SUBSCRIBE_CHANNEL); it serves it until it ends. */
  readonly accept = (channel: FrameChannel): void => { void this.serve(channel) }

  /** Ends the subscriptions of `identity` on `stream` with `err` (a member removed). */
  closeMember (stream: StreamKey, identity: string, err: Error): void {
    for (const s of [...this.subscriptions.values()]) if (s.stream === stream && s.identity === identity) this.drop(s, err)
  }

  /** Ends every subscription of `stream` with `err` (the stream ended). */
  closeStream (stream: StreamKey, err: Error): void {
    for (const s of [...this.subscriptions.values()]) if (s.stream === stream) this.drop(s, err)
  }

  /** Ends every subscription (the node stops). */
  stop (): void {
    for (const s of [...this.subscriptions.values()]) this.drop(s, new Error('node stopping'))
  }

  private async serve (channel: FrameChannel): Promise<void> {
    const identity = channel.remotePeer
    let sub: Subscription | undefined
    try {
      const open = decodeSubscribeOpen(await channel.next(OPEN_DEADLINE_MS))
      const key = streamKey(open.owner, open.stream)
      // A node of the fabric may open its relay subscription before its key proof has finished.
      if (open.relay) await this.policy.settleTrust(identity)
      await this.upstream?.ensure(key, open.relay && this.policy.isTrustedRelay(identity) ? undefined : identity)
      const trusted = this.policy.admitSubscriber(key, identity, open.relay)
      if (!this.relay.hasStream(key)) throw new FabricError('NOT_FOUND', `stream ${key} is not open`)
      const own = generateLinkKeyPair()
      const sealer = this.tapped(new LinkSealer(linkTransitKey('relay', own, open.subscriberPublicKey, key)))
      // Admitted before the open result goes out, so that a refusal (a
      // quota) is the open's answer. The open result still precedes every
      // sealed frame: sender tasks only run on a later turn of the event loop.
      const { id, keyframeRequests } = this.relay.subscribe(key, identity, sealer, relayClock(), { trusted })
      try {
        channel.write(encodeOpenResult({ relayPublicKey: own.publicKey }))
      } catch (err) {
        this.relay.unsubscribe(id)
        throw err
      }
      const clock = this.router.scheduler.clock
      // The time a batch is taken, sealed and written (a clock read shared
      // by the batches of one scheduler run: BatchClock); none for the
      // empty take that ends each flush.
      const take = (max: number): WireFrame[] => {
        const queued = this.relay.queuedBytes(id)
        return queued === 0 ? [] : this.relay.take(id, max, clock.now(Math.min(queued, max)))
      }
      const sender = new SubscriberSender(channel, take, (err) => {
        const s = this.subscriptions.get(id)
        if (s !== undefined) this.drop(s, err)
      })
      sub = { id, identity, stream: key, channel, sender, trusted }
      this.log.info({ event: 'subscribe.open', peer: short(identity), stream: key, trusted }, 'subscription open')
      this.subscriptions.set(id, sub)
      this.router.addSender(id, sender)
      this.counters.subscribeStreams++
      this.router.wake(sender)
      for (const r of keyframeRequests) this.router.requestKeyframe(r)
      if (trusted) this.upstream?.relaySubscribed?.(key, identity)
      for await (const frame of channel.rest()) {
        const notice = decodeSubscriberNotice(frame)
        if (notice.keyframeRequest !== undefined) {
          const r = this.relay.requestKeyframe(id, notice.keyframeRequest.track, relayClock())
          if (r !== undefined) this.router.requestKeyframe(r)
        }
      }
    } catch (err) {
      endMediaChannel(channel, 'subscribe', sub === undefined, err, this.counters, this.log)
    } finally {
      if (sub !== undefined) this.drop(sub)
    }
  }

  /** `sealer`, recording each sealed frame when the node taps its traffic. */
  private tapped (sealer: LinkSealer): ChunkSealer {
    const tap = this.tap
    if (tap === undefined) return sealer
    return {
      sealFrame: (chunk: Uint8Array) => {
        const f = sealer.sealFrame(chunk)
        tap.record('out', sealedPacket(f))
        return f
      },
    }
  }

  /** Ends `s` once: its sender stops, the relay forgets it, and its channel is closed (reset with `err`). */
  private drop (s: Subscription, err?: Error): void {
    if (this.subscriptions.get(s.id) !== s) return
    this.subscriptions.delete(s.id)
    this.router.removeSender(s.id)
    this.log.info({ event: 'subscribe.closed', peer: short(s.identity), stream: s.stream, ...(err === undefined ? {} : { error: err.name, reason: clipErrorText(err.message) }) }, 'subscription closed')
    s.sender.stop()
    this.relay.unsubscribe(s.id)
    if (err !== undefined) s.channel.abort(err)
    else void s.channel.close()
  }
}
