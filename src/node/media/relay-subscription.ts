/**
 * One node-to-node relay subscription (protocol/link-seal.md section 8):
 * this node subscribes to a stream at another node as a trusted relay,
 * opens each sealed chunk with the subscription's transit key, and forwards
 * it into the local relay as a source named by that node's peer id (whose
 * chunks may carry any member's tracks: RelayNode.addUpstream). The relay's
 * keyframe requests for those tracks go back as SubscriberNotices, the
 * message of a subscriber. The inner bytes are the same at every hop; only
 * the link seal changes. UpstreamLink (one fixed upstream node) and the
 * fabric's stream links (a stream's home and its child relays) are both
 * made of these.
 */
import { FabricError } from '../../errors.js'
import { LinkOpener } from '../../crypto/link-seal.js'
import { generateLinkKeyPair, linkTransitKey } from '../../crypto/transit-key.js'
import type { RelayNode } from '../../relay/relay-node.js'
import type { ChannelDialer, ChannelOptions, FrameChannel } from '../../transport/channel.js'
import { MAX_MEDIA_FRAME } from '../../wire/limits.js'
import { decodeOpenResult, encodeSubscribeOpen, toErrorCode } from '../../wire/messages.js'
import { AV_SUBSCRIBE_PROTOCOL } from '../../wire/protocol-ids.js'
import { parseStreamKey, type StreamKey } from '../../wire/stream-tag.js'
import { OPEN_DEADLINE_MS } from '../stream-deadlines.js'
import type { TrafficTap } from '../traffic-tap.js'
import { relayClock, type AvCounters } from './counters.js'
import { subscriberKeyframeRequest } from './keyframe-request.js'
import type { MediaRouter, MediaSource } from './router.js'

/** How a relay subscription's channel is read: sealed media frames, stamped with their ingest time. */
export const RELAY_SUBSCRIPTION_CHANNEL: ChannelOptions = { maxFrameLength: MAX_MEDIA_FRAME, clock: relayClock }

/** What a relay subscription feeds and counts into (shared by every subscription of a media service). */
export interface RelaySubscriptionDeps {
  relay: RelayNode
  router: MediaRouter
  /** Counts chunks that fail to open (rejectedChunks). */
  counters: AvCounters
  /** Records every sealed frame received (audits). */
  tap?: TrafficTap
}

/** This node's subscription to one stream at another node: a source of that stream's chunks here. */
export class RelaySubscription implements MediaSource {
  /** The other node's peer id as the transport authenticated it: the relay holds its tracks under that name. */
  readonly identity: string
  /** Settles (never rejects) when the subscription has ended and its source is removed. */
  readonly ended: Promise<void>
  private readonly deps: RelaySubscriptionDeps
  private over = false

  private constructor (readonly stream: StreamKey, readonly channel: FrameChannel, opener: LinkOpener, deps: RelaySubscriptionDeps, beforeFirstChunk?: () => void) {
    this.identity = channel.remotePeer
    this.deps = deps
    beforeFirstChunk?.()
    deps.relay.openStream(stream)
    deps.relay.addUpstream(stream, this.identity)
    deps.router.addSource(this)
    this.ended = this.receive(opener)
  }

  /**
   * Subscribes to `stream` through `dialer` as a relay and starts forwarding
   * its chunks into the relay (which carries the stream from then on).
   * @param beforeFirstChunk runs once the node accepted, before any of its
   *   chunks is forwarded (a relay moving to a new parent lets go of the old
   *   one there, so the new one's chunks find its tracks free)
   * @throws FabricError UNREACHABLE when the node cannot be reached, or the
   *   node's refusal (its code); MalformedError for a malformed answer
   */
  static async open (stream: StreamKey, dialer: ChannelDialer, deps: RelaySubscriptionDeps, beforeFirstChunk?: () => void): Promise<RelaySubscription> {
    const own = generateLinkKeyPair()
    const { owner, name } = parseStreamKey(stream)
    const channel = await dialer.open(AV_SUBSCRIBE_PROTOCOL, RELAY_SUBSCRIPTION_CHANNEL)
    try {
      await channel.send(encodeSubscribeOpen({ stream: name, owner, subscriberPublicKey: own.publicKey, relay: true }))
      const result = decodeOpenResult(await channel.next(OPEN_DEADLINE_MS))
      if (result.error !== undefined) throw new FabricError(toErrorCode(result.error.code), `${channel.remotePeer} refused ${stream}: ${result.error.message}`)
      return new RelaySubscription(stream, channel, new LinkOpener(linkTransitKey('subscriber', own, result.relayPublicKey, stream)), deps, beforeFirstChunk)
    } catch (err) {
      channel.abort(err as Error)
      throw err
    }
  }

  /** True until the subscription has ended. */
  get live (): boolean { return !this.over }

  requestKeyframe (track: number): void {
    this.channel.write(subscriberKeyframeRequest(track))
  }

  /** Resets the subscription with `err`; `ended` settles once it is wound down. */
  abort (err: Error): void {
    this.channel.abort(err)
  }

  private async receive (opener: LinkOpener): Promise<void> {
    const { router, counters, tap } = this.deps
    try {
      for await (const sealed of this.channel.rest()) {
        tap?.record('in', sealed)
        let chunk: Uint8Array
        try { chunk = opener.open(sealed) } catch { counters.rejectedChunks++; continue }
        router.forward(this, chunk, this.channel.lastReadAtMs)
      }
    } catch {} finally {
      this.over = true
      router.removeSource(this)
    }
  }
}
