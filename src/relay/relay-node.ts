/**
 * RelayNode: the sans-IO media relay core (docs/architecture.md section 1, "relay"). Per
 * stream it holds the admitted subscribers, each with its own link sealer
 * (transit key and link sequence) and bounded queue, and per track a GOP
 * cache. `forward` validates one chunk from a publisher and queues a
 * reference to it for every subscriber whose policy admits it; `take` seals
 * it once per subscriber as that subscriber's sender is ready to write, so a
 * dropped chunk is never sealed. It holds no MLS or SFrame key by
 * construction: chunks stay opaque beyond their clear metadata.
 *
 * The I/O shell (src/dispatch) moves bytes: it calls `forward` for each
 * received chunk, wakes the sender task of every subscriber in the result,
 * which `take`s that subscriber's queued frames, and routes keyframe requests
 * to publishers.
 *
 * What one peer can make the node hold is bounded here, not in the shell, so
 * every bound is checked against the same state that forward updates:
 * - track ownership: a track value names its sender's MLS leaf
 *   (src/wire/track.ts), and a publisher may only claim tracks of the leaf the
 *   shell says it holds (`setPublisherLeaf`), so nobody can squat the track
 *   numbers of a leaf that a later joiner will be given;
 * - caps on tracks per publisher and per stream and on subscriptions per
 *   identity, refused with QUOTA_EXCEEDED;
 * - GOP cache budgets per publisher and per stream: crossing one costs that
 *   track its cached GOP (late subscribers then wait for its next keyframe),
 *   never a live subscriber's frames.
 */
import { FabricError } from '../errors.js'
import { chunkIsKeyframe, chunkTrack, splitStreamTag, validateChunk, type StreamTagHalves } from '../wire/chunk.js'
import { streamTag } from '../wire/stream-tag.js'
import { MAX_LEAF_INDEX } from '../wire/limits.js'
import { trackLeafIndex } from '../wire/track.js'
import type { SealedFrame } from '../crypto/link-seal.js'
import { KeyframeCache } from './keyframe-cache.js'
import { LatencyHistogram, type HistogramSnapshot } from './latency-histogram.js'
import { SubscriberQueue, type QueueCounters, type TakenFrameTimes } from './subscriber-queue.js'

/** Seals one chunk for one subscriber link (LinkSealer in src/crypto/link-seal.ts). */
export interface ChunkSealer {
  /** @returns the sealed frame in wire-ready pieces (never copies the chunk twice) */
  sealFrame: (chunk: Uint8Array) => SealedFrame
}

/** Tunables of a RelayNode; every field has a default (DEFAULT_RELAY_CONFIG). */
export interface RelayConfig {
  /** Byte bound of one subscriber's queue (chunk bytes, before sealing). */
  subscriberQueueBytes: number
  /** Frame bound of one subscriber's queue. */
  subscriberQueueFrames: number
  /** Byte bound of one track's GOP cache. */
  gopCacheBytes: number
  /** Chunk bound of one track's GOP cache. */
  gopCacheChunks: number
  /** Least time between two keyframe requests for one track, in ms. */
  keyframeRequestIntervalMs: number
  /**
   * Tracks one publisher may hold on one stream (a member has three kinds
   * today; the rest is headroom). A trusted upstream relay is exempt: it
   * carries every member's tracks, and its own node capped them.
   */
  maxTracksPerPublisher: number
  /** Tracks one stream may hold, all publishers together. */
  maxTracksPerStream: number
  /** Subscriptions one identity may hold on one stream. */
  maxSubscriptionsPerIdentity: number
  /**
   * Subscriptions one identity may hold on one stream when subscribing as
   * operator-trusted (a downstream relay, a load generator): counted apart
   * from its ordinary ones.
   */
  maxTrustedSubscriptionsPerIdentity: number
  /**
   * Byte budget of the GOP caches of all tracks of one publisher on one
   * stream (chunk bytes). A trusted upstream relay is held to the stream
   * budget only.
   */
  gopCacheBytesPerPublisher: number
  /** Byte budget of the GOP caches of all tracks of one stream (chunk bytes). */
  gopCacheBytesPerStream: number
  /**
   * How long a track held by one trusted upstream relay must have been
   * silent before another upstream relay may take it, in ms. In a fabric's
   * relay tree the way a track arrives changes when a relay moves: its old
   * source falls silent and its new one takes over. A copy arriving by a
   * second way while the first still carries the track (a transient cycle)
   * is refused, so no chunk circles. A member's own track is never taken.
   */
  upstreamTakeoverMs: number
}

export const DEFAULT_RELAY_CONFIG: RelayConfig = {
  subscriberQueueBytes: 2 * 1024 * 1024,
  subscriberQueueFrames: 1024,
  gopCacheBytes: 4 * 1024 * 1024,
  gopCacheChunks: 1024,
  keyframeRequestIntervalMs: 500,
  maxTracksPerPublisher: 8,
  maxTracksPerStream: 1024,
  maxSubscriptionsPerIdentity: 4,
  maxTrustedSubscriptionsPerIdentity: 4096,
  gopCacheBytesPerPublisher: 8 * 1024 * 1024,
  gopCacheBytesPerStream: 64 * 1024 * 1024,
  upstreamTakeoverMs: 500,
}

/** The RelayConfig fields that bound what a peer can make the node hold. */
const QUOTA_FIELDS = [
  'maxTracksPerPublisher', 'maxTracksPerStream', 'maxSubscriptionsPerIdentity',
  'maxTrustedSubscriptionsPerIdentity', 'gopCacheBytesPerPublisher', 'gopCacheBytesPerStream',
] as const satisfies ReadonlyArray<keyof RelayConfig>

/** A subscriber's counters as reported by `stats`. */
export interface SubscriberStats extends QueueCounters {
  id: number
  stream: string
  identity: string
  /** Frames sealed and handed to this subscriber's sender (GOP cache included). */
  forwarded: number
  forwardedBytes: number
  queuedBytes: number
}

/** Requests refused with QUOTA_EXCEEDED on one stream, by bound; monotonic. */
export interface QuotaRefusals {
  /** Chunks opening a new track for a publisher that held maxTracksPerPublisher. */
  publisherTracks: number
  /** Chunks opening a new track on a stream that held maxTracksPerStream. */
  streamTracks: number
  /** Subscriptions beyond maxSubscriptionsPerIdentity. */
  subscriptions: number
  /** Trusted subscriptions beyond maxTrustedSubscriptionsPerIdentity. */
  trustedSubscriptions: number
}

/** Chunks refused on one stream for naming a track their publisher may not use; monotonic. */
export interface OwnershipRefusals {
  /** From a publisher with no leaf index (NOT_MEMBER). */
  noLeaf: number
  /** On a track of another leaf than the publisher's own (MALFORMED). */
  otherLeaf: number
  /** On a track another publisher holds (MALFORMED). */
  otherPublisher: number
}

/** Per-stream counters as reported by `stats`. */
export interface StreamStats {
  stream: string
  subscribers: number
  chunksIn: number
  bytesIn: number
  /** Chunks refused for any reason (bad metadata, ownership, quota). */
  rejected: number
  tracks: number
  /** Identities with a leaf index or upstream standing (may publish). */
  publishers: number
  /** Chunk bytes held in the stream's GOP caches now. */
  gopCacheBytes: number
  /** GOP caches cleared because caching a chunk would have crossed the publisher or stream budget. */
  gopEvictions: number
  /** Tracks an upstream relay took from another that had fallen silent (a fabric relay moved). */
  takeovers: number
  quotaRefusals: QuotaRefusals
  ownershipRefusals: OwnershipRefusals
}

/** One identity that may publish on one stream, as reported by `stats`. */
export interface PublisherStats {
  stream: string
  identity: string
  /** Its MLS leaf index; undefined for a trusted upstream relay. */
  leafIndex: number | undefined
  /** True for a trusted upstream relay (its tracks may name any leaf). */
  upstream: boolean
  tracks: number
  /** Chunk bytes held in the GOP caches of its tracks. */
  gopCacheBytes: number
}

/** The relay's latency histograms as reported by `stats` (see `RelayNode.queueDelay` and `forwardLatency`). */
export interface RelayLatency {
  queueDelay: HistogramSnapshot
  forwardLatency: HistogramSnapshot
}

/** Options of `subscribe`. */
export interface SubscribeOptions {
  /**
   * The operator trusts this subscriber (a downstream relay, a load
   * generator): it is held to maxTrustedSubscriptionsPerIdentity instead of
   * maxSubscriptionsPerIdentity.
   */
  trusted?: boolean
}

/** A keyframe the relay wants from whoever publishes `track` on `stream`. */
export interface KeyframeRequest {
  stream: string
  track: number
  /** Identity of the track's publisher, when known. */
  publisher?: string
}

/** What `forward` decided for one chunk. */
export interface ForwardResult {
  /** Subscribers whose queue took the chunk: wake their senders. */
  delivered: number[]
  /** Subscribers that dropped it under the slow-subscriber policy (not those still waiting for their first keyframe). */
  dropped: number
  /** Keyframe requests to route to publishers (already throttled). */
  keyframeRequests: KeyframeRequest[]
}

/** `Participant.leaf` of an identity the shell has given no leaf (it may not publish). */
const NO_LEAF = -1
/** `Participant.leaf` of a trusted upstream relay: its chunks may name any leaf. */
const ANY_LEAF = -2

/**
 * What one identity holds on one stream. Kept while it has a leaf, tracks or
 * subscriptions, so the caps cost one map lookup, not a scan.
 * Invariant: leaf === NO_LEAF implies tracks === 0 and cachedBytes === 0.
 */
interface Participant {
  readonly identity: string
  /** MLS leaf index (0..MAX_LEAF_INDEX), NO_LEAF or ANY_LEAF. */
  leaf: number
  tracks: number
  /** Chunk bytes in the GOP caches of its tracks. */
  cachedBytes: number
  subscriptions: number
  trustedSubscriptions: number
}

interface Subscriber {
  readonly id: number
  readonly stream: StreamState
  readonly identity: string
  readonly participant: Participant
  readonly trusted: boolean
  readonly sealer: ChunkSealer
  /** Chunks waiting for this subscriber, shared with every other subscriber's queue. */
  readonly queue: SubscriberQueue<Uint8Array>
  forwarded: number
  forwardedBytes: number
}

interface TrackState {
  readonly track: number
  /** Its publisher: the first one to send it, for as long as it keeps its leaf. */
  readonly owner: Participant
  readonly cache: KeyframeCache
  lastKeyframeRequestMs: number
  /** When its last chunk was forwarded (ms, the relay's clock). */
  lastChunkMs: number
}

interface StreamState {
  readonly name: string
  /** The stream's tag, split once: every chunk is checked against it. */
  readonly tag: StreamTagHalves
  readonly subscribers: Map<number, Subscriber>
  readonly tracks: Map<number, TrackState>
  readonly participants: Map<string, Participant>
  /** Leaf index to the one identity holding it: MLS gives a leaf to one member at a time. */
  readonly leaves: Map<number, Participant>
  chunksIn: number
  bytesIn: number
  rejected: number
  /** Sum of every track's cachedBytes. */
  cachedBytes: number
  gopEvictions: number
  /** Tracks an upstream relay took from another that had fallen silent (RelayConfig.upstreamTakeoverMs). */
  takeovers: number
  readonly quotaRefusals: QuotaRefusals
  readonly ownershipRefusals: OwnershipRefusals
}

/** Records the frames a `take` removes into the relay's histograms: one per relay, reused, so a take allocates nothing for it. */
class LatencyRecorder implements TakenFrameTimes {
  /** The time of the take under way, ms. */
  nowMs = 0
  private readonly queueDelay: LatencyHistogram
  private readonly forwardLatency: LatencyHistogram
  constructor (queueDelay: LatencyHistogram, forwardLatency: LatencyHistogram) {
    this.queueDelay = queueDelay
    this.forwardLatency = forwardLatency
  }

  taken (queuedAtMs: number, ingestAtMs: number): void {
    this.queueDelay.observe(this.nowMs - queuedAtMs)
    if (!Number.isNaN(ingestAtMs)) this.forwardLatency.observe(this.nowMs - ingestAtMs)
  }
}

export class RelayNode {
  readonly config: RelayConfig
  /**
   * How long chunks waited in subscriber queues, ms: from `forward` (or
   * `subscribe`, for a replayed GOP) to the `take` that writes them.
   * Node-wide, every subscriber together.
   */
  readonly queueDelay = new LatencyHistogram()
  /**
   * How long live chunks took through the node, ms: from their ingest time
   * (`forward`'s `ingestMs`) to the `take` that writes them. Replayed GOPs
   * are left out.
   */
  readonly forwardLatency = new LatencyHistogram()
  private readonly latency = new LatencyRecorder(this.queueDelay, this.forwardLatency)
  private readonly streams = new Map<string, StreamState>()
  private readonly subscribers = new Map<number, Subscriber>()
  private nextId = 1

  /**
   * @param config tunables; omitted fields take DEFAULT_RELAY_CONFIG's
   * @throws RangeError when a cap or budget is negative or NaN (Infinity lifts it; 0 refuses all)
   */
  constructor (config: Partial<RelayConfig> = {}) {
    this.config = { ...DEFAULT_RELAY_CONFIG, ...config }
    for (const f of QUOTA_FIELDS) {
      if (!(this.config[f] >= 0)) throw new RangeError(`relay config ${f} must be >= 0, got ${this.config[f]}`)
    }
  }

  /** Starts relaying `stream` (idempotent). */
  openStream (stream: string): void {
    if (this.streams.has(stream)) return
    this.streams.set(stream, {
      name: stream,
      tag: splitStreamTag(streamTag(stream)),
      subscribers: new Map(),
      tracks: new Map(),
      participants: new Map(),
      leaves: new Map(),
      chunksIn: 0,
      bytesIn: 0,
      rejected: 0,
      cachedBytes: 0,
      gopEvictions: 0,
      takeovers: 0,
      quotaRefusals: { publisherTracks: 0, streamTracks: 0, subscriptions: 0, trustedSubscriptions: 0 },
      ownershipRefusals: { noLeaf: 0, otherLeaf: 0, otherPublisher: 0 },
    })
  }

  /** Stops relaying `stream`; returns the ids of the subscribers dropped. */
  closeStream (stream: string): number[] {
    const s = this.streams.get(stream)
    if (s === undefined) return []
    const ids = [...s.subscribers.keys()]
    for (const id of ids) this.unsubscribe(id)
    this.streams.delete(stream)
    return ids
  }

  /** True when `stream` is open. */
  hasStream (stream: string): boolean { return this.streams.has(stream) }

  /**
   * Admits a subscriber (the caller has checked membership). The cached GOP
   * of every track not published by `identity` is queued for it
   * first, so it starts at a keyframe; a track with no usable GOP is held
   * back until its next keyframe, which is requested.
   * @param opts `trusted` for an operator-trusted subscriber (separate, larger cap)
   * @returns the subscriber id, and keyframe requests for tracks with no usable GOP
   * @throws FabricError NOT_FOUND when the stream is not open, QUOTA_EXCEEDED
   *   when `identity` already holds its cap of (trusted) subscriptions on it;
   *   a refused subscribe changes nothing but the refusal counter
   */
  subscribe (stream: string, identity: string, sealer: ChunkSealer, nowMs: number, opts: SubscribeOptions = {}): { id: number, keyframeRequests: KeyframeRequest[] } {
    const s = this.requireStream(stream)
    const trusted = opts.trusted === true
    const known = s.participants.get(identity)
    const held = known === undefined ? 0 : trusted ? known.trustedSubscriptions : known.subscriptions
    const cap = trusted ? this.config.maxTrustedSubscriptionsPerIdentity : this.config.maxSubscriptionsPerIdentity
    if (held >= cap) {
      if (trusted) s.quotaRefusals.trustedSubscriptions++
      else s.quotaRefusals.subscriptions++
      throw new FabricError('QUOTA_EXCEEDED', `${identity} already holds ${held} ${trusted ? 'trusted ' : ''}subscriptions to stream ${stream} (limit ${cap})`)
    }
    const participant = known ?? this.participant(s, identity)
    if (trusted) participant.trustedSubscriptions++
    else participant.subscriptions++
    const sub: Subscriber = {
      id: this.nextId++,
      stream: s,
      identity,
      participant,
      trusted,
      sealer,
      queue: new SubscriberQueue<Uint8Array>(this.config.subscriberQueueBytes, this.config.subscriberQueueFrames),
      forwarded: 0,
      forwardedBytes: 0,
    }
    s.subscribers.set(sub.id, sub)
    this.subscribers.set(sub.id, sub)
    const keyframeRequests: KeyframeRequest[] = []
    for (const t of s.tracks.values()) {
      if (t.owner === participant) continue
      const gop = t.cache.snapshot()
      if (gop.length === 0) {
        // Mid-GOP: deltas before the next keyframe would not decode.
        sub.queue.waitForKeyframe(t.track)
        this.maybeRequestKeyframe(s, t, nowMs, keyframeRequests)
        continue
      }
      // Queued now, but not live: how old a cached GOP is says nothing of the relay's latency.
      for (let i = 0; i < gop.length; i++) sub.queue.push(gop[i], t.track, i === 0, nowMs, Number.NaN)
    }
    return { id: sub.id, keyframeRequests }
  }

  /** Removes a subscriber and frees its queue; unknown ids are ignored. */
  unsubscribe (id: number): void {
    const sub = this.subscribers.get(id)
    if (sub === undefined) return
    sub.queue.clear()
    sub.stream.subscribers.delete(id)
    this.subscribers.delete(id)
    if (sub.trusted) sub.participant.trustedSubscriptions--
    else sub.participant.subscriptions--
    this.prune(sub.stream, sub.participant)
  }

  /**
   * Records the MLS leaf index `identity` holds in `stream`'s group: from now
   * on it may claim tracks of that leaf only. Setting the leaf it already
   * has changes nothing. A new leaf (the member was removed and re-added)
   * first releases every track it held, caches included; so does giving the
   * leaf to `identity` while another identity held it (the group moved that
   * leaf, and the other holder's claim is stale).
   * @param leafIndex 0..MAX_LEAF_INDEX (65 535)
   * @throws FabricError NOT_FOUND when the stream is not open; RangeError for a leaf out of range
   */
  setPublisherLeaf (stream: string, identity: string, leafIndex: number): void {
    const s = this.requireStream(stream)
    if (!Number.isInteger(leafIndex) || leafIndex < 0 || leafIndex > MAX_LEAF_INDEX) throw new RangeError(`leaf index out of range 0..${MAX_LEAF_INDEX}: ${leafIndex}`)
    const p = this.participant(s, identity)
    if (p.leaf === leafIndex) return
    const holder = s.leaves.get(leafIndex)
    if (holder !== undefined) {
      this.forgetLeaf(s, holder)
      this.prune(s, holder)
    }
    this.forgetLeaf(s, p)
    p.leaf = leafIndex
    s.leaves.set(leafIndex, p)
  }

  /**
   * Admits `identity` as a trusted upstream relay of `stream` (node-to-node
   * relaying): its chunks may carry any leaf's tracks, though a track another
   * publisher holds stays that publisher's (and one it holds stays its own).
   * It is held to the per-stream caps and budget, not the per-publisher
   * ones: it carries every member's tracks, which its own node capped.
   * Idempotent; an identity that had a leaf first releases its tracks.
   * @throws FabricError NOT_FOUND when the stream is not open
   */
  addUpstream (stream: string, identity: string): void {
    const s = this.requireStream(stream)
    const p = this.participant(s, identity)
    if (p.leaf === ANY_LEAF) return
    this.forgetLeaf(s, p)
    p.leaf = ANY_LEAF
  }

  /**
   * `identity` stopped publishing on `stream` (its last publish stream
   * closed): drops every track it held and frees their GOP caches, and
   * forgets its leaf or upstream standing, so it must be given them again
   * before it publishes again. Its subscriptions stay. Unknown streams and
   * identities are ignored.
   * @returns the number of tracks released
   */
  releasePublisher (stream: string, identity: string): number {
    const s = this.streams.get(stream)
    const p = s?.participants.get(identity)
    if (s === undefined || p === undefined) return 0
    const released = this.forgetLeaf(s, p)
    this.prune(s, p)
    return released
  }

  /**
   * Removes every subscription of `identity` on `stream` (member removed) and
   * releases the tracks it published, caches included, and its leaf: MLS
   * gives its blank leaf, hence the same track numbers, to the next member
   * added.
   * @returns the ids of the subscriptions removed
   */
  removeMember (stream: string, identity: string): number[] {
    const s = this.streams.get(stream)
    if (s === undefined) return []
    const ids: number[] = []
    for (const sub of s.subscribers.values()) if (sub.identity === identity) ids.push(sub.id)
    for (const id of ids) this.unsubscribe(id)
    const p = s.participants.get(identity)
    if (p !== undefined) {
      this.forgetLeaf(s, p)
      this.prune(s, p)
    }
    return ids
  }

  /**
   * The stream moved to a new MLS epoch: cached GOPs are under a retired key
   * and useless to anyone subscribing from now on.
   */
  epochChanged (stream: string): void {
    const s = this.streams.get(stream)
    if (s === undefined) return
    for (const t of s.tracks.values()) this.dropCache(s, t)
  }

  /**
   * Relays one chunk published by `publisher` on `stream`: validates its
   * clear metadata, checks that `publisher` may use its track, caches it for
   * late subscribers within the GOP budgets, and queues it for every other
   * subscriber whose queue takes it. Never waits on anyone.
   *
   * A chunk's track is checked against its publisher only when the track is
   * new, or held by someone else: a track is released whenever its holder's
   * leaf changes, so one it already holds is known to be its own.
   * @throws MalformedError | TooLargeError | FabricError('UNSUPPORTED_VERSION')
   *   for a bad chunk; FabricError NOT_FOUND for a closed stream; NOT_MEMBER
   *   when `publisher` has no leaf index on the stream (setPublisherLeaf) and
   *   is no upstream (addUpstream); MALFORMED when the track names another
   *   leaf than the publisher's, or belongs to another publisher;
   *   QUOTA_EXCEEDED when a new track would pass maxTracksPerPublisher or
   *   maxTracksPerStream. A throw leaves every subscriber and cache untouched.
   * @param nowMs now, ms, on the clock every time argument of this relay uses
   * @param ingestMs when the chunk reached the node (its transport read), same
   *   clock; default `nowMs`. Starts its forward latency.
   */
  forward (stream: string, publisher: string, chunk: Uint8Array, nowMs: number, ingestMs = nowMs): ForwardResult {
    const s = this.requireStream(stream)
    try {
      validateChunk(chunk, s.tag)
    } catch (err) {
      s.rejected++
      throw err
    }
    const track = chunkTrack(chunk)
    let t = s.tracks.get(track)
    if (t === undefined || t.owner.identity !== publisher) t = this.claimTrack(s, publisher, track, t, nowMs)
    t.lastChunkMs = nowMs
    const keyframe = chunkIsKeyframe(chunk)
    s.chunksIn++
    s.bytesIn += chunk.byteLength
    this.cache(s, t, chunk, keyframe)

    const result: ForwardResult = { delivered: [], dropped: 0, keyframeRequests: [] }
    let needKeyframe = false
    for (const sub of s.subscribers.values()) {
      if (sub.identity === publisher) continue
      const outcome = sub.queue.push(chunk, track, keyframe, nowMs, ingestMs)
      if (outcome === 'queued') {
        result.delivered.push(sub.id)
      } else {
        if (outcome === 'dropped') result.dropped++
        needKeyframe = true
      }
    }
    if (needKeyframe) this.maybeRequestKeyframe(s, t, nowMs, result.keyframeRequests)
    return result
  }

  /**
   * A subscriber asks for a keyframe of `track` (it joined late or lost
   * frames). Throttled per track.
   * @returns the request to route, or undefined when throttled or unknown
   */
  requestKeyframe (subscriberId: number, track: number, nowMs: number): KeyframeRequest | undefined {
    const sub = this.subscribers.get(subscriberId)
    const t = sub?.stream.tracks.get(track)
    if (sub === undefined || t === undefined) return undefined
    const out: KeyframeRequest[] = []
    this.maybeRequestKeyframe(sub.stream, t, nowMs, out)
    return out[0]
  }

  /**
   * Removes the chunks queued for a subscriber, oldest first, up to about
   * `maxBytes` (at least one when any is queued), and seals each for that
   * subscriber's link. Sealing here rather than in `forward` means a chunk
   * the drop policy discards is never sealed, queues hold references to the
   * one shared chunk instead of per-subscriber copies, and the seal work is
   * spread over the sender tasks instead of one burst per received chunk.
   * @param nowMs the time the frames are written (the caller seals and
   *   writes them at once), on the clock `forward` was given: records their
   *   queue delay and forward latency; absent, nothing is recorded
   */
  take (subscriberId: number, maxBytes = Infinity, nowMs?: number): SealedFrame[] {
    const sub = this.subscribers.get(subscriberId)
    if (sub === undefined) return []
    let chunks: Uint8Array[]
    if (nowMs === undefined) {
      chunks = sub.queue.take(maxBytes)
    } else {
      this.latency.nowMs = nowMs
      chunks = sub.queue.take(maxBytes, this.latency)
    }
    const out: SealedFrame[] = new Array(chunks.length)
    for (let i = 0; i < chunks.length; i++) {
      const f = sub.sealer.sealFrame(chunks[i])
      sub.forwardedBytes += f.byteLength
      out[i] = f
    }
    sub.forwarded += chunks.length
    return out
  }

  /** Bytes queued for a subscriber (0 for unknown ids). */
  queuedBytes (subscriberId: number): number {
    return this.subscribers.get(subscriberId)?.queue.queuedBytes ?? 0
  }

  /** Identity and stream of a subscriber. */
  subscriber (id: number): { stream: string, identity: string } | undefined {
    const sub = this.subscribers.get(id)
    return sub === undefined ? undefined : { stream: sub.stream.name, identity: sub.identity }
  }

  /** Counters of every stream, publisher and subscriber, and the latency histograms, for metrics and the admin API. */
  stats (): { streams: StreamStats[], publishers: PublisherStats[], subscribers: SubscriberStats[], latency: RelayLatency } {
    const streams: StreamStats[] = []
    const publishers: PublisherStats[] = []
    for (const s of this.streams.values()) {
      let publishing = 0
      for (const p of s.participants.values()) {
        if (p.leaf === NO_LEAF) continue
        publishing++
        publishers.push({
          stream: s.name,
          identity: p.identity,
          leafIndex: p.leaf === ANY_LEAF ? undefined : p.leaf,
          upstream: p.leaf === ANY_LEAF,
          tracks: p.tracks,
          gopCacheBytes: p.cachedBytes,
        })
      }
      streams.push({
        stream: s.name,
        subscribers: s.subscribers.size,
        chunksIn: s.chunksIn,
        bytesIn: s.bytesIn,
        rejected: s.rejected,
        tracks: s.tracks.size,
        publishers: publishing,
        gopCacheBytes: s.cachedBytes,
        gopEvictions: s.gopEvictions,
        takeovers: s.takeovers,
        quotaRefusals: { ...s.quotaRefusals },
        ownershipRefusals: { ...s.ownershipRefusals },
      })
    }
    const subscribers: SubscriberStats[] = []
    for (const sub of this.subscribers.values()) {
      subscribers.push({
        id: sub.id,
        stream: sub.stream.name,
        identity: sub.identity,
        forwarded: sub.forwarded,
        forwardedBytes: sub.forwardedBytes,
        queuedBytes: sub.queue.queuedBytes,
        ...sub.queue.counters,
      })
    }
    return { streams, publishers, subscribers, latency: { queueDelay: this.queueDelay.snapshot(), forwardLatency: this.forwardLatency.snapshot() } }
  }

  /**
   * The checks of a chunk on a track `publisher` does not hold yet (`held`:
   * the track's state when another publisher holds it), in order: publisher
   * known, track of its own leaf, track free, caps. Off the per-chunk path:
   * runs once per track, and on refusals.
   * @returns the track, now held by `publisher`
   */
  private claimTrack (s: StreamState, publisher: string, track: number, held: TrackState | undefined, nowMs: number): TrackState {
    const p = s.participants.get(publisher)
    if (p === undefined || p.leaf === NO_LEAF) {
      s.rejected++
      s.ownershipRefusals.noLeaf++
      throw new FabricError('NOT_MEMBER', `${publisher} has no MLS leaf on stream ${s.name}, so it may not publish there`)
    }
    if (p.leaf !== ANY_LEAF && trackLeafIndex(track) !== p.leaf) {
      s.rejected++
      s.ownershipRefusals.otherLeaf++
      throw new FabricError('MALFORMED', `track ${track} of stream ${s.name} names leaf ${trackLeafIndex(track)}, but ${publisher} is at leaf ${p.leaf}`)
    }
    if (held !== undefined) {
      if (p.leaf === ANY_LEAF && held.owner.leaf === ANY_LEAF && nowMs - held.lastChunkMs >= this.config.upstreamTakeoverMs) {
        // The track's way here moved: its old upstream fell silent, the new one takes it (and a fresh cache).
        this.dropCache(s, held)
        s.tracks.delete(track)
        held.owner.tracks--
        s.takeovers++
      } else {
        s.rejected++
        s.ownershipRefusals.otherPublisher++
        throw new FabricError('MALFORMED', `track ${track} of stream ${s.name} belongs to another publisher`)
      }
    }
    if (p.leaf !== ANY_LEAF && p.tracks >= this.config.maxTracksPerPublisher) {
      s.rejected++
      s.quotaRefusals.publisherTracks++
      throw new FabricError('QUOTA_EXCEEDED', `${publisher} already publishes ${p.tracks} tracks on stream ${s.name} (limit ${this.config.maxTracksPerPublisher})`)
    }
    if (s.tracks.size >= this.config.maxTracksPerStream) {
      s.rejected++
      s.quotaRefusals.streamTracks++
      throw new FabricError('QUOTA_EXCEEDED', `stream ${s.name} already has ${s.tracks.size} tracks (limit ${this.config.maxTracksPerStream})`)
    }
    const t: TrackState = { track, owner: p, cache: new KeyframeCache(this.config.gopCacheBytes, this.config.gopCacheChunks), lastKeyframeRequestMs: -Infinity, lastChunkMs: nowMs }
    s.tracks.set(track, t)
    p.tracks++
    return t
  }

  /**
   * Caches a chunk of `t` within the publisher and stream budgets. Crossing
   * one clears this track's GOP rather than refusing the chunk or evicting
   * another track: the track that grows pays, live subscribers get the chunk
   * anyway, and the cache (a partial GOP being useless) waits for the track's
   * next keyframe as it does after the per-track bound.
   */
  private cache (s: StreamState, t: TrackState, chunk: Uint8Array, keyframe: boolean): void {
    const cache = t.cache
    const before = cache.cachedBytes
    cache.add(chunk, keyframe)
    const grown = cache.cachedBytes - before
    if (grown === 0) return
    const owner = t.owner
    if (grown > 0 && (s.cachedBytes + grown > this.config.gopCacheBytesPerStream ||
        (owner.leaf !== ANY_LEAF && owner.cachedBytes + grown > this.config.gopCacheBytesPerPublisher))) {
      cache.clear()
      s.gopEvictions++
      owner.cachedBytes -= before
      s.cachedBytes -= before
      return
    }
    owner.cachedBytes += grown
    s.cachedBytes += grown
  }

  /** Clears a track's GOP cache and its bytes from the budgets. */
  private dropCache (s: StreamState, t: TrackState): void {
    const bytes = t.cache.cachedBytes
    t.owner.cachedBytes -= bytes
    s.cachedBytes -= bytes
    t.cache.clear()
  }

  /**
   * Takes `p`'s leaf (or upstream standing) away and releases every track
   * it held, caches included, so their numbers are free for the leaf's next
   * holder.
   * @returns the number of tracks released
   */
  private forgetLeaf (s: StreamState, p: Participant): number {
    if (p.leaf >= 0 && s.leaves.get(p.leaf) === p) s.leaves.delete(p.leaf)
    p.leaf = NO_LEAF
    if (p.tracks === 0) return 0
    let released = 0
    for (const t of s.tracks.values()) {
      if (t.owner !== p) continue
      this.dropCache(s, t)
      s.tracks.delete(t.track)
      released++
    }
    p.tracks = 0
    return released
  }

  /** The participant record of `identity` on `s`, made on first use. */
  private participant (s: StreamState, identity: string): Participant {
    let p = s.participants.get(identity)
    if (p === undefined) {
      p = { identity, leaf: NO_LEAF, tracks: 0, cachedBytes: 0, subscriptions: 0, trustedSubscriptions: 0 }
      s.participants.set(identity, p)
    }
    return p
  }

  /** Forgets `p` once it holds nothing, so identities that come and go leave no state behind. */
  private prune (s: StreamState, p: Participant): void {
    if (p.leaf === NO_LEAF && p.tracks === 0 && p.subscriptions === 0 && p.trustedSubscriptions === 0 && s.participants.get(p.identity) === p) {
      s.participants.delete(p.identity)
    }
  }

  private maybeRequestKeyframe (s: StreamState, t: TrackState, nowMs: number, out: KeyframeRequest[]): void {
    if (nowMs - t.lastKeyframeRequestMs < this.config.keyframeRequestIntervalMs) return
    t.lastKeyframeRequestMs = nowMs
    out.push({ stream: s.name, track: t.track, publisher: t.owner.identity })
  }

  private requireStream (stream: string): StreamState {
    const s = this.streams.get(stream)
    if (s === undefined) throw new FabricError('NOT_FOUND', `stream ${stream} is not open on this relay`)
    return s
  }
}
