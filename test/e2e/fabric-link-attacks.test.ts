/**
 * Attacks on a node's part in relay trees, beside a healthy stream (two
 * nodes of one fabric in this process, over real libp2p). Mallory, an
 * ordinary peer of edge B who is no member of anything:
 *
 * - asks B for many streams at once that exist nowhere: each costs B a DHT
 *   lookup, so B joins at most MAX_OPENING_LINKS trees at a time and refuses
 *   the rest QUOTA_EXCEEDED, and holds no tree afterwards;
 * - asks B for a real stream at home on A: B joins its tree to learn the
 *   roster, refuses her NOT_MEMBER, and leaves the tree at once (it does not
 *   keep B, and A, busy until the idle sweep);
 * - opens tree links to A herself: refused NOT_ADMITTED (she proved no
 *   fabric key).
 *
 * Meanwhile Bob, a member on B, keeps decrypting Alice without a gap. Once
 * Bob has gone, B lets the stream go at its idle sweep, and A drops B from
 * the stream's tree.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import type { ReceivedFrame } from '../../src/client/frame-decryptor.js'
import { Subscription } from '../../src/client/media-streams.js'
import type { StreamMember } from '../../src/client/stream-member.js'
import { locateStream } from '../../src/client/directory-client.js'
import { MAX_OPENING_LINKS } from '../../src/node/fabric/stream-links.js'
import { ROSTER_CHANNEL } from '../../src/node/fabric/roster-source.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { decodeHomeMessage, encodeRosterOpen } from '../../src/wire/messages.js'
import { FABRIC_ROSTER_PROTOCOL } from '../../src/wire/protocol-ids.js'
import { multiaddr } from '@multiformats/multiaddr'
import { codeOf } from '../codes.js'
import { sleep, until } from '../timing.js'

const WAIT_MS = 20_000

describe('attacks on relay trees', () => {
  const key = new Uint8Array(randomBytes(32))
  let a: NodeHandle
  let b: NodeHandle
  const clients: FabricClient[] = []
  let owner: StreamMember
  let bob: StreamMember
  const got: ReceivedFrame[] = []
  let publishing = true
  let publisher: Promise<void> | undefined

  beforeAll(async () => {
    a = await startNode({ admin: false, fabricKey: key })
    // B sweeps for unused trees every 300 ms (15 s by default), so the last test sees one let go.
    b = await startNode({ admin: false, fabricKey: key, bootstrap: [a.multiaddrs[0]!], fabricTree: { linkSweepMs: 300 } })
    const alice = await FabricClient.connect({ node: a.multiaddrs[0]! })
    const bobClient = await FabricClient.connect({ node: b.multiaddrs[0]! })
    clients.push(alice, bobClient)
    owner = await alice.createStream('calm', { admission: { allow: [bobClient.identity] } })
    const deadline = Date.now() + WAIT_MS
    while (await locateStream(libp2pDialer(bobClient.libp2p, bobClient.node), alice.identity, 'calm').catch(() => undefined) !== a.peerId) {
      if (Date.now() > deadline) throw new Error('the stream is not locatable from B')
      await sleep(50)
    }
    await until(() => a.libp2p.getMultiaddrs().some((m) => m.toString().includes(`/p2p/${b.peerId}/p2p-circuit`)), WAIT_MS, 'A reachable through B')
    bob = await bobClient.joinStream('calm', { owner: alice.identity })
    await until(() => bob.epoch === owner.epoch && bob.roster.length === 2, WAIT_MS, 'bob in')
    bob.on('frame', (f) => { got.push(f) })
    const track = owner.publishTrack(0)
    publisher = (async () => {
      for (let i = 0; publishing; i++) {
        await track.sendFrame(new Uint8Array(randomBytes(400)), { keyframe: i % 20 === 0 })
        await sleep(20)
      }
    })()
    await until(() => got.length > 5, WAIT_MS, 'bob decrypts alice')
  }, 60_000)

  afterAll(async () => {
    publishing = false
    await publisher?.catch(() => {})
    await Promise.allSettled(clients.map(async (c) => { await c.close() }))
    await Promise.allSettled([a, b].map(async (n) => { await n?.stop() }))
  })

  /** Bob's frames are consecutive: no sequence missing between the first and the last. */
  const noGap = (): void => {
    const seqs = got.map((f) => f.sequence)
    for (let i = 1; i < seqs.length; i++) expect(seqs[i], `after ${seqs[i - 1]}`).toBe(seqs[i - 1]! + 1)
  }

  it('joins at most MAX_OPENING_LINKS trees at once for streams that exist nowhere, and holds none afterwards', async () => {
    const mallory = await FabricClient.connect({ node: b.multiaddrs[0]! })
    clients.push(mallory)
    const dialer = libp2pDialer(mallory.libp2p, mallory.node)
    const n = MAX_OPENING_LINKS * 3
    const codes = await Promise.all(Array.from({ length: n }, async (_, i) => await codeOf(Subscription.open(dialer, `${mallory.identity}/nowhere-${i}`))))
    // Each was refused: not found, or over the cap of joins under way.
    expect(codes.every((c) => c === 'NOT_FOUND' || c === 'QUOTA_EXCEEDED'), codes.join(' ')).toBe(true)
    expect(codes.filter((c) => c === 'QUOTA_EXCEEDED').length).toBeGreaterThanOrEqual(n - MAX_OPENING_LINKS)
    expect(b.stats().fabric).toMatchObject({ links: { parents: 1 } })
    noGap()
  }, 60_000)

  it('refuses a non-member of a real stream NOT_MEMBER and leaves the tree it joined for her at once', async () => {
    const mallory = await FabricClient.connect({ node: b.multiaddrs[0]! })
    clients.push(mallory)
    // A second stream at home on A with nobody on B: B is in no tree of it.
    const other = await (clients[0]!).createStream('other', { admission: { allow: [] } })
    const otherKey = `${clients[0]!.identity}/other`
    const deadline = Date.now() + WAIT_MS
    while (await locateStream(libp2pDialer(mallory.libp2p, mallory.node), clients[0]!.identity, 'other').catch(() => undefined) !== a.peerId) {
      if (Date.now() > deadline) throw new Error('the second stream is not locatable from B')
      await sleep(50)
    }
    const before = b.stats().fabric!.links.unusedClosed
    expect(await codeOf(Subscription.open(libp2pDialer(mallory.libp2p, mallory.node), otherKey))).toBe('NOT_MEMBER')
    // Let go at once, not after the 15 s sweeps.
    await until(() => b.stats().fabric!.links.unusedClosed === before + 1, 2_000, 'B left the tree it joined for mallory')
    expect(b.stats().fabric!.links.parents).toBe(1)
    await until(() => a.stats().fabric!.rosters.open === 1, 2_000, 'A holds only the healthy stream\'s tree link')
    expect(other.roster).toHaveLength(1)
    noGap()
  }, 60_000)

  it('refuses a tree link from a peer that proved no fabric key', async () => {
    const mallory = await FabricClient.connect({ node: a.multiaddrs[0]! })
    clients.push(mallory)
    const channel = await libp2pDialer(mallory.libp2p, multiaddr(a.multiaddrs[0]!)).open(FABRIC_ROSTER_PROTOCOL, ROSTER_CHANNEL)
    try {
      await channel.send(encodeRosterOpen({ owner: clients[0]!.identity, stream: 'calm', capacity: 64 }))
      const answer = decodeHomeMessage(await channel.next(5_000))
      expect(answer.roster?.error?.code).toBe('NOT_ADMITTED')
    } finally {
      channel.abort(new Error('test over'))
    }
    expect(a.stats().fabric!.rosters.open).toBe(1)
    const before = got.length
    await until(() => got.length > before + 5, WAIT_MS, 'bob still decrypts alice')
    noGap()
  }, 30_000)

  it('lets a stream go once its last member on the node has left, and the home drops the node from the tree', async () => {
    expect(b.stats().fabric!.links.parents).toBe(1)
    const before = b.stats().fabric!.links.idleClosed
    publishing = false
    await publisher
    await clients[1]!.close()
    await until(() => b.stats().fabric!.links.idleClosed === before + 1, WAIT_MS, 'B let the stream go')
    expect(b.stats().fabric!.links.parents).toBe(0)
    await until(() => a.stats().fabric!.rosters.open === 0 && a.stats().fabric!.trees.relays === 0, WAIT_MS, 'A dropped B from the tree')
  }, 30_000)
})
