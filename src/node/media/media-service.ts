/**
 * Media service of a node (/fabric/av/publish/1 and /fabric/av/subscribe/1):
 * the I/O shell around RelayNode, which it creates and owns. It composes
 * one part per job: MediaIngress (publish channels), MediaEgress (subscribe
 * channels), UpstreamLink (the pull from an upstream node, when there is
 * one), over a MediaRouter (chunks into the relay, senders woken, keyframe
 * requests to sources) and a MediaPolicy (who may publish and subscribe).
 * Membership is the group service's: the composition root hands its roster
 * and stream-end events to `onRoster` and `streamClosed`, and a removed
 * member's channels are closed at once.
 */
import { FabricError } from '../../errors.js'
import { RelayNode, type RelayConfig } from '../../relay/relay-node.js'
import type { ChannelDialer, ChannelListener, ListenOptions } from '../../transport/channel.js'
import { AV_PUBLISH_PROTOCOL, AV_SUBSCRIBE_PROTOCOL } from '../../wire/protocol-ids.js'
import type { StreamKey } from '../../wire/stream-tag.js'
import type { RosterEvent } from '../group-service.js'
import { GOING_AWAY_RETRY_MS } from '../stream-deadlines.js'
import { silentLogger, type Logger } from '../log.js'
import type { Startable } from '../startable.js'
import type { TrafficTap } from '../traffic-tap.js'
import { newAvCounters, type AvCounters } from './counters.js'
import { MediaEgress, SUBSCRIBE_CHANNEL, type LiveSubscription, type RelayFeed, type StreamPuller } from './egress.js'
import { MediaIngress, PUBLISH_CHANNEL } from './ingress.js'
import { MediaPolicy, type Membership, type RelayTrust } from './membership.js'
import { OverloadLog } from './overload-log.js'
import type { RelaySubscriptionDeps } from './relay-subscription.js'
import { MediaRouter } from './router.js'
import { UpstreamLink } from './upstream-link.js'

/**
 * Media channels one connection may hold per protocol (libp2p's default is
 * 32): a downstream relay or a load generator multiplexes many
 * subscriptions over one connection.
 */
export const MAX_MEDIA_STREAMS_PER_CONNECTION = 1024

const MEDIA_LIMITS: ListenOptions = { maxInboundChannels: MAX_MEDIA_STREAMS_PER_CONNECTION, maxOutboundChannels: MAX_MEDIA_STREAMS_PER_CONNECTION }

/** What stream links tell the media service, and ask it. */
export interface StreamLinkHost {
  /** A replicated roster changed: enforce it as the group service's (MediaService.onRoster). */
  roster: (event: RosterEvent) => void
  /** The stream is no longer carried here: its home ended it or the link to it ended. */
  ended: (stream: StreamKey) => void
  /** Member channels (publish and subscribe, trusted relays not counted) open on `stream` now. */
  memberChannels: (stream: StreamKey) => number
  /** What this node sends the trusted relays subscribed to `stream` here, `except` (a peer id) not counted. */
  relaySubscribers: (stream: StreamKey, except: string | undefined) => RelayFeed
  /** Ends the subscriptions `peer` holds on `stream` here (a relay that is no longer fed from here). */
  closeRelay: (stream: StreamKey, peer: string, err: Error) => void
}

/**
 * Streams at home on other nodes of a fabric, pulled with their rosters
 * (src/node/fabric/stream-links.ts): made before the media service, whose
 * constructor binds them to its relay with `attach`.
 */
export interface StreamLinks extends StreamPuller {
  attach: (deps: RelaySubscriptionDeps, host: StreamLinkHost) => void
  /** Ends this node's links of `stream` (it ended here). */
  closeStream: (stream: StreamKey, err: Error) => void
  /** Ends every link (the node stops). */
  stop: () => void
}

/** What the media service is built from. */
export interface MediaServiceOptions {
  /** Accepts the publish and subscribe channels peers open. */
  listener: ChannelListener
  /** Who is a member of which stream, with their MLS leaves (the group service). */
  membership: Membership
  /** Tunables of the RelayNode the service creates; omitted fields take DEFAULT_RELAY_CONFIG's. */
  relay?: Partial<RelayConfig>
  /**
   * Peer ids of downstream relays the operator trusts: they may subscribe
   * (with `relay: true`) to any stream without being MLS members, and
   * receive the same ciphertext a member would.
   */
  trustedRelays?: Iterable<string> | RelayTrust
  /**
   * Reaches an upstream node (which must trust this one) to pull streams
   * from when a subscriber asks for a stream this node does not carry: this
   * node then subscribes there as a relay and re-seals every chunk for its
   * own subscribers. The inner bytes are identical at every hop.
   */
  upstream?: ChannelDialer
  /**
   * The fabric's stream links: streams at home on other nodes are pulled
   * from there, members' media pushed back, and rosters replicated. Takes
   * the place of `upstream` when both are given.
   */
  links?: StreamLinks
  /** Records every media frame handled (audits). */
  tap?: TrafficTap
  /**
   * Multiaddrs (with /p2p/) of other nodes a stopping node sends its
   * publishers to (a NodeGoingAway notice, protocol/survival.md section 5);
   * default none.
   */
  goingAwayAddresses?: () => Promise<string[]> | string[]
  /** Where the service logs (component "media"); default silent. */
  log?: Logger
}

/** Live media channels, for stats. */
export interface MediaStreamCounts {
  /** Sources of chunks: publish channels and streams pulled from the upstream node. */
  publishers: number
  subscribers: number
  subscriptions: LiveSubscription[]
}

export class MediaService implements Startable {
  /** The relay core; this service is its only owner. */
  readonly relay: RelayNode
  readonly counters: AvCounters = newAvCounters()
  readonly ingress: MediaIngress
  readonly egress: MediaEgress
  /** Present when the node has an upstream node (and no fabric links). */
  readonly upstream: UpstreamLink | undefined
  /** Present when the node is part of a fabric. */
  readonly links: StreamLinks | undefined
  private readonly listener: ChannelListener
  private readonly router: MediaRouter
  private readonly overloads: OverloadLog
  private readonly goingAwayAddresses: () => Promise<string[]> | string[]

  /** @throws RangeError for a relay cap or budget that is negative or NaN (RelayNode) */
  constructor (opts: MediaServiceOptions) {
    const log = opts.log ?? silentLogger()
    const counters = this.counters
    this.listener = opts.listener
    this.goingAwayAddresses = opts.goingAwayAddresses ?? (() => [])
    this.relay = new RelayNode(opts.relay)
    const relay = this.relay
    const policy = new MediaPolicy({ membership: opts.membership, trustedRelays: opts.trustedRelays })
    this.router = new MediaRouter({ relay, counters })
    const router = this.router
    this.links = opts.links
    this.links?.attach({ relay, router, counters, tap: opts.tap }, {
      roster: (event) => { this.onRoster(event) },
      ended: (stream) => { this.streamClosed(stream) },
      memberChannels: (stream) => this.memberChannels(stream),
      relaySubscribers: (stream, except) => this.egress.relaysOn(stream, except),
      closeRelay: (stream, peer, err) => { this.egress.closeMember(stream, peer, err) },
    })
    this.upstream = opts.upstream === undefined || opts.links !== undefined ? undefined : new UpstreamLink({ relay, router, dialer: opts.upstream, counters, tap: opts.tap, log })
    this.upstream?.on('ended', (stream) => { this.streamClosed(stream) })
    this.ingress = new MediaIngress({ relay, policy, router, counters, puller: this.links, tap: opts.tap, log })
    this.egress = new MediaEgress({ relay, policy, router, counters, upstream: this.links ?? this.upstream, tap: opts.tap, log })
    this.overloads = new OverloadLog({ relay, counters, subscriptions: this.egress, log })
  }

  /** Serves both protocols. */
  async start (): Promise<void> {
    await this.listener.listen(AV_PUBLISH_PROTOCOL, this.ingress.accept, PUBLISH_CHANNEL, MEDIA_LIMITS)
    await this.listener.listen(AV_SUBSCRIBE_PROTOCOL, this.egress.accept, SUBSCRIBE_CHANNEL, MEDIA_LIMITS)
    await this.overloads.start()
  }

  /**
   * Stops serving both protocols and ends every media channel; publishers
   * are first told where to go (NodeGoingAway with the other nodes' addresses).
   */
  async stop (): Promise<void> {
    await this.overloads.stop()
    await this.listener.unlisten(AV_PUBLISH_PROTOCOL)
    await this.listener.unlisten(AV_SUBSCRIBE_PROTOCOL)
    let addresses: string[] = []
    try { addresses = await this.goingAwayAddresses() } catch {}
    this.ingress.stop('the node is stopping', addresses, GOING_AWAY_RETRY_MS)
    this.upstream?.stop()
    this.links?.stop()
    this.egress.stop()
  }

  /**
   * The group service's roster changed (GroupService 'roster'): the relay
   * carries the stream, clears its GOP caches when members came or went,
   * and the removed members lose their media channels and relay state.
   */
  onRoster (event: RosterEvent): void {
    const { stream, added, removed } = event
    this.relay.openStream(stream)
    if (added.length > 0 || removed.length > 0) this.relay.epochChanged(stream)
    for (const identity of removed) {
      this.ingress.closeMember(stream, identity, new FabricError('NOT_MEMBER', 'removed from the stream'))
      this.egress.closeMember(stream, identity, new FabricError('NOT_MEMBER', 'removed from the stream'))
    }
    for (const identity of removed) this.relay.removeMember(stream, identity)
  }

  /** The stream ended (GroupService 'streamClosed', or its pull ended): close all its media channels. */
  streamClosed (stream: StreamKey): void {
    this.ingress.closeStream(stream, new FabricError('NOT_FOUND', 'stream closed'))
    this.egress.closeStream(stream, new FabricError('NOT_FOUND', 'stream closed'))
    this.upstream?.closeStream(stream, new FabricError('NOT_FOUND', 'stream closed'))
    this.links?.closeStream(stream, new FabricError('NOT_FOUND', 'stream closed'))
    this.relay.closeStream(stream)
  }

  /** Member channels (publish and subscribe, trusted relays not counted) open on `stream` now. */
  memberChannels (stream: StreamKey): number {
    return this.ingress.countOn(stream) + this.egress.countOn(stream, false)
  }

  /** Live media channels, for stats: per subscription, bytes held by the transport too. */
  streamCounts (): MediaStreamCounts {
    return { publishers: this.router.sourceCount, subscribers: this.egress.count, subscriptions: this.egress.live() }
  }
}
