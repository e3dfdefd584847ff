/**
 * A member whose own node stops moves to another node of the fabric
 * (protocol/survival.md sections 5 and 6): the stopping node tells its
 * publishers where to go (NodeGoingAway with the other nodes' addresses),
 * and the member reaches the stream's home through the first that answers,
 * resumes without rejoining and decrypts again. Real nodes of one fabric and
 * real members over libp2p, in this process.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import { locateStream } from '../../src/client/directory-client.js'
import type { StreamMember } from '../../src/client/stream-member.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { sleep, until, within } from '../timing.js'

const WAIT_MS = 20_000

/** Sends frames both ways until each member decrypted one of the other after this call began. */
async function hearEachOther (x: StreamMember, y: StreamMember, what: string): Promise<void> {
  const heard = new Set<StreamMember>()
  const onX = (): void => { heard.add(x) }
  const onY = (): void => { heard.add(y) }
  x.on('frame', onX)
  y.on('frame', onY)
  try {
    await until(() => {
      for (const m of [x, y]) void m.publishTrack(0).sendFrame(new Uint8Array(64).fill(3), { keyframe: true }).catch(() => {})
      return heard.size === 2
    }, WAIT_MS, what)
  } finally {
    x.off('frame', onX)
    y.off('frame', onY)
  }
}

describe('a member moves to another node of the fabric', () => {
  const nodes: NodeHandle[] = []
  const clients: FabricClient[] = []

  afterAll(async () => {
    await Promise.allSettled(clients.map(async (c) => { await c.close() }))
    await Promise.allSettled(nodes.map(async (n) => { await n.stop() }))
  })

  it('when its node stops, it follows the node\'s notice to the stream\'s home and resumes without rejoining', async () => {
    const key = new Uint8Array(randomBytes(32))
    const a = await startNode({ admin: false, fabricKey: key })
    nodes.push(a)
    const b = await startNode({ admin: false, fabricKey: key, bootstrap: [a.multiaddrs[0]!] })
    nodes.push(b)
    const via = (): boolean => a.libp2p.getMultiaddrs().some((m) => m.toString().includes(`/p2p/${b.peerId}/p2p-circuit`))
    await until(via, WAIT_MS, 'A reachable through B')

    const alice = await FabricClient.connect({ node: a.multiaddrs[0]! })
    clients.push(alice)
    const owner = await alice.createStream('moving', { admission: { admission: 'open' } })
    const bob = await FabricClient.connect({ node: b.multiaddrs[0]! })
    clients.push(bob)
    const deadline = Date.now() + WAIT_MS
    while (await locateStream(libp2pDialer(bob.libp2p, bob.node), alice.identity, 'moving').catch(() => undefined) !== a.peerId) {
      if (Date.now() > deadline) throw new Error('the stream is not locatable from B')
      await sleep(50)
    }
    const mb = await within(bob.joinStream('moving', { owner: alice.identity }), WAIT_MS, 'bob joins through B')
    await within(owner.settled(), WAIT_MS, 'join committed')
    await hearEachOther(owner, mb, 'alice and bob hear each other through B')
    const epoch = mb.epoch

    const resumed: Array<{ rejoined: boolean }> = []
    mb.on('resumed', (r) => { resumed.push(r) })
    await b.stop()
    await until(() => resumed.length === 1, WAIT_MS, 'bob resumed elsewhere')
    expect(resumed[0]!.rejoined).toBe(false)
    expect(mb.epoch).toBe(epoch)
    await hearEachOther(owner, mb, 'alice and bob hear each other after B stopped')
    // Bob's media now comes in at A: B is gone, and A hosts his publish channel.
    expect(a.stats().av.live.publishers).toBeGreaterThanOrEqual(2)
  }, 60_000)
})
