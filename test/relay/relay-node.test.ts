import fc from 'fast-check'
import { describe, expect, it } from 'vitest'
import { AuthenticationError, FabricError } from '../../src/errors.js'
import { RelayNode, type KeyframeRequest, type RelayConfig } from '../../src/relay/relay-node.js'
import { LINK_SEAL_OVERHEAD } from '../../src/crypto/link-seal.js'
import { chunkIsKeyframe, chunkSequence, chunkStreamTag, chunkTrack } from '../../src/wire/chunk.js'
import { MAX_CHUNK_PAYLOAD } from '../../src/wire/limits.js'
import { streamTag } from '../../src/wire/stream-tag.js'
import { makeTrack, trackLeafIndex, TrackContext } from '../../src/wire/track.js'
import { hex, linkSequence, makeChunk, makeLink, unframe, wireSize, type Link } from './helpers.js'

const S = 'owner/room-1'
const ALICE = 'alice'
const BOB = 'bob'
const CAROL = 'carol'
const ALICE_VIDEO = makeTrack(0, TrackContext.video)
const ALICE_AUDIO = makeTrack(0, TrackContext.audio)
const BOB_VIDEO = makeTrack(1, TrackContext.video)

interface Sub extends Link { id: number, identity: string }

/** MLS leaf of each member of the usual cast: their tracks name these leaves. */
const LEAVES: ReadonlyArray<[string, number]> = [[ALICE, 0], [BOB, 1], [CAROL, 2]]

/** A relay with `stream` open, alice, bob and carol publishing-ready at leaves 0, 1, 2. */
function relayWith (config: Partial<RelayConfig> = {}, stream = S): RelayNode {
  const relay = new RelayNode(config)
  openWithLeaves(relay, stream)
  return relay
}

function openWithLeaves (relay: RelayNode, stream: string): void {
  relay.openStream(stream)
  for (const [identity, leaf] of LEAVES) relay.setPublisherLeaf(stream, identity, leaf)
}

function subscribe (relay: RelayNode, identity: string, nowMs = 0, stream = S): Sub & { keyframeRequests: KeyframeRequest[] } {
  const link = makeLink(stream)
  const { id, keyframeRequests } = relay.subscribe(stream, identity, link.sealer, nowMs)
  return { ...link, id, identity, keyframeRequests }
}

/** Takes everything queued for `sub` and opens it with its own opener. */
function receive (relay: RelayNode, sub: Sub): Uint8Array[] {
  return relay.take(sub.id).map((sealed) => sub.opener.open(unframe(sealed)))
}

function expectFabricCode (f: () => unknown, code: string): void {
  let thrown: unknown
  try { f() } catch (err) { thrown = err }
  expect(thrown).toBeInstanceOf(FabricError)
  expect((thrown as FabricError).code).toBe(code)
}

describe('RelayNode: fan-out and link seals', () => {
  it('seals each chunk once per other subscriber, and each opens only with its own subscriber\'s key', () => {
    const relay = relayWith()
    const alice = subscribe(relay, ALICE)
    const bob = subscribe(relay, BOB)
    const carol = subscribe(relay, CAROL)
    const chunk = makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true, size: 200 })

    const r = relay.forward(S, ALICE, chunk, 0)
    expect(r.delivered.sort()).toEqual([bob.id, carol.id].sort())
    expect(r.dropped).toBe(0)
    // forward only queues a reference to the chunk: nothing is sealed yet,
    // and the queues count the raw chunk bytes.
    expect([alice.sealer.seals, bob.sealer.seals, carol.sealer.seals]).toEqual([0, 0, 0])
    expect(relay.queuedBytes(bob.id)).toBe(chunk.byteLength)
    expect(relay.queuedBytes(carol.id)).toBe(chunk.byteLength)
    expect(relay.queuedBytes(alice.id)).toBe(0)

    const bobFrames = relay.take(bob.id)
    const carolFrames = relay.take(carol.id)
    expect(bobFrames).toHaveLength(1)
    expect(carolFrames).toHaveLength(1)
    // take seals once per frame, with the taking subscriber's sealer only.
    expect(alice.sealer.seals).toBe(0)
    expect(bob.sealer.seals).toBe(1)
    expect(carol.sealer.seals).toBe(1)
    expect(relay.take(alice.id)).toEqual([])
    expect(relay.take(bob.id)).toEqual([])
    expect([alice.sealer.seals, bob.sealer.seals, carol.sealer.seals]).toEqual([0, 1, 1])
    const [forBobFrame] = bobFrames
    const [forCarolFrame] = carolFrames
    // On the wire: varint prefix || header || ciphertext || tag.
    expect(forBobFrame.byteLength).toBe(wireSize(chunk.byteLength))
    const forBob = unframe(forBobFrame)
    const forCarol = unframe(forCarolFrame)
    expect(forBob.byteLength).toBe(chunk.byteLength + LINK_SEAL_OVERHEAD)
    expect(hex(forBob)).not.toBe(hex(forCarol))
    // Neither subscriber can open the other's frame...
    expect(() => carol.opener.open(forBob)).toThrow(AuthenticationError)
    expect(() => bob.opener.open(forCarol)).toThrow(AuthenticationError)
    // ...and each gets the publisher's exact bytes from its own.
    expect(hex(bob.opener.open(forBob))).toBe(hex(chunk))
    expect(hex(carol.opener.open(forCarol))).toBe(hex(chunk))
  })

  it('never hands a publisher its own chunks', () => {
    const relay = relayWith()
    const alice = subscribe(relay, ALICE)
    const bob = subscribe(relay, BOB)
    for (let i = 0; i < 5; i++) relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: i, keyframe: i === 0 }), i)
    relay.forward(S, BOB, makeChunk(S, { track: BOB_VIDEO, sequence: 0, keyframe: true }), 5)
    const toAlice = receive(relay, alice)
    expect(toAlice.map((c) => chunkTrack(c))).toEqual([BOB_VIDEO])
    expect(receive(relay, bob).map((c) => chunkSequence(c))).toEqual([0, 1, 2, 3, 4])
    expect(relay.stats().subscribers.find((s) => s.id === alice.id)?.forwarded).toBe(1)
  })

  it('gives successive frames strictly increasing link sequences per subscriber', () => {
    const relay = relayWith()
    const bob = subscribe(relay, BOB)
    for (let i = 0; i < 10; i++) relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: i, keyframe: i === 0 }), i)
    const seqs = relay.take(bob.id).map(linkSequence)
    expect(seqs).toEqual(Array.from({ length: 10 }, (_, i) => BigInt(i)))
  })

  it('refuses a stream that is not open, and opening is idempotent', () => {
    const relay = new RelayNode()
    expect(relay.hasStream(S)).toBe(false)
    expectFabricCode(() => relay.subscribe(S, BOB, makeLink(S).sealer, 0), 'NOT_FOUND')
    expectFabricCode(() => relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0), 'NOT_FOUND')
    openWithLeaves(relay, S)
    const bob = subscribe(relay, BOB)
    relay.openStream(S)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0)
    expect(relay.take(bob.id)).toHaveLength(1)
  })

  it('keeps streams apart: a subscriber of one stream gets nothing of another', () => {
    const relay = relayWith()
    openWithLeaves(relay, 'owner/room-2')
    const bob1 = subscribe(relay, BOB, 0, S)
    const bob2 = subscribe(relay, BOB, 0, 'owner/room-2')
    relay.forward('owner/room-2', ALICE, makeChunk('owner/room-2', { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0)
    expect(relay.take(bob1.id)).toEqual([])
    const got = receive(relay, bob2)
    expect(got).toHaveLength(1)
    expect(chunkStreamTag(got[0])).toBe(streamTag('owner/room-2'))
  })
})

describe('RelayNode: late subscribers', () => {
  it('a late subscriber first gets each other track\'s cached GOP, starting at its keyframe', () => {
    const relay = relayWith()
    const chunks = {
      aliceVideo: [
        makeChunk(S, { track: ALICE_VIDEO, sequence: 0 }), // before any keyframe: not cached
        makeChunk(S, { track: ALICE_VIDEO, sequence: 1, keyframe: true }),
        makeChunk(S, { track: ALICE_VIDEO, sequence: 2 }),
        makeChunk(S, { track: ALICE_VIDEO, sequence: 3, keyframe: true }),
        makeChunk(S, { track: ALICE_VIDEO, sequence: 4 }),
        makeChunk(S, { track: ALICE_VIDEO, sequence: 5, discardable: true }),
      ],
      aliceAudio: [
        makeChunk(S, { track: ALICE_AUDIO, sequence: 0, keyframe: true }),
        makeChunk(S, { track: ALICE_AUDIO, sequence: 1 }),
      ],
      bobVideo: [
        makeChunk(S, { track: BOB_VIDEO, sequence: 0, keyframe: true }),
        makeChunk(S, { track: BOB_VIDEO, sequence: 1 }),
      ],
    }
    let t = 0
    for (const c of chunks.aliceVideo) relay.forward(S, ALICE, c, t++)
    for (const c of chunks.aliceAudio) relay.forward(S, ALICE, c, t++)
    for (const c of chunks.bobVideo) relay.forward(S, BOB, c, t++)

    const bob = subscribe(relay, BOB, t)
    expect(bob.keyframeRequests).toEqual([])
    const got = receive(relay, bob)
    // Bob's own track is not replayed to him.
    expect(got.every((c) => trackLeafIndex(chunkTrack(c)) !== 1)).toBe(true)
    const video = got.filter((c) => chunkTrack(c) === ALICE_VIDEO)
    const audio = got.filter((c) => chunkTrack(c) === ALICE_AUDIO)
    expect(video.map(hex)).toEqual(chunks.aliceVideo.slice(3).map(hex))
    expect(audio.map(hex)).toEqual(chunks.aliceAudio.map(hex))
    expect(chunkIsKeyframe(video[0])).toBe(true)
    expect(chunkIsKeyframe(audio[0])).toBe(true)

    // Live frames follow the GOP.
    const next = makeChunk(S, { track: ALICE_VIDEO, sequence: 6 })
    relay.forward(S, ALICE, next, t++)
    expect(receive(relay, bob).map(hex)).toEqual([hex(next)])

    // Alice, subscribing late too, gets Bob's GOP only.
    const alice = subscribe(relay, ALICE, t)
    expect(receive(relay, alice).map(hex)).toEqual(chunks.bobVideo.map(hex))
  })

  it('a late subscriber asks for a keyframe of each track that has no usable GOP', () => {
    const relay = relayWith({ keyframeRequestIntervalMs: 1000 })
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0 }), 0)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_AUDIO, sequence: 0, keyframe: true }), 0)
    const bob = subscribe(relay, BOB, 10)
    expect(bob.keyframeRequests).toEqual([{ stream: S, track: ALICE_VIDEO, publisher: ALICE }])
    // Audio's GOP came instead of a request.
    expect(receive(relay, bob).map((c) => chunkTrack(c))).toEqual([ALICE_AUDIO])
    // A second late subscriber within the interval: throttled.
    expect(subscribe(relay, CAROL, 500).keyframeRequests).toEqual([])
    expect(subscribe(relay, 'dave', 1010).keyframeRequests).toEqual([{ stream: S, track: ALICE_VIDEO, publisher: ALICE }])
  })

  it('the deltas before a late subscriber\'s first keyframe are skipped, not dropped', () => {
    const relay = relayWith()
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0 }), 0)
    const bob = subscribe(relay, BOB, 1)
    const delta = relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 1 }), 2)
    expect(delta.delivered).toEqual([])
    expect(delta.dropped).toBe(0)
    const key = makeChunk(S, { track: ALICE_VIDEO, sequence: 2, keyframe: true })
    expect(relay.forward(S, ALICE, key, 3).delivered).toEqual([bob.id])
    expect(receive(relay, bob).map(hex)).toEqual([hex(key)])
    expect(relay.stats().subscribers[0]).toMatchObject({ queued: 1, dropped: 0, overflows: 0, skipped: 1 })
  })

  it('epochChanged clears every GOP: later subscribers get nothing old, and caching resumes at the next keyframe', () => {
    const relay = relayWith({ keyframeRequestIntervalMs: 0 })
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 1 }), 0)
    relay.forward(S, BOB, makeChunk(S, { track: BOB_VIDEO, sequence: 0, keyframe: true }), 0)
    const early = subscribe(relay, CAROL, 0)
    expect(receive(relay, early)).toHaveLength(3)

    relay.epochChanged(S)
    relay.epochChanged('no-such-stream')
    const late = subscribe(relay, 'dave', 1)
    expect(relay.take(late.id)).toEqual([])
    expect(late.keyframeRequests.map((r) => r.track).sort()).toEqual([ALICE_VIDEO, BOB_VIDEO].sort())
    // The subscribers already there are untouched by the epoch change.
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 2 }), 2)
    expect(receive(relay, early)).toHaveLength(1)
    // A delta after the change is not cached; the next keyframe starts a GOP.
    expect(subscribe(relay, 'erin', 3).keyframeRequests.map((r) => r.track)).toContain(ALICE_VIDEO)
    const k = makeChunk(S, { track: ALICE_VIDEO, sequence: 3, keyframe: true })
    relay.forward(S, ALICE, k, 4)
    const later = subscribe(relay, 'frank', 5)
    expect(receive(relay, later).map(hex)).toEqual([hex(k)])
  })
})

describe('RelayNode: leaving', () => {
  it('unsubscribe stops delivery at once and frees the queue', () => {
    const relay = relayWith()
    const bob = subscribe(relay, BOB)
    const carol = subscribe(relay, CAROL)
    const first = makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true })
    relay.forward(S, ALICE, first, 0)
    expect(relay.queuedBytes(bob.id)).toBe(first.byteLength)
    expect(bob.sealer.seals).toBe(0)
    relay.unsubscribe(bob.id)
    relay.unsubscribe(bob.id) // twice is harmless
    relay.unsubscribe(9999)
    expect(relay.queuedBytes(bob.id)).toBe(0)
    expect(relay.take(bob.id)).toEqual([])
    expect(relay.subscriber(bob.id)).toBeUndefined()
    const r = relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 1 }), 1)
    expect(r.delivered).toEqual([carol.id])
    expect(relay.take(bob.id)).toEqual([])
    // Bob's discarded queue was never sealed, nor was anything after he left.
    expect(bob.sealer.seals).toBe(0)
    expect(relay.stats().streams[0].subscribers).toBe(1)
    expect(receive(relay, carol).map(chunkSequence)).toEqual([0, 1])
    expect(carol.sealer.seals).toBe(2)
  })

  it('removeMember drops every subscription of that identity on that stream only', () => {
    const relay = relayWith()
    relay.openStream('owner/room-2')
    const bob1 = subscribe(relay, BOB)
    const bob2 = subscribe(relay, BOB)
    const bobElsewhere = subscribe(relay, BOB, 0, 'owner/room-2')
    const carol = subscribe(relay, CAROL)
    expect(relay.removeMember(S, BOB).sort()).toEqual([bob1.id, bob2.id].sort())
    expect(relay.removeMember('no-such-stream', BOB)).toEqual([])
    const r = relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0)
    expect(r.delivered).toEqual([carol.id])
    expect(relay.take(bob1.id)).toEqual([])
    expect(relay.take(bob2.id)).toEqual([])
    expect(relay.subscriber(bobElsewhere.id)).toEqual({ stream: 'owner/room-2', identity: BOB })
  })

  it('removeMember frees the removed publisher\'s tracks for the member that takes over its MLS leaf', () => {
    const relay = relayWith()
    const carol = subscribe(relay, CAROL)
    relay.forward(S, BOB, makeChunk(S, { track: BOB_VIDEO, sequence: 0, keyframe: true }), 0)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0)
    relay.take(carol.id)
    relay.removeMember(S, BOB)
    relay.epochChanged(S)
    // Dave was added at Bob's blank leaf 1, so his camera is track 256 too.
    relay.setPublisherLeaf(S, 'dave', 1)
    const daves = makeChunk(S, { track: BOB_VIDEO, sequence: 0, keyframe: true })
    expect(relay.forward(S, 'dave', daves, 1).delivered).toEqual([carol.id])
    expect(receive(relay, carol).map(hex)).toEqual([hex(daves)])
    // Alice's track is still hers alone (and names a leaf that is not Dave's).
    expectFabricCode(() => relay.forward(S, 'dave', makeChunk(S, { track: ALICE_VIDEO, sequence: 1 }), 2), 'MALFORMED')
  })

  it('closeStream drops its subscribers and refuses further chunks', () => {
    const relay = relayWith()
    const bob = subscribe(relay, BOB)
    expect(relay.closeStream(S)).toEqual([bob.id])
    expect(relay.closeStream(S)).toEqual([])
    expect(relay.hasStream(S)).toBe(false)
    expect(relay.subscriber(bob.id)).toBeUndefined()
    expectFabricCode(() => relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0), 'NOT_FOUND')
  })
})

describe('RelayNode: bad chunks', () => {
  const good = (): Uint8Array => makeChunk(S, { track: ALICE_VIDEO, sequence: 9, keyframe: true, size: 100 })
  const patched = (offset: number, value: number): Uint8Array => {
    const c = good()
    c[offset] = value
    return c
  }
  const cases: Array<[string, () => Uint8Array, string]> = [
    ['a chunk of another stream (wrong stream tag)', () => makeChunk('owner/other-room', { track: ALICE_VIDEO, sequence: 9, keyframe: true }), 'MALFORMED'],
    ['an unknown metadata version', () => patched(0, 2), 'UNSUPPORTED_VERSION'],
    ['a chunk truncated inside its metadata', () => good().slice(0, 20), 'MALFORMED'],
    ['a chunk with metadata but no payload', () => good().slice(0, 28), 'MALFORMED'],
    ['an empty chunk', () => new Uint8Array(0), 'MALFORMED'],
    ['unknown flag bits', () => patched(1, 0x80), 'MALFORMED'],
    ['keyframe and discardable at once', () => patched(1, 0x03), 'MALFORMED'],
    ['a non-zero reserved byte', () => patched(3, 1), 'MALFORMED'],
    ['a payload above the 1 MiB bound', () => {
      const c = new Uint8Array(28 + MAX_CHUNK_PAYLOAD + 1)
      c.set(good().subarray(0, 28))
      return c
    }, 'TOO_LARGE'],
  ]

  it.each(cases)('refuses %s with a typed error and leaves every subscriber untouched', (_what, bad, code) => {
    const relay = relayWith()
    const bob = subscribe(relay, BOB)
    const carol = subscribe(relay, CAROL)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0)
    relay.take(carol.id) // carol is drained, bob has one frame waiting
    const before = relay.stats()
    const seqBefore = [bob.sealer.inner.nextSequence, carol.sealer.inner.nextSequence]

    expectFabricCode(() => relay.forward(S, ALICE, bad(), 1), code)

    const after = relay.stats()
    expect(after.subscribers).toEqual(before.subscribers)
    expect([bob.sealer.inner.nextSequence, carol.sealer.inner.nextSequence]).toEqual(seqBefore)
    expect(after.streams[0]).toEqual({ ...before.streams[0], rejected: before.streams[0].rejected + 1 })
    expect(receive(relay, bob).map(chunkSequence)).toEqual([0])
    expect(relay.take(carol.id)).toEqual([])
    // The stream carries on.
    const r = relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 1 }), 2)
    expect(r.delivered.sort()).toEqual([bob.id, carol.id].sort())
  })

  it('refuses a chunk on a track of another publisher\'s leaf, leaving subscribers untouched', () => {
    const relay = relayWith()
    const carol = subscribe(relay, CAROL)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0)
    const before = relay.stats()
    expectFabricCode(() => relay.forward(S, BOB, makeChunk(S, { track: ALICE_VIDEO, sequence: 1, keyframe: true }), 1), 'MALFORMED')
    const after = relay.stats()
    expect(after.subscribers).toEqual(before.subscribers)
    expect(after.streams[0].rejected).toBe(1)
    expect(after.streams[0].chunksIn).toBe(1)
    expect(relay.queuedBytes(carol.id)).toBe(before.subscribers[0].queuedBytes)
    expect(carol.sealer.seals).toBe(0)
    // Carol's queue holds the rightful chunk only: one take, one seal.
    expect(receive(relay, carol).map(chunkSequence)).toEqual([0])
    expect(carol.sealer.seals).toBe(1)
    // The rightful publisher goes on, and the impostor's chunk is not in the GOP.
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 1 }), 2)
    const late = subscribe(relay, 'dave', 3)
    expect(receive(relay, late).map(chunkSequence)).toEqual([0, 1])
  })

  it('does not count a refused chunk as delivered when the publisher has no subscribers', () => {
    const relay = relayWith()
    expect(() => relay.forward(S, ALICE, new Uint8Array([1, 2, 3]), 0)).toThrow(FabricError)
    expect(relay.stats().streams[0]).toMatchObject({ chunksIn: 0, bytesIn: 0, rejected: 1, tracks: 0 })
  })
})

describe('RelayNode: slow subscribers', () => {
  it('a stalled subscriber is bounded and drops until a keyframe while another gets every chunk', () => {
    const queueBytes = 8 * 1024
    const interval = 500
    const relay = relayWith({ subscriberQueueBytes: queueBytes, subscriberQueueFrames: 1024, keyframeRequestIntervalMs: interval })
    const taker = subscribe(relay, BOB)
    const stalled = subscribe(relay, CAROL)
    const sent: Uint8Array[] = []
    const requests: Array<KeyframeRequest & { at: number }> = []
    let droppedInResults = 0
    let stalledMissed = 0
    const got: Uint8Array[] = []
    for (let i = 0; i < 300; i++) {
      const now = i * 20
      const c = makeChunk(S, { track: ALICE_VIDEO, sequence: i, keyframe: i % 30 === 0, size: 400 })
      sent.push(c)
      const r = relay.forward(S, ALICE, c, now)
      expect(r.delivered).toContain(taker.id)
      if (!r.delivered.includes(stalled.id)) stalledMissed++
      droppedInResults += r.dropped
      for (const q of r.keyframeRequests) requests.push({ ...q, at: now })
      got.push(...receive(relay, taker))
      expect(relay.queuedBytes(stalled.id)).toBeLessThanOrEqual(queueBytes)
    }
    // The taker got every chunk, in order, byte for byte.
    expect(got.map(hex)).toEqual(sent.map(hex))

    const stats = relay.stats().subscribers
    const st = stats.find((s) => s.id === stalled.id)!
    const tk = stats.find((s) => s.id === taker.id)!
    expect(tk).toMatchObject({ forwarded: 300, dropped: 0, overflows: 0, queuedBytes: 0 })
    expect(droppedInResults).toBe(stalledMissed)
    expect(stalledMissed).toBeGreaterThan(0)
    // Dropped counts refused frames and the ones a keyframe evicted.
    expect(st.dropped).toBeGreaterThanOrEqual(stalledMissed)
    expect(st.overflows).toBeGreaterThan(0)
    expect(st.queuedBytes).toBeLessThanOrEqual(queueBytes)
    // The taker's frames were sealed as taken, one seal each; the stalled
    // subscriber took nothing, so nothing was sealed for it, dropped or not.
    expect(taker.sealer.seals).toBe(300)
    expect(stalled.sealer.seals).toBe(0)
    expect(st.forwarded).toBe(0)

    // Keyframe requests went out, for the right track and publisher, at most one per interval.
    expect(requests.length).toBeGreaterThan(0)
    for (const q of requests) expect(q).toMatchObject({ stream: S, track: ALICE_VIDEO, publisher: ALICE })
    for (let i = 1; i < requests.length; i++) expect(requests[i].at - requests[i - 1].at).toBeGreaterThanOrEqual(interval)
    expect(requests.length).toBeLessThanOrEqual(Math.floor(299 * 20 / interval) + 1)

    // What the stalled subscriber finally reads is decodable: it starts at a
    // keyframe and every gap in the track is followed by a keyframe.
    const late = receive(relay, stalled)
    expect(late.length).toBeGreaterThan(0)
    // Only what survived the policy is sealed: exactly the frames taken.
    expect(stalled.sealer.seals).toBe(late.length)
    expect(relay.stats().subscribers.find((s) => s.id === stalled.id)).toMatchObject({ forwarded: late.length, queuedBytes: 0 })
    expect(late.length + st.dropped).toBe(300)
    expect(chunkIsKeyframe(late[0])).toBe(true)
    for (let i = 1; i < late.length; i++) {
      if (chunkSequence(late[i]) !== chunkSequence(late[i - 1]) + 1) expect(chunkIsKeyframe(late[i])).toBe(true)
    }
    for (const c of late) expect(sent.map(hex)).toContain(hex(c))
  })

  it('one track\'s overflow does not stop another track of the same subscriber', () => {
    // Raw chunk bytes: 1528 + 628 > 2000 >= 1528 + 78.
    const relay = relayWith({ subscriberQueueBytes: 2000, keyframeRequestIntervalMs: 0 })
    const bob = subscribe(relay, BOB)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true, size: 1500 }), 0)
    const r = relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 1, size: 600 }), 1)
    expect(r.delivered).toEqual([])
    expect(r.dropped).toBe(1)
    expect(r.keyframeRequests).toEqual([{ stream: S, track: ALICE_VIDEO, publisher: ALICE }])
    expect(relay.forward(S, ALICE, makeChunk(S, { track: ALICE_AUDIO, sequence: 0, size: 50 }), 2).delivered).toEqual([bob.id])
    expect(bob.sealer.seals).toBe(0)
    const first = relay.take(bob.id).map((f) => bob.opener.open(unframe(f)))
    expect(first.map((c) => [chunkTrack(c), chunkSequence(c)])).toEqual([[ALICE_VIDEO, 0], [ALICE_AUDIO, 0]])
    // The delta dropped for lack of room was never sealed.
    expect(bob.sealer.seals).toBe(2)
    // Room is back, but video still waits for its keyframe; audio flows.
    const v = relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 2, size: 50 }), 3)
    expect(v.delivered).toEqual([])
    expect(v.dropped).toBe(1)
    expect(relay.forward(S, ALICE, makeChunk(S, { track: ALICE_AUDIO, sequence: 1, size: 50 }), 4).delivered).toEqual([bob.id])
    expect(relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 3, keyframe: true, size: 50 }), 5).delivered).toEqual([bob.id])
    expect(bob.sealer.seals).toBe(2)
    const second = relay.take(bob.id).map((f) => bob.opener.open(unframe(f)))
    expect(second.map((c) => [chunkTrack(c), chunkSequence(c)])).toEqual([[ALICE_AUDIO, 1], [ALICE_VIDEO, 3]])
    // A refused frame is never sealed: no link sequence is spent on it.
    expect(bob.sealer.seals).toBe(4)
    expect(relay.stats().subscribers[0]).toMatchObject({ forwarded: 4, queued: 4, dropped: 2, overflows: 1, queuedBytes: 0 })
  })
})

describe('RelayNode: keyframe requests', () => {
  it('requestKeyframe is throttled per track and ignores unknown subscribers and tracks', () => {
    const relay = relayWith({ keyframeRequestIntervalMs: 500 })
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true }), 0)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_AUDIO, sequence: 0, keyframe: true }), 0)
    const bob = subscribe(relay, BOB)
    const carol = subscribe(relay, CAROL)
    expect(relay.requestKeyframe(bob.id, ALICE_VIDEO, 1000)).toEqual({ stream: S, track: ALICE_VIDEO, publisher: ALICE })
    expect(relay.requestKeyframe(bob.id, ALICE_VIDEO, 1200)).toBeUndefined()
    // The throttle is the track's, whoever asks.
    expect(relay.requestKeyframe(carol.id, ALICE_VIDEO, 1499)).toBeUndefined()
    expect(relay.requestKeyframe(carol.id, ALICE_AUDIO, 1499)).toEqual({ stream: S, track: ALICE_AUDIO, publisher: ALICE })
    expect(relay.requestKeyframe(carol.id, ALICE_VIDEO, 1500)).toEqual({ stream: S, track: ALICE_VIDEO, publisher: ALICE })
    expect(relay.requestKeyframe(9999, ALICE_VIDEO, 5000)).toBeUndefined()
    expect(relay.requestKeyframe(bob.id, BOB_VIDEO, 5000)).toBeUndefined()
  })

  it('requests from drops and from subscribers share one throttle per track', () => {
    const relay = relayWith({ subscriberQueueBytes: 500, keyframeRequestIntervalMs: 100 })
    const bob = subscribe(relay, BOB)
    relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true, size: 400 }), 0)
    expect(relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 1, size: 400 }), 10).keyframeRequests).toHaveLength(1)
    expect(relay.requestKeyframe(bob.id, ALICE_VIDEO, 50)).toBeUndefined()
    expect(relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 2, size: 400 }), 109).keyframeRequests).toHaveLength(0)
    expect(relay.forward(S, ALICE, makeChunk(S, { track: ALICE_VIDEO, sequence: 3, size: 400 }), 110).keyframeRequests).toHaveLength(1)
  })
})

describe('RelayNode: stats', () => {
  it('reports stream and subscriber counters that match what happened', () => {
    // 2 x 328 <= 700 < 3 x 328 raw chunk bytes (sealed, 2 x 358 would not fit).
    const relay = relayWith({ subscriberQueueBytes: 700 })
    const bob = subscribe(relay, BOB)
    const carol = subscribe(relay, CAROL)
    const c1 = makeChunk(S, { track: ALICE_VIDEO, sequence: 0, keyframe: true, size: 300 })
    const c2 = makeChunk(S, { track: ALICE_VIDEO, sequence: 1, size: 300 })
    const c3 = makeChunk(S, { track: ALICE_VIDEO, sequence: 2, size: 300 })
    let bobTakenBytes = 0
    relay.forward(S, ALICE, c1, 0)
    for (const f of relay.take(bob.id)) bobTakenBytes += f.byteLength
    relay.forward(S, ALICE, c2, 1)
    for (const f of relay.take(bob.id)) bobTakenBytes += f.byteLength
    relay.forward(S, ALICE, c3, 2) // carol: 3 x 328 > 700, third chunk dropped
    try { relay.forward(S, ALICE, new Uint8Array(5), 3) } catch {}

    const { streams, subscribers } = relay.stats()
    expect(streams).toEqual([{
      stream: S, subscribers: 2, chunksIn: 3, bytesIn: c1.byteLength + c2.byteLength + c3.byteLength, rejected: 1, tracks: 1,
      publishers: 3, gopCacheBytes: c1.byteLength + c2.byteLength + c3.byteLength, gopEvictions: 0, takeovers: 0,
      quotaRefusals: { publisherTracks: 0, streamTracks: 0, subscriptions: 0, trustedSubscriptions: 0 },
      ownershipRefusals: { noLeaf: 0, otherLeaf: 0, otherPublisher: 0 },
    }])
    // Queue bounds and queue counters count raw chunk bytes (28-byte metadata + 300);
    // forwarded counts sealed frames taken, in wire bytes: 2-byte prefix + chunk + 28.
    const raw = c1.byteLength
    expect(raw).toBe(328)
    const sealed = wireSize(raw)
    expect(sealed).toBe(358)
    expect(bobTakenBytes).toBe(2 * sealed)
    expect(subscribers.find((s) => s.id === bob.id)).toEqual({
      id: bob.id, stream: S, identity: BOB, forwarded: 2, forwardedBytes: 2 * sealed, queuedBytes: raw,
      queued: 3, dropped: 0, droppedBytes: 0, overflows: 0, skipped: 0,
    })
    expect(subscribers.find((s) => s.id === carol.id)).toEqual({
      id: carol.id, stream: S, identity: CAROL, forwarded: 0, forwardedBytes: 0, queuedBytes: 2 * raw,
      queued: 2, dropped: 1, droppedBytes: raw, overflows: 1, skipped: 0,
    })
    expect(relay.queuedBytes(carol.id)).toBe(2 * raw)
    expect(relay.queuedBytes(12345)).toBe(0)
    expect([bob.sealer.seals, carol.sealer.seals]).toEqual([2, 0])

    // forwarded / forwardedBytes advance as frames are taken (and sealed).
    const bobLast = relay.take(bob.id)
    const carolAll = relay.take(carol.id)
    expect(bobLast.map((f) => f.byteLength)).toEqual([sealed])
    expect(carolAll.map((f) => f.byteLength)).toEqual([sealed, sealed])
    expect(carolAll.map((f) => hex(carol.opener.open(unframe(f))))).toEqual([hex(c1), hex(c2)])
    // The chunk dropped for carol was never sealed.
    expect([bob.sealer.seals, carol.sealer.seals]).toEqual([3, 2])
    const after = relay.stats().subscribers
    expect(after.find((s) => s.id === bob.id)).toEqual({
      id: bob.id, stream: S, identity: BOB, forwarded: 3, forwardedBytes: 3 * sealed, queuedBytes: 0,
      queued: 3, dropped: 0, droppedBytes: 0, overflows: 0, skipped: 0,
    })
    expect(after.find((s) => s.id === carol.id)).toEqual({
      id: carol.id, stream: S, identity: CAROL, forwarded: 2, forwardedBytes: 2 * sealed, queuedBytes: 0,
      queued: 2, dropped: 1, droppedBytes: raw, overflows: 1, skipped: 0,
    })
    expect(relay.queuedBytes(carol.id)).toBe(0)
  })
})

type Op =
  | { kind: 'subscribe', stream: number, who: number }
  | { kind: 'unsubscribe', pick: number }
  | { kind: 'forward', stream: number, who: number, context: number, keyframe: boolean, size: number }
  | { kind: 'take', pick: number, maxBytes: number | undefined }
  | { kind: 'epoch', stream: number }
  | { kind: 'tick', ms: number }

const opArb: fc.Arbitrary<Op> = fc.oneof(
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('subscribe' as const), stream: fc.integer({ min: 0, max: 1 }), who: fc.integer({ min: 0, max: 2 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('unsubscribe' as const), pick: fc.nat() }) },
  { weight: 6, arbitrary: fc.record({ kind: fc.constant('forward' as const), stream: fc.integer({ min: 0, max: 1 }), who: fc.integer({ min: 0, max: 2 }), context: fc.integer({ min: 0, max: 1 }), keyframe: fc.boolean(), size: fc.integer({ min: 1, max: 400 }) }) },
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('take' as const), pick: fc.nat(), maxBytes: fc.option(fc.integer({ min: 0, max: 2000 }), { nil: undefined }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('epoch' as const), stream: fc.integer({ min: 0, max: 1 }) }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 1000 }) }) },
)

describe('RelayNode: property', () => {
  it('random interleavings over two streams never throw, and every delivered frame opens for its subscriber in link order', () => {
    const streams = ['owner/s-0', 'owner/s-1']
    const members = ['m0', 'm1', 'm2']
    let opened = 0
    let dropped = 0
    fc.assert(fc.property(fc.array(opArb, { minLength: 10, maxLength: 80, size: 'max' }), (ops) => {
      // Small bounds, so drops, evictions and GOP overflows all happen; no
      // subscription cap, so that nothing throws (quotas.test.ts has its own).
      const relay = new RelayNode({ subscriberQueueBytes: 1500, subscriberQueueFrames: 12, gopCacheBytes: 2500, gopCacheChunks: 8, keyframeRequestIntervalMs: 300, maxSubscriptionsPerIdentity: Infinity })
      for (const s of streams) {
        relay.openStream(s)
        members.forEach((m, leaf) => { relay.setPublisherLeaf(s, m, leaf) })
      }
      const forwarded = streams.map(() => new Set<string>())
      const nextSeq = new Map<string, number>()
      interface Live extends Link { id: number, stream: number, who: number, lastLink: bigint | undefined, lastByTrack: Map<number, number> }
      const live: Live[] = []
      const gone: number[] = []
      const everyone: Live[] = []
      const sealsSoFar = (): number => everyone.reduce((n, x) => n + x.sealer.seals, 0)
      let taken = 0
      let now = 0
      for (const op of ops) {
        switch (op.kind) {
          case 'subscribe': {
            const link = makeLink(streams[op.stream])
            const { id, keyframeRequests } = relay.subscribe(streams[op.stream], members[op.who], link.sealer, now)
            for (const r of keyframeRequests) expect(r.publisher).not.toBe(members[op.who])
            const entry: Live = { ...link, id, stream: op.stream, who: op.who, lastLink: undefined, lastByTrack: new Map() }
            live.push(entry)
            everyone.push(entry)
            // Replaying the GOP into the queue seals nothing.
            expect(link.sealer.seals).toBe(0)
            break
          }
          case 'unsubscribe': {
            if (live.length === 0) break
            const [s] = live.splice(op.pick % live.length, 1)
            relay.unsubscribe(s.id)
            gone.push(s.id)
            break
          }
          case 'forward': {
            const track = makeTrack(op.who, op.context)
            const key = `${op.stream}/${track}`
            const seq = nextSeq.get(key) ?? 0
            nextSeq.set(key, seq + 1)
            const chunk = makeChunk(streams[op.stream], { track, sequence: seq, keyframe: op.keyframe, size: op.size })
            forwarded[op.stream].add(hex(chunk))
            const sealsBefore = sealsSoFar()
            const r = relay.forward(streams[op.stream], members[op.who], chunk, now)
            // forward only queues references: no seal for anyone.
            expect(sealsSoFar()).toBe(sealsBefore)
            dropped += r.dropped
            for (const id of r.delivered) {
              const s = live.find((x) => x.id === id)
              expect(s).toBeDefined()
              expect(s!.stream).toBe(op.stream)
              expect(s!.who).not.toBe(op.who)
            }
            break
          }
          case 'take': {
            for (const id of gone) expect(relay.take(id)).toEqual([])
            if (live.length === 0) break
            const s = live[op.pick % live.length]
            const sealsBefore = s.sealer.seals
            const frames = relay.take(s.id, op.maxBytes)
            expect(s.sealer.seals - sealsBefore).toBe(frames.length)
            taken += frames.length
            for (const sealed of frames) {
              const seq = linkSequence(sealed)
              if (s.lastLink !== undefined) expect(seq > s.lastLink).toBe(true)
              s.lastLink = seq
              const chunk = s.opener.open(unframe(sealed))
              opened++
              expect(forwarded[s.stream].has(hex(chunk))).toBe(true)
              expect(chunkStreamTag(chunk)).toBe(streamTag(streams[s.stream]))
              const track = chunkTrack(chunk)
              expect(trackLeafIndex(track)).not.toBe(s.who)
              // Within a track, a frame after a gap is a keyframe: drops never hand out undecodable deltas.
              const last = s.lastByTrack.get(track)
              const cs = chunkSequence(chunk)
              if (last !== undefined) {
                expect(cs).toBeGreaterThan(last)
                if (cs !== last + 1) expect(chunkIsKeyframe(chunk)).toBe(true)
              }
              s.lastByTrack.set(track, cs)
            }
            break
          }
          case 'epoch':
            relay.epochChanged(streams[op.stream])
            break
          case 'tick':
            now += op.ms
            break
        }
        for (const s of live) expect(relay.queuedBytes(s.id)).toBeLessThanOrEqual(1500)
      }
      // Every seal is a frame some take returned: dropped, evicted or
      // unsubscribed-away chunks were never sealed.
      expect(sealsSoFar()).toBe(taken)
    }), { numRuns: 150 })
    // The runs did deliver, and did hit the drop policy.
    expect(opened).toBeGreaterThan(100)
    expect(dropped).toBeGreaterThan(0)
  })
})
