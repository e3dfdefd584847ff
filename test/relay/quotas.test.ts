/**
 * RelayNode quotas and track ownership: a publisher claims only tracks of its
 * own MLS leaf, tracks and subscriptions are capped, GOP caches stay within
 * their per-publisher and per-stream budgets, and a publisher's tracks and
 * cache bytes go when it stops publishing or is removed.
 */
import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { FabricError } from '../../src/errors.js'
import { DEFAULT_RELAY_CONFIG, RelayNode, type ChunkSealer, type RelayConfig } from '../../src/relay/relay-node.js'
import { chunkIsKeyframe, chunkSequence, chunkTrack } from '../../src/wire/chunk.js'
import { MAX_CHUNK_PAYLOAD, MAX_LEAF_INDEX } from '../../src/wire/limits.js'
import { makeTrack, trackLeafIndex, TrackContext } from '../../src/wire/track.js'
import { makeChunk, makeLink, unframe, type Link } from './helpers.js'

const S = 'owner/room-q'
const MiB = 1024 * 1024
const EMPTY = new Uint8Array(0)

/** Hands the chunk itself back as the frame body: for runs where the link seal is beside the point. */
const plainSealer = (): ChunkSealer => ({ sealFrame: (chunk: Uint8Array) => ({ head: EMPTY, body: chunk, tail: EMPTY, byteLength: chunk.byteLength }) })

function relayWith (config: Partial<RelayConfig> = {}): RelayNode {
  const relay = new RelayNode(config)
  relay.openStream(S)
  return relay
}

interface Sub extends Link { id: number }

function subscribe (relay: RelayNode, identity: string, nowMs = 0): Sub {
  const link = makeLink(S)
  const { id } = relay.subscribe(S, identity, link.sealer, nowMs)
  return { ...link, id }
}

function receive (relay: RelayNode, sub: Sub): Uint8Array[] {
  return relay.take(sub.id).map((sealed) => sub.opener.open(unframe(sealed)))
}

/** Chunks taken by a plain-sealer subscriber: the frame bodies are the relayed chunks themselves. */
function takePlain (relay: RelayNode, id: number): Uint8Array[] {
  return relay.take(id).map((f) => f.body)
}

/** `got` is exactly the one relayed chunk (by reference: no deep compare of MiB-sized arrays). */
function expectOnly (got: Uint8Array[], chunk: Uint8Array): void {
  expect(got).toHaveLength(1)
  expect(got[0]).toBe(chunk)
}

function thrown (f: () => unknown): FabricError {
  try { f() } catch (err) {
    expect(err).toBeInstanceOf(FabricError)
    return err as FabricError
  }
  throw new Error('expected a FabricError, nothing was thrown')
}

function streamStats (relay: RelayNode): ReturnType<RelayNode['stats']>['streams'][number] {
  const s = relay.stats().streams.find((x) => x.stream === S)
  if (s === undefined) throw new Error(`stream ${S} not in stats`)
  return s
}

function publisherStats (relay: RelayNode, identity: string): ReturnType<RelayNode['stats']>['publishers'][number] | undefined {
  return relay.stats().publishers.find((p) => p.stream === S && p.identity === identity)
}

/** A payload shared by every chunk of one size: the relay never reads it, and it spares the test's memory. */
const payloads = new Map<number, Uint8Array>()
function payload (size: number): Uint8Array {
  let p = payloads.get(size)
  if (p === undefined) {
    p = new Uint8Array(size).fill(0x5a)
    payloads.set(size, p)
  }
  return p
}

/**
 * Runs `refuse` (which must throw `code`) and checks that it left every
 * subscriber, every cache and the chunk counters as they were.
 */
function expectRefusedUntouched (relay: RelayNode, subs: Sub[], refuse: () => unknown, code: string): FabricError {
  const before = relay.stats()
  const seals = subs.map((s) => s.sealer.inner.nextSequence)
  const err = thrown(refuse)
  expect(err.code).toBe(code)
  const after = relay.stats()
  expect(after.subscribers).toEqual(before.subscribers)
  expect(after.publishers).toEqual(before.publishers)
  const [b, a] = [before.streams.find((x) => x.stream === S)!, after.streams.find((x) => x.stream === S)!]
  expect(a).toMatchObject({ chunksIn: b.chunksIn, bytesIn: b.bytesIn, tracks: b.tracks, gopCacheBytes: b.gopCacheBytes, rejected: b.rejected + 1 })
  expect(subs.map((s) => s.sealer.inner.nextSequence)).toEqual(seals)
  return err
}

describe('RelayNode: track ownership by MLS leaf', () => {
  it('refuses a member squatting the tracks of leaves it does not hold; their real owner\'s chunks are then relayed', () => {
    const relay = relayWith()
    relay.setPublisherLeaf(S, 'mallory', 2)
    const carol = subscribe(relay, 'carol')
    // The measured attack: 57 track numbers of leaves future joiners would get.
    for (let leaf = 3; leaf < 60; leaf++) {
      const err = expectRefusedUntouched(relay, [carol], () => relay.forward(S, 'mallory', makeChunk(S, { track: makeTrack(leaf, TrackContext.video), sequence: 0, keyframe: true }), 0), 'MALFORMED')
      expect(err.message).toContain(`names leaf ${leaf}`)
    }
    expect(streamStats(relay)).toMatchObject({ tracks: 0, chunksIn: 0, rejected: 57, gopCacheBytes: 0, ownershipRefusals: { noLeaf: 0, otherLeaf: 57, otherPublisher: 0 } })
    // Dave joins at leaf 3: all 243 of his frames reach carol.
    relay.setPublisherLeaf(S, 'dave', 3)
    const sent: Uint8Array[] = []
    for (let i = 0; i < 243; i++) {
      const c = makeChunk(S, { track: makeTrack(3, TrackContext.video), sequence: i, keyframe: i % 30 === 0, size: 100 })
      sent.push(c)
      expect(relay.forward(S, 'dave', c, i).delivered).toEqual([carol.id])
    }
    expect(receive(relay, carol).map((c) => Buffer.from(c).toString('hex'))).toEqual(sent.map((c) => Buffer.from(c).toString('hex')))
    // Mallory's own leaf still works.
    expect(relay.forward(S, 'mallory', makeChunk(S, { track: makeTrack(2, TrackContext.audio), sequence: 0, keyframe: true }), 300).delivered).toEqual([carol.id])
  })

  it('refuses a publisher with no leaf (NOT_MEMBER) before caching or queueing anything', () => {
    const relay = relayWith()
    relay.setPublisherLeaf(S, 'alice', 0)
    const bob = subscribe(relay, 'bob')
    relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 0), sequence: 0, keyframe: true }), 0)
    // Bob subscribes but was never given a leaf: he may not publish, not even leaf 1.
    const err = expectRefusedUntouched(relay, [bob], () => relay.forward(S, 'bob', makeChunk(S, { track: makeTrack(1, 0), sequence: 0, keyframe: true }), 1), 'NOT_MEMBER')
    expect(err.message).toContain('no MLS leaf')
    expect(thrown(() => relay.forward(S, 'nobody', makeChunk(S, { track: makeTrack(0, 0), sequence: 1 }), 1)).code).toBe('NOT_MEMBER')
    expect(streamStats(relay).ownershipRefusals).toEqual({ noLeaf: 2, otherLeaf: 0, otherPublisher: 0 })
    expect(receive(relay, bob).map(chunkSequence)).toEqual([0])
  })

  it('a new leaf releases the tracks (and cache bytes) of the old one', () => {
    const relay = relayWith()
    relay.setPublisherLeaf(S, 'alice', 0)
    const bob = subscribe(relay, 'bob')
    relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 0), sequence: 0, keyframe: true, size: 500 }), 0)
    relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 1), sequence: 0, keyframe: true, size: 500 }), 0)
    expect(publisherStats(relay, 'alice')).toMatchObject({ leafIndex: 0, tracks: 2 })
    expect(streamStats(relay).gopCacheBytes).toBeGreaterThan(1000)
    // The same leaf again changes nothing.
    relay.setPublisherLeaf(S, 'alice', 0)
    expect(publisherStats(relay, 'alice')).toMatchObject({ leafIndex: 0, tracks: 2 })
    // Removed and re-added at leaf 4.
    relay.setPublisherLeaf(S, 'alice', 4)
    expect(publisherStats(relay, 'alice')).toEqual({ stream: S, identity: 'alice', leafIndex: 4, upstream: false, tracks: 0, gopCacheBytes: 0 })
    expect(streamStats(relay)).toMatchObject({ tracks: 0, gopCacheBytes: 0 })
    expect(thrown(() => relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 0), sequence: 1 }), 1)).code).toBe('MALFORMED')
    expect(relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(4, 0), sequence: 0, keyframe: true }), 1).delivered).toEqual([bob.id])
    // Leaf 0's tracks are free for its next holder.
    relay.setPublisherLeaf(S, 'erin', 0)
    expect(relay.forward(S, 'erin', makeChunk(S, { track: makeTrack(0, 0), sequence: 0, keyframe: true }), 2).delivered).toEqual([bob.id])
  })

  it('giving a leaf to another identity takes it, and its tracks, from the stale holder', () => {
    const relay = relayWith()
    relay.setPublisherLeaf(S, 'bob', 1)
    const carol = subscribe(relay, 'carol')
    relay.forward(S, 'bob', makeChunk(S, { track: makeTrack(1, 0), sequence: 0, keyframe: true, size: 300 }), 0)
    relay.setPublisherLeaf(S, 'dave', 1)
    expect(publisherStats(relay, 'bob')).toBeUndefined()
    expect(publisherStats(relay, 'dave')).toMatchObject({ leafIndex: 1, tracks: 0 })
    expect(streamStats(relay)).toMatchObject({ tracks: 0, gopCacheBytes: 0, publishers: 1 })
    expect(thrown(() => relay.forward(S, 'bob', makeChunk(S, { track: makeTrack(1, 0), sequence: 1 }), 1)).code).toBe('NOT_MEMBER')
    expect(relay.forward(S, 'dave', makeChunk(S, { track: makeTrack(1, 0), sequence: 0, keyframe: true }), 1).delivered).toEqual([carol.id])
  })

  it('setPublisherLeaf refuses a leaf out of range and a stream that is not open', () => {
    const relay = relayWith()
    for (const bad of [-1, 1.5, MAX_LEAF_INDEX + 1, Number.NaN]) expect(() => { relay.setPublisherLeaf(S, 'alice', bad) }).toThrow(RangeError)
    relay.setPublisherLeaf(S, 'alice', MAX_LEAF_INDEX)
    expect(relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(MAX_LEAF_INDEX, 2), sequence: 0, keyframe: true }), 0).delivered).toEqual([])
    expect(thrown(() => { relay.setPublisherLeaf('closed', 'alice', 0) }).code).toBe('NOT_FOUND')
    expect(thrown(() => { relay.addUpstream('closed', 'up') }).code).toBe('NOT_FOUND')
  })
})

describe('RelayNode: leaf indices above MAX_LEAF_INDEX', () => {
  it('refuses a track naming leaf 65 536 (MALFORMED), from a member and from an upstream, touching nothing', () => {
    const relay = relayWith()
    relay.setPublisherLeaf(S, 'alice', 0)
    relay.addUpstream(S, 'upstream:a')
    const sub = subscribe(relay, 'viewer')
    const tooWide = (): Uint8Array => {
      const chunk = makeChunk(S, { track: makeTrack(0, TrackContext.video), sequence: 0, keyframe: true })
      new DataView(chunk.buffer, chunk.byteOffset).setUint32(12, (MAX_LEAF_INDEX + 1) * 256 + TrackContext.video)
      return chunk
    }
    expect(trackLeafIndex(chunkTrack(tooWide()))).toBe(65_536)
    for (const publisher of ['alice', 'upstream:a']) {
      const err = expectRefusedUntouched(relay, [sub], () => relay.forward(S, publisher, tooWide(), 0), 'MALFORMED')
      expect(err.message).toContain(`above ${MAX_LEAF_INDEX}`)
    }
    expect(streamStats(relay)).toMatchObject({ tracks: 0, chunksIn: 0, rejected: 2 })
  })
})

describe('RelayNode: upstream relays', () => {
  it('an upstream carries any leaf\'s tracks, but a track first seen from one publisher stays its own', () => {
    const relay = relayWith()
    relay.addUpstream(S, 'upstream:a')
    relay.addUpstream(S, 'upstream:a')
    relay.setPublisherLeaf(S, 'local', 7)
    const sub = subscribe(relay, 'viewer')
    for (let leaf = 0; leaf < 6; leaf++) {
      expect(relay.forward(S, 'upstream:a', makeChunk(S, { track: makeTrack(leaf, 0), sequence: 0, keyframe: true }), 0).delivered).toEqual([sub.id])
    }
    expect(publisherStats(relay, 'upstream:a')).toMatchObject({ leafIndex: undefined, upstream: true, tracks: 6 })
    // A local member at leaf 7 publishes its camera first; the upstream may not take it over...
    relay.forward(S, 'local', makeChunk(S, { track: makeTrack(7, 0), sequence: 0, keyframe: true }), 1)
    const err = expectRefusedUntouched(relay, [sub], () => relay.forward(S, 'upstream:a', makeChunk(S, { track: makeTrack(7, 0), sequence: 5 }), 2), 'MALFORMED')
    expect(err.message).toContain('belongs to another publisher')
    // ...and a local member at leaf 0 may not take over what the upstream brought.
    relay.setPublisherLeaf(S, 'zero', 0)
    expect(thrown(() => relay.forward(S, 'zero', makeChunk(S, { track: makeTrack(0, 0), sequence: 1 }), 3)).code).toBe('MALFORMED')
    expect(streamStats(relay).ownershipRefusals).toEqual({ noLeaf: 0, otherLeaf: 0, otherPublisher: 2 })
    // A second upstream is a publisher like any other.
    relay.addUpstream(S, 'upstream:b')
    expect(thrown(() => relay.forward(S, 'upstream:b', makeChunk(S, { track: makeTrack(1, 0), sequence: 1 }), 3)).code).toBe('MALFORMED')
    expect(receive(relay, sub)).toHaveLength(7)
  })

  it('a track moves from a silent upstream to another after upstreamTakeoverMs, never while the first still carries it, never from a member', () => {
    const relay = relayWith({ upstreamTakeoverMs: 500 })
    relay.addUpstream(S, 'upstream:a')
    relay.addUpstream(S, 'upstream:b')
    relay.setPublisherLeaf(S, 'local', 7)
    const sub = subscribe(relay, 'viewer')
    relay.forward(S, 'upstream:a', makeChunk(S, { track: makeTrack(1, 0), sequence: 0, keyframe: true }), 0)
    relay.forward(S, 'upstream:a', makeChunk(S, { track: makeTrack(1, 0), sequence: 1 }), 300)
    relay.forward(S, 'local', makeChunk(S, { track: makeTrack(7, 0), sequence: 0, keyframe: true }), 0)
    // b brings track 1 while a still carries it (a copy by a second way, as in a transient cycle): refused.
    expect(thrown(() => relay.forward(S, 'upstream:b', makeChunk(S, { track: makeTrack(1, 0), sequence: 1 }), 799)).code).toBe('MALFORMED')
    // a has been silent on it for 500 ms: the track's way moved, b takes it, with a cache of its own.
    expect(relay.forward(S, 'upstream:b', makeChunk(S, { track: makeTrack(1, 0), sequence: 2, keyframe: true }), 800).delivered).toEqual([sub.id])
    expect(publisherStats(relay, 'upstream:a')).toMatchObject({ tracks: 0 })
    expect(publisherStats(relay, 'upstream:b')).toMatchObject({ tracks: 1 })
    // a comes back with it: b carries it now, so a's copy is refused.
    expect(thrown(() => relay.forward(S, 'upstream:a', makeChunk(S, { track: makeTrack(1, 0), sequence: 3 }), 900)).code).toBe('MALFORMED')
    // A member's own track is never taken, however long it was silent.
    expect(thrown(() => relay.forward(S, 'upstream:b', makeChunk(S, { track: makeTrack(7, 0), sequence: 9 }), 60_000)).code).toBe('MALFORMED')
    expect(streamStats(relay)).toMatchObject({ takeovers: 1, ownershipRefusals: { noLeaf: 0, otherLeaf: 0, otherPublisher: 3 } })
    // The late joiner's cache holds b's keyframe only: a's GOP went with the track.
    const late = subscribe(relay, 'late')
    expect(receive(relay, late).length).toBe(2)
  })

  it('an upstream is held to the per-stream caps and budget, not the per-publisher ones', () => {
    const relay = relayWith({ maxTracksPerStream: 20, gopCacheBytesPerPublisher: 1000, gopCacheBytesPerStream: 10_000 })
    relay.addUpstream(S, 'up')
    for (let i = 0; i < 20; i++) relay.forward(S, 'up', makeChunk(S, { track: makeTrack(i, 0), sequence: 0, keyframe: true, size: 400 }), 0)
    expect(publisherStats(relay, 'up')).toMatchObject({ tracks: 20 })
    expect(thrown(() => relay.forward(S, 'up', makeChunk(S, { track: makeTrack(20, 0), sequence: 0, keyframe: true }), 0)).code).toBe('QUOTA_EXCEEDED')
    const st = streamStats(relay)
    expect(st.quotaRefusals).toMatchObject({ publisherTracks: 0, streamTracks: 1 })
    // 20 x 428 bytes would be 8560: the stream budget admits all of it, the (exempt) publisher budget 1000 would not.
    expect(st.gopCacheBytes).toBe(20 * 428)
    expect(st.gopEvictions).toBe(0)
    relay.forward(S, 'up', makeChunk(S, { track: makeTrack(0, 0), sequence: 1, size: 2000 }), 1)
    expect(streamStats(relay)).toMatchObject({ gopEvictions: 1, gopCacheBytes: 19 * 428 })
  })
})

describe('RelayNode: caps', () => {
  it('tracks per publisher: the 9th track is refused, the publisher\'s 8 and everyone else carry on', () => {
    const relay = relayWith()
    expect(relay.config.maxTracksPerPublisher).toBe(8)
    relay.setPublisherLeaf(S, 'alice', 0)
    relay.setPublisherLeaf(S, 'bob', 1)
    const carol = subscribe(relay, 'carol')
    for (let c = 0; c < 8; c++) relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, c), sequence: 0, keyframe: true }), 0)
    const err = expectRefusedUntouched(relay, [carol], () => relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 8), sequence: 0, keyframe: true }), 1), 'QUOTA_EXCEEDED')
    expect(err.message).toContain('limit 8')
    expect(streamStats(relay).quotaRefusals).toEqual({ publisherTracks: 1, streamTracks: 0, subscriptions: 0, trustedSubscriptions: 0 })
    expect(relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 7), sequence: 1 }), 2).delivered).toEqual([carol.id])
    expect(relay.forward(S, 'bob', makeChunk(S, { track: makeTrack(1, 0), sequence: 0, keyframe: true }), 2).delivered).toEqual([carol.id])
    expect(receive(relay, carol)).toHaveLength(10)
    // Releasing frees the count.
    relay.releasePublisher(S, 'alice')
    relay.setPublisherLeaf(S, 'alice', 0)
    expect(relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 8), sequence: 0, keyframe: true }), 3).delivered).toEqual([carol.id])
  })

  it('tracks per stream: the 1025th track is refused, the 1024 carry on', () => {
    const relay = relayWith()
    expect(relay.config.maxTracksPerStream).toBe(1024)
    const sub = relay.subscribe(S, 'viewer', plainSealer(), 0).id
    for (let leaf = 0; leaf < 128; leaf++) {
      relay.setPublisherLeaf(S, `m${leaf}`, leaf)
      for (let c = 0; c < 8; c++) relay.forward(S, `m${leaf}`, makeChunk(S, { track: makeTrack(leaf, c), sequence: 0, keyframe: true, size: 1 }), 0)
    }
    expect(streamStats(relay).tracks).toBe(1024)
    expect(takePlain(relay, sub)).toHaveLength(1024)
    relay.setPublisherLeaf(S, 'late', 128)
    const before = relay.stats()
    const err = thrown(() => relay.forward(S, 'late', makeChunk(S, { track: makeTrack(128, 0), sequence: 0, keyframe: true }), 1))
    expect(err.code).toBe('QUOTA_EXCEEDED')
    expect(err.message).toContain('limit 1024')
    expect(relay.stats().subscribers).toEqual(before.subscribers)
    expect(streamStats(relay)).toMatchObject({ tracks: 1024, quotaRefusals: { publisherTracks: 0, streamTracks: 1 } })
    expect(relay.forward(S, 'm5', makeChunk(S, { track: makeTrack(5, 3), sequence: 1 }), 1).delivered).toEqual([sub])
    expect(takePlain(relay, sub)).toHaveLength(1)
    relay.releasePublisher(S, 'm0')
    expect(relay.forward(S, 'late', makeChunk(S, { track: makeTrack(128, 0), sequence: 0, keyframe: true }), 2).delivered).toEqual([sub])
  })

  it('subscriptions per identity: the 5th is refused and changes nothing; others and trusted ones are counted apart', () => {
    const relay = relayWith()
    relay.setPublisherLeaf(S, 'alice', 0)
    const bobs = Array.from({ length: 4 }, () => subscribe(relay, 'bob'))
    const carol = subscribe(relay, 'carol')
    relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 0), sequence: 0, keyframe: true }), 0)
    const before = relay.stats()
    const err = thrown(() => relay.subscribe(S, 'bob', makeLink(S).sealer, 1))
    expect(err.code).toBe('QUOTA_EXCEEDED')
    expect(err.message).toContain('limit 4')
    expect(relay.stats().subscribers).toEqual(before.subscribers)
    expect(streamStats(relay)).toMatchObject({ subscribers: 5, quotaRefusals: { subscriptions: 1, trustedSubscriptions: 0 } })
    // Other identities, and bob's trusted subscriptions, are not bob's ordinary quota.
    subscribe(relay, 'dave')
    const trustedBob = relay.subscribe(S, 'bob', plainSealer(), 1, { trusted: true })
    expect(takePlain(relay, trustedBob.id).map(chunkSequence)).toEqual([0])
    // Every admitted subscriber still gets chunks.
    const r = relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 0), sequence: 1 }), 2)
    expect(r.delivered).toHaveLength(7)
    for (const b of [...bobs, carol]) expect(receive(relay, b).map(chunkSequence)).toEqual([0, 1])
    // An unsubscribe gives the slot back.
    relay.unsubscribe(bobs[0].id)
    subscribe(relay, 'bob')
    expect(thrown(() => relay.subscribe(S, 'bob', makeLink(S).sealer, 3)).code).toBe('QUOTA_EXCEEDED')
    expect(streamStats(relay).quotaRefusals.subscriptions).toBe(2)
    // The cap is per stream.
    relay.openStream('owner/room-other')
    relay.subscribe('owner/room-other', 'bob', plainSealer(), 3)
  })

  it('trusted subscriptions per identity: the 4097th is refused', () => {
    const relay = relayWith()
    expect(relay.config.maxTrustedSubscriptionsPerIdentity).toBe(4096)
    const sealer = plainSealer()
    for (let i = 0; i < 4096; i++) relay.subscribe(S, 'load', sealer, 0, { trusted: true })
    const err = thrown(() => relay.subscribe(S, 'load', sealer, 0, { trusted: true }))
    expect(err.code).toBe('QUOTA_EXCEEDED')
    expect(err.message).toContain('trusted subscriptions')
    expect(streamStats(relay)).toMatchObject({ subscribers: 4096, quotaRefusals: { subscriptions: 0, trustedSubscriptions: 1 } })
    // The same identity's ordinary quota is untouched.
    for (let i = 0; i < 4; i++) relay.subscribe(S, 'load', sealer, 0)
    expect(thrown(() => relay.subscribe(S, 'load', sealer, 0)).code).toBe('QUOTA_EXCEEDED')
  })

  it('refuses a negative or NaN cap at construction; Infinity lifts one, 0 refuses all', () => {
    expect(() => new RelayNode({ maxTracksPerStream: -1 })).toThrow(RangeError)
    expect(() => new RelayNode({ gopCacheBytesPerStream: Number.NaN })).toThrow(RangeError)
    const relay = relayWith({ maxSubscriptionsPerIdentity: 0, maxTracksPerPublisher: Infinity })
    expect(thrown(() => relay.subscribe(S, 'bob', plainSealer(), 0)).code).toBe('QUOTA_EXCEEDED')
    relay.setPublisherLeaf(S, 'alice', 0)
    for (let c = 0; c < 20; c++) relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, c), sequence: 0, keyframe: true }), 0)
    expect(publisherStats(relay, 'alice')?.tracks).toBe(20)
  })
})

describe('RelayNode: GOP cache budgets', () => {
  it('the measured attack: 96 tracks x 3 MiB from one member ends at 8 tracks within 8 MiB, all freed when it stops', () => {
    const relay = relayWith()
    expect([relay.config.gopCacheBytes, relay.config.gopCacheBytesPerPublisher, relay.config.gopCacheBytesPerStream]).toEqual([4 * MiB, 8 * MiB, 64 * MiB])
    relay.setPublisherLeaf(S, 'mallory', 9)
    const viewer = relay.subscribe(S, 'viewer', plainSealer(), 0).id
    let refused = 0
    let delivered = 0
    for (let c = 0; c < 96; c++) {
      // A 1 MiB keyframe and two 1 MiB deltas: 3 MiB of GOP per track.
      for (let i = 0; i < 3; i++) {
        const chunk = makeChunk(S, { track: makeTrack(9, c), sequence: i, keyframe: i === 0, payload: payload(MiB - 64) })
        try {
          const r = relay.forward(S, 'mallory', chunk, c)
          expect(r.delivered).toEqual([viewer])
          delivered++
          expectOnly(takePlain(relay, viewer), chunk)
        } catch (err) {
          expect((err as FabricError).code).toBe('QUOTA_EXCEEDED')
          refused++
        }
        expect(publisherStats(relay, 'mallory')!.gopCacheBytes).toBeLessThanOrEqual(8 * MiB)
      }
    }
    expect(delivered).toBe(8 * 3)
    expect(refused).toBe(88 * 3)
    const st = streamStats(relay)
    expect(st).toMatchObject({ tracks: 8, quotaRefusals: { publisherTracks: 88 * 3 } })
    expect(st.gopCacheBytes).toBeLessThanOrEqual(8 * MiB)
    expect(st.gopEvictions).toBeGreaterThan(0)
    relay.releasePublisher(S, 'mallory')
    expect(streamStats(relay)).toMatchObject({ tracks: 0, gopCacheBytes: 0, publishers: 0 })
    expect(publisherStats(relay, 'mallory')).toBeUndefined()
  })

  it('many publishers with large keyframes: the stream stays within 64 MiB and each publisher within 8 MiB, live subscribers get every chunk', () => {
    // Default budgets; queues large enough to hold a late subscriber's whole replay.
    const relay = relayWith({ subscriberQueueBytes: 128 * MiB })
    const publishers = Array.from({ length: 12 }, (_, i) => `p${i}`)
    publishers.forEach((p, leaf) => { relay.setPublisherLeaf(S, p, leaf) })
    const live = relay.subscribe(S, 'live', plainSealer(), 0).id
    let forwarded = 0
    for (let round = 0; round < 3; round++) {
      for (let leaf = 0; leaf < publishers.length; leaf++) {
        for (let c = 0; c < 8; c++) {
          const chunk = makeChunk(S, { track: makeTrack(leaf, c), sequence: round, keyframe: round === 0, payload: payload(MAX_CHUNK_PAYLOAD) })
          expect(relay.forward(S, publishers[leaf], chunk, round).delivered).toEqual([live])
          forwarded++
          expectOnly(takePlain(relay, live), chunk)
          const st = streamStats(relay)
          expect(st.gopCacheBytes).toBeLessThanOrEqual(64 * MiB)
          expect(publisherStats(relay, publishers[leaf])!.gopCacheBytes).toBeLessThanOrEqual(8 * MiB)
        }
      }
    }
    expect(forwarded).toBe(12 * 8 * 3)
    const st = streamStats(relay)
    expect(st.gopEvictions).toBeGreaterThan(0)
    const pubs = relay.stats().publishers
    expect(st.gopCacheBytes).toBe(pubs.reduce((n, p) => n + p.gopCacheBytes, 0))
    // A late subscriber is replayed exactly the cached bytes, and asks for a keyframe of every evicted track.
    const late = relay.subscribe(S, 'late', plainSealer(), 10)
    expect(relay.queuedBytes(late.id)).toBe(st.gopCacheBytes)
    const replayedTracks = new Set(takePlain(relay, late.id).map(chunkTrack))
    expect(late.keyframeRequests.length).toBe(12 * 8 - replayedTracks.size)
    expect(late.keyframeRequests.length).toBeGreaterThan(0)
    for (const p of publishers) relay.releasePublisher(S, p)
    expect(streamStats(relay)).toMatchObject({ tracks: 0, gopCacheBytes: 0 })
  })

  it('crossing a budget clears only that track\'s GOP until its next keyframe; late subscribers wait for it', () => {
    // Chunks of 228 bytes (28 + 200): the publisher budget holds 4 of them.
    const relay = relayWith({ gopCacheBytesPerPublisher: 1000, keyframeRequestIntervalMs: 0 })
    relay.setPublisherLeaf(S, 'alice', 0)
    relay.setPublisherLeaf(S, 'bob', 1)
    const early = relay.subscribe(S, 'early', plainSealer(), 0).id
    const A0 = makeTrack(0, 0)
    const A1 = makeTrack(0, 1)
    const B0 = makeTrack(1, 0)
    const send = (who: string, track: number, seq: number, keyframe: boolean): Uint8Array => {
      const chunk = makeChunk(S, { track, sequence: seq, keyframe, size: 200 })
      expect(relay.forward(S, who, chunk, seq).delivered).toEqual([early])
      return chunk
    }
    const sent = [send('alice', A0, 0, true), send('alice', A0, 1, false), send('alice', A1, 0, true), send('bob', B0, 0, true), send('alice', A1, 1, false)]
    expect(publisherStats(relay, 'alice')!.gopCacheBytes).toBe(4 * 228)
    // Alice's fifth cached chunk would cross 1000: A0's GOP goes, A1's stays, bob's is not alice's budget.
    sent.push(send('alice', A0, 2, false))
    expect(streamStats(relay)).toMatchObject({ gopEvictions: 1, gopCacheBytes: 3 * 228 })
    expect(publisherStats(relay, 'alice')!.gopCacheBytes).toBe(2 * 228)
    // A0 stops caching until its next keyframe, even with room again.
    sent.push(send('alice', A0, 3, false))
    expect(publisherStats(relay, 'alice')!.gopCacheBytes).toBe(2 * 228)
    const late = relay.subscribe(S, 'late', plainSealer(), 10)
    expect(late.keyframeRequests).toEqual([{ stream: S, track: A0, publisher: 'alice' }])
    expect(takePlain(relay, late.id).map((c) => [chunkTrack(c), chunkSequence(c)])).toEqual([[A1, 0], [A1, 1], [B0, 0]])
    // A0's next delta is skipped for the late subscriber, its keyframe is not; caching resumes there.
    sent.push(send('alice', A0, 4, false))
    const key = makeChunk(S, { track: A0, sequence: 5, keyframe: true, size: 200 })
    expect(relay.forward(S, 'alice', key, 20).delivered.sort()).toEqual([early, late.id].sort())
    sent.push(key)
    expect(takePlain(relay, late.id)).toEqual([key])
    expect(publisherStats(relay, 'alice')!.gopCacheBytes).toBe(3 * 228)
    // The early subscriber got every chunk, budget or not.
    expect(takePlain(relay, early)).toEqual(sent)
  })

  it('epochChanged returns every cached byte to the budgets', () => {
    const relay = relayWith()
    relay.setPublisherLeaf(S, 'alice', 0)
    relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 0), sequence: 0, keyframe: true, size: 1000 }), 0)
    expect(streamStats(relay).gopCacheBytes).toBe(1028)
    relay.epochChanged(S)
    expect(streamStats(relay).gopCacheBytes).toBe(0)
    expect(publisherStats(relay, 'alice')).toMatchObject({ tracks: 1, gopCacheBytes: 0 })
  })
})

describe('RelayNode: release', () => {
  it('releasePublisher drops the tracks and cache bytes of that identity on that stream only, and keeps its subscriptions', () => {
    const relay = relayWith()
    relay.openStream('owner/room-2')
    for (const s of [S, 'owner/room-2']) {
      relay.setPublisherLeaf(s, 'alice', 0)
      relay.setPublisherLeaf(s, 'bob', 1)
    }
    const aliceSub = subscribe(relay, 'alice')
    const carol = subscribe(relay, 'carol')
    for (const s of [S, 'owner/room-2']) {
      for (let c = 0; c < 3; c++) relay.forward(s, 'alice', makeChunk(s, { track: makeTrack(0, c), sequence: 0, keyframe: true, size: 2000 }), 0)
      relay.forward(s, 'bob', makeChunk(s, { track: makeTrack(1, 0), sequence: 0, keyframe: true, size: 2000 }), 0)
    }
    expect(relay.releasePublisher(S, 'alice')).toBe(3)
    expect(relay.releasePublisher(S, 'alice')).toBe(0)
    expect(relay.releasePublisher('no-such-stream', 'alice')).toBe(0)
    expect(streamStats(relay)).toMatchObject({ tracks: 1, gopCacheBytes: 2028, publishers: 1 })
    expect(publisherStats(relay, 'alice')).toBeUndefined()
    expect(relay.stats().publishers.find((p) => p.stream === 'owner/room-2' && p.identity === 'alice')).toMatchObject({ tracks: 3, gopCacheBytes: 3 * 2028 })
    // Alice still receives; her next publish needs her leaf again.
    expect(relay.subscriber(aliceSub.id)).toEqual({ stream: S, identity: 'alice' })
    expect(relay.forward(S, 'bob', makeChunk(S, { track: makeTrack(1, 0), sequence: 1 }), 1).delivered.sort()).toEqual([aliceSub.id, carol.id].sort())
    expect(thrown(() => relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 0), sequence: 1 }), 1)).code).toBe('NOT_MEMBER')
    relay.releasePublisher(S, 'bob')
    expect(streamStats(relay)).toMatchObject({ tracks: 0, gopCacheBytes: 0, publishers: 0 })
  })

  it('removeMember frees the removed member\'s cache bytes, tracks, leaf and subscriptions', () => {
    const relay = relayWith()
    relay.setPublisherLeaf(S, 'alice', 0)
    relay.setPublisherLeaf(S, 'bob', 1)
    const bob = subscribe(relay, 'bob')
    const carol = subscribe(relay, 'carol')
    for (let c = 0; c < 4; c++) relay.forward(S, 'bob', makeChunk(S, { track: makeTrack(1, c), sequence: 0, keyframe: true, size: 3000 }), 0)
    relay.forward(S, 'alice', makeChunk(S, { track: makeTrack(0, 0), sequence: 0, keyframe: true, size: 100 }), 0)
    expect(relay.removeMember(S, 'bob')).toEqual([bob.id])
    expect(streamStats(relay)).toMatchObject({ tracks: 1, gopCacheBytes: 128, publishers: 1, subscribers: 1 })
    expect(thrown(() => relay.forward(S, 'bob', makeChunk(S, { track: makeTrack(1, 0), sequence: 1 }), 1)).code).toBe('NOT_MEMBER')
    expect(receive(relay, carol)).toHaveLength(5)
    relay.removeMember(S, 'alice')
    expect(streamStats(relay)).toMatchObject({ tracks: 0, gopCacheBytes: 0, publishers: 0 })
    expect(relay.stats().publishers).toEqual([])
  })
})

// ---------------------------------------------------------------------------
// Property: random publish / subscribe / release / remove sequences against a
// model of ownership and caps.

const MEMBERS = ['m0', 'm1', 'm2', 'm3']
const UPSTREAM = 'up'
const CFG: Partial<RelayConfig> = {
  // Queues far larger than a run sends, so no live subscriber ever drops:
  // every miss would be the relay's fault, not the slow-subscriber policy.
  subscriberQueueBytes: 4 * MiB,
  subscriberQueueFrames: 4096,
  // Budgets a few chunks deep, so that runs of a hundred chunks cross them.
  gopCacheBytes: 2500,
  gopCacheChunks: 6,
  keyframeRequestIntervalMs: 100,
  maxTracksPerPublisher: 3,
  maxTracksPerStream: 7,
  maxSubscriptionsPerIdentity: 2,
  maxTrustedSubscriptionsPerIdentity: 3,
  gopCacheBytesPerPublisher: 2000,
  gopCacheBytesPerStream: 4000,
}

type QOp =
  | { kind: 'leaf', who: number, leaf: number }
  | { kind: 'subscribe', who: number, trusted: boolean }
  | { kind: 'unsubscribe', pick: number }
  | { kind: 'forward', who: number, ownLeaf: boolean, leaf: number, context: number, keyframe: boolean, size: number }
  | { kind: 'upstream', leaf: number, context: number, keyframe: boolean, size: number }
  | { kind: 'take', pick: number }
  | { kind: 'release', who: number }
  | { kind: 'remove', who: number }
  | { kind: 'epoch' }
  | { kind: 'tick', ms: number }

const who = fc.integer({ min: 0, max: MEMBERS.length - 1 })
const leafArb = fc.integer({ min: 0, max: 5 })
const qOpArb: fc.Arbitrary<QOp> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('leaf' as const), who, leaf: leafArb }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), who, trusted: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unsubscribe' as const), pick: fc.nat() }) },
  { weight: 8, arbitrary: fc.record({ kind: fc.constant('forward' as const), who, ownLeaf: fc.integer({ min: 0, max: 4 }).map((n) => n > 0), leaf: leafArb, context: fc.integer({ min: 0, max: 3 }), keyframe: fc.boolean(), size: fc.integer({ min: 1, max: 1200 }) }) },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('upstream' as const), leaf: leafArb, context: fc.integer({ min: 0, max: 3 }), keyframe: fc.boolean(), size: fc.integer({ min: 1, max: 1200 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('take' as const), pick: fc.nat() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('release' as const), who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('remove' as const), who }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('epoch' as const) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 300 }) }) },
)

/** What the test expects of the relay's ownership state: leaves, track owners, subscription counts. */
class Model {
  readonly leaf = new Map<string, number | 'any'>([[UPSTREAM, 'any']])
  readonly owner = new Map<number, string>()
  readonly subs = new Map<string, { plain: number, trusted: number }>()

  tracksOf (identity: string): number {
    let n = 0
    for (const o of this.owner.values()) if (o === identity) n++
    return n
  }

  forget (identity: string): void {
    this.leaf.delete(identity)
    for (const [t, o] of [...this.owner]) if (o === identity) this.owner.delete(t)
  }

  setLeaf (identity: string, leaf: number): void {
    if (this.leaf.get(identity) === leaf) return
    for (const [other, l] of [...this.leaf]) if (l === leaf && other !== identity) this.forget(other)
    this.forget(identity)
    this.leaf.set(identity, leaf)
  }

  /** The error code forward must throw, or undefined when it must relay (claiming the track if new). */
  forward (identity: string, track: number): string | undefined {
    const leaf = this.leaf.get(identity)
    if (leaf === undefined) return 'NOT_MEMBER'
    if (leaf !== 'any' && trackLeafIndex(track) !== leaf) return 'MALFORMED'
    const o = this.owner.get(track)
    if (o === identity) return undefined
    if (o !== undefined) return 'MALFORMED'
    if (leaf !== 'any' && this.tracksOf(identity) >= CFG.maxTracksPerPublisher!) return 'QUOTA_EXCEEDED'
    if (this.owner.size >= CFG.maxTracksPerStream!) return 'QUOTA_EXCEEDED'
    this.owner.set(track, identity)
    return undefined
  }
}

interface LiveSub { id: number, who: string, trusted: boolean, waiting: Set<number>, expected: Uint8Array[] }

describe('RelayNode: quota property', () => {
  it('random publish/subscribe/release/remove runs: refusals match the ownership model, cached bytes stay within both budgets, and live subscribers get every chunk after they subscribed', () => {
    let relayed = 0
    let evictions = 0
    let refusedQuota = 0
    let skippedWaits = 0
    fc.assert(fc.property(fc.array(qOpArb, { minLength: 10, maxLength: 150, size: 'max' }), (ops) => {
      const relay = new RelayNode(CFG)
      relay.openStream(S)
      relay.addUpstream(S, UPSTREAM)
      const model = new Model()
      MEMBERS.forEach((m, leaf) => {
        relay.setPublisherLeaf(S, m, leaf)
        model.setLeaf(m, leaf)
      })
      const live: LiveSub[] = []
      const seq = new Map<number, number>()
      let now = 0
      const probe = (identity: string): number => {
        // What a fresh subscriber is replayed: the GOP caches' real contents,
        // checked against the relay's own accounting below.
        const { id } = relay.subscribe(S, identity, plainSealer(), now, { trusted: true })
        const bytes = relay.queuedBytes(id)
        relay.unsubscribe(id)
        return bytes
      }
      const forward = (identity: string, track: number, keyframe: boolean, size: number): void => {
        const sequence = seq.get(track) ?? 0
        seq.set(track, sequence + 1)
        const chunk = makeChunk(S, { track, sequence, keyframe, size })
        const expectCode = model.forward(identity, track)
        let delivered: number[]
        try {
          delivered = relay.forward(S, identity, chunk, now).delivered
        } catch (err) {
          expect((err as FabricError).code).toBe(expectCode)
          if (expectCode === 'QUOTA_EXCEEDED') refusedQuota++
          return
        }
        expect(expectCode).toBeUndefined()
        relayed++
        const want: number[] = []
        for (const s of live) {
          if (s.who === identity) continue
          if (s.waiting.has(track)) {
            if (!keyframe) { skippedWaits++; continue }
            s.waiting.delete(track)
          }
          want.push(s.id)
          s.expected.push(chunk)
        }
        expect(delivered.sort()).toEqual(want.sort())
      }
      const drain = (s: LiveSub): void => {
        expect(takePlain(relay, s.id)).toEqual(s.expected)
        s.expected = []
      }
      const dropSubsOf = (identity: string): void => {
        for (let i = live.length - 1; i >= 0; i--) if (live[i].who === identity) live.splice(i, 1)
      }

      for (const op of ops) {
        switch (op.kind) {
          case 'leaf':
            relay.setPublisherLeaf(S, MEMBERS[op.who], op.leaf)
            model.setLeaf(MEMBERS[op.who], op.leaf)
            break
          case 'subscribe': {
            const identity = MEMBERS[op.who]
            const counts = model.subs.get(identity) ?? { plain: 0, trusted: 0 }
            const full = op.trusted ? counts.trusted >= CFG.maxTrustedSubscriptionsPerIdentity! : counts.plain >= CFG.maxSubscriptionsPerIdentity!
            let sub: { id: number }
            try {
              sub = relay.subscribe(S, identity, plainSealer(), now, { trusted: op.trusted })
            } catch (err) {
              expect((err as FabricError).code).toBe('QUOTA_EXCEEDED')
              expect(full).toBe(true)
              refusedQuota++
              break
            }
            expect(full).toBe(false)
            if (op.trusted) counts.trusted++
            else counts.plain++
            model.subs.set(identity, counts)
            // The replayed GOPs: each track's starts at its keyframe; every
            // other track of someone else waits for its next keyframe.
            const replayed = takePlain(relay, sub.id)
            const seen = new Set<number>()
            for (const c of replayed) {
              const t = chunkTrack(c)
              if (!seen.has(t)) expect(chunkIsKeyframe(c)).toBe(true)
              seen.add(t)
              expect(model.owner.get(t)).not.toBe(identity)
            }
            const waiting = new Set<number>()
            for (const [t, o] of model.owner) if (o !== identity && !seen.has(t)) waiting.add(t)
            live.push({ id: sub.id, who: identity, trusted: op.trusted, waiting, expected: [] })
            break
          }
          case 'unsubscribe': {
            if (live.length === 0) break
            const [s] = live.splice(op.pick % live.length, 1)
            relay.unsubscribe(s.id)
            const counts = model.subs.get(s.who)!
            if (s.trusted) counts.trusted--
            else counts.plain--
            break
          }
          case 'forward': {
            const identity = MEMBERS[op.who]
            const own = model.leaf.get(identity)
            const leaf = op.ownLeaf && typeof own === 'number' ? own : op.leaf
            forward(identity, makeTrack(leaf, op.context), op.keyframe, op.size)
            break
          }
          case 'upstream':
            forward(UPSTREAM, makeTrack(op.leaf, op.context), op.keyframe, op.size)
            break
          case 'take':
            if (live.length > 0) drain(live[op.pick % live.length])
            break
          case 'release':
            relay.releasePublisher(S, MEMBERS[op.who])
            model.forget(MEMBERS[op.who])
            break
          case 'remove':
            relay.removeMember(S, MEMBERS[op.who])
            model.forget(MEMBERS[op.who])
            model.subs.delete(MEMBERS[op.who])
            dropSubsOf(MEMBERS[op.who])
            break
          case 'epoch':
            relay.epochChanged(S)
            break
          case 'tick':
            now += op.ms
            break
        }

        const { streams, publishers } = relay.stats()
        const st = streams[0]
        expect(st.gopCacheBytes).toBeLessThanOrEqual(CFG.gopCacheBytesPerStream!)
        expect(st.gopCacheBytes).toBe(publishers.reduce((n, p) => n + p.gopCacheBytes, 0))
        expect(st.tracks).toBe(model.owner.size)
        expect(probe('probe')).toBe(st.gopCacheBytes)
        for (const p of publishers) {
          expect(p.tracks).toBe(model.tracksOf(p.identity))
          if (!p.upstream) expect(p.gopCacheBytes).toBeLessThanOrEqual(CFG.gopCacheBytesPerPublisher!)
          // A subscriber with the publisher's identity is replayed everything
          // but its own tracks (when its trusted quota leaves room for one).
          if (p.identity !== UPSTREAM && (model.subs.get(p.identity)?.trusted ?? 0) < CFG.maxTrustedSubscriptionsPerIdentity!) expect(st.gopCacheBytes - probe(p.identity)).toBe(p.gopCacheBytes)
        }
      }
      evictions += relay.stats().streams[0].gopEvictions
      for (const s of live) drain(s)
      for (const m of MEMBERS) relay.releasePublisher(S, m)
      relay.releasePublisher(S, UPSTREAM)
      expect(relay.stats().streams[0]).toMatchObject({ tracks: 0, gopCacheBytes: 0, publishers: 0 })
    }), { numRuns: 120 })
    // The runs did relay, hit the budgets and the caps, and made subscribers wait for keyframes.
    expect(relayed).toBeGreaterThan(500)
    expect(evictions).toBeGreaterThan(0)
    expect(refusedQuota).toBeGreaterThan(0)
    expect(skippedWaits).toBeGreaterThan(0)
  })
})

it('DEFAULT_RELAY_CONFIG carries every cap and budget', () => {
  expect(DEFAULT_RELAY_CONFIG).toMatchObject({
    maxTracksPerPublisher: 8,
    maxTracksPerStream: 1024,
    maxSubscriptionsPerIdentity: 4,
    maxTrustedSubscriptionsPerIdentity: 4096,
    gopCacheBytesPerPublisher: 8 * MiB,
    gopCacheBytesPerStream: 64 * MiB,
  })
})
