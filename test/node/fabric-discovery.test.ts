/**
 * Fabric membership and discovery between in-process nodes on 127.0.0.1
 * (protocol/fabric.md): node-auth over the fabric key, the gated DHT, the
 * allow list, and fabric nodes as trusted relays.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { kadDHT, passthroughMapper, type KadDHT } from '@libp2p/kad-dht'
import { ping } from '@libp2p/ping'
import { multiaddr } from '@multiformats/multiaddr'
import { streamProviderCid } from '../../src/fabric/provider-key.js'
import { MediaPolicy } from '../../src/node/media/membership.js'
import { createHost } from '../../src/transport/libp2p/host.js'
import { FABRIC_KAD_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'

const KEY = new Uint8Array(32).fill(7)
const OTHER_KEY = new Uint8Array(32).fill(9)

async function until (what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 15_000): Promise<void> {
  const end = Date.now() + timeoutMs
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((resolve) => setTimeout(resolve, 100))
  }
}

describe('a fabric of nodes', () => {
  const nodes: NodeHandle[] = []
  let a: NodeHandle, b: NodeHandle, c: NodeHandle, outsider: NodeHandle

  const start = async (fabricKey: Uint8Array, bootstrap: string[] = [], fabricAllow?: string[]): Promise<NodeHandle> => {
    const n = await startNode({ admin: false, fabricKey, bootstrap, fabricAllow })
    nodes.push(n)
    return n
  }

  beforeAll(async () => {
    a = await start(KEY)
    b = await start(KEY, [a.multiaddrs[0]])
    c = await start(KEY, [a.multiaddrs[0]])
    outsider = await start(OTHER_KEY, [a.multiaddrs[0]])
  }, 30_000)

  afterAll(async () => {
    await Promise.allSettled(nodes.map(async (n) => { await n.stop() }))
  }, 30_000)

  it('nodes holding the same key all see each other as fabric peers', async () => {
    const fabric = [a, b, c]
    // B and C meet through the DHT (A tells each of the other), not by configuration.
    await until('every pair authenticated', async () => {
      await Promise.all(fabric.map(async (n) => { await n.fabric!.discovery.locate('probe/stream', { timeoutMs: 1_000 }) }))
      return fabric.every((x) => fabric.every((y) => x === y || x.fabric!.isFabricPeer(y.peerId)))
    })
  }, 30_000)

  it('a stream announced on A is located from C, and not from the outsider', async () => {
    await a.fabric!.discovery.announce('alice/show', 5_000)
    await until('C locates A', async () => {
      const found = await c.fabric!.discovery.locate('alice/show', { timeoutMs: 2_000 })
      return found.some((n) => n.peerId === a.peerId)
    })
    expect(await outsider.fabric!.discovery.locate('alice/show', { timeoutMs: 2_000 })).toEqual([])
  }, 30_000)

  it('a node with another key is nobody\'s fabric peer and its records are not returned', async () => {
    await outsider.fabric!.discovery.announce('mallory/show', 3_000)
    for (const n of [a, b, c]) {
      expect(n.fabric!.isFabricPeer(outsider.peerId)).toBe(false)
      expect(outsider.fabric!.isFabricPeer(n.peerId)).toBe(false)
      expect(await n.fabric!.discovery.locate('mallory/show', { timeoutMs: 1_500 })).toEqual([])
    }
    // It did try: A refused its handshake.
    expect(a.fabric!.counters.refused).toBeGreaterThan(0)
    // The admin API's stats carry the same counters.
    expect(a.stats().fabric).toMatchObject({ accepted: a.fabric!.counters.accepted, refused: a.fabric!.counters.refused })
  }, 30_000)

  it('a peer running the fabric DHT without node-auth is neither answered nor stored', async () => {
    let dht: KadDHT | undefined
    const raw = await createHost({
      listen: ['/ip4/127.0.0.1/tcp/0'],
      services: { ping: ping(), dht: (components: Parameters<ReturnType<typeof kadDHT>>[0]) => (dht = kadDHT({ protocol: FABRIC_KAD_PROTOCOL, clientMode: false, peerInfoMapper: passthroughMapper })(components)) },
    })
    try {
      await raw.dial(multiaddr(a.multiaddrs[0]))
      await new Promise((resolve) => setTimeout(resolve, 500))
      let answered = 0
      let refused = 0
      try {
        for await (const e of dht!.findProviders(streamProviderCid('alice/show'), { signal: AbortSignal.timeout(2_000) })) {
          if (e.name === 'PEER_RESPONSE' && e.from.toString() === a.peerId) answered++
          if (e.name === 'QUERY_ERROR' && e.from.toString() === a.peerId) refused++
        }
      } catch {}
      // It asked A, and A reset the stream instead of answering.
      expect(refused).toBeGreaterThan(0)
      expect(answered).toBe(0)
      try {
        for await (const _ of dht!.provide(streamProviderCid('raw/show'), { signal: AbortSignal.timeout(2_000) })) { /* drain */ }
      } catch {}
      expect(await c.fabric!.discovery.locate('raw/show', { timeoutMs: 1_500 })).toEqual([])
      expect(a.fabric!.isFabricPeer(raw.peerId.toString())).toBe(false)
    } finally {
      await raw.stop()
    }
  }, 30_000)

  it('fabric nodes are trusted relays of each other\'s media policy; the outsider is not', () => {
    const policy = new MediaPolicy({ membership: { isMember: () => false, leafIndexOf: () => undefined }, trustedRelays: { has: (p: string) => a.fabric!.isFabricPeer(p) } })
    expect(policy.admitSubscriber('alice/show' as never, b.peerId, true)).toBe(true)
    expect(() => policy.admitSubscriber('alice/show' as never, outsider.peerId, true)).toThrow(/not a member/)
  })

  it('the allow list excludes a node holding the right key', async () => {
    const gated = await start(KEY, [a.multiaddrs[0]], [a.peerId])
    const stranger = await start(KEY, [gated.multiaddrs[0]])
    await until('the allowed node is accepted', () => gated.fabric!.isFabricPeer(a.peerId))
    await until('the stranger was refused', () => gated.fabric!.counters.refused > 0)
    expect(gated.fabric!.isFabricPeer(stranger.peerId)).toBe(false)
    expect(await gated.fabric!.discovery.locate('alice/show', { timeoutMs: 3_000 })).toEqual([expect.objectContaining({ peerId: a.peerId })])
  }, 30_000)
})
