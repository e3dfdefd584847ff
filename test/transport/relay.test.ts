/**
 * Circuit relay between nodes (src/transport/libp2p/relay.ts and host.ts)
 * over real in-process hosts: a member connected only to its node (the
 * edge) opens channels to another node (the home) through it, and the home
 * authenticates the member itself (noise runs end to end); the edge relays
 * only for the nodes it admits, and the home takes relayed connections only
 * through the relays it admits.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Libp2p } from '@libp2p/interface'
import { createHost } from '../../src/transport/libp2p/host.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { libp2pListener } from '../../src/transport/libp2p/listener.js'
import { listenThrough, throughRelay } from '../../src/transport/libp2p/relay.js'

const ECHO = '/fabric/test/echo/1'

describe('circuit relay through a node', () => {
  let edge: Libp2p
  let home: Libp2p
  let stranger: Libp2p
  let member: Libp2p
  const seen: string[] = []
  const admitted = new Set<string>()

  beforeAll(async () => {
    home = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'], acceptRelayedVia: (relay) => relay === edge?.peerId.toString() })
    edge = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'], relayServer: { maxReservations: 4, mayReserve: (peer) => admitted.has(peer) } })
    stranger = await createHost({ listen: ['/ip4/127.0.0.1/tcp/0'], acceptRelayedVia: () => true })
    member = await createHost({ listen: [] })
    admitted.add(home.peerId.toString())
    for (const host of [home, stranger]) {
      await libp2pListener(host).listen(ECHO, (channel) => {
        seen.push(channel.remotePeer)
        void (async () => {
          try {
            for await (const frame of channel.frames()) channel.write(frame)
            await channel.close()
          } catch {
            // The member went away mid-echo: nothing to answer.
          }
        })()
      }, { maxFrameLength: 1024 }, { maxInboundChannels: 4 })
    }
  })

  afterAll(async () => {
    await Promise.all([edge, home, stranger, member].map(async (h) => { await h?.stop() }))
  })

  it('lets a member reach the home through its node, authenticated end to end', async () => {
    expect(await listenThrough(home, edge.getMultiaddrs()[0]!)).toBe(true)
    const target = throughRelay(edge.getMultiaddrs()[0]!, home.peerId.toString())
    const channel = await libp2pDialer(member, target).open(ECHO, { maxFrameLength: 1024 })
    expect(channel.remotePeer).toBe(home.peerId.toString())
    await channel.send(new Uint8Array([1, 2, 3]))
    expect([...await channel.next(5_000)]).toEqual([1, 2, 3])
    expect(seen.at(-1)).toBe(member.peerId.toString())
    // The member holds TCP to its node only: the home is reached through it.
    const toHome = member.getConnections(home.peerId)
    expect(toHome.length).toBeGreaterThan(0)
    expect(toHome.every((c) => c.remoteAddr.toString().includes('/p2p-circuit'))).toBe(true)
    channel.abort(new Error('done'))
  })

  it('refuses a reservation from a node the edge does not admit, so nobody reaches it through the edge', async () => {
    await expect(listenThrough(stranger, edge.getMultiaddrs()[0]!)).rejects.toThrow()
    const target = throughRelay(edge.getMultiaddrs()[0]!, stranger.peerId.toString())
    await expect(libp2pDialer(member, target).open(ECHO, { maxFrameLength: 1024 })).rejects.toMatchObject({ code: 'UNREACHABLE' })
  })
})
