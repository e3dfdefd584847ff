/**
 * The node's pull from its upstream node (node-to-node relaying,
 * protocol/link-seal.md section 8): when a subscriber asks for a stream this
 * node does not carry, the link subscribes to it at the upstream node as a
 * trusted relay, opens each sealed chunk with that subscription's transit
 * key, and forwards it into the local relay as an upstream source (whose
 * chunks may carry any member's tracks: RelayNode.addUpstream). The relay's
 * keyframe requests for those tracks go back up as SubscriberNotices, the
 * message of a subscriber. The inner bytes are the same at every hop; only
 * the link seal changes.
 */
import { EventEmitter } from 'node:events'
import { FabricError } from '../../errors.js'
import { LinkOpener } from '../../crypto/link-seal.js'
import { generateLinkKeyPair, linkTransitKey } from '../../crypto/transit-key.js'
import type { RelayNode } from '../../relay/relay-node.js'
import type { ChannelDialer, ChannelOptions, FrameChannel } from '../../transport/channel.js'
import { MAX_MEDIA_FRAME } from '../../wire/limits.js'
import { decodeOpenResult, encodeSubscribeOpen, toErrorCode } from '../../wire/messages.js'
import { AV_SUBSCRIBE_PROTOCOL } from '../../wire/protocol-ids.js'
import { parseStreamKey, type StreamKey } from '../../wire/stream-tag.js'
import type { Logger } from '../log.js'
import { OPEN_DEADLINE_MS } from '../stream-deadlines.js'
import type { TrafficTap } from '../traffic-tap.js'
import { relayClock, type AvCounters } from './counters.js'
import { subscriberKeyframeRequest } from './keyframe-request.js'
import type { StreamPuller } from './egress.js'
import type { MediaRouter, MediaSource } from './router.js'

/** How the subscribe channel to the upstream node is read: sealed media frames, stamped with their ingest time. */
export const UPSTREAM_CHANNEL: ChannelOptions = { maxFrameLength: MAX_MEDIA_FRAME, clock: relayClock }

/** Options of UpstreamLink. */
export interface UpstreamLinkOptions {
  relay: RelayNode
  router: MediaRouter
  /** Opens channels to the upstream node (which must trust this one as a relay). */
  dialer: ChannelDialer
  counters: AvCounters
  /** Records every sealed frame received (audits). */
  tap?: TrafficTap
  log: Logger
}

/** The events of UpstreamLink. */
export interface UpstreamLinkEvents {
  /** The subscription to `stream` at the upstream node ended: the stream is no longer carried here. */
  ended: [stream: StreamKey]
}

/** This node's subscription to one stream at the upstream node: the source of that stream's chunks here. */
class UpstreamSource implements MediaSource {
  readonly identity: string
  constructor (readonly stream: StreamKey, readonly channel: FrameChannel) {
    // The upstream node as the transport authenticated it: the relay holds its tracks under that name.
    this.identity = channel.remotePeer
  }

  requestKeyframe (track: number): void {
    this.channel.write(subscriberKeyframeRequest(track))
  }
}

export class UpstreamLink extends EventEmitter<UpstreamLinkEvents> implements StreamPuller {
  private readonly relay: RelayNode
  private readonly router: MediaRouter
  private readonly dialer: ChannelDialer
  private readonly counters: AvCounters
  private readonly tap: TrafficTap | undefined
  private readonly log: Logger
  /** Per stream, its subscription being opened or open; a failed one is forgotten so the next subscriber tries again. */
  private readonly pulls = new Map<StreamKey, Promise<void>>()
  private readonly sources = new Set<UpstreamSource>()

  constructor (opts: UpstreamLinkOptions) {
    super()
    this.relay = opts.relay
    this.router = opts.router
    this.dialer = opts.dialer
    this.counters = opts.counters
    this.tap = opts.tap
    this.log = opts.log
  }

  /** Streams pulled from the upstream node now. */
  get count (): number { return this.sources.size }

  /**
   * Makes `stream` available by subscribing to it at the upstream node; one
   * subscription per stream however many ask at once.
   * @throws FabricError UNREACHABLE when the upstream cannot be reached, or
   *   the upstream's refusal (its code)
   */
  async pull (stream: StreamKey): Promise<void> {
    let pending = this.pulls.get(stream)
    if (pending === undefined) {
      pending = this.open(stream)
      this.pulls.set(stream, pending)
      pending.catch(() => { this.pulls.delete(stream) })
    }
    await pending
  }

  /** Resets the subscription to `stream` at the upstream node with `err`; it emits 'ended'. */
  closeStream (stream: StreamKey, err: Error): void {
    for (const s of this.sources) if (s.stream === stream) s.channel.abort(err)
  }

  /** Resets every subscription at the upstream node (the node stops); each emits 'ended'. */
  stop (): void {
    for (const s of this.sources) s.channel.abort(new Error('node stopping'))
  }

  private async open (stream: StreamKey): Promise<void> {
    const own = generateLinkKeyPair()
    const { owner, name } = parseStreamKey(stream)
    const channel = await this.dialer.open(AV_SUBSCRIBE_PROTOCOL, UPSTREAM_CHANNEL)
    await channel.send(encodeSubscribeOpen({ stream: name, owner, subscriberPublicKey: own.publicKey, relay: true }))
    const result = decodeOpenResult(await channel.next(OPEN_DEADLINE_MS))
    if (result.error !== undefined) throw new FabricError(toErrorCode(result.error.code), `upstream refused ${stream}: ${result.error.message}`)
    const opener = new LinkOpener(linkTransitKey('subscriber', own, result.relayPublicKey, stream))
    this.relay.openStream(stream)
    const source = new UpstreamSource(stream, channel)
    this.relay.addUpstream(stream, source.identity)
    this.sources.add(source)
    this.router.addSource(source)
    this.log.info({ event: 'upstream.pull', stream, upstream: this.dialer.target }, 'pulling a stream from the upstream node')
    void this.receive(source, opener)
  }

  private async receive (source: UpstreamSource, opener: LinkOpener): Promise<void> {
    try {
      for await (const sealed of source.channel.rest()) {
        this.tap?.record('in', sealed)
        let chunk: Uint8Array
        try { chunk = opener.open(sealed) } catch { this.counters.rejectedChunks++; continue }
        this.router.forward(source, chunk, source.channel.lastReadAtMs)
      }
    } catch {} finally {
      this.log.info({ event: 'upstream.ended', stream: source.stream, upstream: this.dialer.target }, 'upstream pull ended')
      this.sources.delete(source)
      this.router.removeSource(source)
      this.pulls.delete(source.stream)
      this.emit('ended', source.stream)
    }
  }
}
