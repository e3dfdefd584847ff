/**
 * RelayNode: the sans-IO media relay core (design.md "relay" layer). Per
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
 */
import { FabricError } from '../errors.js'
import { chunkIsKeyframe, chunkTrack, splitStreamTag, validateChunk, type StreamTagHalves } from '../wire/chunk.js'
import { streamTag } from '../wire/stream-tag.js'
import type { SealedFrame } from '../crypto/link-seal.js'
import { KeyframeCache } from './keyframe-cache.js'
import { SubscriberQueue, type QueueCounters } from './subscriber-queue.js'

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
}

export const DEFAULT_RELAY_CONFIG: RelayConfig = {
  subscriberQueueBytes: 2 * 1024 * 1024,
  subscriberQueueFrames: 1024,
  gopCacheBytes: 4 * 1024 * 1024,
  gopCacheChunks: 1024,
  keyframeRequestIntervalMs: 500,
}

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

/** Per-stream counters as reported by `stats`. */
export interface StreamStats {
  stream: string
  subscribers: number
  chunksIn: number
  bytesIn: number
  rejected: number
  tracks: number
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

interface Subscriber {
  readonly id: number
  readonly stream: StreamState
  readonly identity: string
  readonly sealer: ChunkSealer
  /** Chunks waiting for this subscriber, shared with every other subscriber's queue. */
  readonly queue: SubscriberQueue<Uint8Array>
  forwarded: number
  forwardedBytes: number
}

interface TrackState {
  readonly track: number
  readonly publisher: string
  readonly cache: KeyframeCache
  lastKeyframeRequestMs: number
}

interface StreamState {
  readonly name: string
  /** The stream's tag, split once: every chunk is checked against it. */
  readonly tag: StreamTagHalves
  readonly subscribers: Map<number, Subscriber>
  readonly tracks: Map<number, TrackState>
  chunksIn: number
  bytesIn: number
  rejected: number
}

export class RelayNode {
  readonly config: RelayConfig
  private readonly streams = new Map<string, StreamState>()
  private readonly subscribers = new Map<number, Subscriber>()
  private nextId = 1

  constructor (config: Partial<RelayConfig> = {}) {
    this.config = { ...DEFAULT_RELAY_CONFIG, ...config }
  }

  /** Starts relaying `stream` (idempotent). */
  openStream (stream: string): void {
    if (this.streams.has(stream)) return
    this.streams.set(stream, {
      name: stream,
      tag: splitStreamTag(streamTag(stream)),
      subscribers: new Map(),
      tracks: new Map(),
      chunksIn: 0,
      bytesIn: 0,
      rejected: 0,
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
   * @returns the subscriber id, and keyframe requests for tracks with no usable GOP
   * @throws FabricError NOT_FOUND when the stream is not open
   */
  subscribe (stream: string, identity: string, sealer: ChunkSealer, nowMs: number): { id: number, keyframeRequests: KeyframeRequest[] } {
    const s = this.requireStream(stream)
    const sub: Subscriber = {
      id: this.nextId++,
      stream: s,
      identity,
      sealer,
      queue: new SubscriberQueue<Uint8Array>(this.config.subscriberQueueBytes, this.config.subscriberQueueFrames),
      forwarded: 0,
      forwardedBytes: 0,
    }
    s.subscribers.set(sub.id, sub)
    this.subscribers.set(sub.id, sub)
    const keyframeRequests: KeyframeRequest[] = []
    for (const t of s.tracks.values()) {
      if (t.publisher === identity) continue
      const gop = t.cache.snapshot()
      if (gop.length === 0) {
        // Mid-GOP: deltas before the next keyframe would not decode.
        sub.queue.waitForKeyframe(t.track)
        this.maybeRequestKeyframe(s, t, nowMs, keyframeRequests)
        continue
      }
      for (let i = 0; i < gop.length; i++) sub.queue.push(gop[i], t.track, i === 0)
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
  }

  /**
   * Removes every subscription of `identity` on `stream` (member removed) and
   * releases the tracks it published: MLS gives its blank leaf, hence the
   * same track numbers, to the next member added.
   */
  removeMember (stream: string, identity: string): number[] {
    const s = this.streams.get(stream)
    if (s === undefined) return []
    const ids: number[] = []
    for (const sub of s.subscribers.values()) if (sub.identity === identity) ids.push(sub.id)
    for (const id of ids) this.unsubscribe(id)
    for (const t of [...s.tracks.values()]) if (t.publisher === identity) s.tracks.delete(t.track)
    return ids
  }

  /**
   * The stream moved to a new MLS epoch: cached GOPs are under a retired key
   * and useless to anyone subscribing from now on.
   */
  epochChanged (stream: string): void {
    const s = this.streams.get(stream)
    if (s === undefined) return
    for (const t of s.tracks.values()) t.cache.clear()
  }

  /**
   * Relays one chunk published by `publisher` on `stream`: validates its
   * clear metadata, caches it for late subscribers, and queues it for
   * every other subscriber whose queue takes it. Never waits on anyone.
   * @throws MalformedError | TooLargeError | FabricError('UNSUPPORTED_VERSION')
   *   for a bad chunk, FabricError('NOT_FOUND') for a closed stream, and
   *   FabricError('MALFORMED') when `track` belongs to another publisher.
   *   A throw leaves every subscriber untouched.
   */
  forward (stream: string, publisher: string, chunk: Uint8Array, nowMs: number): ForwardResult {
    const s = this.requireStream(stream)
    try {
      validateChunk(chunk, s.tag)
    } catch (err) {
      s.rejected++
      throw err
    }
    const track = chunkTrack(chunk)
    let t = s.tracks.get(track)
    if (t === undefined) {
      t = { track, publisher, cache: new KeyframeCache(this.config.gopCacheBytes, this.config.gopCacheChunks), lastKeyframeRequestMs: -Infinity }
      s.tracks.set(track, t)
    } else if (t.publisher !== publisher) {
      s.rejected++
      throw new FabricError('MALFORMED', `track ${track} of stream ${stream} belongs to another publisher`)
    }
    const keyframe = chunkIsKeyframe(chunk)
    s.chunksIn++
    s.bytesIn += chunk.byteLength
    t.cache.add(chunk, keyframe)

    const result: ForwardResult = { delivered: [], dropped: 0, keyframeRequests: [] }
    let needKeyframe = false
    for (const sub of s.subscribers.values()) {
      if (sub.identity === publisher) continue
      const outcome = sub.queue.push(chunk, track, keyframe)
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
   */
  take (subscriberId: number, maxBytes = Infinity): SealedFrame[] {
    const sub = this.subscribers.get(subscriberId)
    if (sub === undefined) return []
    const chunks = sub.queue.take(maxBytes)
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

  /** Counters of every stream and subscriber, for metrics and the admin API. */
  stats (): { streams: StreamStats[], subscribers: SubscriberStats[] } {
    const streams: StreamStats[] = []
    for (const s of this.streams.values()) {
      streams.push({ stream: s.name, subscribers: s.subscribers.size, chunksIn: s.chunksIn, bytesIn: s.bytesIn, rejected: s.rejected, tracks: s.tracks.size })
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
    return { streams, subscribers }
  }

  private maybeRequestKeyframe (s: StreamState, t: TrackState, nowMs: number, out: KeyframeRequest[]): void {
    if (nowMs - t.lastKeyframeRequestMs < this.config.keyframeRequestIntervalMs) return
    t.lastKeyframeRequestMs = nowMs
    out.push({ stream: s.name, track: t.track, publisher: t.publisher })
  }

  private requireStream (stream: string): StreamState {
    const s = this.streams.get(stream)
    if (s === undefined) throw new FabricError('NOT_FOUND', `stream ${stream} is not open on this relay`)
    return s
  }
}
