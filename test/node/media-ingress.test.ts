/**
 * MediaIngress over real libp2p with a real RelayNode: who may open a
 * publish channel, what happens to a chunk on another member's track, that
 * a member's chunks reach the relay, that keyframe requests come back as
 * PublisherNotices, and that a member removed mid-stream loses the channel.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { silentLogger } from '../../src/node/log.js'
import { MediaIngress, PUBLISH_CHANNEL } from '../../src/node/media/ingress.js'
import { MAX_MEDIA_STREAMS_PER_CONNECTION } from '../../src/node/media/media-service.js'
import type { ChunkSealer } from '../../src/relay/relay-node.js'
import type { FrameChannel } from '../../src/transport/channel.js'
import { AV_PUBLISH_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { decodeOpenResult, decodePublisherNotice, encodePublishOpen } from '../../src/wire/messages.js'
import type { OpenResult } from '../../src/wire/pb/av.js'
import { parseStreamKey, type StreamKey } from '../../src/wire/stream-tag.js'
import { makeTrack } from '../../src/wire/track.js'
import { codeOf } from '../codes.js'
import { until } from '../timing.js'
import { READ_MS, chunk, idOf, same, startMediaBench, type MediaBench } from './media-fixture.js'

/** A sealer that seals nothing: the test reads the chunks the relay queued as they are. */
const plain: ChunkSealer = { sealFrame: (c) => ({ head: new Uint8Array(0), body: c, tail: new Uint8Array(0), byteLength: c.byteLength }) }

describe('MediaIngress', () => {
  let b: MediaBench
  let ingress: MediaIngress
  const opened: FrameChannel[] = []

  /** Opens a publish channel of `key` from member `i` and reads the node's answer. */
  const publish = async (i: number, key: StreamKey = b.key): Promise<{ channel: FrameChannel, result: OpenResult }> => {
    const channel = await b.open(b.members[i], AV_PUBLISH_PROTOCOL)
    opened.push(channel)
    const { owner, name } = parseStreamKey(key)
    await channel.send(encodePublishOpen({ stream: name, owner }))
    return { channel, result: decodeOpenResult(await channel.next(READ_MS)) }
  }
  const streamStats = () => b.relay.stats().streams.find((s) => s.stream === b.key)!

  beforeAll(async () => {
    b = await startMediaBench(3)
    // members[0] on leaf 0 and members[1] on leaf 1; members[2] is no member.
    b.roster.add(b.key, idOf(b.members[0]), 0)
    b.roster.add(b.key, idOf(b.members[1]), 1)
    ingress = new MediaIngress({ relay: b.relay, policy: b.policy, router: b.router, counters: b.counters, log: silentLogger() })
    await b.listener.listen(AV_PUBLISH_PROTOCOL, ingress.accept, PUBLISH_CHANNEL, { maxInboundChannels: MAX_MEDIA_STREAMS_PER_CONNECTION })
  })

  afterAll(async () => {
    for (const c of opened) c.abort(new Error('test over'))
    ingress?.stop()
    await b?.stop()
  })

  it('refuses a non-member\'s open with NOT_MEMBER, counts it, and ends the channel', async () => {
    const { channel, result } = await publish(2)
    expect(result.error?.code).toBe('NOT_MEMBER')
    expect(result.relayPublicKey.byteLength).toBe(0)
    expect(b.counters.refusedOpens).toBe(1)
    expect(b.counters.publishStreams).toBe(0)
    expect(ingress.count).toBe(0)
    // The node half-closed it: the next read ends, it does not wait for a deadline.
    expect(await codeOf(channel.next(READ_MS))).not.toBe('TIMEOUT')
  })

  it('forwards a member\'s chunk into the relay, where a subscriber\'s queue holds it', async () => {
    const sub = b.relay.subscribe(b.key, 'listener', plain, 0).id
    const { channel, result } = await publish(0)
    expect(result.error).toBeUndefined()
    expect(ingress.count).toBe(1)
    const sent = chunk(b.key, makeTrack(0, 1), 0, 0x11)
    await channel.send(sent)
    await until(() => b.relay.queuedBytes(sub) > 0, READ_MS, 'the chunk queued for the subscriber')
    expect(streamStats().chunksIn).toBe(1)
    expect(b.relay.stats().publishers.find((p) => p.identity === idOf(b.members[0]))).toMatchObject({ leafIndex: 0, tracks: 1 })
    const [frame] = b.relay.take(sub)
    expect(same(frame.body, sent)).toBe(true)
    b.relay.unsubscribe(sub)
  })

  it('refuses a chunk on a track another member owns, counts it by code, and keeps the channel', async () => {
    const before = { rejected: b.counters.rejectedChunks, chunksIn: streamStats().chunksIn, otherLeaf: streamStats().ownershipRefusals.otherLeaf }
    const { channel, result } = await publish(1)
    expect(result.error).toBeUndefined()
    // Track 1 of leaf 0 is members[0]'s (the test before claimed it).
    await channel.send(chunk(b.key, makeTrack(0, 1), 1, 0x21))
    await until(() => b.counters.rejectedChunks > before.rejected, READ_MS, 'the chunk refused')
    expect(b.counters.rejectedByCode.MALFORMED).toBe(1)
    expect(streamStats().ownershipRefusals.otherLeaf - before.otherLeaf).toBe(1)
    expect(streamStats().chunksIn).toBe(before.chunksIn)
    // Its own leaf's track goes through on the same channel.
    await channel.send(chunk(b.key, makeTrack(1, 1), 0, 0x22))
    await until(() => streamStats().chunksIn === before.chunksIn + 1, READ_MS, 'the member\'s own chunk taken')
    expect(b.counters.rejectedChunks - before.rejected).toBe(1)
    await channel.close()
  })

  it('sends a keyframe request for a member\'s track on that member\'s channel, as a PublisherNotice', async () => {
    const { channel } = await publish(0)
    const sent = b.counters.keyframeRequestsSent
    b.router.requestKeyframe({ stream: b.key, track: makeTrack(0, 1), publisher: idOf(b.members[0]) })
    // Every open publish channel of members[0] on the stream is asked: the earlier one's request is read there, not here.
    const notice = decodePublisherNotice(await channel.next(READ_MS))
    expect(notice).toEqual({ keyframeRequest: { track: makeTrack(0, 1) } })
    expect(b.counters.keyframeRequestsSent - sent).toBeGreaterThanOrEqual(1)
  })

  it('resets the channel of a member removed from the roster at its next chunk, and releases its tracks with its last channel', async () => {
    const { channel, result } = await publish(1)
    expect(result.error).toBeUndefined()
    const identity = idOf(b.members[1])
    await until(() => ingress.count === 3, READ_MS, 'three publish channels live')
    b.roster.remove(b.key, identity)
    await channel.send(chunk(b.key, makeTrack(1, 2), 0, 0x31)).catch(() => {})
    const code = await codeOf((async () => { for (;;) await channel.next(READ_MS) })())
    expect(code).not.toBe('TIMEOUT')
    await until(() => ingress.count === 2, READ_MS, 'the removed member\'s channel gone at the node')
    expect(b.relay.stats().publishers.some((p) => p.identity === identity)).toBe(false)
  })
})
