/**
 * Media service of a node (protocol ids /fabric/av/publish/1 and
 * /fabric/av/subscribe/1): the I/O shell around RelayNode. A receiver task per
 * publish stream hands each chunk to `RelayNode.forward` synchronously; a
 * sender task per subscription moves sealed frames out. Membership is the
 * group service's: only current members may publish or subscribe, and a
 * removed member's streams are closed at once.
 */
import type { Libp2p, Stream, Connection } from '@libp2p/interface'
import type { Multiaddr } from '@multiformats/multiaddr'
import { FabricError, isFabricError } from '../errors.js'
import { generateLinkKeyPair, linkTransitKey } from '../crypto/transit-key.js'
import { LinkOpener, LinkSealer, sealedPacket } from '../crypto/link-seal.js'
import { FramedStream } from '../dispatch/framed-stream.js'
import { BatchClock, FlushScheduler, SubscriberSender, type WireFrame } from '../dispatch/subscriber-sender.js'
import type { RelayNode, KeyframeRequest, ForwardResult } from '../relay/relay-node.js'
import { MAX_AV_MESSAGE, MAX_MEDIA_FRAME } from '../wire/limits.js'
import { parseStreamKey, streamKey, type StreamKey } from '../wire/stream-tag.js'
import { clipErrorText } from '../wire/message-codec.js'
import { AV_PUBLISH_PROTOCOL as PUBLISH_PROTOCOL, AV_SUBSCRIBE_PROTOCOL as SUBSCRIBE_PROTOCOL } from '../wire/protocol-ids.js'
import {
  decodeOpenResult, decodePublishOpen, decodeSubscribeOpen, decodeSubscriberNotice,
  encodeOpenResult, encodePublisherNotice, encodeSubscribeOpen, encodeSubscriberNotice, toErrorCode,
} from '../wire/messages.js'
import type { RosterEvent } from './group-service.js'
import { short, silentLogger, type Logger } from './log.js'
import { CLOSE_GRACE_MS, CONTROL_FRAME_DEADLINE_MS, OPEN_DEADLINE_MS } from './stream-deadlines.js'
import type { TrafficTap } from './traffic-tap.js'

/**
 * The clock of every time the relay is given, ms: monotonic and
 * sub-millisecond, for the latency histograms (RelayNode.queueDelay,
 * forwardLatency) as much as for keyframe-request throttling.
 */
const relayClock = (): number => performance.now()

/**
 * Longest time one media frame may take to arrive once begun, ms: a 1 MiB
 * keyframe over a 1 Mbit/s uplink takes ~8 s; a half-sent frame held
 * longer is parked memory, and the stream is reset.
 */
export const MEDIA_FRAME_DEADLINE_MS = 30_000

/**
 * Media streams one connection may hold per protocol (libp2p's default is
 * 32): a downstream relay or a load generator multiplexes many
 * subscriptions over one connection.
 */
export const MAX_MEDIA_STREAMS_PER_CONNECTION = 1024

/**
 * A keyframe request for `track` as the stream to its publisher carries it:
 * a PublisherNotice on a member's publish stream, and a SubscriberNotice on
 * the subscribe stream to the upstream node, of which this node is a
 * subscriber (protocol/control.md section 4.2).
 */
export function keyframeRequestFrame (toUpstream: boolean, track: number): Uint8Array {
  const notice = { keyframeRequest: { track } }
  return toUpstream ? encodeSubscriberNotice(notice) : encodePublisherNotice(notice)
}

/** Counters of the media service beyond RelayNode's own. */
export interface AvCounters {
  publishStreams: number
  subscribeStreams: number
  refusedOpens: number
  rejectedChunks: number
  rejectedByCode: Record<string, number>
  keyframeRequestsSent: number
}

interface Publisher {
  readonly stream: string
  readonly identity: string
  readonly framed: FramedStream
  /** Chunks pulled from the upstream node: not a member of our roster. */
  readonly upstream: boolean
}

/** Options of the media service. */
export interface AvServiceOptions {
  /** Records every media frame handled (audits). */
  tap?: TrafficTap
  /**
   * Peer ids of downstream relays the operator trusts: they may subscribe
   * (with `relay: true`) to any stream without being MLS members, and
   * receive the same ciphertext a member would.
   */
  trustedRelays?: Iterable<string>
  /**
   * An upstream node (which must trust this one) to pull streams from when a
   * subscriber asks for a stream this node does not carry: this node then
   * subscribes there as a relay and re-seals every chunk for its own
   * subscribers. The inner bytes are identical at every hop.
   */
  upstream?: Multiaddr
  /** Where the service logs (component "media"); default silent. */
  log?: Logger
}

/** How often overloads and refused chunks are summed up in the log, ms (one line per subscriber or stream, not per chunk). */
export const MEDIA_LOG_INTERVAL_MS = 1_000

interface Subscription {
  readonly id: number
  readonly identity: string
  readonly stream: string
  readonly framed: FramedStream
  readonly sender: SubscriberSender
}

/** What the media service needs to know of stream membership. */
export interface Membership {
  isMember: (stream: string, identity: string) => boolean
  /**
   * The MLS leaf index of `identity` in `stream`'s group, or undefined when
   * not known (not a member, or the group service does not track leaves):
   * the relay lets a publisher claim only tracks of its own leaf.
   */
  leafIndexOf: (stream: string, identity: string) => number | undefined
}

export class AvService {
  readonly relay: RelayNode
  readonly counters: AvCounters = { publishStreams: 0, subscribeStreams: 0, refusedOpens: 0, rejectedChunks: 0, rejectedByCode: {}, keyframeRequestsSent: 0 }
  private readonly libp2p: Libp2p
  private readonly membership: Membership
  private readonly tap: TrafficTap | undefined
  private readonly scheduler = new FlushScheduler(new BatchClock(relayClock))
  private readonly publishers = new Set<Publisher>()
  private readonly subscriptions = new Map<number, Subscription>()
  private readonly trustedRelays: ReadonlySet<string>
  private readonly upstream: Multiaddr | undefined
  private readonly pulls = new Map<string, Promise<void>>()
  private readonly log: Logger
  private logTimer: NodeJS.Timeout | undefined
  /** Per subscriber id, the overflows already logged; and the refused chunks already logged. */
  private readonly loggedOverflows = new Map<number, number>()
  private loggedRejected = 0

  constructor (libp2p: Libp2p, relay: RelayNode, membership: Membership, opts: AvServiceOptions = {}) {
    this.libp2p = libp2p
    this.relay = relay
    this.membership = membership
    this.tap = opts.tap
    this.trustedRelays = new Set(opts.trustedRelays ?? [])
    this.upstream = opts.upstream
    this.log = opts.log ?? silentLogger()
  }

  /** Registers both protocol handlers. */
  async start (): Promise<void> {
    const limits = { maxInboundStreams: MAX_MEDIA_STREAMS_PER_CONNECTION, maxOutboundStreams: MAX_MEDIA_STREAMS_PER_CONNECTION }
    await this.libp2p.handle(PUBLISH_PROTOCOL, (stream, connection) => { void this.onPublish(stream, connection) }, limits)
    await this.libp2p.handle(SUBSCRIBE_PROTOCOL, (stream, connection) => { void this.onSubscribe(stream, connection) }, limits)
    if (this.log.isLevelEnabled('info')) {
      this.logTimer = setInterval(() => { this.logOverloads() }, MEDIA_LOG_INTERVAL_MS)
      this.logTimer.unref()
    }
  }

  /** Unregisters the handlers and closes every media stream. */
  async stop (): Promise<void> {
    if (this.logTimer !== undefined) clearInterval(this.logTimer)
    await this.libp2p.unhandle(PUBLISH_PROTOCOL)
    await this.libp2p.unhandle(SUBSCRIBE_PROTOCOL)
    for (const p of this.publishers) p.framed.abort(new Error('node stopping'))
    for (const s of [...this.subscriptions.values()]) this.dropSubscription(s, new Error('node stopping'))
  }

  /**
   * The group service's roster changed (GroupService 'roster'): the relay
   * carries the stream, clears its GOP caches when members came or went,
   * and the removed members lose their media streams and relay state.
   */
  onRoster (event: RosterEvent): void {
    const { stream, added, removed } = event
    this.relay.openStream(stream)
    if (added.length > 0 || removed.length > 0) this.relay.epochChanged(stream)
    if (removed.length > 0) this.membersRemoved(stream, removed)
    for (const identity of removed) this.relay.removeMember(stream, identity)
  }

  /** Membership changed: close the media streams of members who left. */
  private membersRemoved (stream: string, identities: readonly string[]): void {
    for (const identity of identities) {
      for (const p of this.publishers) {
        if (p.stream === stream && p.identity === identity) p.framed.abort(new FabricError('NOT_MEMBER', 'removed from the stream'))
      }
      for (const s of [...this.subscriptions.values()]) {
        if (s.stream === stream && s.identity === identity) this.dropSubscription(s, new FabricError('NOT_MEMBER', 'removed from the stream'))
      }
    }
  }

  /** The stream ended (GroupService 'streamClosed', or its upstream pull ended): close all its media streams. */
  streamClosed (stream: string): void {
    for (const p of this.publishers) if (p.stream === stream) p.framed.abort(new FabricError('NOT_FOUND', 'stream closed'))
    for (const s of [...this.subscriptions.values()]) {
      if (s.stream === stream) this.dropSubscription(s, new FabricError('NOT_FOUND', 'stream closed'))
    }
    this.relay.closeStream(stream)
  }

  /** Live media streams, for stats: per subscription, bytes held by the transport too. */
  streamCounts (): { publishers: number, subscribers: number, subscriptions: Array<{ id: number, identity: string, stream: string, transportBuffered: number, writes: number, drainWaits: number }> } {
    return {
      publishers: this.publishers.size,
      subscribers: this.subscriptions.size,
      subscriptions: [...this.subscriptions.values()].map((s) => ({
        id: s.id,
        identity: s.identity,
        stream: s.stream,
        transportBuffered: s.framed.stream.writeBufferLength,
        writes: s.sender.writes,
        drainWaits: s.sender.drainWaits,
      })),
    }
  }

  private async onPublish (stream: Stream, connection: Connection): Promise<void> {
    const identity = connection.remotePeer.toString()
    // Until the peer is known to be a member, its frames are bounded by the open message's size.
    const framed = new FramedStream(stream, MAX_AV_MESSAGE, { frameDeadlineMs: MEDIA_FRAME_DEADLINE_MS, clock: relayClock })
    let publisher: Publisher | undefined
    try {
      const open = decodePublishOpen(await framed.next(OPEN_DEADLINE_MS))
      const key = streamKey(open.owner, open.stream)
      this.checkMember(key, identity, false)
      if (!this.relay.hasStream(key)) throw new FabricError('NOT_FOUND', `stream ${key} is not open`)
      const leaf = this.membership.leafIndexOf(key, identity)
      // Without its leaf the relay core would refuse every chunk: refusing
      // the open says so once, to the publisher, instead of counting drops.
      if (leaf === undefined) throw new FabricError('NOT_MEMBER', `no MLS leaf index known for ${identity} in ${key}`)
      // Set at every open, not once per member: a member removed and re-added has a new leaf.
      this.relay.setPublisherLeaf(key, identity, leaf)
      publisher = { stream: key, identity, framed, upstream: false }
      this.publishers.add(publisher)
      this.counters.publishStreams++
      framed.maxFrameLength = MAX_MEDIA_FRAME
      framed.write(encodeOpenResult({ relayPublicKey: new Uint8Array(0) }))
      this.log.info({ event: 'publish.open', peer: short(identity), stream: key, leaf }, 'publish stream open')
      for await (const chunk of framed.rest()) {
        this.tap?.record('in', chunk)
        this.onChunk(publisher, chunk)
      }
      await framed.close()
    } catch (err) {
      this.refuse(framed, identity, 'publish', publisher === undefined, err)
    } finally {
      if (publisher !== undefined) this.publisherEnded(publisher)
    }
  }

  /**
   * A publish stream ended: once the identity has no other publish stream
   * on that stream, its tracks and GOP caches are released, so a member that
   * stops publishing holds no cache memory however long it stays.
   */
  private publisherEnded (p: Publisher): void {
    this.publishers.delete(p)
    if (!p.upstream) this.log.info({ event: 'publish.closed', peer: short(p.identity), stream: p.stream }, 'publish stream closed')
    for (const other of this.publishers) if (other.stream === p.stream && other.identity === p.identity) return
    this.relay.releasePublisher(p.stream, p.identity)
  }

  /** The receive path: one chunk from one publisher, handled synchronously. */
  private onChunk (p: Publisher, chunk: Uint8Array): void {
    if (!p.upstream && !this.membership.isMember(p.stream, p.identity)) throw new FabricError('NOT_MEMBER', 'no longer a member of the stream')
    let result: ForwardResult
    try {
      const now = relayClock()
      // Ingest: the transport read that delivered the chunk (not NaN, not after now, or else now).
      const read = p.framed.lastReadAtMs
      result = this.relay.forward(p.stream, p.identity, chunk, now, read <= now ? read : now)
    } catch (err) {
      // A bad chunk is refused and counted; framing is intact, so the
      // publisher's stream and everyone else's carry on.
      if (!isFabricError(err) || err.code === 'NOT_FOUND') throw err
      this.counters.rejectedChunks++
      this.counters.rejectedByCode[err.code] = (this.counters.rejectedByCode[err.code] ?? 0) + 1
      return
    }
    for (const id of result.delivered) {
      const s = this.subscriptions.get(id)
      if (s !== undefined) this.scheduler.wake(s.sender)
    }
    for (const r of result.keyframeRequests) this.routeKeyframeRequest(r)
  }

  private async onSubscribe (stream: Stream, connection: Connection): Promise<void> {
    const identity = connection.remotePeer.toString()
    // A subscriber only ever sends the open and small notices.
    const framed = new FramedStream(stream, MAX_AV_MESSAGE, { frameDeadlineMs: CONTROL_FRAME_DEADLINE_MS })
    let sub: Subscription | undefined
    try {
      const open = decodeSubscribeOpen(await framed.next(OPEN_DEADLINE_MS))
      const key = streamKey(open.owner, open.stream)
      const trusted = this.checkMember(key, identity, open.relay)
      if (!this.relay.hasStream(key)) await this.pull(key)
      const own = generateLinkKeyPair()
      const sealer = new LinkSealer(linkTransitKey('relay', own, open.subscriberPublicKey, key))
      const tap = this.tap
      const sealing = tap === undefined
        ? sealer
        : {
            sealFrame: (chunk: Uint8Array) => {
              const f = sealer.sealFrame(chunk)
              tap.record('out', sealedPacket(f))
              return f
            },
          }
      // Admitted before the open result goes out, so that a refusal (a
      // quota) is the open's answer. The open result still precedes every
      // sealed frame: sender tasks only run on a later turn of the event loop.
      const { id, keyframeRequests } = this.relay.subscribe(key, identity, sealing, relayClock(), { trusted })
      try {
        framed.write(encodeOpenResult({ relayPublicKey: own.publicKey }))
      } catch (err) {
        this.relay.unsubscribe(id)
        throw err
      }
      // The time a batch is taken, sealed and written (a clock read shared
      // by the batches of one scheduler run: BatchClock); none for the
      // empty take that ends each flush.
      const take = (max: number): WireFrame[] => {
        const queued = this.relay.queuedBytes(id)
        return queued === 0 ? [] : this.relay.take(id, max, this.scheduler.clock.now(Math.min(queued, max)))
      }
      const sender = new SubscriberSender(framed, take, (err) => {
        const s = this.subscriptions.get(id)
        if (s !== undefined) this.dropSubscription(s, err)
      })
      sub = { id, identity, stream: key, framed, sender }
      this.log.info({ event: 'subscribe.open', peer: short(identity), stream: key, trusted }, 'subscription open')
      this.subscriptions.set(id, sub)
      this.counters.subscribeStreams++
      this.scheduler.wake(sender)
      for (const r of keyframeRequests) this.routeKeyframeRequest(r)
      for await (const frame of framed.rest()) {
        const notice = decodeSubscriberNotice(frame)
        if (notice.keyframeRequest !== undefined) {
          const r = this.relay.requestKeyframe(id, notice.keyframeRequest.track, relayClock())
          if (r !== undefined) this.routeKeyframeRequest(r)
        }
      }
    } catch (err) {
      this.refuse(framed, identity, 'subscribe', sub === undefined, err)
    } finally {
      if (sub !== undefined) this.dropSubscription(sub)
    }
  }

  /**
   * @returns true for a trusted relay subscribing as one (admitted without membership)
   * @throws FabricError NOT_MEMBER unless a member, or a trusted relay subscribing as one
   */
  private checkMember (stream: string, identity: string, asRelay: boolean): boolean {
    const trusted = asRelay && this.trustedRelays.has(identity)
    if (!trusted && !this.membership.isMember(stream, identity)) throw new FabricError('NOT_MEMBER', `${identity} is not a member of ${stream}`)
    return trusted
  }

  /**
   * Makes `stream` available by pulling it from the upstream node.
   * @throws FabricError NOT_FOUND without an upstream, or the upstream's refusal
   */
  private async pull (stream: string): Promise<void> {
    const upstream = this.upstream
    if (upstream === undefined) throw new FabricError('NOT_FOUND', `stream ${stream} is not open`)
    let pending = this.pulls.get(stream)
    if (pending === undefined) {
      pending = this.openPull(upstream, stream)
      this.pulls.set(stream, pending)
      pending.catch(() => { this.pulls.delete(stream) })
    }
    await pending
  }

  /** Subscribes upstream as a relay; chunks enter the local relay as one publisher. */
  private async openPull (upstream: Multiaddr, stream: StreamKey): Promise<void> {
    const own = generateLinkKeyPair()
    const { owner, name } = parseStreamKey(stream)
    const framed = new FramedStream(await this.libp2p.dialProtocol(upstream, SUBSCRIBE_PROTOCOL), MAX_MEDIA_FRAME, { clock: relayClock })
    await framed.send(encodeSubscribeOpen({ stream: name, owner, subscriberPublicKey: own.publicKey, relay: true }))
    const result = decodeOpenResult(await framed.next(OPEN_DEADLINE_MS))
    if (result.error !== undefined) throw new FabricError(toErrorCode(result.error.code), `upstream refused ${stream}: ${result.error.message}`)
    const opener = new LinkOpener(linkTransitKey('subscriber', own, result.relayPublicKey, stream))
    this.relay.openStream(stream)
    const p: Publisher = { stream, identity: `upstream:${upstream.toString()}`, framed, upstream: true }
    this.relay.addUpstream(stream, p.identity)
    this.publishers.add(p)
    this.log.info({ event: 'upstream.pull', stream, upstream: upstream.toString() }, 'pulling a stream from the upstream node')
    void (async () => {
      try {
        for await (const sealed of framed.rest()) {
          this.tap?.record('in', sealed)
          let chunk: Uint8Array
          try { chunk = opener.open(sealed) } catch { this.counters.rejectedChunks++; continue }
          this.onChunk(p, chunk)
        }
      } catch {} finally {
        this.log.info({ event: 'upstream.ended', stream, upstream: upstream.toString() }, 'upstream pull ended')
        this.publishers.delete(p)
        this.pulls.delete(stream)
        this.streamClosed(stream)
      }
    })()
  }

  private refuse (framed: FramedStream, identity: string, kind: 'publish' | 'subscribe', beforeOpen: boolean, err: unknown): void {
    const code = isFabricError(err) ? err.code : 'INTERNAL'
    const reason = clipErrorText(String((err as Error)?.message ?? err))
    if (beforeOpen) {
      this.counters.refusedOpens++
      this.log.info({ event: 'refusal', peer: short(identity), open: kind, code, reason }, `${kind} refused`)
      try {
        framed.write(encodeOpenResult({ relayPublicKey: new Uint8Array(0), error: { code, message: reason } }))
      } catch {}
      framed.stopReading()
      framed.closeOrReset(CLOSE_GRACE_MS)
    } else {
      this.log.info({ event: 'stream.reset', peer: short(identity), open: kind, code, reason }, `${kind} stream reset`)
      framed.abort(err instanceof Error ? err : new Error(String(err)))
    }
  }

  /**
   * Sums up, once per interval, the subscribers that started dropping (the
   * slow-subscriber policy acted) and the chunks refused since the last line,
   * so an overload costs one log line per subscriber, not one per chunk.
   */
  private logOverloads (): void {
    if (this.counters.rejectedChunks > this.loggedRejected) {
      this.log.info({ event: 'chunks.rejected', count: this.counters.rejectedChunks - this.loggedRejected, byCode: { ...this.counters.rejectedByCode } }, 'chunks refused')
      this.loggedRejected = this.counters.rejectedChunks
    }
    if (this.subscriptions.size === 0) return
    for (const sub of this.relay.stats().subscribers) {
      const before = this.loggedOverflows.get(sub.id) ?? 0
      if (sub.overflows > before) {
        this.log.info({ event: 'subscriber.overflow', peer: short(sub.identity), stream: sub.stream, overflows: sub.overflows, dropped: sub.dropped, queuedBytes: sub.queuedBytes }, 'subscriber queue overflowed: dropping to the next keyframe')
        this.loggedOverflows.set(sub.id, sub.overflows)
      }
    }
    for (const id of this.loggedOverflows.keys()) if (!this.subscriptions.has(id)) this.loggedOverflows.delete(id)
  }

  private routeKeyframeRequest (r: KeyframeRequest): void {
    for (const p of this.publishers) {
      if (p.stream !== r.stream || (r.publisher !== undefined && p.identity !== r.publisher)) continue
      try {
        p.framed.write(keyframeRequestFrame(p.upstream, r.track))
        this.counters.keyframeRequestsSent++
      } catch {}
    }
  }

  private dropSubscription (s: Subscription, err?: Error): void {
    if (this.subscriptions.get(s.id) !== s) return
    this.subscriptions.delete(s.id)
    this.log.info({ event: 'subscribe.closed', peer: short(s.identity), stream: s.stream, ...(err === undefined ? {} : { error: err.name, reason: clipErrorText(err.message) }) }, 'subscription closed')
    s.sender.stop()
    this.relay.unsubscribe(s.id)
    if (err !== undefined) s.framed.abort(err)
    else void s.framed.close()
  }
}
