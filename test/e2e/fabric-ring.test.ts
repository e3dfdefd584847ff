/**
 * A misconfigured ring (fixtures/topologies/ring.json: a-b-c-d-a, in one
 * process over real libp2p) carries a stream at home on A with a member on
 * every node: each chunk of each publisher reaches every other member
 * exactly once, and every node takes each chunk in exactly once: no loop
 * around the ring, no duplicate through two neighbours. Each node relays
 * the stream through its own tree link to the home, with the roster
 * replicated from there. A late subscription on one node starts from that
 * node's GOP caches, and its keyframe request reaches a publisher two hops
 * away.
 */
import { randomBytes } from 'node:crypto'
import { join } from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { FabricClient } from '../../src/client/client.js'
import type { ReceivedFrame } from '../../src/client/frame-decryptor.js'
import type { StreamMember } from '../../src/client/stream-member.js'
import { REPO_ROOT } from '../../src/cli/processes.js'
import { loadTopology, startFabric, type Fabric } from '../../src/fixture/fabric-fixture.js'
import { Subscription } from '../../src/client/media-streams.js'
import { libp2pDialer } from '../../src/transport/libp2p/dialer.js'
import { chunkIsKeyframe, chunkTrack } from '../../src/wire/chunk.js'
import { makeTrack } from '../../src/wire/track.js'
import { sleep, until, within } from '../timing.js'

const WAIT_MS = 30_000
/** Frames each member publishes: one keyframe, then deltas. */
const FRAMES = 5

describe('a stream across a misconfigured ring', () => {
  let fabric: Fabric | undefined
  const clients: FabricClient[] = []

  afterAll(async () => {
    await Promise.allSettled(clients.map(async (c) => { await c.close() }))
    await fabric?.stop()
  }, 30_000)

  it('delivers every chunk to every member once, and into every node once', async () => {
    fabric = await startFabric({ topology: await loadTopology(join(REPO_ROOT, 'fixtures', 'topologies', 'ring.json')), mode: 'in-process' })
    const f = fabric
    await f.waitConnected(WAIT_MS)
    const names = ['a', 'b', 'c', 'd'] as const
    const connect = async (name: string): Promise<FabricClient> => {
      const client = await FabricClient.connect({ node: f.byName(name).multiaddr })
      clients.push(client)
      return client
    }
    const [alice, ...others] = await Promise.all(names.map(connect))
    const owner = await alice!.createStream('ring', { admission: { allow: others.map((c) => c.identity) } })
    const home = f.byName('a')
    const members: StreamMember[] = [owner]
    for (const [i, client] of others.entries()) {
      const name = names[i + 1]!
      await f.waitLocatable(name, alice!.identity, 'ring', 'a', WAIT_MS)
      // The member reaches A through its own node, once A holds a relay slot there.
      await until(() => home.handle!.libp2p.getMultiaddrs().some((m) => m.toString().includes(`/p2p/${f.byName(name).peerId}/p2p-circuit`)), WAIT_MS, `A reachable through ${name}`)
      members.push(await client.joinStream('ring', { owner: alice!.identity }))
    }
    await until(() => members.every((m) => m.epoch === owner.epoch && m.roster.length === 4), WAIT_MS, 'one epoch, four members')

    const got = new Map<string, ReceivedFrame[]>(members.map((m) => [m.identity, []]))
    for (const m of members) m.on('frame', (fr) => { got.get(m.identity)!.push(fr) })
    const sent = new Map<string, Uint8Array[]>()
    for (const m of members) {
      const payloads = Array.from({ length: FRAMES }, () => new Uint8Array(randomBytes(700)))
      sent.set(m.identity, payloads)
      for (const [i, p] of payloads.entries()) await m.publishTrack(0).sendFrame(p, { keyframe: i === 0 })
    }
    const expected = (members.length - 1) * FRAMES
    await until(() => members.every((m) => got.get(m.identity)!.length >= expected), WAIT_MS, 'every member decrypts every other member\'s frames')
    // A loop or a second path would deliver more after the first copies: give it time to show.
    await sleep(1_000)
    for (const m of members) {
      const frames = got.get(m.identity)!
      expect(frames).toHaveLength(expected)
      for (const other of members) {
        if (other === m) continue
        const from = frames.filter((fr) => fr.sender === other.identity).map((fr) => Buffer.from(fr.payload).toString('hex'))
        expect(from).toEqual(sent.get(other.identity)!.map((p) => Buffer.from(p).toString('hex')))
      }
    }
    const key = `${alice!.identity}/ring`
    for (const name of names) {
      const stream = f.byName(name).handle!.relay.stats().streams.find((s) => s.stream === key)
      // Its own member's chunks and every other member's, each once.
      expect(stream, name).toMatchObject({ chunksIn: members.length * FRAMES, rejected: 0 })
    }
    // A late subscription on b starts from b's own GOP caches: a keyframe of
    // every other member's track, whichever node it came from.
    const bob = members[1]!
    const late = await Subscription.open(libp2pDialer(others[0]!.libp2p, others[0]!.node), key)
    try {
      const cached = new Map<number, boolean>()
      const reader = late.chunks()[Symbol.asyncIterator]()
      const wantTracks = members.filter((m) => m !== bob).map((m) => makeTrack(m.session.ownLeafIndex, 0))
      while (!wantTracks.every((t) => cached.get(t) === true)) {
        const next = await within(reader.next(), WAIT_MS, 'the cached GOPs on b')
        if (next.done === true) throw new Error('the late subscription ended')
        const t = chunkTrack(next.value)
        if (!cached.has(t)) cached.set(t, chunkIsKeyframe(next.value))
      }
      // A keyframe request from b for dave's track (on d) travels b -> a -> d to dave.
      const dave = members[3]!
      const asked = new Promise<void>((resolve) => { dave.once('keyframe-needed', () => { resolve() }) })
      expect(late.requestKeyframe(makeTrack(dave.session.ownLeafIndex, 0))).toBe(true)
      await within(asked, WAIT_MS, 'dave asked for a keyframe through the tree')
    } finally {
      await late.close()
    }
    // A star under the home: A feeds each other node once and pulls each back once.
    expect(home.handle!.stats().fabric).toMatchObject({ links: { parents: 0, children: 3 }, rosters: { open: 3 } })
    for (const name of names.slice(1)) expect(f.byName(name).handle!.stats().fabric, name).toMatchObject({ links: { parents: 1, children: 0 } })
  }, 120_000)
})
