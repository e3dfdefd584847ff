/**
 * MediaService, the media shell around RelayNode, over real libp2p in this
 * process. The node here is the media service's own neighbourhood and
 * nothing more: a host, the group service (membership), the directory (so
 * FabricClient members can join) and MediaService with its real RelayNode, wired
 * as startNode wires them. Members are FabricClients; the media streams the
 * tests look at are raw ones opened from the members' own hosts (so the node
 * sees the member's identity), carrying hand-made chunks: the relay reads
 * clear metadata only, so the SFrame part is filler.
 */
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { libp2pListener } from '../../src/transport/libp2p/listener.js'
import type { Libp2p } from '@libp2p/interface'
import { multiaddr, type Multiaddr } from '@multiformats/multiaddr'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { PublishStream, Subscription } from '../../src/client/media-streams.js'
import type { StreamMember } from '../../src/client/stream-member.js'
import { LinkOpener } from '../../src/crypto/link-seal.js'
import { generateLinkKeyPair, linkTransitKey } from '../../src/crypto/transit-key.js'
import { Libp2pChannel } from '../../src/transport/libp2p/libp2p-channel.js'
import { registerDirectoryService, type DirectoryService } from '../../src/node/directory-service.js'
import { openKeyPackageStore, type KeyPackageStore } from '../../src/node/directory-store.js'
import { GroupService } from '../../src/node/group-service.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { MediaService } from '../../src/node/media/media-service.js'
import { DEFAULT_RELAY_CONFIG, type RelayNode } from '../../src/relay/relay-node.js'
import { generateIdentity, privateKeyOfIdentity } from '../../src/session/identity.js'
import { encodeChunk, parseChunk } from '../../src/wire/chunk.js'
import { LINK_SEAL_OVERHEAD, MAX_AV_MESSAGE, MAX_CONTROL_FRAME, MAX_MEDIA_FRAME } from '../../src/wire/limits.js'
import {
  AV_PUBLISH_PROTOCOL, AV_SUBSCRIBE_PROTOCOL, GROUP_PROTOCOL,
  decodeGroupServerMessage, decodeOpenResult, encodeGroupClientMessage, encodePublishOpen, encodeSubscribeOpen,
} from '../../src/wire/messages.js'
import type { OpenResult } from '../../src/wire/pb/av.js'
import { parseStreamKey, streamKey, streamTag, type StreamKey } from '../../src/wire/stream-tag.js'
import { makeTrack } from '../../src/wire/track.js'
import { codeOf } from '../codes.js'
import { until, within } from '../timing.js'

const READ_MS = 5_000
const STREAM = 'av-unit'

/** A keyframe chunk of stream `key` on `track`, whose filler payload is `fill` (so each test's chunks are told apart). */
function chunk (key: StreamKey, track: number, sequence: number, fill: number): Uint8Array {
  return encodeChunk({
    keyframe: true, discardable: false, spatialLayer: 0, temporalLayer: 0,
    streamTag: streamTag(key), track, sequence, timestampUs: BigInt(Date.now()) * 1000n,
  }, new Uint8Array(64).fill(fill))
}

const same = (a: Uint8Array, b: Uint8Array): boolean => Buffer.from(a).equals(Buffer.from(b))

/** The media service and what it needs, on one host. */
interface MediaNode {
  libp2p: Libp2p
  addr: Multiaddr
  relay: RelayNode
  group: GroupService
  av: MediaService
  stop: () => Promise<void>
}

async function startMediaNode (): Promise<MediaNode> {
  const libp2p = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'] })
  let store: KeyPackageStore | undefined
  let directory: DirectoryService | undefined
  const listener = libp2pListener(libp2p)
  const group = new GroupService(listener)
  const av = new MediaService({ listener, membership: group })
  const relay = av.relay
  group.on('roster', (event) => { av.onRoster(event) })
  group.on('streamClosed', (event) => { av.streamClosed(event.stream) })
  const stop = async (): Promise<void> => {
    await av.stop().catch(() => {})
    await group.stop().catch(() => {})
    await directory?.unregister().catch(() => {})
    await libp2p.stop()
    await store?.close()
  }
  try {
    store = await openKeyPackageStore()
    directory = await registerDirectoryService(listener, store, { authorizeFetch: (requester, identity) => group.core.authorizeFetch(requester, identity) })
    await group.start()
    await av.start()
  } catch (err) {
    await stop()
    throw err
  }
  return { libp2p, addr: libp2p.getMultiaddrs()[0]!, relay, group, av, stop }
}

/** A raw publish stream of `key` from `host`, and the node's answer to its open. */
async function rawPublish (host: Libp2p, to: Multiaddr, key: StreamKey): Promise<{ framed: Libp2pChannel, result: OpenResult }> {
  const { owner, name } = parseStreamKey(key)
  const framed = new Libp2pChannel(await within(host.dialProtocol(to, AV_PUBLISH_PROTOCOL), READ_MS, 'dial'), MAX_AV_MESSAGE)
  await framed.send(encodePublishOpen({ stream: name, owner }))
  return { framed, result: decodeOpenResult(await framed.next(READ_MS)) }
}

/** A raw subscribe stream of `key` from `host`, with the link opener its transit key gives (when admitted). */
async function rawSubscribe (host: Libp2p, to: Multiaddr, key: StreamKey): Promise<{ framed: Libp2pChannel, result: OpenResult, opener: LinkOpener | undefined }> {
  const { owner, name } = parseStreamKey(key)
  const own = generateLinkKeyPair()
  const framed = new Libp2pChannel(await within(host.dialProtocol(to, AV_SUBSCRIBE_PROTOCOL), READ_MS, 'dial'), MAX_MEDIA_FRAME)
  await framed.send(encodeSubscribeOpen({ stream: name, owner, subscriberPublicKey: own.publicKey, relay: false }))
  const result = decodeOpenResult(await framed.next(READ_MS))
  const opener = result.error === undefined ? new LinkOpener(linkTransitKey('subscriber', own, result.relayPublicKey, key)) : undefined
  return { framed, result, opener }
}

/**
 * Reads `framed` until the node ends it: the code it ended with ('INVALID_STATE'
 * for a clean end, else the reset's), never 'TIMEOUT' unless the node left it open.
 */
async function endOf (framed: Libp2pChannel): Promise<string> {
  for (;;) {
    const code = await codeOf(framed.next(READ_MS))
    if (code !== 'resolved') return code
  }
}

/** Reads a Subscription's chunks in the background: what arrived, and how it ended. */
function drain (sub: Subscription): { got: Uint8Array[], ended: Promise<'ended' | 'reset'> } {
  const got: Uint8Array[] = []
  const ended = (async (): Promise<'ended' | 'reset'> => {
    try {
      for await (const c of sub.chunks()) got.push(c.slice())
      return 'ended'
    } catch {
      return 'reset'
    }
  })()
  return { got, ended }
}

describe('MediaService over libp2p with a real RelayNode', () => {
  let node: MediaNode
  let alice: FabricClient
  let bob: FabricClient
  let carol: FabricClient
  let aliceM: StreamMember
  let bobM: StreamMember
  let key: StreamKey
  let bobLeaf: number
  const hosts: Libp2p[] = []
  const opened: Libp2pChannel[] = []

  /** Closes a publish stream and waits until the node has let it go. */
  const closePublish = async (framed: Libp2pChannel): Promise<void> => {
    const live = node.av.streamCounts().publishers
    await framed.close()
    await until(() => node.av.streamCounts().publishers === live - 1, READ_MS, 'the publish stream ended at the node')
  }
  const relayStream = () => node.relay.stats().streams.find((s) => s.stream === key)!
  const subscriptionsOf = (identity: string, k = key) => node.relay.stats().subscribers.filter((s) => s.stream === k && s.identity === identity).length

  beforeAll(async () => {
    node = await startMediaNode()
    const addr = node.addr.toString()
    ;[alice, bob, carol] = await Promise.all([0, 1, 2].map(async () => await FabricClient.connect({ node: addr })))
    aliceM = await alice.createStream(STREAM, { admission: { admission: 'open' } })
    key = aliceM.key
    bobM = await bob.joinStream(STREAM, { owner: alice.identity })
    await carol.joinStream(STREAM, { owner: alice.identity })
    await aliceM.settled()
    bobLeaf = node.group.leafIndexOf(key, bob.identity)!
    expect(bobLeaf).toBe(bobM.session.ownLeafIndex)
    expect(node.group.leafIndexOf(key, alice.identity)).toBe(0)
  })

  afterAll(async () => {
    for (const f of opened) f.abort(new Error('test over'))
    for (const c of [alice, bob, carol]) if (c !== undefined) await c.close().catch(() => {})
    for (const h of hosts) { try { await h.stop() } catch {} }
    await node?.stop()
  })

  it('refuses media opens from a non-member with NOT_MEMBER in the OpenResult, and closes the stream', async () => {
    const id = await generateIdentity()
    const mallory = await createHost({ listen: [], privateKey: privateKeyOfIdentity(id) })
    hosts.push(mallory)
    const before = { ...node.av.counters }

    const pub = await rawPublish(mallory, node.addr, key)
    opened.push(pub.framed)
    expect(pub.result.error?.code).toBe('NOT_MEMBER')
    expect(pub.result.relayPublicKey.byteLength).toBe(0)
    // The node ends the refused stream: the next read ends or fails, it does not wait for a deadline.
    expect(await endOf(pub.framed)).not.toBe('TIMEOUT')

    const sub = await rawSubscribe(mallory, node.addr, key)
    opened.push(sub.framed)
    expect(sub.result.error?.code).toBe('NOT_MEMBER')
    // The client's classes surface the same code.
    expect(await codeOf(PublishStream.open(libp2pDialer(mallory, node.addr), key))).toBe('NOT_MEMBER')

    expect(node.av.counters.refusedOpens - before.refusedOpens).toBe(3)
    expect(node.av.counters.publishStreams).toBe(before.publishStreams)
    expect(node.av.counters.subscribeStreams).toBe(before.subscribeStreams)
    expect(relayStream().chunksIn).toBe(0)
  })

  it('refuses a member\'s chunk on another leaf\'s track, counts it by code, and keeps the publish stream', async () => {
    const pub = await rawPublish(bob.libp2p, node.addr, key)
    opened.push(pub.framed)
    expect(pub.result.error).toBeUndefined()
    const before = { rejected: node.av.counters.rejectedChunks, malformed: node.av.counters.rejectedByCode.MALFORMED ?? 0, stream: relayStream() }

    // Track 3 of alice's leaf (0), sent by bob.
    await pub.framed.send(chunk(key, makeTrack(0, 3), 0, 0xa1))
    await until(() => node.av.counters.rejectedChunks > before.rejected, READ_MS, 'the hijacked chunk refused')
    expect(node.av.counters.rejectedChunks - before.rejected).toBe(1)
    expect((node.av.counters.rejectedByCode.MALFORMED ?? 0) - before.malformed).toBe(1)
    expect(relayStream().ownershipRefusals.otherLeaf - before.stream.ownershipRefusals.otherLeaf).toBe(1)
    expect(relayStream().chunksIn).toBe(before.stream.chunksIn)
    expect(node.relay.stats().publishers.find((p) => p.stream === key && p.identity === bob.identity)?.tracks ?? 0).toBe(0)

    // The same stream carries bob's own track.
    await pub.framed.send(chunk(key, makeTrack(bobLeaf, 3), 0, 0xa2))
    await until(() => relayStream().chunksIn > before.stream.chunksIn, READ_MS, 'bob\'s own chunk taken')
    expect(node.av.counters.rejectedChunks - before.rejected).toBe(1)
    expect(node.relay.stats().publishers.find((p) => p.stream === key && p.identity === bob.identity)).toMatchObject({ leafIndex: bobLeaf, tracks: 1 })
    expect(pub.framed.stream.status).toBe('open')
    await closePublish(pub.framed)
  })

  it('releases a publisher\'s tracks when its last publish stream on the stream ends', async () => {
    // dave is a member through the group service alone: the committer of a stream he creates on a raw group stream (leaf 0).
    const id = await generateIdentity()
    const dave = await createHost({ listen: [], privateKey: privateKeyOfIdentity(id) })
    hosts.push(dave)
    const groupStream = new Libp2pChannel(await dave.dialProtocol(node.addr, GROUP_PROTOCOL), MAX_CONTROL_FRAME)
    opened.push(groupStream)
    await groupStream.send(encodeGroupClientMessage({ requestId: 1n, create: { stream: 'dave', groupId: new Uint8Array(32).fill(1) } }))
    expect(decodeGroupServerMessage(await groupStream.next(READ_MS)).ok?.epoch).toBe(0n)
    const daveKey = streamKey(id.peerId, 'dave')
    expect(node.relay.hasStream(daveKey)).toBe(true)
    const publisher = () => node.relay.stats().publishers.find((p) => p.stream === daveKey && p.identity === id.peerId)
    const daveStream = () => node.relay.stats().streams.find((s) => s.stream === daveKey)!

    const first = await rawPublish(dave, node.addr, daveKey)
    const second = await rawPublish(dave, node.addr, daveKey)
    opened.push(first.framed, second.framed)
    expect(first.result.error).toBeUndefined()
    expect(second.result.error).toBeUndefined()
    await first.framed.send(chunk(daveKey, makeTrack(0, 0), 0, 0xb1))
    await second.framed.send(chunk(daveKey, makeTrack(0, 1), 0, 0xb2))
    await until(() => daveStream().chunksIn === 2, READ_MS, 'dave\'s chunks taken')
    expect(publisher()).toMatchObject({ leafIndex: 0, tracks: 2 })
    expect(daveStream().tracks).toBe(2)
    expect(daveStream().gopCacheBytes).toBeGreaterThan(0)

    // One of two publish streams ends: dave still publishes, nothing is released.
    const live = node.av.streamCounts().publishers
    await first.framed.close()
    await until(() => node.av.streamCounts().publishers === live - 1, READ_MS, 'the first publish stream ended at the node')
    expect(publisher()).toMatchObject({ tracks: 2 })

    // The last one ends: its tracks, caches and leaf standing go.
    await second.framed.close()
    await until(() => node.av.streamCounts().publishers === live - 2, READ_MS, 'the last publish stream ended at the node')
    expect(publisher()).toBeUndefined()
    expect(daveStream().tracks).toBe(0)
    expect(daveStream().gopCacheBytes).toBe(0)
    // dave is still a member: the group stream is untouched.
    expect(node.group.isMember(daveKey, id.peerId)).toBe(true)
    await groupStream.close()
  })

  it('sends a subscriber link-sealed frames that only its transit key opens, each once', async () => {
    const sub = await rawSubscribe(carol.libp2p, node.addr, key)
    opened.push(sub.framed)
    expect(sub.result.error).toBeUndefined()
    expect(sub.result.relayPublicKey.byteLength).toBe(32)
    // A key pair the node never saw: its transit key opens nothing.
    const stranger = new LinkOpener(linkTransitKey('subscriber', generateLinkKeyPair(), sub.result.relayPublicKey, key))

    const pub = await rawPublish(bob.libp2p, node.addr, key)
    opened.push(pub.framed)
    const sent = chunk(key, makeTrack(bobLeaf, 6), 0, 0xc1)
    await pub.framed.send(sent)

    // Cached GOPs of other tracks may come first; every frame opens, and one is bob's chunk byte for byte.
    let found = false
    let first = true
    while (!found) {
      const sealed = (await sub.framed.next(READ_MS)).slice()
      if (first) {
        expect(() => stranger.open(sealed)).toThrow(expect.objectContaining({ code: 'AUTH_FAILED' }))
        first = false
      }
      const plain = sub.opener!.open(sealed).slice()
      expect(sealed.byteLength).toBe(plain.byteLength + LINK_SEAL_OVERHEAD)
      expect(parseChunk(plain, streamTag(key)).meta.streamTag).toBe(streamTag(key))
      // The same sealed frame again is a replay.
      expect(() => sub.opener!.open(sealed)).toThrow(expect.objectContaining({ code: 'REPLAY' }))
      found = same(plain, sent)
    }
    await closePublish(pub.framed)
    const carols = subscriptionsOf(carol.identity)
    await sub.framed.close()
    await until(() => subscriptionsOf(carol.identity) === carols - 1, READ_MS, 'the subscription ended at the node')
  })

  it('refuses a 5th subscription of one identity on one stream with QUOTA_EXCEEDED, and admits again once one ends', async () => {
    const cap = DEFAULT_RELAY_CONFIG.maxSubscriptionsPerIdentity
    expect(cap).toBe(4)
    // bob's StreamMember holds one already (earlier tests opened none of bob's).
    const held = subscriptionsOf(bob.identity)
    expect(held).toBeGreaterThan(0)
    expect(held).toBeLessThan(cap)
    const before = { refused: node.av.counters.refusedOpens, quota: relayStream().quotaRefusals.subscriptions }
    const extra: Subscription[] = []
    try {
      for (let i = held; i < cap; i++) extra.push(await Subscription.open(libp2pDialer(bob.libp2p, node.addr), key))
      expect(subscriptionsOf(bob.identity)).toBe(cap)
      expect(await codeOf(Subscription.open(libp2pDialer(bob.libp2p, node.addr), key))).toBe('QUOTA_EXCEEDED')
      expect(node.av.counters.refusedOpens - before.refused).toBe(1)
      expect(relayStream().quotaRefusals.subscriptions - before.quota).toBe(1)
      expect(subscriptionsOf(bob.identity)).toBe(cap)
      // The cap is per stream: carol's are counted apart.
      const carols = await Subscription.open(libp2pDialer(carol.libp2p, node.addr), key)
      extra.push(carols)

      // One of bob's ends; the next open is admitted.
      await extra.shift()!.close()
      await until(() => subscriptionsOf(bob.identity) === cap - 1, READ_MS, 'the closed subscription gone at the node')
      extra.push(await Subscription.open(libp2pDialer(bob.libp2p, node.addr), key))
      expect(subscriptionsOf(bob.identity)).toBe(cap)
    } finally {
      for (const s of extra) await s.close()
    }
    await until(() => subscriptionsOf(bob.identity) === held, READ_MS, 'the extra subscriptions gone at the node')
  })

  it('onRoster with a removed member closes that member\'s media streams; the others carry on', async () => {
    const carolLeaf = node.group.leafIndexOf(key, carol.identity)!
    const bobSub = drain(await Subscription.open(libp2pDialer(bob.libp2p, node.addr), key))
    const carolSub = drain(await Subscription.open(libp2pDialer(carol.libp2p, node.addr), key))
    const carolPub = await rawPublish(carol.libp2p, node.addr, key)
    opened.push(carolPub.framed)
    expect(carolPub.result.error).toBeUndefined()
    const alicePub = await rawPublish(alice.libp2p, node.addr, key)
    opened.push(alicePub.framed)

    const a1 = chunk(key, makeTrack(0, 9), 0, 0xd1)
    await alicePub.framed.send(a1)
    await until(() => bobSub.got.some((c) => same(c, a1)) && carolSub.got.some((c) => same(c, a1)), READ_MS, 'both subscribers got alice\'s first chunk')

    node.av.onRoster({
      stream: key,
      epoch: aliceM.epoch + 1n,
      members: [alice.identity, bob.identity],
      added: [],
      removed: [carol.identity],
      leaves: new Map([[alice.identity, 0], [bob.identity, bobLeaf]]),
    })
    // At once, at the node: no subscription of carol's left, in the relay or the service.
    expect(subscriptionsOf(carol.identity)).toBe(0)
    expect(node.av.streamCounts().subscriptions.some((s) => s.identity === carol.identity)).toBe(false)
    expect(node.relay.stats().publishers.some((p) => p.stream === key && p.identity === carol.identity)).toBe(false)
    // carol sees both her media streams end.
    expect(['ended', 'reset']).toContain(await within(carolSub.ended, READ_MS, 'carol\'s subscription closed'))
    expect(await endOf(carolPub.framed)).not.toBe('TIMEOUT')
    expect(carolLeaf).not.toBe(bobLeaf)

    // bob's subscription and alice's publish stream carry on.
    const a2 = chunk(key, makeTrack(0, 9), 1, 0xd2)
    await alicePub.framed.send(a2)
    await until(() => bobSub.got.some((c) => same(c, a2)), READ_MS, 'bob got alice\'s chunk after the removal')
    expect(carolSub.got.some((c) => same(c, a2))).toBe(false)
    expect(subscriptionsOf(bob.identity)).toBeGreaterThan(0)
    await alicePub.framed.close()
  })
})
