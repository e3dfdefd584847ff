/**
 * Members on different nodes of one fabric, in one process over real
 * libp2p: nodes A, B and C share a fabric key (B and C bootstrap from A).
 * Alice, connected to A, creates a stream; Bob, connected only to B, and
 * Carol, connected only to C, join it by its address alone: their nodes
 * locate its home (A) through the fabric's provider records, and they reach
 * A through their own node (circuit relay, noise end to end). Everyone
 * decrypts everyone else's frames byte for byte. A node outside the fabric
 * locates nothing, and its members cannot join.
 */
import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import type { StreamMember } from '../../src/client/stream-member.js'
import type { ReceivedFrame } from '../../src/client/frame-decryptor.js'
import { PublishStream, Subscription } from '../../src/client/media-streams.js'
import { locateStream } from '../../src/client/directory-client.js'
import { startNode, type NodeHandle } from '../../src/node/node.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { codeOf } from '../codes.js'
import { sleep, until, within } from '../timing.js'

const WAIT_MS = 20_000

describe('members on different nodes of a fabric', () => {
  const key = new Uint8Array(randomBytes(32))
  let a: NodeHandle
  let b: NodeHandle
  let c: NodeHandle
  let outsider: NodeHandle
  const clients: FabricClient[] = []

  beforeAll(async () => {
    // A keeps its admin endpoint: the mesh report of its trees is read there.
    a = await startNode({ fabricKey: key })
    ;[b, c] = await Promise.all([
      startNode({ admin: false, fabricKey: key, bootstrap: [a.multiaddrs[0]!] }),
      startNode({ admin: false, fabricKey: key, bootstrap: [a.multiaddrs[0]!] }),
    ])
    outsider = await startNode({ admin: false, fabricKey: new Uint8Array(randomBytes(32)), bootstrap: [a.multiaddrs[0]!] })
    // A reserves a relay slot on each node that proved the key.
    const via = (n: NodeHandle): boolean => a.libp2p.getMultiaddrs().some((m) => m.toString().includes(`/p2p/${n.peerId}/p2p-circuit`))
    await until(() => via(b) && via(c), WAIT_MS, 'A reachable through B and C').catch((err: Error) => { throw new Error(`${err.message}: A listens on ${a.libp2p.getMultiaddrs().join(' ')}`) })
  }, 60_000)

  afterAll(async () => {
    await Promise.allSettled(clients.map(async (x) => { await x.close() }))
    await Promise.allSettled([a, b, c, outsider].map(async (n) => { await n?.stop() }))
  })

  /** Polls the client's node until it names `home` as the stream's home; the provider record takes a moment to be stored. */
  const locatable = async (client: FabricClient, owner: string, stream: string, home: string): Promise<void> => {
    const deadline = Date.now() + WAIT_MS
    const dialer = libp2pDialer(client.libp2p, client.node)
    while (await locateStream(dialer, owner, stream).catch(() => undefined) !== home) {
      if (Date.now() > deadline) throw new Error(`${owner}/${stream} not locatable at ${home} within ${WAIT_MS} ms`)
      await sleep(50)
    }
  }

  const connect = async (node: NodeHandle): Promise<FabricClient> => {
    const client = await FabricClient.connect({ node: node.multiaddrs[0]! })
    clients.push(client)
    return client
  }

  it('lets members of B and C join a stream at home on A, exchange frames with its creator, and be removed from every node', async () => {
    const [alice, bob, carol] = await Promise.all([connect(a), connect(b), connect(c)])
    const owner = await alice.createStream('across', { admission: { allow: [bob.identity, carol.identity] } })
    // The home is found through the fabric, from either edge, once A's
    // provider record is stored (announce runs as the stream is created).
    for (const client of [bob, carol]) await locatable(client, alice.identity, 'across', a.peerId)
    const bobMember = await bob.joinStream('across', { owner: alice.identity })
    const carolMember = await carol.joinStream('across', { owner: alice.identity })
    const members: Array<[string, StreamMember]> = [['alice', owner], ['bob', bobMember], ['carol', carolMember]]
    await until(() => members.every(([, m]) => m.epoch === owner.epoch && m.roster.length === 3), WAIT_MS, 'one epoch and roster of three')
    // Bob and Carol hold TCP to their own nodes only; A authenticated them through the relay.
    for (const [client, edge] of [[bob, b], [carol, c]] as const) {
      const toA = client.libp2p.getConnections().filter((x) => x.remotePeer.toString() === a.peerId)
      expect(toA.length).toBeGreaterThan(0)
      expect(toA.every((x) => x.remoteAddr.toString().includes(`/p2p/${edge.peerId}/p2p-circuit`))).toBe(true)
    }
    const key = `${alice.identity}/across`
    expect(a.stats().group.streams.find((s) => s.stream === key)?.members.sort()).toEqual([alice.identity, bob.identity, carol.identity].sort())

    const got = new Map<string, ReceivedFrame[]>(members.map(([name]) => [name, []]))
    for (const [name, m] of members) m.on('frame', (f) => { got.get(name)!.push(f) })
    const sent = new Map<string, Uint8Array>()
    for (const [name, m] of members) {
      const payload = new Uint8Array(randomBytes(1200))
      sent.set(name, payload)
      await m.publishTrack(0).sendFrame(payload, { keyframe: true })
    }
    await until(() => members.every(([name]) => got.get(name)!.length >= 2), WAIT_MS, 'every member decrypts the two others')
    // The media went through the stream's tree: Bob and Carol hold media
    // channels on their own nodes only; A feeds each edge once (one trusted
    // relay subscription per edge) and pulls each edge's members back once.
    const subscribers = (n: NodeHandle): string[] => n.stats().av.live.subscriptions.filter((s) => s.stream === key).map((s) => s.identity).sort()
    expect(subscribers(a)).toEqual([alice.identity, b.peerId, c.peerId].sort())
    expect(subscribers(b)).toEqual([a.peerId, bob.identity].sort())
    expect(subscribers(c)).toEqual([a.peerId, carol.identity].sort())
    expect(a.stats().fabric).toMatchObject({ links: { parents: 0, children: 2 }, rosters: { open: 2 } })
    for (const edge of [b, c]) expect(edge.stats().fabric).toMatchObject({ links: { parents: 1, children: 0 } })
    // The home's mesh report: B and C placed under A, each fed as planned once they have reported.
    const admin = async (path: string): Promise<string> => {
      const res = await fetch(`${a.adminUrl!}${path}`, { headers: { authorization: `Bearer ${a.adminToken!}` } })
      expect(res.status).toBe(200)
      return await res.text()
    }
    await until(() => a.stats().fabric!.rosters.heartbeats >= 2, WAIT_MS, 'heartbeats from B and C')
    const mesh = JSON.parse(await admin('/api/v1/mesh')) as { streams: Record<string, { relays: number, depth: number, fedRatio: number, nodes: Array<{ id: string, parent: string | null, intendedChildren: number, actualChildren: number, framesForwarded: number }> }> }
    const tree = mesh.streams[key]!
    expect(tree).toMatchObject({ relays: 2, depth: 1, fedRatio: 1 })
    expect(tree.nodes.map((n) => [n.id, n.parent]).sort()).toEqual([[a.peerId, null], [b.peerId, a.peerId], [c.peerId, a.peerId]].sort())
    expect(tree.nodes.find((n) => n.id === a.peerId)).toMatchObject({ intendedChildren: 2, actualChildren: 2 })
    expect(tree.nodes.find((n) => n.id === a.peerId)!.framesForwarded).toBeGreaterThan(0)
    const metrics = await admin('/metrics')
    expect(metrics).toMatch(/^fabric_tree_relays 2$/m)
    expect(metrics).toMatch(/^fabric_tree_children\{kind="intended"\} 2$/m)
    // An edge admits media only from and to current members of its replica.
    const eve = await connect(b)
    expect(await codeOf(Subscription.open(libp2pDialer(eve.libp2p, eve.node), key))).toBe('NOT_MEMBER')
    expect(await codeOf(PublishStream.open(libp2pDialer(eve.libp2p, eve.node), key))).toBe('NOT_MEMBER')
    for (const [name, m] of members) {
      for (const [other, om] of members) {
        if (other === name) continue
        const frames = got.get(name)!.filter((f) => f.sender === om.identity)
        expect(frames).toHaveLength(1)
        expect(Buffer.from(frames[0]!.payload).equals(Buffer.from(sent.get(other)!))).toBe(true)
      }
      expect(got.get(name)!.some((f) => f.sender === m.identity)).toBe(false)
    }

    // Removing a member at its home cuts its media on every node: Bob (on B) is removed by Alice (on A).
    const removed = new Promise<void>((resolve) => { bobMember.once('removed', () => { resolve() }) })
    const closed = new Promise<Error | undefined>((resolve) => { bobMember.once('closed', resolve) })
    await within(owner.removeMember(bob.identity), WAIT_MS, 'the removal committed')
    await within(removed, WAIT_MS, 'bob told he was removed')
    expect(await within(closed, WAIT_MS, 'bob closed')).toMatchObject({ code: 'REMOVED' })
    await until(() => carolMember.roster.length === 2 && carolMember.epoch === owner.epoch, WAIT_MS, 'carol in the epoch without bob')
    // B cut Bob's media channels on the roster its home sent.
    await until(() => !subscribers(b).includes(bob.identity), WAIT_MS, 'B closed bob\'s subscription')
    expect(b.stats().relay.publishers.some((p) => p.stream === key && p.identity === bob.identity)).toBe(false)
    await expect(bobMember.publishTrack(0).sendFrame(new Uint8Array(100), { keyframe: true })).rejects.toMatchObject({ code: 'REMOVED' })
    const before = got.get('carol')!.length
    const late = new Uint8Array(randomBytes(600))
    await owner.publishTrack(0).sendFrame(late, { keyframe: true })
    await until(() => got.get('carol')!.length > before, WAIT_MS, 'carol still decrypts alice')
    expect(got.get('carol')!.slice(before).every((f) => f.sender === alice.identity)).toBe(true)
    expect(got.get('bob')!.some((f) => Buffer.from(f.payload).equals(Buffer.from(late)))).toBe(false)
  }, 90_000)

  it('gives a node outside the fabric no stream: its members cannot locate or join one', async () => {
    const alice = await connect(a)
    await alice.createStream('inside', { admission: { allow: [] } })
    const mallory = await connect(outsider)
    expect(outsider.fabric!.isFabricPeer(a.peerId)).toBe(false)
    expect(await codeOf(mallory.joinStream('inside', { owner: alice.identity, joinTimeoutMs: 5_000 }))).toBe('NOT_FOUND')
  }, 60_000)
})
