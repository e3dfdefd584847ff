/**
 * MediaEgress over real libp2p with a real RelayNode: who may subscribe,
 * the per-identity subscription quota, link-sealed delivery that only the
 * subscription's transit key opens, the slot given back when a channel
 * closes, and a subscriber's keyframe request routed to the track's source.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LinkOpener } from '../../src/crypto/link-seal.js'
import { generateLinkKeyPair, linkTransitKey } from '../../src/crypto/transit-key.js'
import { silentLogger } from '../../src/node/log.js'
import { MediaEgress, SUBSCRIBE_CHANNEL } from '../../src/node/media/egress.js'
import { MAX_MEDIA_STREAMS_PER_CONNECTION } from '../../src/node/media/media-service.js'
import type { MediaSource } from '../../src/node/media/router.js'
import type { FrameChannel } from '../../src/transport/channel.js'
import { LINK_SEAL_OVERHEAD } from '../../src/wire/limits.js'
import { AV_SUBSCRIBE_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { decodeOpenResult, encodeSubscribeOpen, encodeSubscriberNotice } from '../../src/wire/messages.js'
import type { OpenResult } from '../../src/wire/pb/av.js'
import { parseStreamKey } from '../../src/wire/stream-tag.js'
import { makeTrack } from '../../src/wire/track.js'
import { codeOf } from '../codes.js'
import { until } from '../timing.js'
import { READ_MS, chunk, idOf, same, startMediaBench, type MediaBench } from './media-fixture.js'

const QUOTA = 2

describe('MediaEgress', () => {
  let b: MediaBench
  let egress: MediaEgress
  /** members[0] publishing on leaf 0, as ingress would register it; its keyframe requests are recorded. */
  const asked: number[] = []
  let source: MediaSource
  const opened: FrameChannel[] = []
  /** members[1]'s admitted subscribe channels, oldest first. */
  const admitted: FrameChannel[] = []

  /** Opens a subscribe channel from member `i`, with the link opener its transit key gives (when admitted). */
  const subscribe = async (i: number): Promise<{ channel: FrameChannel, result: OpenResult, opener: LinkOpener | undefined }> => {
    const channel = await b.open(b.members[i], AV_SUBSCRIBE_PROTOCOL)
    opened.push(channel)
    const own = generateLinkKeyPair()
    const { owner, name } = parseStreamKey(b.key)
    await channel.send(encodeSubscribeOpen({ stream: name, owner, subscriberPublicKey: own.publicKey, relay: false }))
    const result = decodeOpenResult(await channel.next(READ_MS))
    const opener = result.error === undefined ? new LinkOpener(linkTransitKey('subscriber', own, result.relayPublicKey, b.key)) : undefined
    return { channel, result, opener }
  }
  const held = (i: number): number => b.relay.stats().subscribers.filter((s) => s.identity === idOf(b.members[i])).length

  beforeAll(async () => {
    b = await startMediaBench(3, { maxSubscriptionsPerIdentity: QUOTA })
    b.roster.add(b.key, idOf(b.members[0]), 0)
    b.roster.add(b.key, idOf(b.members[1]), 1)
    b.relay.setPublisherLeaf(b.key, idOf(b.members[0]), 0)
    source = { stream: b.key, identity: idOf(b.members[0]), requestKeyframe: (track) => { asked.push(track) } }
    b.router.addSource(source)
    egress = new MediaEgress({ relay: b.relay, policy: b.policy, router: b.router, counters: b.counters, log: silentLogger() })
    await b.listener.listen(AV_SUBSCRIBE_PROTOCOL, egress.accept, SUBSCRIBE_CHANNEL, { maxInboundChannels: MAX_MEDIA_STREAMS_PER_CONNECTION })
  })

  afterAll(async () => {
    for (const c of opened) c.abort(new Error('test over'))
    egress?.stop()
    await b?.stop()
  })

  it('refuses a non-member\'s subscribe with NOT_MEMBER, and admits nothing', async () => {
    const { channel, result } = await subscribe(2)
    expect(result.error?.code).toBe('NOT_MEMBER')
    expect(result.relayPublicKey.byteLength).toBe(0)
    expect(b.counters.refusedOpens).toBe(1)
    expect(held(2)).toBe(0)
    expect(egress.count).toBe(0)
    expect(await codeOf(channel.next(READ_MS))).not.toBe('TIMEOUT')
  })

  it('delivers a chunk link-sealed under the subscription\'s transit key, once', async () => {
    const sub = await subscribe(1)
    expect(sub.result.error).toBeUndefined()
    admitted.push(sub.channel)
    expect(sub.result.relayPublicKey.byteLength).toBe(32)
    const stranger = new LinkOpener(linkTransitKey('subscriber', generateLinkKeyPair(), sub.result.relayPublicKey, b.key))
    const sent = chunk(b.key, makeTrack(0, 1), 0, 0x41)
    b.router.forward(source, sent, Number.NaN)
    const sealed = (await sub.channel.next(READ_MS)).slice()
    expect(sealed.byteLength).toBe(sent.byteLength + LINK_SEAL_OVERHEAD)
    expect(() => stranger.open(sealed)).toThrow(expect.objectContaining({ code: 'AUTH_FAILED' }))
    expect(same(sub.opener!.open(sealed), sent)).toBe(true)
    expect(() => sub.opener!.open(sealed)).toThrow(expect.objectContaining({ code: 'REPLAY' }))
    expect(egress.live().find((s) => s.identity === idOf(b.members[1]))?.writes).toBeGreaterThan(0)
  })

  it('routes a subscriber\'s keyframe request to the track\'s source', async () => {
    const before = asked.length
    const { channel, result } = await subscribe(1)
    expect(result.error).toBeUndefined()
    admitted.push(channel)
    await channel.send(encodeSubscriberNotice({ keyframeRequest: { track: makeTrack(0, 1) } }))
    await until(() => asked.length > before, READ_MS, 'the source asked for a keyframe')
    expect(asked.slice(before)).toContain(makeTrack(0, 1))
  })

  it('holds an identity to its subscription quota with QUOTA_EXCEEDED, and frees the slot when a channel closes', async () => {
    // members[1] holds QUOTA subscriptions now (the two tests before).
    await until(() => held(1) === QUOTA, READ_MS, 'members[1] at its quota')
    const refusals = b.counters.refusedOpens
    const over = await subscribe(1)
    expect(over.result.error?.code).toBe('QUOTA_EXCEEDED')
    expect(b.counters.refusedOpens - refusals).toBe(1)
    expect(held(1)).toBe(QUOTA)
    // Another identity is counted apart.
    expect((await subscribe(0)).result.error).toBeUndefined()

    const live = egress.count
    await admitted[0].close()
    await until(() => egress.count === live - 1 && held(1) === QUOTA - 1, READ_MS, 'the closed subscription gone at the node')
    expect((await subscribe(1)).result.error).toBeUndefined()
    expect(held(1)).toBe(QUOTA)
  })
})
