/**
 * UpstreamLink over real libp2p: the node subscribes to a stream at its
 * upstream node as a trusted relay, forwards the chunks it opens into the
 * relay as an upstream source named by the upstream's peer id, and asks the
 * upstream for keyframes with a SubscriberNotice on that subscription. The
 * upstream node here is a bare host answering the subscribe open by hand.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { LinkSealer } from '../../src/crypto/link-seal.js'
import { generateLinkKeyPair, linkTransitKey } from '../../src/crypto/transit-key.js'
import { silentLogger } from '../../src/node/log.js'
import { UpstreamLink } from '../../src/node/media/upstream-link.js'
import type { FrameChannel } from '../../src/transport/channel.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { MAX_AV_MESSAGE } from '../../src/wire/limits.js'
import { AV_SUBSCRIBE_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { decodeSubscribeOpen, decodeSubscriberNotice, encodeOpenResult } from '../../src/wire/messages.js'
import { streamKey } from '../../src/wire/stream-tag.js'
import { makeTrack } from '../../src/wire/track.js'
import { until, within } from '../timing.js'
import { READ_MS, chunk, idOf, startMediaBench, type MediaBench } from './media-fixture.js'

describe('UpstreamLink', () => {
  // The bench's node host plays the upstream node; members[0] is the node that pulls.
  let b: MediaBench
  let link: UpstreamLink
  let upstreamSide: Promise<{ channel: FrameChannel, sealer: LinkSealer }>
  const ended: string[] = []

  beforeAll(async () => {
    b = await startMediaBench(1)
    upstreamSide = new Promise((resolve) => {
      void b.listener.listen(AV_SUBSCRIBE_PROTOCOL, (channel) => {
        void (async () => {
          const open = decodeSubscribeOpen(await channel.next(READ_MS))
          const own = generateLinkKeyPair()
          const key = streamKey(open.owner, open.stream)
          channel.write(encodeOpenResult({ relayPublicKey: own.publicKey }))
          resolve({ channel, sealer: new LinkSealer(linkTransitKey('relay', own, open.subscriberPublicKey, key)) })
        })()
      }, { maxFrameLength: MAX_AV_MESSAGE }, { maxInboundChannels: 8 })
    })
    // The pulling node's own relay does not carry the stream yet.
    b.relay.closeStream(b.key)
    link = new UpstreamLink({ relay: b.relay, router: b.router, dialer: libp2pDialer(b.members[0], b.addr), counters: b.counters, log: silentLogger() })
    link.on('ended', (stream) => { ended.push(stream) })
  })

  afterAll(async () => {
    link?.stop()
    await b?.stop()
  })

  it('pulls a stream: its chunks enter the relay from an upstream source named by the upstream\'s peer id', async () => {
    await within(link.pull(b.key), READ_MS, 'pull')
    expect(b.relay.hasStream(b.key)).toBe(true)
    expect(link.count).toBe(1)
    const { channel, sealer } = await upstreamSide
    // Chunks of any member's leaf: the upstream carries them all.
    channel.writeWire([sealer.sealFrame(chunk(b.key, makeTrack(3, 0), 0, 0x51))])
    await until(() => (b.relay.stats().streams.find((s) => s.stream === b.key)?.chunksIn ?? 0) === 1, READ_MS, 'the chunk in the relay')
    expect(b.relay.stats().publishers).toEqual([expect.objectContaining({ stream: b.key, identity: idOf(b.node), upstream: true, tracks: 1 })])
  })

  it('asks the upstream for a keyframe with a SubscriberNotice on its subscription', async () => {
    const { channel } = await upstreamSide
    const sent = b.counters.keyframeRequestsSent
    b.router.requestKeyframe({ stream: b.key, track: makeTrack(3, 0), publisher: idOf(b.node) })
    expect(decodeSubscriberNotice(await channel.next(READ_MS))).toEqual({ keyframeRequest: { track: makeTrack(3, 0) } })
    expect(b.counters.keyframeRequestsSent - sent).toBe(1)
  })

  it('says when the subscription ends, and no longer counts it', async () => {
    const { channel } = await upstreamSide
    channel.abort(new Error('upstream gone'))
    await until(() => ended.length === 1, READ_MS, 'the link ended')
    expect(ended).toEqual([b.key])
    expect(link.count).toBe(0)
  })
})
